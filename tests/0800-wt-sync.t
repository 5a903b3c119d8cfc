#!/bin/sh
# wt-sync against real remotes: a git daemon on 127.0.0.1 and a bare repository over file://.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-remote.sh"
trap 'stop_daemon; chmod -R u+rwx "$T" 2>/dev/null; rm -rf "$T"' EXIT

plan 88

# The served repository, a clone with worktrees, and a second clone that pushes.
mkdir -p "$T/srv"
git init -q --bare "$T/srv/p.git"
git init -q "$T/seed"
(cd "$T/seed" && printf 'one\ntwo\nthree\n' > a.txt && git add a.txt && git commit -q -m one &&
 git push -q "$T/srv/p.git" main) || exit 1
start_daemon "$T/srv" || exit 1
URL="git://127.0.0.1:$DAEMON_PORT/p.git"
git clone -q "$URL" "$T/r" || exit 1
git clone -q "$URL" "$T/up" || exit 1

SERVED=$T/srv/p.git
recs() { for w in "$@"; do lsd_rec "$w"; done; }
clean() { [ -z "$(git -C "$T/$1" status --porcelain)" ]; }

for w in f1 f2 f3 f4; do wt $w && upstream $w "$w.txt" "new $w"; done

# 1. Four worktrees of one repository: one fetch of origin, four fast-forwards.
: > "$DAEMON_LOG"
recs f1 f2 f3 f4 > "$T/in"
wt-sync < "$T/in" > "$T/out" 2> "$T/err"
check_same "four fast-forwards: exit 0" 0 $?
check_same "one fetch for four worktrees (daemon's log)" 1 "$(fetches_of p.git)"
check_same "every result is fast-forward" "fast-forward fast-forward fast-forward fast-forward" \
	"$(jq -r .sync.result < "$T/out" | tr '\n' ' ' | sed 's/ $//')"
ok=0
for w in f1 f2 f3 f4; do
	[ "$(head_of $w)" = "$(git -C "$T/srv/p.git" rev-parse "$w")" ] && clean $w || ok=1
done
check_same "each worktree is at its upstream's tip, clean" 0 $ok
check_same "head, from, to, upstream, behind in the record" \
	"$(head_of f1) $(git -C "$T/r" rev-parse f1@{1}) $(head_of f1) origin/f1 0 1" \
	"$(jq -r 'select(.id=="f1") | "\(.head) \(.sync.from) \(.sync.to) \(.sync.upstream) \(.sync.ahead) \(.sync.behind)"' < "$T/out")"
check "fetched_bytes counts what came" test "$(jq -s '.[0].sync.fetched_bytes' < "$T/out")" -gt 0
check_same "no backup ref left after success" "" "$(git -C "$T/r" for-each-ref refs/wt/backup/)"
wt-sync < "$T/in" > "$T/out" 2> "$T/err"
check_same "again: up-to-date, exit 0" "0 up-to-date" "$? $(jq -r -s '.[0].sync.result' < "$T/out")"

# 2. -n fetches nothing; -n --fetch fetches and changes no worktree.
upstream f1 f1.txt "more f1"
: > "$DAEMON_LOG"
recs f1 | wt-sync -n > "$T/out" 2> "$T/err"
check_same "-n: no fetch" 0 "$(fetches_of p.git)"
check_same "-n: would up-to-date from the refs already here" '{"action":"sync","result":"up-to-date"}' \
	"$(jqf '.would | {action, result}' < "$T/out")"
before=$(head_of f1)
recs f1 | wt-sync -n --fetch > "$T/out" 2> "$T/err"
check_same "-n --fetch: one fetch" 1 "$(fetches_of p.git)"
check_same "-n --fetch: would fast-forward, worktree unchanged" "fast-forward $before" \
	"$(jq -r .would.result < "$T/out") $(head_of f1)"

# 3. Rebase: the same commits as git rebase gives, on a copy.
wt rb && upstream rb rb-up.txt "theirs" && local_commit rb rb-local.txt "ours" &&
	git -C "$T/rb" commit -q --allow-empty -m "empty on purpose" &&
	local_commit rb rb-up.txt "theirs"
