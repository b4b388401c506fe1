#!/bin/bash
# Risk conditions (fileless, writable, owner, fs, recent) and startup = "kill",
# with real processes: each refused library never ran (marker files), each
# control copy of it did.
. "$(dirname "$0")/lib.sh"
L=$DLG_FIXTURES/loader
M=$DLG_FIXTURES/mapper
PRELOAD_DIR=$(dirname "$(readlink -f "$DLG_PRELOAD")")

# A directory whose parents only root can write (the build tree, normally),
# for "not writable" controls. $T is under /tmp, which others can write.
S=$DLG_BUILD/tests/integration/risk.$$
mkdir -p "$S"
chmod 755 "$S"
trap 'rm -rf "$T" "$S"' EXIT
chain_safe() { # chain_safe DIR: DIR and every parent root's, not group/other-writable
	local d
	d=$(readlink -f "$1")
	while :; do
		[ "$(stat -c %u "$d")" = 0 ] || return 1
		[ $(( 0$(stat -c %a "$d") & 022 )) -eq 0 ] || return 1
		[ "$d" = / ] && return 0
		d=$(dirname "$d")
	done
}
SAFE=yes
chain_safe "$S" || { SAFE=; echo "skip: $S has a parent others can write: 'not writable' controls are not run"; }

# refused DESCRIPTION REASON CMD... : the load is refused with REASON in the
# message, and the evil marker library never ran.
refused() {
	local what=$1 reason=$2 out; shift 2
	clear_markers
	out=$("$@" 2>&1)
	if grep -q "^ERR .*dlguard: .*$reason" <<<"$out" && not_ran evil; then pass "$what"; else
		fail "$what"; echo "$out" >&2; fi
}
# loaded DESCRIPTION CMD... : the load succeeds and the library ran.
loaded() {
	local what=$1 out; shift
	clear_markers
	out=$("$@" 2>&1)
	if grep -q "^OK " <<<"$out" && ran evil; then pass "$what"; else
		fail "$what"; echo "$out" >&2; fi
}

# ---- fileless: memfd, deleted, /dev/shm --------------------------------
compile_policy fileless <<EOF
version = 1; default = "deny";
log = { file = "$T/fileless.jsonl"; };
rules = ( { action = "deny"; fileless = true; }, { action = "allow"; dir = "/"; } );
EOF
mkdir -p "$S/lib"
cp "$DLG_FIXTURES/libevil.so" "$S/lib/"
loaded "(control: the library loads from disk)" guarded "$T/fileless.db" "$L" "$S/lib/libevil.so"
refused "memfd load refused" "fileless (memfd)" guarded "$T/fileless.db" "$M" memfd "$S/lib/libevil.so"
SHM=$(mktemp /dev/shm/dlg-risk.XXXXXX)
cp "$DLG_FIXTURES/libevil.so" "$SHM"
refused "/dev/shm load refused" "fileless (/dev/shm)" guarded "$T/fileless.db" "$L" "$SHM"
rm -f "$SHM"
cp "$DLG_FIXTURES/libevil.so" "$S/gone.so"
refused "deleted file (through an inherited descriptor) refused" "fileless (deleted)" \
	bash -c 'exec 3< "$0"; rm -f "$0"; DLGUARD_POLICY=$1 LD_PRELOAD=$2 exec "$3" /proc/self/fd/3' \
	"$S/gone.so" "$T/fileless.db" "$DLG_PRELOAD" "$L"
check "... the event names the rule" grep -q '"reason":"rule 1 (line 3): deny fileless (deleted)"' "$T/fileless.jsonl"

# ---- writable: the file or a directory above it ------------------------
compile_policy writable <<EOF
version = 1; default = "deny";
rules = ( { action = "deny"; writable = true; }, { action = "allow"; dir = "/"; } );
EOF
mkdir -p "$S/w777" "$S/nobody" "$S/ok"
chmod 777 "$S/w777"
chown 65534 "$S/nobody"
for d in w777 nobody ok; do cp "$DLG_FIXTURES/libevil.so" "$S/$d/"; done
cp "$DLG_FIXTURES/libevil.so" "$T/libevil.so"
refused "library in a world-writable directory refused" "writable ($S/w777 is writable by group and others)" \
	guarded "$T/writable.db" "$L" "$S/w777/libevil.so"
refused "library in a directory another user owns refused" "writable ($S/nobody is owned by uid 65534)" \
	guarded "$T/writable.db" "$L" "$S/nobody/libevil.so"
refused "library under /tmp (sticky, world-writable) refused" "writable (/tmp is writable by group and others (sticky))" \
	guarded "$T/writable.db" "$L" "$T/libevil.so"
chmod 666 "$S/ok/libevil.so"
refused "library writable by others refused" "writable (the file is writable by group and others)" \
	guarded "$T/writable.db" "$L" "$S/ok/libevil.so"
