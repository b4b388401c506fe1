# Fixture objects for test_elf and test_resolve: small shared libraries with
# known dynamic sections (SONAME, DT_NEEDED, RPATH vs RUNPATH, NODEFLIB) and
# host programs that dlopen a name and print what the real loader picked, so
# the resolver can be compared with ld.so itself. Sources are generated here
# (file(CONFIGURE) rewrites them only when they change).
set(DLGFX_DIR ${CMAKE_CURRENT_BINARY_DIR}/fixtures)

file(CONFIGURE OUTPUT ${DLGFX_DIR}/src/fx.c @ONLY CONTENT [=[
/* Fixture library. dlgfx_open calls dlopen from inside this object, so the
 * loader sees this object (its RPATH/RUNPATH, its $ORIGIN) as the caller. */
#include <dlfcn.h>

int dlgfx_value(void);
void *dlgfx_open(const char *name, int flags);

int dlgfx_value(void)
{
	return 42;
}

void *dlgfx_open(const char *name, int flags)
{
	void *volatile h = dlopen(name, flags);

	/* Keep this a real call (no tail call): the return address must
	 * point into this object. */
	__asm__ volatile("" ::: "memory");
	return h;
}
]=])

file(CONFIGURE OUTPUT ${DLGFX_DIR}/src/host.c @ONLY CONTENT [=[
/* Fixture host: "host NAME" dlopens NAME from the main program; "host LIB
 * NAME" dlopens LIB, then has LIB's dlgfx_open dlopen NAME. Prints
 * "OK <l_name>" or "ERR <dlerror>" on one line. */
#include <dlfcn.h>
#include <link.h>
#include <stdio.h>

int main(int argc, char **argv)
{
	struct link_map *lm = NULL;
	void *h;

	if (argc == 3) {
		void *(*fn)(const char *, int);
		void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);

		if (!lib) {
			printf("LIBERR %s\n", dlerror());
			return 2;
		}
		*(void **)&fn = dlsym(lib, "dlgfx_open");
		if (!fn) {
			printf("LIBERR no dlgfx_open\n");
			return 2;
		}
		h = fn(argv[2], RTLD_NOW | RTLD_LOCAL);
	} else if (argc == 2) {
		h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	} else {
		printf("LIBERR usage\n");
		return 2;
	}
	if (!h) {
		printf("ERR %s\n", dlerror());
		return 1;
	}
	if (dlinfo(h, RTLD_DI_LINKMAP, &lm) != 0 || !lm) {
		printf("ERR dlinfo\n");
		return 1;
	}
	printf("OK %s\n", lm->l_name);
	return 0;
}
]=])

# RPATHs go through BUILD_RPATH: CMake escapes "$ORIGIN" correctly there,
# whereas inside a -Wl,-rpath link option it comes out as "$$ORIGIN".
function(dlgfx_paths name rpath dtags)
  if(rpath)
    set_target_properties(${name} PROPERTIES BUILD_RPATH "${rpath}")
    target_link_options(${name} PRIVATE ${dtags})
  else()
    set_target_properties(${name} PROPERTIES SKIP_BUILD_RPATH ON)
  endif()
endfunction()

function(dlgfx_lib name rpath dtags)
  add_library(${name} SHARED ${DLGFX_DIR}/src/fx.c)
  set_target_properties(${name} PROPERTIES NO_SONAME ON LIBRARY_OUTPUT_DIRECTORY ${DLGFX_DIR})
  dlgfx_paths(${name} "${rpath}" "${dtags}")
  target_compile_options(${name} PRIVATE -fno-optimize-sibling-calls)
  target_link_options(${name} PRIVATE -Wl,--no-as-needed -Wl,-soname,lib${name}.so.1 ${ARGN})
endfunction()

function(dlgfx_host name rpath dtags)
  add_executable(${name} ${DLGFX_DIR}/src/host.c)
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${DLGFX_DIR})
  dlgfx_paths(${name} "${rpath}" "${dtags}")
endfunction()

dlgfx_lib(dlgfx_plain "" "")
# A second DT_NEEDED for the reader to list; the NODEFLIB fixture has none,
# so the real loader can still load it (libc is already there by name).
target_link_libraries(dlgfx_plain PRIVATE m)
dlgfx_lib(dlgfx_rpath "/nonexistent/dlgfx;$ORIGIN/../rp" -Wl,--disable-new-dtags)
dlgfx_lib(dlgfx_runpath "/nonexistent/dlgfx;$ORIGIN/../rp" -Wl,--enable-new-dtags)
dlgfx_lib(dlgfx_nodeflib "" "" -Wl,-z,nodefaultlib)
dlgfx_host(dlgfx_host_plain "" "")
dlgfx_host(dlgfx_host_rpath "$ORIGIN/rp" -Wl,--disable-new-dtags)
dlgfx_host(dlgfx_host_runpath "$ORIGIN/rp" -Wl,--enable-new-dtags)

set(DLGFX_TARGETS dlgfx_plain dlgfx_rpath dlgfx_runpath dlgfx_nodeflib
  dlgfx_host_plain dlgfx_host_rpath dlgfx_host_runpath)
add_dependencies(test_elf ${DLGFX_TARGETS})
add_dependencies(test_resolve ${DLGFX_TARGETS})
