#!/bin/sh
# wt-du: sizes as GNU du counts them, artifacts, the cache, order and pass-through.
. "$(dirname "$0")/lib.sh"
plan 66

field() { jq -r ".$1"; }
dub() { du -sB1 "$1" | cut -f1; }
dua() { du -sb --apparent-size "$1" | cut -f1; }

mkrepo "$T/r"
cd "$T/r"
for w in a b c s e; do git worktree add -q "$T/$w" -b "$w"; done
mkdir -p "$T/outside/dir"
head -c 12000000 /dev/zero > "$T/outside/dir/big"
echo target > "$T/outside/file"

# a: hard links inside it and across to b, a sparse file, symbolic links out,
# empty directories and a chain 1100 directories deep (paths over PATH_MAX).
cd "$T/a"
head -c 200000 /dev/urandom > h1
ln h1 h2
mkdir -p sub/x && ln h1 sub/x/h3
ln h1 "$T/b/hx"
head -c 50000 /dev/urandom > "$T/b/own"
truncate -s 20M sparse
printf x | dd of=sparse bs=1 seek=1048576 conv=notrunc 2>/dev/null
ln -s "$T/outside/dir" todir
ln -s "$T/outside/file" tofile
ln -s dangling nowhere
mkdir -p empty1 empty2/empty3
perl -e 'for (1 .. 1100) { mkdir "level-of-nesting" or die; chdir "level-of-nesting" or die }
	open(my $f, ">", "leaf") or die; print $f "x" x 5000; close $f' 
cd "$T/r"

out=$(rec a "$T/a" | wt-du)
check_same "size is du -sB1 (hard links, sparse, links, empty and deep dirs)" \
	"$(dub "$T/a")" "$(printf '%s\n' "$out" | field size)"
check_same "apparent_size is du -sb --apparent-size" \
	"$(dua "$T/a")" "$(printf '%s\n' "$out" | field apparent_size)"
check_same "files count every inode once, dirs every directory" \
	"$(find "$T/a" ! -type d -printf '%i\n' | sort -u | wc -l) $(find "$T/a" -type d | wc -l)" \
	"$(printf '%s\n' "$out" | jq -r '"\(.files) \(.dirs)"')"
check "over 1100 levels deep, no errors" \
	test "$(printf '%s\n' "$out" | field dirs)" -gt 1100 -a "$(printf '%s\n' "$out" | field du_errors)" = 0
# The link out points at 12 MB: following it would show.
check "symbolic links are not followed" test "$(printf '%s\n' "$out" | field size)" -lt 12000000

out=$(rec b "$T/b" | wt-du)
check_same "a file linked from another worktree counts in each" \
	"$(dub "$T/b") $(dua "$T/b")" "$(printf '%s\n' "$out" | jq -r '"\(.size) \(.apparent_size)"')"
# Both in one run, on parallel workers: each walk has its own set of links.
out=$( (rec a "$T/a"; rec b "$T/b") | wt-du -C -j 2)
check_same "a and b in one run keep their own hard links" \
	"$(dub "$T/a") $(dub "$T/b")" "$(printf '%s\n' "$out" | field size | tr '\n' ' ' | sed 's/ $//')"

# h1 has a name in b: removing a frees all but its blocks; b's own file has one link.
out=$( (rec a "$T/a"; rec b "$T/b") | wt-du -C)
check_same "unique_size leaves out a file with a link outside the worktree" \
	"$(( $(dub "$T/a") - $(stat -c %b "$T/a/h1") * 512 ))" \
	"$(printf '%s\n' "$out" | sed -n 1p | field unique_size)"
check_same "unique_size of b: du -sB1 a b counts in b what a does not hold" \
	"$(du -sB1 "$T/a" "$T/b" | sed -n 2p | cut -f1)" \
	"$(printf '%s\n' "$out" | sed -n 2p | field unique_size)"

