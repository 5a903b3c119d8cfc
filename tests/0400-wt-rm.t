#!/bin/sh
# wt-rm: every safety rule refuses, merged work is found however it was merged,
# -f keeps a ref the work comes back from, -n changes nothing, one registry write.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-archive.sh"
plan 126

mkrepo "$T/r"
cd "$T/r"
printf 'node_modules\n.env\n*.db\n__pycache__/\n' > .gitignore
echo '{"name":"x"}' > package.json
git add .gitignore package.json && git commit -q -m ignores && git push -q origin main

# add ID: a linked worktree on a new branch ID with one commit of its own.
add() {
	git -C "$T/r" worktree add -q "$T/$1" -b "$1" &&
	(cd "$T/$1" && echo "$1" > "$1.txt" && git add "$1.txt" && git commit -q -m "$1")
}
# rm_rule ID [OPTIONS]: wt-rm on ID; prints the exit status and the rule.
rm_rule() {
	_id=$1; shift
	ls_rec "$_id" | wt-rm "$@" > "$T/out" 2> "$T/err"
	echo "$? $(jq -r '.error.context.rule // .skipped.reason // "none"' < "$T/out")"
}
intact() { test -d "$T/$1" && test -f "$T/$1/$1.txt" && git -C "$T/r" rev-parse -q --verify "refs/heads/$1" > /dev/null; }
# paused_rm ID STEP [OPTIONS]: wt-rm on ID, stopped at STEP (cmd/wt-rm.c's pause_at); its pid in $pid.
paused_rm() {
	_id=$1 _step=$2; shift 2
	ls_rec "$_id" > "$T/$_id.in"
	WT_TEST_PAUSE=$_step wt-rm "$@" < "$T/$_id.in" > "$T/out" 2> "$T/err" &
	pid=$!
	wait_stopped $pid && grep -q "paused at $_step\$" "$T/err"
}

# A clean worktree merged by fast-forward, with an artifact inside.
add ff
mkdir -p "$T/ff/node_modules/dep" && echo 'x' > "$T/ff/node_modules/dep/index.js"
git merge -q --ff-only ff
ls_rec ff | wt-rm > "$T/out" 2> "$T/err"
check_same "merged and clean: removed, exit 0" 0 $?
check_same "fields: removed, branch_deleted, merged_reason" \
	'{"removed":true,"branch_deleted":true,"merged":true,"merged_reason":"ancestor"}' \
	"$(jqf '{removed, branch_deleted, merged, merged_reason}' < "$T/out")"
check "freed counts the bytes removed" test "$(jq .freed < "$T/out")" -gt 0
check "the directory is gone" test ! -e "$T/ff"
check "git's admin entry is gone" test ! -e "$T/r/.git/worktrees/ff"
check "the merged branch is deleted" test -z "$(git branch --list ff)"
check "no backup ref for work that is in the base" test -z "$(git for-each-ref refs/wt)"

# Each rule refuses, and leaves everything as it was.
add dirty && echo more >> "$T/dirty/dirty.txt"
git merge -q --ff-only dirty
check_same "a modified file refuses (even merged)" "1 modified" "$(rm_rule dirty)"
check "a refused worktree is intact" intact dirty
check_same "the error is a WorktreeError naming the file" \
	'"WorktreeError" true' \
	"$(jqf '.error.kind, (.error.message | test("dirty.txt"))' < "$T/out" | tr '\n' ' ' | sed 's/ $//')"

add untr && echo new > "$T/untr/notes.txt"
git merge -q --ff-only untr
check_same "an untracked file refuses" "1 untracked" "$(rm_rule untr)"

add env && echo 'SECRET=1' > "$T/env/.env"
git merge -q --ff-only env
check_same "an ignored .env is precious and refuses" "1 precious" "$(rm_rule env)"
add db && echo 'rows' > "$T/db/local.db"
mkdir -p "$T/db/node_modules/x" "$T/db/src/__pycache__" && echo 1 > "$T/db/src/__pycache__/m.pyc"
git merge -q --ff-only db
check_same "an ignored local database is precious, artifacts beside it are not" \
	'1 precious "local.db"' \
	"$(rm_rule db) $(jqf '.error.message | capture("(?<p>local.db)").p' < "$T/out")"

