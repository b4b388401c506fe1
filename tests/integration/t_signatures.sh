#!/bin/bash
# signed_by and signed manifests, really preloaded. For each key type a
# library signed (with the openssl CLI's own commands) by the trusted key
# loads; signed by another key of the policy, by a key outside it, modified
# after signing, with a truncated signature, with none, with a FIFO or a
# 10 MB file as its signature: each is refused before its constructor runs,
# quickly, and the event names the cause (dll.code_signature.*,
# dlguard.key). Manifests: a valid one allows what it lists; an edit after
# compilation grants nothing; the right content under another path is
# refused; one signed by an untrusted key fails `dlguard compile` with
# FILE:LINE.
. "$(dirname "$0")/lib.sh"
D=$DLG_CLI

if ! command -v openssl > /dev/null; then
	fail "the openssl CLI is missing: apt-get install openssl"
	finish
	exit 1
fi

TYPES="ed25519 ecdsa ecdsa-p384 rsa rsa-pss"
mkdir -p "$T/keys"
for k in $TYPES; do "$D" keygen --type "$k" -o "$T/keys/$k" > /dev/null || fail "keygen $k"; done
"$D" keygen --type ecdsa -o "$T/keys/other" > /dev/null || fail "keygen other"
"$D" keygen --type ed25519 -o "$T/keys/stranger" > /dev/null || fail "keygen stranger"

# ossl_sign KEYNAME FILE [SIG]: the commands sig.h documents (no dlguard tool)
ossl_sign() {
	local key=$T/keys/$1 file=$2 sig=${3:-$2.sig}
	case $1 in
	ed25519|stranger) openssl pkeyutl -sign -rawin -inkey "$key" -in "$file" -out "$sig" ;;
	rsa-pss) openssl dgst -sha256 -sign "$key" -sigopt rsa_padding_mode:pss -out "$sig" "$file" ;;
	*) openssl dgst -sha256 -sign "$key" -out "$sig" "$file" ;;
	esac
}

# case_lib DIR NAME: a copy of the marker library "good"
case_lib() { mkdir -p "$1"; cp "$DLG_FIXTURES/libgood.so" "$1/$2"; }

for t in $TYPES; do
	d=$T/$t
	case_lib "$d" trusted.so;   ossl_sign "$t" "$d/trusted.so"
	case_lib "$d" other.so;     ossl_sign other "$d/other.so"
	case_lib "$d" stranger.so;  ossl_sign stranger "$d/stranger.so"
	case_lib "$d" modified.so;  ossl_sign "$t" "$d/modified.so"; printf 'x' >> "$d/modified.so"
	case_lib "$d" truncated.so; ossl_sign "$t" "$d/truncated.so"
	truncate -s $(( $(stat -c %s "$d/truncated.so.sig") / 2 )) "$d/truncated.so.sig"
	case_lib "$d" unsigned.so
	case_lib "$d" fifo.so;      mkfifo "$d/fifo.so.sig"
	case_lib "$d" huge.so;      truncate -s 10M "$d/huge.so.sig"
done
# RSA keys also accept PSS signatures; dlguard sign's output loads too
case_lib "$T/rsa" pss-padded.so
openssl dgst -sha256 -sign "$T/keys/rsa" -sigopt rsa_padding_mode:pss -out "$T/rsa/pss-padded.so.sig" "$T/rsa/pss-padded.so"
case_lib "$T/ed25519" dlguard-signed.so
"$D" sign --key "$T/keys/ed25519" "$T/ed25519/dlguard-signed.so" > /dev/null || fail "dlguard sign"

{
	echo "version = 1; default = \"deny\";"
	echo "log = { file = \"$T/events.jsonl\"; syslog = false; };"
	echo "keys = ("
	for t in $TYPES; do echo "  { name = \"k-$t\"; public_key = \"$T/keys/$t.pub\"; },"; done
	echo "  { name = \"other\"; public_key = \"$T/keys/other.pub\"; }"
	echo ");"
	echo "rules = ("
	for t in $TYPES; do echo "  { action = \"allow\"; dir = \"$T/$t\"; signed_by = \"k-$t\"; },"; done
	echo "  { action = \"allow\"; dir = \"$T/elsewhere\"; signed_by = \"other\"; }"
	echo ");"
} | compile_policy sig

# expect ALLOW|DENY LIB: loads (marker) or is refused (no marker), in time
expect() {
	local want=$1 lib=$2 start end
	clear_markers
	start=$(date +%s)
	guarded "$T/sig.db" "$DLG_FIXTURES/loader" "$lib" > "$T/out" 2>&1
	end=$(date +%s)
	if [ "$want" = ALLOW ]; then
		check "$lib: loads" ran good
	else
		check "$lib: refused, constructor never ran" not_ran good
		check "$lib: dlerror names dlguard" grep -q "dlguard: $lib: " "$T/out"
	fi
	check "$lib: decided within 10 s" [ $((end - start)) -lt 10 ]
}

