#!/bin/bash
# The rtld-audit interface (LD_AUDIT, dlguard run --audit-mode) sees every
# object ld.so maps: a program's own untrusted DT_NEEDED library and an
# untrusted LD_PRELOAD library never run their constructors, a gconv module
# that is not trusted is refused to iconv, and the glibc rules the interface
# relies on are pinned.
. "$(dirname "$0")/lib.sh"

mkdir -p "$T/app/bin" "$T/app/lib" "$T/evil" "$T/good"
cp "$DLG_FIXTURES/needs_evil" "$T/app/bin/"
cp "$DLG_FIXTURES/libevil.so" "$T/app/lib/"
cp "$DLG_FIXTURES/libevil.so" "$T/evil/libplug.so"
cp "$DLG_FIXTURES/libplug.so" "$T/good/libplug.so"
GCONV=$SYSLIB/gconv
compile_policy p <<EOF
version = 1; default = "deny";
log = { file = "$T/events.jsonl"; };
rules = ( { action = "deny"; dir = "$GCONV"; },
          { action = "allow"; dir = "$SYSLIB"; },
          { action = "allow"; dir = "/usr/bin"; },
          { action = "allow"; dir = "$T/good"; },
          { action = "allow"; path = "$(readlink -f "$DLG_PRELOAD")"; } );
EOF
audited() { # audited CMD... : LD_AUDIT only (no preload), under the policy
	DLGUARD_POLICY=$T/p.db LD_AUDIT=$DLG_ENGINE timeout 60 "$@"
}

# Control: without the guard the program's DT_NEEDED library runs.
out=$("$T/app/bin/needs_evil" 2>&1)
check "(control: unguarded, the DT_NEEDED library ran)" ran evil
clear_markers

# A program's own untrusted DT_NEEDED: the process does not start, the
# library never ran (la_objsearch NULL for a candidate, nothing else found).
out=$(audited "$T/app/bin/needs_evil" 2>&1); rc=$?
check "untrusted DT_NEEDED: the program does not start" [ $rc -ne 0 ]
check "... main never ran" bash -c "! grep -q 'main ran' <<<'$out'"
check "... the library's constructor never ran" not_ran evil
check "... the refusal is logged as a load" grep -q '"action":"load","kind":"event".*"decision":"deny"' "$T/events.jsonl"
check "... naming the library" grep -q "\"path\":\"$T/app/lib/libevil.so\"" "$T/events.jsonl"

# Only LD_PRELOAD (no audit): the constructor has run by the time the guard
# initialises, and the start-up check reports it.
clear_markers
out=$(DLGUARD_POLICY=$T/p.db LD_PRELOAD=$DLG_PRELOAD "$T/app/bin/needs_evil" 2>&1)
check "(preload only: the start-up library already ran)" ran evil
check "preload only: reported as untrusted at start-up" grep -q '"action":"startup".*"decision":"would-deny".*'"$T/app/lib/libevil.so" "$T/events.jsonl"

# An untrusted LD_PRELOAD entry: ld.so ignores it, its constructor never runs.
clear_markers
out=$(audited env LD_PRELOAD=$T/evil/libplug.so "$DLG_FIXTURES/loader" --null 2>&1)
check "untrusted LD_PRELOAD library never ran" not_ran evil
check "... and the program still ran" grep -q "^OK dlopen(NULL)" <<<"$out"

# A slash name refused at LA_SER_ORIG fails the dlopen.
clear_markers
out=$(audited "$DLG_FIXTURES/loader" "$T/evil/libplug.so" 2>&1)
check "LA_SER_ORIG refusal fails the dlopen" grep -q "^ERR $T/evil/libplug.so" <<<"$out"
check "... never ran" not_ran evil

# A refused search candidate is skipped and the search goes on: the trusted
# copy later in LD_LIBRARY_PATH is loaded instead.
clear_markers
out=$(LD_LIBRARY_PATH=$T/evil:$T/good audited "$DLG_FIXTURES/loader" libplug.so 2>&1)
check "refused candidate skipped, search goes on" grep -q "^OK libplug.so $T/good/libplug.so" <<<"$out"
check "... the refused candidate never ran" not_ran evil
check "... the trusted one did" ran plug

# glibc-internal loads never call dlopen: iconv maps its gconv module itself.
if [ -e "$GCONV/EBCDIC-US.so" ]; then
	out=$(printf 'x' | iconv -f UTF-8 -t EBCDIC-US 2>&1 | od -An -tx1)
	check "(control: iconv converts to EBCDIC-US unguarded)" grep -q "a7" <<<"$out"
	out=$(printf 'x' | DLGUARD_POLICY=$T/p.db LD_PRELOAD=$DLG_PRELOAD iconv -f UTF-8 -t EBCDIC-US 2>&1)
	check "(preload only: the gconv load is not seen by a dlopen wrapper)" bash -c "! grep -q 'unsupported' <<<'$out'"
	out=$(printf 'x' | audited iconv -f UTF-8 -t EBCDIC-US 2>&1); rc=$?
	check "audit mode: untrusted gconv module refused to iconv" [ $rc -ne 0 ]
	check "... the refusal names the module" grep -q "\"path\":\"$GCONV/EBCDIC-US.so\"" "$T/events.jsonl"
else
	echo "skip: no gconv EBCDIC-US module"
fi

# dlguard run --audit-mode sets LD_AUDIT as well.
clear_markers
err=$("$DLG_CLI" run -p "$T/p.conf" --audit-mode -- "$T/app/bin/needs_evil" 2>&1 >/dev/null); rc=$?
check "run --audit-mode: untrusted DT_NEEDED stops the program" [ $rc -ne 0 ]
check "... never ran" not_ran evil
check "... and the summary counts it" grep -q "1 load denied" <<<"$err"

finish
