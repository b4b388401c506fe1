/* A benchmark worker: one process that performs one kind of measured
 * operation on command. bench_pair starts one worker per side and drives
 * them in turn over pipes (protocol in worker.c), so the sides of a
 * comparison run interleaved, each in its own process with its own
 * environment (LD_PRELOAD or not) and, optionally, its own mount namespace. */
#ifndef BENCH_WORKER_H
#define BENCH_WORKER_H

#include <stddef.h>

struct bench_op {
	const char *name;
	const char *usage;
	/* Parses the mode's arguments and prepares (opens policies, files).
	 * Returns 0, or -1 with a message in err. */
	int (*setup)(int argc, char **argv, char *err, size_t errlen);
	/* Performs the operation once. Returns 0, or -1 with a message in err:
	 * a failed operation is an error, never a fast sample. */
	int (*run)(char *err, size_t errlen);
};

/* The operations this worker binary offers, NULL-terminated. */
extern const struct bench_op *const bench_ops[];

/* Monotonic nanoseconds. */
long long bench_now_ns(void);

#endif
