#!/bin/bash
# The manual pages: dlguard(8) and dlguard.conf(5) render without a single
# groff warning, and stay in step with the code: every command the CLI lists
# has a subsection of dlguard(8) that names every option of its usage text,
# every option the CLI's sources accept is in dlguard(8), and every key
# lib/core/policy_conf.c accepts (and every value, env.strip variable and fs
# type the policy takes) is in dlguard.conf(5).
# DLG_MAN8 / DLG_MAN5 point the checks at other copies of the pages.
. "$(dirname "$0")/lib.sh"
: "${DLG_SRC:?run through ctest}"
MAN8=${DLG_MAN8:-$DLG_SRC/man/dlguard.8}
MAN5=${DLG_MAN5:-$DLG_SRC/man/dlguard.conf.5}
CLI_SRC=$DLG_SRC/tools/dlguard
CONF_C=$DLG_SRC/lib/core/policy_conf.c
POLICY_C=$DLG_SRC/lib/core/policy.c

# The page source with comments dropped and the escapes a name is written
# with (\- \(dq \& \~ \c) turned back into plain characters.
source_of() {
	sed -e '/^\.\\"/d' -e 's/\\-/-/g' -e 's/\\(dq/"/g' -e 's/\\&//g' \
	    -e 's/\\~/ /g' -e 's/\\c$//' "$1"
}
# ... and also without font changes: the text as it reads.
text_of() { source_of "$1" | sed -e 's/\\f[BIRP]//g' -e 's/\\f(..//g' -e 's/\\f\[[^]]*\]//g'; }
# has_word WORD: WORD, whole, on stdin (options and keys hold - and _).
has_word() { grep -Eq -- "(^|[^-A-Za-z0-9_])$1([^-A-Za-z0-9_]|$)"; }
# missing_words WORD...: those not on stdin (read once).
missing_words() {
	local text w out=
	text=$(cat)
	for w in "$@"; do has_word "$w" <<<"$text" || out+=" $w"; done
	echo "${out# }"
}

# 1. Both pages render with every groff warning enabled, and say nothing.
if ! command -v groff > /dev/null; then
	fail "groff is missing: install groff-base (apt-get install groff-base) to check the manual pages"
else
	for page in "$MAN8" "$MAN5"; do
		out=$(groff -man -ww -z -t "$page" 2>&1); rc=$?
		check "$(basename "$page") renders without warnings${out:+: $out}" \
			[ "$rc:$out" = "0:" ]
	done
fi

# 2. Every command of the CLI's own list has a subsection of dlguard.8.
usage=$("$DLG_CLI" --help)
commands=$(awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }' <<<"$usage")
check "the CLI lists its commands ($(echo $commands))" [ "$(wc -w <<<"$commands")" -ge 1 ]
man8=$(source_of "$MAN8")
# subsection NAME: its text, from ".SS NAME" to the next .SS or .SH
subsection() {
	awk -v n="$1" '/^\.S[SH]/ { on = $1 == ".SS" && ($2 == n || $2 == "\"" n "\"") && NF == 2; next }
		on' <<<"$man8" | text_of /dev/stdin
}
options_in() { grep -oE -- '(^|[][ (|])--?[A-Za-z][A-Za-z0-9-]*' | sed 's/^[^-]*//' | sort -u; }

