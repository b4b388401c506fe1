#!/bin/bash
# When the front cannot get a working engine (lib/preload/engine.h) -- one of
# another interface version, one whose entry point refuses the front, a file
# ld.so cannot load, one needing more static TLS than the process has left --
# every guarded dlopen is refused, never let through unchecked, and dlerror()
# says why; the program still runs (no crash), and a dlopen of an object
# already loaded by that name is still answered by the front alone. The
# missing engine is t_exports.sh's.
. "$(dirname "$0")/lib.sh"

stage "$T/lib" good
stage "$T/untrusted" evil
compile_policy p <<EOF
version = 1; default = "deny";
rules = ( { action = "allow"; dir = "$SYSLIB"; }, { action = "allow"; dir = "$T/lib"; } );
EOF
# libc as ld.so named it at start-up (loaded.h: the front answers that name).
LIBC=$("$DLG_FIXTURES/loader" libc.so.6 | awk '{print $3}')
check "libc's loaded name ($LIBC)" [ "${LIBC#/}" != "$LIBC" ]

# front_beside DIR FILE: a copy of the front in $T/DIR, FILE its engine
front_beside() {
	mkdir -p "$T/$1"
	cp "$DLG_PRELOAD" "$T/$1/libdlguard.so"
	cp "$2" "$T/$1/libdlguard-engine.so"
}
# load FRONT [VAR=VALUE...]: the loader under FRONT opens the trusted
# libgood.so, libc by its loaded name, the untrusted libevil.so; sets out, rc
load() {
	local front=$1; shift
	clear_markers
	out=$(timeout 60 env "$@" DLGUARD_POLICY="$T/p.db" LD_PRELOAD="$front" \
		"$DLG_FIXTURES/loader" "$T/lib/libgood.so" "$LIBC" "$T/untrusted/libevil.so" 2>&1)
	rc=$?
	err=$(grep "^ERR $T/lib/libgood.so: " <<<"$out")
}
# refused WHAT REASON: what every failure mode shows
refused() {
	check "$1: the program ran, no crash (exit $rc: two refusals)" [ "$rc" = 2 ]
	check "... the trusted library is refused" \
		grep -q "^dlguard: $T/lib/libgood.so: refused, the guard cannot decide: " <<<"${err#*: }"
	check "... and never ran" not_ran good
	check "... dlerror names the reason" grep -qF "cannot decide: $2" <<<"$err"
	check "... libc, already loaded, is opened by name" grep -qxF "OK $LIBC $LIBC" <<<"$out"
	check "... the untrusted library is refused too" not_ran evil
}

# 1. An engine of another version: no dlguard_engine_v1 in it.
front_beside other "$DLG_FIXTURES/libfake_engine_v0.so"
load "$T/other/libdlguard.so"
refused "other version" "libdlguard-engine.so has no dlguard_engine_v1 (another version of dlguard?)"

# 2. The entry point refuses the front (returns NULL).
front_beside null "$DLG_FIXTURES/libfake_engine_null.so"
load "$T/null/libdlguard.so"
refused "entry returns NULL" "libdlguard-engine.so refused this library's interface"

# 3. Files ld.so cannot load; its own reason follows the guard's. The text
# (a linker script, as libc.so is) is longer than an ELF header.
mkdir -p "$T/src"
printf '/* GNU ld script: no object ld.so can load */\nINPUT(libdlguard-engine.so.1)\n' > "$T/src/text"
: > "$T/src/empty"
front_beside text "$T/src/text"
load "$T/text/libdlguard.so"
refused "text file as engine" "cannot load libdlguard-engine.so: "
check "... ld.so's reason" grep -q "libdlguard-engine.so: invalid ELF header" <<<"$err"
front_beside empty "$T/src/empty"
load "$T/empty/libdlguard.so"
refused "empty file as engine" "cannot load libdlguard-engine.so: "
check "... ld.so's reason" grep -q "libdlguard-engine.so: file too short" <<<"$err"

# 4. Static TLS. The engine's 4 bytes of initial-exec TLS must come from the
# surplus ld.so reserves in the static TLS block at start-up for dlopen'ed
# objects. What a process that has none left gets: an engine needing 64 KiB.
front_beside tls "$DLG_FIXTURES/libfake_engine_tls.so"
load "$T/tls/libdlguard.so"
refused "no static TLS left for the engine" "cannot load libdlguard-engine.so: "
check "... ld.so's reason" grep -q "libdlguard-engine.so: cannot allocate memory in static TLS block" <<<"$err"

# glibc.rtld.optional_static_tls=0 does not get there. Observed with glibc
# 2.36: the surplus is 3*192 (libc in other namespaces) + 4*144 (other
# initial-exec TLS) + optional_static_tls bytes (elf/dl-tls.c,
# _dl_tls_static_surplus_init), and initial-exec TLS of a dlopen'ed object
# may use all of it: only the opportunistic use for faster TLS is held to
# the optional part. The tunable at 0 shrinks the room from ~1.7 KiB to
# ~1.2 KiB (the largest initial-exec block a first dlopen then gets), and the
# real engine still loads and decides. It fails only once other dlopen'ed
# objects have used the rest, which is what libfake_engine_tls.so stands for.
tunable=glibc.rtld.optional_static_tls=0
interp=$(readelf -lW "$DLG_FIXTURES/loader" | sed -n 's/.*interpreter: \(.*\)\]/\1/p')
check "the tunable is in effect" \
	grep -qx "glibc.rtld.optional_static_tls: 0x0 .*" <<<"$(GLIBC_TUNABLES=$tunable "$interp" --list-tunables)"
load "$DLG_PRELOAD" GLIBC_TUNABLES=$tunable
check "optional_static_tls=0: the program ran (exit $rc: one refusal)" [ "$rc" = 1 ]
check "... the engine loaded: the trusted library is allowed" grep -q "^OK $T/lib/libgood.so " <<<"$out"
check "... and ran" ran good
check "... libc, already loaded, is opened by name" grep -qxF "OK $LIBC $LIBC" <<<"$out"
check "... the engine decides: the untrusted library is denied by the policy" \
	bash -c 'grep -q "^ERR $1: " <<<"$2" && ! grep -q "cannot decide" <<<"$2"' _ "$T/untrusted/libevil.so" "$out"
check "... and never ran" not_ran evil

finish
