#!/bin/bash
# The guard's two objects (lib/preload/engine.h) link libc only. The front,
# in every process, exports dlopen and dlmopen only; the engine its entry
# point and the rtld-audit functions.
. "$(dirname "$0")/lib.sh"

needed_of() { readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' '; }
exports_of() { nm -D --defined-only "$1" | awk '{print $3}' | sort | tr '\n' ' '; }
needed=$(needed_of "$DLG_PRELOAD")
check "front: only DT_NEEDED is libc ($needed)" [ "$needed" = "libc.so.6 " ]
needed=$(needed_of "$DLG_ENGINE")
check "engine: only DT_NEEDED is libc ($needed)" [ "$needed" = "libc.so.6 " ]
exported=$(exports_of "$DLG_PRELOAD")
check "front exports exactly the interposed symbols ($exported)" [ "$exported" = "dlmopen dlopen " ]
exported=$(exports_of "$DLG_ENGINE")
check "engine exports its entry and the rtld-audit symbols ($exported)" \
	[ "$exported" = "dlguard_engine_v1 la_objopen la_objsearch la_version " ]
# ld.so compares every name a dlopen asks for with each loaded object's
# SONAME: the guard's objects, loaded by path, have none.
check "front and engine: no DT_SONAME" \
	bash -c "! readelf -d '$DLG_PRELOAD' '$DLG_ENGINE' | grep -q '(SONAME)'"
versions=$(readelf -V "$DLG_PRELOAD" | grep -c 'Version definition' || true)
check "front exports are unversioned (interpose both dlopen versions)" [ "$versions" = 0 ]

# What ld.so does for the front at every process start is what it does for
# an empty library: four mappings (no .bss beyond the data page), no TLS,
# a few dozen relocations.
loads=$(readelf -lW "$DLG_PRELOAD" | grep -c '^ *LOAD')
check "front: four PT_LOAD segments ($loads)" [ "$loads" = 4 ]
check "front: no TLS" bash -c "! readelf -lW '$DLG_PRELOAD' | grep -q '^ *TLS'"
relocs=$(readelf -rW "$DLG_PRELOAD" | grep -c 'R_X86_64_' || true)
check "front: under 64 relocations ($relocs)" [ "$relocs" -lt 64 ]

# The front loads the engine from its own directory; without it a guarded
# dlopen is refused (never let through unchecked) and dlerror() says why.
mkdir -p "$T/alone"
cp "$DLG_PRELOAD" "$T/alone/libdlguard.so"
stage "$T/lib" good
compile_policy alone <<EOF
version = 1; default = "deny";
rules = ( { action = "allow"; dir = "$SYSLIB"; }, { action = "allow"; dir = "$T/lib"; } );
EOF
alone() { DLGUARD_POLICY=$T/alone.db LD_PRELOAD=$T/alone/libdlguard.so timeout 60 \
	"$DLG_FIXTURES/loader" "$T/lib/libgood.so" 2>&1; }
clear_markers
out=$(alone)
check "no engine: the dlopen is refused" grep -q "^ERR $T/lib/libgood.so" <<<"$out"
check "... and never ran" not_ran good
check "... dlerror names the missing engine" grep -q "cannot load libdlguard-engine.so" <<<"$out"
check "... the program itself ran" grep -q "^OK dlopen(NULL)\|^ERR" <<<"$out"
cp "$DLG_ENGINE" "$T/alone/libdlguard-engine.so"
out=$(alone)
check "engine beside it: the dlopen is allowed" grep -q "^OK $T/lib/libgood.so" <<<"$out"
check "... and ran" ran good

# libcrypto is mapped only when a hash is needed.
stage "$T/lib" good
compile_policy nohash <<EOF
version = 1; default = "deny";
rules = ( { action = "allow"; dir = "$SYSLIB"; }, { action = "allow"; dir = "$T/lib"; } );
EOF
sum=$(sha256sum "$T/lib/libgood.so" | cut -d' ' -f1)
compile_policy hash <<EOF
version = 1; default = "deny";
rules = ( { action = "allow"; dir = "$SYSLIB"; }, { action = "allow"; sha256 = "$sum"; } );
EOF
maps() { guarded "$1" "$DLG_FIXTURES/loader" "$T/lib/libgood.so" > /dev/null;
	DLGUARD_POLICY=$1 LD_PRELOAD=$DLG_PRELOAD LD_DEBUG=files "$DLG_FIXTURES/loader" "$T/lib/libgood.so" 2>&1 | grep -c 'file=libcrypto\|libcrypto.so.3 \[' ; }
check "no libcrypto when no digest is needed" [ "$(maps "$T/nohash.db")" = 0 ]
check "libcrypto mapped when a digest is needed" [ "$(maps "$T/hash.db")" != 0 ]
check "the digest rule allowed the library" ran good

# OPENSSL_CONF cannot make the guard's libcrypto load modules.
cat > "$T/evil.cnf" <<EOF
openssl_conf = init
[init]
providers = prov
[prov]
evilprov = evilsect
[evilsect]
module = $DLG_FIXTURES/libevil.so
activate = 1
EOF
clear_markers
OPENSSL_CONF=$T/evil.cnf guarded "$T/hash.db" "$DLG_FIXTURES/loader" "$T/lib/libgood.so" > /dev/null 2>&1
check "OPENSSL_CONF is not read by the guard's libcrypto" not_ran evil

finish
