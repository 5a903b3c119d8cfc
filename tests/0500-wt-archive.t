#!/bin/sh
# wt-archive and wt-restore: the round trip, the archive as tar sees it, options, safety.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-archive.sh"
plan 59

mkrepo "$T/r"
mkwt w1
snap "$T/w1" > "$T/w1.before"
A="$WT_HOME/archives"

# The archive.
lsd_rec w1 | wt-archive > "$T/out" 2> "$T/err"
check_same "wt-archive exits 0" 0 $?
check_same "status archived, archived true, archived_at now" \
	'{"status":"archived","archived":true,"archived_at":"2026-06-01T00:00:00Z","archive_ref":"refs/wt/archived/w1"}' \
	"$(jqf '{status, archived, archived_at, archive_ref}' < "$T/out")"
arch=$(jq -r .archive < "$T/out")
check_same "the archive is ID-TIMESTAMP.tar.zst in \$WT_HOME/archives" \
	"$A/w1-20260601T000000Z.tar.zst" "$arch"
check_same "archive_size is the archive's size" "$(stat -c %s "$arch")" \
	"$(jq -r .archive_size < "$T/out")"
check "freed counts the removed bytes" test "$(jq -r .freed < "$T/out")" -gt 200000
check "the worktree's directory is gone" test ! -e "$T/w1"
check_same "git no longer lists it" "" "$(git -C "$T/r" worktree list | grep w1)"
check_same "refs/wt/archived/w1 keeps the unpushed commit" "$(cat "$T/w1.head")" \
	"$(git -C "$T/r" rev-parse refs/wt/archived/w1)"
check_same "the registry says archived, with the archive" "archived true $arch" \
	"$(wt-ls -i w1 | jq -r '"\(.status) \(.archived) \(.archive)"')"
check_same "no temporary is left" "" "$(ls -A "$A" | grep -v '\.tar\.zst$')"

# The archive as tar sees it.
tar -tf "$arch" > "$T/list" 2>/dev/null
check_same "tar lists the manifest first, then git's index" \
	".wt-manifest.json .wt-git/index" "$(head -2 "$T/list" | tr '\n' ' ' | sed 's/ $//')"
check "tar lists the work: staged, untracked, ignored .env, empty dirs, links" \
	sh -c "grep -qx s.txt '$T/list' && grep -qx u.sh '$T/list' && grep -qx .env '$T/list' &&
	       grep -qx empty/deeper/ '$T/list' && grep -qx link '$T/list'"
check_same "the artifact directory is left out" "" "$(grep node_modules "$T/list")"
check "bsdtar lists it too" sh -c "bsdtar -tf '$arch' | grep -qx blob.bin"
mkdir "$T/x"
tar -xf "$arch" -C "$T/x" 2>/dev/null
check_same "GNU tar extracts every file byte for byte" \
	"$(grep -a '^[0-9a-f]\{40\}  ' "$T/w1.before")" \
	"$(cd "$T/x" && find . -type f ! -path './.wt-*' -print0 | LC_ALL=C sort -z | xargs -0 sha1sum)"
check_same "and the symbolic links as links" "a.txt ../nowhere" \
	"$(readlink "$T/x/link") $(readlink "$T/x/dangling")"
m="$T/x/.wt-manifest.json"
check_same "the manifest: format, head, branch, upstream" \
	"{\"format\":\"wt-archive/2\",\"head\":\"$(cat "$T/w1.head")\",\"branch\":\"w1\",\"upstream\":null}" \
	"$(jqf '{format, head, branch, upstream}' < "$m")"
check_same "the manifest lists every file with mode, size, crc32 and sha256 (as sha256sum says)" \
	'{"path":"u.sh","type":"file","mode":"0755","size":10,"crc32":"6ae3cde2","sha256":"'"$(printf 'untracked\n' | sha256sum | cut -d' ' -f1)"'"}' \
	"$(jqf '.files[] | select(.path == "u.sh")' < "$m")"
check_same "a name that is not UTF-8 is kept as hex" '"726177ff6e616d65"' \
	"$(jqf '.files[] | select(.path_hex) | .path_hex' < "$m")"
check_same "what was left out is listed" '[{"path":"node_modules","kind":"node_modules"}]' \
	"$(jqf .skipped < "$m")"
check_same "the manifest carries the record" '"w1"' "$(jqf .record.id < "$m")"

# The way back.
wt-ls -i w1 | wt-restore > "$T/rout" 2> "$T/rerr"
check_same "wt-restore exits 0" 0 $?
check_same "status active, archived false, last_accessed now, archive fields gone" \
	'{"status":"active","archived":false,"last_accessed":"2026-06-01T00:00:00Z","archive":null,"freed":null}' \
	"$(jqf '{status, archived, last_accessed, archive, freed}' < "$T/rout")"
snap "$T/w1" > "$T/w1.after"
check_same "every file, mode, link, empty dir, staged and unstaged change is back" \
	"$(cat "$T/w1.before")" "$(cat "$T/w1.after")"
check_same "on its branch at the unpushed commit" "w1 $(cat "$T/w1.head")" \
	"$(git -C "$T/w1" rev-parse --abbrev-ref HEAD) $(git -C "$T/w1" rev-parse HEAD)"
