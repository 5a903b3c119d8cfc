#!/bin/sh
# wt-stale: ages from each signal with WT_NOW pinned, the options, errors and pass-through.
. "$(dirname "$0")/lib.sh"
plan 45

# WT_NOW is 2026-06-01T00:00:00Z (lib.sh); commits and reflog entries are dated by
# GIT_COMMITTER_DATE, index times are set with touch -d.
mkrepo "$T/r"
cd "$T/r"
git worktree add -q "$T/idx" -b idx
git worktree add -q "$T/ref" -b ref
git worktree add -q "$T/files" -b files
admin="$T/r/.git/worktrees"
# ref: the newest reflog entry is a commit on 2026-05-02 12:00, its index older.
GIT_COMMITTER_DATE="2026-05-02T12:00:00Z" git -C "$T/ref" commit -q --allow-empty -m late
touch -d "2026-01-15T00:00:00Z" "$admin/ref/index"
# idx: the index was touched on 2026-04-02, after the record's last_accessed.
touch -d "2026-04-02T00:00:00Z" "$admin/idx/index"
# files: index on 2026-01-10, every file old but one changed on 2026-05-31.
touch -d "2026-01-10T00:00:00Z" "$admin/files/index"
touch -d "2026-01-20T00:00:00Z" "$T/r/.git/index"
# Every file of the worktrees is old (the real clock must not matter) but one.
find "$T/idx" "$T/ref" "$T/files" -exec touch -h -d "2026-01-05T00:00:00Z" {} +
touch -d "2026-05-31T00:00:00Z" "$T/files/b.txt"

rec='{"id":"rec","path":"/nowhere/rec", "x-u" : [1, {"k":"\u00e9"}] ,"last_accessed":"2026-03-03T00:00:00Z","n":1.50}'
idx='{"id":"idx","path":"'$T/idx'","last_accessed":"2026-02-01T00:00:00Z"}'
ref='{"id":"ref","path":"'$T/ref'"}'
files='{"id":"files","path":"'$T/files'"}'
arch='{"id":"arch","status":"archived","last_accessed":"2025-01-01T00:00:00Z"}'
arch2='{"id":"arch2","archived":true,"last_accessed":"2025-01-01T00:00:00Z"}'
none='{"id":"none","path":"/nowhere/none","status":"active"}'
err='{"id":"err","path":"/x","error":{"kind":"WorktreeError","message":"upstream failed","tool":"wt-ls"}, "z":0}'
mainwt='{"id":"r","path":"'$T/r'","main":true,"last_accessed":"2025-06-01T00:00:00Z"}'
printf '%s\n' "$rec" "$idx" "$ref" "$files" "$arch" "$arch2" "$none" "$err" "$mainwt" > "$T/in"

ids() { jq -r .id | tr '\n' ' ' | sed 's/ $//'; }
age() { jq -c --arg id "$1" 'select(.id == $id) | [.idle_days, .active_at, .active_by]'; }

wt-stale 30 < "$T/in" > "$T/out" 2> "$T/err"
check_same "wt-stale 30: the stale records and the error record, exit 1 for the error" \
	"1 rec idx files err" "$? $(ids < "$T/out")"
check_same "nothing on stderr for an error that came down the pipe" "" "$(cat "$T/err")"
check_same "last_accessed: 90 days, the record kept byte for byte with three fields appended" \
	"$(printf '%s' "$rec" | sed 's/}$//'),\"idle_days\":90,\"active_at\":\"2026-03-03T00:00:00Z\",\"active_by\":\"last_accessed\"}" \
	"$(sed -n 1p "$T/out")"
check_same "the index in git's admin dir, newer than last_accessed: 60 days" \
	'[60,"2026-04-02T00:00:00Z","index"]' "$(age idx < "$T/out")"
check_same "without -w the files do not count: the index gives 142 days" \
	'[142,"2026-01-10T00:00:00Z","index"]' "$(age files < "$T/out")"
check_same "an error record passes untouched" "$err" "$(sed -n 4p "$T/out")"

wt-stale -v 30 < "$T/in" > "$T/out"
check_same "-v: the others, and the error record" "ref err" "$(ids < "$T/out")"
check_same "the newest HEAD reflog entry: 29 days (29.5 rounded down)" \
	'[29,"2026-05-02T12:00:00Z","reflog"]' "$(age ref < "$T/out")"
