#!/bin/sh
# wt-add: created and registered, all or nothing at every step; -c copies; --adopt registers.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-archive.sh"
plan 48

mkrepo "$T/r"
cd "$T/r"
printf '.env\nnode_modules/\n' > .gitignore && git add .gitignore && git commit -q -m ignore
echo SECRET=1 > .env
mkdir -p node_modules/dep && echo x > node_modules/dep/i.js
ln -s /etc/passwd node_modules/out
R="$WT_HOME/registry.ndjson"
base=$(git rev-parse main)

# nothing_left ID PATH [BRANCH]: no directory, admin entry, branch, record or intent.
nothing_left() {
	printf '%s' "$(ls -d "$2" "$T/r/.git/worktrees/$1" "$WT_HOME/creating/$1.json" 2>/dev/null)"
	git -C "$T/r" rev-parse -q --verify "refs/heads/${3:-feature/$1}" 2>/dev/null
	[ -f "$R" ] && jq -r --arg id "$1" 'select(.id == $id) | "record \(.id)"' "$R"
	return 0
}

# Success, with the defaults: worktree_root/PROJECT/ID on feature/ID from main.
wt-add SPEC-1 < /dev/null > "$T/out"
check_same "a worktree is created: exit 0" 0 $?
check_same "the record: path, repo, branch, head, status, times, project" \
	"SPEC-1 $HOME/worktrees/r/SPEC-1 $T/r/.git feature/SPEC-1 $base active 2026-06-01T00:00:00Z 2026-06-01T00:00:00Z r" \
	"$(jq -r '"\(.id) \(.path) \(.repo) \(.branch) \(.head) \(.status) \(.created_at) \(.last_accessed) \(.project)"' "$T/out")"
check_same "git knows the worktree on its branch" "$(git rev-parse main) feature/SPEC-1" \
	"$(git -C "$HOME/worktrees/r/SPEC-1" rev-parse HEAD) $(git -C "$HOME/worktrees/r/SPEC-1" branch --show-current)"
check_same "the registry has the record as written" "$(cat "$T/out")" "$(jq -c 'select(.id=="SPEC-1")' "$R")"
check_same "no intent file is left" "" "$(ls -A "$WT_HOME/creating")"

# Several ids in parallel, one registry update; stdin records with their own fields.
wt-add -j 3 P1 P2 P3 < /dev/null > "$T/out"
check_same "three ids: three worktrees and records" "P1 P2 P3 3" \
	"$(jq -r .id "$T/out" | tr '\n' ' ')$(jq -r 'select(.id | startswith("P"))' "$R" | jq -s length)"
printf '{"id":"IN1","branch":"topic/in","path":"%s","note":"kept"}\n' "$T/in1" | wt-add > "$T/out"
check_same "a record on stdin: its branch and path, its other fields kept" \
	"topic/in $T/in1 kept" "$(jq -r '"\(.branch) \(.path) \(.note)"' "$T/out")"

# --base, a record's base, and a path through a symbolic link, resolved.
git branch release && git -C "$T/r" commit -q --allow-empty -m later
wt-add --base release REL < /dev/null > "$T/out"
check_same "--base: the branch starts at that branch's commit" "$(git rev-parse release) $(git rev-parse release)" \
	"$(jq -r .head "$T/out") $(git rev-parse feature/REL)"
wt-add --base 'main~1' X < /dev/null > /dev/null 2>&1
check_same "--base of a revision, not a branch: exit 2" 2 $?
mkdir -p "$T/real" && ln -s "$T/real" "$T/link"
printf '{"id":"SYM","base":"release","path":"%s"}\n' "$T/link/sym" | wt-add > "$T/out"
check_same "a path through a link is written resolved; a record's base is used" \
	"$T/real/sym $(git rev-parse release)" "$(jq -r '"\(.path) \(.head)"' "$T/out")"
git reset -q --hard HEAD~1
base=$(git rev-parse main)

# -n: what would be made, nothing made.
wt-add -n DRY < /dev/null > "$T/out"
check_same "-n says what it would create" "create $HOME/worktrees/r/DRY feature/DRY refs/heads/main" \
	"$(jq -r '.would | "\(.action) \(.path) \(.branch) \(.base)"' "$T/out")"
check_same "-n makes nothing" "" "$(nothing_left DRY "$HOME/worktrees/r/DRY")"

# Failures before anything is made.
git branch taken
wt-add -b taken B1 < /dev/null > "$T/out" 2> /dev/null
check_same "an existing branch: exit 1, creation_step branch, nothing made" \
	'1 "WorktreeCreationError" "branch" null' \
	"$? $(jqf '.error.kind, .error.context.creation_step, .error.context.partial_worktree' "$T/out" | tr '\n' ' ' | sed 's/ $//')"
