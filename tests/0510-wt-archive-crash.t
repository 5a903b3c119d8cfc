#!/bin/sh
# wt-archive killed at every step loses nothing; a full disk leaves the worktree.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-archive.sh"
plan 53

mkrepo "$T/r"
A="$WT_HOME/archives"
J="$WT_HOME/registry.journal"

# journaled_archive ID: the archive that a journal patch marking ID archived
# names, when that file is there. Only a verified archive gets its final name.
journaled_archive() {
	[ -f "$J" ] || return 1
	_a=$(jq -r --arg id "$1" 'select((.id // .record.id) == $id) |
		(.fields // .record) | select(.archived == true) | .archive' "$J" | tail -n 1)
	case $_a in "$A/$1"-*.tar.zst) [ -f "$_a" ] ;; *) return 1 ;; esac
}

# The matrix: each step (cmd/wt-archive.c's pause_at), and what a kill -9
# there leaves: the worktree (intact as it was, or gone) and whether a
# verified archive with its journal entry is there. Each step must stop the
# program and leave exactly its state, so a step that stops reaching it fails.
# From journaled until the removal begins both outcomes hold; after it only
# the archive does.
while read -r step worktree archive <&3; do
	w=k-$step
	mkwt $w
	snap "$T/$w" > "$T/$w.before"
	lsd_rec $w > "$T/$w.in"
	WT_TEST_PAUSE=$step wt-archive < "$T/$w.in" > "$T/$w.out" 2> "$T/$w.err" &
	pid=$!
	stopped=running-on
	wait_stopped $pid && grep -q "paused at $step\$" "$T/$w.err" && stopped=stopped
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
	if [ "$(snap "$T/$w" 2>/dev/null)" = "$(cat "$T/$w.before")" ]; then
		got_w=intact
	elif [ ! -e "$T/$w" ]; then
		got_w=gone
	else
		got_w=changed
	fi
	journaled_archive $w && got_a=yes || got_a=no
	check_same "kill -9 at $step: worktree $worktree, archive with journal entry: $archive" \
		"stopped $worktree $archive" "$stopped $got_w $got_a"
	# A removal cut short: part of the tree gone, .git (removed last) still there.
	[ $step = removing ] && rm -rf "$T/$w/d" "$T/$w/blob.bin" "$T/$w/empty"
	wt-archive < "$T/$w.in" > "$T/$w.out" 2> "$T/$w.err"
	check_same "after $step, the next run finishes: archived, registry agrees, no temporary" \
		"0 archived archived" \
		"$? $(jq -r .status < "$T/$w.out") $(wt-ls -i $w | jq -r .status)$(ls -A "$A" | grep tmp)"
	check_same "after $step, git's admin entry and the directory are gone" "" \
		"$(ls -d "$T/r/.git/worktrees/$w" "$T/$w" 2>/dev/null)"
	wt-ls -i $w | wt-restore > /dev/null 2>&1
	check_same "after $step, wt-restore gives back everything" "$(cat "$T/$w.before")" \
		"$(snap "$T/$w" 2>&1)"
done 3<<EOF
protected intact no
writing   intact no
written   intact no
verified  intact no
renamed   intact no
marked    intact no
journaled intact yes
removing  intact yes
removed   gone   yes
EOF
check "a run killed while writing leaves a temporary the next run removes" \
	grep -q "removed the partial archive" "$T/k-writing.err"

# Work done after a run died with its marker set is not lost: the next run archives afresh.
mkwt k-new
lsd_rec k-new > "$T/in"
WT_TEST_PAUSE=marked wt-archive < "$T/in" > /dev/null 2>&1 &
pid=$!
wait_stopped $pid && kill -9 $pid
wait $pid 2>/dev/null
echo "written after the crash" > "$T/k-new/new.txt"
snap "$T/k-new" > "$T/k-new.before"
wt-archive < "$T/in" > "$T/out" 2> "$T/err"
check "new work after a crash: the next run archives afresh" grep -q "archiving afresh" "$T/err"
wt-ls -i k-new | wt-restore > /dev/null 2>&1
check_same "and the new work comes back" "$(cat "$T/k-new.before")" "$(snap "$T/k-new")"

