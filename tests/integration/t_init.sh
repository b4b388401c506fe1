#!/bin/bash
# The guard's initialisation: run directly by the constructors of a process
# that is still single-threaded (no pthread_once, so no FUTEX_WAKE in every
# process start), and under pthread_once when the guard is loaded into a
# process that already runs threads; either way the policy is in force.
. "$(dirname "$0")/lib.sh"

need_strace

mkdir -p "$T/lib"
cp "$DLG_FIXTURES/libgood.so" "$DLG_FIXTURES/libevil.so" "$T/lib/"
good=$(sha256sum "$T/lib/libgood.so" | cut -d' ' -f1)
compile_policy p <<EOF
version = 1; default = "deny";
rules = ( { action = "allow"; dir = "$SYSLIB"; }, { action = "allow"; dir = "/usr/lib"; },
          { action = "allow"; path = "$T/lib/libgood.so"; sha256 = "$good"; } );
EOF

# A single-threaded start: no futex call at all, with or without a policy.
strace -qq -o "$T/st.trace" -e trace=futex -E "LD_PRELOAD=$DLG_PRELOAD" \
	-E "DLGUARD_POLICY=$T/p.db" /bin/true
check "single-threaded start: the program runs" [ $? -eq 0 ]
check "single-threaded start: no futex call (init without pthread_once)" \
	not grep -q futex "$T/st.trace"
clear_markers
out=$(guarded "$T/p.db" "$DLG_FIXTURES/loader" "$T/lib/libgood.so" "$T/lib/libevil.so" 2>&1)
check "single-threaded start: the trusted library loads" grep -q "^OK $T/lib/libgood.so" <<<"$out"
check "single-threaded start: the untrusted one is refused" grep -q "^ERR $T/lib/libevil.so" <<<"$out"
check "single-threaded start: ... and never ran" not_ran evil

# Threads first, then the guard (loaded like a plugin, so its constructors
# run in a multi-threaded process), then its dlopen from eight threads.
clear_markers
out=$(DLGUARD_POLICY=$T/p.db timeout 60 python3 -I -c '
import ctypes, sys, threading
guard, good, evil = sys.argv[1:4]
stop = threading.Event()
busy = [threading.Thread(target=stop.wait) for _ in range(4)]
for t in busy:
    t.start()
g = ctypes.CDLL(guard)
g.dlopen.restype = ctypes.c_void_p
g.dlopen.argtypes = [ctypes.c_char_p, ctypes.c_int]
res = []
def load():
    res.append((g.dlopen(good.encode(), 2) is not None, g.dlopen(evil.encode(), 2) is not None))
workers = [threading.Thread(target=load) for _ in range(8)]
for t in workers:
    t.start()
for t in workers:
    t.join()
stop.set()
print("RESULT", sorted(set(res)))
' "$DLG_PRELOAD" "$T/lib/libgood.so" "$T/lib/libevil.so" 2>&1)
check "threads first: the guard initialises and answers" grep -q "^RESULT \[(True, False)\]$" <<<"$out"
check "threads first: the trusted library ran" ran good
check "threads first: the untrusted one never ran" not_ran evil

finish