# new_size: what no record before holds, so the sum over the run is du -c's total.
out=$( (rec a "$T/a"; rec b "$T/b") | wt-du -C -j 2)
check_same "new_size: a whole, b without what a holds already (du -sB1 a b)" \
	"$(du -sB1 "$T/a" "$T/b" | cut -f1 | tr '\n' ' ' | sed 's/ $//')" \
	"$(printf '%s\n' "$out" | field new_size | tr '\n' ' ' | sed 's/ $//')"
check_same "in the other order, b whole and a without it" \
	"$(du -sB1 "$T/b" "$T/a" | cut -f1 | tr '\n' ' ' | sed 's/ $//')" \
	"$( (rec b "$T/b"; rec a "$T/a") | wt-du -C | field new_size | tr '\n' ' ' | sed 's/ $//')"
total=$(du -sB1 -c "$T/a" "$T/b" | tail -1 | cut -f1)
check_same "wt-fmt's total counts each inode once, as du -sB1 -c does ($total)" \
	"$(printf '{"id":"x","path":"/x","size":%s}\n{"id":"y","path":"/y","size":0}\n' "$total" |
	   wt-fmt -o id,size | tail -1)" \
	"$(printf '%s\n' "$out" | wt-fmt -o id,size | tail -1)"

# s: a sparse file alone is counted by its blocks, not its length.
truncate -s 100M "$T/s/hole"
out=$(rec s "$T/s" | wt-du)
check "a sparse file counts its blocks" \
	test "$(printf '%s\n' "$out" | field size)" = "$(dub "$T/s")" -a \
	"$(printf '%s\n' "$out" | field apparent_size)" -gt 104857600

# An unreadable directory: counted, named on stderr, never fatal. Root reads
# anything, so as root both du and wt-du run without the DAC capabilities.
mkdir -p "$T/e/locked/in" && echo secret > "$T/e/locked/in/f" && chmod 000 "$T/e/locked"
asuser=""
if [ "$(id -u)" = 0 ]; then
	setpriv --bounding-set -dac_override,-dac_read_search true 2>/dev/null &&
		asuser="setpriv --bounding-set -dac_override,-dac_read_search --"
	[ -z "$asuser" ] && asuser=none
fi
if [ "$asuser" = none ]; then
	skip "unreadable directory: running as root and setpriv cannot drop CAP_DAC_OVERRIDE"
	skip "unreadable directory: named on stderr"
	skip "unreadable directory: size as du"
else
	out=$(rec e "$T/e" | $asuser wt-du 2> "$T/e.err")
	rc=$?
	check_same "an unreadable directory is counted in du_errors, exit 0" \
		"0 1 false" "$rc $(printf '%s\n' "$out" | jq -r '"\(.du_errors) \(has("error"))"')"
	check_same "and named on stderr" \
		"wt-du: cannot open '$T/e/locked': Permission denied" "$(cat "$T/e.err")"
	check_same "its own size counts, as du counts it" \
		"$($asuser du -sB1 "$T/e" 2>/dev/null | cut -f1)" "$(printf '%s\n' "$out" | field size)"
fi

# Every artifact kind of the table, beside its marker.
cd "$T/r"
git worktree add -q "$T/art" -b art
cd "$T/art"
mk() { mkdir -p "$1" && head -c "${2:-10000}" /dev/zero > "$1/blob"; }
echo '{}' > package.json
mk node_modules/left-pad && mk node_modules/left-pad/node_modules/inner
mk dist; mk .next; mk coverage
mkdir -p sub rust java py && : > sub/Makefile && : > rust/Cargo.toml && : > java/build.gradle
mk sub/build; mk rust/target; mk java/.gradle
mk .cache; mk py/__pycache__; : > py/__pycache__/m.cpython-311.pyc
mk .pytest_cache; mk .mypy_cache; mk .ruff_cache; mk .tox; mk .npm
mk .venv && : > .venv/pyvenv.cfg
mk venv && : > venv/pyvenv.cfg
mk .yarn/cache; mk .turbo; mk .parcel-cache; mk .idea/caches
head -c 7000 /dev/zero > py/loose.pyc
head -c 9000 /dev/zero > java/Loose.class
# Not artifacts: no marker beside or inside them.
mk docs/node_modules; mk lonely/target; mk notvenv/venv
# A tracked build/ is source, whatever its name; so is a tracked .class.
mkdir -p web/build && : > web/Makefile && echo keep > web/build/keep.txt
head -c 4000 /dev/zero > java/Tracked.class
git add web java/Tracked.class && git commit -q -m tracked
# An artifact is recreatable only when git ignores it.
printf '%s\n' node_modules dist .next coverage build target .gradle .cache __pycache__ \
	'*.pyc' '*.class' .pytest_cache .mypy_cache .ruff_cache .tox .npm .venv venv \
	.yarn/cache .turbo .parcel-cache .idea/caches > .gitignore
