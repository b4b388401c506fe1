#!/bin/bash
# dlguard keygen and sign: keys never overwritten, private key 0600; what
# `dlguard sign` writes verifies with the openssl CLI's own commands (the
# formats of sig.h), next to the file or mirrored under --sig-dir; odd files
# are refused without hanging. (openssl-made signatures verified by dlguard:
# tests/unit/test_sig.c.)
. "$(dirname "$0")/lib.sh"
D=$DLG_CLI

if ! command -v openssl > /dev/null; then
	fail "the openssl CLI is missing: apt-get install openssl"
	finish
	exit 1
fi

mode() { stat -c %a "$1"; }
stage "$T/lib" good evil

for t in ed25519 ecdsa ecdsa-p384 rsa rsa-pss; do
	k=$T/keys/$t
	mkdir -p "$T/keys"
	( umask 077; "$D" keygen --type "$t" -o "$k" > /dev/null )
	check "keygen $t: exit 0" [ $? -eq 0 ]
	check "keygen $t: private key 0600" [ "$(mode "$k")" = 600 ]
	check "keygen $t: public key 0644 (whatever the umask)" [ "$(mode "$k.pub")" = 644 ]
	check "keygen $t: PKCS#8 private key" grep -q "^-----BEGIN PRIVATE KEY-----" "$k"
	check "keygen $t: SPKI public key" grep -q "^-----BEGIN PUBLIC KEY-----" "$k.pub"

	cp "$T/lib/libgood.so" "$T/lib/$t.so"
	out=$("$D" sign --key "$k" "$T/lib/$t.so")
	check "sign $t: one line per file" [ "$(wc -l <<<"$out")" -eq 1 ]
	check "sign $t: .sig is 0644" [ "$(mode "$T/lib/$t.so.sig")" = 644 ]
	case $t in
	ed25519)
		openssl pkeyutl -verify -rawin -pubin -inkey "$k.pub" -in "$T/lib/$t.so" \
			-sigfile "$T/lib/$t.so.sig" > /dev/null ;;
	rsa-pss)
		openssl dgst -sha256 -sigopt rsa_padding_mode:pss -verify "$k.pub" \
			-signature "$T/lib/$t.so.sig" "$T/lib/$t.so" > /dev/null ;;
	*)
		openssl dgst -sha256 -verify "$k.pub" -signature "$T/lib/$t.so.sig" \
			"$T/lib/$t.so" > /dev/null ;;
	esac
	check "sign $t: openssl verifies dlguard's signature" [ $? -eq 0 ]
	# the other way round would be the same command: a forged file fails
	printf 'x' >> "$T/lib/$t.so"
	if [ "$t" = ed25519 ]; then
		openssl pkeyutl -verify -rawin -pubin -inkey "$k.pub" -in "$T/lib/$t.so" \
			-sigfile "$T/lib/$t.so.sig" > /dev/null 2>&1
	else
		openssl dgst -sha256 -verify "$k.pub" -signature "$T/lib/$t.so.sig" \
			"$T/lib/$t.so" > /dev/null 2>&1
	fi
	check "sign $t: openssl rejects it for a modified file" [ $? -ne 0 ]
done

# keygen never overwrites either half of a pair
k=$T/keys/ed25519
before=$(sha256sum "$k" "$k.pub")
err=$("$D" keygen -o "$k" 2>&1); rc=$?
check "keygen refuses an existing key (exit 1)" [ $rc -eq 1 ]
check "... naming the file" grep -q "$k: already exists" <<<"$err"
check "... leaving it untouched" [ "$before" = "$(sha256sum "$k" "$k.pub")" ]
: > "$T/keys/lonely.pub"
"$D" keygen -o "$T/keys/lonely" > /dev/null 2>&1
check "keygen refuses when only NAME.pub exists" [ $? -eq 1 ]
check "... and leaves no private key behind" [ ! -e "$T/keys/lonely" ]
ln -s "$T/nowhere" "$T/keys/link"
"$D" keygen -o "$T/keys/link" > /dev/null 2>&1
rc=$?
check "keygen refuses a planted symlink" [ $rc -eq 1 ]
check "... and does not create its target" [ ! -e "$T/nowhere" ]
"$D" keygen --type dsa -o "$T/keys/dsa" > /dev/null 2>&1
check "keygen: unknown type is a usage error" [ $? -eq 2 ]
"$D" keygen > /dev/null 2>&1
check "keygen without -o is a usage error" [ $? -eq 2 ]

# --sig-dir mirrors the canonical path; a symlink is signed as its target
k=$T/keys/ecdsa
ln -s libgood.so "$T/lib/link.so"
"$D" sign --key "$k" --sig-dir "$T/sigs" "$T/lib/link.so" > /dev/null
canon=$(readlink -f "$T/lib/libgood.so")
check "sign --sig-dir: DIR/<canonical path>.sig" [ -f "$T/sigs$canon.sig" ]
check "... directories 0755" [ "$(mode "$(dirname "$T/sigs$canon.sig")")" = 755 ]
check "... nothing next to the link" [ ! -e "$T/lib/link.so.sig" ]
check "... nothing next to the file" [ ! -e "$T/lib/libgood.so.sig" ]
check "... openssl verifies it" openssl dgst -sha256 -verify "$k.pub" \
	-signature "$T/sigs$canon.sig" "$T/lib/libgood.so"
"$D" sign --key "$k" "$T/lib/link.so" > /dev/null
check "sign via a symlink: the .sig is next to the target" [ -f "$T/lib/libgood.so.sig" ]
check "... not next to the link" [ ! -e "$T/lib/link.so.sig" ]
"$D" sign --key "$k" "$T/lib/libgood.so" > /dev/null
check "re-signing replaces the .sig" [ $? -eq 0 ]
check "... leaving no temporary file" [ -z "$(find "$T/lib" -name '.libgood.so.sig.*')" ]

# odd inputs: refused, never a hang, the other files still signed
mkfifo "$T/lib/fifo.so"
out=$(timeout 20 "$D" sign --key "$k" "$T/lib/fifo.so" "$T/lib" "$T/lib/missing.so" \
	"$T/lib/libevil.so" 2>"$T/err"); rc=$?
check "sign: odd files exit 1, no hang" [ $rc -eq 1 ]
check "... FIFO refused" grep -q "fifo.so: not a regular file" "$T/err"
check "... missing file named" grep -q "missing.so: No such file" "$T/err"
check "... the regular file still signed" [ -f "$T/lib/libevil.so.sig" ]
err=$("$D" sign --key "$k.pub" "$T/lib/libevil.so" 2>&1); rc=$?
check "sign with a public key: exit 1" [ $rc -eq 1 ]
check "... saying why" grep -q "this is a public key" <<<"$err"
"$D" sign "$T/lib/libevil.so" > /dev/null 2>&1
check "sign without --key is a usage error" [ $? -eq 2 ]
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out "$T/keys/weak" 2>/dev/null
err=$("$D" sign --key "$T/keys/weak" "$T/lib/libevil.so" 2>&1)
check "sign with a weak key: refused" grep -q "too weak" <<<"$err"

finish
