#!/bin/sh
# wt-fsck: refs/wt/removed/* and refs/wt/backup/* whose work is safe elsewhere go; the only keepers of work stay.
. "$(dirname "$0")/lib.sh"
plan 8

R="$WT_HOME/registry.ndjson"
mkdir -p "$WT_HOME"
mkrepo "$T/r"
for w in a b c; do
	git -C "$T/r" worktree add -q "$T/$w" -b "$w"
done
for w in a b c; do
	lsd_rec "$w"
done | jq -c '. + {status: "active"}' > "$R"
# A commit no branch has: work that only a protection ref keeps.
lone=$(git -C "$T/r" commit-tree -p HEAD -m "only kept by a ref" "HEAD^{tree}")
git -C "$T/r" update-ref refs/wt/removed/gone1 main          # record gone, work on main
git -C "$T/r" update-ref refs/wt/removed/gone2 "$lone"       # record gone, work nowhere else
git -C "$T/r" update-ref refs/wt/backup/a a                  # wt-sync's backup, the branch has it
git -C "$T/r" update-ref refs/wt/backup/b "$lone"            # a backup holding what the branch lost
git -C "$T/r" update-ref refs/wt/backup/c c                  # the branch has it, but a sync runs
lone2=$(git -C "$T/r" commit-tree -p HEAD -m "an archive's" "HEAD^{tree}")
git -C "$T/r" update-ref refs/wt/archived/x "$lone2"         # an archive's ref: not fsck's to judge

refs() { git -C "$T/r" for-each-ref --format='%(refname)' refs/wt | tr '\n' ' ' | sed 's/ $//'; }
wt-fsck > "$T/out" 2> "$T/err"
check_same "refs whose work is safe elsewhere are problems, exit 1" \
	"1 refs/wt/backup/a refs/wt/backup/c refs/wt/removed/gone1" \
	"$? $(jq -r 'select(.problem == "protect_ref") | .detail | split(" ")[0]' "$T/out" | sort | tr '\n' ' ' | sed 's/ $//')"
check_same "the detail names the ref that reaches it" \
	"refs/wt/removed/gone1 holds $(git -C "$T/r" rev-parse --short=12 main); no record is 'gone1', which refs/heads/a reaches: its work is safe there" \
	"$(jq -r 'select(.problem == "protect_ref" and (.detail | startswith("refs/wt/removed/gone1"))) | .detail' "$T/out")"
wt-fsck -n --repair > /dev/null 2>&1
check_same "-n deletes no ref" "refs/wt/archived/x refs/wt/backup/a refs/wt/backup/b refs/wt/backup/c refs/wt/removed/gone1 refs/wt/removed/gone2" "$(refs)"
# wt-sync holds the lock of the worktree's admin directory while it syncs.
flock "$T/r/.git/worktrees/c" wt-fsck --repair > "$T/outr" 2> "$T/errr"
check_same "--repair deletes only refs whose every commit a branch holds, and none a running sync uses" \
	"refs/wt/archived/x refs/wt/backup/b refs/wt/backup/c refs/wt/removed/gone2" "$(refs)"
check_same "the lone commit is still kept" "$lone" "$(git -C "$T/r" rev-parse refs/wt/removed/gone2)"
wt-fsck -v > "$T/outv" 2>&1
check_same "the only keepers of work are a known state, listed with -v; c is a problem again" \
	"refs/wt/backup/b refs/wt/removed/gone2 | refs/wt/backup/c" \
	"$(jq -r 'select(.known == "protect_ref") | .detail | split(" ")[0]' "$T/outv" | sort | tr '\n' ' ')| $(jq -r 'select(.problem) | .detail | split(" ")[0]' "$T/outv")"
wt-fsck --repair > /dev/null 2>&1
check_same "once the sync is over, its ref goes" "refs/wt/archived/x refs/wt/backup/b refs/wt/removed/gone2" "$(refs)"
check_same "and wt-fsck is clean" 0 "$(wt-fsck > /dev/null 2>&1; echo $?)"
done_testing
