#!/bin/sh
# The README demo: a plugin host loads its plugin directory under a policy
# that trusts one plugin; a plugin dropped beside it is refused before its
# constructor runs, and the logged event says why.
set -eu
build=${1:-build}
demo=$build/demo
rm -f "$demo/dlguard.jsonl"

echo "== dlguard check $demo/demo.conf"
"$build/dlguard" check "$demo/demo.conf"
echo
echo "== without dlguard: both plugins load, and the dropped one's code runs"
"$build/plugin-host" "$demo/plugins" || true
echo
echo "== under dlguard: dlguard run -p $demo/demo.conf -- plugin-host $demo/plugins"
"$build/dlguard" run -p "$demo/demo.conf" -- "$build/plugin-host" "$demo/plugins" || true
echo
echo "== the logged decision for the dropped plugin ($demo/dlguard.jsonl)"
grep '"decision":"deny"' "$demo/dlguard.jsonl" | python3 -m json.tool