recs rb | wt-sync -n --fetch > /dev/null 2>&1
git init -q "$T/copy"
git -C "$T/copy" fetch -q "$T/r" rb:rb refs/remotes/origin/rb:refs/remotes/origin/rb
git -C "$T/copy" checkout -q rb && git -C "$T/copy" -c advice.skippedCherryPicks=false rebase -q origin/rb
recs rb | wt-sync > "$T/out" 2> "$T/err"
check_same "diverged with the default --ff-only: diverged, nothing changed, exit 0" \
	"0 diverged $(git -C "$T/r" rev-parse rb)" \
	"$? $(jq -r .sync.result < "$T/out") $(head_of rb)"
recs rb | wt-sync --rebase > "$T/out" 2> "$T/err"
check_same "--rebase: rebased, exit 0" "0 rebased" "$? $(jq -r .sync.result < "$T/out")"
check_same "--rebase: the very commits git rebase made (ids)" \
	"$(git -C "$T/copy" log --format=%H origin/rb~1..rb)" "$(git -C "$T/rb" log --format=%H origin/rb~1..rb)"
check "--rebase: the worktree is clean" clean rb
check_same "--rebase: a commit empty from the start kept, one the upstream has dropped, as git does" \
	"empty on purpose|local rb rb-local.txt" "$(git -C "$T/rb" log --format=%s origin/rb..rb | tr '\n' '|' | sed 's/|$//')"

# Diverged and dirty, with --ff-only nothing would move: the answer is diverged.
wt dv && upstream dv dv-up.txt "theirs" && local_commit dv dv-local.txt "ours"
echo "edit" >> "$T/dv/a.txt"
recs dv | wt-sync > "$T/out" 2> "$T/err"
check_same "diverged and dirty with --ff-only: diverged, not skipped" "0 diverged null" \
	"$? $(jq -r '"\(.sync.result) \(.skipped.reason)"' < "$T/out")"

# 4. Merge: the tree and parents git merge gives.
wt mg && upstream mg mg-up.txt "theirs" && local_commit mg mg-local.txt "ours"
recs mg | wt-sync -n --fetch > /dev/null 2>&1
git -C "$T/copy" fetch -q "$T/r" mg:mg refs/remotes/origin/mg:refs/remotes/origin/mg
git -C "$T/copy" checkout -q mg && git -C "$T/copy" merge -q --no-edit origin/mg
recs mg | wt-sync --merge > "$T/out" 2> "$T/err"
check_same "--merge: merged, exit 0" "0 merged" "$? $(jq -r .sync.result < "$T/out")"
check_same "--merge: tree and parents as git merge's" \
	"$(git -C "$T/copy" log -1 --format='%T %P' mg)" "$(git -C "$T/mg" log -1 --format='%T %P')"
check_same "--merge: git's message" "$(git -C "$T/copy" log -1 --format=%s mg)" \
	"$(git -C "$T/mg" log -1 --format=%s)"

# 5. A conflict rolls back to the backup: clean, nothing in progress, the record in error.
wt cf && upstream cf a.txt "theirs" && local_commit cf a.txt "ours"
old=$(head_of cf)
mkdir -p "$WT_HOME"
lsd_rec cf | jqf '. + {status: "active"}' > "$WT_HOME/registry.ndjson"
recs cf | wt-sync --rebase > "$T/out" 2> "$T/err"
check_same "conflict: exit 1" 1 $?
check_same "conflict: result, error kind, step, conflicting path, backup ref" \
	'{"r":"conflict","k":"SynchronizationError","s":"rebase","c":["a.txt"],"b":"refs/wt/backup/cf"}' \
	"$(jqf '{r: .sync.result, k: .error.kind, s: .error.context.sync_state.step, c: .error.context.sync_state.conflicts, b: .error.context.backup_ref}' < "$T/out")"