cd "$T/r"
out=$(rec art "$T/art" | wt-du)
check_same "every kind of the table is found" \
	"build cache class coverage dist gradle ide_index mypy_cache next node_modules npm parcel_cache pyc pycache pytest_cache ruff_cache target tox turbo venv yarn_cache" \
	"$(printf '%s\n' "$out" | jq -r '.artifacts | keys | join(" ")')"
check_same "node_modules holds all of it, nested ones included" \
	"$(dub "$T/art/node_modules")" "$(printf '%s\n' "$out" | field artifacts.node_modules)"
check_same "venv counts .venv and venv" \
	"$(( $(dub "$T/art/.venv") + $(dub "$T/art/venv") ))" "$(printf '%s\n' "$out" | field artifacts.venv)"
check_same "target only beside Cargo.toml or pom.xml" \
	"$(dub "$T/art/rust/target")" "$(printf '%s\n' "$out" | field artifacts.target)"
check_same "a tracked build/ is not an artifact" \
	"$(dub "$T/art/sub/build")" "$(printf '%s\n' "$out" | field artifacts.build)"
check_same "loose compiled files, a tracked one left out" \
	"$(du -B1 "$T/art/py/loose.pyc" | cut -f1) $(du -B1 "$T/art/java/Loose.class" | cut -f1)" \
	"$(printf '%s\n' "$out" | jq -r '"\(.artifacts.pyc) \(.artifacts.class)"')"
check_same "artifact_size is the sum of the kinds" \
	"$(printf '%s\n' "$out" | jq '[.artifacts[]] | add')" "$(printf '%s\n' "$out" | field artifact_size)"

# Levels against the limits: config, environment, options.
out=$(rec art "$T/art" | wt-du)
check_same "size_level ok under the defaults" ok "$(printf '%s\n' "$out" | field size_level)"
check_same "-w makes it a warning" warning "$(rec art "$T/art" | wt-du -w 100K | field size_level)"
check_same "-c makes it critical" critical "$(rec art "$T/art" | wt-du -w 1K -c 100K | field size_level)"
check_same "WT_SIZE_WARNING from the environment" warning \
	"$(rec art "$T/art" | WT_SIZE_WARNING=100K wt-du | field size_level)"

# The cache: a hit, its expiry, its invalidation by HEAD and the index.
cd "$T/c"
rm -rf "$WT_HOME/cache"
r1=$(rec c "$T/c" | wt-du)
r2=$(rec c "$T/c" | wt-du)
check_same "first run measures, the second is cached" "false true" \
	"$(printf '%s\n%s\n' "$r1" "$r2" | field du_cached | tr '\n' ' ' | sed 's/ $//')"
check_same "the cached answer is the same, du_at included" \
	"$(printf '%s\n' "$r1" | jq -c 'del(.du_cached)')" "$(printf '%s\n' "$r2" | jq -c 'del(.du_cached)')"
check_same "one cache file, one entry keyed by device and inode" \
	"du.ndjson $(stat -c '%d %i' "$T/c")" \
	"$(ls "$WT_HOME/cache") $(jq -r '"\(.dev) \(.ino)"' "$WT_HOME/cache/du.ndjson")"
(rec a "$T/a"; rec b "$T/b") | wt-du > /dev/null
rec c "$T/c" | wt-du -C > /dev/null
check_same "one file for every worktree; a run keeps the answers it did not replace" \
	"du.ndjson 3 true" "$(ls "$WT_HOME/cache") $(wc -l < "$WT_HOME/cache/du.ndjson") $(
	(rec a "$T/a"; rec b "$T/b") | wt-du | jq -s -c 'all(.du_cached)')"
