#!/bin/bash
# The system policy (/etc/dlguard/policy.db) and an environment policy
# (DLGUARD_POLICY) must both allow; the environment can only tighten. Run in
# a private mount namespace with an overlay on /etc: the host's /etc is never
# written.
. "$(dirname "$0")/lib.sh"

if ! unshare -m true 2>/dev/null; then
	echo "skip: cannot create a mount namespace here"; exit 0
fi
stage "$T/a" good
stage "$T/b" evil
compile_policy system <<EOF
version = 1; default = "deny";
log = { file = "$T/system.jsonl"; };
rules = ( { action = "allow"; dir = "$SYSLIB"; }, { action = "allow"; dir = "$T/a"; } );
EOF
compile_policy loose <<EOF
version = 1; default = "allow";
rules = ( { action = "allow"; dir = "/"; } );
EOF
compile_policy strict <<EOF
version = 1; default = "deny";
log = { file = "$T/env.jsonl"; };
rules = ( { action = "allow"; dir = "$SYSLIB"; } );
EOF

# in_etc SYSTEM_DB CMD... : run CMD with SYSTEM_DB installed as the system policy
# (SYSWIDE=1: and the guard in /etc/ld.so.preload, as `dlguard install` does)
in_etc() {
	local db=$1; shift
	rm -rf "$T/upper" "$T/work"; mkdir -p "$T/upper/dlguard" "$T/work"
	[ -n "$db" ] && cp "$db" "$T/upper/dlguard/policy.db"
	[ -n "${SYSWIDE:-}" ] && printf '%s\n' "$DLG_PRELOAD" > "$T/upper/ld.so.preload"
	[ -n "${ON_ERROR:-}" ] && printf '%s\n' "$ON_ERROR" > "$T/upper/dlguard/on_error"
	[ -n "${ON_ERROR_OWNER:-}" ] && chown "$ON_ERROR_OWNER" "$T/upper/dlguard/on_error"
	unshare -m bash -c 'mount -t overlay overlay -o lowerdir=/etc,upperdir="$0",workdir="$1" /etc &&
		chown root:root /etc/dlguard/policy.db 2>/dev/null; chmod 644 /etc/dlguard/policy.db 2>/dev/null;
		if [ -n "$2" ]; then chown "$2" /etc/dlguard/policy.db; fi; shift 2; exec "$@"' \
		"$T/upper" "$T/work" "${OWNER:-}" "$@"
}
L=$DLG_FIXTURES/loader

out=$(in_etc "$T/system.db" env LD_PRELOAD=$DLG_PRELOAD "$L" "$T/a/libgood.so" "$T/b/libevil.so")
check "system policy alone: trusted dir loads" grep -q "^OK $T/a/libgood.so" <<<"$out"
check "system policy alone: other dir refused" grep -q "^ERR $T/b/libevil.so: dlguard: " <<<"$out"
check "... never ran" not_ran evil
check "system policy logs to its own file" grep -q '"decision":"deny"' "$T/system.jsonl"

clear_markers
out=$(in_etc "$T/system.db" env LD_PRELOAD=$DLG_PRELOAD DLGUARD_POLICY=$T/loose.db "$L" "$T/b/libevil.so")
check "an environment policy cannot loosen the system policy" grep -q "^ERR $T/b/libevil.so: dlguard: " <<<"$out"
check "... never ran" not_ran evil

out=$(in_etc "$T/system.db" env LD_PRELOAD=$DLG_PRELOAD DLGUARD_POLICY=$T/strict.db "$L" "$T/a/libgood.so")
check "an environment policy can tighten it" grep -q "^ERR $T/a/libgood.so: dlguard: " <<<"$out"
check "... and says which policy decided" grep -q "$T/strict.conf" "$T/env.jsonl"
check "... never ran" not_ran good

clear_markers
out=$(OWNER=65534 in_etc "$T/system.db" env LD_PRELOAD=$DLG_PRELOAD "$L" "$T/a/libgood.so")
check "a system policy not owned by root is not trusted" grep -q "^ERR .*system policy /etc/dlguard/policy.db unusable: not root-owned" <<<"$out"
check "... and nothing ran" not_ran good
out=$(SYSWIDE=1 OWNER=65534 in_etc "$T/system.db" /bin/sh -c 'echo started')
check "... system-wide, processes still start and /bin/sh works" [ "$out" = started ]