check_same "conflict: branch at the backup, which is the old head" "$old $old" \
	"$(head_of cf) $(git -C "$T/r" rev-parse refs/wt/backup/cf)"
check "conflict: the worktree is clean" clean cf
check "conflict: no rebase or merge in progress" \
	test ! -e "$T/r/.git/worktrees/cf/rebase-merge" -a ! -e "$T/r/.git/worktrees/cf/MERGE_HEAD" \
	-a ! -e "$T/r/.git/worktrees/cf/rebase-apply"
check_same "conflict: the record says status error, needs a person" "error true" \
	"$(jq -r '"\(.status) \(.needs_manual_intervention)"' < "$T/out")"
check_same "conflict: the registry too, with the counts" "error true 1 1" \
	"$(jq -r '"\(.status) \(.needs_manual_intervention) \(.total_syncs) \(.total_conflicts)"' < "$WT_HOME/registry.ndjson")"
grep -q "cf, its index and files left as they were, at refs/wt/backup/cf" "$T/err"
check_same "conflict: the recovery is said on stderr" 0 $?
wt-ls -r "$WT_HOME/registry.ndjson" | wt-sync --rebase > "$T/out" 2> "$T/err"
check_same "next run: the error record is skipped, exit 0" "0 error" \
	"$? $(jq -r .skipped.reason < "$T/out")"
recs cf | wt-sync -f --merge > "$T/out" 2> "$T/err"
check_same "--merge conflict: rolled back the same way" "1 conflict $old" \
	"$? $(jq -r .sync.result < "$T/out") $(head_of cf)"
check "--merge conflict: clean" clean cf

# 6. Dirty: skipped; with --stash updated with the changes kept.
wt dt && upstream dt dt-up.txt "theirs"
echo "my edit" >> "$T/dt/a.txt"
echo "staged" > "$T/dt/new.txt" && git -C "$T/dt" add new.txt
old=$(head_of dt)
recs dt | wt-sync > "$T/out" 2> "$T/err"
check_same "dirty: skipped, exit 0, unchanged" "0 skipped dirty $old" \
	"$? $(jq -r '"\(.sync.result) \(.skipped.reason)"' < "$T/out") $(head_of dt)"
recs dt | wt-sync --stash > "$T/out" 2> "$T/err"
check_same "--stash: fast-forward, exit 0" "0 fast-forward" "$? $(jq -r .sync.result < "$T/out")"
check_same "--stash: at the upstream" "$(git -C "$T/r" rev-parse origin/dt)" "$(head_of dt)"
check_same "--stash: the edit and the staged file kept as they were" \
	" M a.txt|A  new.txt" "$(git -C "$T/dt" status --porcelain | tr '\n' '|' | sed 's/|$//')"
check_same "--stash: the edit's text" "my edit" "$(tail -1 "$T/dt/a.txt")"
check_same "--stash: no stash left" "" "$(git -C "$T/dt" stash list)"
# The stash conflicts with the upstream: exactly the state before.
upstream dt a.txt "theirs too"
echo "mine again" >> "$T/dt/a.txt"
git -C "$T/dt" status --porcelain > "$T/st.before"
cp "$T/dt/a.txt" "$T/a.before"
old=$(head_of dt)
recs dt | wt-sync --stash > "$T/out" 2> "$T/err"
check_same "--stash conflict: exit 1, conflict, head unchanged" "1 conflict $old" \
	"$? $(jq -r .sync.result < "$T/out") $(head_of dt)"
check_same "--stash conflict: files and index exactly as before" \
	"$(cat "$T/st.before")" "$(git -C "$T/dt" status --porcelain)"
check "--stash conflict: the changed file's content as before" cmp -s "$T/a.before" "$T/dt/a.txt"
check_same "--stash conflict: no stash left behind" "" "$(git -C "$T/dt" stash list)"

