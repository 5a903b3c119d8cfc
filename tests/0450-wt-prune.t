#!/bin/sh
# wt-prune: artifacts go, sources and anything tracked or precious stay; links are
# not followed, mounts not entered; a killed run's trash is finished; gc once per repo.
. "$(dirname "$0")/lib.sh"
plan 59

# tree DIR: every entry with its type, size, link target and content hash.
tree() {
	(cd "$1" && find . -printf '%p %y %s %l\n' | sort &&
	 find . -type f -exec sha256sum {} + | sort)
}
# deps DIR N: a node_modules-like tree of N files in DIR.
deps() {
	mkdir -p "$1"
	_i=0
	while [ "$_i" -lt "$2" ]; do
		mkdir -p "$1/p$((_i / 20))/lib"
		echo "module $_i" > "$1/p$((_i / 20))/lib/m$_i.js"
		_i=$((_i + 1))
	done
}

mkrepo "$T/r"
cd "$T/r"
printf 'node_modules\nbuild/\n__pycache__/\n*.pyc\n.env\n' > .gitignore
echo '{"name":"app"}' > package.json
mkdir -p src lib/build vendor/node_modules
echo 'console.log(1)' > src/app.js
echo 'all:' > lib/Makefile && echo 'tracked' > lib/build/keep.txt
echo '{}' > vendor/package.json && echo 'patched' > vendor/node_modules/dep.js
git add .gitignore package.json src lib vendor && git add -f lib/build vendor/node_modules
git commit -q -m app && git push -q origin main

git worktree add -q "$T/w" -b w
cd "$T/w"
deps node_modules 200
mkdir -p build src/__pycache__ nomarker/node_modules
echo 'out' > build/app.bin
echo 'c' > src/__pycache__/app.cpython-311.pyc
echo 'c' > src/loose.pyc
echo 'SECRET=1' > .env
echo 'x' > nomarker/node_modules/x.js
echo 'more' > lib/build/out.o
echo 'junk' > vendor/node_modules/junk.js
mkdir -p sub "$T/outside/pkg" && echo '{}' > sub/package.json
echo 'precious outside' > "$T/outside/pkg/index.js" && ln -s "$T/outside" sub/node_modules
mkdir -p inner && git -C inner init -q && echo '{}' > inner/package.json && deps inner/node_modules 3
echo 'inner/' >> "$T/r/.git/info/exclude"
outside_before=$(tree "$T/outside")
cd "$T"

dry_before=$(tree "$T/w")
ls_rec w | wt-prune -n > "$T/out"
check_same "-n: exit 0, what it would prune" \
	'{"dirs":["build","node_modules","src/__pycache__","sub/node_modules"],"files":1}' \
	"$(jqf '.would.pruned | .dirs |= sort' < "$T/out")"
check "-n: what it would free" test "$(jq .would.freed < "$T/out")" -gt 100000
check_same "-n: the one shape of a dry run" '"prune"' "$(jqf .would.action < "$T/out")"
check_same "-n: no prune fields" 'null null null' "$(jq -c '[.freed, .pruned, .last_pruned] | .[]' < "$T/out" | tr '\n' ' ' | sed 's/ $//')"
check_same "-n: nothing removed" "$dry_before" "$(tree "$T/w")"

before=$(tree "$T/w")
status_before=$(git -C "$T/w" status --porcelain)
ls_rec w | wt-prune > "$T/out" 2> "$T/err"
check_same "exit 0" 0 $?
check_same "pruned: the artifact directories and loose compiled files" \
	'{"dirs":["build","node_modules","src/__pycache__","sub/node_modules"],"files":1}' \
	"$(jqf '.pruned | .dirs |= sort' < "$T/out")"