chmod 644 "$S/ok/libevil.so"
[ -n "$SAFE" ] && loaded "(control: a library only root can replace loads)" guarded "$T/writable.db" "$L" "$S/ok/libevil.so"

# ---- owner --------------------------------------------------------------
compile_policy owner <<EOF
version = 1; default = "deny";
rules = ( { action = "deny"; owner = ( "nobody", 4242 ); }, { action = "allow"; dir = "/"; } );
EOF
mkdir -p "$S/own"
cp "$DLG_FIXTURES/libevil.so" "$S/own/"
loaded "(control: root's library loads)" guarded "$T/owner.db" "$L" "$S/own/libevil.so"
chown nobody "$S/own/libevil.so"
refused "library owned by a listed user refused" "deny owner uid 65534" guarded "$T/owner.db" "$L" "$S/own/libevil.so"
chown 4242 "$S/own/libevil.so"
refused "... by a listed uid" "deny owner uid 4242" guarded "$T/owner.db" "$L" "$S/own/libevil.so"
out=$(printf 'version = 1; default = "deny";\nrules = ( { action = "deny"; owner = "dlg-no-such-user"; } );\n' > "$T/nouser.conf"; "$DLG_CLI" check "$T/nouser.conf" 2>&1)
check "an unknown user name is a compile-time error" grep -q 'nouser.conf:2: error: rule 1: owner "dlg-no-such-user": no such user' <<<"$out"

