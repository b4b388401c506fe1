#!/bin/bash
# Runs inside `unshare -m` (started by bench/run): gives this private mount
# namespace its own /etc (an overlay whose upper layer holds the benchmark's
# fapolicyd.conf, rules and trust file), /var/lib/fapolicyd, /run and
# /var/log, then becomes fapolicyd (in the foreground, reporting only
# denials) or, for the baseline twin, an idle process holding an identical
# namespace. Nothing here is visible outside the namespace: the host's /etc,
# /run and /var are never written.
#
# usage: fapolicyd-ns.sh WORKDIR fapolicyd|idle
set -euo pipefail

work=$1
mode=$2
case $mode in fapolicyd|idle) ;; *) echo "usage: $0 WORKDIR fapolicyd|idle" >&2; exit 2 ;; esac

# unshare -m already makes every mount private; say it again so nothing
# mounted below can ever propagate to the host.
mount --make-rprivate /
mount -t overlay overlay \
	-o "lowerdir=/etc,upperdir=$work/upper-$mode,workdir=$work/ovl-$mode" /etc
mount --bind "$work/varlib-$mode" /var/lib/fapolicyd
mount -t tmpfs -o mode=0755 tmpfs /run
mkdir -m 0770 /run/fapolicyd
chgrp fapolicyd /run/fapolicyd
mount -t tmpfs -o mode=0755 tmpfs /var/log

if [ "$mode" = fapolicyd ]; then
	exec /usr/sbin/fapolicyd --debug-deny
fi
exec sleep infinity
