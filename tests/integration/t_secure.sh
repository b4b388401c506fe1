#!/bin/bash
# In AT_SECURE processes (setuid) every DLGUARD_* variable is ignored: a
# setuid program run by an unprivileged user, with the guard in
# /etc/ld.so.preload and a system policy, inside a private mount namespace
# (an overlay on /etc; the host's /etc is never written).
. "$(dirname "$0")/lib.sh"

if ! unshare -m true 2>/dev/null || ! command -v setpriv > /dev/null; then
	echo "skip: needs unshare and setpriv"; exit 0
fi
chmod 755 "$T"
stage "$T/a" good
stage "$T/b" evil
chmod -R a+rX "$T/a" "$T/b"
cp "$DLG_FIXTURES/loader" "$T/suid-loader"
chown root:root "$T/suid-loader"
chmod 4755 "$T/suid-loader"
cp "$DLG_PRELOAD" "$T/libdlguard.so"
cp "$DLG_ENGINE" "$T/libdlguard-engine.so"
chmod 755 "$T/libdlguard.so" "$T/libdlguard-engine.so"
compile_policy system <<EOF
version = 1; default = "deny";
rules = ( { action = "allow"; dir = "$SYSLIB"; }, { action = "allow"; dir = "$T/a"; },
          { action = "allow"; path = "$T/libdlguard.so"; } );
EOF
compile_policy loose <<EOF
version = 1; default = "allow";
rules = ( { action = "allow"; dir = "/"; } );
EOF
compile_policy strict <<EOF
version = 1; default = "deny";
rules = ( { action = "allow"; dir = "$SYSLIB"; } );
EOF
mkdir -p "$T/upper/dlguard" "$T/work"
cp "$T/system.db" "$T/upper/dlguard/policy.db"
echo "$T/libdlguard.so" > "$T/upper/ld.so.preload"

# as_nobody ENV... -- CMD : in the namespace, /etc overlaid, run as uid 65534
as_nobody() {
	unshare -m bash -c 'mount -t overlay overlay -o lowerdir=/etc,upperdir="$0",workdir="$1" /etc &&
		chown -R root:root /etc/dlguard /etc/ld.so.preload && shift &&
		exec setpriv --reuid=65534 --regid=65534 --clear-groups env -- "$@"' "$T/upper" "$T/work" "$@"
}
L=$T/suid-loader
out=$(as_nobody "$L" "$T/a/libgood.so" "$T/b/libevil.so")
check "setuid program under the system policy: trusted loads" grep -q "^OK $T/a/libgood.so" <<<"$out"
check "... untrusted refused" grep -q "^ERR $T/b/libevil.so: dlguard: " <<<"$out"

clear_markers
out=$(as_nobody DLGUARD_POLICY=$T/loose.db "$L" "$T/b/libevil.so")
check "setuid: a loose DLGUARD_POLICY changes nothing" grep -q "^ERR $T/b/libevil.so: dlguard: " <<<"$out"
check "... never ran" not_ran evil

out=$(as_nobody DLGUARD_POLICY=$T/strict.db "$L" "$T/a/libgood.so")
check "setuid: a DLGUARD_POLICY is ignored even when stricter" grep -q "^OK $T/a/libgood.so" <<<"$out"

out=$(as_nobody DLGUARD_RUN_LOG=$T/runlog "$L" "$T/b/libevil.so")
check "setuid: DLGUARD_RUN_LOG is ignored" [ ! -e "$T/runlog" ]

# The same program without the setuid bit does honour the environment.
cp "$DLG_FIXTURES/loader" "$T/plain-loader"; chmod 755 "$T/plain-loader"
out=$(as_nobody DLGUARD_POLICY=$T/strict.db "$T/plain-loader" "$T/a/libgood.so")
check "(control: not setuid, the environment policy applies)" grep -q "^ERR $T/a/libgood.so: dlguard: " <<<"$out"

finish
