#!/bin/bash
# Environment hardening: env.strip removes loader variables for the children
# of a guarded process (the guard's own LD_PRELOAD/LD_AUDIT entry stays, so
# they stay guarded), and env.deny_untrusted_preload names untrusted
# LD_PRELOAD and /etc/ld.so.preload entries at start-up -- and, with
# startup = "kill", stops the process before main.
. "$(dirname "$0")/lib.sh"
L=$DLG_FIXTURES/loader
PRELOAD_DIR=$(dirname "$(readlink -f "$DLG_PRELOAD")")

stage "$T/good" plug
stage "$T/evil" evil
compile_policy strip <<EOF
version = 1; default = "deny";
env = { strip = [ "LD_PRELOAD", "LD_LIBRARY_PATH", "LD_AUDIT", "GCONV_PATH" ]; };
rules = ( { action = "allow"; dir = "$SYSLIB"; }, { action = "allow"; dir = "/usr/bin"; },
          { action = "allow"; dir = "$PRELOAD_DIR"; }, { action = "allow"; dir = "$T/good"; } );
EOF
sed 's/^version = 1;/version = 1; mode = "audit";/' "$T/strip.conf" > "$T/audit.conf"
"$DLG_CLI" compile "$T/audit.conf" -o "$T/audit.db" > "$T/audit.out" 2>&1
check "env.strip in audit mode: a warning" grep -q "warning: env.strip has no effect in audit mode" "$T/audit.out"

# What a child of the guarded shell sees, one variable a line.
show='for v in LD_PRELOAD LD_LIBRARY_PATH LD_AUDIT GCONV_PATH LD_BIND_NOW; do
	printf "%s=[%s]\n" "$v" "$(printenv "$v")"; done; echo "self=[$LD_LIBRARY_PATH]"'
# No timeout(1) in front of the guarded programs here: it would be guarded
# itself, and strip (or be stopped) before them.
env_of() { # env_of POLICY_DB|"" : the variables, as a child of a guarded sh sees them
	DLGUARD_POLICY=$1 LD_PRELOAD="$DLG_PRELOAD $T/good/libplug.so" LD_LIBRARY_PATH=$T/good \
		LD_AUDIT="$DLG_ENGINE:$T/nonexistent-audit.so" GCONV_PATH=$T/gconv LD_BIND_NOW=1 \
		sh -c "$show" 2>/dev/null
}
out=$(env_of "$T/strip.db")
check "stripped for the children: LD_LIBRARY_PATH" grep -qx "LD_LIBRARY_PATH=\[\]" <<<"$out"
check "... GCONV_PATH" grep -qx "GCONV_PATH=\[\]" <<<"$out"
check "... LD_PRELOAD keeps only the guard" grep -qx "LD_PRELOAD=\[$DLG_PRELOAD\]" <<<"$out"
check "... LD_AUDIT keeps only the guard" grep -qx "LD_AUDIT=\[$DLG_ENGINE\]" <<<"$out"
check "... a variable not listed is kept" grep -qx "LD_BIND_NOW=\[1\]" <<<"$out"
check "... and the guarded process's own getenv no longer sees them" grep -qx "self=\[\]" <<<"$out"
out=$(env_of "")
check "without any policy nothing is stripped" grep -qx "LD_LIBRARY_PATH=\[$T/good\]" <<<"$out"
out=$(env_of "$T/audit.db")
check "an audit-mode policy strips nothing" grep -qx "LD_LIBRARY_PATH=\[$T/good\]" <<<"$out"
printf 'garbage' > "$T/garbage.db"
out=$(DLGUARD_POLICY=$T/garbage.db LD_PRELOAD="$DLG_PRELOAD" LD_LIBRARY_PATH=$T/good sh -c "$show")
check "an unusable policy strips nothing" grep -qx "LD_LIBRARY_PATH=\[$T/good\]" <<<"$out"

# The children stay guarded: a grandchild's untrusted dlopen is refused.
clear_markers
out=$(DLGUARD_POLICY=$T/strip.db LD_PRELOAD="$DLG_PRELOAD" sh -c '"$0" "$1"' "$L" "$T/evil/libevil.so" 2>&1)
check "a child of the stripped process is still guarded" grep -q "^ERR $T/evil/libevil.so: dlguard: " <<<"$out"
check "... never ran" not_ran evil

# ld.so read LD_LIBRARY_PATH at start-up and keeps searching it; so does the
# guard (it captured it before the strip), so they still agree.
clear_markers
out=$(DLGUARD_POLICY=$T/strip.db LD_PRELOAD="$DLG_PRELOAD" LD_LIBRARY_PATH=$T/good "$L" libplug.so 2>&1)
check "after the strip the guard still resolves through the start-up LD_LIBRARY_PATH" grep -q "^OK libplug.so $T/good/libplug.so" <<<"$out"

