#!/bin/bash
# The attack matrix: each way of getting an untrusted object loaded, and
# proof (marker files) that its code never ran -- or, for what a dlopen
# wrapper cannot see, the documented behaviour.
. "$(dirname "$0")/lib.sh"
L=$DLG_FIXTURES/loader
M=$DLG_FIXTURES/mapper

stage "$T/trusted" good
stage "$T/untrusted" evil
mkdir -p "$T/work/sub"
cp "$DLG_FIXTURES/libinner.so" "$T/trusted/"
compile_policy p <<EOF
version = 1; default = "deny";
log = { file = "$T/events.jsonl"; };
rules = ( { action = "allow"; dir = "$SYSLIB"; }, { action = "allow"; dir = "$T/trusted"; } );
EOF
compile_policy loose <<EOF
version = 1; default = "allow";
rules = ( { action = "allow"; dir = "/"; } );
EOF
refused() { # refused DESCRIPTION CMD... : the load is refused and evil never ran
	local what=$1 out; shift
	clear_markers
	out=$("$@" 2>&1)
	if grep -q "^ERR .*dlguard: " <<<"$out" && not_ran evil; then pass "$what"; else
		fail "$what"; echo "$out" >&2; fi
}

cd "$T/work/sub" || exit 1
refused "relative name with a slash" guarded "$T/p.db" "$L" ../../untrusted/libevil.so
refused "'..' out of a trusted directory" guarded "$T/p.db" "$L" "$T/trusted/../untrusted/libevil.so"
ln -s "$T/untrusted/libevil.so" "$T/trusted/libnice.so"
refused "symlink in a trusted dir pointing to an untrusted file" guarded "$T/p.db" "$L" "$T/trusted/libnice.so"
rm "$T/trusted/libnice.so"
ln -s "$T/untrusted" "$T/trusted/linkdir"
refused "symlinked directory into an untrusted tree" guarded "$T/p.db" "$L" "$T/trusted/linkdir/libevil.so"
rm "$T/trusted/linkdir"
cd - > /dev/null || exit 1

# Hard link: path rules judge the name the file was opened by (the kernel
# names an inode by the link used), so an untrusted link to a trusted inode
# is judged as untrusted; sha256 rules judge content and would allow it.
ln "$T/trusted/libgood.so" "$T/untrusted/libhard.so"
clear_markers
out=$(guarded "$T/p.db" "$L" "$T/untrusted/libhard.so")
check "hard link from an untrusted dir to a trusted inode is judged by its path" grep -q "^ERR .*dlguard: $T/untrusted/libhard.so" <<<"$out"
check "... never ran" not_ran good

refused "/proc/self/fd/N of an untrusted file" guarded "$T/p.db" "$M" fd "$T/untrusted/libevil.so"
refused "memfd (fileless) load" guarded "$T/p.db" "$M" memfd "$T/untrusted/libevil.so"
check "... the memfd is named as such in the event" grep -q '"path":"/memfd:innocent.so (deleted)"' "$T/events.jsonl"
refused "dlmopen(LM_ID_NEWLM)" guarded "$T/p.db" "$L" --mopen "$T/untrusted/libevil.so"
refused "old dlopen@GLIBC_2.2.5 entry" guarded "$T/p.db" "$L" --old "$T/untrusted/libevil.so"
refused "RTLD_DEEPBIND" guarded "$T/p.db" "$M" deepbind "$T/untrusted/libevil.so"

# RTLD_NOLOAD never loads anything: probing reveals nothing and runs nothing.
clear_markers
out=$(guarded "$T/p.db" "$L" --noload "$T/untrusted/libevil.so")
check "RTLD_NOLOAD probe loads nothing" grep -q "^ERR " <<<"$out"
check "... never ran" not_ran evil

# An environment policy cannot loosen: with no system policy here, the
# environment policy is the only one, so check via dlguard run that a
# loose DLGUARD_POLICY set by the user does not override the -p policy.
clear_markers
err=$(DLGUARD_POLICY=$T/loose.db "$DLG_CLI" run -p "$T/p.conf" -- "$L" "$T/untrusted/libevil.so" 2>&1 >/dev/null)
check "a DLGUARD_POLICY in the caller's environment does not loosen dlguard run -p" grep -q "1 load denied" <<<"$err"
check "... never ran" not_ran evil

# Out of reach of a dlopen wrapper, documented: code inside a dlmopen
# namespace calls that namespace's own libc dlopen, which the preload (in the
# base namespace only) never sees. The rtld-audit interface does see it.
clear_markers
out=$(guarded "$T/p.db" "$M" ns "$T/trusted/libinner.so" "$T/untrusted/libevil.so" 2>&1)
check "(documented gap) a dlopen from inside a dlmopen namespace bypasses the wrapper" ran evil
clear_markers
out=$(DLGUARD_POLICY=$T/p.db LD_PRELOAD=$DLG_PRELOAD LD_AUDIT=$DLG_ENGINE "$M" ns "$T/trusted/libinner.so" "$T/untrusted/libevil.so" 2>&1)
check "... closed in audit mode" not_ran evil

# RTLD_DEEPBIND: a library loaded with it binds its own symbol lookups --
# its dlopen too -- to its dependencies (libc) before the global scope, so
# the preload does not see the loads it makes; audit mode does.
clear_markers
out=$(guarded "$T/p.db" "$M" deepbind-ns "$T/trusted/libinner.so" "$T/untrusted/libevil.so" 2>&1)
check "(documented gap) dlopen from inside an RTLD_DEEPBIND library bypasses the wrapper" ran evil
clear_markers
out=$(DLGUARD_POLICY=$T/p.db LD_PRELOAD=$DLG_PRELOAD LD_AUDIT=$DLG_ENGINE "$M" deepbind-ns "$T/trusted/libinner.so" "$T/untrusted/libevil.so" 2>&1)
check "... closed in audit mode" not_ran evil

# Code that maps memory itself never goes through the loader: the guard
# neither sees nor logs it (the kernel layer is for that).
: > "$T/events.jsonl"
out=$(guarded "$T/p.db" "$M" mmap "$T/untrusted/libevil.so" 2>&1)
check "(documented gap) a hand-made executable mapping is not seen" bash -c "grep -q '^OK mmap' <<<'$out' && ! grep -q libevil '$T/events.jsonl'"

# Static binaries have no loader: LD_PRELOAD is ignored, the guard is absent.
if printf 'int main(void){return 0;}\n' | cc -static -x c -o "$T/static" - 2>/dev/null; then
	: > "$T/events.jsonl"
	compile_policy nothing <<EOF
version = 1; default = "deny"; startup = "kill";
log = { file = "$T/events.jsonl"; };
EOF
	# (not through guarded: its timeout wrapper is dynamic and would be stopped)
	DLGUARD_POLICY=$T/nothing.db LD_PRELOAD=$DLG_PRELOAD "$T/static"
	check "(documented gap) a static binary runs without the guard even under startup = kill" [ $? -eq 0 ]
	check "... and nothing was logged" [ ! -s "$T/events.jsonl" ]
else
	echo "skip: no static libc to build a static test program"
fi

finish
