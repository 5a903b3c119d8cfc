#!/bin/sh
# wt-ls: discovery from git, the registry, -i, -s, -d and -g.
. "$(dirname "$0")/lib.sh"
plan 39

mkrepo "$T/r"
cd "$T/r"
git worktree add -q "$T/plain" -b plain
git worktree add -q --detach "$T/detached"
git worktree add -q "$T/locked wt" -b locked
git worktree lock --reason "on a stick" "$T/locked wt"
git worktree add -q "$T/gone" -b gone
rm -rf "$T/gone"
# Names that break careless code: quotes, a newline, non-ASCII.
odd="$T/q\"uo'te
line-é"
git worktree add -q "$odd" -b odd

out=$(wt-ls)
ok $? "wt-ls lists the repository around the current directory"
# git names a worktree after its directory, made safe: "locked wt" is locked-wt.
check_same "one record per worktree, main first, then by name" \
	"r detached gone locked-wt plain odd" \
	"$(printf '%s\n' "$out" | jq -r 'if .branch == "odd" then "odd" else .id end' | tr '\n' ' ' | sed 's/ $//')"
check_same "main worktree flagged" '{"id":"r","main":true}' \
	"$(printf '%s\n' "$out" | jqf 'select(.main) | {id, main}')"
check_same "branch and repo" "plain $T/r/.git" \
	"$(printf '%s\n' "$out" | jq -r 'select(.id=="plain") | "\(.branch) \(.repo)"')"
check_same "detached worktree has branch null" 'null' \
	"$(printf '%s\n' "$out" | jqf 'select(.id=="detached") | .branch')"
check_same "head is the commit" "$(git rev-parse HEAD)" \
	"$(printf '%s\n' "$out" | jq -r 'select(.id=="detached") | .head')"
check_same "locked with its reason" '"on a stick"' \
	"$(printf '%s\n' "$out" | jqf 'select(.id=="locked-wt") | .locked')"
check_same "a worktree whose directory is gone is prunable" 'true false' \
	"$(printf '%s\n' "$out" | jq -r 'select(.id=="gone" or .id=="plain") | .prunable' | sort -r | tr '\n' ' ' | sed 's/ $//')"
check_same "a path with quotes, a newline and non-ASCII survives" "$odd" \
	"$(printf '%s\n' "$out" | jq -r 'select(.branch=="odd") | .path')"

# -g: git fields on demand.
echo change >> "$T/plain/a.txt"
echo new > "$T/plain/new.txt"
mkdir "$T/plain/d" && echo x > "$T/plain/d/x" && echo y > "$T/plain/d/y"
(cd "$T/plain" && git commit -q --allow-empty -m ahead)
g=$(wt-ls -g -j 3)
check_same "-g counts modified and untracked files" '{"modified":1,"untracked":3}' \
	"$(printf '%s\n' "$g" | jqf 'select(.id=="plain") | .dirty')"
git -C "$T/plain" push -q -u origin plain 2>/dev/null
git -C "$T/plain" commit -q --allow-empty -m more
g=$(wt-ls -g)
check_same "-g ahead and behind the upstream" '{"upstream":"origin/plain","ahead":1,"behind":0}' \
	"$(printf '%s\n' "$g" | jqf 'select(.id=="plain") | {upstream, ahead, behind}')"
check_same "-g keeps input order with workers" "$(printf '%s\n' "$out" | jq -r .id)" \
	"$(printf '%s\n' "$g" | jq -r .id)"

# The registry: streamed as it is, byte for byte.
mkdir -p "$WT_HOME"
cat > "$WT_HOME/registry.ndjson" <<'REG'
{"id":"SPEC-1","path":"/nowhere/1","status":"active","x-unknown":{"keep":[1,2,{"a":"\u00e9"}]},"zz":1}
{"id":"SPEC-2","path":"/nowhere/2","status":"stale"}
{"id":"SPEC-3","path":"/nowhere/3","status":"active","n":1.5e3}
REG
check_same "registry records pass byte for byte" "$(cat "$WT_HOME/registry.ndjson")" "$(wt-ls -r "$WT_HOME/registry.ndjson")"
check_same "-s selects by status (no index: a scan)" "SPEC-1 SPEC-3" \
	"$(wt-ls -s active | jq -r .id | tr '\n' ' ' | sed 's/ $//')"
