/* Subcommands of the dlguard CLI; each takes argv with argv[0] = its name and
 * returns the process exit status. */
#ifndef DLGUARD_CLI_H
#define DLGUARD_CLI_H

int cmd_check(int argc, char **argv);
int cmd_compile(int argc, char **argv);
int cmd_hash(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_keygen(int argc, char **argv);
int cmd_sign(int argc, char **argv);
int cmd_install(int argc, char **argv);
int cmd_uninstall(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_manifest(int argc, char **argv);
int cmd_verify(int argc, char **argv);

/* The end of a subcommand's getopt loop: for -h/--help (opt 'h') prints
 * usage to stdout and returns 0, for any option getopt refused prints it to
 * stderr and returns 2 (the exit statuses). */
int cli_usage(const char *usage, int opt);

/* Parses and canonicalises a policy file, printing every diagnostic as
 * FILE:LINE: level: message to stderr. Returns NULL on any error. */
struct dlg_policy;
struct dlg_policy *cli_load_policy(const char *path, int quiet_warnings);

/* Records in p what the guard needs to skip work on this machine's files as
 * they are now: stat fingerprints of the pinned files (trusted without
 * reading while unchanged) and start-up verdicts (a process start decided
 * from one pread and a stat per object). Diagnostics name what (the policy
 * text) on stderr; fps and sus may be NULL. 0, or -1 on error. */
struct dlg_fp_stats;
struct dlg_startup_stats;
int cli_collect_fingerprints(struct dlg_policy *p, const char *what, struct dlg_fp_stats *fps,
			     struct dlg_startup_stats *sus);

/* Absolute path of the preload library (the guard's front) that belongs to
 * this dlguard binary; -1 unless its engine is beside it too. */
int cli_preload_path(char *out, unsigned long len);

/* The engine beside the front at preload (the rtld-audit module). */
int cli_engine_path(const char *preload, char *out, unsigned long len);

#endif
