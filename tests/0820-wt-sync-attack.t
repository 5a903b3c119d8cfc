#!/bin/sh
# wt-sync attacked: kills, a second writer, a full disk, odd stashes and odd upstreams.
# Every case on real repositories with a real remote (file://); nothing may be lost.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-remote.sh"

git init -q --bare "$T/srv.git"
git init -q "$T/seed"
(cd "$T/seed" && printf 'one\ntwo\nthree\n' > a.txt && echo keep > k.txt &&
 git add a.txt k.txt && git commit -q -m one && git push -q "$T/srv.git" main) || exit 1
URL="file://$T/srv.git"
git clone -q "$URL" "$T/r" || exit 1
git clone -q "$URL" "$T/up" || exit 1

SERVED=$T/srv.git
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

# The changes of every kind --stash must keep: staged and unstaged on one
# file, a new untracked file, a deleted file, a mode change, a staged new file.
dirty() {
	(cd "$T/$1" || exit 1
	 printf 'staged\n' >> a.txt && git add a.txt && printf 'unstaged\n' >> a.txt &&
	 echo "untracked" > untracked.txt && git rm -q k.txt && chmod +x up.txt 2>/dev/null;
	 echo "new" > new.txt && git add new.txt)
}
# state NAME: everything about a worktree's uncommitted work, for comparing.
state() {
	(cd "$T/$1" && git status --porcelain && git diff && git diff --cached &&
	 cat a.txt untracked.txt && git stash list)
}

# 2. --stash with every kind of change: all of them back as they were.

wt st2 && (cd "$T/st2" && echo base > up.txt && git add up.txt && git commit -q -m base &&
	   git push -q origin st2) && upstream st2 other.txt "theirs"
dirty st2
state st2 > "$T/before"
lsd_rec st2 | wt-sync --stash > "$T/out" 2> "$T/err"
check_same "--stash, every kind of change: fast-forward" "0 fast-forward" "$? $(res .sync.result)"
state st2 > "$T/after"
check_same "--stash, every kind of change: status, both diffs and the files as before, no stash" \
	"$(cat "$T/before")" "$(cat "$T/after")"
check_same "--stash: the mode change kept" "100755" \
	"$(git -C "$T/st2" diff --raw -- up.txt | awk '{print $2}')"

# 3. Killed -9 at each step of a --stash sync: the stashed changes are back
# in the worktree (or still in git stash list), never lost.
for step in rebase checkout ref; do
	w=ks$step
	wt $w && (cd "$T/$w" && echo base > up.txt && git add up.txt && git commit -q -m base &&
		  git push -q origin $w) && upstream $w other.txt "theirs" &&
		local_commit $w mine.txt "ours"
	dirty $w
	state $w > "$T/before"
	old=$(head_of $w)
	lsd_rec $w > "$T/in"
	WT_TEST_PAUSE=$step wt-sync --stash --rebase < "$T/in" > "$T/out" 2> "$T/err" &
	pid=$!
	wait_stopped $pid && grep -q "paused at $step" "$T/err"
	check_same "--stash, paused at $step" 0 $?
	kill -9 $pid; wait $pid 2>/dev/null
	wt-sync < "$T/in" > "$T/out" 2> "$T/err"
	rc=$?
	state $w > "$T/after"
	check_same "--stash killed at $step: the next run (--ff-only) leaves the branch where it was" \
		"0 $old diverged" "$rc $(head_of $w) $(res .sync.result)"
	check_same "--stash killed at $step: every change back as it was, no stash left" \
		"$(cat "$T/before")" "$(cat "$T/after")"
	wt-sync --stash --rebase < "$T/in" > "$T/out" 2> "$T/err"
	check_same "--stash killed at $step: then it syncs" "0 rebased" "$? $(res .sync.result)"
done