# ---- fs: the statfs type of the file ------------------------------------
compile_policy fs <<EOF
version = 1; default = "deny";
rules = ( { action = "deny"; fs = [ "tmpfs", "nfs" ]; }, { action = "allow"; dir = "/"; } );
EOF
loaded "(control: the build tree is not tmpfs)" guarded "$T/fs.db" "$L" "$S/lib/libevil.so"
SHM=$(mktemp /dev/shm/dlg-risk.XXXXXX)
cp "$DLG_FIXTURES/libevil.so" "$SHM"
refused "library on tmpfs refused" "deny fs tmpfs" guarded "$T/fs.db" "$L" "$SHM"
rm -f "$SHM"
if unshare -m true 2>/dev/null; then
	mkdir -p "$S/mnt"
	clear_markers
	out=$(unshare -m bash -c 'mount -t tmpfs -o mode=755 tmpfs "$0" && cp "$1" "$0/" &&
		DLGUARD_POLICY=$2 LD_PRELOAD=$3 exec "$4" "$0/libevil.so"' \
		"$S/mnt" "$DLG_FIXTURES/libevil.so" "$T/fs.db" "$DLG_PRELOAD" "$L" 2>&1)
	check "a tmpfs mounted anywhere is refused by type, not by path" grep -q "^ERR .*deny fs tmpfs" <<<"$out"
	check "... never ran" not_ran evil
fi

# ---- recent: the change time, which touch cannot set back ---------------
compile_policy recent <<EOF
version = 1; default = "deny";
rules = ( { action = "deny"; recent = 5; }, { action = "allow"; dir = "/"; } );
EOF
mkdir -p "$S/old" "$S/new"
cp "$DLG_FIXTURES/libevil.so" "$S/old/"
sleep 6
cp "$DLG_FIXTURES/libevil.so" "$S/new/"
touch -d 2001-01-01 "$S/new/libevil.so"
refused "a just-dropped library is refused, even with an old mtime" "deny recent (changed [0-4] s ago)" \
	guarded "$T/recent.db" "$L" "$S/new/libevil.so"
loaded "(control: a library changed 6 s ago loads)" guarded "$T/recent.db" "$L" "$S/old/libevil.so"

# ---- startup = "kill" ---------------------------------------------------
mkdir -p "$T/app/bin" "$T/app/lib"
cp "$DLG_FIXTURES/needs_evil" "$T/app/bin/"
cp "$DLG_FIXTURES/libevil.so" "$T/app/lib/"
startup_policy() { # startup_policy NAME STARTUP MODE [EXTRA RULE]
	compile_policy "$1" <<EOF
version = 1; default = "deny"; startup = "$2"; mode = "$3";
log = { file = "$T/$1.jsonl"; };
rules = ( ${4:-} { action = "allow"; dir = "$SYSLIB"; }, { action = "allow"; dir = "$PRELOAD_DIR"; } );
EOF
}
startup_policy kill kill enforce
startup_policy log log enforce
startup_policy killaudit kill audit
startup_policy killtrust kill enforce "{ action = \"allow\"; dir = \"$T/app/lib\"; },"
"$DLG_CLI" check "$T/killaudit.conf" > "$T/killaudit.out" 2>&1
check "startup = kill in audit mode: a warning" grep -q 'warning: startup = "kill" has no effect in audit mode' "$T/killaudit.out"

clear_markers
out=$(guarded "$T/kill.db" "$T/app/bin/needs_evil" 2>"$T/err"); rc=$?
check "kill: an untrusted DT_NEEDED stops the process with status 126" [ $rc -eq 126 ]
check "... main never ran" bash -c "! grep -q 'main ran' <<<'$out'"
check "... one clear line on stderr" grep -qx "dlguard: $T/app/bin/needs_evil: untrusted object $T/app/lib/libevil.so mapped at start-up (no rule matched; default deny); stopping before main" "$T/err"
check "... logged first, as a denial at start-up" grep -q '"action":"startup".*"decision":"deny"' "$T/kill.jsonl"
check "... (its constructor had run: it was initialised before the guard)" ran evil

out=$(guarded "$T/log.db" "$T/app/bin/needs_evil" 2>&1); rc=$?
check "log: main runs" bash -c "[ $rc -eq 0 ] && grep -q 'main ran' <<<'$out'"
check "... the object is logged as would-deny" grep -q '"action":"startup".*"decision":"would-deny"' "$T/log.jsonl"
out=$(guarded "$T/killaudit.db" "$T/app/bin/needs_evil" 2>&1); rc=$?
check "kill in an audit-mode policy never stops a process" bash -c "[ $rc -eq 0 ] && grep -q 'main ran' <<<'$out'"
out=$(guarded "$T/killtrust.db" "$T/app/bin/needs_evil" 2>&1); rc=$?
check "kill: a trusted start-up object does not stop it" bash -c "[ $rc -eq 0 ] && grep -q 'main ran' <<<'$out'"
printf 'garbage' > "$T/garbage.db"
out=$(guarded "$T/garbage.db" "$T/app/bin/needs_evil" 2>&1); rc=$?
check "an unusable policy never stops a process" bash -c "[ $rc -eq 0 ] && grep -q 'main ran' <<<'$out'"

# A risk rule at start-up: a library preloaded from /dev/shm.
compile_policy killshm <<EOF
version = 1; default = "deny"; startup = "kill";
rules = ( { action = "deny"; fileless = true; }, { action = "allow"; dir = "/"; } );
EOF
SHM=$(mktemp /dev/shm/dlg-risk.XXXXXX)
cp "$DLG_FIXTURES/libgood.so" "$SHM"
out=$(DLGUARD_POLICY=$T/killshm.db LD_PRELOAD="$DLG_PRELOAD:$SHM" "$L" --null 2>&1); rc=$?
rm -f "$SHM"
check "kill: a preloaded /dev/shm library stops the process" bash -c "[ $rc -eq 126 ] && ! grep -q '^OK' <<<'$out'"
check "... naming the rule" grep -q "untrusted object $SHM mapped at start-up (rule 1 (line 2): deny fileless (/dev/shm)); stopping before main" <<<"$out"

# Both policies: a kill from either one stops the process.
if unshare -m true 2>/dev/null; then
	in_etc() { # in_etc SYSTEM_DB CMD... : CMD with SYSTEM_DB as the system policy
		local db=$1; shift
		rm -rf "$T/upper" "$T/work"; mkdir -p "$T/upper/dlguard" "$T/work"
		cp "$db" "$T/upper/dlguard/policy.db"
		unshare -m bash -c 'mount -t overlay overlay -o lowerdir=/etc,upperdir="$0",workdir="$1" /etc &&
			chown root:root /etc/dlguard/policy.db && chmod 644 /etc/dlguard/policy.db && shift &&
			exec "$@"' "$T/upper" "$T/work" "$@"
	}
	out=$(in_etc "$T/log.db" env DLGUARD_POLICY="$T/kill.db" LD_PRELOAD="$DLG_PRELOAD" "$T/app/bin/needs_evil" 2>&1); rc=$?
	check "system policy log, environment policy kill: stopped" bash -c "[ $rc -eq 126 ] && ! grep -q 'main ran' <<<'$out'"
	out=$(in_etc "$T/kill.db" env DLGUARD_POLICY="$T/killtrust.db" LD_PRELOAD="$DLG_PRELOAD" "$T/app/bin/needs_evil" 2>&1); rc=$?
	check "system policy kill, environment policy trusting it: still stopped" bash -c "[ $rc -eq 126 ] && ! grep -q 'main ran' <<<'$out'"
	out=$(in_etc "$T/killaudit.db" env DLGUARD_POLICY="$T/log.db" LD_PRELOAD="$DLG_PRELOAD" "$T/app/bin/needs_evil" 2>&1); rc=$?
	check "system policy kill in audit mode, environment policy log: runs" bash -c "[ $rc -eq 0 ] && grep -q 'main ran' <<<'$out'"
fi

finish