check "the archive is deleted" test ! -e "$arch"
check_same "the protection ref is dropped" "" "$(git -C "$T/r" for-each-ref refs/wt)"
check_same "the registry says active" "active false" \
	"$(wt-ls -i w1 | jq -r '"\(.status) \(.archived)"')"
check "git sees a sound worktree" sh -c "git -C '$T/w1' fsck --no-dangling >/dev/null 2>&1"

# gzip, levels, -a, -o, --keep, -n. The artifact left out comes back by its build.
mkdir -p "$T/w1/node_modules/dep" && echo 'module.exports=1' > "$T/w1/node_modules/dep/index.js"
lsd_rec w1 | wt-archive -z gzip -l 9 -a -o "$T/gz" > "$T/out" 2>/dev/null
arch=$(jq -r .archive < "$T/out")
check_same "-z gzip -o DIR writes DIR/ID-TIMESTAMP.tar.gz" "$T/gz/w1-20260601T000000Z.tar.gz" "$arch"
check "tar -tzf lists it; -a kept the artifact" sh -c "tar -tzf '$arch' | grep -qx node_modules/dep/index.js"
wt-ls -i w1 | wt-restore -a "$arch" > /dev/null 2>&1
check_same "the gzip archive restores (named with -a: it is not in the archive directory), artifacts too" "$(cat "$T/w1.before")
module.exports=1" "$(snap "$T/w1"; cat "$T/w1/node_modules/dep/index.js")"
lsd_rec w1 | wt-archive -n > "$T/out" 2>/dev/null
check_same "-n changes nothing and says what it would do" "active archive true 0" \
	"$(jq -r '"\(.status) \(.would.action) \(.would.files > 10)"' < "$T/out") $(ls -A "$A" | wc -l)"
check "-n left the worktree" test -f "$T/w1/s.txt"
lsd_rec w1 | wt-archive --keep > "$T/out" 2>/dev/null
check_same "--keep archives but leaves the worktree and its status" "active true 0" \
	"$(jq -r '"\(.status) \(.archive != null) \(.freed)"' < "$T/out")"
check "--keep: the worktree is intact" test "$(snap "$T/w1")" = "$(cat "$T/w1.before")"

# A flipped byte between writing and verifying: the archive fails, the worktree stays.
lsd_rec w1 > "$T/in1"
WT_TEST_PAUSE=written wt-archive < "$T/in1" > "$T/out" 2> "$T/err" &
pid=$!
wait_stopped $pid
tmp=$(ls "$A"/.wt-tmp.* 2>/dev/null | head -1)
size=$(stat -c %s "$tmp")
printf '\001' | dd of="$tmp" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
kill -CONT $pid
wait $pid
check_same "a flipped byte fails verification: exit 1, a write error" '1 "write"' \
	"$? $(jqf .error.context.step < "$T/out")"
check "the message says verification failed" grep -q "verification failed" "$T/err"
check_same "the worktree stays as it was" "$(cat "$T/w1.before")" "$(snap "$T/w1")"
check_same "no partial archive, no ref" "" "$(ls -A "$A" | grep tmp; git -C "$T/r" for-each-ref refs/wt/archived/w1 | grep -v "$(cat "$T/w1.head")")"

# Several at once: in parallel, in input order.
for w in p1 p2 p3 p4; do mkwt $w; done
wt-ls -d "$T" | jq -c 'select(.id | test("^p"))' > "$T/in"
wt-archive -j 3 < "$T/in" > "$T/out" 2>/dev/null
check_same "-j 3: all archived, output in input order" "p1 archived
p2 archived
p3 archived
p4 archived" "$(jq -r '"\(.id) \(.status)"' < "$T/out")"
wt-ls -s archived | wt-restore > /dev/null 2>&1
check_same "and all restored" "active active active active" \
	"$(wt-ls | jq -r 'select(.id | test("^p")) | .status' | tr '\n' ' ' | sed 's/ $//')"

# Safety: main, locked, in use, a foreign checkout, a merge in progress.
printf '{"id":"r","path":"%s","repo":"%s","main":true}\n' "$T/r" "$T/r/.git" |
	wt-archive > "$T/out" 2>/dev/null
check_same "the main worktree is skipped" '0 "main" "safety"' \
	"$? $(jqf '.skipped.reason, .skipped.step' < "$T/out" | tr '\n' ' ' | sed 's/ $//')"
git -C "$T/r" worktree lock "$T/p1" --reason "in a meeting"
lsd_rec p1 | wt-archive > "$T/out" 2>/dev/null
check "a locked worktree is skipped" sh -c "jq -r .skipped.message < '$T/out' | grep -q locked && test -d '$T/p1/d'"
(cd "$T/p2" && exec sleep 30) &
sleeper=$!
check "the sleeping process has its cwd in the worktree" wait_cwd $sleeper "$T/p2"
lsd_rec p2 | wt-archive > "$T/out" 2>/dev/null
check "a worktree in use is skipped" sh -c "jq -r .skipped.message < '$T/out' | grep -q 'in use' && test -d '$T/p2/d'"
kill $sleeper; wait $sleeper 2>/dev/null
mkrepo "$T/other"
git -C "$T/other" worktree add -q "$T/foreign"
lsd_rec p3 | jq -c --arg p "$T/foreign" '.path = $p' | wt-archive > "$T/out" 2>/dev/null
check "a foreign checkout at a record's path is refused" sh -c \
	"jq -r .error.message < '$T/out' | grep -q foreign && test -f '$T/foreign/a.txt'"

