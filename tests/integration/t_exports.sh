#!/bin/bash
# The preload library links libc only and exports dlopen and dlmopen only.
. "$(dirname "$0")/lib.sh"

needed=$(readelf -d "$DLG_PRELOAD" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
check "only DT_NEEDED is libc ($needed)" [ "$needed" = "libc.so.6 " ]
exported=$(nm -D --defined-only "$DLG_PRELOAD" | awk '{print $3}' | sort | tr '\n' ' ')
check "exports exactly the interposed and rtld-audit symbols ($exported)" [ "$exported" = "dlmopen dlopen la_objopen la_objsearch la_version " ]
versions=$(readelf -V "$DLG_PRELOAD" | grep -c 'Version definition' || true)
check "exports are unversioned (interpose both dlopen versions)" [ "$versions" = 0 ]

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