check "freed counts what went" test "$(jq .freed < "$T/out")" -gt 100000
check_same "last_pruned is now" '"2026-06-01T00:00:00Z"' "$(jqf .last_pruned < "$T/out")"
check_same "nothing on stderr" "" "$(cat "$T/err")"
check_same "only artifacts went: everything else is as it was" \
	"$(printf '%s\n' "$before" | grep -v -e '^\./node_modules' -e '^\./build' -e '__pycache__' \
		-e 'loose.pyc' -e '^\./sub/node_modules' -e '^[0-9a-f]* *\./\(node_modules\|build\)/' \
		-e 'src/__pycache__' -e 'src/loose.pyc')" \
	"$(tree "$T/w")"
check "sources and package.json stay" test -f "$T/w/src/app.js" -a -f "$T/w/package.json"
check "an ignored .env stays" test -f "$T/w/.env"
check "a tracked directory named build stays, with what it holds" \
	test -f "$T/w/lib/build/keep.txt" -a -f "$T/w/lib/build/out.o"
check "a node_modules holding a tracked file stays whole" \
	test -f "$T/w/vendor/node_modules/dep.js" -a -f "$T/w/vendor/node_modules/junk.js"
check "node_modules without its package.json is not an artifact" test -f "$T/w/nomarker/node_modules/x.js"
check "a repository inside is not judged by the outer index" test -f "$T/w/inner/node_modules/p0/lib/m0.js"
check "the node_modules link is gone" test ! -e "$T/w/sub/node_modules" -a ! -L "$T/w/sub/node_modules"
check_same "the link's target outside is byte for byte as it was" "$outside_before" "$(tree "$T/outside")"
check "the trash is empty" test -z "$(ls -A "$T/r/.git/worktrees/w/wt-trash")"
check_same "git sees no change" "$status_before" "$(git -C "$T/w" status --porcelain)"
ls_rec w | wt-prune > "$T/out"
check_same "a second run has nothing to do" '0 {"dirs":[],"files":0}' \
	"$(jq .freed < "$T/out") $(jqf .pruned < "$T/out")"

# --kinds restricts.
mkdir -p "$T/w/node_modules/a" "$T/w/src/__pycache__" && echo 1 > "$T/w/src/__pycache__/m.pyc"
ls_rec w | wt-prune --kinds pycache > "$T/out"
check_same "--kinds pycache: only __pycache__" '["src/__pycache__"] true' \
	"$(jqf .pruned.dirs < "$T/out") $(test -d "$T/w/node_modules/a" && echo true)"
ls_rec w | wt-prune -k nosuch > /dev/null 2> "$T/err"
check_same "an unknown kind: exit 2" "2 wt-prune: unknown kind 'nosuch'" "$? $(sed 's/ (the kinds are .*)$//' "$T/err")"

# Refusals: the main worktree, a locked one, one in use.
ls_rec r | wt-prune > "$T/out" 2> /dev/null
check_same "the main worktree is skipped" '0 "main"' "$? $(jqf .skipped.reason < "$T/out")"
ln -s "$T/w" "$T/w-link"
ls_rec w | jq -c --arg p "$T/w-link" '.path = $p' | wt-prune > "$T/out" 2> /dev/null
check_same "a path that is a symbolic link is refused" '1 "symlink"' "$? $(jqf .error.context.rule < "$T/out")"
: > "$T/r/.git/worktrees/w/index.lock"
ls_rec w | wt-prune -f > "$T/out" 2> /dev/null
check_same "git running in it (index.lock): skipped" '0 "git_running"' "$? $(jqf .skipped.reason < "$T/out")"
rm "$T/r/.git/worktrees/w/index.lock"
git -C "$T/r" worktree add -q "$T/lk" -b lk && mkdir -p "$T/lk/node_modules/x" && git -C "$T/r" worktree lock "$T/lk"
ls_rec lk | wt-prune > "$T/out" 2> /dev/null
check_same "a locked worktree is skipped and kept" '0 "locked" true' \
	"$? $(jqf .skipped.reason < "$T/out") $(test -d "$T/lk/node_modules/x" && echo true)"
