#!/bin/bash
# Denials (and would-denials) reach syslog when the policy asks, as one
# datagram to /dev/log with facility authpriv; allows do not. A private mount
# namespace puts a test socket at /dev/log.
. "$(dirname "$0")/lib.sh"

if ! unshare -m true 2>/dev/null; then
	echo "skip: cannot create a mount namespace here"; exit 0
fi
stage "$T/ok" good
stage "$T/bad" evil
compile_policy p <<EOF
version = 1; default = "deny";
log = { syslog = true; };
rules = ( { action = "allow"; dir = "$SYSLIB"; }, { action = "allow"; dir = "$T/ok"; } );
EOF
cat > "$T/listen.py" <<'EOF'
import os, socket, sys
path, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
os.chmod(path, 0o666)
open(out + ".ready", "w").close()
s.settimeout(10)
with open(out, "wb") as f:
    try:
        while True:
            f.write(s.recv(4096) + b"\n"); f.flush()
    except socket.timeout:
        pass
EOF
# with_syslog LOG OUT POLICY LIB... : the loader under POLICY, its output in
# OUT, in a private mount namespace: a tmpfs over /dev with the few nodes
# needed, and a listening socket as /dev/log whose datagrams go to LOG.
with_syslog() {
	unshare -m bash -c '
		T=$0 log=$1 out=$2 db=$3; shift 3
		mount -t tmpfs tmpfs /dev && mknod -m 666 /dev/null c 1 3 &&
		mknod -m 666 /dev/zero c 1 5 && mknod -m 666 /dev/urandom c 1 9 || exit 1
		python3 "$T/listen.py" /dev/log "$log" & pid=$!
		for i in $(seq 50); do [ -e "$log.ready" ] && break; sleep 0.1; done
		DLGUARD_POLICY=$db LD_PRELOAD="$DLG_PRELOAD" "$DLG_FIXTURES/loader" "$@" > "$out" 2>&1
		sleep 0.5; kill $pid' "$T" "$@"
}
with_syslog "$T/syslog.out" "$T/out" "$T/p.db" "$T/ok/libgood.so" "$T/bad/libevil.so"
check "the denial reached syslog" grep -q "^<84>dlguard\[[0-9]*\]: deny $T/bad/libevil.so" "$T/syslog.out"
check "... with the rule and reason" grep -q "by default: no rule matched; default deny" "$T/syslog.out"
check "allowed loads are not sent to syslog" bash -c "! grep -q libgood '$T/syslog.out'"
check "... and nothing was written to the program's stderr" bash -c "! grep -q '^dlguard' '$T/out'"

# An unusable policy is reported once per process, however many dlopens it
# refuses (issue 5's fail-safe: "logs once per process at most").
head -c 100 "$T/p.db" > "$T/cut.db"
stage "$T/ok2" plug
with_syslog "$T/syslog2.out" "$T/out2" "$T/cut.db" "$T/ok/libgood.so" "$T/bad/libevil.so" \
	"$T/ok2/libplug.so"
check "unusable policy: every dlopen refused" [ "$(grep -c "^ERR .*environment policy $T/cut.db unusable" "$T/out2")" = 3 ]
check "... reported to syslog exactly once" [ "$(grep -c . "$T/syslog2.out")" = 1 ]
check "... naming the policy and why" grep -q "environment policy $T/cut.db unusable (.*); denying dlopen in pid" "$T/syslog2.out"
check "... and nothing on the program's stderr" bash -c "! grep -q '^dlguard' '$T/out2'"

finish
