#!/bin/bash
# Start-up verdicts: `dlguard compile` records, for each file the policy
# allows in every process, the name ld.so gives it and its stat fingerprint.
# The start-up check, really preloaded, then takes an object whose name is
# recorded and whose stat still matches as allowed: one pread of the policy
# and one stat, no open, no /proc, no mapping of the policy. Anything else
# (another name, a changed file, a policy without the table) is decided in
# full, as before. The records need directories only root can write, so
# the fixtures live under /run, not /tmp.
. "$(dirname "$0")/lib.sh"

need_strace

D=$(mktemp -d /run/dlg-sv.XXXXXX)
chmod 755 "$D"
trap 'rm -rf "$T" "$D"' EXIT
cp "$DLG_FIXTURES/libgood.so" "$D/libgood.so"
ln -s libgood.so "$D/link.so"
good=$(sha256sum "$D/libgood.so" | cut -d' ' -f1)

policy() { # policy NAME [COMPILE OPTION]
	cat > "$T/$1.conf" <<EOF
version = 1; default = "deny";
log = { file = "$T/$1.jsonl"; };
rules = ( { action = "allow"; dir = "$SYSLIB"; }, { action = "allow"; dir = "/usr/lib"; },
          { action = "allow"; path = "$D/libgood.so"; sha256 = "$good"; } );
EOF
	"$DLG_CLI" compile ${2:-} "$T/$1.conf" -o "$T/$1.db" > "$T/$1.out"
}
policy p
policy nofp --no-fingerprints
check "compile records start-up verdicts" grep -Eq "recorded [1-9][0-9]* start-up verdicts" "$T/p.out"
check "--no-fingerprints: none" not grep -q "start-up verdicts" "$T/nofp.out"

# dlguard status: the verdicts, all current
mkdir -p "$T/root/etc/dlguard"
cp "$T/p.db" "$T/root/etc/dlguard/policy.db"
n=$(grep -Eo "recorded [0-9]+ start-up verdicts" "$T/p.out" | grep -Eo "[0-9]+")
check "status: the verdicts, all current" \
	grep -q "^start-up: $n verdicts, $n current; 1 fingerprints$" <("$DLG_CLI" status --root "$T/root")

# run NAME DB PRELOADED_NAME : /bin/true with the guard and one more
# preloaded object, traced into $T/NAME.trace; the policy's log (emptied
# first) is kept as $T/NAME.log
run() {
	local rc log=${2%.db}.jsonl
	: > "$log"
	strace -f -qq -o "$T/$1.trace" -e trace=openat,readlink,pread64,mmap,newfstatat \
		-E "LD_PRELOAD=$DLG_PRELOAD $3" -E "DLGUARD_POLICY=$2" timeout 60 /bin/true
	rc=$?
	cp "$log" "$T/$1.log"
	return $rc
}
# the guard's own opens carry O_NONBLOCK (ld.so's do not)
guard_opened() { grep -q "openat(AT_FDCWD, \"$2\", O_RDONLY|O_NOCTTY|O_NONBLOCK" "$T/$1.trace"; }
named() { grep -q 'readlink("/proc/self/fd/' "$T/$1.trace"; }
policy_mapped() { grep -Eq "mmap\(NULL, $(stat -c %s "$3"), PROT_READ, MAP_PRIVATE, " "$T/$1.trace"; }
engine_loaded() { grep -q 'openat(AT_FDCWD, "[^"]*/libdlguard-engine.so", O_RDONLY|O_CLOEXEC) = [0-9]' "$T/$1.trace"; }
startup_event() { [ -f "$T/$1.log" ] && grep -q "\"action\":\"startup\".*$2" "$T/$1.log"; }

clear_markers
check "recorded: the program runs" run fast "$T/p.db" "$D/libgood.so"
check "recorded: the preloaded object ran (before the check, as ever)" ran good
check "recorded: not reported" not startup_event fast libgood
check "recorded: the guard opened neither libc nor the object" \
	bash -c "! grep -q 'O_RDONLY|O_NOCTTY|O_NONBLOCK|O_CLOEXEC) = [0-9]' <(grep -v '$T/p.db' '$T/fast.trace')"
check "recorded: nothing named through /proc" not named fast
check "recorded: the policy read by pread, never mapped" \
	bash -c "grep -q pread64 '$T/fast.trace' && ! grep -Eq 'mmap\(NULL, $(stat -c %s "$T/p.db"), PROT_READ, MAP_PRIVATE' '$T/fast.trace'"
check "recorded: the object's name was stat'ed" grep -q "newfstatat(AT_FDCWD, \"$D/libgood.so\"" "$T/fast.trace"
check "recorded: the guard's engine was never loaded (the front decided)" \
	not engine_loaded fast
interp=$(readelf -lW /bin/true | sed -n 's/.*Requesting program interpreter: \(.*\)]/\1/p')
check "recorded: the program interpreter ($interp) is not judged, not even stat'ed" \
	bash -c "[ -n '$interp' ] && ! grep -q 'newfstatat(AT_FDCWD, \"$interp\"' '$T/fast.trace'"