(cd "$T/r" && wt-ls) | wt-prune -n > "$T/out" 2> /dev/null
check_same "wt-ls | wt-prune -n, main and locked worktrees in it: exit 0" '0 locked main' \
	"$? $(jq -r 'select(.skipped) | .skipped.reason' < "$T/out" | sort -u | tr '\n' ' ' | sed 's/ $//')"
sh -c 'cd "$1" && exec sleep 60' sh "$T/w/src" &
sleeper=$!
check "the sleeping process has its cwd in the worktree" wait_cwd $sleeper "$T/w/src"
ls_rec w | wt-prune > "$T/out" 2> /dev/null
check_same "a worktree in use is skipped" '0 "in_use"' "$? $(jqf .skipped.reason < "$T/out")"
ls_rec w | wt-prune -f > "$T/out" 2> /dev/null
check_same "-f prunes it anyway" '0 ["node_modules"]' "$? $(jqf .pruned.dirs < "$T/out")"
kill "$sleeper"; wait "$sleeper" 2>/dev/null

# Mounts: one inside an artifact keeps the artifact; one elsewhere is not entered.
git -C "$T/r" worktree add -q "$T/m" -b m
mkdir -p "$T/m/node_modules/mnt" "$T/m/ext" "$T/src1" "$T/src2/node_modules/dep"
echo 'mounted' > "$T/src1/keep.js"
echo '{}' > "$T/src2/package.json" && echo 'other fs' > "$T/src2/node_modules/dep/i.js"
if mount --bind "$T/src1" "$T/m/node_modules/mnt" 2>/dev/null; then
	mount --bind "$T/src2" "$T/m/ext"
	src_before=$(tree "$T/src1")$(tree "$T/src2")
	ls_rec m | wt-prune > "$T/out" 2> "$T/err"
	check_same "a node_modules with a mount inside is not pruned; another mount not entered" \
		'[]' "$(jqf .pruned.dirs < "$T/out")"
	check "the warning names it" grep -q "mounted inside" "$T/err"
	umount "$T/m/node_modules/mnt"
	umount "$T/m/ext"
	check_same "what is mounted is byte for byte as it was" "$src_before" "$(tree "$T/src1")$(tree "$T/src2")"
else
	skip "mount --bind not permitted here"
	skip "mount --bind not permitted here"
	skip "mount --bind not permitted here"
fi

# Killed mid-delete: the worktree is already clean, and the next run finishes the trash.
git -C "$T/r" worktree add -q "$T/k" -b k
deps "$T/k/node_modules" 600
trash="$T/r/.git/worktrees/k/wt-trash"
ls_rec k > "$T/k.rec"
WT_TEST_PAUSE_AFTER=50 wt-prune -j 1 < "$T/k.rec" > "$T/out" 2> "$T/err" &
pruner=$!
for i in $(seq 100); do grep -q paused "$T/err" && break; sleep 0.1; done
kill -9 "$pruner"; wait "$pruner" 2>/dev/null
check "the paused run said so" grep -q paused "$T/err"
check "the worktree was clean before the delete ended" test ! -e "$T/k/node_modules"
left=$(find "$trash" -type f | wc -l)
check "the killed run left files in the trash ($left)" test "$left" -gt 400 -a "$left" -lt 600
wt-prune -n < "$T/k.rec" > "$T/out"
check_same "-n counts the trash left and leaves it" "true $left" \
	"$(jq '.would.pruned.trash > 0 and .would.freed == .would.pruned.trash' < "$T/out") $(find "$trash" -type f | wc -l)"
wt-prune < "$T/k.rec" > "$T/out"
check_same "the next run empties the trash and says so" '0 true' \
	"$(find "$trash" -mindepth 1 | wc -l) $(jq '.pruned.trash > 0 and .freed == .pruned.trash' < "$T/out")"

