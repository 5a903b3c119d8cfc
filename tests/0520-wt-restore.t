#!/bin/sh
# wt-restore: hostile archives restore nothing outside; corrupt archives, taken
# paths, moved and busy branches, -p, -n.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-archive.sh"
plan 48

mkrepo "$T/r"
mkwt w1
snap "$T/w1" > "$T/w1.before"
lsd_rec w1 | wt-archive > /dev/null 2>&1
head=$(cat "$T/w1.head")
mkdir -p "$T/outside" "$T/h"
crc=$(printf 'evil\n' | gzip -c | tail -c 8 | od -An -tx4 -N4 | tr -d ' ')

# hostile NAME FILES-JSON: $T/h/NAME.tar, a manifest (for an archive of w1)
# listing FILES-JSON; the test appends its entries. Its record is $T/h/NAME.rec.
hostile() {
	mkdir -p "$T/h/$1"
	printf '{"format":"wt-archive/1","id":"w1","name":"w1","path":"%s","repo":"%s","head":"%s","branch":"w1","git":[],"files":%s}\n' \
		"$T/w1" "$T/r/.git" "$head" "$2" > "$T/h/$1/.wt-manifest.json"
	tar -cf "$T/h/$1.tar" -C "$T/h/$1" .wt-manifest.json
	wt-ls -i w1 | jq -c --arg a "$T/h/$1.tar" --arg p "$T/t-$1" '.archive = $a | .path = $p' > "$T/h/$1.rec"
}
# restore_hostile NAME: restores it; passes when it failed and nothing was written anywhere.
restore_hostile() {
	wt-restore -a "$T/h/$1.tar" < "$T/h/$1.rec" > "$T/h/$1.out" 2> "$T/h/$1.err"
	_rc=$?
	sed 's/^/# /' "$T/h/$1.err"
	[ $_rc = 1 ] && jq -e .error < "$T/h/$1.out" > /dev/null &&
	[ ! -e "$T/t-$1" ] && [ ! -e "$T/evil" ] && [ -z "$(ls -A "$T/outside")" ] &&
	[ ! -e "/evil-$$" ] && [ -z "$(git -C "$T/r" worktree list | grep "t-$1")" ]
}
mkdir -p "$T/stage/sub"
echo evil > "$T/stage/evil"
echo evil > "$T/stage/sub/evil"
f='"type":"file","mode":"0644","size":5,"crc32":"'$crc'"'

hostile dotdot '[{"path":"../evil",'"$f"'}]'
tar -rf "$T/h/dotdot.tar" -P --transform 's,^evil$,../evil,' -C "$T/stage" evil
check "a manifest naming ../evil: refused, nothing written" restore_hostile dotdot
hostile dotdot2 '[{"path":"evil",'"$f"'}]'
tar -rf "$T/h/dotdot2.tar" -P --transform 's,^evil$,../evil,' -C "$T/stage" evil
check "an entry ../evil that the manifest does not name: refused, nothing written" restore_hostile dotdot2
hostile abs '[{"path":"/evil-'$$'",'"$f"'}]'
tar -rf "$T/h/abs.tar" -P --transform "s,^.*\$,/evil-$$," -C "$T/stage" evil
check "a manifest naming an absolute path: refused, nothing written" restore_hostile abs
hostile abs2 '[{"path":"evil",'"$f"'}]'
tar -rf "$T/h/abs2.tar" -P --transform "s,^.*\$,$T/evil," -C "$T/stage" evil
check "an absolute entry: refused, nothing written" restore_hostile abs2
ln -s "$T/outside" "$T/stage/l"
hostile link '[{"path":"l","type":"symlink","target":"'"$T/outside"'"},{"path":"l/evil",'"$f"'}]'
tar -rf "$T/h/link.tar" -C "$T/stage" l
tar -rf "$T/h/link.tar" -C "$T/stage" --transform 's,^sub,l,' sub/evil
check "a symbolic link, then a file through it: refused, nothing written" restore_hostile link
hostile link2 '[{"path":"l","type":"dir","mode":"0755"},{"path":"l/evil",'"$f"'}]'
tar -rf "$T/h/link2.tar" -C "$T/stage" l
tar -rf "$T/h/link2.tar" -C "$T/stage" --transform 's,^sub,l,' sub/evil
check "the same with the link disguised as a directory: refused, nothing written" restore_hostile link2
hostile dup '[{"path":"evil",'"$f"'}]'
tar -rf "$T/h/dup.tar" -C "$T/stage" evil evil
check "an entry the manifest does not list (a duplicate): refused, nothing left" restore_hostile dup
hostile git '[{"path":".git",'"$f"'}]'
tar -rf "$T/h/git.tar" -C "$T/stage" --transform 's,^evil$,.git,' evil
check "an entry named .git (a gitdir redirection): refused" restore_hostile git
check_same "after all that, the archive of w1 is untouched and still archived" "archived" \
	"$(wt-ls -i w1 | jq -r .status)"

