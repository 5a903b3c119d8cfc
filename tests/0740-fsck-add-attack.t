#!/bin/sh
# wt-add's undo and wt-fsck --repair attacked: forged and stale intents, work made since, moves, duplicates, writers.
. "$(dirname "$0")/lib.sh"
plan 38

R="$WT_HOME/registry.ndjson"
C="$WT_HOME/creating"
W="$HOME/worktrees/r"
mkrepo "$T/r"
cd "$T/r"
printf '.env\nnode_modules/\n' > .gitignore
mkdir sub && echo in-sub > sub/s.txt
git add .gitignore sub && git commit -q -m ignores && git push -q
echo secret > .env
base=$(git rev-parse HEAD)

# killed STEP ID [ARG...]: a wt-add of ID killed -9 where it stopped itself, at STEP.
killed() {
	_s=$1 _id=$2
	shift 2
	WT_TEST_PAUSE=$_s wt-add "$@" "$_id" < /dev/null > /dev/null 2> "$T/$_id.err" &
	_p=$!
	wait_stopped $_p
	kill -9 $_p
	wait $_p 2> /dev/null
}
# undo: the undo of every dead run's creation, through wt-fsck --repair.
undo() { wt-fsck --repair > "$T/undo.out" 2> "$T/undo.err"; }
# kept ID: the intent file of ID stays and its directory is there.
kept() { [ -f "$C/$1.json" ] && [ -d "$W/$1" ]; }

# ---- wt-add's undo: work made in a dead run's worktree before the undo ----

# Killed after the checkout, before its step was written: then a tracked file is changed.
killed worktree U-mod
echo mine >> "$W/U-mod/a.txt"
undo
check_same "a tracked file changed after a dead checkout is work: kept" "one
mine" "$(cat "$W/U-mod/a.txt" 2>&1)"

# The same with a new file staged (no untracked file: git add made it tracked).
killed worktree U-staged
echo staged > "$W/U-staged/new.txt"
git -C "$W/U-staged" add new.txt
undo
check_same "a file staged after a dead checkout is work: kept" "staged" \
	"$(cat "$W/U-staged/new.txt" 2>&1)"

# A commit in it.
killed worktree U-commit
git -C "$W/U-commit" commit -q --allow-empty -m mine
undo
check "a commit made after a dead checkout: kept" kept U-commit

# An ignored file that is no copy.
killed worktree U-ign
echo local > "$W/U-ign/.env"
undo
check_same "an ignored file written after a dead checkout: kept" "local" \
	"$(cat "$W/U-ign/.env" 2>&1)"

# A copy (-c .env) that was edited since.
killed copied U-copy -c .env
echo edited > "$W/U-copy/.env"
undo
check_same "a copied file edited after a dead run: kept" "edited" \
	"$(cat "$W/U-copy/.env" 2>&1)"

# A nested repository.
killed worktree U-nest
git init -q "$W/U-nest/inner" && echo x > "$W/U-nest/inner/x" &&
	git -C "$W/U-nest/inner" add x && git -C "$W/U-nest/inner" commit -q -m inner
undo
check "a nested repository made after a dead checkout: kept" has_commit "$W/U-nest/inner"

# The control: copies as they were made (a file and a directory) and a
# checkout with nothing since are undone, all of them.
mkdir -p node_modules/pkg && echo dep > node_modules/pkg/index.js
killed copied U-clean1 -c .env -c node_modules
killed worktree U-clean2
undo
check_same "unchanged copies and checkouts of dead runs are undone" "" \
	"$(ls -d "$W/U-clean1" "$W/U-clean2" "$C/U-clean1.json" "$C/U-clean2.json" 2>/dev/null)"
# A file added to a copied directory is work.
killed copied U-copydir -c node_modules
echo mine > "$W/U-copydir/node_modules/pkg/mine.js"
undo
check_same "a file added to a copied directory after a dead run: kept" "mine" \
	"$(cat "$W/U-copydir/node_modules/pkg/mine.js" 2>&1)"

