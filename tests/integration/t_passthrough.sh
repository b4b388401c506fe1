#!/bin/bash
# Pass-through semantics stay glibc's: dlopen(NULL), RTLD_NOLOAD, already
# loaded objects, errors for missing files (same dlerror text), errno and
# dlerror untouched on success.
. "$(dirname "$0")/lib.sh"

stage "$T/lib" good
compile_policy p <<EOF
version = 1; default = "deny";
rules = ( { action = "allow"; dir = "$SYSLIB"; }, { action = "allow"; dir = "$T/lib"; } );
EOF
L=$DLG_FIXTURES/loader

same() { # same DESCRIPTION ARGS... : identical output and status with and without the guard
	local what=$1; shift
	local a b sa sb
	a=$("$L" "$@" 2>&1); sa=$?
	b=$(guarded "$T/p.db" "$L" "$@" 2>&1); sb=$?
	if [ "$a" = "$b" ] && [ $sa = $sb ]; then pass "$what"; else
		fail "$what"; printf 'without: %s (%s)\nwith:    %s (%s)\n' "$a" $sa "$b" $sb >&2; fi
}

same "dlopen(NULL)" --null
same "missing file: same error" "$T/lib/missing.so"
same "missing bare name: same error" libdoes-not-exist.so.9
same "RTLD_NOLOAD of a library not loaded" --noload "$T/lib/libgood.so"
same "RTLD_NOLOAD of a loaded library" --noload libc.so.6
same "already-loaded library by SONAME" libc.so.6
same "already-loaded library by path" "$SYSLIB/libc.so.6"
same "trusted library: errno and dlerror untouched" --errno "$T/lib/libgood.so"
same "loading the same library twice" "$T/lib/libgood.so" "$T/lib/libgood.so"
cd "$T" || exit 1
same "relative path with a slash" ./lib/libgood.so
cd - > /dev/null || exit 1
same "repeated load/unload" --repeat 50 "$T/lib/libgood.so"

finish
