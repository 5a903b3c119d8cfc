#!/bin/sh
# wt-restore -p: a wt-archive -k archive restored as a copy, from the record
# that is not archived or with -a, the original and its record untouched.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-archive.sh"
plan 26

mkrepo "$T/r"
mkwt w1
mkdir -p "$WT_HOME"
printf '{"id":"w1","path":"%s","repo":"%s","project":"p"}\n' "$T/w1" "$T/r/.git" > "$WT_HOME/registry.ndjson"
lsd_rec w1 | wt-archive -k > "$T/arch" 2> "$T/err"
check_same "wt-archive -k: exit 0" 0 $?
check_same "the record names the archive and is not archived" "true false" \
	"$(jq -r '(.archive | type == "string"), (.archived // false)' < "$T/arch" | tr '\n' ' ' | sed 's/ $//')"
arch=$(jq -r .archive < "$T/arch")
snap "$T/w1" > "$T/w1.snap"
cp "$WT_HOME/registry.ndjson" "$T/reg.before"
git -C "$T/r" for-each-ref > "$T/refs.before"

# The record the registry now has is not archived: -p makes a copy.
lsd_rec w1 > "$T/rec"
check_same "the registry's record names the archive" "$arch" "$(jq -r .archive < "$T/rec")"
wt-restore -n -p "$T/copy" < "$T/rec" > "$T/out" 2> "$T/err"
check_same "-n: exit 0, the would object says whose copy" "0 restore $T/copy w1" \
	"$? $(jq -r '.would | .action, .path, .copy_of' < "$T/out" | tr '\n' ' ' | sed 's/ $//')"
check "-n: nothing made" test ! -e "$T/copy"
wt-restore -p "$T/copy" < "$T/rec" > "$T/out" 2> "$T/err"
check_same "restored as a copy: exit 0, no message on stderr" "0 " "$? $(grep "^wt-" "$T/err")"
check_same "the copy's record: git's name for it, whose copy, where, active" \
	"w1-2 w1 $T/copy active" \
	"$(jq -r '.id, .copy_of, .path, .status' < "$T/out" | tr '\n' ' ' | sed 's/ $//')"
check_same "the branch is the original's: the copy is detached at its commit, and says why" \
	"null $(cat "$T/w1.head") true" \
	"$(jq -r '.branch, .head, (.restore_note | test("checked out elsewhere"))' < "$T/out" | tr '\n' ' ' | sed 's/ $//')"
snap "$T/copy" | grep -av '^# branch\.' | sed '/^[0-9a-f]\{40\} /d' > "$T/copy.snap"
grep -av '^# branch\.' "$T/w1.snap" | sed '/^[0-9a-f]\{40\} /d' > "$T/w1.cmp"
check_same "the copy holds the work as archived: files, modes, links, staged and unstaged" \
	"$(cat "$T/w1.cmp")" "$(cat "$T/copy.snap")"
check_same "git lists the copy as a worktree" "$T/copy" \
	"$(git -C "$T/r" worktree list --porcelain | sed -n 's/^worktree //p' | grep copy)"
check_same "the original is as it was" "$(cat "$T/w1.snap")" "$(snap "$T/w1")"
check_same "the original's record is not repointed: it is as it was" \
	"$(cat "$T/reg.before")" "$(jq -c 'select(.id == "w1")' "$WT_HOME/registry.ndjson")"
check_same "the registry has the copy as a record of its own" "w1 $T/copy" \
	"$(jq -r 'select(.id == "w1-2") | "\(.copy_of) \(.path)"' "$WT_HOME/registry.ndjson")"
check "the archive stays" test -f "$arch"
check_same "the protection ref stays, no ref is added" "$(cat "$T/refs.before")" \
	"$(git -C "$T/r" for-each-ref)"
check_same "wt-ls lists the original and the copy" \
	"w1 $T/w1|w1-2 $T/copy" \
	"$(cd "$T/r" && wt-ls | jq -r 'select(.id | startswith("w1")) | "\(.id) \(.path)"' | sort | tr '\n' '|' | sed 's/|$//')"

# -a names the archive for a record that does not.
lsd_rec w1 | jq -c 'del(.archive)' > "$T/rec2"
wt-restore -p "$T/copy2" < "$T/rec2" > "$T/out" 2> /dev/null
check_same "without -a, a record naming no archive passes untouched" "0 $(cat "$T/rec2")" "$? $(cat "$T/out")"
wt-restore -a "$arch" -p "$T/copy2" < "$T/rec2" > "$T/out" 2> "$T/err"
check_same "-a -p: restored as a copy" "0 w1-3 $T/copy2" "$? $(jq -r '.id, .path' < "$T/out" | tr '\n' ' ' | sed 's/ $//')"
check_same "and it holds the work" "$(cat "$T/w1.cmp")" \
	"$(snap "$T/copy2" | grep -av '^# branch\.' | sed '/^[0-9a-f]\{40\} /d')"
check_same "the original's record is still as it was" "$(cat "$T/reg.before")" \
	"$(jq -c 'select(.id == "w1")' "$WT_HOME/registry.ndjson")"
check "the archive is still there" test -f "$arch"

# Without -p, a record that is not archived is not restored.
wt-restore < "$T/rec" > "$T/out" 2> /dev/null
check_same "without -p, not archived: passes untouched" "0 $(cat "$T/rec")" "$? $(cat "$T/out")"
# The whole listing with -a: the main worktree is nobody's original.
(cd "$T/r" && WT_HOME="$T/noreg" wt-ls) | jq -c 'select(.main or .id == "w1")' |
	wt-restore -a "$arch" -p "$T/copy3" > "$T/out" 2> "$T/err"
check_same "wt-ls | wt-restore -a -p: the main worktree passes, w1 is copied" "0 r: w1-4:w1" \
	"$? $(jq -r '"\(.id):\(.copy_of // "")"' < "$T/out" | tr '\n' ' ' | sed 's/ $//')"
# An original the registry does not have: its copy is not registered either.
(cd "$T/r" && WT_HOME="$T/noreg" wt-ls) | jq -c 'select(.id == "w1")' |
	WT_HOME="$T/noreg" wt-restore -a "$arch" -p "$T/copy4" > "$T/out" 2> "$T/err"
check_same "no registry: copied, and no registry made" "0 $T/copy4 no" \
	"$? $(jq -r .path < "$T/out") $(test -e "$T/noreg/registry.ndjson" && echo yes || echo no)"
# A path taken refuses, as for any restore.
wt-restore -p "$T/w1" < "$T/rec" > "$T/out" 2> "$T/err"
check_same "-p at the original's path: path taken, exit 1" "1 true" \
	"$? $(jq '.error.message | test("path taken")' < "$T/out")"
check_same "and the original is as it was" "$(cat "$T/w1.snap")" "$(snap "$T/w1")"
done_testing