# ---- wt-add's undo: forged and stale intent files ----

# forge ID JSON: an intent file no run holds, as a dead run's would be.
forge() { mkdir -p "$C" && printf '%s\n' "$2" > "$C/$1.json"; }
# A registered worktree, clean, at the base commit, on its own branch.
git worktree add -q "$T/victim" -b victim
rec victim "$T/victim" | wt-add --adopt > /dev/null 2>&1
forge F-bare '{"id":"F-bare","path":"'"$T/victim"'","repo":"'"$T/r/.git"'"}'
undo
check "a forged intent naming no step or worktree name removes nothing" has_commit "$T/victim"
git worktree add -q "$T/victim2" -b victim2
rec victim2 "$T/victim2" | wt-add --adopt > /dev/null 2>&1
forge F-named '{"id":"F-named","path":"'"$T/victim2"'","repo":"'"$T/r/.git"'","name":"victim2","branch":"victim2","made_branch":true,"base":"'"$base"'","step":"worktree"}'
undo
check_same "a forged intent naming a registered worktree as its own removes nothing" "$base $base" \
	"$(git -C "$T/victim2" rev-parse HEAD 2>&1) $(git rev-parse -q --verify refs/heads/victim2)"
rm -f "$C"/F-*.json
forge F-main '{"id":"F-main","path":"'"$T/r"'","repo":"'"$T/r/.git"'","name":"r","step":"checked_out"}'
forge F-home '{"id":"F-home","path":"'"$HOME"'","repo":"'"$T/r/.git"'","name":"home","step":"worktree"}'
undo
check "forged intents naming the main worktree or \$HOME remove nothing" \
	sh -c "has_commit() { git -C \"\$1\" rev-parse -q --verify HEAD > /dev/null; }; has_commit '$T/r' && [ -f '$HOME/.gitconfig' ]"
rm -f "$C"/F-*.json

# The path replaced by a symbolic link, after the intent was written: to another worktree, or to itself moved.
git worktree add -q "$T/victim3" -b victim3
killed copied S-link -c .env
mv "$W/S-link" "$T/S-moved"
ln -s "$T/victim3" "$W/S-link"
undo
check_same "a dead run's path now a link to another worktree: both kept" "$base $base" \
	"$(git -C "$T/victim3" rev-parse HEAD 2>&1) $(git -C "$T/S-moved" rev-parse HEAD 2>&1)"
rm "$W/S-link"
ln -s "$T/S-moved" "$W/S-link"
undo
check "a dead run's path now a link to its own moved directory: not followed" has_commit "$T/S-moved"
rm "$W/S-link"
mv "$T/S-moved" "$W/S-link"
undo

# A branch of the same name that someone else made: killed at step branch
# (the intent says made_branch before the branch exists), or the run's own
# worktree and branch removed by hand and the name made again.
killed branch B-other
git branch -q -D feature/B-other
git branch -q feature/B-other main
killed worktree B-again
git worktree remove --force "$W/B-again"
git branch -q -D feature/B-again
git branch -q feature/B-again main
undo
check_same "someone else's branch of the run's name is not deleted" "$base $base" \
	"$(git rev-parse -q --verify refs/heads/feature/B-other) $(git rev-parse -q --verify refs/heads/feature/B-again)"
killed branch B-own
undo
check_same "the run's own branch is" "" "$(git rev-parse -q --verify refs/heads/feature/B-own)"

# In a bare repository, which keeps no reflogs, the run's branch is still known as its own.
git clone -q --bare "$T/r" "$T/bare.git"
(cd "$T/bare.git" && killed branch B-bare)
undo
check_same "a bare repository: the run's own branch is undone" "" \
	"$(git -C "$T/bare.git" rev-parse -q --verify refs/heads/feature/B-bare)$(ls "$C" | grep B-bare)"