# An untracked file where the upstream brings one: nothing overwritten, nothing moved.
wt uw && upstream uw new-there.txt "theirs"
echo "mine, untracked" > "$T/uw/new-there.txt"
old=$(head_of uw)
recs uw | wt-sync > "$T/out" 2> "$T/err"
check_same "an untracked file in the way: exit 1, head unchanged, the file kept" \
	"1 $old mine, untracked" "$? $(head_of uw) $(cat "$T/uw/new-there.txt")"
check_same "the error names the step and the file, the record needs a person" \
	'{"k":"SynchronizationError","s":"checkout","c":["new-there.txt"]}' \
	"$(jqf '{k: .error.kind, s: .error.context.sync_state.step, c: .error.context.sync_state.conflicts}' < "$T/out")"
# A tracked file written between the dirty check and the checkout: not overwritten.
wt cw && upstream cw a.txt "theirs"
old=$(head_of cw)
lsd_rec cw > "$T/in.cw"
WT_TEST_PAUSE=checkout wt-sync < "$T/in.cw" > "$T/out" 2> "$T/err" &
pid=$!
wait_stopped $pid
echo "written in the window" >> "$T/cw/a.txt"
kill -CONT $pid; wait $pid
check_same "written in the window: exit 1, head unchanged, the edit kept" \
	"1 $old written in the window" "$? $(head_of cw) $(tail -n 1 "$T/cw/a.txt")"
check "no marker left behind" test ! -e "$T/r/.git/worktrees/cw/wt-sync"

# 7. Clear results: detached HEAD, no upstream, locked, archived.
git -C "$T/r" worktree add -q --detach "$T/det" origin/main
git -C "$T/r" branch -q lonely origin/main && git -C "$T/r" worktree add -q "$T/lonely" lonely
git -C "$T/r" config --unset branch.lonely.remote; git -C "$T/r" config --unset branch.lonely.merge
git -C "$T/r" worktree lock --reason "agent at work" "$T/f2"
{ lsd_rec det; lsd_rec f2; lsd_rec f3 | jqf '. + {status: "archived", archived: true}'; } > "$T/in"
wt-sync < "$T/in" > "$T/out" 2> "$T/err"
check_same "detached, locked, archived: skipped with their reasons, exit 0" \
	"0 detached locked archived" "$? $(jq -r .skipped.reason < "$T/out" | tr '\n' ' ' | sed 's/ $//')"
check_same "their sync results say skipped" "skipped skipped skipped" \
	"$(jq -r .sync.result < "$T/out" | tr '\n' ' ' | sed 's/ $//')"
grep -q "'f2': skipped: not synced: the worktree is locked: agent at work" "$T/err"
check_same "the lock's reason is said" 0 $?
git -C "$T/r" worktree unlock "$T/f2"
lsd_rec lonely | wt-sync > "$T/out" 2> "$T/err"
check_same "no upstream, none of its name on origin: skipped no_upstream, exit 0" "0 no_upstream" \
	"$? $(jq -r .skipped.reason < "$T/out")"
lsd_rec lonely | wt-sync --onto origin/f1 > "$T/out" 2> "$T/err"
check_same "--onto names it: fast-forward onto it" "0 fast-forward origin/f1" \
	"$? $(jq -r '"\(.sync.result) \(.sync.upstream)"' < "$T/out")"
lsd_rec lonely | wt-sync --onto 'HEAD~1' > /dev/null 2>&1
check_same "--onto a revision: usage error" 2 $?

# 8. Killed -9 in the middle of a rebase: nothing moved, the next run syncs.
wt kr && upstream kr kr-up.txt "theirs" && local_commit kr kr1.txt "ours 1" &&
	local_commit kr kr2.txt "ours 2"
old=$(head_of kr)
lsd_rec kr > "$T/in"
WT_TEST_PAUSE=rebase wt-sync --rebase < "$T/in" > "$T/out" 2> "$T/err" &
pid=$!
wait_stopped $pid && grep -q "paused at rebase" "$T/err"
check_same "paused in the middle of the rebase" 0 $?
kill -9 $pid; wait $pid 2>/dev/null
check_same "killed mid-rebase: branch and files as before, the backup at the old head" \
	"$old $old" "$(head_of kr) $(git -C "$T/r" rev-parse refs/wt/backup/kr)"
