#!/bin/bash
# Every decision is one JSON line with ECS names; concurrent processes never
# interleave lines; denials reach stderr when the policy asks.
. "$(dirname "$0")/lib.sh"

stage "$T/ok" good
stage "$T/bad" evil
sum=$(sha256sum "$T/ok/libgood.so" | cut -d' ' -f1)
compile_policy p <<EOF
version = 1; default = "deny";
log = { file = "$T/events.jsonl"; stderr = true; };
rules = ( { action = "allow"; dir = "$SYSLIB"; },
          { action = "deny"; dir = "$T/bad"; },
          { action = "allow"; path = "$T/ok/libgood.so"; sha256 = "$sum"; } );
EOF
err=$(guarded "$T/p.db" "$DLG_FIXTURES/loader" "$T/ok/libgood.so" "$T/bad/libevil.so" 2>&1 >/dev/null)
check "denial reported on stderr when log.stderr = true" grep -q "^dlguard: deny $T/bad/libevil.so" <<<"$err"

# Hostile names stay valid JSON.
mkdir -p "$T/bad/we\"ird"$'\n'"dir"
cp "$T/bad/libevil.so" "$T/bad/we\"ird"$'\n'"dir/lib"$'\x01\xff'".so"
guarded "$T/p.db" "$DLG_FIXTURES/loader" "$T/bad/we\"ird"$'\n'"dir/lib"$'\x01\xff'".so" > /dev/null 2>&1

python3 - "$T/events.jsonl" "$T" "$sum" <<'EOF' && pass "event fields" || fail "event fields"
import json, sys
path, T, digest = sys.argv[1:4]
ev = [json.loads(l) for l in open(path)]
allow = [e for e in ev if e["dll"]["path"] == T + "/ok/libgood.so"][0]
deny = [e for e in ev if e["dll"]["path"] == T + "/bad/libevil.so"][0]
for e in (allow, deny):
    for k in ("@timestamp",):
        assert k in e, k
    assert e["event"]["action"] == "dlopen"
    assert e["process"]["pid"] > 0 and e["process"]["executable"].endswith("/loader")
    assert e["dlguard"]["requested"] and e["dlguard"]["reason"]
assert allow["dlguard"]["decision"] == "allow" and allow["dlguard"]["rule"] == "3", allow
assert allow["dll"]["hash"]["sha256"] == digest
assert allow["dll"]["name"] == "libgood.so"
assert deny["dlguard"]["decision"] == "deny" and deny["dlguard"]["rule"] == "2", deny
assert "hash" not in deny["dll"], "no hash computed for a dir rule"
EOF

# 16 processes x 25 denials at once: every line parses.
: > "$T/events.jsonl"
names=$(for i in $(seq 1 25); do printf '%s ' "$T/bad/libevil.so"; done)
for p in $(seq 1 16); do guarded "$T/p.db" "$DLG_FIXTURES/loader" $names > /dev/null 2>&1 & done
wait
python3 - "$T/events.jsonl" <<'EOF' && pass "concurrent lines never interleave" || fail "concurrent lines never interleave"
import json, sys
lines = open(sys.argv[1], "rb").read().split(b"\n")[:-1]
assert len(lines) == 16 * 25, len(lines)
for l in lines:
    json.loads(l)
EOF
check "no library in the denied dir ever ran" not_ran evil

finish
