# Shared helpers for the integration tests (sourced, bash).
# Every test runs real processes with libdlguard.so really preloaded and
# asserts on fixture marker files: a marker exists iff that library's
# constructor ran.
set -u
: "${DLG_BUILD:?run through ctest}" "${DLG_FIXTURES:?}" "${DLG_PRELOAD:?}" "${DLG_CLI:?}"

T=$(mktemp -d /tmp/dlg-it.XXXXXX)
chmod 755 "$T"
export DLG_MARKER_DIR=$T/markers
mkdir -p "$DLG_MARKER_DIR"
chmod 777 "$DLG_MARKER_DIR"
trap 'rm -rf "$T"' EXIT
PASS=0
FAIL=0

fail() { echo "FAIL: $*" >&2; FAIL=$((FAIL + 1)); }
pass() { echo "ok: $*"; PASS=$((PASS + 1)); }
check() { # check DESCRIPTION COMMAND...
	local what=$1; shift
	if "$@"; then pass "$what"; else fail "$what"; fi
}
ran() { [ -e "$DLG_MARKER_DIR/$1" ]; }
not_ran() { [ ! -e "$DLG_MARKER_DIR/$1" ]; }
clear_markers() { rm -f "$DLG_MARKER_DIR"/*; }

# compile_policy NAME <<EOF ... policy text ... EOF   -> $T/NAME.db
compile_policy() {
	cat > "$T/$1.conf"
	"$DLG_CLI" compile "$T/$1.conf" -o "$T/$1.db" > /dev/null || { fail "compile $1"; return 1; }
}

# guarded POLICY_DB CMD... : run CMD with the guard preloaded under POLICY_DB
guarded() {
	local db=$1; shift
	DLGUARD_POLICY=$db LD_PRELOAD=$DLG_PRELOAD timeout 60 "$@"
}

# A directory of fixture copies, to be trusted or not by each test.
stage() { # stage DIR LIB... : copy fixture libs into DIR
	local dir=$1; shift
	mkdir -p "$dir"
	for l in "$@"; do cp "$DLG_FIXTURES/lib$l.so" "$dir/"; done
}

# The system library directory holding libc, canonical.
SYSLIB=$(dirname "$(readlink -f /lib/x86_64-linux-gnu/libc.so.6)")

# need_strace: ends a test that needs strace, as a skip, where it cannot run
need_strace() {
	if ! command -v strace > /dev/null || ! strace -qq -o /dev/null true 2> /dev/null; then
		echo "skip: strace missing or not permitted"
		finish
		exit
	fi
}

not() { ! "$@"; }

finish() {
	echo "$PASS passed, $FAIL failed"
	[ "$FAIL" -eq 0 ]
}