add lk && git worktree lock --reason "on a stick" "$T/lk"
git merge -q --ff-only lk
check_same "a locked worktree is skipped: a result, exit 0" "0 locked" "$(rm_rule lk)"
check_same "-f does not remove a locked worktree" "0 locked" "$(rm_rule lk -f)"
check_same "the record says why, and carries no error" '{"reason":"locked","error":false}' \
	"$(jq -c '{reason: .skipped.reason, error: has("error")}' < "$T/out")"
check "the locked worktree is intact" intact lk

add busy
git merge -q --ff-only busy
sh -c 'cd "$1" && exec sleep 60' sh "$T/busy/" &
sleeper=$!
check "the sleeping process has its cwd in the worktree" wait_cwd $sleeper "$T/busy"
check_same "in use by a sleeping process whose cwd is inside: skipped" "0 in_use" "$(rm_rule busy)"
check_same "the skip names the process" "$sleeper" "$(jq .skipped.pid < "$T/out")"
kill "$sleeper"; wait "$sleeper" 2>/dev/null
check "the worktree in use is intact" intact busy

add unp
check_same "commits neither merged nor pushed refuse" "1 unmerged" "$(rm_rule unp)"
check_same "merged is false" false "$(jq .merged < "$T/out")"
git -C "$T/unp" push -q -u origin unp 2>/dev/null
ls_rec unp | wt-rm > "$T/out" 2> "$T/err"
check_same "pushed to its upstream: removed, the unmerged branch kept" \
	'0 {"removed":true,"branch_deleted":false}' \
	"$? $(jqf '{removed, branch_deleted}' < "$T/out")"
has_ref() { git rev-parse -q --verify "$1" > /dev/null; }
check "the pushed branch is still there" has_ref refs/heads/unp

add psh && git -C "$T/psh" push -q -u origin psh 2>/dev/null &&
	(cd "$T/psh" && echo later > later.txt && git add later.txt && git commit -q -m later)
check_same "pushed once, committed since: refuses" "1 unmerged" "$(rm_rule psh)"

add nest && git -C "$T/nest" init -q inner && echo 'only here' > "$T/nest/inner/file" &&
	git -C "$T/nest/inner" add file && git -C "$T/nest/inner" commit -q -m inner
check_same "-f refuses a repository inside, which a backup could not hold" "1 nested" "$(rm_rule nest -f)"
check "the repository inside is intact" test "$(cat "$T/nest/inner/file")" = "only here"
check_same "and no ref was left for a removal that did not happen" "" "$(git for-each-ref refs/wt/removed/nest)"

add st && echo stashed >> "$T/st/st.txt" && git -C "$T/st" stash -q
git merge -q --ff-only st
check_same "a stash entry made from it refuses" "1 stash" "$(rm_rule st)"
check_same "the message names the entry" true "$(jq '.error.message | test("stash@\\{0\\}")' < "$T/out")"

add rbp && (cd "$T/rbp" && echo theirs > a.txt && git commit -q -am "rbp a.txt")
echo ours > a.txt && git commit -q -am "main a.txt"
git -C "$T/rbp" rebase main > /dev/null 2>&1
check_same "a rebase stopped halfway refuses" '1 true' \
	"$(rm_rule rbp | cut -d' ' -f1) $(jq '.error.context.rules | index("in_progress") != null' < "$T/out")"
git -C "$T/rbp" rebase --abort
git reset -q --hard HEAD^
: > "$T/r/.git/worktrees/rbp/index.lock"
check_same "git running in it (index.lock): skipped, even with -f" "0 git_running" "$(rm_rule rbp -f)"
rm "$T/r/.git/worktrees/rbp/index.lock"
check "the worktree whose rebase stopped is intact" intact rbp

