# lib-archive.sh: fixtures shared by the wt-archive and wt-restore tests.
# Source it after lib.sh.

# mkwt NAME: a linked worktree $T/NAME of $T/r on branch NAME holding every
# kind of work: staged, partly staged, modified, deleted, untracked and
# ignored files, modes, symbolic links, empty directories, odd names, an
# artifact directory and an unpushed commit.
mkwt() {
	git -C "$T/r" worktree add -q "$T/$1" -b "$1"
	(cd "$T/$1" &&
	 printf 'node_modules/\n.env\n*.log\n' > .gitignore && echo '{}' > package.json &&
	 git add .gitignore package.json && git commit -q -m "unpushed on $1" &&
	 echo staged > s.txt && git add s.txt &&
	 echo partly >> b.txt && git add b.txt && echo unstaged >> b.txt &&
	 echo modified >> a.txt &&
	 git rm -q --cached package.json && echo '{"x":1}' > package.json &&
	 echo untracked > u.sh && chmod 755 u.sh &&
	 echo secret > .env && chmod 600 .env && echo log > x.log &&
	 mkdir -p empty/deeper d/e && echo nested > d/e/f.txt &&
	 ln -s a.txt link && ln -s ../nowhere dangling && ln -s /etc/hostname abs &&
	 echo space > "with space é.txt" && echo bytes > "$(printf 'raw\377name')" &&
	 head -c 200000 /dev/urandom > blob.bin &&
	 mkdir -p node_modules/dep && echo 'module.exports=1' > node_modules/dep/index.js)
	git -C "$T/r" rev-parse "$1" > "$T/$1.head"
}

# snap DIR: everything a worktree holds, in a form to compare: entries with
# type, mode, size, mtime and link target, contents by hash, git's status,
# staged and unstaged diffs, and the last commits. Artifacts are left out.
snap() {
	(cd "$1" &&
	 find . -mindepth 1 \( -path ./.git -o -path ./node_modules \) -prune -o \
	 	-printf '%p %y %m %s %T@ %l\n' | sed 's/\([0-9]\)\.[0-9]* /\1 /' | LC_ALL=C sort &&
	 find . \( -path ./.git -o -path ./node_modules \) -prune -o -type f -print0 |
	 	LC_ALL=C sort -z | xargs -0 sha1sum &&
	 git status --porcelain=v2 --branch --untracked-files=all &&
	 git diff --cached && git diff && git log --format='%H %s' -3)
}

# wait_stopped PID: waits until the process has stopped itself (WT_TEST_PAUSE).
wait_stopped() {
	_i=0
	while [ $_i -lt 600 ]; do
		_s=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
		[ -z "$_s" ] && return 1
		[ "$_s" = T ] && return 0
		sleep 0.05
		_i=$((_i + 1))
	done
	return 1
}
