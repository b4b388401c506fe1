#!/bin/bash
# Stat fingerprints: `dlguard compile` records (dev, ino, size, mtime,
# ctime) of each file pinned by path and sha256 beside its digest; the guard,
# really preloaded, trusts a file whose fstat still matches without reading
# it, and hashes any other. What tells the two apart under strace: hashing
# reads the whole file in one pread64 (it is smaller than the 256 KiB hash
# chunk) and loads libcrypto, which the loader fixture never needs itself.
. "$(dirname "$0")/lib.sh"

need_strace

mkdir -p "$T/lib"
cp "$DLG_FIXTURES/libgood.so" "$T/lib/libx.so"
lib=$(readlink -f "$T/lib/libx.so")
good=$(sha256sum "$lib" | cut -d' ' -f1)
size=$(stat -c %s "$lib")
check "the fixtures have one size (a same-size rewrite is possible)" \
	[ "$(stat -c %s "$DLG_FIXTURES/libevil.so")" = "$size" ]
cat > "$T/p.conf" <<EOF
version = 1; default = "deny";
rules = ( { action = "allow"; dir = "$SYSLIB"; }, { action = "allow"; dir = "/usr/lib"; },
          { action = "allow"; path = "$lib"; sha256 = "$good"; } );
EOF
# The file was just copied: compile waits until its ctime is 2 s old, then
# reads it again (the racy-timestamp wait), and fingerprints it.
out=$("$DLG_CLI" compile "$T/p.conf" -o "$T/p.db")
check "compile fingerprints the pinned file" grep -q "fingerprinted 1 of 1 pinned files" <<<"$out"
check "compile returned 2 s after the file's ctime at the earliest" \
	[ "$(date +%s)" -ge $(($(stat -c %Z "$lib") + 2)) ]
"$DLG_CLI" compile --no-fingerprints "$T/p.conf" -o "$T/p-nofp.db" > "$T/nofp.out"
check "--no-fingerprints: none" not grep -q fingerprinted "$T/nofp.out"

# traced NAME DB : load $lib under the guard with DB, traced into $T/NAME.trace
traced() {
	strace -f -qq -o "$T/$1.trace" -e trace=openat,read,pread64 \
		-E "LD_PRELOAD=$DLG_PRELOAD" -E "DLGUARD_POLICY=$2" \
		timeout 60 "$DLG_FIXTURES/loader" "$lib"
}
whole_read() { grep -Eq "(pread64|read)\([0-9]+, .*, $size(, 0)?\) = $size$" "$T/$1.trace"; }
crypto() { grep -q 'openat(.*libcrypto' "$T/$1.trace"; }

clear_markers
out=$(traced fp "$T/p.db")
check "fingerprint matches: allowed" grep -q "^OK $lib" <<<"$out"
check "fingerprint matches: it ran" ran good
check "fingerprint matches: the file was not read whole" not whole_read fp
check "fingerprint matches: libcrypto was never loaded" not crypto fp

# The same policy without fingerprints: the same load reads the file whole
# and loads libcrypto, so the two checks above can tell.
clear_markers
out=$(traced nofp "$T/p-nofp.db")
check "no fingerprint: allowed" grep -q "^OK $lib" <<<"$out"
check "no fingerprint: the file was read whole (hashed)" whole_read nofp
check "no fingerprint: libcrypto loaded" crypto nofp

# Rewritten in place with other bytes of the same size: the fingerprint no
# longer matches (ctime moved), the file is hashed and refused.
python3 -I -c '
import sys
with open(sys.argv[1], "rb") as s, open(sys.argv[2], "r+b") as d:
    d.write(s.read())' "$DLG_FIXTURES/libevil.so" "$lib"
check "rewritten in place: same inode, same size" [ "$(stat -c %s "$lib")" = "$size" ]
clear_markers
out=$(traced inplace "$T/p.db")
check "rewritten in place: refused" grep -q "^ERR $lib: .*dlguard" <<<"$out"
check "rewritten in place: its code never ran" not_ran evil
check "rewritten in place: it was hashed" whole_read inplace

# The trusted bytes back in place: hashed again, and allowed by content.
python3 -I -c '
import sys
with open(sys.argv[1], "rb") as s, open(sys.argv[2], "r+b") as d:
    d.write(s.read())' "$DLG_FIXTURES/libgood.so" "$lib"
clear_markers
out=$(traced back "$T/p.db")
check "trusted bytes back: allowed" grep -q "^OK $lib" <<<"$out"
check "trusted bytes back: hashed, not fingerprinted" whole_read back

# Replaced by a renamed copy with other bytes (a new inode): refused.
cp "$DLG_FIXTURES/libevil.so" "$T/lib/.new" && mv "$T/lib/.new" "$lib"
clear_markers
out=$(traced replaced "$T/p.db")
check "replaced: refused" grep -q "^ERR $lib: .*dlguard" <<<"$out"
check "replaced: its code never ran" not_ran evil

finish
