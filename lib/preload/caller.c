#include "caller.h"

#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "loaded.h"

/* glibc relocates d_ptr entries of a writable dynamic section in place
 * (elf_get_dynamic_info), but not of a read-only one; a value below the load
 * address is still an offset. */
static const char *strtab_of(ElfW(Addr) base, const ElfW(Dyn) *dyn)
{
	for (; dyn->d_tag != DT_NULL; dyn++)
		if (dyn->d_tag == DT_STRTAB)
			return (const char *)(dyn->d_un.d_ptr < base ? base + dyn->d_un.d_ptr
								      : dyn->d_un.d_ptr);
	return NULL;
}

static void read_dynamic(ElfW(Addr) base, const ElfW(Dyn) *dyn, struct dlg_search_obj *obj)
{
	const char *strtab = dyn ? strtab_of(base, dyn) : NULL;

	obj->rpath = obj->runpath = NULL;
	obj->nodeflib = false;
	if (!strtab)
		return;
	for (; dyn->d_tag != DT_NULL; dyn++) {
		switch (dyn->d_tag) {
		case DT_RPATH:
			obj->rpath = strtab + dyn->d_un.d_val;
			break;
		case DT_RUNPATH:
			obj->runpath = strtab + dyn->d_un.d_val;
			break;
		case DT_FLAGS_1:
			obj->nodeflib = (dyn->d_un.d_val & DF_1_NODEFLIB) != 0;
			break;
		default:
			break;
		}
	}
}

static void set_origin(struct caller_info *ci, const char *file)
{
	char *slash;
	size_t n = 0;

	ci->origin[0] = '\0';
	ci->obj.origin = NULL;
	if (!file || !*file)
		return;
	if (file[0] != '/') {
		/* glibc derives a relative name's origin from the cwd at load time;
		 * the current cwd is the best we can know now. */
		if (!getcwd(ci->origin, sizeof ci->origin))
			return;
		n = strlen(ci->origin);
		if (n + 1 >= sizeof ci->origin)
			return;
		ci->origin[n++] = '/';
	}
	if (n + strlen(file) >= sizeof ci->origin)
		return;
	strcpy(ci->origin + n, file);
	slash = strrchr(ci->origin, '/');
	if (slash == ci->origin)
		slash[1] = '\0';
	else
		*slash = '\0';
	ci->obj.origin = ci->origin;
}

static const ElfW(Dyn) *dynamic_of(const struct dl_phdr_info *info)
{
	for (ElfW(Half) i = 0; i < info->dlpi_phnum; i++)
		if (info->dlpi_phdr[i].p_type == PT_DYNAMIC)
			return (const ElfW(Dyn) *)(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr);
	return NULL;
}

/* dl_iterate_phdr reports the main program first. (_r_debug would do too,
 * but referencing it adds ld.so to the preload library's DT_NEEDED.) */
static int main_cb(struct dl_phdr_info *info, size_t size, void *data)
{
	struct dlg_search_obj *obj = data;

	(void)size;
	read_dynamic(info->dlpi_addr, dynamic_of(info), obj);
	return 1;
}

void caller_main(const char *exe, struct caller_info *ci)
{
	memset(&ci->obj, 0, sizeof ci->obj);
	ci->is_main = true;
	dlg_iterate_phdr(main_cb, &ci->obj);
	set_origin(ci, exe);
}

void caller_lookup(const void *addr, const char *exe, struct caller_info *ci)
{
	struct link_map *lm = NULL;
	Dl_info info;

	if (!dladdr1(addr, &info, (void **)&lm, RTLD_DL_LINKMAP) || !lm || !lm->l_name ||
	    lm->l_name[0] == '\0') {
		caller_main(exe, ci);
		return;
	}
	memset(&ci->obj, 0, sizeof ci->obj);
	ci->is_main = false;
	read_dynamic(lm->l_addr, lm->l_ld, &ci->obj);
	set_origin(ci, lm->l_name);
}