for cmd in $commands; do
	check "dlguard.8 has a subsection for $cmd" \
		grep -Eq "^\.SS \"?$cmd\"?\$" <<<"$man8"
	# 3. ... naming every option of the command's line in the list and of its
	# usage text (--help, or -- where --help is taken for a file name).
	own=$(cd "$T" && { "$DLG_CLI" "$cmd" --help; "$DLG_CLI" "$cmd" --; } 2>&1 < /dev/null |
		awk -v u="usage: dlguard $cmd" 'index($0, u) == 1 { on = 1; print; next }
			on && /^  / { print; next } { on = 0 }')
	check "dlguard $cmd prints its usage" [ -n "$own" ]
	opts=$( { grep -E "^  $cmd( |\$)" <<<"$usage"; echo "$own"; } | options_in)
	missing=$(subsection "$cmd" | missing_words $opts)
	check "dlguard.8, $cmd: documents $(echo $opts)${missing:+ (missing: $missing)}" \
		[ -z "$missing" ]
done
missing=$(text_of "$MAN8" | missing_words --version)
check "dlguard.8 documents --version${missing:+ (missing)}" [ -z "$missing" ]

# ... and every option the CLI's sources compare or give getopt, wherever the
# page names it: long options of the getopt_long tables, short options of the
# getopt strings, literals compared with an argument.
src_opts=$(
	grep -ohE '\{ "[a-z][a-z-]*", (no|required|optional)_argument' "$CLI_SRC"/*.c |
		sed -E 's/\{ "([^"]*)".*/--\1/'
	grep -ohE 'getopt(_long)?\(argc, argv, "[^"]*"' "$CLI_SRC"/*.c |
		sed -E 's/.*"(.*)"/\1/' | tr -d ':' | grep -o . | sed 's/^/-/'
	grep -ohE 'strcmp\(argv\[[^]]*\], "--?[a-z][a-z-]*"\)' "$CLI_SRC"/*.c |
		sed -E 's/.*"(.*)".*/\1/')
src_opts=$(sort -u <<<"$src_opts")
check "found the options of the CLI's sources ($(echo $src_opts))" \
	[ "$(wc -w <<<"$src_opts")" -ge 10 ]
missing=$(text_of "$MAN8" | missing_words $src_opts)
check "dlguard.8 documents every option the CLI accepts${missing:+ (missing: $missing)}" \
	[ -z "$missing" ]

# 4. Every key lib/core/policy_conf.c accepts (strcmp of a setting's name)
# is in dlguard.conf.5, set in bold where it is described.
keys=$(grep -oE 'strcmp\([a-z_]+, "[a-z_][a-z0-9_]*"\)' "$CONF_C" |
	sed -E 's/.*"(.*)".*/\1/' | sort -u)
check "found the keys policy_conf.c accepts ($(echo $keys))" \
	bash -c 'for k in version default rules action path; do grep -qx "$k" <<<"$1" || exit 1; done' _ "$keys"
man5=$(source_of "$MAN5")
missing=
for k in $keys; do
	grep -Eq "(^\.B[IR]? +\"?|\\\\fB)$k([^A-Za-z0-9_]|\$)" <<<"$man5" || missing+=" $k"
done
check "dlguard.conf.5 documents every key (in bold)${missing:+ (missing:$missing)}" [ -z "$missing" ]

# ... every value a string setting takes (read_word), quoted,
values=$(grep -ohE 'read_word\([^"]*"[^"]+", "[^"]+"' "$CONF_C" | grep -oE '"[^"]+"' | sort -u)
check "found the values policy_conf.c accepts ($(echo $values))" [ "$(wc -w <<<"$values")" -ge 6 ]
missing=
for v in $values; do grep -qF -- "$v" < <(text_of "$MAN5") || missing+=" $v"; done
check "dlguard.conf.5 documents every value${missing:+ (missing:$missing)}" [ -z "$missing" ]

# ... and every env.strip variable and fs type lib/core/policy.c knows.
env_vars=$(sed -n '/ENV_VARS\[\] = {/,/};/p' "$POLICY_C" | grep -oE '"[A-Z_]+"' | tr -d '"')
fs_types=$(grep -oE '^[[:space:]]*\{ "[a-z0-9]+", \{' "$POLICY_C" | grep -oE '"[^"]+"' | tr -d '"')
check "found the env.strip variables and fs types of policy.c" \
	[ $(( $(wc -w <<<"$env_vars") >= 10 && $(wc -w <<<"$fs_types") >= 10 )) = 1 ]
missing=$(text_of "$MAN5" | missing_words $env_vars $fs_types)
check "dlguard.conf.5 lists every env.strip variable and fs type${missing:+ (missing: $missing)}" \
	[ -z "$missing" ]

finish