check_same "the main worktree wt-ls lists is skipped" "0 main" "$(rm_rule r)"
check_same "-f does not remove the main worktree" "0 main" "$(rm_rule r -f)"
check_same "a record of the main worktree that does not say so is refused" "1 main" \
	"$(ls_rec r | jq -c 'del(.main)' | wt-rm > "$T/out" 2> /dev/null; echo "$? $(jq -r .error.context.rule < "$T/out")")"
check "the main worktree is intact" test -f "$T/r/a.txt" -a -d "$T/r/.git"

# A foreign checkout at a worktree's path: another repository's linked worktree.
add fx
git merge -q --ff-only fx
fxrec=$(ls_rec fx)
rm -rf "$T/fx"
mkrepo "$T/other" > /dev/null 2>&1
git -C "$T/other" worktree add -q "$T/fx" -b foreign
echo "theirs" > "$T/fx/theirs.txt"
check_same "a foreign checkout at the path refuses" "1 foreign" \
	"$(printf '%s\n' "$fxrec" | wt-rm > "$T/out" 2> /dev/null; echo "$? $(jq -r .error.context.rule < "$T/out")")"
check "the foreign checkout is intact" test -f "$T/fx/theirs.txt"
rm -rf "$T/fx"
git clone -q "$T/other" "$T/fx"
check_same "a clone at the path refuses" "1 main" \
	"$(printf '%s\n' "$fxrec" | wt-rm > "$T/out" 2> /dev/null; echo "$? $(jq -r .error.context.rule < "$T/out")")"
check "the clone is intact" test -f "$T/fx/a.txt"

add sl
git merge -q --ff-only sl
ln -s "$T/sl" "$T/sl-link"
check_same "a path that is a symbolic link refuses" "1 symlink" \
	"$(ls_rec sl | jq -c --arg p "$T/sl-link" '.path = $p' | wt-rm > "$T/out" 2> /dev/null; echo "$? $(jq -r .error.context.rule < "$T/out")")"
check "the linked worktree is intact" intact sl

if mkdir -p "$T/mnt-src" && echo keep > "$T/mnt-src/keep" && add mn &&
   mkdir "$T/mn/m" && mount --bind "$T/mnt-src" "$T/mn/m" 2>/dev/null; then
	git merge -q --ff-only mn
	check_same "a filesystem mounted inside refuses" "1 mount" "$(rm_rule mn -f)"
	umount "$T/mn/m"
	check "the mounted tree is intact" test "$(cat "$T/mnt-src/keep")" = keep
else
	skip "mount --bind not permitted here"
	skip "mount --bind not permitted here"
fi

# Merged however it was merged.
add mc && git merge -q --no-ff -m "merge mc" mc
add rb && (cd "$T/rb" && echo 2 > rb2.txt && git add rb2.txt && git commit -q -m rb2)
add sq && (cd "$T/sq" && echo 2 > sq2.txt && git add sq2.txt && git commit -q -m sq2)
add tr && (cd "$T/tr" && echo 2 > tr2.txt && git add tr2.txt && git commit -q -m tr2)
add un
git merge -q --squash tr > /dev/null 2>&1 && git commit -q -m "squash tr"
echo base > base.txt && git add base.txt && git commit -q -m base
git checkout -q -b rbtmp rb && git rebase -q main && git checkout -q main &&
	git merge -q --ff-only rbtmp && git branch -q -D rbtmp
git merge -q --squash sq > /dev/null 2>&1 && git commit -q -m "squash sq"
echo later > rb.txt && git commit -q -am "rb.txt changed again on main"
g=$(cd "$T/r" && wt-ls -g)
check_same "wt-ls -g: merge commit, rebase, squash, squash onto an unmoved base, unmerged" \
	'mc true ancestor
rb true cherry
sq true squash
tr true tree
un false not merged' \
	"$(printf '%s\n' "$g" | jq -r 'select(.id == "mc" or .id == "rb" or .id == "sq" or .id == "tr" or .id == "un") | "\(.id) \(.merged) \(.merged_reason)"')"
check_same "wt-ls -g: the main worktree is the base itself (unknown)" 'null' \
	"$(printf '%s\n' "$g" | jq -c 'select(.main) | .merged')"