# Pages: on a VM a page's first touch costs 10-20 us, the price of a dozen
# system calls, so the check must touch no page a start without a policy
# does not (its code shares the start-up text's pages, its state the data
# page ld.so writes anyway; no libc function or constant used for nothing
# else). Counted without address randomisation, so that both runs lay out
# alike, and with an environment of the same size.
faults() { # faults VAR min|max : of three starts of /bin/true, guard preloaded, VAR=p.db
	for _ in 1 2 3; do
		LD_PRELOAD=$DLG_PRELOAD env "$1=$T/p.db" setarch "$(uname -m)" -R \
			"$DLG_FIXTURES/faults" /bin/true
	done | sort -n | if [ "$2" = min ]; then head -1; else tail -1; fi
}
if setarch "$(uname -m)" -R true 2> /dev/null; then
	with=$(faults DLGUARD_POLICY min) without=$(faults DLGUARD_POLICX max)
	check "recorded: no page touched beyond a start without a policy ($with <= $without faults)" \
		[ "$with" -le "$without" ]
else
	echo "skip: setarch -R not permitted (start-up page faults)"
fi

# Without the table: the same run opens, names and decides each object, so
# the checks above can tell the two apart.
clear_markers
check "no table: the program runs" run slow "$T/nofp.db" "$D/libgood.so"
check "no table: not reported either" not startup_event slow libgood
check "no table: the object opened by the guard" guard_opened slow "$D/libgood.so"
check "no table: named through /proc" named slow
check "no table: the policy mapped" policy_mapped slow x "$T/nofp.db"
check "no table: the front loaded the engine to decide" engine_loaded slow

# A dlopen of an object already loaded, by path or by SONAME, is answered by
# the front (lib/preload/loaded.c): the engine is loaded only for a dlopen
# that needs a decision.
trace_loader() { # trace_loader NAME ARGS... : the loader fixture under p.db
	local name=$1; shift
	strace -f -qq -o "$T/$name.trace" -e trace=openat -E "LD_PRELOAD=$DLG_PRELOAD" \
		-E "DLGUARD_POLICY=$T/p.db" timeout 60 "$DLG_FIXTURES/loader" "$@" > "$T/$name.out"
}
libc_name=$("$DLG_FIXTURES/loader" libc.so.6 | awk '{print $3}')  # the name ld.so gave it
check "already loaded: both dlopens succeed ($libc_name, libc.so.6)" \
	trace_loader loaded "$libc_name" libc.so.6
check "already loaded: the engine was never loaded" not engine_loaded loaded
check "a new object: its dlopen succeeds" trace_loader fresh "$D/libgood.so"
check "a new object: the front loaded the engine to decide" engine_loaded fresh

# `dlguard run` compiles a policy text as `dlguard compile` does: the
# processes it starts are decided at start-up by the front alone.
# (strace runs under dlguard run, not around it: a sanitizer build of the
# CLI cannot run under ptrace.)
run_cli() { # run_cli NAME [RUN OPTION]
	"$DLG_CLI" run -p "$T/p.conf" ${2:-} -- strace -f -qq -o "$T/$1.trace" -e trace=openat \
		/bin/true
}
check "dlguard run: the program runs" run_cli runfp
check "... its start-up decided without the engine" not engine_loaded runfp
check "dlguard run --no-fingerprints: the program runs" run_cli runnofp --no-fingerprints
check "... the engine loaded to decide its start-up" engine_loaded runnofp

# Another name for the same file: recorded names are exact, so this one is
# decided in full (and allowed by its canonical path).
check "a symlink name: the program runs" run link "$T/p.db" "$D/link.so"
check "a symlink name: decided in full" guard_opened link "$D/link.so"
check "a symlink name: allowed" not startup_event link libgood

# Rewritten in place, same size, other bytes: the fingerprint (ctime) no
# longer matches, the file is hashed and reported.
python3 -I -c '
import sys
with open(sys.argv[1], "rb") as s, open(sys.argv[2], "r+b") as d:
    d.write(s.read())' "$DLG_FIXTURES/libevil.so" "$D/libgood.so"
check "status: one verdict stale after the rewrite" \
	grep -q "^start-up: $n verdicts, $((n - 1)) current (1 changed since compile: recompile to refresh)" \
	<("$DLG_CLI" status --root "$T/root")
check "rewritten: same size" [ "$(stat -c %s "$D/libgood.so")" = "$(stat -c %s "$DLG_FIXTURES/libgood.so")" ]
clear_markers
run changed "$T/p.db" "$D/libgood.so"
check "rewritten: decided in full" guard_opened changed "$D/libgood.so"
check "rewritten: reported as untrusted at start-up" \
	grep -q "\"action\":\"startup\".*\"decision\":\"would-deny\".*$D/libgood.so" "$T/changed.log"
check "rewritten: the verdicts of untouched objects still taken (libc not opened)" \
	not guard_opened changed /lib/x86_64-linux-gnu/libc.so.6

# A dlopen after start-up maps the policy then, and is decided as ever.
clear_markers
out=$(DLGUARD_POLICY=$T/p.db LD_PRELOAD=$DLG_PRELOAD timeout 60 "$DLG_FIXTURES/loader" "$D/libgood.so")
check "dlopen after a fast start: the rewritten file refused" grep -q "^ERR $D/libgood.so: .*dlguard" <<<"$out"
check "dlopen after a fast start: its code never ran" not_ran evil

finish