check_same "-v: an error record passes untouched too" "$err" "$(sed -n 2p "$T/out")"

wt-stale -v -w 30 < "$T/in" > "$T/out"
check_same "-w: a file changed yesterday makes files active" \
	'[1,"2026-05-31T00:00:00Z","files"]' "$(age files < "$T/out")"
check_same "-w 30: files is no longer stale" "rec idx err" "$(wt-stale -w 30 < "$T/in" | ids)"

check_same "-a judges archived records (status or flag)" "rec idx files arch arch2 err" \
	"$(wt-stale -a 30 < "$T/in" | ids)"
check_same "-a: archived ages" '[516,"2025-01-01T00:00:00Z","last_accessed"]' \
	"$(wt-stale -a 30 < "$T/in" | age arch)"
wt-stale -u 30 < "$T/in" > "$T/out"
check_same "-u passes a record with no signal" "rec idx files none err" "$(ids < "$T/out")"
check_same "-u: with no field added, byte for byte" "$none" "$(grep '"none"' "$T/out")"
check_same "-m judges the main worktree" "rec idx files err r" "$(wt-stale -m 30 < "$T/in" | ids)"

check_same "-S record: only last_accessed counts" "rec idx err" \
	"$(wt-stale -S record 30 < "$T/in" | ids)"
check_same "-S record: idx is aged by its record" '[120,"2026-02-01T00:00:00Z","last_accessed"]' \
	"$(wt-stale -S record 30 < "$T/in" | age idx)"
check_same "-S index,reflog: the record's field is ignored" "idx files err" \
	"$(wt-stale -S index,reflog 30 < "$T/in" | ids)"
check_same "-S reflog: the reflog alone" '[151,"2026-01-01T00:00:00Z","reflog"]' \
	"$(wt-stale -S reflog 30 < "$T/in" | age idx)"
check_same "-S files: the walk alone" "idx ref err" "$(wt-stale -S files 30 < "$T/in" | ids)"
wt-stale -S bogus 30 < "$T/in" > /dev/null 2> "$T/err"
check_same "-S with an unknown signal: exit 2" "2" "$?"

check_same "-j 3 gives what -j 1 gives" "$(wt-stale -w -j 1 10 < "$T/in")" \
	"$(wt-stale -w -j 3 10 < "$T/in")"
check_same "WT_NOW moves the ages" '[120,"2026-03-03T00:00:00Z","last_accessed"]' \
	"$(WT_NOW=2026-07-01T00:00:00Z wt-stale 30 < "$T/in" | age rec)"
check_same "WT_NOW in seconds" '[90,"2026-03-03T00:00:00Z","last_accessed"]' \
	"$(WT_NOW=1780272000 wt-stale 30 < "$T/in" | age rec)"
check_same "days 0: every record with a signal" "rec idx ref files err" "$(wt-stale 0 < "$T/in" | ids)"
check_same "activity in the future is 0 days idle" '[0,"2027-01-01T00:00:00Z","last_accessed"]' \
	"$(echo '{"id":"f","last_accessed":"2027-01-01T00:00:00Z"}' | wt-stale 0 | age f)"
check_same "one second short of 30 days is 29" '[29,"2026-05-02T00:00:01Z","last_accessed"]' \
	"$(echo '{"id":"f","last_accessed":"2026-05-02T00:00:01Z"}' | wt-stale -v 30 | age f)"
check_same "a last_accessed that is not a time is no signal" "" \
	"$(echo '{"id":"f","last_accessed":"last week"}' | wt-stale 0)"
echo '{"id":"ok","last_accessed":"2026-01-01T00:00:00Z"}' | wt-stale 30 > /dev/null
check_same "exit 0 when no record carries an error" "0" "$?"
printf 'stale_days = 100\n' > "$T/cfg"
check_same "without days, the stale_days configuration key" "files err" \
	"$(WT_CONFIG=$T/cfg wt-stale < "$T/in" | ids)"

