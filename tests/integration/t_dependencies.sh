#!/bin/bash
# The dependency closure is checked before the real loader runs anything: an
# untrusted DT_NEEDED object anywhere in it refuses the whole load, and none
# of the closure's constructors run. Found through RUNPATH, $ORIGIN,
# LD_LIBRARY_PATH, an inherited DT_RPATH, and three levels deep.
. "$(dirname "$0")/lib.sh"
L=$DLG_FIXTURES/loader

# layout: $T/app/lib/{libdep_a,libdep_r,libdep_n}.so trusted;
#         $T/app/deps/ holds dep_b and dep_c, trusted or not per case.
lay() { # lay DEPS_DIR_FOR_B DEPS_DIR_FOR_C
	rm -rf "$T/app" "$T/untrusted"; mkdir -p "$T/app/lib" "$T/app/deps" "$T/untrusted"
	cp "$DLG_FIXTURES"/libdep_{a,r,n}.so "$T/app/lib/"
	cp "$DLG_FIXTURES/libdep_b.so" "$1/"
	cp "$DLG_FIXTURES/libdep_c.so" "$2/"
}
compile_policy p <<EOF
version = 1; default = "deny";
log = { file = "$T/events.jsonl"; };
rules = ( { action = "allow"; dir = "$SYSLIB"; }, { action = "allow"; dir = "$T/app"; } );
EOF
compile_policy audit <<EOF
version = 1; mode = "audit"; default = "deny";
log = { file = "$T/audit.jsonl"; };
rules = ( { action = "allow"; dir = "$SYSLIB"; }, { action = "allow"; dir = "$T/app"; } );
EOF

# All trusted: loads, and the whole closure ran, same objects as without
# guard. (dep_r's DT_RPATH is inherited by dep_b's search for dep_c.)
lay "$T/app/deps" "$T/app/deps"
bare=$("$L" "$T/app/lib/libdep_r.so"); clear_markers
out=$(guarded "$T/p.db" "$L" "$T/app/lib/libdep_r.so")
check "trusted closure loads" [ "$out" = "$bare" ]
check "... all three constructors ran" bash -c "[ -e $DLG_MARKER_DIR/dep_r ] && [ -e $DLG_MARKER_DIR/dep_b ] && [ -e $DLG_MARKER_DIR/dep_c ]"

# DT_RUNPATH is not inherited: dep_b's search for dep_c does not see
# dep_a's RUNPATH, so ld.so fails -- and so does the guard, naming it.
bare=$("$L" "$T/app/lib/libdep_a.so")
check "(without guard, dep_c is not found for dep_a)" grep -q "libdep_c.so: cannot open shared object file" <<<"$bare"
out=$(guarded "$T/p.db" "$L" "$T/app/lib/libdep_a.so")
check "RUNPATH not inherited, as in ld.so" grep -q "^ERR .*dependency libdep_c.so (needed by $T/app/lib/../deps/libdep_b.so): cannot open shared object file" <<<"$out"
check "... and each dependency decision is logged" grep -q '"requested":"libdep_c.so"' "$T/events.jsonl"

# B found through A's RUNPATH ($ORIGIN/../deps) but the deps dir is a symlink
# to an untrusted place.
lay "$T/untrusted" "$T/untrusted"
rmdir "$T/app/deps"; ln -s "$T/untrusted" "$T/app/deps"
clear_markers
out=$(guarded "$T/p.db" "$L" "$T/app/lib/libdep_a.so")
check "untrusted dependency through RUNPATH \$ORIGIN refuses the load" grep -q "^ERR .*dlguard: .*libdep_a.so: dependency libdep_b.so ($T/untrusted/libdep_b.so, needed by $T/app/lib/libdep_a.so)" <<<"$out"
check "... A never ran" not_ran dep_a
check "... B never ran" not_ran dep_b
check "... C never ran" not_ran dep_c

# Three levels deep: A and B trusted, C (needed by B) is not.
lay "$T/app/deps" "$T/untrusted"
clear_markers
out=$(LD_LIBRARY_PATH=$T/untrusted guarded "$T/p.db" "$L" "$T/app/lib/libdep_a.so")
check "untrusted object three levels deep refuses the load" grep -q "^ERR .*dependency libdep_c.so ($T/untrusted/libdep_c.so, needed by $T/app/lib/../deps/libdep_b.so)" <<<"$out"
check "... none of A, B, C ran" bash -c "! ls $DLG_MARKER_DIR/dep_* 2>/dev/null | grep -q ."