# A bind mount inside the dead run's worktree, over a tracked directory with
# the same files (so git sees no change): the mounted files are another
# worktree's, and the dead run's worktree stays whole, not half removed.
killed worktree M-bind
if mount --bind "$T/victim3/sub" "$W/M-bind/sub" 2> /dev/null; then
	undo
	check_same "a bind mount inside: nothing removed through it, nor around it" "in-sub one" \
		"$(cat "$T/victim3/sub/s.txt" 2>&1) $(cat "$W/M-bind/a.txt" 2>&1)"
	umount "$W/M-bind/sub"
else
	skip "cannot bind mount here"
fi
undo

# A run's own failure at a path a stale record names (its worktree removed
# by hand): the registry's record does not stop this run undoing its own.
git init -q "$T/big" && head -c 3000000 /dev/urandom > "$T/big/big.bin" &&
	git -C "$T/big" add big.bin && git -C "$T/big" commit -q -m big
mkdir -p "$T/small"
if mount -t tmpfs -o size=1m tmpfs "$T/small" 2> /dev/null; then
	rec FULL "$T/small/W" | jq -c --arg r "$T/big/.git" '.repo = $r' >> "$WT_HOME/registry.ndjson"
	(cd "$T/big" && wt-add --force -p "$T/small/W" FULL < /dev/null > "$T/out" 2> /dev/null)
	check_same "a failure at a path a stale record names: this run's own creation undone" "1||" \
		"$?|$(ls -A "$T/small")|$(ls "$C" | grep FULL)"
	umount "$T/small"
else
	skip "cannot mount a tmpfs here"
fi

# A live run (stopped, holding its intent's lock) is not undone, and goes on to finish.
WT_TEST_PAUSE=worktree wt-add L-live < /dev/null > "$T/live.out" 2> "$T/live.err" &
pid=$!
wait_stopped $pid
undo
kill -CONT $pid
wait $pid
check_same "a live run's creation is not undone; it finishes" "0 active" \
	"$? $(jq -r 'select(.id == "L-live") | .status' "$R")"

# A dead run whose pid is now a live process's: the lock, not the pid, says it died.
killed worktree P-reuse
tail -n 1 "$C/P-reuse.json" | jq -c ".pid = $$" >> "$C/P-reuse.json"
undo
check_same "a dead run's intent whose pid was reused is undone" "" \
	"$(ls -d "$W/P-reuse" "$C/P-reuse.json" 2>/dev/null)"

# ---- wt-fsck --repair: moves, duplicates, garbage, writers ----

export WT_HOME="$T/wt2"
R="$WT_HOME/registry.ndjson"
mkrepo "$T/f"
cd "$T/f"
for w in sw1 sw2 cp mv d1 d2; do
	git worktree add -q "$T/fw/$w" -b "$w"
	rec "$w" "$T/fw/$w" | wt-add --adopt > /dev/null 2>&1
done
gitdir() { cat "$T/f/.git/worktrees/$1/gitdir"; }

# Two worktrees moved into each other's paths.
mv "$T/fw/sw1" "$T/fw/tmp" && mv "$T/fw/sw2" "$T/fw/sw1" && mv "$T/fw/tmp" "$T/fw/sw2"
# One copied beside itself, then moved: two directories name its admin entry.
cp -a "$T/fw/cp" "$T/fw/cp-copy" && mv "$T/fw/cp" "$T/fw/cp-moved"
wt-fsck --repair > "$T/f.out" 2> "$T/f.err"
check_same "swapped worktrees: git's pointers are not rewritten" "$T/fw/sw1/.git $T/fw/sw2/.git" \
	"$(gitdir sw1) $(gitdir sw2)"
check_same "a worktree with a copy beside it: git's pointer names neither (which is it?)" \
	"$T/fw/cp/.git" "$(gitdir cp)"
check_same "and every record stays" "cp d1 d2 mv sw1 sw2" \
	"$(jq -r .id "$R" | sort | tr '\n' ' ' | sed 's/ $//')"