# A corrupt archive: the restore fails and takes back what it made; the archive stays.
arch=$(wt-ls -i w1 | jq -r .archive)
cp "$arch" "$T/good.tar.zst"
size=$(stat -c %s "$arch")
printf '\001' | dd of="$arch" bs=1 seek=$((size * 2 / 3)) conv=notrunc 2>/dev/null
wt-ls -i w1 | wt-restore > "$T/out" 2> "$T/err"
check_same "a flipped byte: exit 1, an error when the restored tree is checked against the manifest" '1 "verify"' \
	"$? $(jqf .error.context.step < "$T/out")"
check "nothing is left at the path, the archive and the ref stay" sh -c \
	"test ! -e '$T/w1' && test -f '$arch' && git -C '$T/r' rev-parse -q --verify refs/wt/archived/w1 >/dev/null"
check_same "git has no worktree left from it" "" "$(git -C "$T/r" worktree list | grep w1)"
cp "$T/good.tar.zst" "$arch"

# A path that is taken is refused.
mkdir "$T/w1" && echo mine > "$T/w1/mine.txt"
wt-ls -i w1 | wt-restore > "$T/out" 2>/dev/null
check_same "a taken path: exit 1, path taken" '1 "path"' \
	"$? $(jqf .error.context.step < "$T/out")"
check_same "what is there is left alone" "mine" "$(cat "$T/w1/mine.txt")"
rm -r "$T/w1"

# -n says what it would do; -p restores elsewhere.
wt-ls -i w1 | wt-restore -n > "$T/out" 2>/dev/null
check_same "-n: the plan, and nothing done" "restore $T/w1 w1 archived" \
	"$(jq -r '"\(.would.action) \(.would.path) \(.would.branch) \(.status)"' < "$T/out")$(test -e "$T/w1" && echo " made")"
wt-ls -i w1 | wt-restore -p "$T/elsewhere/w1" > "$T/out" 2>/dev/null
check_same "-p PATH restores there; the record's path follows" "0 $T/elsewhere/w1" \
	"$? $(jq -r .path < "$T/out")"
check_same "everything is back at the new path" "$(cat "$T/w1.before")" "$(snap "$T/elsewhere/w1")"
check_same "the registry has the new path" "$T/elsewhere/w1 active" \
	"$(wt-ls -i w1 | jq -r '"\(.path) \(.status)"')"

# The branch checked out elsewhere: restored detached, with a note.
mkwt w2
snap "$T/w2" > "$T/w2.before"
lsd_rec w2 | wt-archive > /dev/null 2>&1
git -C "$T/r" worktree add -q "$T/busy" w2
wt-ls -i w2 | wt-restore > "$T/out" 2>/dev/null
check_same "a branch checked out elsewhere: restored detached at the commit" \
	"0 null $(cat "$T/w2.head")" "$? $(jq -r '"\(.branch) \(.head)"' < "$T/out")"
check "with a note saying so" sh -c "jq -r .restore_note < '$T/out' | grep -q 'checked out elsewhere'"
check_same "the registry records it detached: branch null, not removed; no archive field" \
	'[true,null,false]' \
	"$(jq -c 'select(.id == "w2") | [has("branch"), .branch, has("archive")]' < "$WT_HOME/registry.ndjson")"
check_same "and git agrees: detached HEAD" "HEAD $(cat "$T/w2.head")" \
	"$(git -C "$T/w2" rev-parse --abbrev-ref HEAD) $(git -C "$T/w2" rev-parse HEAD)"
check_same "no temporary branch is left" "" "$(git -C "$T/r" branch --list 'wt-restore/*')"
check_same "the files are back" "$(sed '/^# branch/d' "$T/w2.before" | grep -av '^$')" \
	"$(snap "$T/w2" | sed '/^# branch/d' | grep -av '^$')"

