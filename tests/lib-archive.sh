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

# mksimple NAME: a linked worktree $T/NAME of $T/r on branch NAME with a
# committed, a modified and an untracked file (plain names, for repack).
mksimple() {
	git -C "$T/r" worktree add -q "$T/$1" -b "$1"
	(cd "$T/$1" && echo kept > k.txt && git add k.txt && git commit -q -m "on $1" &&
	 echo more >> k.txt && mkdir -p d && echo new > d/u.txt)
}

# repack ARCHIVE OUT FILTER [DIR]: OUT, a tar of ARCHIVE's entries with the
# manifest rewritten by the jq FILTER, in the new manifest's order; files
# present in DIR (a tree like the archive's) replace or join the archive's.
repack() {
	rm -rf "$T/repack" && mkdir -p "$T/repack" &&
	tar -xf "$1" -C "$T/repack" &&
	{ [ -z "$4" ] || cp -a "$4/." "$T/repack/"; } &&
	jq -c "$3" < "$T/repack/.wt-manifest.json" > "$T/repack/m.json" &&
	mv "$T/repack/m.json" "$T/repack/.wt-manifest.json" &&
	jq -r '.git[].path, .files[].path' < "$T/repack/.wt-manifest.json" > "$T/repack.list" &&
	tar --no-recursion -cf "$2" -C "$T/repack" .wt-manifest.json -T "$T/repack.list"
}

# git_item FILE NAME: the manifest's entry for git state NAME holding FILE.
git_item() {
	jq -cn --arg p ".wt-git/$2" --argjson n "$(stat -c %s "$1")" \
		--arg c "$(gzip -c < "$1" | tail -c 8 | od -An -tx4 -N4 | tr -d ' ')" \
		--arg s "$(sha256sum < "$1" | cut -d' ' -f1)" \
		'{path: $p, type: "file", mode: "0644", size: $n, crc32: $c, sha256: $s}'
}
