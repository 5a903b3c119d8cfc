#!/bin/sh
# One rule of what is recreatable: what wt-du counts as artifacts is what
# wt-prune would free, kind by kind, on a worktree that holds the cases the
# rule decides (tracked, not ignored, a link in an artifact's place).
. "$(dirname "$0")/lib.sh"
plan 36

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
# Worktrees of one repository share one libgit2 repository in a run of
# wt-du: each must still answer as its own, and as git does. One worktree
# per tricky case, in one run (-j 1: one after the other on the same
# repository; -j 3 too), against git check-ignore and ls-files.
S="$T/sr"
mkrepo "$S"
printf '%s\n' .cache > "$S/.git/info/exclude"
printf '%s\n' __pycache__ > "$T/excludes"
git -C "$S" config core.excludesFile "$T/excludes"
mk() { git -C "$S" worktree add -q "$T/s$1" -b "s$1" && cd "$T/s$1" && echo '{}' > package.json &&
	blob node_modules/m/i.js 30000 && blob .cache/c 5000 && blob py/__pycache__/x.pyc 4000; }
# s1: ignored. s2: ignored, then re-included (negated). s3: not ignored at
# the top, a nested .gitignore ignores sub/node_modules. s4: ignored, with
# a file inside tracked. s5: ignored, index v4. s6: ignored by a pattern
# with a wildcard and a directory-only slash. s7: no .gitignore at all.
mk 1 && echo node_modules > .gitignore
mk 2 && printf 'node_modules\n!node_modules\n' > .gitignore
mk 3 && mkdir -p sub && echo '{}' > sub/package.json && echo node_modules/ > sub/.gitignore &&
	blob sub/node_modules/n.js 20000
mk 4 && echo node_modules > .gitignore && git add .gitignore && git add -f node_modules/m/i.js &&
	git commit -q -m tracked-inside
mk 5 && echo node_modules > .gitignore && git update-index --index-version 4 &&
	git add .gitignore && git commit -q -m v4
mk 6 && echo 'node_mod*/' > .gitignore
mk 7 && rm -f .gitignore
# s8: a sparse index (directories as entries), which libgit2 cannot read:
# nothing is recreatable there, in a run of its own or in one with others.
mk 8 && echo node_modules > .gitignore && mkdir -p src && echo a > src/a && echo b > b &&
	git add . ':!node_modules' && git commit -q -m sparse &&
	git sparse-checkout init --cone --sparse-index 2>/dev/null && git sparse-checkout set src 2>/dev/null
# s9: ignored at the top, taken back by sub/.gitignore: git does not ignore
# sub/node_modules, though libgit2 says it does (it hears the top's rule
# first). The rule is git's answer: it is no artifact, and never pruned.
mk 9 && echo node_modules > .gitignore && mkdir -p sub && echo '{}' > sub/package.json &&
	echo '!node_modules' > sub/.gitignore && blob sub/node_modules/n.js 20000
cd "$T"
# What git says: each candidate that git ignores and in which it tracks nothing.
gitsays() {
	for d in node_modules sub/node_modules .cache py/__pycache__; do
		[ -d "$1/$d" ] || continue
		git -C "$1" check-ignore -q "$d" && [ -z "$(git -C "$1" ls-files "$d")" ] && echo "$d"
	done | sort | tr '\n' ' '
}
srec() { for i in 1 2 3 4 5 6 7 8 9; do printf '{"id":"s%s","path":"%s"}\n' "$i" "$T/s$i"; done; }
one=$(for i in 1 2 3 4 5 6 7 8 9; do printf '{"id":"s%s","path":"%s"}\n' "$i" "$T/s$i" | wt-du -C 2>/dev/null |
	jq -c '{id, artifacts}'; done)
for j in 1 3; do
	got=$(srec | wt-du -C -j "$j" 2>/dev/null | jq -c '{id, artifacts}')
	check_same "one run, -j $j: each worktree's artifacts as a run of its own finds them" \
		"$one" "$got"
done
# The kinds found match git's answer where there is one per kind: node_modules
# sizes are checked against du of the directories git says are recreatable.
nmwant=$(for i in 1 2 3 4 5 6 7 9; do
	t=0
	for d in node_modules sub/node_modules; do
		case " $(gitsays "$T/s$i")" in *" $d "*) t=$((t + $(du -sB1 "$T/s$i/$d" | cut -f1))) ;; esac
	done
	echo "s$i $t $(case " $(gitsays "$T/s$i")" in *" .cache "*) echo cache;; *) echo -;; esac) $(
		case " $(gitsays "$T/s$i")" in *" py/__pycache__ "*) echo pycache;; *) echo -;; esac)"
