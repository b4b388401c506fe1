#!/bin/bash
# The guard checks the very file ld.so would load for the original caller:
# RUNPATH/$ORIGIN plugin loading is unchanged under the guard, and an
# LD_LIBRARY_PATH hijack of a bare name is seen (and refused).
. "$(dirname "$0")/lib.sh"

app=$T/app
mkdir -p "$app/bin" "$app/plugins" "$T/evil"
cp "$DLG_FIXTURES/rp_host" "$DLG_FIXTURES/rpath_host" "$app/bin/"
cp "$DLG_FIXTURES/libplug.so" "$app/plugins/"
cp "$DLG_FIXTURES/libevil.so" "$T/evil/libplug.so"
compile_policy app <<EOF
version = 1; default = "deny";
log = { file = "$T/events.jsonl"; };
rules = ( { action = "allow"; dir = "$SYSLIB"; },
          { action = "allow"; dir = "$app"; } );
EOF

# RUNPATH $ORIGIN/../plugins: same object, same name, with and without guard.
bare=$("$app/bin/rp_host" libplug.so)
clear_markers
out=$(guarded "$T/app.db" "$app/bin/rp_host" libplug.so)
check "RUNPATH \$ORIGIN plugin loads under the guard" grep -q "^OK libplug.so " <<<"$out"
check "... as the very object ld.so picks without the guard" [ "$out" = "$bare" ]
check "... and it ran" ran plug
check "the decision names the canonical path" grep -q "\"path\":\"$app/plugins/libplug.so\"" "$T/events.jsonl"

# Without any policy the guard still resolves for the caller: the main
# program's $ORIGIN (its executable, looked up only when first needed) must
# be known, or a RUNPATH $ORIGIN plugin would not be found at all.
clear_markers
out=$(env -u DLGUARD_POLICY LD_PRELOAD=$DLG_PRELOAD timeout 60 "$app/bin/rp_host" libplug.so)
check "no policy: RUNPATH \$ORIGIN plugin loads as without the guard" [ "$out" = "$bare" ]
check "... and it ran" ran plug

# DT_RPATH form.
bare=$("$app/bin/rpath_host" libplug.so)
out=$(guarded "$T/app.db" "$app/bin/rpath_host" libplug.so)
check "RPATH \$ORIGIN plugin loads as without the guard" [ "$out" = "$bare" ]

# LD_LIBRARY_PATH comes before RUNPATH: ld.so would load the hijacker.
clear_markers
bare=$(LD_LIBRARY_PATH=$T/evil "$app/bin/rp_host" libplug.so)
check "(without guard, LD_LIBRARY_PATH hijacks the bare name)" grep -q "$T/evil/libplug.so" <<<"$bare"
clear_markers
out=$(LD_LIBRARY_PATH=$T/evil guarded "$T/app.db" "$app/bin/rp_host" libplug.so)
check "LD_LIBRARY_PATH hijack is refused" grep -q "^ERR libplug.so: dlguard: $T/evil/libplug.so: " <<<"$out"
check "... and the hijacker never ran" not_ran evil
check "... and the trusted plugin was not silently substituted" not_ran plug

# DT_RPATH comes before LD_LIBRARY_PATH: the trusted plugin wins.
clear_markers
out=$(LD_LIBRARY_PATH=$T/evil guarded "$T/app.db" "$app/bin/rpath_host" libplug.so)
check "RPATH beats LD_LIBRARY_PATH as in ld.so" grep -q "^OK libplug.so $app/bin/../plugins/libplug.so" <<<"$out"
check "... the hijacker never ran" not_ran evil

# A caller without RUNPATH: the loader program, LD_LIBRARY_PATH applies.
clear_markers
out=$(LD_LIBRARY_PATH=$T/evil guarded "$T/app.db" "$DLG_FIXTURES/loader" libplug.so)
check "bare name via LD_LIBRARY_PATH from a plain program is refused" grep -q "^ERR libplug.so: dlguard: $T/evil/libplug.so" <<<"$out"
check "... never ran" not_ran evil

# glibc-hwcaps subdirectories are preferred exactly as ld.so prefers them.
if /lib64/ld-linux-x86-64.so.2 --help | grep -q 'x86-64-v2 (supported, searched)'; then
	mkdir -p "$app/plugins/glibc-hwcaps/x86-64-v2"
	cp "$DLG_FIXTURES/libgood.so" "$app/plugins/glibc-hwcaps/x86-64-v2/libplug.so"
	bare=$("$app/bin/rp_host" libplug.so)
	clear_markers
	out=$(guarded "$T/app.db" "$app/bin/rp_host" libplug.so)
	check "hwcaps subdirectory chosen as ld.so chooses it" [ "$out" = "$bare" ]
	check "... it is the x86-64-v2 build" grep -q "glibc-hwcaps/x86-64-v2/libplug.so" <<<"$out"
	check "... and that is the one that ran" ran good
	rm -r "$app/plugins/glibc-hwcaps"
else
	echo "skip: CPU without x86-64-v2"
fi

# ld.so.cache: a bare system library resolves through the cache as in ld.so.
bare=$("$DLG_FIXTURES/loader" libz.so.1 2>/dev/null || true)
if grep -q '^OK' <<<"$bare"; then
	out=$(guarded "$T/app.db" "$DLG_FIXTURES/loader" libz.so.1)
	check "ld.so.cache lookup gives the same object" [ "$out" = "$bare" ]
fi

finish
