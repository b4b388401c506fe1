#!/bin/bash
# Allowed loads work, denied loads never run, audit mode only logs, and the
# guard answers for both symbol versions of dlopen and for dlmopen.
. "$(dirname "$0")/lib.sh"

stage "$T/trusted" good
stage "$T/dropped" evil
compile_policy enforce <<EOF
version = 1; mode = "enforce"; default = "deny";
log = { file = "$T/events.jsonl"; };
rules = ( { action = "allow"; dir = "$SYSLIB"; },
          { action = "allow"; dir = "$T/trusted"; } );
EOF
compile_policy audit <<EOF
version = 1; mode = "audit"; default = "deny";
log = { file = "$T/audit.jsonl"; };
rules = ( { action = "allow"; dir = "$T/trusted"; } );
EOF

out=$(guarded "$T/enforce.db" "$DLG_FIXTURES/loader" "$T/trusted/libgood.so")
check "trusted library loads" grep -q "^OK $T/trusted/libgood.so $T/trusted/libgood.so\$" <<<"$out"
check "trusted library's constructor ran" ran good

out=$(guarded "$T/enforce.db" "$DLG_FIXTURES/loader" "$T/dropped/libevil.so")
check "untrusted library is refused" grep -q "^ERR $T/dropped/libevil.so: dlguard: $T/dropped/libevil.so: " <<<"$out"
check "untrusted library never ran" not_ran evil
check "the denial is logged with its rule" grep -q '"decision":"deny","rule":"default"' "$T/events.jsonl"

out=$(guarded "$T/enforce.db" "$DLG_FIXTURES/loader" --old "$T/dropped/libevil.so")
check "dlopen@GLIBC_2.2.5 is intercepted" grep -q "^ERR .*dlguard: " <<<"$out"
check "... and the library never ran" not_ran evil

out=$(guarded "$T/enforce.db" "$DLG_FIXTURES/loader" --mopen "$T/dropped/libevil.so")
check "dlmopen(LM_ID_NEWLM) is intercepted" grep -q "^ERR .*dlguard: " <<<"$out"
check "... and the library never ran" not_ran evil
check "the dlmopen denial is logged as dlmopen" grep -q '"action":"dlmopen"' "$T/events.jsonl"

out=$(guarded "$T/enforce.db" "$DLG_FIXTURES/loader" --mopen "$T/trusted/libgood.so")
check "dlmopen of a trusted library works" grep -q "^OK " <<<"$out"

out=$(guarded "$T/audit.db" "$DLG_FIXTURES/loader" "$T/dropped/libevil.so")
check "audit mode denies nothing" grep -q "^OK $T/dropped/libevil.so" <<<"$out"
check "audit mode: the library ran" ran evil
check "audit mode logs would-deny" grep -q '"decision":"would-deny"' "$T/audit.jsonl"

# exe restricts a rule to one program.
loader=$(readlink -f "$DLG_FIXTURES/loader")
compile_policy exe <<EOF
version = 1; default = "deny";
rules = ( { action = "allow"; dir = "$SYSLIB"; },
          { action = "allow"; exe = "$loader"; dir = "$T/dropped"; } );
EOF
clear_markers
out=$(guarded "$T/exe.db" "$DLG_FIXTURES/loader" "$T/dropped/libevil.so")
check "exe rule: allowed for that program" grep -q "^OK " <<<"$out"
cp "$DLG_FIXTURES/loader" "$T/other-program"
clear_markers
out=$(guarded "$T/exe.db" "$T/other-program" "$T/dropped/libevil.so")
check "exe rule: another program is refused" grep -q "^ERR .*dlguard: " <<<"$out"
check "... and the library never ran there" not_ran evil

# Without any policy the guard is a pass-through.
clear_markers
out=$(LD_PRELOAD=$DLG_PRELOAD "$DLG_FIXTURES/loader" "$T/dropped/libevil.so")
check "no policy: pass-through" grep -q "^OK " <<<"$out"

finish
