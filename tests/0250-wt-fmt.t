#!/bin/sh
# wt-fmt: alignment by display width, units, (detached), ~, error rows, -o, -H, colour.
. "$(dirname "$0")/lib.sh"
plan 26

cat > "$T/in" <<EOF
{"id":"é-wide","status":"active","branch":"main","size":1536,"idle_days":3,"path":"$HOME/src/a"}
{"id":"日本","status":"stale","branch":null,"size":734003200,"idle_days":72,"path":"/srv/b"}
{"id":"x","path":"$HOME"}
EOF
wt-fmt < "$T/in" > "$T/out"
check_same "exit 0 with no error record" "0" "$?"
check_same "columns aligned by display width (é is one column, 日本 four)" \
"ID      STATUS  BRANCH      SIZE  IDLE  PATH
é-wide  active  main        1.5K  3d    ~/src/a
日本    stale   (detached)  700M  72d   /srv/b
x       -       -           -     -     ~
2 worktrees, 700M in all" "$(cat "$T/out")"
check_same "-H: no header" "é-wide  active" "$(wt-fmt -H -o id,status < "$T/in" | sed -n 1p)"
check_same "-o: any field is a column, in the order given, its name upper-cased" \
"PATH     CREATED_AT  ID
~/src/a  -           é-wide" "$(wt-fmt -o path,created_at,id < "$T/in" | sed -n 1,2p)"
check_same "no trailing blanks after the last column" "0" "$(grep -c ' $' "$T/out")"

# Sizes: a plain number under 1024, one decimal below 10, none above, and the
# rounding never shows 1024K or 10.0K.
for s in 0 1023 1024 1536 10188 10189 10239 10240 1047552 1048064 1048575 1048576 \
	1610612736 1099511627776 '"big"'; do
	printf '{"id":"s","size":%s}\n' "$s"
done > "$T/sizes"
check_same "sizes in binary units" \
	"0 1023 1.0K 1.5K 9.9K 10K 10K 10K 1023K 1.0M 1.0M 1.0M 1.5G 1.0T -" \
	"$(wt-fmt -H -o size < "$T/sizes" | sed '$d' | tr -d ' ' | tr '\n' ' ' | sed 's/ $//')"
check_same "the total of the sizes" "14 worktrees, 1.0T in all" "$(wt-fmt -o size < "$T/sizes" | tail -n 1)"
check_same "no total for a single sized record" "ID  SIZE
s   1.0K" "$(echo '{"id":"s","size":1024}' | wt-fmt -o id,size)"

printf '%s\n' '{"id":"m","path":"/m","main":true}' '{"id":"b","branch":"dev"}' \
	'{"id":"l","locked":true,"dirty":{"modified":1,"untracked":0},"n":1.50}' > "$T/misc"
check_same "status of a main worktree, a missing branch, JSON text of other values" \
"ID  STATUS  BRANCH  LOCKED  DIRTY                         N
m   main    -       -       -                             -
b   -       dev     -       -                             -
l   -       -       true    {\"modified\":1,\"untracked\":0}  1.50" \
	"$(wt-fmt -o id,status,branch,locked,dirty,n < "$T/misc")"

cat > "$T/paths" <<EOF
{"id":"a","path":"$HOME/x"}
{"id":"b","path":"${HOME}r/x"}
{"id":"c","path":"/elsewhere$HOME"}
{"id":"d","path":"$HOME/new\nline\ttab"}
EOF
check_same "~ only for HOME itself and below it; control characters as ?" \
	"~/x ${HOME}r/x /elsewhere$HOME ~/new?line?tab" \
	"$(wt-fmt -H -o path < "$T/paths" | tr '\n' ' ' | sed 's/ $//')"
check_same "HOME=/ is not shortened to ~" "/srv/b" \
	"$(HOME=/ wt-fmt -H -o path < "$T/in" | sed -n 2p)"

cat > "$T/errs" <<'EOF'
{"id":"ok","path":"/p"}
{"id":"bad","path":"/q","error":{"kind":"SynchronizationError","message":"cannot rebase\nfrom here","tool":"wt-sync"}}
not json
EOF
wt-fmt -o id,status,path < "$T/errs" > "$T/out" 2> "$T/err"
check_same "error records: exit 1" "1" "$?"
check_same "error rows: status error, the last cell the kind and the message" \
"ID      STATUS  PATH
ok      -       /p
bad     error   SynchronizationError: cannot rebase?from here
line 3  error   InputError: line 3: not a JSON object" "$(cat "$T/out")"
check_same "a bad line is named on stderr" "wt-fmt: line 3: not a JSON object" "$(cat "$T/err")"
# wt-stale drops six records with no signal and passes line 7 as an InputError:
# for wt-fmt it is line 1, but the row names the line where it was found.
check_same "a bad line found upstream keeps its own line number" \
	"line 7  error  InputError: line 7: not a JSON object" \
	"$(printf '{"id":"n"}\n{"id":"n"}\n{"id":"n"}\n{"id":"n"}\n{"id":"n"}\n{"id":"n"}\nx\n' |
	   wt-stale 0 2>/dev/null | wt-fmt -H -o id,status,path)"

wt-fmt -o '' < "$T/in" > /dev/null 2>&1
check_same "-o with no column: exit 2" "2" "$?"
wt-fmt -o "$(seq -s, 1 33)" < "$T/in" > /dev/null 2>&1
check_same "-o with 33 columns: exit 2" "2" "$?"
wt-fmt extra < "$T/in" > /dev/null 2>&1
check_same "an operand: exit 2" "2" "$?"
check_same "no input: only the header" "ID  STATUS  BRANCH  SIZE  IDLE  PATH" "$(wt-fmt < /dev/null)"

esc=$(printf '\033')
check_same "no colour when stdout is not a terminal" "0" "$(grep -c "$esc" "$T/out")"
if command -v script > /dev/null 2>&1 && script -qec true /dev/null > /dev/null 2>&1; then
	printf '%s\n' '{"id":"s","status":"stale","size":1,"size_level":"critical"}' \
		'{"id":"m","status":"merged"}' > "$T/col"
	cp "$T/errs" "$T/colerr"
	script -qec "wt-fmt -o id,status,size,path < '$T/col'" /dev/null > "$T/tty" 2>&1
	check_same "on a terminal, a stale status is yellow" "1" "$(grep -c "${esc}\[33mstale${esc}\[0m" "$T/tty")"
	check_same "a merged status green" "1" "$(grep -c "${esc}\[32mmerged${esc}\[0m" "$T/tty")"
	check_same "a critical size red" "1" "$(grep -c "${esc}\[31m1${esc}\[0m" "$T/tty")"
	script -qec "wt-fmt -o id,status,path < '$T/colerr'" /dev/null > "$T/tty" 2>&1
	check_same "an error row's status and message red" "2 2" \
		"$(grep -c "${esc}\[31merror${esc}\[0m" "$T/tty") $(grep -c "${esc}\[31m[A-Za-z]*Error: " "$T/tty")"
	NO_COLOR=1 script -qec "wt-fmt -o id,status,size < '$T/col'" /dev/null > "$T/tty" 2>&1
	check_same "NO_COLOR: no colour on a terminal" "0" "$(grep -c "$esc" "$T/tty")"
	NO_COLOR= script -qec "wt-fmt -o id,status,size < '$T/col'" /dev/null > "$T/tty" 2>&1
	check_same "an empty NO_COLOR does not count" "1" "$(grep -c "$esc\[33mstale" "$T/tty")"
else
	for i in 1 2 3 4 5 6; do skip "no script(1) to give wt-fmt a terminal"; done
fi
done_testing