# The branch deleted after archiving: made again at the protected commit.
mkwt w3
snap "$T/w3" > "$T/w3.before"
lsd_rec w3 | wt-archive > /dev/null 2>&1
git -C "$T/r" branch -q -D w3
check_same "the branch is gone, the ref keeps the commit" "$(cat "$T/w3.head")" \
	"$(git -C "$T/r" rev-parse refs/wt/archived/w3)"
wt-ls -i w3 | wt-restore > "$T/out" 2>/dev/null
check_same "a deleted branch is made again at the commit" "0 w3 $(cat "$T/w3.head")" \
	"$? $(git -C "$T/w3" rev-parse --abbrev-ref HEAD) $(git -C "$T/r" rev-parse w3)"
check_same "everything is back" "$(cat "$T/w3.before")" "$(snap "$T/w3")"

# Records that are not archived pass untouched.
printf '{"id":"x","path":"/nowhere","status":"active","k":[1]}\n' | wt-restore > "$T/out" 2>/dev/null
check_same "a record that is not archived passes byte for byte" \
	'{"id":"x","path":"/nowhere","status":"active","k":[1]}' "$(cat "$T/out")"
# A tampered archive: git configuration that runs a command (core.fsmonitor,
# read from config.worktree with extensions.worktreeConfig) is refused, in the
# manifest or only in the tar, in format 2 or 1; nothing is written.
git -C "$T/r" config extensions.worktreeConfig true
mksimple t9
lsd_rec t9 | wt-archive > /dev/null 2>&1
a9=$(wt-ls -i t9 | jq -r .archive)
mkdir -p "$T/evil9/.wt-git"
printf '[core]\n\tfsmonitor = "touch %s/pwned; false"\n' "$T" > "$T/evil9/.wt-git/config.worktree"
item=$(git_item "$T/evil9/.wt-git/config.worktree" config.worktree)
# tampered NAME: restores $T/h/NAME.tar with -a; passes when refused with nothing written.
tampered() {
	wt-ls -i t9 | wt-restore -a "$T/h/$1.tar" > "$T/h/$1.out" 2> "$T/h/$1.err"
	_rc=$?
	sed 's/^/# /' "$T/h/$1.err"
	git -C "$T/t9" status > /dev/null 2>&1
	[ $_rc = 1 ] && jq -e .error < "$T/h/$1.out" > /dev/null && [ ! -e "$T/t9" ] &&
	[ ! -e "$T/pwned" ] && [ ! -e "$T/r/.git/worktrees/t9" ] &&
	[ "$(wt-ls -i t9 | jq -r .status)" = archived ] && [ -f "$a9" ]
}
repack "$a9" "$T/h/cfg2.tar" ".git += [$item]" "$T/evil9"
check "config.worktree listed in a format 2 manifest and in the tar: refused, nothing written" tampered cfg2
check "the error names what an archive may carry" grep -q "bad manifest: unknown git state entry" "$T/h/cfg2.err"
repack "$a9" "$T/h/cfg2b.tar" ".git += [$item] | .git |= map(select(.path != \".wt-git/config.worktree\"))" "$T/evil9"
tar -rf "$T/h/cfg2b.tar" -C "$T/evil9" .wt-git/config.worktree
# The entry after the worktree's last: in the tar only.
check "config.worktree in the tar only: refused, nothing written" tampered cfg2b
repack "$a9" "$T/h/cfg2c.tar" "." "$T/evil9"
tar --no-recursion -cf "$T/h/cfg2c.tar" -C "$T/repack" .wt-manifest.json \
	$(jq -r '.git[].path' < "$T/repack/.wt-manifest.json") .wt-git/config.worktree \
	$(jq -r '.files[].path' < "$T/repack/.wt-manifest.json")
check "config.worktree in the tar among git's state, not in the manifest: refused before anything is made" tampered cfg2c
check "with an error saying an archive carries no configuration" grep -q "never configuration or hooks" "$T/h/cfg2c.err"
repack "$a9" "$T/h/cfg1.tar" ".format = \"wt-archive/1\" | .git += [$item] | (.git, .files) |= map(del(.sha256))" "$T/evil9"
check "the same in a format 1 archive: refused, nothing written" tampered cfg1

