#!/bin/sh
# One rule of what is recreatable: what wt-du counts as artifacts is what
# wt-prune would free, kind by kind, on a worktree that holds the cases the
# rule decides (tracked, not ignored, a link in an artifact's place).
. "$(dirname "$0")/lib.sh"
plan 15

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
	(cd pkg2/node_modules/gitdep && git add d.js && git commit -q -m dep)
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
done_testing
