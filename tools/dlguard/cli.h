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

/* Parses and canonicalises a policy file, printing every diagnostic as
 * FILE:LINE: level: message to stderr. Returns NULL on any error. */
struct dlg_policy;
struct dlg_policy *cli_load_policy(const char *path, int quiet_warnings);

/* Absolute path of the preload library (the guard's front) that belongs to
 * this dlguard binary; -1 unless its engine is beside it too. */
int cli_preload_path(char *out, unsigned long len);

/* The engine beside the front at preload (the rtld-audit module). */
int cli_engine_path(const char *preload, char *out, unsigned long len);

#endif