# A foreign checkout (a clone) at the old place of a moved worktree.
mv "$T/fw/mv" "$T/fw/mv-new"
git clone -q "$T/f" "$T/fw/mv"
wt-fsck --repair > "$T/f.out" 2> "$T/f.err"
check_same "a clone at a moved worktree's old place: untouched, no pointer written, the record an error" \
	"directory $T/fw/mv/.git gitdir: $T/f/.git/worktrees/mv error not_linked" \
	"$(stat -c %F "$T/fw/mv/.git") $(gitdir mv) $(cat "$T/fw/mv-new/.git") $(jq -r 'select(.id == "mv") | .status' "$R") $(jq -r 'select(.id == "mv") | .problem' "$T/f.out")"

# A duplicate id where both records are real worktrees: neither record goes.
jq -c 'if .id == "d2" then .id = "d1" else . end' "$R" > "$R.new" && mv "$R.new" "$R"
wt-fsck --repair > "$T/f.out" 2> "$T/f.err"
check_same "a duplicate id of two real worktrees: both records stay, one renamed, neither marked an error" \
	"d1 $T/fw/d1 active|d1~2 $T/fw/d2 active" \
	"$(jq -r 'select(.path | test("/fw/d[12]$")) | "\(.id) \(.path) \(.status)"' "$R" | sort | tr '\n' '|' | sed 's/|$//')"

# Lines that are almost records: a CRLF end, a byte-order mark, trailing
# garbage, cut short, an id that is a number.
cp "$R" "$T/reg.good"
{
	printf '{"id":"crlf","path":"%s"}\r\n' "$T/fw/gone"
	printf '\357\273\277{"id":"bom","path":"%s"}\n' "$T/fw/sw1"
	printf '{"id":"trail","path":"%s"} x\n' "$T/fw/sw1"
	printf '{"id":"cut","path":"%s"\n' "$T/fw/sw1"
	printf '{"id":5,"path":"%s"}\n' "$T/fw/d1"
} >> "$R"
wt-fsck --repair > "$T/f.out" 2> "$T/f.err"
check_same "almost-records: each a bad_line, repaired" "4 true" \
	"$(jq -r 'select(.problem == "bad_line") | .repaired' "$T/f.out" | wc -l | tr -d ' ') $(jq -r 'select(.problem == "bad_line") | .repaired' "$T/f.out" | sort -u)"
check_same "only those lines went (a CRLF line is a record), kept in the .bak; no patch names an id-less line" \
	"0 5 missing " \
	"$(jq -c 'select(.id != "crlf")' "$R" | cmp -s "$T/reg.good" -; echo $?) $(grep -c -a 'crlf\|bom\|trail\|cut\|"id":5' "$R.bak") $(jq -r 'select(.id == "crlf") | .problem' "$T/f.out") $(grep 'not a patch' "$T/f.err")"

