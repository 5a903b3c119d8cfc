# lib.sh: a tiny TAP library for the shell tests, and fixtures built fresh.
# Source it from a test: . "$(dirname "$0")/lib.sh"

: "${WT_BUILD:?run the tests through make check (WT_BUILD unset)}"
PATH="$WT_BUILD/bin:$PATH"
export PATH

# Every test works in its own scratch directory with a pinned world.
T=$(mktemp -d "${TMPDIR:-/tmp}/wt-test.XXXXXX")
trap 'chmod -R u+rwx "$T" 2>/dev/null; rm -rf "$T"' EXIT
export HOME="$T/home" XDG_CONFIG_HOME="$T/home/.config" XDG_STATE_HOME="$T/home/.local/state"
export WT_HOME="$T/wt" TZ=UTC LC_ALL=C.UTF-8
unset WT_REGISTRY WT_CONFIG NO_COLOR
mkdir -p "$HOME"
export GIT_AUTHOR_NAME=Test GIT_AUTHOR_EMAIL=test@example.com
export GIT_COMMITTER_NAME=Test GIT_COMMITTER_EMAIL=test@example.com
export GIT_AUTHOR_DATE="2026-01-01T00:00:00Z" GIT_COMMITTER_DATE="2026-01-01T00:00:00Z"
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL="$HOME/.gitconfig"
git config --global init.defaultBranch main
git config --global protocol.file.allow always
export WT_NOW="2026-06-01T00:00:00Z"

_n=0
_fail=0
plan() { echo "1..$1"; }
ok() { # ok COND-EXIT-STATUS DESCRIPTION
	_n=$((_n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $_n - $2"
	else
		echo "not ok $_n - $2"
		_fail=$((_fail + 1))
	fi
}
check() { # check DESCRIPTION COMMAND...: passes when the command succeeds
	_d=$1
	shift
	if "$@"; then ok 0 "$_d"; else ok 1 "$_d"; fi
}
check_same() { # check_same DESCRIPTION EXPECTED ACTUAL
	if [ "$2" = "$3" ]; then
		ok 0 "$1"
	else
		ok 1 "$1"
		printf 'expected:\n%s\ngot:\n%s\n' "$2" "$3" | sed 's/^/# /'
	fi
}
skip() { _n=$((_n + 1)); echo "ok $_n # skip $1"; }
done_testing() { [ "$_fail" -eq 0 ]; }

# jqf FILTER: jq -c on stdin, one compact value per line.
jqf() { jq -c "$@"; }

# mkrepo DIR: a repository with two commits, a bare remote "origin" and upstream set.
mkrepo() {
	git init -q --bare "$1.remote.git"
	git init -q "$1"
	(cd "$1" && echo one > a.txt && git add a.txt && git commit -q -m one &&
	 echo two > b.txt && git add b.txt && git commit -q -m two &&
	 git remote add origin "file://$1.remote.git" && git push -q -u origin main)
}

# Records for a test's input. Different things, different names:
# rec ID PATH: a minimal record, only id and path.
rec() { printf '{"id":"%s","path":"%s"}\n' "$1" "$2"; }
# ls_rec ID [DIR]: the record that wt-ls, run in the repository DIR (default
# $T/r), writes for the worktree ID: the registry's when it has one, else git's.
ls_rec() {
	(cd "${2:-$T/r}" && wt-ls) | jq -c --arg id "$1" 'select(.id == $id)'
}
# lsd_rec ID [DIR]: the record that wt-ls -d DIR (default $T, where the
# tests make their worktrees) writes for the linked worktree ID: git's
# fields merged into the registry's.
lsd_rec() {
	wt-ls -d "${2:-$T}" | jq -c --arg id "$1" 'select(.id == $id)'
}

# wait_cwd PID DIR: waits, 5 s at most, until the process PID has its current
# directory at DIR or below it. When it gives up it says what it saw.
wait_cwd() {
	_wd=${2%/}
	_i=0
	while [ $_i -lt 500 ]; do
		_c=$(readlink "/proc/$1/cwd" 2>/dev/null)
		case $_c in "$_wd" | "$_wd"/*) return 0 ;; esac
		kill -0 "$1" 2>/dev/null || break
		sleep 0.01
		_i=$((_i + 1))
	done
	echo "# wait_cwd: process $1 has its cwd at '${_c:-(none)}', not in '$_wd'"
	return 1
}

# has_commit DIR: the repository at DIR has its HEAD commit.
has_commit() { git -C "$1" rev-parse -q --verify HEAD > /dev/null; }

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
