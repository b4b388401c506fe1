/* The pre-flight probe of `dlguard install`: dlopens one library and reports
 * whether that worked. A separate, uninstrumented program, so it can run with
 * the guard preloaded whatever the CLI itself was built with. */
#include <dlfcn.h>
#include <stdio.h>

int main(int argc, char **argv)
{
	void *h;

	if (argc != 2) {
		fprintf(stderr, "usage: dlguard-probe LIBRARY\n");
		return 2;
	}
	h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		fprintf(stderr, "dlguard-probe: %s\n", dlerror());
		return 1;
	}
	dlclose(h);
	return 0;
}