# A writer holding the registry's lock while --repair runs: it writes a
# record that sorts first, so the garbage line moves one line down before
# --repair's commit; --repair waits for the lock, then drops nothing that
# moved, loses no record, and says what it did not do.
# wait_for FILE PATTERN: waits, 5 s at most, until FILE has a line matching PATTERN.
wait_for() {
	_i=0
	while [ $_i -lt 500 ]; do
		grep -q -- "$2" "$1" 2> /dev/null && return 0
		sleep 0.01
		_i=$((_i + 1))
	done
	echo "# wait_for: no '$2' in '$1'"
	return 1
}
# under_writer ID: wt-fsck --repair while a writer holds the lock; once
# --repair has journaled its drop, the writer puts the record ID first.
under_writer() {
	rm -f "$T/held" "$T/go" && mkfifo "$T/go"
	flock "$WT_HOME/registry.lock" sh -c '
		echo held > "$0/held"
		read x < "$0/go"
		{ printf "{\"id\":\"%s\",\"path\":\"%s\"}\n" "$2" "$0/fw/$2"; cat "$1"; } > "$1.w" &&
			mv "$1.w" "$1"' "$T" "$R" "$1" &
	_h=$!
	wait_for "$T/held" held
	WT_LOCK_TIMEOUT=30 wt-fsck --repair > "$T/f.out" 2> "$T/f.err" &
	_f=$!
	wait_for "$WT_HOME/registry.journal" '"drop"'
	echo go > "$T/go"
	wait $_h
	wait $_f
	rc=$?
}
echo 'garbage under a writer' >> "$R"
# A commit of another run keeps the line and makes the index valid: --repair has nothing to lock before its commit.
git worktree add -q "$T/fw/late" -b late
rec late "$T/fw/late" | wt-add --adopt > /dev/null 2>&1
under_writer aaa
check_same "under a writer: the writer's record and every other stays, the moved line too" \
	"aaa cp crlf d1 d1~2 late mv sw1 sw2|1" \
	"$(jq -R -r 'fromjson? | .id' "$R" | sort | tr '\n' ' ' | sed 's/ $//')|$(grep -c 'garbage under a writer' "$R")"
check_same "and the bad line is not reported repaired, exit 1" "1 false" \
	"$rc $(jq -r 'select(.problem == "bad_line") | .repaired' "$T/f.out")"
# The same for the line of a duplicate id's loser.
wt-fsck --repair > /dev/null 2>&1
git worktree add -q "$T/fw/dupb" -b dupb
rec late "$T/fw/dupb" >> "$R"
rec dupb "$T/fw/dupb" | wt-add --adopt > /dev/null 2>&1
under_writer aab
check_same "a duplicate id under a writer: not reported repaired, exit 1" "1 false" \
	"$rc $(jq -r 'select(.problem == "duplicate_id") | .repaired' "$T/f.out")"
check_same "and no record is lost" "late $T/fw/dupb|late $T/fw/late" \
	"$(jq -r 'select(.id == "late") | "\(.id) \(.path)"' "$R" | sort | tr '\n' '|' | sed 's/|$//')"

# A writer that holds the lock past --repair's timeout: nothing is lost, the
# journal keeps the repair, and the next --repair finishes it.
wt-fsck --repair > /dev/null 2>&1
echo 'garbage past the timeout' >> "$R"
cp "$R" "$T/reg.held"
rm -f "$T/held" "$T/go" && mkfifo "$T/go"
flock "$WT_HOME/registry.lock" sh -c 'echo held > "$0/held"; read x < "$0/go"' "$T" &
h=$!
wait_for "$T/held" held
WT_LOCK_TIMEOUT=0.2 wt-fsck --repair > "$T/f.out" 2> "$T/f.err"
rc=$?
echo go > "$T/go"
wait $h
check_same "the lock held past the timeout: exit 2, the registry untouched, the drop journaled" "2 0 1" \
	"$rc $(cmp -s "$T/reg.held" "$R"; echo $?) $(grep -c '"drop"' "$WT_HOME/registry.journal")"
wt-fsck --repair > "$T/f.out" 2> "$T/f.err"
check_same "the next --repair finishes it" "0 0" \
	"$(grep -c 'garbage past' "$R") $(wt-fsck > /dev/null 2>&1; echo $?)"

# A registry that is a symbolic link (kept in a dotfiles directory): the
# repair writes the file it names, and the link stays.
mkdir "$T/dot"
mv "$R" "$T/dot/registry.ndjson"
ln -s "$T/dot/registry.ndjson" "$R"
echo 'garbage behind a link' >> "$R"
wt-fsck --repair > "$T/f.out" 2> "$T/f.err"
check_same "a registry that is a link: still a link, its file repaired, no record lost" \
	"symbolic link 0 $(jq -R -r "fromjson? | .id" "$T/reg.held" | sort | tr '\n' ' ')" \
	"$(stat -c %F "$R") $(grep -c garbage "$T/dot/registry.ndjson") $(jq -R -r 'fromjson? | .id' "$T/dot/registry.ndjson" | sort | tr '\n' ' ')"

