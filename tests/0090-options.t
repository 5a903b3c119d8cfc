#!/bin/sh
# The options every program has: -h and --help, --version, a bad option; the
# usage against the page's SYNOPSIS and option list; bad option values.
. "$(dirname "$0")/lib.sh"
top=$(cd "$(dirname "$0")/.." && pwd)
progs=$(cd "$top/cmd" && ls *.c | sed 's/\.c$//')
nprogs=$(printf '%s\n' $progs | wc -l)
plan $((nprogs * 8 + 7 + 11))
version=$(sed -n 's/^VERSION = //p' "$top/Makefile")

# man_synopsis PROG: the SYNOPSIS of PROG's page, one form a line.
man_synopsis() {
	mandoc -Tascii -O width=300 "$top/man/$1.1" | col -b |
		sed -n '/^SYNOPSIS/,/^DESCRIPTION/p' | sed '1d;$d;/^$/d;s/^ *//'
}
# man_options PROG: the options of PROG's option list, one a line, sorted.
man_options() {
	awk '/^The options are as follows/ { p = 1 } p && /^\.It Fl/ { print } p && /^\.Sh/ { exit }' \
		"$top/man/$1.1" |
		sed 's/ Ns = Ns / /g; s/Fl Fl /--/g; s/Fl /-/g; s/,//g' | tr ' ' '\n' | grep '^-' | sort -u
}
# usage_options TEXT: the options of a usage text's option lines, sorted.
usage_options() {
	printf '%s\n' "$1" | sed -n 's/^ \{2,6\}\(-.*\)$/\1/p' |
		sed 's/   .*//; s/,//g' | tr ' ' '\n' | grep '^-' | sort -u
}

for p in $progs; do
	help=$("$p" --help < /dev/null 2> "$T/err")
	check_same "$p --help: exit 0, nothing on stderr" "0:" "$?:$(cat "$T/err")"
	check_same "$p --help: the usage on stdout" "usage: $p" \
		"$(printf '%s\n' "$help" | head -n 1 | cut -d' ' -f1,2)"
	out=$("$p" -h < /dev/null 2>/dev/null)
	check_same "$p -h: the same" "0:$help" "$?:$out"
	out=$("$p" --version < /dev/null)
	check_same "$p --version: '$p $version', exit 0" "0:$p $version" "$?:$out"
	"$p" -Z < /dev/null > "$T/out" 2> "$T/err"
	check_same "$p -Z: exit 2, the option named and the usage on stderr, nothing on stdout" \
		"2:$p: invalid option -- 'Z'
$help:" "$?:$(sed "s|^.*/$p:|$p:|" "$T/err"):$(cat "$T/out")"
	check_same "$p: the usage's first lines are the page's SYNOPSIS" \
		"$(man_synopsis "$p")" \
		"$(printf '%s\n' "$help" | sed -n '1,2p' | sed 's/^usage: //; s/^ *//')"
	check_same "$p: one usage line per option of the page, and no other" \
		"$(man_options "$p")" "$(usage_options "$help")"
	# A filter prints its usage when stdin is a terminal; --help too, at once.
	out=$(timeout 10 script -qec "$p --help" /dev/null < /dev/null | tr -d '\r')
	check_same "$p --help with a terminal on stdin: the usage, exit 0" "0:$help" "$?:$out"
done

# Bad option values are errors that say why.
wt-du -w 2G < /dev/null > /dev/null 2> "$T/err"
check_same "wt-du: a warning size above the (default) critical one: exit 2, both named" \
	"2 wt-du: the warning size 2G is above the critical size 1G: a worktree would be critical before it is large" \
	"$? $(cat "$T/err")"
WT_SIZE_CRITICAL=300M wt-du < /dev/null > /dev/null 2> "$T/err"
check_same "the same when the configuration's critical size is below its warning size" \
	"2 wt-du: the warning size 500M is above the critical size 300M: a worktree would be critical before it is large" \
	"$? $(cat "$T/err")"
out=$(WT_SIZE_CRITICAL=300M wt-du -w 100M < /dev/null 2>&1)
check_same "an option that puts them right again is taken" "0:" "$?:$out"
wt-du -c 1X < /dev/null > /dev/null 2> "$T/err"
check_same "wt-du: a bad size names the option and the accepted forms" \
	"2 wt-du: bad size for -c: '1X' (a size in bytes with K, M, G or T: 500M, 1G)" "$? $(cat "$T/err")"
wt-prune -k node_modules,nosuch < /dev/null > /dev/null 2> "$T/err"
check_same "wt-prune -k: an unknown kind exits 2" \
	"2 wt-prune: unknown kind 'nosuch'" "$? $(sed 's/ (.*//' "$T/err")"
kinds=$(sed -n 's/^\.It Cm \([a-z_]*\) Ta .*/\1/p' "$top/man/wt-du.1" | grep -v '^kind$' | awk '!seen[$0]++' | tr '\n' ' ' | sed 's/ $//; s/ /, /g')
check_same "and lists the valid kinds, those of the table in wt-du(1)" \
	"(the kinds are $kinds)" "$(sed 's/^[^(]*//' "$T/err")"
WT_JOBS=0 wt-stale < /dev/null > /dev/null 2> "$T/err"
check_same "a bad configuration value says what the key accepts" \
	"2 wt-stale: WT_JOBS: bad value for jobs: '0' (1 to 256)" "$? $(cat "$T/err")"

# One rule for a key twice in a record (wt-record(5)): no record, in every program.
mkdir -p "$T/h"
dup='{"id":"d","path":"/nowhere/d","id":"e"}'
for p in wt-stale wt-du wt-fmt "wt-rm -n" "wt-prune -n" "wt-archive -n" "wt-restore -n"; do
	out=$(echo "$dup" | (cd "$T/h" && $p) 2>/dev/null)
	rc=$?
	case $p in
	wt-fmt) got=$(printf '%s\n' "$out" | sed -n 2p | sed 's/.*  //') ;;
	*) got=$(printf '%s\n' "$out" | jq -r '"\(.error.kind): \(.error.message)"') ;;
	esac
	check_same "$p: a record with a key twice is an InputError, exit 1" \
		"1 InputError: line 1: duplicate key" "$rc $got"
done
printf '{"id":"a","path":"/a"}\n{"id":"b","path":"/b","path":"/c"}\n' > "$T/dup.ndjson"
out=$(wt-ls -r "$T/dup.ndjson" 2>/dev/null)
check_same "wt-ls: a registry line with a key twice is a RegistryError, exit 1" \
	'1 "a" "RegistryError: registry line 2: duplicate key"' \
	"$? $(printf '%s\n' "$out" | jq -c '.id // "\(.error.kind): \(.error.message)"' | tr '\n' ' ' | sed 's/ $//')"
out=$(printf '%s\n' '{"id":"x","a\u0062":1,"ab":2}' | wt-stale -u 0 2>/dev/null)
check_same "the same key written once with an escape is the same key" \
	"InputError" "$(printf '%s\n' "$out" | jq -r .error.kind)"
# The filters that need no git start without it: libgit2 and its libraries cost milliseconds.
if command -v ldd > /dev/null; then
	check_same "wt-stale and wt-fmt do not link libgit2" "" \
		"$(ldd "$WT_BUILD/bin/wt-stale" "$WT_BUILD/bin/wt-fmt" | grep libgit2)"
	# wt-ls -r and -i are the registry's readers: no archive library (and its own) to load.
	check_same "wt-ls does not link libarchive" "" "$(ldd "$WT_BUILD/bin/wt-ls" | grep libarchive)"
else
	skip "no ldd"
	skip "no ldd"
fi
done_testing
