/* libFuzzer target: policy text. Any input is parsed (libconfig, then the
 * strict checks), and when it is accepted it compiles, and what it compiles
 * to validates: what `dlguard check` and `compile` do with a user's file. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy_conf.h"
#include "policy_db.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dlg_diags diags = { 0 };
	struct dlg_policy *p;
	unsigned char *bin = NULL;
	size_t len = 0;
	char err[256];
	char *text = malloc(size + 1);

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	p = dlg_policy_parse_string(text, "fuzz.conf", &diags);
	free(text);
	if (!p) {
		if (diags.n_errors == 0)
			__builtin_trap();   /* refused without saying why */
		dlg_diags_free(&diags);
		return 0;
	}
	if (dlg_db_build(p, &bin, &len, err, sizeof err) == 0) {
		struct dlg_db db;

		/* the compiler's output is always a valid policy */
		if (dlg_db_open_mem(&db, bin, len, err, sizeof err) != 0)
			__builtin_trap();
		dlg_db_close(&db);
		free(bin);
	}
	dlg_policy_free(p);
	dlg_diags_free(&diags);
	return 0;
}