# --rebuild with an archive directory that holds two archives of one id
# (archived, restored, archived again): both are registered, neither lost.
export WT_HOME="$T/wt3"
R="$WT_HOME/registry.ndjson"
git worktree add -q "$T/fw3/arc" -b arc
rec arc "$T/fw3/arc" | wt-add --adopt > /dev/null 2>&1
wt-ls -i arc | wt-archive > /dev/null 2>&1
# The restore deletes the archive it verified: a copy of it kept by hand, put back after.
mkdir "$T/keep" && cp "$WT_HOME"/archives/arc* "$T/keep/"
wt-ls -i arc | wt-restore > /dev/null 2>&1
echo later > "$T/fw3/arc/later.txt"
wt-ls -i arc | WT_NOW=2026-07-01T00:00:00Z wt-archive > /dev/null 2>&1
cp -n "$T"/keep/* "$WT_HOME/archives/"
n=$(ls "$WT_HOME/archives" | grep -c '^arc')
rm -f "$R" "$R.bak" "$WT_HOME/registry.idx"
wt-fsck --rebuild "$T/fw3" > "$T/f.out" 2> "$T/f.err"
check_same "--rebuild: two archives of one id, both registered under unique ids" \
	"2 2 2" \
	"$n $(jq -r 'select(.archived) | .archive' "$R" | sort -u | wc -l | tr -d ' ') $(jq -r 'select(.archived) | .id' "$R" | sort -u | wc -l | tr -d ' ')"
wt-fsck --repair > "$T/f.out" 2>&1
check_same "and neither is then taken for another id's archive (archive_corrupt), nor marked an error" "" \
	"$(jq -r 'select(.problem | startswith("archive")) | .problem' "$T/f.out")$(jq -r 'select(.archived and .status == "error") | .id' "$R")"

# A worktree moved elsewhere with a symbolic link to it beside its old place:
# the link is no moved worktree, and git's pointer is not written through it.
cd "$T/f"
git worktree add -q "$T/fw3/lnk" -b lnk
rec lnk "$T/fw3/lnk" | wt-add --adopt > /dev/null 2>&1
mkdir "$T/elsewhere" && mv "$T/fw3/lnk" "$T/elsewhere/lnk" && ln -s "$T/elsewhere/lnk" "$T/fw3/lnk-link"
wt-fsck --repair > "$T/f.out" 2>&1
check_same "a link to a moved worktree beside its old place: git's pointer unchanged, the path too" \
	"$T/fw3/lnk/.git $T/fw3/lnk" \
	"$(cat "$T/f/.git/worktrees/lnk/gitdir") $(jq -r 'select(.id == "lnk") | .path' "$R")"

# ---- protection refs ----

# A commit only a protection ref holds, and a symbolic ref that names that
# protection ref: it reaches the commit only through it, so it vouches for
# nothing, and the protection ref stays.
git -C "$T/f" worktree add -q "$T/fw3/solo" -b solo
git -C "$T/fw3/solo" commit -q --allow-empty -m "only the protection ref has it"
solo=$(git -C "$T/fw3/solo" rev-parse HEAD)
git -C "$T/fw3/solo" checkout -q --detach HEAD~1
git -C "$T/f" update-ref refs/wt/removed/solo "$solo"
git -C "$T/f" branch -q -D solo
git -C "$T/f" symbolic-ref refs/heads/alias refs/wt/removed/solo
wt-fsck --repair > "$T/f.out" 2>&1
check_same "a symbolic ref naming the protection ref does not vouch for it: kept" "$solo $solo" \
	"$(git -C "$T/f" rev-parse -q --verify refs/wt/removed/solo) $(git -C "$T/f" rev-parse -q --verify refs/heads/main~0 > /dev/null && git -C "$T/f" cat-file -t "$solo" > /dev/null && echo "$solo")"

done_testing
