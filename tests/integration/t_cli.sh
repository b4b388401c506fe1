#!/bin/bash
# The CLI: check, compile, hash, run; clear errors naming the file; a corrupt
# or truncated compiled policy is refused (never trusted, never crashed on).
. "$(dirname "$0")/lib.sh"
D=$DLG_CLI

cat > "$T/good.conf" <<EOF
version = 1; default = "deny";
rules = ( { action = "allow"; dir = "$SYSLIB"; } );
EOF
printf 'version = 1;\ndefault = "deny";\nbogus = 3;\n' > "$T/bad.conf"
mkfifo "$T/fifo.conf"

"$D" check "$T/good.conf" > /dev/null 2>&1
check "check: valid policy exits 0" [ $? -eq 0 ]
msg=$("$D" check "$T/bad.conf" 2>&1); rc=$?
check "check: invalid policy exits non-zero" [ $rc -ne 0 ]
check "check: error is FILE:LINE: message" grep -q "^$T/bad.conf:3: " <<<"$msg"
msg=$(timeout 10 "$D" check "$T/fifo.conf" 2>&1); rc=$?
check "check: FIFO refused without hanging" [ $rc -ne 0 ] && [ $rc -ne 124 ]
msg=$("$D" check "$T/missing.conf" 2>&1); rc=$?
check "check: missing file named in the error" grep -q "$T/missing.conf" <<<"$msg"
"$D" compile "$T/good.conf" > /dev/null 2>&1
check "compile without -o is a usage error" [ $? -eq 2 ]
"$D" frobnicate > /dev/null 2>&1
check "unknown command is a usage error" [ $? -eq 2 ]

# hash: sha256sum-compatible, and --rules compiles.
stage "$T/lib" good evil
( cd "$T/lib" && "$D" hash libgood.so libevil.so ) > "$T/sums"
( cd "$T/lib" && sha256sum libgood.so libevil.so ) > "$T/sums.ref"
check "hash output equals sha256sum's" cmp -s "$T/sums" "$T/sums.ref"
check "sha256sum -c accepts it" bash -c "cd '$T/lib' && sha256sum -c --quiet '$T/sums'"
"$D" hash /dev/zero > /dev/null 2>&1
check "hash refuses a device" [ $? -ne 0 ]
check "hash --help prints its usage" bash -c "'$D' hash --help | grep -q '^usage: dlguard hash'"
( cd "$T/lib" && cp libgood.so ./-good.so && "$D" hash -- -good.so ) > "$T/dash"
check "hash -- takes a file named like an option" grep -q "  -good.so\$" "$T/dash"
"$D" hash -x "$T/lib/libgood.so" > /dev/null 2>&1
check "hash: an unknown option is a usage error" [ $? -eq 2 ]
check "hash --rules after the files" bash -c \
	"'$D' hash '$T/lib/libgood.so' --rules | grep -q 'path = \"$T/lib/libgood.so\"'"
{ printf 'version = 1; default = "deny";\nrules = (\n  { action = "allow"; dir = "%s"; },\n' "$SYSLIB"
  "$D" hash --rules "$T/lib/libgood.so"
  printf ');\n'; } > "$T/pasted.conf"
check "hash --rules pastes into a valid policy" "$D" compile "$T/pasted.conf" -o "$T/pasted.db"
out=$(guarded "$T/pasted.db" "$DLG_FIXTURES/loader" "$T/lib/libgood.so" "$T/lib/libevil.so")
check "... which allows the hashed library" grep -q "^OK $T/lib/libgood.so" <<<"$out"
check "... and nothing else" not_ran evil