check "killed mid-rebase: clean, nothing in progress" \
	sh -c "[ -z \"\$(git -C '$T/kr' status --porcelain)\" ] && [ ! -e '$T/r/.git/worktrees/kr/rebase-merge' ]"
wt-sync --rebase < "$T/in" > "$T/out" 2> "$T/err"
check_same "the next run rebases" "0 rebased" "$? $(jq -r .sync.result < "$T/out")"
check_same "no commit lost: both local changes on top of the upstream" \
	"local kr kr2.txt|local kr kr1.txt|up kr kr-up.txt" \
	"$(git -C "$T/kr" log --format=%s -3 | tr '\n' '|' | sed 's/|$//')"

# 9. Killed -9 between the files and the branch: the next run undoes it, then syncs.
wt kf && upstream kf kf-up.txt "theirs"
lsd_rec kf > "$T/in"
old=$(head_of kf)
WT_TEST_PAUSE=ref wt-sync < "$T/in" > "$T/out" 2> "$T/err" &
pid=$!
wait_stopped $pid && grep -q "paused at ref" "$T/err"
check_same "paused after the checkout, before the branch moved" 0 $?
kill -9 $pid; wait $pid 2>/dev/null
check "killed: the marker says what was under way" test -s "$T/r/.git/worktrees/kf/wt-sync"
check_same "killed: the branch not moved, the backup at it" "$old $old" \
	"$(head_of kf) $(git -C "$T/r" rev-parse refs/wt/backup/kf)"
wt-sync < "$T/in" > "$T/out" 2> "$T/err"
check_same "the next run: undone, then fast-forward" "0 fast-forward" \
	"$? $(jq -r .sync.result < "$T/out")"
grep -q "'kf': undid an interrupted sync" "$T/err"
check_same "the undoing is said on stderr" 0 $?
check_same "at the upstream, clean, no marker" "$(git -C "$T/r" rev-parse origin/kf) 0" \
	"$(head_of kf) $(git -C "$T/kf" status --porcelain | wc -l)$(test -e "$T/r/.git/worktrees/kf/wt-sync" && echo ' marker')"
# Work written after the kill is never overwritten by the undoing.
upstream kf kf-up.txt "theirs 3"
old=$(head_of kf)
WT_TEST_PAUSE=ref wt-sync < "$T/in" > "$T/out" 2> "$T/err" &
pid=$!
wait_stopped $pid
kill -9 $pid; wait $pid 2>/dev/null
echo "written after the kill" > "$T/kf/a.txt"
wt-sync < "$T/in" > "$T/out" 2> "$T/err"
check_same "work after the kill: error, a person looks, nothing overwritten" \
	"1 recover written after the kill" \
	"$? $(jq -r .error.context.sync_state.step < "$T/out") $(cat "$T/kf/a.txt")"
grep -q "git reset --hard refs/wt/backup/kf" "$T/err"
check_same "the message says how to go back by hand" 0 $?
git -C "$T/kf" reset -q --hard refs/wt/backup/kf
check_same "by hand: git reset --hard to the backup is the state before" "$old" "$(head_of kf)"
wt-sync < "$T/in" > "$T/out" 2> "$T/err"
check_same "and the next run syncs" "0 fast-forward" "$? $(jq -r .sync.result < "$T/out")"

# A second wt-sync while one is in the middle: it leaves the worktree alone,
# and never takes the live run's marker for a dead one's.
upstream kf kf-up.txt "theirs 4"
WT_TEST_PAUSE=ref wt-sync < "$T/in" > "$T/out1" 2> "$T/err1" &
pid=$!
wait_stopped $pid
wt-sync < "$T/in" > "$T/out" 2> "$T/err"
check_same "a second run meanwhile: skipped sync_running, exit 0, the marker still there" \
	"0 sync_running yes" "$? $(jq -r .skipped.reason < "$T/out") $(test -e "$T/r/.git/worktrees/kf/wt-sync" && echo yes)"
