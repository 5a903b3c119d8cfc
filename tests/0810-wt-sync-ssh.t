#!/bin/sh
# wt-sync over ssh, against an sshd on 127.0.0.1 started here: keys as git
# finds them (the agent, ~/.ssh), the host checked against known_hosts, and
# a clear error, never a prompt or a hang, when no key is let in.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-remote.sh"
SSHD_PID=
trap '[ -n "$SSHD_PID" ] && kill $SSHD_PID 2>/dev/null; [ -n "${SSH_AGENT_PID:-}" ] && kill $SSH_AGENT_PID 2>/dev/null; chmod -R u+rwx "$T" 2>/dev/null; rm -rf "$T"' EXIT

plan 6
# libgit2's ssh transport leaks what it reads of known_hosts (see lsan-ssh.supp).
if [ -n "${LSAN_OPTIONS:-}" ]; then
	cat "$(dirname "$0")/lsan.supp" "$(dirname "$0")/lsan-ssh.supp" > "$T/lsan.supp"
	export LSAN_OPTIONS="suppressions=$T/lsan.supp"
fi
if [ "$(id -u)" != 0 ] || [ ! -x /usr/sbin/sshd ] || ! command -v ssh-agent > /dev/null; then
	for i in 1 2 3 4 5 6; do skip "needs root, sshd and ssh-agent"; done
	exit 0
fi

# The server: its own host key, one authorized key file, root by key only.
S=$T/sshd
mkdir -p "$S" "$HOME/.ssh" /run/sshd
ssh-keygen -q -t ed25519 -N '' -f "$S/host_key"
port=$(free_port)
cat > "$S/config" <<EOF
Port $port
ListenAddress 127.0.0.1
HostKey $S/host_key
PidFile $S/pid
AuthorizedKeysFile $S/authorized_keys
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
EOF
: > "$S/authorized_keys"
/usr/sbin/sshd -D -f "$S/config" -E "$S/log" &
SSHD_PID=$!
i=0; while [ $i -lt 500 ] && ! grep -q 'Server listening' "$S/log" 2>/dev/null; do sleep 0.01; i=$((i + 1)); done

# A remote reached over ssh, a worktree one commit behind it.
git init -q --bare "$T/p.git"
git init -q "$T/seed"
(cd "$T/seed" && echo one > a.txt && git add a.txt && git commit -q -m one &&
 git push -q "$T/p.git" HEAD:main HEAD:f1)
git clone -q "$T/p.git" "$T/r"
git -C "$T/r" remote set-url origin "ssh://root@127.0.0.1:$port$T/p.git"
git -C "$T/r" worktree add -q "$T/f1" f1 2>/dev/null
git -C "$T/r" branch -q -u origin/f1 f1
behind() {
	(cd "$T/seed" && echo "$1" >> a.txt && git commit -q -am "$1" && git push -q "$T/p.git" HEAD:f1)
}
lsd_rec f1 > "$T/in"

# An unknown host: refused as git refuses it, at once.
ssh-keygen -q -t ed25519 -N '' -f "$HOME/.ssh/id_ed25519"
cat "$HOME/.ssh/id_ed25519.pub" >> "$S/authorized_keys"
behind two
timeout 30 wt-sync < "$T/in" > "$T/out" 2> "$T/err"
check_same "a host not in known_hosts: exit 1, a SynchronizationError, one attempt" \
	"1 SynchronizationError true" \
	"$? $(jq -r '"\(.error.kind) \(.error.message | test("hostkey") and test("1 attempt"))"' < "$T/out")"

# Known: ~/.ssh/id_ed25519 gets in.
echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$S/host_key.pub")" > "$HOME/.ssh/known_hosts"
timeout 30 wt-sync < "$T/in" > "$T/out" 2> "$T/err"
check_same "with ~/.ssh/id_ed25519: fast-forward" "0 fast-forward" "$? $(jq -r .sync.result < "$T/out")"
check_same "at the remote's tip" "$(git -C "$T/seed" rev-parse HEAD)" "$(git -C "$T/f1" rev-parse HEAD)"

# The agent's key, when ~/.ssh has none that is let in.
rm "$HOME/.ssh/id_ed25519" "$HOME/.ssh/id_ed25519.pub"
ssh-keygen -q -t ed25519 -N '' -f "$T/agent_key"
cp "$T/agent_key.pub" "$S/authorized_keys"
eval "$(ssh-agent -s)" > /dev/null
ssh-add -q "$T/agent_key" 2> /dev/null
behind three
timeout 30 wt-sync < "$T/in" > "$T/out" 2> "$T/err"
check_same "with the ssh agent's key: fast-forward" "0 fast-forward" "$? $(jq -r .sync.result < "$T/out")"
kill $SSH_AGENT_PID; SSH_AGENT_PID=
unset SSH_AUTH_SOCK

# No key it lets in: authentication fails, at once, not retried.
behind four
start=$(date +%s)
timeout 30 wt-sync < "$T/in" > "$T/out" 2> "$T/err" < "$T/in"
rc=$?
check_same "no key: exit 1, not a hang" 1 $rc
check_same "a SynchronizationError saying authentication, one attempt" "SynchronizationError true" \
	"$(jq -r '"\(.error.kind) \(.error.message | test("(?i)auth.*") and test("1 attempt"))"' < "$T/out")"

done_testing