# 4. A full disk during the checkout: a worktree on a small tmpfs, the
# upstream adding a file bigger than it. The room is checked before anything
# is written: the worktree stays exactly as it was, its stash applied back.
mkdir -p "$T/small-plain" "$T/small-stash"
if mount -t tmpfs -o size=512k tmpfs "$T/small-plain" 2>/dev/null &&
   mount -t tmpfs -o size=512k tmpfs "$T/small-stash" 2>/dev/null; then
	trap 'umount "$T/small-plain" "$T/small-stash" 2>/dev/null; chmod -R u+rwx "$T" 2>/dev/null; rm -rf "$T"' EXIT
	for how in plain stash; do
		w=full$how
		small=$T/small-$how
		wt $w "$small/$w" &&
		(cd "$T/up" && git fetch -q origin && git checkout -q -B $w origin/$w &&
		 echo "changed" >> a.txt && head -c 1048576 /dev/urandom > big.bin &&
		 git add a.txt big.bin && git commit -q -m big && git push -q origin $w)
		flag=
		if [ $how = stash ]; then
			flag=--stash
			# A deletion: applying it needs no room on the full disk.
			rm "$small/$w/k.txt"
		fi
		old=$(git -C "$small/$w" rev-parse HEAD)
		(cd "$small/$w" && git status --porcelain && git diff) > "$T/before"
		wt-ls -d "$small" | jq -c --arg id $w 'select(.id == $id)' > "$T/in"
		wt-sync $flag < "$T/in" > "$T/out" 2> "$T/err"
		rc=$?
		check_same "full disk ($how): exit 1, a SynchronizationError at the checkout saying no room, branch not moved" \
			"1 SynchronizationError checkout true $old" \
			"$rc $(res '"\(.error.kind) \(.error.context.sync_state.step) \(.error.message | test("no room"))"') $(git -C "$small/$w" rev-parse HEAD)"
		check "full disk ($how): no marker left" test ! -e "$T/r/.git/worktrees/$w/wt-sync"
		(cd "$small/$w" && git status --porcelain && git diff) > "$T/after"
		check_same "full disk ($how): the worktree exactly as before, no file half written" \
			"$(cat "$T/before")" "$(cat "$T/after")"
		check_same "full disk ($how): no stash left behind" "" "$(git -C "$small/$w" stash list)"
	done
else
	umount "$T/small-plain" 2>/dev/null
	for k in 1 2 3 4 5 6 7 8; do skip "full disk: cannot mount a tmpfs"; done
fi

# 5. A record whose repo names another repository: refused, nothing touched.
mkrepo "$T/other"
wt fr && upstream fr up.txt "theirs"
old=$(head_of fr)
lsd_rec fr | jq -c --arg o "$T/other/.git" '.repo = $o' | wt-sync > "$T/out" 2> "$T/err"
check_same "repo naming another repository: exit 1, a WorktreeError, branch not moved" \
	"1 WorktreeError $old" "$? $(res .error.kind) $(head_of fr)"

# 6. An upstream rewound by a force push: the branch is ahead, nothing is reset.
wt rw && upstream rw up.txt "theirs"
git -C "$T/rw" pull -q --ff-only
ahead=$(head_of rw)
(cd "$T/up" && git reset -q --hard HEAD~1 && git push -q -f origin rw)
lsd_rec rw | wt-sync --rebase > "$T/out" 2> "$T/err"
check_same "rewound upstream: up-to-date, 1 ahead, the branch keeps its commit" \
	"0 up-to-date 1 $ahead" "$? $(res .sync.result) $(res .sync.ahead) $(head_of rw)"

# 7. An upstream that is a local branch (branch.X.remote = "."): no fetch, a fast-forward.
git -C "$T/r" branch -q localbase origin/main
wt lu && git -C "$T/r" branch -q --set-upstream-to=localbase lu
(cd "$T/r" && git checkout -q localbase && echo base >> base.txt && git add base.txt &&
 git commit -q -m base && git checkout -q main)
lsd_rec lu | wt-sync > "$T/out" 2> "$T/err"
check_same "local upstream: fast-forward to it" "0 fast-forward localbase $(git -C "$T/r" rev-parse localbase)" \
	"$? $(res .sync.result) $(res .sync.upstream) $(head_of lu)"

plan $_n
done_testing
