#!/bin/sh
# wt-fsck: every check on a registry broken on purpose, then --repair, -n, .bak, rebuild, MoAI import.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-archive.sh"
plan 38

R="$WT_HOME/registry.ndjson"
mkrepo "$T/r"
for w in good moved gone noadmin foreign orphan; do
	git -C "$T/r" worktree add -q "$T/$w" -b "$w"
done
mkrepo "$T/other"
git -C "$T/other" worktree add -q "$T/foreignwt" -b f
mkwt arch
lsd_rec arch | wt-archive > /dev/null 2>&1
mkwt arch2
lsd_rec arch2 | wt-archive > /dev/null 2>&1
A="$WT_HOME/archives"
arch=$(ls "$A"/arch-*)
arch2=$(ls "$A"/arch2-*)
head=$(git -C "$T/r" rev-parse HEAD)

# Registry records for every worktree but the orphan, then break it.
for w in good moved gone noadmin foreign; do
	lsd_rec "$w"
done | jq -c '. + {status: "active"}' > "$T/recs"
wt-ls | jq -c 'select(.archived)' >> "$T/recs"
# A second record with good's id at another path, a worktree git has never heard of.
jq -c 'select(.id == "good") | .path = "'"$T"'/nowhere"' "$T/recs" >> "$T/recs"
jq -c 'if .id == "foreign" then .path = "'"$T"'/foreignwt" else . end' "$T/recs" > "$T/recs2"
{ cat "$T/recs2"; echo 'this is garbage'; } | jq -Rr . > "$R.new"
mv "$R.new" "$R"
mv "$T/moved" "$T/moved-here"
rm -rf "$T/gone"
rm -rf "$T/r/.git/worktrees/noadmin"
rm -f "$arch"
printf 'not an archive' > "$arch2"
printf '{"op":"set","id":"moved","fields":{"note":"from the journal"},"del":[]}\n' > "$WT_HOME/registry.journal"
mkdir -p "$T/r/.git/worktrees/good/wt-trash/node_modules" && echo x > "$T/r/.git/worktrees/good/wt-trash/node_modules/f"
echo partial > "$A/.wt-tmp.999999.arch-x.tar.zst"
git -C "$T/good" commit -q --allow-empty -m "after the record"

ids() { jq -R -r "fromjson? | .id" "$1" | sort -u; }
ids "$R" > "$T/ids.before"
cp "$R" "$T/reg.before"
kinds() { jq -r .problem < "$1" | sort | uniq | tr '\n' ' ' | sed 's/ $//'; }

wt-fsck > "$T/out" 2> "$T/err"
check_same "problems found: exit 1" 1 $?
check_same "every kind is found" \
	"admin_missing archive_corrupt archive_missing archive_tmp bad_line duplicate_id foreign head journal moved orphan_worktree prunable stale_index trash" \
	"$(kinds "$T/out")"
check_same "the garbage line is named by its number" \
	"registry line $(grep -n garbage "$R" | cut -d: -f1) is not a record: 'this is garbage'" \
	"$(jq -r 'select(.problem == "bad_line") | .detail' < "$T/out")"
check_same "the moved worktree is found where it went" "the worktree moved to '$T/moved-here'" \
	"$(jq -r 'select(.problem == "moved") | .detail' < "$T/out")"
check "every problem says what --repair does" \
	sh -c "jq -e 'select(.repair == null or .repair == \"\")' < '$T/out' | grep -q . && exit 1 || exit 0"
check_same "a check changes nothing" "" "$(cmp "$R" "$T/reg.before")"

# -n: what would change, and nothing does.
ls -lA --time-style=full-iso "$WT_HOME" "$A" > "$T/ls.before"
wt-fsck -n --repair > "$T/outn" 2> /dev/null
check_same "-n --repair lists the same problems" "$(kinds "$T/out")" "$(kinds "$T/outn")"
check_same "each with what it would do" "$(wc -l < "$T/outn" | tr -d ' ')" \
	"$(jq -c 'select(.would.action == "repair")' < "$T/outn" | wc -l | tr -d ' ')"