# run: exit status, preload found, summary of denials.
"$D" run -p "$T/good.conf" -- sh -c 'exit 7'
check "run returns the command's exit status" [ $? -eq 7 ]
clear_markers
err=$("$D" run -p "$T/good.conf" -- "$DLG_FIXTURES/loader" "$T/lib/libevil.so" 2>&1 >/dev/null)
check "run prints a one-line summary of denials" grep -q "^dlguard: 1 load denied, 0 would have been denied: $T/lib/libevil.so" <<<"$err"
check "run: the denied library never ran" not_ran evil
err=$("$D" run -p "$T/good.conf" --audit -- "$DLG_FIXTURES/loader" "$T/lib/libevil.so" 2>&1 >/dev/null)
check "run --audit: would-deny summarised" grep -q "0 loads denied, 1 would have been denied" <<<"$err"
check "run --audit: library ran" ran evil
"$D" run -p "$T/bad.conf" -- true 2>/dev/null
check "run with an invalid policy fails" [ $? -ne 0 ]
"$D" run -p "$T/good.conf" -- /nonexistent/cmd 2>/dev/null
check "run: missing command exits 127" [ $? -eq 127 ]
"$D" compile "$T/good.conf" -o "$T/good.db" > /dev/null
"$D" run -p "$T/good.db" -- true
check "run accepts a compiled policy" [ $? -eq 0 ]

# A corrupt or truncated compiled policy is refused with a reason.
size=$(stat -c %s "$T/good.db")
for cut in 0 7 63 $((size / 2)) $((size - 1)); do
	head -c $cut "$T/good.db" > "$T/cut.db"
	clear_markers
	out=$(guarded "$T/cut.db" "$DLG_FIXTURES/loader" "$T/lib/libgood.so" 2>&1); rc=$?
	check "truncated policy ($cut bytes): refused, no crash" grep -q "^ERR .*dlguard: .*unusable" <<<"$out"
	check "... and nothing ran" not_ran good
done
cp "$T/good.db" "$T/flip.db"
printf 'X' | dd of="$T/flip.db" bs=1 seek=0 conv=notrunc 2>/dev/null
out=$(guarded "$T/flip.db" "$DLG_FIXTURES/loader" "$T/lib/libgood.so" 2>&1)
check "bad magic: refused with a reason" grep -q "unusable.*magic" <<<"$out"

# A corrupt record (rule 1's action set to 7) behind a sound header: the
# preload maps the policy without reading every record, and the decision
# that meets the bad record denies, saying so; the CLI refuses the file.
# (The rule must be one the decision tries: the indexes skip rules whose
# path or dir cannot hold the file.)
printf 'version = 1; default = "deny";\nrules = ( { action = "allow"; dir = "%s"; } );\n' \
	"$T/lib" > "$T/libdir.conf"
"$D" compile "$T/libdir.conf" -o "$T/badrule.db" > /dev/null
rules_off=$(od -An -tu4 -j48 -N4 "$T/badrule.db" | tr -d ' ')   # header: rules offset
printf '\007' | dd of="$T/badrule.db" bs=1 seek="$rules_off" conv=notrunc 2>/dev/null
clear_markers
out=$(guarded "$T/badrule.db" "$DLG_FIXTURES/loader" "$T/lib/libgood.so" 2>&1)
check "corrupt rule record: the load is refused with a reason" grep -q "^ERR .*dlguard: .*rule is corrupt" <<<"$out"
check "... and nothing ran" not_ran good
"$D" verify -p "$T/badrule.db" "$T/lib/libgood.so" > "$T/verify.out" 2>&1
check "... and dlguard verify refuses the file, naming the record" grep -q "rule 1" "$T/verify.out"

# Install: an installed dlguard finds its own preload library.
cmake --install "$DLG_BUILD" --prefix "$T/prefix" > /dev/null
check "install puts dlguard in bin" [ -x "$T/prefix/bin/dlguard" ]
check "install puts the public header" [ -f "$T/prefix/include/dlguard.h" ]
check "install ships the policies" ls "$T/prefix/share/dlguard/policy/system.conf"
clear_markers
err=$(env -u LD_PRELOAD "$T/prefix/bin/dlguard" run -p "$T/good.conf" -- "$DLG_FIXTURES/loader" "$T/lib/libevil.so" 2>&1 >/dev/null)
check "installed dlguard run finds its preload library" grep -q "1 load denied" <<<"$err"
check "... and the library never ran" not_ran evil

finish