check_same "the existing branch is left alone" "$base" "$(git rev-parse taken)"
check_same "an existing branch: no directory, admin entry, record" "" \
	"$(nothing_left B1 "$HOME/worktrees/r/B1" nope)"
mkdir -p "$T/taken" && echo mine > "$T/taken/file"
wt-add -p "$T/taken" B2 < /dev/null > "$T/out" 2> /dev/null
check_same "an existing path: creation_step path, nothing made" '1 "path"' \
	"$? $(jqf .error.context.creation_step "$T/out")"
check_same "the existing path is untouched, no branch made" "mine" \
	"$(cat "$T/taken/file")$(nothing_left B2 /nonexistent)"
wt-add 'bad/id' < /dev/null > "$T/out" 2> /dev/null
check_same "an id that is no safe name is refused" '1 "input"' "$? $(jqf .error.context.creation_step "$T/out")"

# Limits: max_worktrees and disk_threshold, unless --force.
n=$(git worktree list | tail -n +2 | wc -l)
WT_MAX_WORKTREES=$n wt-add L1 < /dev/null > "$T/out" 2> "$T/err"
check_same "max_worktrees reached: refused, naming what to clean" '1 "limits" true' \
	"$? $(jqf .error.context.creation_step "$T/out") $(grep -q 'archive or remove some' "$T/err" && echo true)"
check_same "max_worktrees: nothing made" "" "$(nothing_left L1 "$HOME/worktrees/r/L1")"
WT_DISK_THRESHOLD=0 wt-add L2 < /dev/null > "$T/out" 2> /dev/null
check_same "over disk_threshold: refused at limits" '1 "limits"' "$? $(jqf .error.context.creation_step "$T/out")"
WT_MAX_WORKTREES=$n WT_DISK_THRESHOLD=0 wt-add --force L3 < /dev/null > /dev/null
check_same "--force creates beyond the limits" "0 active" "$? $(jq -r 'select(.id=="L3") | .status' "$R")"

# -c: ignored files copied from the main worktree, links as links.
wt-add -c .env -c node_modules C1 < /dev/null > "$T/out"
c="$HOME/worktrees/r/C1"
check_same "-c .env copies it" "SECRET=1" "$(cat "$c/.env")"
check_same "-c node_modules copies the directory, its link as a link" "x /etc/passwd" \
	"$(cat "$c/node_modules/dep/i.js") $(readlink "$c/node_modules/out")"
check_same "the record says what was copied and how" '".env" "node_modules"' \
	"$(jqf '[.copied[] | select(.how == "copy" or .how == "reflink") | .path] | .[]' "$T/out" | tr '\n' ' ' | sed 's/ $//')"

# On a filesystem that shares blocks, the copy is a reflink.
mkdir -p "$T/bt"
if command -v mkfs.btrfs > /dev/null && truncate -s 128M "$T/bt.img" &&
	mkfs.btrfs -q "$T/bt.img" > /dev/null 2>&1 && mount -o loop "$T/bt.img" "$T/bt" 2>/dev/null; then
	git init -q "$T/bt/r" && (cd "$T/bt/r" && echo .env > .gitignore && git add .gitignore &&
		git commit -q -m one && echo SECRET=2 > .env &&
		wt-add -c .env -p "$T/bt/w" BT < /dev/null > "$T/out")
	check_same "-c on btrfs: a reflink, the same content" "reflink SECRET=2" \
		"$(jq -r '.copied[0].how' "$T/out") $(cat "$T/bt/w/.env")"
	umount "$T/bt"
else
	skip "no btrfs to mount here"
fi

# A read-only parent directory (root ignores modes: a read-only mount).
mkdir -p "$T/ro"
if mount -t tmpfs -o ro,size=1m tmpfs "$T/ro" 2>/dev/null; then
	wt-add --force -p "$T/ro/sub/W" RO < /dev/null > "$T/out" 2> /dev/null
	check_same "a read-only parent: exit 1, a WorktreeCreationError" '1 "WorktreeCreationError"' \
		"$? $(jqf .error.kind "$T/out")"
	check_same "a read-only parent: nothing left, the branch undone" "" "$(nothing_left RO "$T/ro/sub/W")"
	umount "$T/ro"
else
	skip "cannot mount a tmpfs here"
	skip "cannot mount a tmpfs here"
fi

