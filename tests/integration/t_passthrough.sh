#!/bin/bash
# Pass-through semantics stay glibc's: dlopen(NULL), RTLD_NOLOAD, already
# loaded objects, errors for missing files (same dlerror text), errno and
# dlerror untouched on success.
. "$(dirname "$0")/lib.sh"

stage "$T/lib" good plug evil
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

# The guard loads what it checked through /proc/self/fd/N, and the loader
# matches a new name against every name a loaded object was asked for: with
# the descriptor number reused, one spelling twice would hand back the
# object loaded before. Then the object is renamed to its path, written
# over the loader's copy of the /proc name (guard.c: fix_name), which is
# what an object's constructor got from dladdr.
same "objects loaded one after another keep their own names" \
	"$T/lib/libgood.so" "$T/lib/libplug.so" "$T/lib/libevil.so" @close \
	"$T/lib/libevil.so" "$T/lib/libgood.so" "$T/lib/libplug.so"
same "a constructor's dladdr name reads as the path afterwards" "$T/lib/libplug.so" @self
same "dlmopen: the same, in a namespace of its own" --mopen "$T/lib/libgood.so" \
	"$T/lib/libplug.so" @self
# A path of 4090 bytes (PATH_MAX is 4096): the /proc name padded to its
# length still fits, and the object is loaded through it and renamed.
deep=$T/lib
while [ $((${#deep} + 200 + 11)) -le 4090 ]; do deep=$deep/$(printf '%0199d' 0); done
deep=$deep/$(printf '%0*d' $((4090 - 11 - ${#deep} - 1)) 0)
mkdir -p "$deep" && cp "$T/lib/libgood.so" "$deep/"
same "a path of $((${#deep} + 11)) bytes: still renamed" "$deep/libgood.so" "$T/lib/libplug.so"
if command -v strace > /dev/null && strace -qq -o /dev/null true 2> /dev/null; then
	strace -f -qq -o "$T/deep.trace" -e trace=openat -E "LD_PRELOAD=$DLG_PRELOAD" \
		-E "DLGUARD_POLICY=$T/p.db" timeout 60 "$L" "$deep/libgood.so" > /dev/null
	check "... loaded through /proc/self/fd all the same" \
		grep -qE 'openat\(AT_FDCWD, "/+proc/+self/+(\./+)*fd/+[0-9]+"' "$T/deep.trace"
else
	echo "skip: strace missing or not permitted (loading a long path through /proc)"
fi

# The front answers a dlopen of a name already loaded from a cache of names
# (lib/preload/loaded.c), valid while nothing is loaded or unloaded. Once
# the object is unloaded and its file replaced by a FIFO, the name must be
# decided again: a stale answer would send the loader to open the FIFO,
# and the program would hang.
stale() { # stale NAME FILE [VAR=VALUE...]
	local name=$1 file=$2; shift 2
	rm -f "$file"; cp "$DLG_FIXTURES/libgood.so" "$file"
	out=$(env "$@" DLGUARD_POLICY="$T/p.db" LD_PRELOAD="$DLG_PRELOAD" timeout 20 \
		"$L" "$name" "$name" @close "@fifo:$file" "$name" 2>&1)
	rc=$?
}
stale "$T/lib/libgood.so" "$T/lib/libgood.so"
check "path: no hang after unload + FIFO swap (rc $rc)" [ $rc -ne 124 ]
check "... loaded twice, then unloaded" [ "$(grep -c "^OK $T/lib/libgood.so" <<<"$out")" = 2 ]
check "... the FIFO is refused, decided anew" grep -q "^ERR $T/lib/libgood.so: dlguard: .*a FIFO" <<<"$out"
stale libgood.so "$T/lib/libgood.so" "LD_LIBRARY_PATH=$T/lib"
check "SONAME: no hang after unload + FIFO swap (rc $rc)" [ $rc -ne 124 ]
check "... loaded twice, then unloaded" [ "$(grep -c "^OK libgood.so" <<<"$out")" = 2 ]
check "... the FIFO is refused, decided anew" grep -q "^ERR libgood.so: dlguard: .*a FIFO" <<<"$out"
rm -f "$T/lib/libgood.so"

finish
