#!/bin/bash
# Odd files never hang or crash the host: FIFO, /dev/zero, a directory, a
# symlink loop, an unreadable file, a path longer than PATH_MAX, a file
# truncated while being hashed. Each gets a clear error.
. "$(dirname "$0")/lib.sh"

odd=$T/odd
mkdir -p "$odd/dir.so"
mkfifo "$odd/fifo.so"
ln -s loop-b.so "$odd/loop-a.so"
ln -s loop-a.so "$odd/loop-b.so"
cp "$DLG_FIXTURES/libgood.so" "$odd/secret.so"
chmod 000 "$odd/secret.so"
printf 'not an ELF file\n' > "$odd/text.so"
long=$odd$(printf '/%0250d' $(seq 1 20))/lib.so

for mode in enforce audit; do
	compile_policy $mode <<EOF
version = 1; mode = "$mode"; default = "allow";
rules = ( { action = "deny"; dir = "/nonexistent"; } );
EOF
done

# odd NAME PATTERN [runner...] : the load fails with PATTERN, in bounded time, no crash
odd() {
	local name=$1 pattern=$2 db=$3; shift 3
	local out rc
	out=$("$@" env DLGUARD_POLICY="$db" LD_PRELOAD="$DLG_PRELOAD" timeout 20 "$DLG_FIXTURES/loader" "$name" 2>&1)
	rc=$?
	if [ $rc -eq 124 ]; then fail "$name: hung"; return; fi
	if [ $rc -gt 100 ]; then fail "$name: crashed (status $rc)"; echo "$out" >&2; return; fi
	if grep -q "^ERR .*$pattern" <<<"$out"; then pass "${name:0:60} ($(basename "$db")): $pattern"
	else fail "$name: expected $pattern"; echo "$out" >&2; fi
}

for db in "$T/enforce.db" "$T/audit.db"; do
	odd "$odd/fifo.so" "dlguard: $odd/fifo.so: a FIFO" "$db"
	odd /dev/zero "dlguard: /dev/zero: a character device" "$db"
	odd "$odd/dir.so" "dlguard: $odd/dir.so: a directory" "$db"
	odd "$odd/loop-a.so" "Too many levels of symbolic links" "$db"
	odd "$odd/text.so" "dlguard: $odd/text.so: file too short" "$db"
	odd "$long" "File name too long\|No such file" "$db"
	odd "$odd/secret.so" "Permission denied" "$db" setpriv --reuid=65534 --regid=65534 --clear-groups
done

# Odd files as the environment policy (read at start-up without fstat, by
# the header's word for its size): the program starts and runs, in bounded
# time, and a dlopen under the unusable policy is refused (deny-dlopen).
stage "$T/plain" good
head -c 300 "$T/enforce.db" > "$odd/short.db"
head -c 100 "$T/enforce.db" > "$odd/tiny.db"
for pol in "$odd/fifo.so" /dev/zero "$odd/dir.so" "$odd/loop-a.so" "$odd/text.so" \
	   "$odd/short.db" "$odd/tiny.db"; do
	clear_markers
	out=$(DLGUARD_POLICY=$pol LD_PRELOAD=$DLG_PRELOAD timeout 20 "$DLG_FIXTURES/loader" --null \
		"$T/plain/libgood.so" 2>&1); rc=$?
	check "policy $(basename "$pol"): no hang, no crash (status $rc)" [ $rc -lt 100 ]
	check "... the program ran" grep -q "^OK dlopen(NULL)" <<<"$out"
	check "... the dlopen refused, never ran" \
		bash -c "grep -q '^ERR $T/plain/libgood.so' <<<'$out' && [ ! -e '$DLG_MARKER_DIR/good' ]"
done

# Without any policy the guard still never blocks on a FIFO.
out=$(LD_PRELOAD=$DLG_PRELOAD timeout 20 "$DLG_FIXTURES/loader" "$odd/fifo.so" 2>&1); rc=$?
check "no policy: FIFO does not hang" [ $rc -ne 124 ]

# A file truncated and restored while it is being hashed: every load either
# sees the trusted content or is refused, and the host never crashes.
big=$T/big
mkdir -p "$big"
cp "$DLG_FIXTURES/libgood.so" "$big/lib.so"
truncate -s 64M "$big/lib.so"
cp "$big/lib.so" "$big/pristine"
sum=$(sha256sum "$big/lib.so" | cut -d' ' -f1)
compile_policy hashed <<EOF
version = 1; default = "deny";
rules = ( { action = "allow"; dir = "$SYSLIB"; },
          { action = "allow"; path = "$big/lib.so"; sha256 = "$sum"; } );
EOF
( end=$((SECONDS + 8)); while [ $SECONDS -lt $end ]; do
	truncate -s 1M "$big/lib.so"; truncate -s 64M "$big/lib.so"
	cat "$big/pristine" > "$big/lib.so"; done ) &
churn=$!
crashes=0; loads=0; refusals=0
for i in $(seq 1 15); do
	out=$(guarded "$T/hashed.db" "$DLG_FIXTURES/loader" "$big/lib.so" 2>&1); rc=$?
	[ $rc -gt 100 ] && crashes=$((crashes + 1))
	grep -q '^OK' <<<"$out" && loads=$((loads + 1))
	grep -q '^ERR.*dlguard' <<<"$out" && refusals=$((refusals + 1))
done
wait $churn
check "truncation while hashing never crashes the host ($loads loads, $refusals refusals)" [ $crashes -eq 0 ]
check "every attempt ended in a load or a clean refusal" [ $((loads + refusals)) -eq 15 ]

finish
