#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct {
	const char *name;
	int (*fn)(int, char **);
	const char *summary;
} commands[] = {
	{ "check", cmd_check, "check [-q] FILE...            validate policy files" },
	{ "compile", cmd_compile, "compile [--audit] [--no-fingerprints] FILE -o OUT   write the compiled policy the guard reads" },
	{ "hash", cmd_hash, "hash [--rules] [--] FILE...    SHA-256 (sha256sum format) or policy rules" },
	{ "run", cmd_run, "run [-p POLICY] [--audit] [--audit-mode] [--no-fingerprints] -- CMD [ARGS...]   run CMD under the guard" },
	{ "keygen", cmd_keygen, "keygen [--type T] -o NAME      key pair NAME, NAME.pub (T: ed25519 ecdsa ecdsa-p384 rsa rsa-pss)" },
	{ "sign", cmd_sign, "sign --key KEY [--sig-dir DIR] FILE...   detached FILE.sig, in the openssl CLI formats" },
	{ "install", cmd_install, "install [--root DIR] [--policy CONF]   compile, pre-flight, add to /etc/ld.so.preload" },
	{ "uninstall", cmd_uninstall, "uninstall [--root DIR]         remove dlguard's line from /etc/ld.so.preload" },
	{ "status", cmd_status, "status [--root DIR]            installed? which policy, which mode" },
	{ "manifest", cmd_manifest, "manifest --key KEY -o OUT [--all] FILE|DIR...   signed sha256sum list for manifest rules" },
	{ "verify", cmd_verify, "verify [-p POLICY] [--exe EXE] FILE...   the decision a policy takes for each file, and why" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: dlguard COMMAND [ARGS...]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(f, "  %s\n", commands[i].summary);
	fprintf(f, "\n  --version                      print the version\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("dlguard %s\n", DLGUARD_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "dlguard: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
