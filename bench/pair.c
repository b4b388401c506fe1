/* bench_pair: runs two or more benchmark workers side by side, interleaved.
 *
 *   bench_pair -i ID [-n MAXREPS] [-m MINREPS] [-T MAXSEC] [-r RAWFILE] [-c CPU]
 *              -- SIDE ::: SIDE [::: SIDE...]
 *   SIDE = [@ns=/proc/PID/ns/mnt] [VAR=VALUE...] WORKER [ARGS...]
 *
 * Each side is one worker process (worker.c protocol) started with exactly
 * the environment given (plus PATH and LC_ALL), in the given mount namespace
 * if any. One repetition asks every side for one sample, alternating the
 * order (A B, B A, A B, ...) so neither side always runs first; drift in the
 * machine's speed hits both sides alike. Repetitions stop at MAXREPS, or
 * after MAXSEC seconds once MINREPS are done.
 *
 * With -c, this process, the workers and everything they start are bound to
 * that one CPU: on a small virtual machine the CPUs need not be equally fast
 * (a neighbour's load, interrupts), and a worker that happened to land on the
 * faster one would win by placement, not by code.
 *
 * Prints one line:
 *   ID n=REPS med=A,B,... q1=A,B,... q3=A,B,... ratio=MEDA/MEDB paired=P
 * where values are nanoseconds per operation, and P is the median of the
 * per-repetition ratios A/B. Every sample goes to RAWFILE as
 * "ID<TAB>REP<TAB>SIDE<TAB>NS". Exits 1 if any worker fails. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_SIDES 4
#define MAX_ENV 64

struct side {
	char **argv;            /* inside the command line, NULL-terminated by us */
	char *env[MAX_ENV + 3];
	const char *ns;
	pid_t pid;
	int to;                 /* worker's stdin */
	FILE *from;             /* worker's stdout */
	double *samples;
};

static const char *id = "?";

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int parse_side(char **args, int n, struct side *s)
{
	int i = 0, e = 0;

	s->ns = NULL;
	if (i < n && strncmp(args[i], "@ns=", 4) == 0)
		s->ns = args[i++] + 4;
	s->env[e++] = "PATH=/usr/local/bin:/usr/bin:/bin";
	s->env[e++] = "LC_ALL=C";
	for (; i < n && strchr(args[i], '=') && args[i][0] != '/'; i++) {
		if (e >= MAX_ENV) {
			fprintf(stderr, "bench_pair: %s: too many variables\n", id);
			return -1;
		}
		s->env[e++] = args[i];
	}
	s->env[e] = NULL;
	if (i >= n) {
		fprintf(stderr, "bench_pair: %s: a side names no worker\n", id);
		return -1;
	}
	s->argv = args + i;
	args[n] = NULL;
	return 0;
}

static void child(const struct side *s, int in, int out)
{
	if (s->ns) {
		int fd = open(s->ns, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || setns(fd, CLONE_NEWNS) != 0) {
			fprintf(stderr, "bench_pair: setns %s: %s\n", s->ns, strerror(errno));
			_exit(127);
		}
		close(fd);
	}
	if (dup2(in, 0) < 0 || dup2(out, 1) < 0)
		_exit(127);
	execve(s->argv[0], s->argv, s->env);
	fprintf(stderr, "bench_pair: exec %s: %s\n", s->argv[0], strerror(errno));
	_exit(127);
}

static int start(struct side *s)
{
	int to[2], from[2];
	char line[256] = "";

	if (pipe2(to, O_CLOEXEC) != 0 || pipe2(from, O_CLOEXEC) != 0)
		return -1;
	s->pid = fork();
	if (s->pid < 0)
		return -1;
	if (s->pid == 0)
		child(s, to[0], from[1]);
	close(to[0]);
	close(from[1]);
	s->to = to[1];
	s->from = fdopen(from[0], "r");
	if (!s->from || !fgets(line, sizeof line, s->from) || strncmp(line, "ready ", 6) != 0) {
		fprintf(stderr, "bench_pair: %s: worker %s did not start: %s\n", id, s->argv[0],
			s->from && line[0] ? line : "no answer\n");
		return -1;
	}
	fprintf(stderr, "  %s: %s ready, %ld op(s) per sample\n", id, s->argv[0],
		strtol(line + 6, NULL, 10));
	return 0;
}

static int sample(struct side *s, double *out)
{
	char line[512];

	if (write(s->to, "g\n", 2) != 2 || !fgets(line, sizeof line, s->from)) {
		fprintf(stderr, "bench_pair: %s: worker %s died\n", id, s->argv[0]);
		return -1;
	}
	if (strncmp(line, "error ", 6) == 0) {
		fprintf(stderr, "bench_pair: %s: worker %s: %s", id, s->argv[0], line + 6);
		return -1;
	}
	*out = strtod(line, NULL);
	return 0;
}

