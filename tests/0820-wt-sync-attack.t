#!/bin/sh
# wt-sync attacked: kills, a second writer, a full disk, odd stashes and odd upstreams.
# Every case on real repositories with a real remote (file://); nothing may be lost.
. "$(dirname "$0")/lib.sh"

git init -q --bare "$T/srv.git"
git init -q "$T/seed"
(cd "$T/seed" && printf 'one\ntwo\nthree\n' > a.txt && echo keep > k.txt &&
 git add a.txt k.txt && git commit -q -m one && git push -q "$T/srv.git" main) || exit 1
URL="file://$T/srv.git"
git clone -q "$URL" "$T/r" || exit 1
git clone -q "$URL" "$T/up" || exit 1

# wt NAME [DIR]: a linked worktree DIR (default $T/NAME) on branch NAME tracking origin/NAME.
wt() {
	git -C "$T/r" branch -q "$1" origin/main &&
	git -C "$T/r" push -q origin "$1" &&
	git -C "$T/r" branch -q --set-upstream-to="origin/$1" "$1" &&
	git -C "$T/r" worktree add -q "${2:-$T/$1}" "$1"
}
# upstream NAME FILE TEXT: a commit on NAME pushed from the other clone.
upstream() {
	(cd "$T/up" && git fetch -q origin && git checkout -q -B "$1" "origin/$1" &&
	 printf '%s\n' "$3" >> "$2" && git add "$2" && git commit -q -m "up $1 $2" &&
	 git push -q origin "$1")
}
local_commit() {
	(cd "$T/$1" && printf '%s\n' "$3" >> "$2" && git add "$2" && git commit -q -m "local $1 $2")
}
head_of() { git -C "$T/$1" rev-parse HEAD; }
porc() { git -C "$T/$1" status --porcelain | tr '\n' '|'; }
res() { jq -r "$1" < "$T/out" | tr '\n' ' ' | sed 's/ $//'; }

# 1. A second writer commits in the worktree while wt-sync is between its
# checks and the checkout, or between the checkout and the branch: its commit
# stays on the branch, its files stay on disk.
for step in checkout ref; do
	w=sw$step
	wt $w && upstream $w up.txt "theirs"
	lsd_rec $w > "$T/in"
	WT_TEST_PAUSE=$step wt-sync < "$T/in" > "$T/out" 2> "$T/err" &
	pid=$!
	wait_stopped $pid
	(cd "$T/$w" && echo "second writer" > mine.txt && git add mine.txt &&
	 git commit -q -m "second writer")
	theirs=$(head_of $w)
	kill -CONT $pid; wait $pid
	rc=$?
	check_same "second writer at $step: exit 1, its commit still the branch's head" \
		"1 $theirs" "$rc $(head_of $w)"
	check_same "second writer at $step: its file on disk, the worktree clean" \
		"second writer|" "$(cat "$T/$w/mine.txt")|$(porc $w)"
	check_same "second writer at $step: a SynchronizationError at the checkout" \
		"SynchronizationError checkout" "$(res '"\(.error.kind) \(.error.context.sync_state.step)"')"
	check "second writer at $step: no marker left" test ! -e "$T/r/.git/worktrees/$w/wt-sync"
done

plan $_n
done_testing
