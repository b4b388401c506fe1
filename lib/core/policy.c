#include "policy.h"

#include <stdlib.h>

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
		manifest_free(p->rules[i].manifest);
	}
	free(p->rules);
	for (i = 0; i < p->n_keys; i++) {
		free(p->keys[i].name);
		free(p->keys[i].public_key);
		free(p->keys[i].der);
	}
	free(p->keys);
	free(p->sig_dir);
	free(p->log_file);
	free(p->source);
	free(p);
}
