#!/bin/sh
# The artifact rule asks git what it ignores: attacks on it. What git reads
# that the rule does not see (a .gitignore git's index holds for a sparse
# checkout, a relative core.excludesFile), an environment that makes git
# wait or refuse, a .gitignore git would wait on, and a process inside that
# is not ours though its parent is this process.
. "$(dirname "$0")/lib.sh"
plan 20

mkrepo "$T/r"
cd "$T/r"
echo node_modules > .gitignore && echo '{}' > package.json
mkdir pkg && echo '!node_modules' > pkg/.gitignore && echo '{}' > pkg/package.json
git add . && git commit -q -m layout && git push -q origin main
add() { git -C "$T/r" worktree add -q "$T/$1" -b "$1"; }
wrec() { printf '{"id":"%s","path":"%s"}\n' "$1" "$T/$1"; }
dirs() { wrec "$1" | wt-prune -n 2> "$T/err" | jq -c '.would.pruned.dirs | sort'; }

# A sparse checkout leaves pkg/.gitignore out (skip-worktree): git status
# reads it from the index then, and pkg/node_modules is untracked work, but
# check-ignore --no-index sees only the top's rule.
add sp && mkdir -p "$T/sp/pkg/node_modules" && echo work > "$T/sp/pkg/node_modules/w.js"
git -C "$T/sp" update-index --skip-worktree pkg/.gitignore && rm "$T/sp/pkg/.gitignore"
check_same "sparse: git status shows pkg/node_modules as untracked" "?? pkg/node_modules/" \
	"$(git -C "$T/sp" status --porcelain --ignored)"
check_same "sparse: wt-prune -n frees none of it" '[]' "$(dirs sp)"
check_same "sparse: wt-rm -n refuses (the work is not recreatable)" "1 precious" \
	"$(ls_rec sp | wt-rm -n > "$T/out" 2> /dev/null; echo "$? $(jq -r .error.context.rule < "$T/out")")"
check_same "sparse: wt-du counts no artifact" 0 \
	"$(wrec sp | wt-du -C | jq -r '.artifacts.node_modules // 0')"
wrec sp | wt-prune > /dev/null 2>&1
check "sparse: wt-prune keeps it" test -f "$T/sp/pkg/node_modules/w.js"

# A .gitignore that is a FIFO: git would wait on it for ever (git status
# too); under it nothing is recreatable, and nobody waits.
add fi && mkdir -p "$T/fi/node_modules" "$T/fi/sub/node_modules" && echo '{}' > "$T/fi/sub/package.json" &&
	mkfifo "$T/fi/sub/.gitignore"
check_same "a FIFO .gitignore: wt-prune -n does not wait, and frees only what is above it" \
	'0 ["node_modules"]' "$(wrec fi | timeout 20 wt-prune -n > "$T/out"; echo "$? $(jq -c .would.pruned.dirs < "$T/out")")"
check_same "... nor wt-du" "0 $(du -sB1 "$T/fi/node_modules" | cut -f1)" \
	"$(wrec fi | timeout 20 wt-du -C > "$T/out"; echo "$? $(jq -r .artifacts.node_modules < "$T/out")")"

# The caller's environment: GIT_FLUSH=0 had git keep its answers in its
# buffer (wt-prune waited for ever), GIT_*_PATHSPECS made check-ignore
# refuse every path, and -c (GIT_CONFIG_PARAMETERS, GIT_CONFIG_COUNT), which
# git itself drops for another repository, made git ignore what git status
# in the worktree does not.
add ev && mkdir -p "$T/ev/node_modules" "$T/ev/py/__pycache__" && echo x > "$T/ev/py/__pycache__/m.pyc"
check_same "GIT_FLUSH=0: wt-prune -n does not wait" '0 ["node_modules"]' \
	"$(wrec ev | GIT_FLUSH=0 timeout 20 wt-prune -n > "$T/out"; echo "$? $(jq -c .would.pruned.dirs < "$T/out")")"
got=$(for v in LITERAL GLOB NOGLOB ICASE; do
	echo "$v $(wrec ev | env "GIT_${v}_PATHSPECS=1" wt-prune -n 2> "$T/err" |
		jq -c .would.pruned.dirs) $(grep -c . "$T/err")"; done)
check_same "GIT_*_PATHSPECS=1: git still answers, and no warning" \
	"$(for v in LITERAL GLOB NOGLOB ICASE; do echo "$v [\"node_modules\"] 0"; done)" "$got"
echo __pycache__ > "$T/pyc.excludes"
check_same "-c core.excludesFile: git status in the worktree does not ignore py/" "?? py/" \
	"$(git -C "$T/ev" status --porcelain --ignored py)"
check_same "... and neither does the rule, by GIT_CONFIG_PARAMETERS or GIT_CONFIG_COUNT" \
	'["node_modules"] ["node_modules"]' \
	"$(wrec ev | GIT_CONFIG_PARAMETERS="'core.excludesfile'='$T/pyc.excludes'" wt-prune -n |
		jq -c .would.pruned.dirs) $(wrec ev | GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=core.excludesFile \
		GIT_CONFIG_VALUE_0="$T/pyc.excludes" wt-prune -n | jq -c .would.pruned.dirs)"

