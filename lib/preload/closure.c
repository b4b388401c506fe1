#include "closure.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "caller.h"
#include "fdpath.h"
#include "loaded.h"

struct node {
	struct dlg_search_obj obj;
	struct dlg_elf_dyn dyn;     /* owned, except for the root */
	bool owns_dyn;
	int parent;                 /* index of the object that needs it; -1 for the root */
	const char *needed;         /* the DT_NEEDED name that brought it in */
	char path[PATH_MAX];        /* as ld.so will name it: its $ORIGIN comes from this */
	char origin[PATH_MAX];
};

struct walk {
	struct node *v;
	size_t n, cap;
	const struct closure_root *root;
	closure_decide_fn decide;
	void *ctx;
	char *reason;
	size_t len;
};

__attribute__((format(printf, 2, 3))) static bool refuse(struct walk *w, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(w->reason, w->len, fmt, ap);
	va_end(ap);
	return false;
}

static void set_obj(struct node *n)
{
	char *slash;

	snprintf(n->origin, sizeof n->origin, "%s", n->path);
	slash = strrchr(n->origin, '/');
	if (slash == n->origin)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	n->obj.origin = slash ? n->origin : NULL;
	/* elf_get_dynamic_info: DT_RPATH is ignored when DT_RUNPATH is present */
	n->obj.runpath = n->dyn.runpath;
	n->obj.rpath = n->dyn.runpath ? NULL : n->dyn.rpath;
	n->obj.nodeflib = (n->dyn.flags_1 & 0x00000800) != 0; /* DF_1_NODEFLIB */
}

/* ld.so satisfies a DT_NEEDED name without searching when an object already
 * loaded, or mapped earlier in this same load, answers to it. */
static bool satisfied(const struct walk *w, const char *needed)
{
	if (dlg_loaded_name(needed))
		return true;
	for (size_t i = 0; i < w->n; i++) {
		const struct node *n = &w->v[i];
		if ((n->dyn.soname && strcmp(n->dyn.soname, needed) == 0) ||
		    (n->needed && strcmp(n->needed, needed) == 0) || strcmp(n->path, needed) == 0)
			return true;
	}
	return false;
}

/* The DT_RPATH chain ld.so walks for a dependency: the object that needs it,
 * then the object that needed that one, up to the root (a dlopen'ed root has
 * no l_loader: __RTLD_CALLMAP), then the main program's. */
static void search_ctx(const struct walk *w, int idx, struct dlg_search_ctx *ctx,
		       const struct dlg_search_obj **chain, size_t *n_chain)
{
	*ctx = *w->root->base;
	ctx->caller = w->v[idx].obj;
	ctx->caller_is_main = false;
	*n_chain = 0;
	for (int p = w->v[idx].parent; p >= 0; p = w->v[p].parent)
		chain[(*n_chain)++] = &w->v[p].obj;
	ctx->rpath_chain = chain;
	ctx->n_rpath_chain = *n_chain;
}

static bool add_dependency(struct walk *w, int parent, const char *needed)
{
	const struct dlg_search_obj *chain[CLOSURE_MAX];
	struct dlg_search_ctx ctx;
	struct dlg_found f = { .fd = -1 };
	struct node *n;
	char err[256], canon[PATH_MAX];
	size_t n_chain;
	bool ok;

	if (w->n >= CLOSURE_MAX)
		return refuse(w, "dependency closure larger than %d objects", CLOSURE_MAX);
	if (w->n == w->cap) {
		/* grown on demand: most loads need one or two new objects */
		size_t cap = w->cap * 2;
		struct node *v = realloc(w->v, cap * sizeof *v);
		if (!v)
			return refuse(w, "out of memory checking dependencies");
		w->v = v;
		w->cap = cap;
	}
	search_ctx(w, parent, &ctx, chain, &n_chain);
	switch (dlg_resolve(&ctx, needed, &f, err, sizeof err)) {
	case DLG_RESOLVE_FOUND:
		break;
	case DLG_RESOLVE_NOT_FOUND:
		return refuse(w, "dependency %s (needed by %s): %s", needed, w->v[parent].path, err);
	default:
		if (f.fd >= 0)
			close(f.fd);
		return refuse(w, "dependency %s (needed by %s): %s", needed, w->v[parent].path, err);
	}
	dlg_fd_canonical(f.fd, f.path, canon, sizeof canon);
	ok = w->decide(w->ctx, needed, &f, canon, err, sizeof err);
	n = &w->v[w->n];
	memset(n, 0, sizeof *n);
	if (ok && dlg_elf_read_dynamic(f.fd, &n->dyn, err, sizeof err) != 0)
		ok = false;
	close(f.fd);
	if (!ok)
		return refuse(w, "dependency %s (%s, needed by %s): %s", needed, canon,
			      w->v[parent].path, err);
	n->owns_dyn = true;
	n->parent = parent;
	n->needed = needed;
	snprintf(n->path, sizeof n->path, "%s", f.path);
	set_obj(n);
	w->n++;
	return true;
}

bool closure_all_loaded(const struct dlg_elf_dyn *dyn)
{
	for (size_t i = 0; i < dyn->n_needed; i++)
		if (!dlg_loaded_name(dyn->needed[i]))
			return false;
	return true;
}

bool closure_check(const struct closure_root *root, closure_decide_fn decide, void *ctx,
		   char *reason, size_t len)
{
	struct walk w = { NULL, 0, 4, root, decide, ctx, reason, len };
	bool ok = true;

	w.v = calloc(w.cap, sizeof *w.v);
	if (!w.v) {
		snprintf(reason, len, "out of memory checking dependencies");
		return false;
	}
	w.v[0].dyn = *root->dyn;
	w.v[0].parent = -1;
	snprintf(w.v[0].path, sizeof w.v[0].path, "%s", root->path);
	set_obj(&w.v[0]);
	w.n = 1;
	/* Breadth-first, as _dl_map_object_deps maps them. */
	for (size_t i = 0; ok && i < w.n; i++)
		for (size_t k = 0; ok && k < w.v[i].dyn.n_needed; k++)
			if (!satisfied(&w, w.v[i].dyn.needed[k]))
				ok = add_dependency(&w, (int)i, w.v[i].dyn.needed[k]);
	for (size_t i = 1; i < w.n; i++)
		if (w.v[i].owns_dyn)
			dlg_elf_dyn_free(&w.v[i].dyn);
	free(w.v);
	return ok;
}