for t in $TYPES; do
	expect ALLOW "$T/$t/trusted.so"
	for c in other stranger modified truncated unsigned fifo huge; do
		expect DENY "$T/$t/$c.so"
	done
done
expect ALLOW "$T/rsa/pss-padded.so"
expect ALLOW "$T/ed25519/dlguard-signed.so"

python3 - "$T/events.jsonl" "$T" "$TYPES" <<'EOF' && pass "events carry code_signature and key" || fail "events carry code_signature and key"
import json, sys
path, T, types = sys.argv[1], sys.argv[2], sys.argv[3].split()
ev = {}
for l in open(path):
    e = json.loads(l)
    ev[e["dll"]["path"]] = e
want = {
    "trusted":   ("allow", True,  True,  True,  "trusted", "k-{t}"),
    "other":     ("deny",  True,  True,  False, "untrusted key", "other"),
    "stranger":  ("deny",  True,  False, False, "invalid", None),
    "modified":  ("deny",  True,  False, False, "invalid", None),
    "truncated": ("deny",  True,  False, False, "invalid", None),
    "unsigned":  ("deny",  False, False, False, "missing", None),
    "fifo":      ("deny",  True,  False, False, "unreadable", None),
    "huge":      ("deny",  True,  False, False, "unreadable", None),
}
for t in types:
    for case, (decision, exists, valid, trusted, status, key) in want.items():
        p = "%s/%s/%s.so" % (T, t, case)
        e = ev[p]
        cs = e["dll"]["code_signature"]
        got = (e["dlguard"]["decision"], cs["exists"], cs["valid"], cs["trusted"], cs["status"])
        assert got == (decision, exists, valid, trusted, status), (p, got, e)
        k = key.format(t=t) if key else None
        assert e["dlguard"].get("key") == k, (p, e["dlguard"])
        assert cs.get("signing_id") == k, (p, cs)
        if decision == "deny":
            r = e["dlguard"]["reason"]
            assert e["dlguard"]["rule"] == "default", (p, r)
            assert r.startswith("no rule matched; default deny (signature: "), (p, r)
            if case == "unsigned":
                assert r == "no rule matched; default deny (signature: missing %s.sig)" % p, r
        else:
            assert e["dlguard"]["reason"].endswith(" signed by k-%s" % t), e["dlguard"]["reason"]
for name, key in (("rsa/pss-padded", "k-rsa"), ("ed25519/dlguard-signed", "k-ed25519")):
    e = ev["%s/%s.so" % (T, name)]
    assert e["dlguard"]["decision"] == "allow" and e["dlguard"]["key"] == key, e
EOF

# Signatures in a separate directory: <dir><canonical path>.sig
mkdir -p "$T/sigdir$T/plug"
case_lib "$T/plug" in-dir.so
ossl_sign ed25519 "$T/plug/in-dir.so" "$T/sigdir$T/plug/in-dir.so.sig"
compile_policy sigdir <<EOF
version = 1; default = "deny";
keys = ( { name = "vendor"; public_key = "$T/keys/ed25519.pub"; } );
signatures = { dir = "$T/sigdir"; };
rules = ( { action = "allow"; dir = "$T/plug"; signed_by = "vendor"; } );
EOF
clear_markers
guarded "$T/sigdir.db" "$DLG_FIXTURES/loader" "$T/plug/in-dir.so" > /dev/null 2>&1
check "a signature in signatures.dir is found" ran good

# dlguard verify: the same decisions, the evidence printed; exit 0/1
out=$("$D" verify -p "$T/sig.conf" "$T/ed25519/trusted.so"); rc=$?
check "verify: a trusted library exits 0" [ $rc -eq 0 ]
check "verify: names the key" grep -q "signature: trusted (exists yes, valid yes, trusted yes), key k-ed25519" <<<"$out"
out=$("$D" verify -p "$T/sig.db" "$T/ed25519/trusted.so" "$T/rsa/other.so"); rc=$?
check "verify: any denied file exits 1" [ $rc -eq 1 ]
check "verify: says why" grep -q "signature: untrusted key (exists yes, valid yes, trusted no), key other" <<<"$out"
"$D" verify -p "$T/sig.db" > /dev/null 2>&1
check "verify: no file is a usage error" [ $? -eq 2 ]

# ---- manifests -------------------------------------------------------------
mkdir -p "$T/mf/listed" "$T/mf/unlisted"
cp "$DLG_FIXTURES/libgood.so" "$T/mf/listed/"
cp "$DLG_FIXTURES/libgood.so" "$T/mf/unlisted/"      # same content, another path
cp "$DLG_FIXTURES/libevil.so" "$T/mf/unlisted/"
ln -s ../unlisted "$T/mf/listed/link"                 # never followed by the walk
out=$("$D" manifest --key "$T/keys/ed25519" -o "$T/app.sha256" "$T/mf/listed")
check "manifest: one file listed (symlinked dir not followed)" [ "$(wc -l < "$T/app.sha256")" -eq 1 ]
check "manifest: canonical absolute paths" grep -q "  $T/mf/listed/libgood.so\$" "$T/app.sha256"
check "manifest: sha256sum -c accepts it" sha256sum --quiet -c "$T/app.sha256"
check "manifest: signed, openssl verifies" openssl pkeyutl -verify -rawin -pubin \
	-inkey "$T/keys/ed25519.pub" -in "$T/app.sha256" -sigfile "$T/app.sha256.sig"
