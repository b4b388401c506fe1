#!/bin/bash
# The per-process decision cache is keyed by the file's stat fingerprint:
# a library decided once and then rewritten in place (same inode, new
# content) or replaced (new inode) is decided again, in the same process.
. "$(dirname "$0")/lib.sh"

mkdir -p "$T/lib"
cp "$DLG_FIXTURES/libgood.so" "$T/lib/libx.so"
good=$(sha256sum "$T/lib/libx.so" | cut -d' ' -f1)
compile_policy p <<EOF
version = 1; default = "deny";
rules = ( { action = "allow"; dir = "$SYSLIB"; }, { action = "allow"; dir = "/usr/lib"; },
          { action = "allow"; path = "$T/lib/libx.so"; sha256 = "$good"; } );
EOF
cat > "$T/twice.py" <<'EOF'
import ctypes, shutil, sys, _ctypes
lib, evil, how = sys.argv[1:4]
def load():
    try:
        h = ctypes.CDLL(lib)
        _ctypes.dlclose(h._handle)
        return "OK"
    except OSError as e:
        return "ERR " + str(e)
print("first", load())
if how == "inplace":
    with open(evil, "rb") as src, open(lib, "r+b") as dst:   # same inode
        dst.write(src.read()); dst.truncate()
else:
    shutil.copy(evil, lib + ".new"); shutil.move(lib + ".new", lib)   # new inode
print("second", load())
EOF
for how in inplace replace; do
	cp "$DLG_FIXTURES/libgood.so" "$T/lib/libx.so"
	clear_markers
	out=$(guarded "$T/p.db" /usr/bin/python3 -I "$T/twice.py" "$T/lib/libx.so" "$DLG_FIXTURES/libevil.so" $how 2>&1)
	check "$how: the trusted library loads first" grep -q "^first OK" <<<"$out"
	check "$how: the rewritten file is decided again and refused" grep -q "^second ERR .*dlguard: .*libx.so" <<<"$out"
	check "$how: its code never ran" not_ran evil
done

finish