head -c 100 "$T/system.db" > "$T/cut.db"
out=$(in_etc "$T/cut.db" env LD_PRELOAD=$DLG_PRELOAD "$L" "$T/a/libgood.so")
check "a truncated system policy is refused with a reason" grep -q "^ERR .*unusable: .*" <<<"$out"
out=$(SYSWIDE=1 in_etc "$T/cut.db" /bin/sh -c 'echo started; '"$L"' '"$T/a/libgood.so")
check "... and, system-wide, processes still start and /bin/sh works" grep -qx started <<<"$out"
check "... while their dlopens are refused" grep -q "^ERR $T/a/libgood.so: .*unusable" <<<"$out"

# Fail-safe: an unusable system policy applies on_error as the last install
# recorded it (/etc/dlguard/on_error, root-owned); anything else means
# deny-dlopen. Processes start either way.
out=$(ON_ERROR=allow in_etc "$T/cut.db" env LD_PRELOAD=$DLG_PRELOAD "$L" "$T/a/libgood.so")
check "unusable system policy with on_error = allow: dlopen goes on" grep -q "^OK $T/a/libgood.so" <<<"$out"
out=$(ON_ERROR=deny-dlopen in_etc "$T/cut.db" env LD_PRELOAD=$DLG_PRELOAD "$L" "$T/a/libgood.so")
check "... with on_error = deny-dlopen: refused" grep -q "^ERR .*unusable" <<<"$out"
out=$(ON_ERROR=allow ON_ERROR_OWNER=65534 in_etc "$T/cut.db" env LD_PRELOAD=$DLG_PRELOAD "$L" "$T/a/libgood.so")
check "... an on_error file not owned by root is ignored (deny-dlopen)" grep -q "^ERR .*unusable" <<<"$out"
out=$(ON_ERROR=allow in_etc "$T/cut.db" env LD_PRELOAD=$DLG_PRELOAD DLGUARD_POLICY=$T/strict.db "$L" "$T/a/libgood.so")
check "... on_error = allow never overrides an environment policy" grep -q "^ERR $T/a/libgood.so: dlguard: " <<<"$out"

# Deleted after the process started, before its first dlopen: the front saw a
# policy at start-up, the engine finds none when it maps it. That is an
# unusable policy, not "no policy": on_error applies, the process goes on.
rmpol=@rm:/etc/dlguard/policy.db
clear_markers
out=$(in_etc "$T/system.db" env LD_PRELOAD=$DLG_PRELOAD "$L" "$rmpol" "$T/a/libgood.so")
check "system policy deleted before the first dlopen: the program ran" grep -q "^RM /etc/dlguard/policy.db" <<<"$out"
check "... the dlopen is refused, naming the policy" \
	grep -q "^ERR $T/a/libgood.so: dlguard: .*system policy /etc/dlguard/policy.db unusable" <<<"$out"
check "... never ran" not_ran good
out=$(ON_ERROR=allow in_etc "$T/system.db" env LD_PRELOAD=$DLG_PRELOAD "$L" "$rmpol" "$T/a/libgood.so")
check "... with on_error = allow: dlopen goes on" grep -q "^OK $T/a/libgood.so" <<<"$out"
cp "$T/strict.db" "$T/gone.db"
clear_markers
out=$(env DLGUARD_POLICY=$T/gone.db LD_PRELOAD=$DLG_PRELOAD timeout 60 "$L" "@rm:$T/gone.db" "$T/a/libgood.so")
check "environment policy deleted before the first dlopen: refused, naming it" \
	grep -q "^ERR $T/a/libgood.so: dlguard: .*environment policy $T/gone.db unusable" <<<"$out"
check "... never ran" not_ran good

# Missing from the start on a machine where `dlguard install` ran (its
# on_error record is there): a missing compiled policy, not "no policy".
clear_markers
out=$(ON_ERROR=deny-dlopen in_etc "" env LD_PRELOAD=$DLG_PRELOAD "$L" "$T/a/libgood.so")
check "installed, compiled policy missing: dlopen refused, naming it" \
	grep -q "^ERR $T/a/libgood.so: dlguard: .*system policy /etc/dlguard/policy.db unusable" <<<"$out"
check "... never ran" not_ran good
out=$(SYSWIDE=1 ON_ERROR=deny-dlopen in_etc "" /bin/sh -c 'echo started')
check "... system-wide, processes still start and /bin/sh works" [ "$out" = started ]
out=$(ON_ERROR=allow in_etc "" env LD_PRELOAD=$DLG_PRELOAD "$L" "$T/a/libgood.so")
check "... with on_error = allow: dlopen goes on" grep -q "^OK $T/a/libgood.so" <<<"$out"

out=$(in_etc "" env LD_PRELOAD=$DLG_PRELOAD "$L" "$T/b/libevil.so")
check "no system policy, no install record, no environment policy: pass-through" grep -q "^OK " <<<"$out"

finish