# A relative core.excludesFile is read from each worktree's top: one run of
# wt-du over two worktrees, e1 with such a file, e2 without, gave both the
# answer of the first.
mkrepo "$T/r2"
git -C "$T/r2" config core.excludesFile local.ignore
for e in e1 e2; do
	git -C "$T/r2" worktree add -q "$T/$e" -b "$e" && echo '{}' > "$T/$e/package.json" &&
		mkdir -p "$T/$e/node_modules" && echo x > "$T/$e/node_modules/x.js"
done
echo node_modules > "$T/e1/local.ignore"
nm=$(du -sB1 "$T/e1/node_modules" | cut -f1)
check_same "relative core.excludesFile: git ignores e1's node_modules, not e2's" "node_modules -" \
	"$(git -C "$T/e1" check-ignore node_modules) $(git -C "$T/e2" check-ignore node_modules || echo -)"
check_same "... and one run of wt-du finds that, in either order" "e1 $nm e2 0 e2 0 e1 $nm" \
	"$( (wrec e1; wrec e2; wrec e2; wrec e1) | wt-du -C -j 1 |
		jq -r '"\(.id) \(.artifacts.node_modules // 0)"' | tr '\n' ' ' | sed 's/ $//')"
# One without a value: git refuses the configuration, and nothing is
# recreatable (wt-du crashed on it).
printf '[core]\n\texcludesFile\n' >> "$T/r2/.git/config"
check_same "core.excludesFile without a value: wt-du measures, nothing recreatable" "0 0 0" \
	"$( (wrec e1; wrec e2) | wt-du -C -j 1 2> /dev/null > "$T/out"; echo "$? $(jq -r '.artifact_size' < "$T/out" | tr '\n' ' ')" | sed 's/ $//')"
git -C "$T/r2" config --unset-all core.excludesFile

# In use: a process this one did not start is a user's, even when its
# parent is this process: one a shell started in the worktree before it
# exec'd wt-rm. Processes wt-rm starts (git check-ignore in the worktree)
# are not; the other tests remove worktrees with one running.
add ex
sh -c 'cd "$1"; sleep 60 & echo $! > "$2"; cd / && exec wt-rm < "$3" > "$4" 2> /dev/null' sh \
	"$T/ex" "$T/ex.pid" "$(ls_rec ex > "$T/ex.in"; echo "$T/ex.in")" "$T/out"
check_same "a process started before the exec, inside: skipped as in use, by its pid" \
	"in_use $(cat "$T/ex.pid")" "$(jq -r '"\(.skipped.reason) \(.skipped.pid)"' < "$T/out")"
check "... and the worktree is there" test -d "$T/ex/pkg"
kill "$(cat "$T/ex.pid")"
check_same "without it, wt-rm removes the worktree" "true" "$(ls_rec ex | wt-rm | jq -r .removed)"

# wt-prune starts libgit2 in a thread of its own, and a worktree's git
# check-ignore before it opens the repository: on a busy machine, about one
# run in 30 opened the repository before libgit2 was started ("libgit2 has
# not been initialized"), then crashed at the exit while that thread still
# ran. Two busy loops (10 s at most) make the machine busy.
timeout 10 sh -c 'while :; do :; done' & b1=$!
timeout 10 sh -c 'while :; do :; done' & b2=$!
bad=0
for i in $(seq 1 100); do
	wrec ev | wt-prune -n > "$T/out" 2> "$T/err"
	jq -e '.would.pruned.dirs == ["node_modules"]' < "$T/out" > /dev/null &&
		! grep -q '^wt-prune:' "$T/err" || bad=$((bad + 1))
done
kill $b1 $b2 2> /dev/null; wait $b1 $b2 2> /dev/null
check_same "busy machine: 100 runs of wt-prune -n, each prunes and warns of nothing" 0 "$bad"
# An empty input: libgit2's start, waited for by no record, ends before the
# exit (it crashed there about one run in 150 on a busy machine).
timeout 10 sh -c 'while :; do :; done' & b1=$!
timeout 10 sh -c 'while :; do :; done' & b2=$!
bad=0
for i in $(seq 1 150); do
	wt-prune -n < /dev/null > "$T/out" 2> "$T/err" || bad=$((bad + 1))
done
kill $b1 $b2 2> /dev/null; wait $b1 $b2 2> /dev/null
check_same "busy machine: 150 runs of wt-prune -n on no input, each exits 0" 0 "$bad"

# A repository root does not own (root running wt-prune on a user's): git
# is told, as libgit2 is, to answer whoever owns it.
if [ "$(id -u)" = 0 ] && id nobody > /dev/null 2>&1; then
	git -C "$T/r" worktree add -q "$T/own" -b own && mkdir -p "$T/own/node_modules" &&
		echo x > "$T/own/node_modules/x.js"
	cp -a "$T/r" "$T/r-nobody" && cp -a "$T/own" "$T/own-nobody"
	printf 'gitdir: %s\n' "$T/r-nobody/.git/worktrees/own" > "$T/own-nobody/.git"
	printf '%s/.git\n' "$T/own-nobody" > "$T/r-nobody/.git/worktrees/own/gitdir"
	chown -R nobody "$T/r-nobody" "$T/own-nobody"
	check_same "owned by another user: node_modules is an artifact, as git says with safe.directory" \
		'["node_modules"] node_modules' \
		"$(printf '{"id":"own","path":"%s"}\n' "$T/own-nobody" | wt-prune -n 2> /dev/null |
			jq -c '.would.pruned.dirs | sort') $(git -c safe.directory='*' -C "$T/own-nobody" check-ignore node_modules)"
else
	skip "owned by another user: not root, or no user nobody"
fi

done_testing