# --gc: once per repository, sizes before and after on each of its records.
git -C "$T/r" worktree add -q "$T/g" -b g
mkrepo "$T/r2" > /dev/null 2>&1
git -C "$T/r2" worktree add -q "$T/g2" -b g2
for i in 1 2 3; do echo "$i" > "$T/g/f$i" && git -C "$T/g" add "f$i" && git -C "$T/g" commit -q -m "$i"; done
{ ls_rec w; ls_rec g; ls_rec g2 "$T/r2"; ls_rec k; } > "$T/g.recs"
GIT_TRACE="$T/trace" wt-prune --gc -j 3 < "$T/g.recs" > "$T/out" 2> "$T/err"
check_same "--gc: exit 0" 0 $?
check_same "git gc ran once per repository" 2 "$(grep -c 'built-in: git gc' "$T/trace")"
check_same "with --prune=now, through an argv vector" 2 "$(grep 'built-in: git gc' "$T/trace" | grep -c -- '--prune=now')"
check_same "each record has its repository's sizes; one record per repository ran it" \
	"w $T/r/.git true false
g $T/r/.git true false
g2 $T/r2/.git true true
k $T/r/.git true false" \
	"$(jq -r '"\(.id) \(.gc.repo) \(.gc.before > 0 and .gc.after > 0) \(.gc.ran and .gc.repo == "'"$T/r2/.git"'")"' < "$T/out")"
check_same "records of one repository report the same sizes" 1 \
	"$(jq -c 'select(.gc.repo == "'"$T/r/.git"'") | [.gc.before, .gc.after]' < "$T/out" | sort -u | wc -l)"
check_same "one of them ran it" 1 "$(jq 'select(.gc.repo == "'"$T/r/.git"'" and .gc.ran)' < "$T/out" | jq -s length)"
check_same "no loose objects are left" "count: 0" "$(git -C "$T/r" count-objects | cut -d, -f1 | sed 's/ objects//;s/^/count: /')"
check_same "stdout holds records only" 4 "$(jq -c . < "$T/out" | wc -l)"
# The caller's GIT_OBJECT_DIRECTORY names another repository's objects: gc
# runs on the record's repository all the same (before: git gc failed, on
# objects it looked for in the other one), and the other one keeps its
# unreachable objects.
mkrepo "$T/other" > /dev/null 2>&1
lost=$(echo "nobody refers to me" | git -C "$T/other" hash-object -w --stdin)
touch -d '2 weeks ago' "$T/other/.git/objects/$(echo "$lost" | cut -c1-2)/$(echo "$lost" | cut -c3-)"
ls_rec g > "$T/g1.rec"
out=$(GIT_OBJECT_DIRECTORY="$T/other/.git/objects" GIT_INDEX_FILE="$T/other/.git/index" \
	wt-prune --gc < "$T/g1.rec" 2> /dev/null)
check_same "--gc with the caller's GIT_OBJECT_DIRECTORY elsewhere: gc ran here, the other keeps its objects" \
	"true null blob" "$(printf '%s\n' "$out" | jq -r '"\(.gc.ran) \(.error)"') $(git -C "$T/other" cat-file -t "$lost" 2>&1)"
wt-prune --aggressive < /dev/null > /dev/null 2>&1
check_same "--aggressive without --gc is a usage error" 2 $?