# A worktree nested inside another, in an ignored .cache: the outer one is not archived.
mkwt nx
git -C "$T/r" worktree add -q "$T/nx/.cache/inner" -b nx-inner && echo wip > "$T/nx/.cache/inner/WIP.txt"
lsd_rec nx | wt-archive > "$T/out" 2>/dev/null
check_same "a worktree nested inside refuses the archive" 1 $?
check "the nested worktree and the outer one are intact" \
	test -f "$T/nx/.cache/inner/WIP.txt" -a -d "$T/nx/.git" -o -f "$T/nx/.git"
check_same "the message names it" true "$(jq '.error.message | test("\\.cache/inner")' < "$T/out")"
git -C "$T/r" worktree remove --force "$T/nx/.cache/inner"

# The signature pipeline, from the registry: what nobody touched in 90 days goes.
mkwt old
mkwt new
mkdir -p "$T/reg"
printf '{"id":"new","path":"%s","repo":"%s","last_accessed":"2026-05-20T00:00:00Z","x":[1]}\n{"id":"old","path":"%s","repo":"%s","last_accessed":"2026-01-02T00:00:00Z","x":[2]}\n' \
	"$T/new" "$T/r/.git" "$T/old" "$T/r/.git" > "$T/reg/registry.ndjson"
wt-ls -r "$T/reg/registry.ndjson" | wt-stale -S record 90 |
	wt-archive -r "$T/reg/registry.ndjson" > "$T/out" 2>/dev/null
check_same "wt-ls | wt-stale 90 | wt-archive archives the idle one only" "old archived" \
	"$(jq -r '"\(.id) \(.status)"' < "$T/out")"
check_same "the registry given with -r has it, its other fields kept" \
	'{"id":"new","x":[1],"status":null}
{"id":"old","x":[2],"status":"archived"}' \
	"$(jqf '{id, x, status}' < "$T/reg/registry.ndjson")"
check "the new one is untouched" test -f "$T/new/s.txt"
printf '{"SPEC-1":{"spec_id":"SPEC-1","path":"%s","status":"active"}}\n' "$T/new" \
	> "$T/.moai-worktree-registry.json"
lsd_rec new | wt-archive -r "$T/.moai-worktree-registry.json" > /dev/null 2>&1
check_same "a MoAI-ADK registry is not written: exit 2, nothing done" "2 yes" \
	"$? $(test -f "$T/new/s.txt" && echo yes)"

# Without wt: the way back that wt-archive(1) gives, with git and tar alone.
mkwt h1
snap "$T/h1" > "$T/h1.before"
lsd_rec h1 | wt-archive > "$T/out" 2>/dev/null
arch=$(jq -r .archive < "$T/out")
(PATH=/usr/bin:/bin
 git -C "$T/r" worktree add -q --no-checkout "$T/h1" h1 2>/dev/null &&
 tar -xf "$arch" -C "$T/h1" --exclude=.wt-manifest.json --exclude=.wt-git 2>/dev/null &&
 tar -xOf "$arch" .wt-git/index > "$(git -C "$T/h1" rev-parse --git-dir)/index" 2>/dev/null &&
 git -C "$T/r" update-ref -d refs/wt/archived/h1)
check_same "restoring by hand with git and tar, as the man page says, gives it all back" \
	"$(cat "$T/h1.before")" "$(snap "$T/h1")"
# A registry record of the same id that names another worktree is not patched.
mkwt o1
mkdir -p "$T/oreg"
printf '{"id":"o1","path":"%s","repo":"%s","status":"active","x":[3]}\n' \
	"$T/elsewhere" "$T/r/.git" > "$T/oreg/registry.ndjson"
cp "$T/oreg/registry.ndjson" "$T/oreg.before"
lsd_rec o1 | wt-archive -r "$T/oreg/registry.ndjson" > "$T/out" 2> "$T/err"
check_same "another worktree's record of the id: exit 1, a RegistryError" \
	'1 "RegistryError" "set"' \
	"$? $(jqf '.error.kind, .error.context.operation' < "$T/out" | tr '\n' ' ' | sed 's/ $//')"
check_same "its context names the registry" "\"$T/oreg/registry.ndjson\"" \
	"$(jqf .error.context.registry_path < "$T/out")"
check "the worktree stays, with no archive of it" sh -c \
	"test -f '$T/o1/s.txt' && ! ls '$A'/o1-* >/dev/null 2>&1"
check_same "the other record is unchanged" "$(cat "$T/oreg.before")" \
	"$(cat "$T/oreg/registry.ndjson"; cat "$T/oreg/registry.journal" 2>/dev/null)"
done_testing
