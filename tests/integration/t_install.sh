#!/bin/bash
# System-wide mode for real: dlguard install / uninstall / status, inside a
# private mount namespace with an overlay on /etc (the host's /etc is never
# written), and with --root on a scratch tree.
. "$(dirname "$0")/lib.sh"

if ! unshare -m true 2>/dev/null; then
	echo "skip: cannot create a mount namespace here"; exit 0
fi
D=$DLG_CLI
stage "$T/untrusted" evil

# --root on a scratch tree: idempotence, foreign entries kept.
R=$T/root
mkdir -p "$R/etc/dlguard"
cat > "$R/etc/dlguard/policy.conf" <<EOF
version = 1; default = "deny";
rules = ( { action = "allow"; dir = "$SYSLIB"; }, { action = "allow"; dir = "$DLG_BUILD"; } );
EOF
printf '/opt/other/libfoo.so  /opt/bar/libbar.so\n' > "$R/etc/ld.so.preload"
lib=$(readlink -f "$DLG_PRELOAD")
"$D" install --root "$R" > /dev/null
check "install compiles the policy" [ -f "$R/etc/dlguard/policy.db" ]
check "... root-owned, not writable by others" [ "$(stat -c '%u %a' "$R/etc/dlguard/policy.db")" = "0 644" ]
check "install adds the library to ld.so.preload" grep -qx "$lib" "$R/etc/ld.so.preload"
check "... and keeps the foreign entries" bash -c "grep -qx /opt/other/libfoo.so '$R/etc/ld.so.preload' && grep -qx /opt/bar/libbar.so '$R/etc/ld.so.preload'"
check "install records on_error beside the policy (default deny-dlopen)" [ "$(cat "$R/etc/dlguard/on_error")" = deny-dlopen ]
"$D" install --root "$R" > /dev/null
check "install is idempotent" [ "$(grep -cx "$lib" "$R/etc/ld.so.preload")" = 1 ]
out=$("$D" status --root "$R")
check "status says installed, policy and mode" bash -c "grep -q '^preload:  installed' <<<'$out' && grep -q '^mode:     enforce' <<<'$out' && grep -q '2 rules' <<<'$out'"
"$D" uninstall --root "$R" > /dev/null
check "uninstall removes only its own line" [ "$(cat "$R/etc/ld.so.preload")" = "$(printf '/opt/other/libfoo.so\n/opt/bar/libbar.so')" ]
out=$("$D" status --root "$R")
check "status says not installed" grep -q '^preload:  not installed' <<<"$out"

# on_error = "allow" is kept for the day the policy becomes unusable.
sed 's/^version = 1;/version = 1; on_error = "allow";/' "$R/etc/dlguard/policy.conf" > "$T/allow-on-error.conf"
"$D" install --root "$R" --policy "$T/allow-on-error.conf" > /dev/null
check "install records on_error = allow" [ "$(cat "$R/etc/dlguard/on_error")" = allow ]
check "... and status shows it" grep -q "^on_error: allow" <<<"$("$D" status --root "$R")"
# status says what the guard does when the compiled policy is gone: with
# install's record, on_error; without one, nothing is applied.
mv "$R/etc/dlguard/policy.db" "$T/kept.db"
out=$("$D" status --root "$R")
check "status, compiled policy missing: unusable, on_error = allow applies" \
	bash -c 'grep -q "^policy: .*unusable" <<<"$1" && grep -q "^on_error: allow: the system policy is not applied" <<<"$1"' _ "$out"
echo deny-dlopen > "$R/etc/dlguard/on_error"
check "... on_error = deny-dlopen: every guarded dlopen refused" \
	grep -q "^on_error: deny-dlopen: every guarded dlopen is refused" <<<"$("$D" status --root "$R")"
mv "$R/etc/dlguard/on_error" "$T/kept.on_error"
check "... and without install's record: none, passed through" \
	grep -q "^policy:   none (.*no record of dlguard install)" <<<"$("$D" status --root "$R")"
mv "$T/kept.db" "$R/etc/dlguard/policy.db"; mv "$T/kept.on_error" "$R/etc/dlguard/on_error"
"$D" install --root "$R" > /dev/null
"$D" uninstall --root "$R" > /dev/null

# A policy that would break dlopen is refused by the pre-flight.
cat > "$T/broken.conf" <<EOF
version = 1; default = "deny";
EOF
cp "$R/etc/dlguard/policy.db" "$T/before.db"
"$D" install --root "$R" --policy "$T/broken.conf" > "$T/pf.out" 2>&1
check "pre-flight refuses a policy under which dlopen fails" [ $? -ne 0 ]
check "... saying why" grep -q "pre-flight failed" "$T/pf.out"
check "... and leaves the installed policy as it was" cmp -s "$T/before.db" "$R/etc/dlguard/policy.db"
check "... and ld.so.preload untouched" bash -c "! grep -qx '$lib' '$R/etc/ld.so.preload'"

# For real: install into / inside the namespace; every process there now
# runs under the guard -- the CLI too. In the sanitizer build the CLI is
# ASan-instrumented, and /etc/ld.so.preload puts the guard before the ASan
# runtime, which ASan refuses unless told the order is intended.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0
mkdir -p "$T/upper/dlguard" "$T/work"
cp "$R/etc/dlguard/policy.conf" "$T/upper/dlguard/policy.conf"
in_ns() {
	unshare -m bash -c 'mount -t overlay overlay -o lowerdir=/etc,upperdir="$0",workdir="$1" /etc && shift && eval "$@"' \
		"$T/upper" "$T/work" "$@"
}
out=$(in_ns "'$D' install > /dev/null && /bin/sh -c 'echo shell-ok' && '$DLG_FIXTURES/loader' '$T/untrusted/libevil.so' '$SYSLIB/libz.so.1'; '$D' status")
check "installed system-wide: /bin/sh still works" grep -q "^shell-ok" <<<"$out"
check "... an untrusted dlopen is refused in an ordinary process" grep -q "^ERR $T/untrusted/libevil.so: dlguard: " <<<"$out"
check "... a trusted one works" grep -q "^OK $SYSLIB/libz.so.1" <<<"$out"
check "... and never ran" not_ran evil
check "... status reports it" grep -q "^preload:  installed" <<<"$out"
check "the host's /etc was not touched" bash -c "! grep -qs dlguard /etc/ld.so.preload && [ ! -e /etc/dlguard/policy.db ]"
out=$(in_ns "'$D' uninstall > /dev/null && '$DLG_FIXTURES/loader' '$T/untrusted/libevil.so'")
check "after uninstall: pass-through again" grep -q "^OK $T/untrusted/libevil.so" <<<"$out"

finish
