#!/bin/sh
# wt-ls: the registry and git are one view in a repository; -r is that file only.
. "$(dirname "$0")/lib.sh"
plan 11

mkrepo "$T/r"
cd "$T/r"
for w in alpha beta det gamma; do
	git worktree add -q "$T/$w" -b $w
	echo "work on $w" > "$T/$w/$w.txt" && git -C "$T/$w" add $w.txt &&
		git -C "$T/$w" commit -q -m "$w"
done
R="$WT_HOME/registry.ndjson"
ids() { jq -r .id | tr '\n' ' ' | sed 's/ $//'; }

# The sequence a new user tries: four worktrees and no registry.
check_same "no registry: wt-ls lists the repository's worktrees" "r alpha beta det gamma" "$(wt-ls | ids)"
wt-ls | jq -c 'select(.id=="det")' | wt-archive > "$T/out" 2> "$T/err"
check_same "wt-ls | jq | wt-archive archives one, and a registry now exists" "0 archived yes" \
	"$? $(jq -r .status "$T/out") $([ -f "$R" ] && echo yes)"
check_same "wt-ls still lists all four: the record, then the worktrees no record names" \
	"det r alpha beta gamma" "$(wt-ls | ids)"
check_same "the archived one is the registry's record" "archived" \
	"$(wt-ls | jq -r 'select(.id=="det") | .status')"
check_same "-r FILE is exactly that file" "det" "$(wt-ls -r "$R" | ids)"
check_same "outside a repository: the registry" "det" "$(cd / && wt-ls | ids)"

# A record names a worktree by its path, whatever its id; another worktree's id is told apart.
wt-ls | jq -c 'select(.id=="alpha") | .id = "SPEC-A" | .status = "active"' > "$T/a.rec"
printf '{"id":"beta","path":"/elsewhere/beta","status":"active"}\n' >> "$T/a.rec"
cat "$T/a.rec" >> "$R"
jq -s -c 'sort_by(.id) | .[]' "$R" > "$R.tmp" && mv "$R.tmp" "$R"
check_same "a record naming a worktree's path stands for it; an id taken is NAME@PROJECT" \
	"SPEC-A beta det r beta@r gamma" "$(wt-ls | ids)"
check_same "-i finds a worktree of the view that no record names" "0 gamma" \
	"$(wt-ls -i gamma > "$T/g"; echo $?) $(jq -r 'select(.error | not) | .id' "$T/g")"
check_same "-i of a record's id: the record, not git's worktree at its path" "SPEC-A" \
	"$(wt-ls -i SPEC-A | ids)"
check_same "-i of a path a record names under another id finds nothing else" "1" \
	"$(wt-ls -i alpha > /dev/null 2>&1; echo $?)"
check_same "-s selects records; worktrees no record names have no status" "SPEC-A beta" \
	"$(wt-ls -s active | ids)"
done_testing