compile_policy mf <<EOF
version = 1; default = "deny";
log = { file = "$T/mf-events.jsonl"; syslog = false; };
keys = ( { name = "vendor"; public_key = "$T/keys/ed25519.pub"; },
         { name = "other"; public_key = "$T/keys/other.pub"; } );
rules = ( { action = "allow"; manifest = "$T/app.sha256"; signed_by = "vendor"; },
          { action = "allow"; dir = "/nonexistent"; signed_by = "other"; } );
EOF
clear_markers
guarded "$T/mf.db" "$DLG_FIXTURES/loader" "$T/mf/listed/libgood.so" > /dev/null 2>&1
check "manifest: a listed library loads" ran good
clear_markers
guarded "$T/mf.db" "$DLG_FIXTURES/loader" "$T/mf/unlisted/libgood.so" > /dev/null 2>&1
check "manifest: the same content under another path is refused" not_ran good

# Edited after compilation: add the evil library. The compiled policy keeps
# the verified copy, so the edit grants nothing (and cannot be recompiled
# without a new signature).
printf '%s  %s\n' "$(sha256sum < "$T/mf/unlisted/libevil.so" | cut -d' ' -f1)" \
	"$T/mf/unlisted/libevil.so" >> "$T/app.sha256"
clear_markers
guarded "$T/mf.db" "$DLG_FIXTURES/loader" "$T/mf/unlisted/libevil.so" > /dev/null 2>&1
check "manifest edited after compile: the added library is refused" not_ran evil
guarded "$T/mf.db" "$DLG_FIXTURES/loader" "$T/mf/listed/libgood.so" > /dev/null 2>&1
check "manifest edited after compile: the compiled entries still apply" ran good
out=$("$D" verify -p "$T/mf.db" "$T/mf/unlisted/libevil.so")
check "verify reports the manifest changed on disk" grep -q "on disk: CHANGED since compilation" <<<"$out"
"$D" compile "$T/mf.conf" -o "$T/mf2.db" > /dev/null 2> "$T/err"
check "recompiling the edited manifest fails" [ $? -eq 1 ]
check "... with the rule's FILE:LINE" grep -q "^$T/mf.conf:5: error: rule 1: manifest .* its signature does not verify with key \"vendor\"" "$T/err"

python3 - "$T/mf-events.jsonl" "$T" <<'EOF' && pass "manifest events" || fail "manifest events"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
T = sys.argv[2]
ok = [e for e in ev if e["dll"]["path"] == T + "/mf/listed/libgood.so"][0]
assert ok["dlguard"]["decision"] == "allow" and ok["dlguard"]["key"] == "vendor", ok
assert ok["dll"]["code_signature"]["status"] == "trusted", ok
other = [e for e in ev if e["dll"]["path"] == T + "/mf/unlisted/libgood.so"][0]
assert other["dll"]["code_signature"]["status"] == "not listed", other
assert other["dlguard"]["reason"] == "no rule matched; default deny (manifest: not listed in %s/app.sha256)" % T, other
EOF

# A manifest signed by a key of the policy that the rule does not trust,
# and by a key outside the policy: compile fails, FILE:LINE of the rule.
"$D" manifest --key "$T/keys/other" -o "$T/bad.sha256" "$T/mf/listed" > /dev/null
cat > "$T/bad.conf" <<EOF
version = 1; default = "deny";
keys = ( { name = "vendor"; public_key = "$T/keys/ed25519.pub"; },
         { name = "other"; public_key = "$T/keys/other.pub"; } );
rules = ( { action = "allow"; dir = "/nonexistent"; signed_by = "other"; },
  { action = "allow"; manifest = "$T/bad.sha256"; signed_by = "vendor"; } );
EOF
"$D" compile "$T/bad.conf" -o "$T/bad.db" > /dev/null 2> "$T/err"
check "untrusted manifest signer: compile fails" [ $? -eq 1 ]
check "... at the rule's line, naming the key" grep -q "^$T/bad.conf:5: error: rule 2: manifest \"$T/bad.sha256\" is signed by key \"other\", which this rule does not trust" "$T/err"
check "... and writes nothing" [ ! -e "$T/bad.db" ]
"$D" manifest --key "$T/keys/stranger" -o "$T/bad.sha256" "$T/mf/listed" > /dev/null
"$D" check "$T/bad.conf" > /dev/null 2> "$T/err"
check "stranger's manifest: check fails" [ $? -eq 1 ]
check "... does not verify with the rule's key" grep -q "^$T/bad.conf:5: error: .*its signature does not verify with key \"vendor\"" "$T/err"

finish
