#!/bin/bash
# A host process that uses its own OpenSSL, from several threads, while the
# guard verifies signatures and digests with libcrypto: no deadlock, both
# decisions right, and the host's OpenSSL state (its error queue, its
# digests) untouched.
. "$(dirname "$0")/lib.sh"

mkdir -p "$T/lib"
for i in 1 2 3 4; do cp "$DLG_FIXTURES/libgood.so" "$T/lib/libsigned$i.so"; done
for i in 1 2; do cp "$DLG_FIXTURES/libevil.so" "$T/lib/libforged$i.so"; done
"$DLG_CLI" keygen -o "$T/vendor" > /dev/null
"$DLG_CLI" keygen -o "$T/other" > /dev/null
"$DLG_CLI" sign --key "$T/vendor" "$T"/lib/libsigned*.so > /dev/null
"$DLG_CLI" sign --key "$T/other" "$T"/lib/libforged*.so > /dev/null
sum=$(sha256sum "$T/lib/libsigned1.so" | cut -d' ' -f1)
compile_policy p <<EOF
version = 1; default = "deny";
keys = ( { name = "vendor"; public_key = "$T/vendor.pub"; } );
rules = ( { action = "allow"; dir = "$SYSLIB"; },
          { action = "allow"; path = "$T/lib/libsigned1.so"; sha256 = "$sum"; },
          { action = "allow"; dir = "$T/lib"; signed_by = "vendor"; } );
EOF
for round in 1 2 3; do
	clear_markers
	out=$(guarded "$T/p.db" "$DLG_FIXTURES/crypto_host" "$T"/lib/libsigned{1,2,3,4}.so "$T"/lib/libforged{1,2}.so 2>&1); rc=$?
	check "round $round: finished (no deadlock)" [ $rc -ne 124 ]
	check "round $round: the signed libraries loaded" [ "$(grep -c '^OK .*libsigned' <<<"$out")" = 4 ]
	check "round $round: the forged ones were refused" [ "$(grep -c '^ERR .*libforged' <<<"$out")" = 2 ]
	check "round $round: and never ran" not_ran evil
	check "round $round: the host's OpenSSL state is intact" grep -q "^host openssl intact" <<<"$out"
done

finish