for id in mc rb sq tr; do ls_rec "$id"; done | wt-rm > "$T/out" 2> "$T/err"
check_same "merge commit, rebase, squash: all removed" 0 $?
check_same "reasons and branches deleted" \
	'mc ancestor true null
rb cherry true "refs/wt/removed/rb"
sq squash true "refs/wt/removed/sq"
tr tree true "refs/wt/removed/tr"' \
	"$(jq -r '"\(.id) \(.merged_reason) \(.branch_deleted) \(.backup_ref | tojson)"' < "$T/out")"
check_same "squashed commits keep a ref at the old tip" "sq2" \
	"$(git log -1 --format=%s refs/wt/removed/sq)"

# -n: what would happen, and nothing happens.
add dry && git merge -q --ff-only dry
ls_rec dry | wt-rm -n > "$T/out"
check_same "-n prints what it would do" '{"removed":false,"would":{"action":"remove","delete_branch":"dry"}}' \
	"$(jqf '{removed, would}' < "$T/out")"
check "-n removes nothing" intact dry

# -f: tracked work is saved in a ref, other files in an archive of mode 0600;
# no untracked or ignored file's content goes into git's objects (issue 9, case 10).
add frc
(cd "$T/frc" && echo wip >> frc.txt && echo 'my notes' > notes.txt && mkdir -p deep/er &&
 echo deep > deep/er/file && echo 'TOKEN=2' > .env && rm -f a.txt &&
 mkdir -p data.db/x && echo rows > data.db/x/t &&
 echo staged > staged.txt && git add staged.txt && echo unstaged >> staged.txt &&
 mkdir -p node_modules/big && echo junk > node_modules/big/i.js)
check_same "without -f: refused, naming every rule" \
	'1 modified ["modified","untracked","precious","unmerged"]' \
	"$(rm_rule frc | cut -d' ' -f1) modified $(jqf .error.context.rules < "$T/out")"
ls_rec frc | wt-rm -f > "$T/out" 2> "$T/err"
check_same "-f removes it and names the backup ref" '0 true "refs/wt/removed/frc" false' \
	"$? $(jqf '.removed, .backup_ref, .branch_deleted' < "$T/out" | tr '\n' ' ' | sed 's/ $//')"
arch=$(jq -r .backup_archive < "$T/out")
case $arch in "$WT_HOME/archives/frc-"*.tar.zst) a_in=yes ;; *) a_in=no ;; esac
check_same "the record names the archive, in the archive directory" yes "$a_in"
check_same "-f says so on stderr" "wt-rm: 'frc': work saved in refs/wt/removed/frc, files in $arch" \
	"$(cat "$T/err")"
check "the directory is gone" test ! -e "$T/frc"
check_same "the archive is the user's alone (mode 0600)" 600 "$(stat -c %a "$arch")"
check_same "stock tar lists the untracked and precious files, no tracked file, no artifact" \
	".env
data.db/x/t
deep/er/file
notes.txt" \
	"$(tar -tf "$arch" | grep -v -e '^\.wt-' -e '/$' | LC_ALL=C sort)"
check_same "and gives them back" "TOKEN=2 my notes rows" \
	"$(tar -xOf "$arch" .env) $(tar -xOf "$arch" notes.txt) $(tar -xOf "$arch" data.db/x/t)"
check_same "the backup commit's tree holds neither .env nor notes.txt" "" \
	"$(git ls-tree -r --name-only refs/wt/removed/frc | grep -e '^\.env$' -e notes.txt -e deep/ -e data.db)"
check "no object of the repository holds the secret or the notes" \
	sh -c '! git -C "$1" cat-file --batch-all-objects --batch | grep -q -e "TOKEN=2" -e "my notes"' sh "$T/r"
git worktree add -q --detach "$T/back" refs/wt/removed/frc
check_same "the commit comes back" "frc" "$(git -C "$T/back" log -1 --format=%s HEAD^1)"
check_same "modified and staged tracked files come back from the ref" \
	"frc
wip
staged
unstaged" \
	"$(cd "$T/back" && cat frc.txt staged.txt)"