kill -CONT $pid; wait $pid
check_same "the first run, let go, finishes its fast-forward" "0 fast-forward $(git -C "$T/r" rev-parse origin/kf)" \
	"$? $(jq -r .sync.result < "$T/out1") $(head_of kf)"
{ cat "$T/in"; cat "$T/in"; } | wt-sync > "$T/out" 2> "$T/err"
check_same "a worktree named twice in the input is synced once" "up-to-date/null skipped/duplicate" \
	"$(jq -r '"\(.sync.result)/\(.skipped.reason)"' < "$T/out" | tr '\n' ' ' | sed 's/ $//')"

# 10. The daemon dies: retries with backoff, then an error for its records only;
# a second repository (file://) syncs.
mkrepo "$T/b"
git -C "$T/b" branch -q g1 && git -C "$T/b" push -q -u origin g1 && git -C "$T/b" worktree add -q "$T/g1" g1
git clone -q "file://$T/b.remote.git" "$T/bup"
(cd "$T/bup" && git checkout -q g1 && echo x > g.txt && git add g.txt && git commit -q -m g &&
 git push -q origin g1)
upstream f1 f1.txt "lost f1"
stop_daemon
{ lsd_rec f1; lsd_rec f3; lsd_rec g1; } > "$T/in"
start=$(date +%s.%N)
WT_RETRIES=3 WT_RETRY_DELAY=0.2 wt-sync < "$T/in" > "$T/out" 2> "$T/err"
rc=$?
took=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')
check_same "daemon gone: exit 1" 1 $rc
check_same "three retries said on stderr, each delay about twice the one before" 3 \
	"$(grep -c "fetch of 'origin' for '.*' failed: .*; retry [123] of 3 in" "$T/err")"
check "the waits add up to about 0.2 + 0.4 + 0.8 s (with jitter)" \
	test "$(awk -v t="$took" 'BEGIN { print (t >= 1.05) }')" = 1
check_same "its records: SynchronizationError at the fetch, four attempts named" \
	"SynchronizationError fetch 1|SynchronizationError fetch 1" \
	"$(jq -r 'select(.path | test("/f[13]$")) | "\(.error.kind) \(.error.context.sync_state.step) \(.error.message | test("4 attempts") | if . then 1 else 0 end)"' < "$T/out" | tr '\n' '|' | sed 's/|$//')"
check_same "the other repository's worktree synced" "fast-forward" \
	"$(jq -r 'select(.id=="g1") | .sync.result' < "$T/out")"

# 10b. A remote that accepts and then says nothing: the fetch times out, never hangs.
cat > "$T/silent.py" <<'PY'
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(8)
print("ready", flush=True)
held = []
while True:
    held.append(s.accept()[0])
PY
sport=$(free_port)
: > "$T/silent.log"
python3 "$T/silent.py" "$sport" > "$T/silent.log" 2>&1 &
spid=$!
i=0; while [ $i -lt 300 ] && ! grep -q ready "$T/silent.log"; do sleep 0.01; i=$((i + 1)); done
git -C "$T/r" remote add silent "git://127.0.0.1:$sport/p.git"
git -C "$T/r" config branch.f3.remote silent
git -C "$T/r" config branch.f3.merge refs/heads/f3
lsd_rec f3 > "$T/in"
WT_FETCH_TIMEOUT=0.5 WT_RETRIES=1 WT_RETRY_DELAY=0.1 timeout 30 wt-sync < "$T/in" > "$T/out" 2> "$T/err"
rc=$?
kill $spid 2>/dev/null
check_same "a silent remote: exit 1 (timeout(1) would say 124)" 1 $rc
check_same "timed out twice (one retry), said in the SynchronizationError" \
	"SynchronizationError true" \
	"$(jq -r '"\(.error.kind) \(.error.message | test("2 attempts.*no progress for 0.5 s: timed out"))"' < "$T/out")"