check_same "-n changes no byte of the registry" "" "$(cmp "$R" "$T/reg.before")"
ls -lA --time-style=full-iso "$WT_HOME" "$A" > "$T/ls.after"
check_same "nor any file beside it" "" "$(diff "$T/ls.before" "$T/ls.after")"
check_same "nor git's pointer of the moved worktree" "$T/moved/.git" "$(cat "$T/r/.git/worktrees/moved/gitdir")"

# --repair, then clean.
wt-fsck --repair > "$T/outr" 2> "$T/errr"
check_same "--repair repairs every problem" "" \
	"$(jq -c 'select(.repaired != true)' < "$T/outr")"
wt-fsck > "$T/out2" 2>&1
check_same "after --repair wt-fsck is clean" "0 " "$? $(cat "$T/out2")"
ids "$R" > "$T/ids.after"
check_same "no record is lost" "" "$(comm -23 "$T/ids.before" "$T/ids.after")"
check_same "the orphans and the duplicate's loser are added" "foreign~2 good~2 orphan" \
	"$(comm -13 "$T/ids.before" "$T/ids.after" | tr '\n' ' ' | sed 's/ $//')"
check_same "the head is updated" "$(git -C "$T/good" rev-parse HEAD)" "$(wt-ls -i good | jq -r .head)"
check_same "the moved record has its new path" "$T/moved-here" "$(wt-ls -i moved | jq -r .path)"
check_same "and git's two pointers name each other" \
	"$T/moved-here/.git gitdir: $T/r/.git/worktrees/moved" \
	"$(cat "$T/r/.git/worktrees/moved/gitdir") $(cat "$T/moved-here/.git")"
check_same "git sees it there" "$T/moved-here" "$(git -C "$T/r" worktree list --porcelain | grep "^worktree $T/moved" | cut -d' ' -f2)"
check_same "what cannot be mended is status error with the reason" \
	"arch2:error arch:error foreign:error gone:error good~2:error noadmin:error" \
	"$(jq -r 'select(.status == "error") | "\(.id):\(.status)"' "$R" | sort | tr '\n' ' ' | sed 's/ $//')"
check_same "the foreign checkout is untouched" "gitdir: $T/other/.git/worktrees/foreignwt" "$(cat "$T/foreignwt/.git")"
wt-fsck -v > "$T/outv"
check_same "-v lists them as known" 6 "$(jq -c 'select(.known == "error")' "$T/outv" | wc -l | tr -d ' ')"
check_same "and the .bak, which holds the dropped line, as a known state" "1 line of the backup is not a record" \
	"$(jq -r 'select(.known == "backup") | .detail' "$T/outv")"
check_same "the trash is empty, the partial archive gone" "0 no" \
	"$(ls -A "$T/r/.git/worktrees/good/wt-trash" | wc -l | tr -d ' ') $(test -e "$A/.wt-tmp.999999.arch-x.tar.zst" && echo yes || echo no)"
check_same "the garbage line is gone from the registry, kept in the .bak, nothing beside them" \
	"0 1 registry.idx registry.journal registry.lock registry.ndjson registry.ndjson.bak" \
	"$(grep -c garbage "$R") $(grep -c garbage "$R.bak") $(ls "$WT_HOME" | grep '^registry' | tr '\n' ' ' | sed 's/ $//')"
check_same "the leftover journal's patch is in, on the record it named" "from the journal" \
	"$(jq -r 'select(.id == "moved") | .note' "$R")"
check_same "the duplicate id is one record of the worktree, its loser renamed" \
	"good $T/good|good~2 $T/nowhere" \
	"$(jq -r 'select(.id | startswith("good")) | "\(.id) \(.path)"' "$R" | sort | tr '\n' '|' | sed 's/|$//')"

# A temporary archive whose writer is alive (this shell's pid) is no leftover, as wt-archive's clean-up says.
echo writing > "$A/.wt-tmp.$$.1.live.tar.zst"
wt-fsck > "$T/outl" 2>&1
check_same "a live run's temporary archive is left alone" "0 yes" \
	"$(jq -c 'select(.problem == "archive_tmp")' "$T/outl" | wc -l | tr -d ' ') $(wt-fsck --repair > /dev/null 2>&1; test -e "$A/.wt-tmp.$$.1.live.tar.zst" && echo yes)"