check "a deleted file stays deleted" test ! -e "$T/back/a.txt"
tar -xf "$arch" -C "$T/back" --exclude '.wt-*'
check_same "the archive, unpacked in it, gives the rest back" "my notes deep TOKEN=2 rows" \
	"$(cd "$T/back" && echo $(cat notes.txt deep/er/file .env data.db/x/t))"
check "artifacts are not kept" test ! -e "$T/back/node_modules"
check_same "the index as it was is the second parent" "staged" \
	"$(git -C "$T/r" show refs/wt/removed/frc^2:staged.txt)"
git worktree remove --force "$T/back"
add fo && echo 'only untracked' > "$T/fo/only.txt" && git merge -q --ff-only fo
ls_rec fo | wt-rm -f > "$T/out" 2> "$T/err"
check_same "untracked files alone: an archive, no ref (the commits are merged)" "0 true null only untracked" \
	"$? $(jq -c '.removed, .backup_ref' < "$T/out" | tr '\n' ' ')$(tar -xOf "$(jq -r .backup_archive < "$T/out")" only.txt)"
add fc && echo 'late' > "$T/fc/fc-notes.txt"
check "a forced removal stops once the backup is made" paused_rm fc checked -f
echo 'written meanwhile' > "$T/fc/fc-late.txt"
kill -CONT $pid; wait $pid
check_same "refused when written meanwhile: the worktree stays, its backup goes" "1 changed  " \
	"$? $(jq -r .error.context.rule < "$T/out") $(git for-each-ref refs/wt/removed/fc) $(ls "$WT_HOME/archives" | grep '^fc-')"

# Registry: removed records go in one batch; others stay as they were.
add ra && git merge -q --ff-only ra
add rb2 && git merge -q --ff-only rb2
mkdir -p "$WT_HOME"
{
	printf '{"id":"ra","path":"%s","status":"merged","x":[1]}\n' "$T/ra"
	printf '{"id":"rb2","path":"%s","status":"merged"}\n' "$T/rb2"
	printf '{"id":"zz","path":"/elsewhere","status":"active","keep":"me"}\n'
} > "$WT_HOME/registry.ndjson"
cp "$WT_HOME/registry.ndjson" "$T/reg.before"
wt-ls | jq -c 'select(.id == "ra" or .id == "rb2")' | wt-rm > "$T/out" 2> "$T/err"
check_same "registry records removed" 0 $?
check_same "only the other record stays, byte for byte" \
	'{"id":"zz","path":"/elsewhere","status":"active","keep":"me"}' "$(cat "$WT_HOME/registry.ndjson")"
check_same "one write: the backup is the registry as it was before the run" \
	"$(cat "$T/reg.before")" "$(cat "$WT_HOME/registry.ndjson.bak")"
check "the journal is empty" test ! -s "$WT_HOME/registry.journal"
check_same "the record passes through with its own fields kept" '{"id":"ra","x":[1],"removed":true}' \
	"$(jqf 'select(.id == "ra") | {id, x, removed}' < "$T/out")"

# A record whose id matches the registry but whose path does not is not unregistered.
add rc && git merge -q --ff-only rc
printf '{"id":"rc","path":"/not/this/one","status":"active"}\n' > "$WT_HOME/registry.ndjson"
ls_rec rc | wt-rm > /dev/null 2>&1
check_same "another worktree's registry record with the same id stays" \
	'{"id":"rc","path":"/not/this/one","status":"active"}' "$(cat "$WT_HOME/registry.ndjson")"
rm -f "$WT_HOME/registry.ndjson"

# Filters: error records pass untouched, bad lines become InputError, order is kept.
add o1 && add o2 && git merge -q --ff-only o1 && git merge -q o2 -m o2
printf '%s\n{"id":"e","path":"/x","error":{"kind":"WorktreeError","message":"m"}}\nnot json\n%s\n' \
	"$(ls_rec o1)" "$(ls_rec o2)" | wt-rm -j 3 > "$T/out" 2> "$T/err"
