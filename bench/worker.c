/* Worker protocol, shared by the worker binaries.
 *
 *   WORKER [-t MIN_US] [-w WARMUP] MODE ARGS...
 *
 * Sets the mode up, runs WARMUP operations, then calibrates a batch size K
 * (doubling from 1 until one batch takes at least MIN_US microseconds; 0
 * means K = 1), and prints "ready K". Then, for every line "g" read on
 * stdin, runs one batch of K operations and prints the time per operation
 * in nanoseconds. "q" or end of input ends the worker. Any failure prints
 * "error MESSAGE" and exits 1: a failed operation must never be counted as
 * a (fast) sample. */
#include "worker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_BATCH (1L << 22)

long long bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int fail(const char *msg)
{
	printf("error %s\n", msg);
	fflush(stdout);
	return 1;
}

static void usage(const char *prog)
{
	fprintf(stderr, "usage: %s [-t MIN_US] [-w WARMUP] MODE ARGS...\nmodes:\n", prog);
	for (int i = 0; bench_ops[i]; i++)
		fprintf(stderr, "  %s %s\n", bench_ops[i]->name, bench_ops[i]->usage);
}

static int batch(const struct bench_op *op, long k, long long *ns, char *err, size_t len)
{
	long long t0 = bench_now_ns();

	for (long i = 0; i < k; i++)
		if (op->run(err, len) != 0)
			return -1;
	*ns = bench_now_ns() - t0;
	return 0;
}

static int calibrate(const struct bench_op *op, long min_us, long *k, char *err, size_t len)
{
	long long ns = 0;

	*k = 1;
	if (min_us <= 0)
		return 0;
	for (;;) {
		if (batch(op, *k, &ns, err, len) != 0)
			return -1;
		if (ns >= min_us * 1000LL || *k >= MAX_BATCH)
			return 0;
		*k *= 2;
	}
}

static int serve(const struct bench_op *op, long k)
{
	char line[64], err[512];
	long long ns;

	while (fgets(line, sizeof line, stdin)) {
		if (line[0] == 'q')
			break;
		if (line[0] != 'g')
			return fail("unknown command");
		if (batch(op, k, &ns, err, sizeof err) != 0)
			return fail(err);
		printf("%.1f\n", (double)ns / (double)k);
		fflush(stdout);
	}
	return 0;
}

int main(int argc, char **argv)
{
	const struct bench_op *op = NULL;
	long min_us = 0, warmup = 1, k;
	char err[512] = "";
	int c;

	while ((c = getopt(argc, argv, "+t:w:")) != -1) {
		switch (c) {
		case 't':
			min_us = strtol(optarg, NULL, 10);
			break;
		case 'w':
			warmup = strtol(optarg, NULL, 10);
			break;
		default:
			usage(argv[0]);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(argv[0]);
		return 2;
	}
	for (int i = 0; bench_ops[i]; i++)
		if (strcmp(bench_ops[i]->name, argv[optind]) == 0)
			op = bench_ops[i];
	if (!op) {
		usage(argv[0]);
		return 2;
	}
	if (op->setup(argc - optind - 1, argv + optind + 1, err, sizeof err) != 0)
		return fail(err);
	for (long i = 0; i < warmup; i++)
		if (op->run(err, sizeof err) != 0)
			return fail(err);
	if (calibrate(op, min_us, &k, err, sizeof err) != 0)
		return fail(err);
	printf("ready %ld\n", k);
	fflush(stdout);
	return serve(op, k);
}