# Staged work or a commit after a crash is work too: the next run archives afresh.
for how in stage commit; do
	mkwt k-$how
	lsd_rec k-$how > "$T/in"
	WT_TEST_PAUSE=marked wt-archive < "$T/in" > /dev/null 2>&1 &
	pid=$!
	wait_stopped $pid && kill -9 $pid
	wait $pid 2>/dev/null
	if [ $how = stage ]; then
		git -C "$T/k-$how" add a.txt
	else
		git -C "$T/k-$how" commit -q -m "after the crash"
	fi
	snap "$T/k-$how" > "$T/k-$how.before"
	wt-archive < "$T/in" > "$T/out" 2> "$T/err"
	check "a ${how} after a crash: the next run archives afresh" grep -q "archiving afresh" "$T/err"
	wt-ls -i k-$how | wt-restore > /dev/null 2>&1
	check_same "and the ${how}d state comes back" "$(cat "$T/k-$how.before")" "$(snap "$T/k-$how")"
done

# Work written while the archive is made: it would not be in it, so the worktree stays.
mkwt k-busy
lsd_rec k-busy > "$T/in"
WT_TEST_PAUSE=verified wt-archive < "$T/in" > "$T/out" 2> "$T/err" &
pid=$!
wait_stopped $pid
echo "more work" >> "$T/k-busy/a.txt"
snap "$T/k-busy" > "$T/k-busy.before"
kill -CONT $pid
wait $pid
check_same "a file changed during the archive: exit 1, an error" 1 $?
check "the message says the worktree changed" grep -q "changed while it was archived" "$T/err"
check_same "the worktree stays with the new work, no archive is left" \
	"$(cat "$T/k-busy.before")" "$(snap "$T/k-busy"; ls "$A" | grep k-busy)"

# A full disk: the worktree stays, no partial archive, a clear error.
mkdir -p "$T/small"
if mount -t tmpfs -o size=256k tmpfs "$T/small" 2>/dev/null; then
	mkwt k-full
	head -c 2000000 /dev/urandom > "$T/k-full/big.bin"
	snap "$T/k-full" > "$T/k-full.before"
	lsd_rec k-full | wt-archive -o "$T/small" > "$T/out" 2> "$T/err"
	check_same "a full disk: exit 1, an error record at the write step" '1 "write"' \
		"$? $(jqf .error.context.step < "$T/out")"
	check "the error says the disk is full" sh -c "jq -r .error.message < '$T/out' | grep -q 'No space left'"
	sed "s/^/# /" "$T/err"
	check_same "no partial archive is left" "" "$(ls -A "$T/small")"
	check_same "the worktree is intact" "$(cat "$T/k-full.before")" "$(snap "$T/k-full")"
	check_same "no protection ref is left" "" "$(git -C "$T/r" for-each-ref refs/wt/archived/k-full)"
	umount "$T/small"
	# A mount point inside: neither the archive nor the removal may enter it.
	mkdir "$T/k-full/mnt"
	mount -t tmpfs -o size=64k tmpfs "$T/k-full/mnt" && echo other > "$T/k-full/mnt/f"
	lsd_rec k-full | wt-archive > "$T/out" 2>/dev/null
	check "a mount point inside the worktree is refused" sh -c \
		"jq -r .error.message < '$T/out' | grep -q 'mount point' && test -f '$T/k-full/mnt/f'"
	umount "$T/k-full/mnt"
	mount --bind "$T/k-full/d" "$T/k-full/empty" 2>/dev/null
	lsd_rec k-full | wt-archive > "$T/out" 2>/dev/null
	check "a bind mount of the same filesystem inside is refused" sh -c \
		"jq -r .error.message < '$T/out' | grep -q 'mount point' && test -f '$T/k-full/d/e/f.txt'"
	umount "$T/k-full/empty" 2>/dev/null
else
	for i in 1 2 3 4 5 6 7; do skip "a full disk: cannot mount a small tmpfs here"; done
fi
done_testing