head -c 300000 /dev/urandom > newfile
r3=$(rec c "$T/c" | wt-du)
check_same "within the TTL a new file is not seen: it is the cache" \
	"true $(printf '%s\n' "$r1" | field size)" "$(printf '%s\n' "$r3" | jq -r '"\(.du_cached) \(.size)"')"
check_same "-C ignores the cache" "false $(dub "$T/c")" \
	"$(rec c "$T/c" | wt-du -C | jq -r '"\(.du_cached) \(.size)"')"
rec c "$T/c" | wt-du > /dev/null
r4=$(rec c "$T/c" | WT_NOW=2026-06-01T00:04:59Z wt-du)
r5=$(rec c "$T/c" | WT_NOW=2026-06-01T00:05:00Z wt-du)
check_same "cached until cache_ttl (300 s) with the first du_at, measured after" \
	"true 2026-06-01T00:00:00Z false" \
	"$(printf '%s\n%s\n' "$r4" "$r5" | jq -r '.du_cached, .du_at' | sed 4d | tr '\n' ' ' | sed 's/ $//')"
check_same "the new measurement has its own du_at" "2026-06-01T00:05:00Z" \
	"$(printf '%s\n' "$r5" | field du_at)"
check_same "WT_CACHE_TTL=0: never cached" false \
	"$(rec c "$T/c" | WT_CACHE_TTL=0 wt-du | field du_cached)"
rec c "$T/c" | wt-du > /dev/null
git add newfile
check_same "git add (the index changed): measured again" false \
	"$(rec c "$T/c" | wt-du | field du_cached)"
check_same "then cached" true "$(rec c "$T/c" | wt-du | field du_cached)"
git commit -q -m new
check_same "a commit (git writes the index again): measured again" false \
	"$(rec c "$T/c" | wt-du | field du_cached)"
git commit -q --allow-empty -m empty
check_same "an empty commit changes nothing measured: cached" true \
	"$(rec c "$T/c" | wt-du | field du_cached)"
# The same index size and mtime as before, as if within one clock tick: the
# new index is a new inode (git writes index.lock and renames it).
idx="$T/r/.git/worktrees/c/index"
rec c "$T/c" | wt-du > /dev/null
printf 'x' > same-size-1 && git add same-size-1 && rec c "$T/c" | wt-du > /dev/null
touch -r "$idx" "$T/idx.mtime" && size1=$(stat -c %s "$idx") && ino1=$(stat -c %i "$idx")
git mv same-size-1 same-size-2 && touch -r "$T/idx.mtime" "$idx"
check_same "the index replaced at the same size and mtime (a new inode): measured again" \
	"$size1 $(stat -c %Y.%y "$T/idx.mtime") false" \
	"$(stat -c %s "$idx") $(stat -c %Y.%y "$idx") $(test "$(stat -c %i "$idx")" != "$ino1" &&
		rec c "$T/c" | wt-du | field du_cached)"
git commit -q -m same-size
rec c "$T/c" | wt-du > /dev/null
git -C "$T/c" checkout -q -b c-other
check_same "a new branch at the same commit: git writes the index, measured again" false \
	"$(rec c "$T/c" | wt-du | field du_cached)"
git -C "$T/c" rm -q same-size-2 && git -C "$T/c" commit -q -m rm
rec c "$T/c" | wt-du > /dev/null
git -C "$T/c" checkout -q c
check_same "a checkout that brings a file back (the index written): measured again" \
	"x false" "$(cat "$T/c/same-size-2") $(rec c "$T/c" | wt-du | field du_cached)"

# A checkout of the worktree's own submodule (its repository in the admin
# directory's modules/) is part of the worktree, as du counts it.
git init -q "$T/subsrc" && (cd "$T/subsrc" && head -c 50000 /dev/urandom > big &&
	git add big && git commit -q -m sub)