# Through LD_LIBRARY_PATH: dep_n has no search path of its own.
lay "$T/untrusted" "$T/untrusted"
clear_markers
out=$(LD_LIBRARY_PATH=$T/untrusted guarded "$T/p.db" "$L" "$T/app/lib/libdep_n.so")
check "untrusted dependency through LD_LIBRARY_PATH refuses the load" grep -q "^ERR .*dependency libdep_b.so ($T/untrusted/libdep_b.so" <<<"$out"
check "... nothing ran" bash -c "! ls $DLG_MARKER_DIR/dep_* 2>/dev/null | grep -q ."

# DT_RPATH is inherited down the chain: C, needed by B (no paths), is found
# through R's DT_RPATH before LD_LIBRARY_PATH, as ld.so does.
lay "$T/app/deps" "$T/app/deps"
cp "$DLG_FIXTURES/libevil.so" "$T/untrusted/libdep_c.so"
bare=$(LD_LIBRARY_PATH=$T/untrusted "$L" "$T/app/lib/libdep_r.so"); clear_markers
out=$(LD_LIBRARY_PATH=$T/untrusted guarded "$T/p.db" "$L" "$T/app/lib/libdep_r.so")
check "inherited DT_RPATH: same objects as ld.so picks" [ "$out" = "$bare" ]
check "... the trusted C ran, the decoy did not" bash -c "[ -e $DLG_MARKER_DIR/dep_c ] && [ ! -e $DLG_MARKER_DIR/evil ]"

# A missing dependency: refused with a reason naming it.
lay "$T/app/deps" "$T/app/deps"
rm "$T/app/deps/libdep_c.so"
out=$(guarded "$T/p.db" "$L" "$T/app/lib/libdep_r.so")
check "missing dependency named in the refusal" grep -q "^ERR .*dependency libdep_c.so (needed by $T/app/lib/../deps/libdep_b.so)" <<<"$out"

# Audit mode: the untrusted dependency is logged as would-deny, nothing blocked.
lay "$T/untrusted" "$T/untrusted"
rmdir "$T/app/deps"; ln -s "$T/untrusted" "$T/app/deps"
clear_markers
out=$(guarded "$T/audit.db" "$L" "$T/app/lib/libdep_r.so")
check "audit mode loads the closure" grep -q "^OK " <<<"$out"
check "... and logs the dependency as would-deny" grep -q '"decision":"would-deny".*"requested":"libdep_b.so"' "$T/audit.jsonl"

# The caller's DT_RPATH: a program whose DT_RPATH is $ORIGIN/../plugins
# dlopens a library by path; that library names libdep_b.so and has no
# search path of its own, so ld.so finds it through the program's DT_RPATH
# (the dlopen's caller heads the library's loader chain), ahead of a decoy
# on LD_LIBRARY_PATH. The guard must search the same way even though the
# dlopen itself named a path.
rm -rf "$T/app" "$T/untrusted"; mkdir -p "$T/app/bin" "$T/app/plugins" "$T/app/other" "$T/untrusted"
cp "$DLG_FIXTURES/rpath_host" "$T/app/bin/"
cp "$DLG_FIXTURES/libdep_b.so" "$DLG_FIXTURES/libdep_c.so" "$T/app/plugins/"
cp "$DLG_FIXTURES/libdep_n.so" "$T/app/other/"
cp "$DLG_FIXTURES/libevil.so" "$T/untrusted/libdep_b.so"
bare=$(LD_LIBRARY_PATH=$T/untrusted "$T/app/bin/rpath_host" "$T/app/other/libdep_n.so"); clear_markers
out=$(LD_LIBRARY_PATH=$T/untrusted guarded "$T/p.db" "$T/app/bin/rpath_host" "$T/app/other/libdep_n.so")
check "caller's DT_RPATH: loads, same objects as ld.so picks" \
	bash -c '[ "$1" = "$2" ] && grep -q "^OK " <<<"$2"' _ "$bare" "$out"
check "... the dependencies found there ran, the decoy did not" \
	bash -c "[ -e $DLG_MARKER_DIR/dep_b ] && [ -e $DLG_MARKER_DIR/dep_c ] && [ ! -e $DLG_MARKER_DIR/evil ]"

finish