rm -f "$A/.wt-tmp.$$.1.live.tar.zst"

# wt-ls names a leftover journal once.
printf '{"op":"set","id":"good","fields":{"x":1},"del":[]}\n' > "$WT_HOME/registry.journal"
wt-ls > /dev/null 2> "$T/lserr"
check_same "wt-ls says so once on stderr, naming wt-fsck --repair" 1 "$(grep -c 'wt-fsck --repair' "$T/lserr")"
wt-fsck --repair > /dev/null 2>&1
check_same "--repair replays a leftover journal" 1 "$(wt-ls -i good | jq -r .x)"

# A truncated registry comes back from its .bak.
wt-ls -i good | jq -c '.y = 1' | { read -r l; printf '{"op":"put","record":%s}\n' "$l"; } > "$WT_HOME/registry.journal"
wt-fsck --repair > /dev/null 2>&1
cp "$R" "$T/full"
head -c $(( $(stat -c %s "$R") / 2 )) "$R" > "$R.cut" && mv "$R.cut" "$R"
wt-fsck --restore-backup > "$T/outb" 2> "$T/errb"
check_same "--restore-backup: the records are back" "$(jq -r .id "$T/full" | sort)" "$(jq -r .id "$R" | sort)"
check_same "and wt-fsck is clean" 0 "$(wt-fsck > /dev/null 2>&1; echo $?)"

# Rebuilt from the filesystem and the archives.
lsd_rec orphan | wt-archive > /dev/null 2>&1
jq -r 'select(.status != "error") | "\(.id) \(.path)"' "$R" | sort > "$T/idpath.before"
rm -f "$R" "$R.bak" "$WT_HOME/registry.idx"
wt-fsck --rebuild "$T" > "$T/outrb" 2> "$T/errrb"
# The ids a repair gave (foreign~2, beside the record of the foreign checkout) are the directories' names again.
check_same "--rebuild: the same ids and paths" "$(grep -v '~' "$T/idpath.before")" \
	"$(jq -r 'select(.repo == "'"$T"'/r/.git" or .archived) | "\(.id) \(.path)"' "$R" | grep -v '^foreign ' | sort)"
check_same "the archived one from its archive's manifest" "archived $(ls "$A"/orphan-*)" \
	"$(jq -r 'select(.id == "orphan") | "\(.status) \(.archive)"' "$R")"

# A wt-add killed between its steps: found, and --repair undoes it with wt-add's own undo.
cd "$T/r"
WT_TEST_PAUSE=worktree wt-add K-f < /dev/null > /dev/null 2> "$T/kf.err" &
pid=$!
wait_stopped $pid
kill -9 $pid
wait $pid 2>/dev/null
wt-fsck > "$T/outk" 2>&1
check_same "a killed wt-add: partial_creation, exit 1" "1 partial_creation" \
	"$? $(jq -r 'select(.id == "K-f") | .problem' "$T/outk" 2>/dev/null)"
wt-fsck --repair > "$T/outk" 2>&1
check_same "--repair: no directory, admin entry, branch or intent left" "1 1 1 0" \
	"$(test -e "$HOME/worktrees/r/K-f"; echo $?) $(test -e "$T/r/.git/worktrees/K-f"; echo $?) $(git -C "$T/r" rev-parse -q --verify feature/K-f > /dev/null; echo $?) $(ls "$WT_HOME/creating" 2>/dev/null | wc -l)" 
check_same "the problem says it was repaired" "true" \
	"$(jq -r 'select(.id == "K-f") | .repaired' "$T/outk" 2>/dev/null)"
wt-fsck > "$T/outk2" 2>&1
check_same "and wt-fsck finds no partial creation after" "" \
	"$(jq -r 'select(.problem == "partial_creation") | .id' "$T/outk2" 2>/dev/null)"
done_testing
