#include "policy.h"

#include <stdlib.h>

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
	}
	free(p->rules);
	free(p->log_file);
	free(p->source);
	free(p);
}