check_same "-i finds by id" "$(sed -n 2p "$WT_HOME/registry.ndjson")" "$(wt-ls -i SPEC-2)"
wt-ls -i NOPE > "$T/nope" 2> "$T/nope.err"
check_same "-i of an unknown id: an error record and exit 1" '1 "WorktreeError"' \
	"$? $(jqf '.error.kind' < "$T/nope")"
wt-ls -r "$T/missing.ndjson" > /dev/null 2>&1
check_same "-r naming a missing registry: exit 2" 2 $?
printf '{"id":"A","path":"/a"}\nnot json\n' > "$T/bad.ndjson"
wt-ls -r "$T/bad.ndjson" > "$T/bad.out" 2>/dev/null
check_same "a corrupt registry line is a RegistryError record, exit 1" \
	'1 "RegistryError" 2' "$? $(sed -n 2p "$T/bad.out" | jqf '.error.kind, .error.context.line' | tr '\n' ' ' | sed 's/ $//')"

# -d: discovery under a directory, merged with the registry by path.
cat > "$WT_HOME/registry.ndjson" <<REG
{"id":"mine","path":"$T/plain","status":"active","note":"kept"}
REG
d=$(wt-ls -d "$T")
check_same "-d merges by path: registry fields kept, git fields added" \
	'{"id":"mine","note":"kept","branch":"plain"}' \
	"$(printf '%s\n' "$d" | jqf 'select(.path=="'"$T/plain"'") | {id, note, branch}')"
check_same "-d lists the other linked worktrees, not the main one" "detached gone locked-wt mine odd" \
	"$(printf '%s\n' "$d" | jq -r 'if .branch == "odd" then "odd" else .id end' | sort | tr '\n' ' ' | sed 's/ $//')"
# -i and -s select from the git listing too, and combine.
check_same "-i selects from the git listing when there is no registry" "plain" \
	"$(cd "$T/r" && WT_HOME="$T/none" wt-ls -i plain | jq -r .id)"
(cd "$T/r" && WT_HOME="$T/none" wt-ls -i plain -i nothing-here) > "$T/sel" 2>/dev/null
check_same "an id found nowhere is an error record after the others, exit 1" \
	'1 plain nothing-here' "$? $(jq -r .id < "$T/sel" | tr '\n' ' ' | sed 's/ $//')"
cat > "$T/two.ndjson" <<'REG'
{"id":"A","path":"/a","status":"active"}
{"id":"B","path":"/b","status":"stale"}
REG
check_same "-i and -s together: the id must have the status" "" \
	"$(wt-ls -r "$T/two.ndjson" -s active -i B 2>/dev/null | jq -r 'select(.error | not) | .id')"
WT_REGISTRY="$T/no-such.ndjson" wt-ls > /dev/null 2> "$T/err"
check_same "WT_REGISTRY naming a missing file: exit 2, not a silent fallback" \
	"2 wt-ls: no registry at '$T/no-such.ndjson'" "$? $(cat "$T/err")"
wt-ls -d "$T/no-such-dir" > "$T/d.out" 2>/dev/null
check_same "-d on a missing directory: an error record, exit 1" '1 "WorktreeError"' \
	"$? $(jqf .error.kind < "$T/d.out")"
check_same "-g leaves locked and prunable off the main worktree" '{"id":"r"}' \
	"$(cd "$T/r" && WT_HOME="$T/none" wt-ls -g | jqf 'select(.main) | {id, locked, prunable} | with_entries(select(.value != null))')"
# A registry whose first record is long is still NDJSON, not a MoAI file.
long=$(head -c 6000 /dev/zero | tr '\0' x)
printf '{"id":"L","path":"/l","note":"%s"}\n{"id":"M","path":"/m"}\n' "$long" > "$T/long.ndjson"
check_same "a first record over 4 KiB does not make the registry a MoAI file" "L M" \
	"$(wt-ls -r "$T/long.ndjson" | jq -r .id | tr '\n' ' ' | sed 's/ $//')"
# -d DIR lists the worktrees under DIR, not a found repository's worktrees elsewhere.
git -C "$T/r" worktree add -q "$T/r/inside" -b inside
check_same "-d on the repository itself lists only its linked worktrees under it" "inside" \
	"$(WT_HOME="$T/none" wt-ls -d "$T/r" | jq -r .id | sort | tr '\n' ' ' | sed 's/ $//')"
check_same "-d on a directory above lists them all, the one inside too" \
	"detached gone inside locked-wt odd plain" \
	"$(WT_HOME="$T/none" wt-ls -d "$T" | jq -r 'select(.repo == "'"$T/r/.git"'") | if .branch == "odd" then "odd" else .id end' | sort | tr '\n' ' ' | sed 's/ $//')"