done)
check_same "as git check-ignore and ls-files say: negated, nested, tracked inside, index v4, info/exclude, core.excludesFile, taken back below" \
	"$nmwant" "$(printf '%s\n' "$got" | grep -v '"s8"' | jq -r '"\(.id) \(.artifacts.node_modules // 0) \(if .artifacts.cache then "cache" else "-" end) \(if .artifacts.pycache then "pycache" else "-" end)"')"
check_same "git ignores node_modules in s9, not sub/node_modules" "node_modules" \
	"$(git -C "$T/s9" check-ignore node_modules sub/node_modules)"
printf '{"id":"s9","path":"%s"}\n' "$T/s9" | wt-prune > /dev/null
check "wt-prune removes s9's node_modules and keeps sub/node_modules, which git does not ignore" \
	test ! -e "$T/s9/node_modules" -a -f "$T/s9/sub/node_modules/n.js"
# Odd names go to git as paths: one that starts as pathspec magic, one with
# a newline, one with a glob; each node_modules below is ignored by the top's
# rule, and wt-du counts each, as git answers for it.
git -C "$S" worktree add -q "$T/odd" -b odd && echo node_modules > "$T/odd/.gitignore"
for d in ':(exclude)x' "$(printf 'new\nline')" 'gl*b'; do
	mkdir -p "$T/odd/$d" && echo '{}' > "$T/odd/$d/package.json" && blob "$T/odd/$d/node_modules/m.js" 8000
done
check_same "odd names: every node_modules counted, and git ignores each" \
	"$(du -sB1 -c "$T/odd/:(exclude)x/node_modules" "$T/odd/new
line/node_modules" "$T/odd/gl*b/node_modules" | tail -1 | cut -f1) 3" \
	"$(printf '{"id":"odd","path":"%s"}\n' "$T/odd" | wt-du -C | jq -r .artifacts.node_modules) $(
		cd "$T/odd" && printf './%s/node_modules\0' ':(exclude)x' "$(printf 'new\nline')" 'gl*b' |
		git check-ignore --no-index --stdin -z | tr -cd '\0' | wc -c)"
# git is asked about the worktree, not about a repository the caller's
# GIT_DIR or GIT_WORK_TREE names; and where git cannot be run, nothing is
# recreatable.
check_same "GIT_DIR and GIT_WORK_TREE of another repository change nothing" \
	"$(srec | wt-du -C | jq -c '{id, artifacts}')" \
	"$(srec | GIT_DIR="$T/r/.git" GIT_WORK_TREE="$T/w" GIT_INDEX_FILE="$T/r/.git/index" wt-du -C |
		jq -c '{id, artifacts}')"
mkdir -p "$T/nogit" && for t in jq; do ln -sf "$(command -v $t)" "$T/nogit/$t"; done
out=$(printf '{"id":"s1","path":"%s"}\n' "$T/s1" | PATH="$T/nogit" "$WT_BUILD/bin/wt-prune" 2> "$T/nogit.err")
check_same "no git to ask: nothing pruned, and stderr says why" \
	"0 1" "$(printf '%s\n' "$out" | jq -r '.freed // 0') $(grep -c 'cannot ask git what it ignores' "$T/nogit.err")"
check "... s1's node_modules is there" test -f "$T/s1/node_modules/m/i.js"

# With extensions.worktreeConfig each worktree may have a configuration of
# its own (core.excludesFile here): such worktrees share no repository.
git -C "$S" config extensions.worktreeConfig true
echo node_modules > "$T/q1.excludes"
for q in q1 q2; do
	git -C "$S" worktree add -q "$T/$q" -b "$q" && mkdir -p "$T/$q/node_modules/x" &&
		echo '{}' > "$T/$q/package.json" && blob "$T/$q/node_modules/x/i.js" 10000
done
git -C "$T/q1" config --worktree core.excludesFile "$T/q1.excludes"
qrec() { printf '{"id":"%s","path":"%s"}\n' "$1" "$T/$1"; }
check_same "extensions.worktreeConfig: one run finds what a run per worktree finds" \
	"$(for q in q1 q2 s1; do qrec "$q" | wt-du -C | jq -c '{id, artifacts}'; done)" \
	"$( (qrec q1; qrec q2; qrec s1) | wt-du -C -j 1 | jq -c '{id, artifacts}')"
git -C "$S" config --unset extensions.worktreeConfig
# includeIf onbranch: gives one branch's worktree an excludes file of its
# own: those worktrees share no answers either.
echo node_modules > "$T/b2.excludes" && printf '[core]\n\texcludesFile = %s\n' "$T/b2.excludes" > "$T/b2.cfg"
git -C "$S" config includeIf.onbranch:b2.path "$T/b2.cfg"
for b in b1 b2 b3; do
	git -C "$S" worktree add -q "$T/$b" -b "$b" && echo '{}' > "$T/$b/package.json" &&
		blob "$T/$b/node_modules/x/i.js" 10000
done
check_same "includeIf: one run finds what a run per worktree finds (only b2 ignores node_modules)" \
	"$(for b in b1 b2 b3; do qrec "$b" | wt-du -C | jq -c '{id, artifacts}'; done)
b1 - b2 node_modules b3 -" \
	"$( (qrec b1; qrec b2; qrec b3) | wt-du -C -j 1 | jq -c '{id, artifacts}')
$(for b in b1 b2 b3; do printf '%s %s\n' "$b" "$(git -C "$T/$b" check-ignore node_modules || echo -)"; done | tr '\n' ' ' | sed 's/ $//')"
git -C "$S" config --unset includeIf.onbranch:b2.path

done_testing