static void stop(struct side *s)
{
	int st;

	if (s->pid <= 0)
		return;
	if (s->to >= 0)
		(void)!write(s->to, "q\n", 2);
	close(s->to);
	if (s->from)
		fclose(s->from);
	if (waitpid(s->pid, &st, 0) < 0)
		kill(s->pid, SIGKILL);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Quantile q of n sorted values, linear interpolation. */
static double quantile(const double *v, int n, double q)
{
	double pos = q * (n - 1);
	int lo = (int)pos;

	if (lo + 1 >= n)
		return v[n - 1];
	return v[lo] + (v[lo + 1] - v[lo]) * (pos - lo);
}

static void report(struct side *s, int nsides, int reps)
{
	double med[MAX_SIDES], q1[MAX_SIDES], q3[MAX_SIDES];
	double *ratios = calloc((size_t)reps, sizeof *ratios);

	for (int i = 0; ratios && i < reps; i++)
		ratios[i] = s[0].samples[i] / s[1].samples[i];
	for (int j = 0; j < nsides; j++) {
		qsort(s[j].samples, (size_t)reps, sizeof(double), cmp_double);
		med[j] = quantile(s[j].samples, reps, 0.5);
		q1[j] = quantile(s[j].samples, reps, 0.25);
		q3[j] = quantile(s[j].samples, reps, 0.75);
	}
	if (ratios)
		qsort(ratios, (size_t)reps, sizeof(double), cmp_double);
	printf("%s n=%d", id, reps);
	const char *names[] = { "med", "q1", "q3" };
	double *vals[] = { med, q1, q3 };
	for (int k = 0; k < 3; k++) {
		printf(" %s=", names[k]);
		for (int j = 0; j < nsides; j++)
			printf("%s%.1f", j ? "," : "", vals[k][j]);
	}
	printf(" ratio=%.4f paired=%.4f\n", med[0] / med[1],
	       ratios ? quantile(ratios, reps, 0.5) : 0.0);
	free(ratios);
}

static int run(struct side *s, int nsides, int maxreps, int minreps, double maxsec, FILE *raw,
	       int *reps)
{
	double t0 = now_s();

	for (*reps = 0; *reps < maxreps; (*reps)++) {
		if (*reps >= minreps && now_s() - t0 > maxsec)
			break;
		for (int k = 0; k < nsides; k++) {
			int j = (*reps % 2) ? nsides - 1 - k : k;
			double v;
			if (sample(&s[j], &v) != 0)
				return -1;
			s[j].samples[*reps] = v;
			if (raw)
				fprintf(raw, "%s\t%d\t%c\t%.1f\n", id, *reps, 'A' + j, v);
		}
	}
	fprintf(stderr, "  %s: %d repetitions in %.1f s\n", id, *reps, now_s() - t0);
	return 0;
}

static int bind_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof set, &set) != 0) {
		fprintf(stderr, "bench_pair: %s: cannot bind to CPU %d: %s\n", id, cpu,
			strerror(errno));
		return -1;
	}
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: bench_pair -i ID [-n MAXREPS] [-m MINREPS] [-T MAXSEC] "
			"[-r RAWFILE] [-c CPU] -- SIDE ::: SIDE [::: SIDE...]\n"
			"SIDE = [@ns=PATH] [VAR=VALUE...] WORKER [ARGS...]\n");
}

int main(int argc, char **argv)
{
	struct side sides[MAX_SIDES];
	int maxreps = 100, minreps = 11, nsides = 0, reps = 0, c, rc = 1, cpu = -1;
	double maxsec = 1e9;
	const char *rawpath = NULL;
	FILE *raw = NULL;

	while ((c = getopt(argc, argv, "+i:n:m:T:r:c:")) != -1) {
		switch (c) {
		case 'i': id = optarg; break;
		case 'n': maxreps = atoi(optarg); break;
		case 'm': minreps = atoi(optarg); break;
		case 'T': maxsec = atof(optarg); break;
		case 'r': rawpath = optarg; break;
		case 'c': cpu = atoi(optarg); break;
		default: usage(); return 2;
		}
	}
	if (optind < argc && strcmp(argv[optind], "--") == 0)
		optind++;
	memset(sides, 0, sizeof sides);
	for (int i = optind, start_arg = optind; i <= argc; i++) {
		if (i < argc && strcmp(argv[i], ":::") != 0)
			continue;
		if (nsides >= MAX_SIDES || parse_side(argv + start_arg, i - start_arg,
						      &sides[nsides]) != 0) {
			usage();
			return 2;
		}
		nsides++;
		start_arg = i + 1;
	}
	if (nsides < 2 || maxreps < 1) {
		usage();
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (cpu >= 0 && bind_cpu(cpu) != 0)
		return 1;
	if (rawpath && !(raw = fopen(rawpath, "a"))) {
		fprintf(stderr, "bench_pair: %s: %s\n", rawpath, strerror(errno));
		return 1;
	}
	for (int j = 0; j < nsides; j++) {
		sides[j].to = -1;
		sides[j].samples = calloc((size_t)maxreps, sizeof(double));
		if (!sides[j].samples || start(&sides[j]) != 0)
			goto end;
	}
	if (run(sides, nsides, maxreps, minreps, maxsec, raw, &reps) != 0 || reps < 1)
		goto end;
	report(sides, nsides, reps);
	rc = 0;
end:
	for (int j = 0; j < nsides; j++) {
		stop(&sides[j]);
		free(sides[j].samples);
	}
	if (raw)
		fclose(raw);
	return rc;
}