# Names that collide: two projects with a worktree "hooks", one of them registered.
mkdir -p "$T/ws" && mkrepo "$T/ws/alpha" && mkrepo "$T/ws/beta"
git -C "$T/ws/alpha" worktree add -q "$T/ws/alpha-wt/hooks" -b hooks
git -C "$T/ws/beta" worktree add -q "$T/ws/beta-hooks/hooks" -b hooks
git -C "$T/ws/beta" worktree add -q "$T/ws/solo" -b solo
printf '{"id":"hooks","path":"%s","status":"active"}\n' "$T/ws/alpha-wt/hooks" > "$T/ws.ndjson"
check_same "-d: the registered one keeps its id, the other is NAME@PROJECT" \
	"hooks $T/ws/alpha-wt/hooks
hooks@beta $T/ws/beta-hooks/hooks
solo $T/ws/solo" \
	"$(wt-ls -r "$T/ws.ndjson" -d "$T/ws" | jq -r '"\(.id) \(.path)"' | sort)"
printf '{"id":"hooks","path":"/gone/elsewhere","status":"active"}\n' > "$T/ws.ndjson"
check_same "a registry record of another worktree takes the name from both found ones" \
	"hooks /gone/elsewhere
hooks@alpha $T/ws/alpha-wt/hooks
hooks@beta $T/ws/beta-hooks/hooks" \
	"$(wt-ls -r "$T/ws.ndjson" -d "$T/ws" | jq -r 'select(.id | startswith("hooks")) | "\(.id) \(.path)"' | sort)"
check_same "with no registry, two found ones of one name are told apart" \
	"hooks@alpha hooks@beta" \
	"$(WT_HOME="$T/none" wt-ls -d "$T/ws" | jq -r 'select(.id | startswith("hooks")) | .id' | sort | tr '\n' ' ' | sed 's/ $//')"
check_same "-d on a worktree's directory: that worktree, not its repository's others elsewhere" \
	"hooks $T/ws/beta-hooks/hooks" \
	"$(WT_HOME="$T/none" wt-ls -d "$T/ws/beta-hooks" | jq -r '"\(.id) \(.path)"')"
check_same "with a registry, its records are still all written, the found ones only from DIR" \
	"hooks /gone/elsewhere
hooks@beta $T/ws/beta-hooks/hooks" \
	"$(wt-ls -r "$T/ws.ndjson" -d "$T/ws/beta-hooks" | jq -r '"\(.id) \(.path)"')"
# Paths are compared resolved: DIR through a symbolic link, and a worktree
# whose path git keeps through one.
ln -s "$T/ws" "$T/ws-link"
check_same "-d through a symbolic link: the same worktrees" \
	"$(WT_HOME="$T/none" wt-ls -d "$T/ws" | jq -r .id | sort)" \
	"$(WT_HOME="$T/none" wt-ls -d "$T/ws-link" | jq -r .id | sort)"
git -C "$T/ws/beta" worktree add -q "$T/ws/via" -b via
echo "$T/ws-link/via/.git" > "$T/ws/beta/.git/worktrees/via/gitdir"
check_same "a worktree that git names through a symbolic link is under DIR too" \
	"$T/ws-link/via" \
	"$(WT_HOME="$T/none" wt-ls -d "$T/ws" | jq -r 'select(.id == "via") | .path')"
cd /
wt-ls -r /dev/null > "$T/empty.out"
check_same "an empty registry lists nothing, exit 0" "0:" "$?:$(cat "$T/empty.out")"
rm "$WT_HOME/registry.ndjson"
wt-ls > /dev/null 2> "$T/err"
check_same "no registry and no repository: exit 2 with a message" \
	"2 wt-ls: no registry at '$WT_HOME/registry.ndjson' and not in a git repository" "$? $(cat "$T/err")"

# -g counts what git status hides: an edit under skip-worktree is uncommitted work.
git -C "$T/r" worktree add -q "$T/hidden" -b hidden
git -C "$T/hidden" update-index --skip-worktree a.txt
echo "edited behind git's back" >> "$T/hidden/a.txt"
check_same "-g: a skip-worktree edit counts as modified" 1 \
	"$(cd "$T/r" && wt-ls -g | jq -r 'select(.id == "hidden") | .dirty.modified')"
done_testing
