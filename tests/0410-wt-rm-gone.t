#!/bin/sh
# wt-rm on a worktree whose directory is already gone: git's admin entry and
# the registry's record go, as git worktree prune would; the commit rules hold.
. "$(dirname "$0")/lib.sh"
plan 30

mkrepo "$T/r"
cd "$T/r"
# gone ID [OWN]: a linked worktree on a new branch ID (with a commit of its
# own when OWN is given), its directory then removed behind git's back.
gone() {
	git -C "$T/r" worktree add -q "$T/$1" -b "$1" &&
	if [ -n "$2" ]; then (cd "$T/$1" && echo "$1" > "$1.txt" && git add "$1.txt" &&
			     git commit -q -m "$1"); fi &&
	rm -rf "$T/$1"
}
admin() { test -d "$T/r/.git/worktrees/$1"; }
branch() { git -C "$T/r" rev-parse -q --verify "refs/heads/$1" > /dev/null; }
# rm_gone ID [OPTIONS]: wt-rm on wt-ls's record of ID; the exit status and the rule.
rm_gone() {
	_id=$1; shift
	ls_rec "$_id" | wt-rm "$@" > "$T/out" 2> "$T/err"
	echo "$? $(jq -r '.error.context.rule // .skipped.reason // "none"' < "$T/out")"
}

# Merged (no commit of its own), in the registry.
gone m
check_same "wt-ls lists it as prunable" true "$(ls_rec m | jq .prunable)"
mkdir -p "$WT_HOME"
printf '{"id":"m","path":"%s","repo":"%s","status":"active"}\n{"id":"zz","path":"/elsewhere"}\n' \
	"$T/m" "$T/r/.git" > "$WT_HOME/registry.ndjson"
ls_rec m | wt-rm -n > "$T/out" 2> "$T/err"
check_same "-n: exit 0" 0 $?
check_same "-n: would remove, saying the directory is gone, the branch and the record" \
	'{"removed":false,"would":{"action":"remove","dir_gone":true,"delete_branch":"m","unregister":true}}' \
	"$(jqf '{removed, would}' < "$T/out")"
check "-n: git's admin entry stays" admin m
check "-n: the branch stays" branch m
check_same "-n: the registry is as it was" 2 "$(wc -l < "$WT_HOME/registry.ndjson")"
ls_rec m | wt-rm > "$T/out" 2> "$T/err"
check_same "removed: exit 0, no message on stderr" "0 " "$? $(grep "^wt-" "$T/err")"
check_same "the record: removed, dir_gone, freed 0, the merged branch deleted" \
	'{"removed":true,"dir_gone":true,"freed":0,"branch_deleted":true,"merged":true}' \
	"$(jqf '{removed, dir_gone, freed, branch_deleted, merged}' < "$T/out")"
check "git's admin entry is gone" test ! -e "$T/r/.git/worktrees/m"
check_same "git no longer lists it" "" "$(git -C "$T/r" worktree list | grep "$T/m")"
check "the merged branch is deleted" test -z "$(git -C "$T/r" branch --list m)"
check_same "the registry's record is removed, the other stays" '{"id":"zz","path":"/elsewhere"}' \
	"$(cat "$WT_HOME/registry.ndjson")"
rm -f "$WT_HOME/registry.ndjson"

# The same rules as for a present worktree: commits neither merged nor pushed.
gone own yes
check_same "a branch with commits neither merged nor pushed refuses" "1 unmerged" "$(rm_gone own)"
check_same "the message names the rule" true \
	"$(jq '.error.message | test("commits neither merged nor pushed")' < "$T/out")"
check "refused: git's admin entry stays" admin own
own=$(git -C "$T/r" rev-parse own)
ls_rec own | wt-rm -f > "$T/out" 2> "$T/err"
check_same "-f: removed, the directory gone, the branch kept" '{"removed":true,"dir_gone":true,"branch_deleted":false}' \
	"$(jqf '{removed, dir_gone, branch_deleted}' < "$T/out")"
check_same "-f: a backup ref keeps the commit, the branch too" "$own $own" \
	"$(git -C "$T/r" rev-parse "$(jq -r .backup_ref < "$T/out")") $(git -C "$T/r" rev-parse own)"
check "-f: git's admin entry is gone" test ! -e "$T/r/.git/worktrees/own"

# Pushed: the commits are safe on the remote; the branch is not merged and stays.
gone pushed yes
git -C "$T/r" push -q -u origin pushed
check_same "pushed: removed without -f" "0 none" "$(rm_gone pushed)"
check_same "an unmerged branch stays" "false true" "$(jq .branch_deleted < "$T/out") $(branch pushed && echo true)"

# A detached HEAD with a commit only it has.
git -C "$T/r" worktree add -q --detach "$T/det"
(cd "$T/det" && echo d > d.txt && git add d.txt && git commit -q -m det)
rm -rf "$T/det"
check_same "a detached HEAD only it has refuses" "1 unmerged" "$(rm_gone det)"

# Locked: a skip.
gone lk
git -C "$T/r" worktree lock --reason "on a USB disk" "$T/lk"
check_same "locked: skipped, exit 0" "0 locked" "$(rm_gone lk)"
check "locked: git's admin entry stays" admin lk

# gitdir must name exactly the missing path.
gone other
echo "$T/elsewhere/.git" > "$T/r/.git/worktrees/other/gitdir"
rec other "$T/other" | jq -c --arg r "$T/r/.git" '. + {repo: $r}' | wt-rm > "$T/out" 2> "$T/err"
check_same "an admin entry naming another path: refused as missing" "1 missing" \
	"$? $(jq -r .error.context.rule < "$T/out")"
check "and it stays" admin other
gone norepo
rec norepo "$T/norepo" | wt-rm > "$T/out" 2> "$T/err"
check_same "no repo in the record: refused as missing" "1 missing" \
	"$? $(jq -r .error.context.rule < "$T/out")"
check "and git's admin entry stays" admin norepo
rec never "$T/never" | jq -c --arg r "$T/r/.git" '. + {repo: $r}' | wt-rm > "$T/out" 2> "$T/err"
check_same "no admin entry at all: refused as missing, as before" "1 missing not removed: path does not exist" \
	"$? $(jq -r '.error.context.rule, .error.message' < "$T/out" | tr '\n' ' ' | sed 's/ $//')"

# A trailing slash in the record's path is the same path.
gone sl
ls_rec sl | jq -c '.path += "/"' | wt-rm > "$T/out" 2> "$T/err"
check_same "a trailing slash: removed" "0 true" "$? $(jq .dir_gone < "$T/out")"

# The whole listing: wt-ls | wt-rm takes what is gone and merged, skips the
# main worktree; wt-ls names norepo and other (at $T/elsewhere) as git does.
gone g1 && gone g2
(cd "$T/r" && wt-ls) | wt-rm > "$T/out" 2> "$T/err"
check_same "wt-ls | wt-rm: the gone merged worktrees removed" "g1 g2 norepo other" \
	"$(jq -r 'select(.dir_gone) | .id' < "$T/out" | tr '\n' ' ' | sed 's/ $//')"
done_testing
