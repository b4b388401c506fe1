#include "policy.h"

#include <linux/magic.h>
#include <stdlib.h>
#include <string.h>

/* Read by the preload too: constant tables only. */

static const char *const ENV_VARS[] = {
	"LD_PRELOAD", "LD_LIBRARY_PATH", "LD_AUDIT", "GCONV_PATH", "GLIBC_TUNABLES",
	"LD_BIND_NOW", "LD_BIND_NOT", "LD_DEBUG", "LD_DEBUG_OUTPUT", "LD_PROFILE",
	"LD_PROFILE_OUTPUT", "LD_DYNAMIC_WEAK", "LD_HWCAP_MASK", "LD_ORIGIN_PATH",
	"LD_SHOW_AUXV", "LD_USE_LOAD_BIAS",
};

const char *dlg_env_var_name(uint32_t bit)
{
	for (size_t i = 0; i < sizeof ENV_VARS / sizeof ENV_VARS[0]; i++)
		if (bit == 1u << i)
			return ENV_VARS[i];
	return NULL;
}

uint32_t dlg_env_var_bit(const char *name)
{
	for (size_t i = 0; i < sizeof ENV_VARS / sizeof ENV_VARS[0]; i++)
		if (strcmp(name, ENV_VARS[i]) == 0)
			return 1u << i;
	return 0;
}

/* Not in every kernel's linux/magic.h. */
#ifndef CIFS_SUPER_MAGIC
#define CIFS_SUPER_MAGIC 0xFF534D42
#endif
#ifndef SMB2_SUPER_MAGIC
#define SMB2_SUPER_MAGIC 0xFE534D42
#endif
#define OCFS2_MAGIC 0x7461636f

/* The first name standing for a type is the one reasons print: ext4 for
 * 0xEF53 (ext2, ext3 and ext4 share it), cifs for both SMB types (the cifs
 * client reports either, whatever the dialect). fuse covers every FUSE
 * file system (fuseblk, sshfs, virtiofs, ...): they share one type. */
static const struct dlg_fs_type FS_TYPES[] = {
	{ "nfs", { NFS_SUPER_MAGIC, 0 } },
	{ "cifs", { CIFS_SUPER_MAGIC, SMB2_SUPER_MAGIC } },
	{ "smb3", { CIFS_SUPER_MAGIC, SMB2_SUPER_MAGIC } },
	{ "fuse", { FUSE_SUPER_MAGIC, 0 } },
	{ "9p", { V9FS_MAGIC, 0 } },
	{ "afs", { AFS_SUPER_MAGIC, AFS_FS_MAGIC } },
	{ "ceph", { CEPH_SUPER_MAGIC, 0 } },
	{ "coda", { CODA_SUPER_MAGIC, 0 } },
	{ "ocfs2", { OCFS2_MAGIC, 0 } },
	{ "tmpfs", { TMPFS_MAGIC, 0 } },
	{ "ramfs", { RAMFS_MAGIC, 0 } },
	{ "hugetlbfs", { HUGETLBFS_MAGIC, 0 } },
	{ "overlay", { OVERLAYFS_SUPER_MAGIC, 0 } },
	{ "ext4", { EXT4_SUPER_MAGIC, 0 } },
	{ "ext3", { EXT3_SUPER_MAGIC, 0 } },
	{ "ext2", { EXT2_SUPER_MAGIC, 0 } },
	{ "btrfs", { BTRFS_SUPER_MAGIC, 0 } },
	{ "xfs", { XFS_SUPER_MAGIC, 0 } },
	{ "f2fs", { F2FS_SUPER_MAGIC, 0 } },
	{ "squashfs", { SQUASHFS_MAGIC, 0 } },
	{ "erofs", { EROFS_SUPER_MAGIC_V1, 0 } },
	{ "iso9660", { ISOFS_SUPER_MAGIC, 0 } },
	{ "udf", { UDF_SUPER_MAGIC, 0 } },
	{ "vfat", { MSDOS_SUPER_MAGIC, 0 } },
	{ "exfat", { EXFAT_SUPER_MAGIC, 0 } },
	{ "ecryptfs", { ECRYPTFS_SUPER_MAGIC, 0 } },
};

const struct dlg_fs_type *dlg_fs_types(size_t *n)
{
	*n = sizeof FS_TYPES / sizeof FS_TYPES[0];
	return FS_TYPES;
}

const char *dlg_fs_name(uint32_t magic)
{
	for (size_t i = 0; i < sizeof FS_TYPES / sizeof FS_TYPES[0]; i++)
		for (size_t j = 0; j < DLG_FS_MAGICS; j++)
			if (FS_TYPES[i].magic[j] && FS_TYPES[i].magic[j] == magic)
				return FS_TYPES[i].name;
	return NULL;
}

static void manifest_free(struct dlg_manifest *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n_entries; i++)
		free(m->entries[i].path);
	free(m->entries);
	free(m->sig);
	free(m->path);
	free(m);
}

void dlg_fingerprints_free(struct dlg_fingerprint *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].path);
	free(v);
}

void dlg_policy_free(struct dlg_policy *p)
{
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->n_rules; i++) {
		free(p->rules[i].path);
		free(p->rules[i].dir);
		free(p->rules[i].exe);
		free(p->rules[i].sha256);
		free(p->rules[i].signed_by);
		free(p->rules[i].owners);
		free(p->rules[i].fs);
		manifest_free(p->rules[i].manifest);
	}
	free(p->rules);
	for (i = 0; i < p->n_keys; i++) {
		free(p->keys[i].name);
		free(p->keys[i].public_key);
		free(p->keys[i].der);
	}
	free(p->keys);
	dlg_fingerprints_free(p->fprints, p->n_fprints);
	dlg_fingerprints_free(p->startup_fps, p->n_startup);
	free(p->sig_dir);
	free(p->log_file);
	free(p->source);
	free(p);
}
