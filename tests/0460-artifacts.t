#!/bin/sh
# One rule of what is recreatable: what wt-du counts as artifacts is what
# wt-prune would free, kind by kind, on a worktree that holds the cases the
# rule decides (tracked, not ignored, a link in an artifact's place).
. "$(dirname "$0")/lib.sh"
plan 25

mkrepo "$T/r"
cd "$T/r"
git worktree add -q "$T/w" -b w
cd "$T/w"
blob() { mkdir -p "$(dirname "$1")" && head -c "$2" /dev/urandom > "$1"; }
printf '%s\n' node_modules __pycache__ '*.pyc' .cache /app/build > .gitignore
echo '{}' > package.json
# Real artifacts, ignored and untracked.
blob node_modules/left-pad/index.js 40000
blob node_modules/left-pad/node_modules/inner/x.js 30000
blob py/__pycache__/m.cpython-311.pyc 12000
blob py/loose.pyc 7000
blob .cache/c 9000
mkdir -p app && echo 'all:' > app/Makefile
blob app/build/out.o 20000
# A tracked node_modules: source, whatever its name.
mkdir -p lib && echo '{}' > lib/package.json
blob lib/node_modules/vendored.js 50000
git add .gitignore package.json app/Makefile lib && git add -f lib/node_modules &&
	git commit -q -m layout
# A build/ git does not ignore: for all we know, work.
mkdir -p tool && echo 'all:' > tool/Makefile && blob tool/build/notes.o 60000
# A link in an artifact's place, pointing outside.
mkdir -p "$T/outside" link && echo '{}' > link/package.json &&
	blob "$T/outside/big" 80000 && ln -s "$T/outside" link/node_modules
# An npm dependency checked out with git: its node_modules holds a repository.
mkdir -p pkg2 && echo '{}' > pkg2/package.json && blob pkg2/node_modules/plain/p.js 30000 &&
	git init -q pkg2/node_modules/gitdep && blob pkg2/node_modules/gitdep/d.js 20000 &&
	(cd pkg2/node_modules/gitdep && git add d.js && git commit -q -m dep) &&
	ln pkg2/node_modules/plain/p.js pkg2/node_modules/plain/p2.js
# git matches a link as a file: "node_modules/" does not ignore a link (libgit2 says it does).
mkdir -p link2 && echo '{}' > link2/package.json && printf '!node_modules\nnode_modules/\n' > link2/.gitignore &&
	ln -s "$T/outside" link2/node_modules
cd "$T"

wrec() { printf '{"id":"w","path":"%s","repo":"%s"}\n' "$T/w" "$T/r/.git"; }
du=$(wrec | wt-du -C)
kind() { printf '%s\n' "$du" | jq -r --arg k "$1" '.artifacts[$k] // 0'; }
would() { wrec | wt-prune -n -k "$1" | jq -r '.would.freed'; }

for k in node_modules pycache cache build; do
	check_same "$k: wt-du's artifacts.$k is what wt-prune -n -k $k would free" \
		"$(kind "$k")" "$(would "$k")"
done
# A .pyc inside __pycache__ counts for pycache, the artifact it is in.
check_same "pyc: the loose ones, what -k pycache,pyc frees beyond -k pycache" \
	"$(kind pyc)" "$(( $(would pycache,pyc) - $(would pycache) ))"
check_same "artifact_size is what wt-prune -n would free in all" \
	"$(printf '%s\n' "$du" | jq -r .artifact_size)" "$(wrec | wt-prune -n | jq -r .would.freed)"
# pkg2/node_modules holds a repository: its names are taken back from the tally.
check_same "artifact_unique_size too (hard links inside the one holding a repository)" \
	"$(printf '%s\n' "$du" | jq -r .artifact_unique_size)" "$(wrec | wt-prune -n | jq -r .would.freed)"
nm=$(du -sB1 "$T/w/node_modules" | cut -f1)
check_same "node_modules counts the real one only (not the tracked one, nor the link's target)" \
	"$nm" "$(kind node_modules)"
check_same "build counts app/build, not the build/ git does not ignore" \
	"$(du -sB1 "$T/w/app/build" | cut -f1)" "$(kind build)"
check_same "wt-prune -n names the same directories" \
	'[".cache","app/build","link/node_modules","node_modules","py/__pycache__"]' \
	"$(wrec | wt-prune -n | jq -c '.would.pruned.dirs | sort')"
check_same "git itself says the second link is not ignored" "?? link2/node_modules" \
	"$(git -C "$T/w" status --porcelain --ignored link2/node_modules)"
wrec | wt-prune > /dev/null
check "a link git does not ignore stays" test -L "$T/w/link2/node_modules"
check "an artifact holding a repository is neither counted nor pruned" \
	has_commit "$T/w/pkg2/node_modules/gitdep"