# 11. Credentials over http: the user's credential helper answers, through
# git credential fill; what it gives is refused or missing: an error at once,
# never a prompt or a hang, not retried.
hport=$(free_port)
: > "$T/http.log"
python3 "$(dirname "$0")/http-backend.py" "$T/srv" "$hport" > "$T/http.log" 2>&1 &
hpid=$!
i=0; while [ $i -lt 300 ] && ! grep -q ready "$T/http.log"; do sleep 0.01; i=$((i + 1)); done
git -C "$T/r" remote add guarded "http://127.0.0.1:$hport/p.git"
git -C "$T/r" config branch.f4.remote guarded
git -C "$T/r" config branch.f4.merge refs/heads/f4
git -C "$T/srv/p.git" config http.receivepack false
helper() { # helper PASSWORD: a credential helper that logs what it is asked
	git config --global credential.helper \
		"!f() { echo \"\$1\" >> '$T/helper.log'; [ \"\$1\" = get ] && { echo username=u; echo password=$1; }; :; }; f"
}
upstream f4 f4.txt "over http"
lsd_rec f4 > "$T/in"
helper p
timeout 30 wt-sync < "$T/in" > "$T/out" 2> "$T/err"
check_same "the helper's credentials: fast-forward over http" "0 fast-forward guarded/f4" \
	"$? $(jq -r '"\(.sync.result) \(.sync.upstream)"' < "$T/out")"
check_same "the helper was asked, then told they worked (approve: store)" "get store" \
	"$(tr '\n' ' ' < "$T/helper.log" | sed 's/ $//')"
# The caller's GIT_DIR names another repository with a helper of its own:
# git credential would ask it too, and approve would tell it the password.
git init -q "$T/other" && git -C "$T/other" config credential.helper \
	"!f() { echo \"\$1\" >> '$T/other.log'; }; f"
upstream f4 f4.txt "with GIT_DIR"
: > "$T/helper.log" && : > "$T/other.log"
GIT_DIR="$T/other/.git" timeout 30 wt-sync < "$T/in" > "$T/out" 2> "$T/err"
check_same "the caller's GIT_DIR: synced, and the other repository's helper heard nothing" \
	"0 fast-forward get store |" \
	"$? $(jq -r .sync.result < "$T/out") $(tr '\n' ' ' < "$T/helper.log")|$(cat "$T/other.log")"
upstream f4 f4.txt "again"
: > "$T/helper.log"
helper wrong
timeout 30 wt-sync < "$T/in" > "$T/out" 2> "$T/err"
rc=$?
check_same "refused credentials: exit 1 (not a hang: timeout would say 124)" 1 $rc
check_same "a SynchronizationError that says authentication, one attempt (not transient)" \
	"SynchronizationError true true" \
	"$(jq -r '"\(.error.kind) \(.error.message | test("authentication")) \(.error.message | test("1 attempt\\)"))"' < "$T/out")"
check_same "the helper was asked once, nothing stored" "get" "$(tr '\n' ' ' < "$T/helper.log" | sed 's/ $//')"
git config --global --unset credential.helper
timeout 30 wt-sync < "$T/in" > "$T/out" 2> "$T/err"
check_same "no helper at all: exit 1 at once, authentication named" "1 true" \
	"$? $(jq -r '.error.message | test("authentication")' < "$T/out")"
kill $hpid 2>/dev/null

# 12. Options, and records it cannot take.
printf '{"path":"%s"}\n' "$T/f1" | wt-sync > "$T/out" 2> /dev/null
check_same "a record without an id: refused (its backup ref is named by it), exit 1" "1 id" \
	"$? $(jq -r .error.context.rule < "$T/out")"
echo 'not json' | wt-sync > "$T/out" 2> /dev/null
check_same "a line that is no record: an InputError passed on, exit 1" "1 InputError" \
	"$? $(jq -r .error.kind < "$T/out")"
wt-sync --fetch < /dev/null > /dev/null 2>&1
check_same "--fetch without -n: usage error" 2 $?
wt-sync --help | grep -q -- '--rebase'
check_same "--help lists the strategies" 0 $?

done_testing