# The registry: one batch at the end, for the records that are in it.
mkdir -p "$T/w/node_modules/q" && head -c 100000 /dev/zero > "$T/w/node_modules/q/big"
mkdir -p "$T/g/node_modules/q" && echo '{}' > "$T/g/package.json" && head -c 50000 /dev/zero > "$T/g/node_modules/q/big"
mkdir -p "$WT_HOME"
{
	printf '{"id":"g","path":"%s","size":10000000,"status":"active"}\n' "$T/g"
	printf '{"id":"w","path":"%s","status":"active","x":{"y":1}}\n' "$T/w"
	printf '{"id":"zz","path":"/elsewhere","status":"active"}\n'
} > "$WT_HOME/registry.ndjson"
cp "$WT_HOME/registry.ndjson" "$T/reg.before"
wt-ls | jq -c 'select(.id != "zz")' | wt-prune -n > /dev/null
check_same "-n leaves the registry alone" "$(cat "$T/reg.before")" "$(cat "$WT_HOME/registry.ndjson")"
wt-ls | jq -c 'select(.id != "zz")' | wt-prune > "$T/out"
gfreed=$(jq 'select(.id == "g") | .freed' < "$T/out")
check_same "last_pruned set and size lowered by what was freed" \
	"{\"id\":\"g\",\"path\":\"$T/g\",\"size\":$((10000000 - gfreed)),\"status\":\"active\",\"last_pruned\":\"2026-06-01T00:00:00Z\"}
{\"id\":\"w\",\"path\":\"$T/w\",\"status\":\"active\",\"x\":{\"y\":1},\"last_pruned\":\"2026-06-01T00:00:00Z\"}
{\"id\":\"zz\",\"path\":\"/elsewhere\",\"status\":\"active\"}" \
	"$(cat "$WT_HOME/registry.ndjson")"
check_same "one write: the backup is the registry as it was before the run" \
	"$(cat "$T/reg.before")" "$(cat "$WT_HOME/registry.ndjson.bak")"
check_same "the output record's size is lowered too" "$((10000000 - gfreed))" \
	"$(jq 'select(.id == "g") | .size' < "$T/out")"
# A state directory that cannot be written: the records it concerned say so.
mkdir -p "$T/w/node_modules/q" && head -c 100000 /dev/zero > "$T/w/node_modules/q/big"
mkdir -p "$T/ro" && if mount -t tmpfs -o size=1m tmpfs "$T/ro" 2>/dev/null; then
	printf '{"id":"w","path":"%s","status":"active"}\n' "$T/w" > "$T/ro/registry.ndjson"
	mount -o remount,ro "$T/ro"
	(cd "$T/r" && wt-ls) | jq -c 'select(.id == "w")' | WT_HOME="$T/ro" wt-prune > "$T/out" 2> "$T/err"
	check_same "pruned, but the journal cannot be written: a RegistryError, exit 1" \
		'1 "RegistryError" "journal" true' \
		"$? $(jq -c '.error.kind, .error.context.operation' < "$T/out" | tr '\n' ' ')$(jq '.freed > 0' < "$T/out")"
	(cd "$T/r" && wt-ls) | jq -c 'select(.id == "w")' | WT_HOME="$T/ro" wt-prune | wt-fmt > /dev/null 2>&1
	check_same "so wt-fmt at the end of the pipe fails too" 1 $?
	umount "$T/ro"
else
	skip "cannot mount a tmpfs here"
	skip "cannot mount a tmpfs here"
fi
# A repository inside an artifact, and a worktree nested in an ignored .cache.
git -C "$T/r" worktree add -q "$T/nr" -b nr && mkdir -p "$T/nr/node_modules/left" "$T/nr/lib/build" &&
	echo x > "$T/nr/node_modules/left/i.js" && echo 'all:' > "$T/nr/lib/Makefile"
git -C "$T/nr" init -q lib/build/dep && (cd "$T/nr/lib/build/dep" && echo only > f && git add f && git commit -q -m only)
rec nr "$T/nr" | wt-prune -n > "$T/out" 2> /dev/null
check_same "-n: the artifact holding a repository is not in what would go" '["node_modules"]' \
	"$(jqf '.would.pruned.dirs' < "$T/out")"
rec nr "$T/nr" | wt-prune > "$T/out" 2> /dev/null
check_same "the real run prunes node_modules, not lib/build with the repository in it" '0 ["node_modules"]' \
	"$? $(jqf .pruned.dirs < "$T/out")"
check "the repository's commit is there" has_commit "$T/nr/lib/build/dep"
done_testing