git -C "$T/r" worktree add -q "$T/sm" -b sm
(cd "$T/sm" && git -c protocol.file.allow=always submodule add -q "$T/subsrc" sub 2>/dev/null &&
	git commit -q -m sub)
check_same "an own submodule's checkout counts in the worktree, as du counts it" \
	"$(dub "$T/sm") $(find "$T/sm" ! -type d | wc -l)" \
	"$(rec sm "$T/sm" | wt-du -C | jq -r '"\(.size) \(.files)"')"

# Order, GNU parallel, pass-through.
mkrepo "$T/p"
cd "$T/p"
for i in 1 2 3 4 5 6 7 8 9; do
	git worktree add -q "$T/p$i" -b "p$i"
	head -c $((i * 10000)) /dev/urandom > "$T/p$i/data"
	mkdir -p "$T/p$i/d$i" && : > "$T/p$i/d$i/f"
done
plain=$(wt-ls | wt-du -C -j 3)
check_same "output in input order with workers" "$(wt-ls | jq -r .id)" \
	"$(printf '%s\n' "$plain" | jq -r .id)"
fanned=$(wt-ls | parallel --will-cite --pipe -N 4 -k wt-du -C)
check_same "wt-ls | parallel --pipe -N 4 -k wt-du: the same sizes" \
	"$(printf '%s\n' "$plain" | jq -c '{id, size, apparent_size, files, dirs}')" \
	"$(printf '%s\n' "$fanned" | jq -c '{id, size, apparent_size, files, dirs}')"
check_same "each worktree as du sees it" "$(for i in 1 2 3 4 5 6 7 8 9; do dub "$T/p$i"; done)" \
	"$(printf '%s\n' "$plain" | jq -r 'select(.id != "p") | .size')"

in='{"id":"x1", "path":"'"$T/p1"'" ,"zz":{"a":[1,2.50,"\u00e9"]},"n":1e3,"size":"old"}'
out=$(printf '%s\n' "$in" | wt-du)
check_same "unknown fields are kept byte for byte; own fields replaced in place" \
	"{\"id\":\"x1\", \"path\":\"$T/p1\" ,\"zz\":{\"a\":[1,2.50,\"\\u00e9\"]},\"n\":1e3,\"size\":$(dub "$T/p1")" \
	"${out%%,\"apparent_size\"*}"
untouched='{"id":"np","note":"no path"}
{"id":"ar","path":"'"$T/p2"'","status":"archived"}
{"id":"ar2","path":"'"$T/p2"'","archived":true}
{"id":"er","path":"'"$T/p2"'","error":{"kind":"WorktreeError","message":"m","tool":"t"}}'
check_same "no path, archived and error records pass untouched" "$untouched" \
	"$(printf '%s\n' "$untouched" | wt-du)"

printf '%s\nnot json\n{"id":"gone","path":"%s"}\n' "$(rec p3 "$T/p3")" "$T/nowhere" > "$T/bad.in"
wt-du < "$T/bad.in" > "$T/bad.out" 2> "$T/bad.err"
check_same "exit 1 when a record carries an error" 1 $?
check_same "a bad line becomes an InputError record naming its line" '"InputError" 2' \
	"$(sed -n 2p "$T/bad.out" | jq -c '.error.kind, .error.context.line' | tr '\n' ' ' | sed 's/ $//')"
check_same "a missing path is a WorktreeError record, the stream goes on" \
	'"p3" "WorktreeError"' \
	"$(jq -c 'if .error then .error.kind else .id end' < "$T/bad.out" | sed -n '1p;3p' | tr '\n' ' ' | sed 's/ $//')"
check_same "no input, no output" "0 " "$(wt-du < /dev/null; echo "$? $(wt-du < /dev/null)")"
wt-du -x < /dev/null 2> "$T/usage.err"
check_same "a bad option: usage and exit 2" \
	"2 wt-du: invalid option -- 'x'
usage: wt-du [-Cq] [-c size] [-I depth] [-j jobs] [-w size]" "$? $(head -n 2 "$T/usage.err")"
check_same "-I (cold cache) measures the same" \
	"$(printf '%s\n' "$plain" | jq -c '{size, files}')" \
	"$(wt-ls | wt-du -C -I 8 | jq -c '{size, files}')"

