/* A small application that loads every plugin in a directory with dlopen,
 * the way many real ones do. Used by the README demo. */
#include <dirent.h>
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

static int load(const char *path)
{
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	const char *(*hello)(void);

	if (!h) {
		printf("plugin-host: refused %s\n  %s\n", path, dlerror());
		return 1;
	}
	*(void **)&hello = dlsym(h, "plugin_hello");
	printf("plugin-host: loaded  %s: %s\n", path, hello ? hello() : "(no plugin_hello)");
	dlclose(h);
	return 0;
}

int main(int argc, char **argv)
{
	int failures = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: plugin-host DIR...\n");
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		DIR *d = opendir(argv[i]);
		struct dirent *e;

		if (!d) {
			perror(argv[i]);
			failures++;
			continue;
		}
		while ((e = readdir(d))) {
			char path[PATH_MAX];
			size_t n = strlen(e->d_name);
			if (n < 4 || strcmp(e->d_name + n - 3, ".so") != 0)
				continue;
			snprintf(path, sizeof path, "%s/%s", argv[i], e->d_name);
			failures += load(path);
		}
		closedir(d);
	}
	return failures ? 1 : 0;
}