# An archive outside the archive directory: only when -a names it. A format 1
# archive restores by crc32, and the record says so.
repack "$a9" "$T/h/v1.tar" '.format = "wt-archive/1" | (.git, .files) |= map(del(.sha256))'
wt-ls -i t9 | jq -c --arg a "$T/h/v1.tar" '.archive = $a' > "$T/h/v1.rec"
wt-restore < "$T/h/v1.rec" > "$T/out" 2> /dev/null
check_same "a record whose archive is outside the archive directory: refused" \
	"1 archive archived" "$? $(jq -r '"\(.error.context.step) \(.status)"' < "$T/out")"
check "the error says to name it with -a" sh -c "jq -r .error.message < '$T/out' | grep -q 'name it with -a'"
check "nothing was made" sh -c "test ! -e '$T/t9' && test -f '$T/h/v1.tar'"
wt-restore -a "$T/h/v1.tar" < "$T/h/v1.rec" > "$T/out" 2> /dev/null
check_same "with -a it restores" "0 active" "$? $(jq -r .status < "$T/out")"
check "and keeps the archive it named outside the archive directory" test -f "$T/h/v1.tar"
check "a format 1 archive: a note says it was checked by crc32 only" sh -c \
	"jq -r .restore_note < '$T/out' | grep -q 'crc32 only'"
check_same "its files are back" "kept
more
new" "$(cat "$T/t9/k.txt" "$T/t9/d/u.txt")"

# A full disk: exit 1, an error, the archive, its ref and the record as they were, no partial tree.
mkdir -p "$T/small"
if mount -t tmpfs -o size=3m tmpfs "$T/small" 2>/dev/null; then
	mksimple full
	head -c 5000000 /dev/urandom > "$T/full/big.bin"
	lsd_rec full | wt-archive > /dev/null 2>&1
	af=$(wt-ls -i full | jq -r .archive)
	wt-ls -i full | wt-restore -p "$T/small/full" > "$T/out" 2> "$T/err"
	check_same "restoring onto a full disk: exit 1, an error record" "1 true" \
		"$? $(jq -c 'has("error")' < "$T/out")"
	sed 's/^/# /' "$T/err"
	check "the archive and refs/wt/archived/full are still there" sh -c \
		"test -f '$af' && git -C '$T/r' rev-parse -q --verify refs/wt/archived/full > /dev/null"
	check_same "the registry still says archived, with its archive" "archived $af" \
		"$(jq -r 'select(.id == "full") | "\(.status) \(.archive)"' < "$WT_HOME/registry.ndjson")"
	check_same "no partial tree is left, git has no worktree of it" "" \
		"$(ls -A "$T/small"; git -C "$T/r" worktree list | grep small)"
	umount "$T/small"
else
	skip "cannot mount a tmpfs (full disk)"; skip "full disk"; skip "full disk"; skip "full disk"
fi

# A sparse file comes back sparse.
mksimple sp
truncate -s 64M "$T/sp/sparse.bin"
printf 'data' | dd of="$T/sp/sparse.bin" bs=1 seek=10000000 conv=notrunc 2> /dev/null
blocks=$(stat -c %b "$T/sp/sparse.bin")
sum=$(sha256sum < "$T/sp/sparse.bin")
lsd_rec sp | wt-archive > /dev/null 2>&1
wt-ls -i sp | wt-restore > "$T/out" 2> /dev/null
check_same "a 64 MB file with 4 bytes written restores, the same content" "0 $sum" \
	"$? $(sha256sum < "$T/sp/sparse.bin")"
check "with about the blocks it had ($blocks), not 64 MB: $(stat -c %b "$T/sp/sparse.bin")" \
	test "$(stat -c %b "$T/sp/sparse.bin")" -le $((blocks + 256))
# A file that is no archive at all: the message says so, not an errno.
head -c 300 /dev/urandom > "$T/h/junk.tar.zst"
printf '{"id":"junk","path":"%s","status":"archived","archived":true}\n' "$T/junk" |
	wt-restore -a "$T/h/junk.tar.zst" > "$T/out" 2> /dev/null
check_same "a file that is no archive: exit 1, the message names what it is not" \
	"1 is not a wt archive" "$? $(jq -r .error.message < "$T/out" | grep -o 'is not a wt archive')"
done_testing