# Many small worktrees (issue 10): what each costs besides its walk. HEAD is
# not opened (the cache's fingerprint is the index's stat);
# modules/ is not looked for; the worktrees with an
# artifact candidate share one repository (the common config opened once
# per worker, not once per worktree) and git's answer for a path whose
# .gitignore files are the same (info/exclude read once, not once per
# worktree); a small tree is walked by the worker
# that has the record, with no hand-over to the walker's threads (before:
# some ten futex calls per worktree).
mkrepo "$T/many"
(cd "$T/many" && echo node_modules > .gitignore && echo '{}' > package.json &&
	git add . && git commit -q -m many)
i=1
while [ $i -le 40 ]; do
	git -C "$T/many" worktree add -q "$T/many-w$i" -b "many$i"
	[ $((i % 4)) = 0 ] && mkdir -p "$T/many-w$i/node_modules/d" && echo x > "$T/many-w$i/node_modules/d/i.js"
	i=$((i + 1))
done
(cd "$T/many" && wt-ls) | jq -c 'select(.main | not)' > "$T/many.in"
if command -v strace > /dev/null && strace -f -qq -o /dev/null true 2>/dev/null; then
	strace -f -qq -e trace=openat,access,faccessat,faccessat2,execve -o "$T/many.st0" \
		wt-du -C -q -j 1 < "$T/many.in" > "$T/many.out1"
	strace -f -qq -e trace=futex -o "$T/many.st2" wt-du -C -q -j 2 < "$T/many.in" > "$T/many.out2"
	# wt-du's own calls (st1), and the git processes it started (their pids).
	gits=$(grep 'execve(.*"check-ignore"' "$T/many.st0" | cut -d' ' -f1 | sort -u)
	printf '%s \n' $gits > "$T/many.gits"
	grep -v -F -f "$T/many.gits" "$T/many.st0" > "$T/many.st1"
	check_same "40 worktrees: HEAD not opened, modules/ not looked for, the common config once, git asked once" \
		"0 0 1 1" "$(grep -c '/worktrees/many-w[0-9]*/HEAD"' "$T/many.st1") $(grep -c '/modules"' "$T/many.st1") $(
			grep -c "openat(AT_FDCWD, \"$T/many/.git/config\"" "$T/many.st1") $(
			printf '%s\n' $gits | grep -c .)"
	check "40 small worktrees on 2 workers: under 2 futex calls a worktree ($(grep -c futex "$T/many.st2"))" \
		test "$(grep -c futex "$T/many.st2")" -lt 80
	check_same "the 10 node_modules counted, one run as in a run each" \
		"$(while read -r l; do printf '%s\n' "$l" | wt-du -C | jq -c '[.id, .artifacts]'; done < "$T/many.in")" \
		"$(jq -c '[.id, .artifacts]' < "$T/many.out2")"
else
	skip "per-worktree costs: no strace"
	skip "per-worktree costs: no strace"
	skip "per-worktree costs: no strace"
fi
# git's answer is kept by what it read: a worktree whose .gitignore says
# otherwise, a .gitignore deeper down that takes the rule back, one that is a
# symbolic link, and the same contents again, in one run as in a run each.
printf 'other\n' > "$T/many-w4/.gitignore"
printf 'other\n' > "$T/many-w24/.gitignore"
mkdir -p "$T/many-w8/pkg/node_modules/d" && head -c 5000 /dev/urandom > "$T/many-w8/pkg/node_modules/d/big.js"
printf '!node_modules\n' > "$T/many-w8/pkg/.gitignore" && echo '{}' > "$T/many-w8/pkg/package.json"
mkdir -p "$T/many-w28/pkg/node_modules/d" && head -c 5000 /dev/urandom > "$T/many-w28/pkg/node_modules/d/big.js"
printf 'node_modules\n' > "$T/many-w28/pkg/.gitignore" && echo '{}' > "$T/many-w28/pkg/package.json"
printf 'node_modules\n' > "$T/many-ign" && rm "$T/many-w12/.gitignore" && ln -s "$T/many-ign" "$T/many-w12/.gitignore"
wt-du -C -q -j 1 < "$T/many.in" > "$T/many.out3"
check_same "git's answers by their .gitignore files: one run as in a run each" \
	"$(while read -r l; do printf '%s\n' "$l" | wt-du -C | jq -c '[.id, .artifacts]'; done < "$T/many.in")" \
	"$(jq -c '[.id, .artifacts]' < "$T/many.out3")"