check_same "exit 1 when a record carries an error" 1 $?
check_same "order and pass-through" 'o1 true
e null
null null
o2 true' "$(jq -r '"\(.id) \(.removed)"' < "$T/out")"
check_same "the bad line is an InputError" '"InputError"' "$(sed -n 3p "$T/out" | jqf .error.kind)"
check_same "an error record passes byte for byte" \
	'{"id":"e","path":"/x","error":{"kind":"WorktreeError","message":"m"}}' "$(sed -n 2p "$T/out")"
# Every git operation waiting for the user refuses (one rule, as wt-archive has it).
add mp && (cd "$T/mp" && echo theirs > b.txt && git commit -q -am "mp b.txt")
git -C "$T/r" checkout -q -b mpbase main && echo ours > "$T/r/b.txt" &&
	git -C "$T/r" commit -q -am "mpbase b.txt" && git -C "$T/r" checkout -q main
git -C "$T/mp" merge -q mpbase > /dev/null 2>&1
check_same "a merge stopped on a conflict refuses" '1 true merge' \
	"$(rm_rule mp | cut -d' ' -f1) $(jq -r '"\(.error.context.rules | index("in_progress") != null) \(.error.message | capture("operation in progress \\((?<op>[^)]*)") | .op)"' < "$T/out")"
git -C "$T/mp" merge --abort
git -C "$T/mp" cherry-pick mpbase > /dev/null 2>&1
check_same "a cherry-pick stopped on a conflict refuses" '1 cherry-pick' \
	"$(rm_rule mp | cut -d' ' -f1) $(jq -r '.error.message | capture("operation in progress \\((?<op>[^)]*)") | .op' < "$T/out")"
git -C "$T/mp" cherry-pick --abort
git -C "$T/mp" bisect start > /dev/null 2>&1
check_same "a bisect under way refuses" '1 bisect' \
	"$(rm_rule mp | cut -d' ' -f1) $(jq -r '.error.message | capture("operation in progress \\((?<op>[^)]*)") | .op' < "$T/out")"
git -C "$T/mp" bisect reset > /dev/null 2>&1
check "the worktree of the stopped operations is intact" intact mp

# A worktree on the base branch itself: wt-rm and wt-ls -g give one answer.
git -C "$T/r" worktree add -q -f "$T/onmain" main
ls_says=$( (cd "$T/r" && wt-ls -g) | jq -c 'select(.id == "onmain") | {merged, merged_reason}')
check_same "wt-ls -g: the base branch itself is unknown" \
	'{"merged":null,"merged_reason":"the base branch itself"}' "$ls_says"
ls_rec onmain | wt-rm -n > "$T/out" 2> "$T/err"
check_same "wt-rm -n says the same, and would remove it without deleting main" \
	"$ls_says true null" "$(jq -c '{merged, merged_reason}' < "$T/out") $(jq -c '.would.action == "remove"' < "$T/out") $(jq -c '.would.delete_branch' < "$T/out")"
# -b names a branch of the repository: a revision each worktree resolves its own way is refused.
add bq
for b in 'HEAD^{commit}' HEAD 'main~1' '@{u}'; do
	ls_rec bq | wt-rm -b "$b" > "$T/out" 2> "$T/err"
	echo "$? $(cat "$T/out" | wc -l)"
done > "$T/bq.out"
check_same "-b HEAD^{commit}, HEAD, main~1, @{u}: usage errors, nothing read or written" \
	"$(printf '2 0\n2 0\n2 0\n2 0')" "$(cat "$T/bq.out")"
check "its unmerged branch is intact" intact bq
check_same "-b origin/main is a base; the unpushed commit refuses" "1 unmerged" "$(rm_rule bq -b origin/main)"
# Edits git's status does not show are work: skip-worktree and assume-unchanged.
add sw && git merge -q --ff-only sw && git push -q origin main
git -C "$T/sw" update-index --skip-worktree sw.txt && echo 'hidden edit' >> "$T/sw/sw.txt"
check_same "an edit under skip-worktree refuses" "1 modified" "$(rm_rule sw)"
check_same "the message names the file" true "$(jq '.error.message | test("sw\\.txt")' < "$T/out")"
git -C "$T/sw" update-index --no-skip-worktree sw.txt && git -C "$T/sw" checkout -q sw.txt
git -C "$T/sw" update-index --assume-unchanged sw.txt && echo 'assumed edit' >> "$T/sw/sw.txt"
check_same "an edit under assume-unchanged refuses" "1 modified" "$(rm_rule sw)"
ls_rec sw | wt-rm -f > "$T/out" 2> "$T/err"
check_same "-f removes it, and the backup ref holds the edit" "0 assumed edit" \
	"$? $(git -C "$T/r" show "$(jq -r .backup_ref < "$T/out"):sw.txt" | tail -n 1)"
