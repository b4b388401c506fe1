/* A small library for the dlopen benchmarks (P2, P3) and the subject of the
 * decision benchmark (P5): one function, no constructor, no dependencies
 * beyond libc. */
int bench_small_value(void);

int bench_small_value(void)
{
	return 42;
}
