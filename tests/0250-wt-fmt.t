#!/bin/sh
# wt-fmt: alignment by display width, units, (detached), ~, error rows, -o, -H, colour,
# nested columns, dirty as counts, unknown columns, totals of size columns, wt-du's cache mark.
. "$(dirname "$0")/lib.sh"
plan 44

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
printf '%s\n' '{"id":"o","o":{"a":[1,2],"b":{}}}' >> "$T/misc"
check_same "status of a main worktree, a missing branch, JSON text of other values" \
"ID  STATUS  BRANCH  LOCKED  O                   N
m   main    -       -       -                   -
b   -       dev     -       -                   -
l   -       -       true    -                   1.50
o   -       -       -       {\"a\":[1,2],\"b\":{}}  -" \
	"$(wt-fmt -o id,status,branch,locked,o,n < "$T/misc")"

# Nested fields: a dotted name walks into objects.
cat > "$T/nest" <<'EOF'
{"id":"a","would":{"action":"remove","freed":2048},"dirty":{"modified":2,"untracked":1},"sync":{"result":"fast-forward"}}
{"id":"b","would":{"action":"prune","freed":1048576},"dirty":{"modified":0,"untracked":0},"sync":{"result":"skipped","reason":"dirty"}}
{"id":"c","dirty":{"modified":0,"untracked":3},"sync":"odd","x.y":"literal","x":{"y":"walked"}}
EOF
check_same "a.b is the field b of the object a; sizes in it in units; header upper-cased" \
"ID  WOULD.FREED  DIRTY.UNTRACKED  SYNC.RESULT   SYNC.REASON  WOULD.ACTION
a   2.0K         1                fast-forward  -            remove
b   1.0M         0                skipped       dirty        prune
c   -            3                -             -            -" \
	"$(wt-fmt -o id,would.freed,dirty.untracked,sync.result,sync.reason,would.action < "$T/nest" | sed 4q)"
check_same "a field named with a dot is found first" "literal" \
	"$(wt-fmt -H -o x.y < "$T/nest" | sed -n 3p)"
check_same "dirty as counts: M modified, U untracked, clean for none" \
	"2M 1U|clean|3U" "$(wt-fmt -H -o dirty < "$T/nest" | sed 3q | sed 's/ *$//' | tr '\n' '|' | sed 's/|$//')"
check_same "dirty that is not the counts object: as any other field" 'odd' \
	"$(echo '{"id":"d","dirty":"odd"}' | wt-fmt -H -o dirty)"

# Unknown columns: a name no record has and wt-record(5) does not know.
out=$(wt-fmt -o id,sise < "$T/in" 2> "$T/err")
check_same "a column no record has and no field of wt-record(5): exit 2, no table" "2 " "$? $out"
check_same "the reason on stderr" \
	"wt-fmt: unknown column 'sise': no record has it and wt-record(5) names no such field" \
	"$(cat "$T/err")"
out=$(wt-fmt -o id,would.fred < "$T/nest" 2> "$T/err")
check_same "the same for a nested name" "2 wt-fmt: unknown column 'would.fred': no record has it and wt-record(5) names no such field" \
	"$? $(cat "$T/err")"
check_same "a known field no record has yet is a column of -" "ID      FREED  ARCHIVE_SIZE  WOULD.FREED  DIRTY.MODIFIED  ARTIFACTS.NODE_MODULES
é-wide  -      -             -            -               -" \
	"$(wt-fmt -o id,freed,archive_size,would.freed,dirty.modified,artifacts.node_modules < "$T/in" | sed 2q)"
check_same "a field only the input has is a column" "o  {\"a\":[1,2],\"b\":{}}" \
	"$(wt-fmt -H -o id,o < "$T/misc" | tail -n 1)"
for c in a..b .a a. ; do
	wt-fmt -o "id,$c" < "$T/in" > /dev/null 2> "$T/err"
	printf '%s %s\n' "$?" "$(cat "$T/err")"
done > "$T/bad"
check_same "an empty name between dots: exit 2 with the reason" \
"2 wt-fmt: bad column 'a..b': an empty name between dots
2 wt-fmt: bad column '.a': an empty name between dots
2 wt-fmt: bad column 'a.': an empty name between dots" "$(cat "$T/bad")"

# Totals: every size column, nested ones too.
cat > "$T/tot" <<'EOF'
{"id":"a","freed":1048576,"archive_size":1024,"would":{"freed":2048}}
{"id":"b","freed":2097152,"archive_size":3072,"would":{"freed":2048}}
{"id":"c","freed":"x"}
{"id":"e","freed":5000000,"error":{"kind":"WorktreeError","message":"no","tool":"wt-rm"}}
EOF
wt-fmt -o id,freed,archive_size,would.freed,id < "$T/tot" > "$T/out" 2> /dev/null
check_same "the total of each size column, error records left out" \
	"2 worktrees, freed 3.0M, archive_size 4.0K, would.freed 4.0K" "$(tail -n 1 "$T/out")"
check_same "with sizes too, their sum first" "2 worktrees, 1.5K in all, freed 3.0M" \
	"$(printf '%s\n' '{"id":"a","size":1024,"freed":1048576}' '{"id":"b","size":512,"freed":2097152}' |
	   wt-fmt -o id,size,freed | tail -n 1)"

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

# A size wt-du took from its cache is marked, on worktrees of a real repository.
mkrepo "$T/r"
git -C "$T/r" worktree add -q "$T/w1" -b w1
git -C "$T/r" worktree add -q "$T/w2" -b w2
head -c 100000 /dev/urandom > "$T/w1/f"
(rec w1 "$T/w1"; rec w2 "$T/w2") | wt-du > "$T/du1"
(rec w1 "$T/w1"; rec w2 "$T/w2") | wt-du > "$T/du2"
check_same "wt-du: the first run measured, the second took the cache" "false false true true" \
	"$(cat "$T/du1" "$T/du2" | jq -r .du_cached | tr '\n' ' ' | sed 's/ $//')"
check_same "no mark on a size measured now" "0" "$(wt-fmt -o id,size < "$T/du1" | grep -c '[*]')"
s1=$(wt-fmt -H -o size < "$T/du1" | sed -n 1p)
check_same "a cached size ends in *, the total has none, a last line says what * is" \
"ID  SIZE
w1  $s1*
$(wt-fmt -o id,size < "$T/du1" | sed -n 3,4p | sed 's/^\(w2 *[^ ]*\)/\1*/')
* from wt-du's cache" "$(wt-fmt -o id,size < "$T/du2")"
check_same "only wt-du's sizes are marked" "1.0K" \
	"$(jq -c '. + {freed: 1024}' "$T/du2" | wt-fmt -H -o freed | sed -n 1p | sed 's/ *$//')"
echo changed >> "$T/w2/a.txt"
echo new > "$T/w2/n1"
echo new > "$T/w2/n2"
check_same "wt-ls -g's dirty as counts" "w1 1U|w2 1M 2U" \
	"$(wt-ls -g -d "$T" | wt-fmt -H -o id,dirty | sed 's/  */ /g; s/ $//' | tr '\n' '|' | sed 's/|$//')"
check_same "-H: no legend line" "0" "$(wt-fmt -H -o id,size < "$T/du2" | grep -c 'cache')"

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