add sp && git merge -q --ff-only sp && git push -q origin main
git -C "$T/sp" update-index --skip-worktree sp.txt && rm "$T/sp/sp.txt"
check_same "a skip-worktree file absent from disk (a sparse checkout) is no work lost" "0 none" "$(rm_rule sp)"
# A linked worktree's submodule keeps its repository in git's admin entry: its
# commits that are on none of the submodule's remote-tracking branches go with it.
mkrepo "$T/subp"
git -C "$T/r" submodule add -q "file://$T/subp.remote.git" sub > /dev/null 2>&1 &&
	git -C "$T/r" commit -q -m "add sub" && git -C "$T/r" push -q origin main
git -C "$T/r" worktree add -q "$T/sm" -b sm && git -C "$T/sm" submodule update -q --init 2> /dev/null
(cd "$T/sm/sub" && echo only-here > only.txt && git add only.txt && git commit -q -m "sub commit") &&
	(cd "$T/sm" && git add sub && git commit -q -m "bump sub" && git push -q -u origin sm 2> /dev/null)
check "the submodule's repository is in the worktree's admin entry" \
	test -f "$T/r/.git/worktrees/sm/modules/sub/HEAD"
check_same "an unpushed submodule commit refuses, even with -f" "1 submodule 1 submodule" \
	"$(rm_rule sm) $(rm_rule sm -f)"
(cd "$T/sm/sub" && git push -q origin HEAD:refs/heads/pushed 2> /dev/null && git fetch -q origin)
check_same "once pushed, the worktree goes" "0 none" "$(rm_rule sm)"
# Every rule that refuses is listed, in use among them.
add bz && git merge -q --ff-only bz && echo wip > "$T/bz/wip.txt"
sh -c 'cd "$1" && exec sleep 60' sh "$T/bz/" &
bzpid=$!
check "the process is inside" wait_cwd "$bzpid" "$T/bz"
ls_rec bz | wt-rm > "$T/out" 2> "$T/err"
check_same "an untracked file and a process inside: both rules, the pid" \
	"1 [\"untracked\",\"in_use\"] $bzpid" "$? $(jq -c .error.context.rules < "$T/out") $(jq .error.context.pid < "$T/out")"
check_same "the message names both" true \
	"$(jq '.error.message | test("untracked files \\(wip.txt\\); in use by a process.*\\(process [0-9]+\\)")' < "$T/out")"
kill "$bzpid"; wait "$bzpid" 2>/dev/null
# An ignored tree of empty directories holds no work; one file in it does.
add em && git merge -q --ff-only em && git push -q origin main
mkdir -p "$T/em/node_modules/a/b" "$T/em/.env.d"
echo '.env.d/' >> "$T/r/.git/info/exclude"
mkdir -p "$T/em/.env.d/empty/deeper"
check_same "empty ignored directories are no precious files" "0 none" "$(rm_rule em -n)"
mkdir -p "$T/em/.env.d/k" && echo secret > "$T/em/.env.d/k/key"
check_same "a file inside one is" "1 precious" "$(rm_rule em -n)"
# Another worktree nested inside (as coding agents make them), with its work.
echo '.cache/' >> "$T/r/.git/info/exclude"
add outer && git merge -q --ff-only outer && git push -q origin main
git -C "$T/r" worktree add -q "$T/outer/.cache/inner" -b inner && echo wip > "$T/outer/.cache/inner/WIP.txt"
check_same "a worktree nested inside refuses, even with -f" "1 nested 1 nested" "$(rm_rule outer) $(rm_rule outer -f)"
check_same "the message names it" true "$(jq '.error.message | test("\\.cache/inner")' < "$T/out")"
check "the nested worktree and its work are intact" test -f "$T/outer/.cache/inner/WIP.txt" -a -f "$T/outer/outer.txt"
# A repository inside an artifact, with a commit that exists nowhere else.
echo 'build/' >> "$T/r/.git/info/exclude"
add bd && (cd "$T/bd" && echo 'all:' > Makefile && git add Makefile && git commit -q -m mk) &&
	git merge -q --ff-only bd && git push -q origin main