# A full disk: the checkout does not fit on a small filesystem.
head -c 3000000 /dev/urandom > big.bin && git add big.bin && git commit -q -m big
mkdir -p "$T/small"
if mount -t tmpfs -o size=1m tmpfs "$T/small" 2>/dev/null; then
	wt-add --force -p "$T/small/W" FULL < /dev/null > "$T/out" 2> /dev/null
	check_same "a full disk: exit 1 at the worktree step, the directory made" \
		"1 worktree $T/small/W" "$? $(jq -r '.error.context | "\(.creation_step) \(.partial_worktree)"' "$T/out")"
	check_same "a full disk: directory, admin entry, branch undone" "" "$(nothing_left FULL "$T/small/W")"
	check_same "a full disk: the filesystem is empty again" "" "$(ls -A "$T/small")"
	umount "$T/small"
else
	skip "cannot mount a tmpfs here"
	skip "cannot mount a tmpfs here"
	skip "cannot mount a tmpfs here"
fi
git reset -q --hard HEAD~1

# kill -9 between steps: the intent file stays; the next run undoes it all.
for step in branch worktree copied; do
	id=K-$step
	WT_TEST_PAUSE=$step wt-add -c .env $id < /dev/null > /dev/null 2> "$T/$id.err" &
	pid=$!
	wait_stopped $pid && grep -q "paused at $step\$" "$T/$id.err"
	check_same "kill -9 at $step: stopped there" 0 $?
	kill -9 $pid
	wait $pid 2>/dev/null
	check_same "kill -9 at $step: its intent file is there, at that step" "$step" \
		"$(tail -n 1 "$WT_HOME/creating/$id.json" | jq -r .step)"
	wt-add -n NOTHING < /dev/null > /dev/null 2>&1
	wt-add AFTER-$step < /dev/null > /dev/null 2> "$T/$id.err2"
	check_same "kill -9 at $step: the next run undoes it, nothing left" "undid" \
		"$(nothing_left $id "$HOME/worktrees/r/$id")$(grep -o "'$id': undid" "$T/$id.err2" | cut -d' ' -f2)"
done
# Killed once the record is journaled: the commit point, so the next run finishes it.
WT_TEST_PAUSE=journaled wt-add K-j < /dev/null > /dev/null 2> "$T/kj.err" &
pid=$!
wait_stopped $pid
kill -9 $pid
wait $pid 2>/dev/null
wt-add AFTER-j < /dev/null > /dev/null 2>&1
check_same "kill -9 once journaled: rolled forward, registered, no intent" "active $HOME/worktrees/r/K-j" \
	"$(jq -r 'select(.id=="K-j") | "\(.status) \(.path)"' "$R")$(ls "$WT_HOME/creating")"
# A dead run's worktree that got work is refused, not removed.
WT_TEST_PAUSE=worktree wt-add K-w < /dev/null > /dev/null 2> "$T/kw.err" &
pid=$!
wait_stopped $pid
kill -9 $pid
wait $pid 2>/dev/null
echo work > "$HOME/worktrees/r/K-w/new.txt"
wt-add AFTER-w < /dev/null > /dev/null 2> "$T/kw.err2"
check_same "a dead run's worktree holding new work is refused, kept with its intent" \
	"work K-w.json" "$(cat "$HOME/worktrees/r/K-w/new.txt") $(ls "$WT_HOME/creating")"

# --adopt: what wt-ls -d found, registered without creating anything.
git worktree add -q "$T/found/one" -b one
git worktree add -q "$T/found/two" -b two
wt-ls -d "$T/found" | wt-add --adopt > "$T/out" 2> "$T/err"
check_same "--adopt of wt-ls -d: exit 0, the registry's own records passed as they are" "0 " \
	"$? $(cat "$T/err")"
check_same "--adopt registers what -d found" "one $T/found/one active r
two $T/found/two active r" "$(jq -r 'select(.id=="one" or .id=="two") | "\(.id) \(.path) \(.status) \(.project)"' "$R")"
found() { jq -r --arg d "$T/found/" 'select(.path | startswith($d)) | .adopted' "$T/out" | tr '\n' ' '; }
check_same "--adopt says so, and made nothing" "true true 2" \
	"$(found)$(git worktree list | grep -c found)"
wt-ls -d "$T/found" | wt-add --adopt > "$T/out"
check_same "--adopt again: nothing to do" "false false " "$(found)"
git worktree add -q "$T/other/one" -b one-other
rec one "$T/other/one" | wt-add --adopt > "$T/out" 2> /dev/null
check_same "--adopt of another worktree with a registered id: a RegistryError" '1 "RegistryError"' \
	"$? $(jqf .error.kind "$T/out")"
rec main "$T/r" | jq -c '.main = true' | wt-add --adopt > "$T/out"
check_same "--adopt skips the main worktree" '0 "main"' "$? $(jqf .skipped.reason "$T/out")"
done_testing
