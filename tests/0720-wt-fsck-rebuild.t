#!/bin/sh
# wt-fsck --rebuild: ids from a MoAI SPEC ID in the directory's name or the branch, else git's name.
. "$(dirname "$0")/lib.sh"
plan 4

R="$WT_HOME/registry.ndjson"
mkrepo "$T/p"
git -C "$T/p" worktree add -q "$T/wts/SPEC-AUTH-001-login" -b login
git -C "$T/p" worktree add -q "$T/wts/work7" -b feature/SPEC-42
git -C "$T/p" worktree add -q "$T/wts/plain" -b plain
git -C "$T/p" worktree add -q "$T/wts/SPEC-9" -b feature/SPEC-10
git -C "$T/p" worktree add -q "$T/wts/spec-lower" -b fix/SPEC-x

wt-fsck -n --rebuild "$T" > "$T/n" 2>&1
check_same "-n --rebuild writes no registry" "no" "$(test -e "$R" && echo yes || echo no)"
wt-fsck --rebuild "$T" > "$T/out" 2> "$T/err"
check_same "--rebuild registers every linked worktree, exit 0" "0 5" "$? $(wc -l < "$R" | tr -d ' ')"
check_same "ids: the SPEC ID of the directory, else of the branch, else git's name" \
	"SPEC-42 $T/wts/work7|SPEC-9 $T/wts/SPEC-9|SPEC-AUTH-001 $T/wts/SPEC-AUTH-001-login|plain $T/wts/plain|spec-lower $T/wts/spec-lower" \
	"$(jq -r '"\(.id) \(.path)"' "$R" | sort | tr '\n' '|' | sed 's/|$//')"
check_same "and wt-fsck is clean after" "0" "$(wt-fsck > /dev/null 2>&1; echo $?)"
done_testing