check_same "... where node_modules is not ignored it is no artifact, nor pkg/node_modules taken back" \
	"many-w12 {} many-w24 {} many-w28 $(du -sB1 -c "$T/many-w28/node_modules" "$T/many-w28/pkg/node_modules" |
		tail -1 | cut -f1) many-w4 {} many-w8 $(du -sB1 "$T/many-w8/node_modules" | cut -f1)" \
	"$(jq -r 'select(.id | test("^many-w(4|8|12|24|28)$")) | "\(.id) \(.artifacts.node_modules // {})"' \
		< "$T/many.out3" | tr '\n' ' ' | sed 's/ $//')"

# Progress goes to a terminal only, and -q silences it.
if script -qec true /dev/null > /dev/null 2>&1; then
	wt-ls > "$T/p.in"
	script -qec "wt-du -C < '$T/p.in' > /dev/null" /dev/null > "$T/tty.out" 2>&1
	check "progress on a terminal" grep -q "$(printf '\033\\[K')" "$T/tty.out"
	script -qec "wt-du -C -q < '$T/p.in' > /dev/null" /dev/null > "$T/tty.out" 2>&1
	check "-q: no progress" test ! -s "$T/tty.out"
	wt-du -C < "$T/p.in" > /dev/null 2> "$T/notty.err"
	check "no terminal, no progress" test ! -s "$T/notty.err"
	timeout 10 script -qec 'wt-du; echo "rc=$?"' /dev/null < /dev/null > "$T/tty.out" 2>&1
	check_same "input from a terminal: usage, not a wait" \
		"usage: wt-du [-Cq] [-c size] [-I depth] [-j jobs] [-w size] rc=2" \
		"$(tr -d '\r' < "$T/tty.out" | sed -n '1p;$p' | tr '\n' ' ' | sed 's/ $//')"
else
	skip "progress: script(1) cannot make a terminal here"
	skip "progress: -q"
	skip "progress: no terminal"
	skip "usage at a terminal: script(1) cannot make a terminal here"
fi

# A bind mount of another directory of the same filesystem inside a worktree:
# same st_dev, so du -x counts it, but another mount. Neither it nor the mount
# point is part of the worktree (like a mount of another filesystem for du
# -x): the size is the size before mounting less the empty mount point.
git -C "$T/r" worktree add -q "$T/m" -b m
mkdir -p "$T/m/mnt" "$T/bindsrc"
head -c 3000000 /dev/urandom > "$T/bindsrc/big"
want=$(rec m "$T/m" | wt-du -C |
	jq -c --argjson mp "$(dub "$T/m/mnt")" '{size: (.size - $mp), files, dirs: (.dirs - 1)}')
if mount --bind "$T/bindsrc" "$T/m/mnt" 2>/dev/null; then
	after=$(rec m "$T/m" | wt-du -C | jq -c '{size, files, dirs, du_errors}')
	after2=$(rec m "$T/m" | wt-du -C -j 2 | jq -c '{size, files, dirs}')
	umount "$T/m/mnt"
	check_same "a bind mount inside is not counted: the size before mounting" \
		"$want" "$(printf '%s\n' "$after" | jq -c '{size, files, dirs}')"
	check_same "nor with two workers, and it is no error" \
		"$want 0" "$after2 $(printf '%s\n' "$after" | jq -r .du_errors)"
else
	skip "bind mount inside: mount --bind not permitted here"
	skip "bind mount inside, two workers: mount --bind not permitted here"
fi
done_testing
