# lib-remote.sh: real remotes for the tests that fetch: a git daemon on
# 127.0.0.1 on a free port, started by the test and stopped at its end.

# free_port: a TCP port of 127.0.0.1 nobody listens on now.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_daemon DIR: serves the repositories under DIR at git://127.0.0.1:$DAEMON_PORT/,
# logging each request to $DAEMON_LOG. Waits until it accepts connections.
start_daemon() {
	DAEMON_PORT=$(free_port)
	DAEMON_LOG=$T/daemon.log
	: > "$DAEMON_LOG"
	"$(git --exec-path)/git-daemon" --reuseaddr --verbose --export-all --informative-errors \
		--enable=receive-pack \
		--base-path="$1" --listen=127.0.0.1 --port="$DAEMON_PORT" "$1" \
		>> "$DAEMON_LOG" 2>&1 &
	DAEMON_PID=$!
	_i=0
	while [ $_i -lt 500 ]; do
		grep -q 'Ready to rumble' "$DAEMON_LOG" && return 0
		kill -0 $DAEMON_PID 2>/dev/null || break
		sleep 0.01
		_i=$((_i + 1))
	done
	echo "# start_daemon: git daemon did not start:"; sed 's/^/# /' "$DAEMON_LOG"
	return 1
}

stop_daemon() {
	[ -n "${DAEMON_PID:-}" ] && kill "$DAEMON_PID" 2>/dev/null && wait "$DAEMON_PID" 2>/dev/null
	DAEMON_PID=
}

# fetches_of REPO: how many upload-pack requests (fetches) the daemon served for REPO.
fetches_of() {
	grep -c "Request upload-pack for '/$1'" "$DAEMON_LOG"
}

# The fixtures of the sync tests: $T/r, a clone with linked worktrees, and
# $T/up, a clone that pushes; SERVED is the served repository's path.
# wt NAME [DIR]: a linked worktree DIR (default $T/NAME) on branch NAME, pushed,
# tracking origin/NAME.
wt() {
	git -C "$T/r" branch -q "$1" origin/main &&
	git -C "$T/r" push -q origin "$1" &&
	git -C "$T/r" branch -q --set-upstream-to="origin/$1" "$1" &&
	git -C "$T/r" worktree add -q "${2:-$T/$1}" "$1"
}
# upstream NAME FILE TEXT: a commit on NAME pushed from $T/up, straight into
# the served repository (so that it works with the daemon stopped too).
upstream() {
	(cd "$T/up" && git fetch -q "$SERVED" "+refs/heads/*:refs/remotes/origin/*" &&
	 git checkout -q -B "$1" "origin/$1" &&
	 printf '%s\n' "$3" >> "$2" && git add "$2" && git commit -q -m "up $1 $2" &&
	 git push -q "$SERVED" "$1")
}
# local_commit NAME FILE TEXT: a commit in the worktree NAME.
local_commit() {
	(cd "$T/$1" && printf '%s\n' "$3" >> "$2" && git add "$2" && git commit -q -m "local $1 $2")
}
head_of() { git -C "$T/$1" rev-parse HEAD; }