# ---- deny_untrusted_preload -------------------------------------------
preload_policy() { # preload_policy NAME STARTUP DENY_UNTRUSTED_PRELOAD
	compile_policy "$1" <<EOF
version = 1; default = "deny"; startup = "$2";
log = { file = "$T/$1.jsonl"; };
env = { deny_untrusted_preload = $3; };
rules = ( { action = "allow"; dir = "$SYSLIB"; }, { action = "allow"; dir = "$PRELOAD_DIR"; },
          { action = "allow"; dir = "$T/good"; } );
EOF
}
preload_policy pkill kill true
preload_policy plog log true
preload_policy pplain log false

# Listed after the guard: initialised before it, so its constructor has run
# when the guard looks (a preload library cannot prevent that); the process
# still stops before main.
clear_markers
out=$(DLGUARD_POLICY=$T/pkill.db LD_PRELOAD="$DLG_PRELOAD:$T/evil/libevil.so" "$L" --null 2>"$T/err"); rc=$?
check "untrusted LD_PRELOAD entry with kill: stopped with status 126" [ $rc -eq 126 ]
check "... before main" bash -c "! grep -q '^OK' <<<'$out'"
check "... naming the entry on stderr" grep -qx "dlguard: $(readlink -f "$L"): untrusted object $T/evil/libevil.so mapped at start-up (LD_PRELOAD entry $T/evil/libevil.so: no rule matched; default deny); stopping before main" "$T/err"
check "... and in the event" grep -q '"action":"startup".*"decision":"deny","rule":"default","reason":"LD_PRELOAD entry '"$T/evil/libevil.so"': no rule matched' "$T/pkill.jsonl"
check "... (its constructor had run before the guard's)" ran evil
# Listed before the guard: glibc 2.36 initialises it after the guard, so the
# process stops before its constructor runs.
clear_markers
out=$(DLGUARD_POLICY=$T/pkill.db LD_PRELOAD="$T/evil/libevil.so $DLG_PRELOAD" "$L" --null 2>&1); rc=$?
check "listed before the guard: stopped too" bash -c "[ $rc -eq 126 ] && ! grep -q '^OK' <<<'$out'"
check "... before its constructor ran" not_ran evil

out=$(DLGUARD_POLICY=$T/plog.db LD_PRELOAD="$DLG_PRELOAD:$T/evil/libevil.so" "$L" --null 2>&1); rc=$?
check "with startup = log: reported, and the program runs" bash -c "[ $rc -eq 0 ] && grep -q '^OK dlopen(NULL)' <<<'$out'"
check "... as an LD_PRELOAD entry" grep -q '"decision":"would-deny","rule":"default","reason":"LD_PRELOAD entry '"$T/evil/libevil.so"': ' "$T/plog.jsonl"
out=$(DLGUARD_POLICY=$T/pplain.db LD_PRELOAD="$DLG_PRELOAD:$T/evil/libevil.so" "$L" --null 2>&1)
check "without deny_untrusted_preload: judged like any start-up object" grep -q '"action":"startup".*"reason":"no rule matched; default deny"' "$T/pplain.jsonl"
out=$(DLGUARD_POLICY=$T/pkill.db LD_PRELOAD="$DLG_PRELOAD:$T/good/libplug.so" "$L" --null 2>&1); rc=$?
check "a trusted LD_PRELOAD entry does not stop it" bash -c "[ $rc -eq 0 ] && grep -q '^OK dlopen(NULL)' <<<'$out'"

# /etc/ld.so.preload entries, in a private mount namespace with an overlay
# on /etc (the host's /etc is never written).
if unshare -m true 2>/dev/null; then
	with_preload_file() { # with_preload_file CONTENT POLICY_DB CMD...
		local content=$1 db=$2; shift 2
		rm -rf "$T/upper" "$T/work"; mkdir -p "$T/upper" "$T/work"
		printf '%s\n' "$content" > "$T/upper/ld.so.preload"
		unshare -m bash -c 'mount -t overlay overlay -o lowerdir=/etc,upperdir="$0",workdir="$1" /etc &&
			export DLGUARD_POLICY=$2 LD_PRELOAD=$3 && shift 3 && exec "$@"' \
			"$T/upper" "$T/work" "$db" "$DLG_PRELOAD" "$@"
	}
	clear_markers
	out=$(with_preload_file "# dropped here
$T/evil/libevil.so" "$T/plog.db" "$L" --null 2>&1); rc=$?
	check "/etc/ld.so.preload entry: reported as such" grep -q '"reason":"/etc/ld.so.preload entry '"$T/evil/libevil.so"': no rule matched' "$T/plog.jsonl"
	check "... the program runs with startup = log" bash -c "[ $rc -eq 0 ] && grep -q '^OK dlopen(NULL)' <<<'$out'"
	out=$(with_preload_file "$T/evil/libevil.so" "$T/pkill.db" "$L" --null 2>&1); rc=$?
	check "... and is stopped with startup = kill" bash -c "[ $rc -eq 126 ] && grep -q '(/etc/ld.so.preload entry $T/evil/libevil.so: ' <<<'$out'"
fi

finish
