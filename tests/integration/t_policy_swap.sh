#!/bin/bash
# A policy update is atomic for running and new processes: with the system
# policy replaced over and over (dlguard compile writes a temp file and
# renames it) while 100 processes start, every process sees either the old
# or the new policy, never a half-written one. Private mount namespace with
# an overlay on /etc.
. "$(dirname "$0")/lib.sh"

if ! unshare -m true 2>/dev/null; then
	echo "skip: cannot create a mount namespace here"; exit 0
fi
stage "$T/lib" good
cat > "$T/allow.conf" <<EOF
version = 1; default = "deny";
rules = ( { action = "allow"; dir = "$SYSLIB"; }, { action = "allow"; dir = "$T/lib"; } );
EOF
cat > "$T/deny.conf" <<EOF
version = 1; default = "deny";
rules = ( { action = "allow"; dir = "$SYSLIB"; }, { action = "deny"; dir = "$T/lib"; } );
EOF
mkdir -p "$T/upper/dlguard" "$T/work" "$T/results"
unshare -m bash -c '
	T=$0
	mount -t overlay overlay -o lowerdir=/etc,upperdir="$T/upper",workdir="$T/work" /etc || exit 1
	"$DLG_CLI" compile "$T/allow.conf" -o /etc/dlguard/policy.db > /dev/null
	( end=$((SECONDS + 6)); while [ $SECONDS -lt $end ]; do
		"$DLG_CLI" compile "$T/deny.conf" -o /etc/dlguard/policy.db > /dev/null
		"$DLG_CLI" compile "$T/allow.conf" -o /etc/dlguard/policy.db > /dev/null
	done ) & swapper=$!
	for i in $(seq 1 100); do
		LD_PRELOAD="$DLG_PRELOAD" "$DLG_FIXTURES/loader" "$T/lib/libgood.so" > "$T/results/$i" 2>&1 &
		[ $((i % 10)) = 0 ] && wait $(jobs -p | grep -v "^$swapper\$") 2>/dev/null
	done
	wait' "$T"
total=$(ls "$T/results" | wc -l)
allowed=$(grep -l "^OK $T/lib/libgood.so" "$T/results"/* | wc -l)
denied=$(grep -l "^ERR .*dlguard: $T/lib/libgood.so: rule 2" "$T/results"/* | wc -l)
other=$(grep -L "^OK \|^ERR .*: rule 2" "$T/results"/* | wc -l)
check "100 processes started ($allowed saw the allowing policy, $denied the denying one)" [ "$total" = 100 ]
check "every process saw one whole policy, none a torn or unusable one" [ "$other" = 0 ]
[ "$other" = 0 ] || cat $(grep -L "^OK \|^ERR .*: rule 2" "$T/results"/* | head -3) >&2

finish