check "after the prune, the tracked node_modules and the un-ignored build/ are there" \
	test -f "$T/w/lib/node_modules/vendored.js" -a -f "$T/w/tool/build/notes.o"
check "and the link's target outside is untouched" test -f "$T/outside/big"
check_same "wt-du then counts no artifact" "0" "$(wrec | wt-du -C | jq -r .artifact_size)"

# pnpm: node_modules holds hard links to a store outside the worktree. Only
# the blocks of files whose links are all inside what goes are freed; df on
# a tmpfs of its own says what was. du -sB1 STORE DIR counts in DIR only
# what the store does not hold: what removing DIR frees.
P="$T/pnpm"
mkdir -p "$P" && if mount -t tmpfs -o size=64m tmpfs "$P" 2>/dev/null; then
	mkrepo "$P/r"
	used() { df -B1 --output=used "$P" | tail -1 | tr -d ' '; }
	second() { du -sB1 "$@" | sed -n 2p | cut -f1; }
	mkdir -p "$P/store"
	for i in 1 2 3 4 5 6; do blob "$P/store/f$i" 500000; done
	for w in p1 p2 p3; do
		git -C "$P/r" worktree add -q "$P/$w" -b "$w"
		(cd "$P/$w" && echo '{}' > package.json && echo node_modules/ > .gitignore &&
		 blob src.js 50000 && git add . && git commit -q -m pnpm &&
		 git push -q -u origin "$w" 2>/dev/null &&
		 mkdir -p node_modules/.pnpm/a node_modules/own &&
		 for i in 1 2 3 4 5 6; do ln "$P/store/f$i" "node_modules/.pnpm/a/f$i"; done &&
		 blob node_modules/own/o 200000 && blob node_modules/own/twice 100000 &&
		 ln node_modules/own/twice node_modules/own/twice2 &&
		 ln src.js node_modules/own/src-link)
	done
	prec() { printf '{"id":"%s","path":"%s","repo":"%s"}\n' "$1" "$P/$1" "$P/r/.git"; }
	du=$(prec p1 | wt-du -C)
	check_same "pnpm: unique_size is what du counts beside the store" \
		"$(second "$P/store" "$P/p1")" "$(printf '%s\n' "$du" | jq -r .unique_size)"
	check_same "pnpm: size is what du counts of the worktree alone" \
		"$(du -sB1 "$P/p1" | cut -f1)" "$(printf '%s\n' "$du" | jq -r .size)"
	# src.js has a link in node_modules and one outside: it stays.
	art=$(printf '%s\n' "$du" | jq -r .artifact_unique_size)
	check_same "pnpm: artifact_unique_size leaves out the store's files and src.js" \
		"$(du -sB1 "$P/store" "$P/p1/src.js" "$P/p1/node_modules" | sed -n 3p | cut -f1)" "$art"
	check "pnpm: artifact_size is the bytes on disk, store links included" \
		test "$(printf '%s\n' "$du" | jq -r .artifact_size)" -gt $((art + 3000000))
	would=$(prec p1 | wt-prune -n | jq -r .would.freed)
	check_same "pnpm: wt-prune -n predicts artifact_unique_size" "$art" "$would"
	before=$(used)
	freed=$(prec p1 | wt-prune | jq -r .freed)
	after=$(used)
	check_same "pnpm: wt-prune frees what -n predicted, and df agrees" \
		"$would $would" "$freed $((before - after))"
	u2=$(prec p2 | wt-du -C | jq -r .unique_size)
	before=$(used)
	freed=$(prec p2 | wt-rm | jq -r .freed)
	after=$(used)
	# git's admin entry of the worktree goes too: a few blocks more in df.
	check "pnpm: wt-rm frees unique_size, and df agrees within git's admin entry" \
		test "$freed" = "$u2" -a $((before - after - freed)) -ge 0 -a \
		$((before - after - freed)) -lt 65536
	u3=$(prec p3 | wt-du -C | jq -r .unique_size)
	before=$(used)
	out=$(prec p3 | wt-archive)
	after=$(used)
	freed=$(printf '%s\n' "$out" | jq -r .freed)
	# It counts git's admin entry in freed, and writes its ref in the repository.
	d=$((before - after - freed))
	check "pnpm: wt-archive frees unique_size and git's admin entry, and df agrees" \
		test $((freed - u3)) -ge 0 -a $((freed - u3)) -lt 65536 -a \
		"${d#-}" -lt 65536
	check "pnpm: the store is untouched" test "$(find "$P/store" -type f | wc -l)" = 6
	umount "$P"
else
	for i in 1 2 3 4 5 6 7 8 9; do skip "pnpm: cannot mount a tmpfs"; done
fi
done_testing