git -C "$T/bd" init -q build/dep && (cd "$T/bd/build/dep" && echo only > f && git add f && git commit -q -m only)
check_same "a repository inside an ignored build/ refuses, even with -f" "1 nested 1 nested" "$(rm_rule bd) $(rm_rule bd -f)"
check "its commit is intact" has_commit "$T/bd/build/dep"
# Check, then remove: work written in between is never lost (issue 9, case 6).
add late && git merge -q --ff-only late
check "wt-rm stops once every check is made" paused_rm late checked
echo 'written meanwhile' > "$T/late/new-work.txt"
kill -CONT $pid; wait $pid
check_same "a file written after the checks: refused, the worktree stays with it" \
	"1 changed written meanwhile" "$? $(jq -r .error.context.rule < "$T/out") $(cat "$T/late/new-work.txt")"
check_same "the message names the file" true "$(jq '.error.message | test("new-work\\.txt")' < "$T/out")"
check "the worktree is back at its path, intact, git still knows it" \
	sh -c 'test -f "$1/late/new-work.txt" && git -C "$1/late" status --porcelain | grep -q "new-work.txt"' sh "$T"
check_same "nothing is left aside, no marker" "" \
	"$(ls -A "$T" | grep '^\.wt-rm\.'; ls "$T/r/.git/worktrees/late" | grep aside)"
rm "$T/late/new-work.txt"
check "the same worktree with nothing written meanwhile is removed" paused_rm late checked
kill -CONT $pid; wait $pid
check_same "removed, exit 0" "0 true" "$? $(jq .removed < "$T/out")"
check "nothing is left aside" test -z "$(ls -A "$T" | grep '^\.wt-rm\.')"

add mv && git merge -q --ff-only mv
check "wt-rm stops once the worktree is moved aside" paused_rm mv moved
aside="$T/.wt-rm.$pid.mv"
check_same "nothing at its path; aside beside it, named in git's admin entry" "absent $aside" \
	"$(test -e "$T/mv" || echo absent) $(cat "$T/r/.git/worktrees/mv/wt-aside")"
check "a writer by the old path finds nothing to write into" sh -c '! echo x 2> /dev/null > "$1/mv/x.txt"' sh "$T"
echo 'through a descriptor' > "$aside/held.txt"
kill -CONT $pid; wait $pid
check_same "a file written into the moved tree: refused, moved back with it" \
	"1 changed through a descriptor" "$? $(jq -r .error.context.rule < "$T/out") $(cat "$T/mv/held.txt")"
check "no marker once it is back" test ! -e "$T/r/.git/worktrees/mv/wt-aside"
rm "$T/mv/held.txt"
check "killed while aside" paused_rm mv moved
kill -9 $pid; wait $pid 2> /dev/null
check_same "kill -9 while aside: the worktree is whole beside its path, the marker names it" \
	"mv $T/.wt-rm.$pid.mv" "$(cat "$T/.wt-rm.$pid.mv/mv.txt") $(cat "$T/r/.git/worktrees/mv/wt-aside")"
mv "$T/.wt-rm.$pid.mv" "$T/mv"
check_same "moved back by hand, it is a worktree again, and goes" "0 true" \
	"$(ls_rec mv | wt-rm > "$T/out" 2> "$T/err"; echo "$? $(jq .removed < "$T/out")")"
wt-rm -x < /dev/null > /dev/null 2>&1
check_same "a bad option: exit 2" 2 $?
done_testing