printf '%s\n' '{"id":"a","last_accessed":"2026-01-01T00:00:00Z"}' 'not json' '{"id":"b"' > "$T/bad"
wt-stale 30 < "$T/bad" > "$T/out" 2> "$T/err"
check_same "bad input: InputError records naming their lines, exit 1" \
	'1 "a" "InputError" 2 "InputError" 3' \
	"$? $(jq -c '.id // .error.kind, .error.context.line // empty' < "$T/out" | tr '\n' ' ' | sed 's/ $//')"
check_same "and a message for each on stderr" "2" "$(grep -c 'wt-stale: line [23]:' "$T/err")"

wt-stale ten < "$T/in" > /dev/null 2> "$T/err"
check_same "days not a number: exit 2" "2" "$?"
check_same "with a message that gives the accepted forms" \
	"wt-stale: bad number of days: 'ten' (a whole number of days: 30 or 30d)" "$(cat "$T/err")"
check_same "30d is 30 days" "$(wt-stale 30 < "$T/in" 2>/dev/null)" "$(wt-stale 30d < "$T/in" 2>/dev/null)"
wt-stale 4w < "$T/in" > /dev/null 2> "$T/err"
check_same "another unit: exit 2, with the accepted forms" \
	"2 wt-stale: bad number of days: '4w' (a whole number of days: 30 or 30d)" "$? $(cat "$T/err")"
printf 'stale_days = 100d\n' > "$T/cfg"
check_same "stale_days takes 100d too" "files err" "$(WT_CONFIG=$T/cfg wt-stale < "$T/in" | ids)"
wt-stale -- -5 < "$T/in" > /dev/null 2>&1
check_same "negative days: exit 2" "2" "$?"
wt-stale 30 40 < "$T/in" > /dev/null 2>&1
check_same "two operands: exit 2" "2" "$?"
WT_NOW=someday wt-stale 30 < "$T/in" > /dev/null 2> "$T/err"
check_same "a WT_NOW that is no time: exit 2" "2 wt-stale: bad value for WT_NOW: 'someday'" \
	"$? $(cat "$T/err")"
if command -v script > /dev/null 2>&1; then
	script -qec "wt-stale 30" /dev/null > "$T/tty" 2>&1 < /dev/null
	check_same "standard input on a terminal: usage, exit 2" "2" "$?"
else
	skip "no script(1) for a terminal"
fi

# Records stream: the first comes out while the writer still holds the pipe.
mkfifo "$T/fifo"
(echo '{"id":"first","last_accessed":"2020-01-01T00:00:00Z"}'; exec sleep 30) > "$T/fifo" &
feeder=$!
wt-stale -S record 1 < "$T/fifo" > "$T/streamed" &
i=0
while [ ! -s "$T/streamed" ] && [ "$i" -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
first=$(head -n 1 "$T/streamed" | jq -r .id)
kill "$feeder"
wait
check_same "a record is written before the input ends" "first" "$first"

# Records fed one per 100 ms leave one by one: each comes out before the next
# goes in (the pool hands on and flushes when the input would block).
slow() { # slow ARGS...: how many of 5 records came out in time, and their ids
	rm -f "$T/slow"
	mkfifo "$T/slow"
	: > "$T/slowout"
	wt-stale "$@" > "$T/slowout" < "$T/slow" &
	pid=$!
	exec 3> "$T/slow"
	seen=0
	for i in 1 2 3 4 5; do
		printf '{"id":"s%d","path":"/nowhere/s%d","last_accessed":"2020-01-01T00:00:00Z"}\n' $i $i >&3
		w=0
		while [ "$(wc -l < "$T/slowout")" -lt $i ] && [ $w -lt 50 ]; do
			sleep 0.1
			w=$((w + 1))
		done
		[ "$(wc -l < "$T/slowout")" -ge $i ] && seen=$((seen + 1))
		sleep 0.1
	done
	exec 3>&-
	wait $pid
	echo "$seen $(jq -r .id < "$T/slowout" | tr '\n' ' ')"
}
check_same "default signals on 2 workers, input one record per 100 ms: each out before the next" \
	"5 s1 s2 s3 s4 s5 " "$(slow -j 2 1)"
check_same "-S record (no workers): the same" "5 s1 s2 s3 s4 s5 " "$(slow -S record 1)"
done_testing
