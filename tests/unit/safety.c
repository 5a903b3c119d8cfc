/* safety.c: each check of the safety contract on a crafted case, so none can go unnoticed. */
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "wt.h"
#include "tap.h"

static char *repo, *wt, *other;

/* The rule wt_target_verify gives path (against repository r), or "ok". */
static const char *
rule_of(const char *path, const char *r)
{
	static char buf[64];
	struct wt_target t;
	const char *why;

	if (wt_target_verify(&t, path, r, &why) == 0) {
		wt_target_release(&t);
		return "ok";
	}
	snprintf(buf, sizeof(buf), "%s", wt_target_rule(why));
	return buf;
}

int
main(void)
{
	struct wt_target t;
	const char *why, *top = scratch(), *link, *gitdir;
	char *home = getenv("HOME") ? wt_xstrdup(getenv("HOME")) : NULL;
	char *reason = NULL, *s;
	pid_t pid;
	int p[2];

	plan(18);
	repo = wt_xstrdup(tpath("repo"));
	wt = wt_xstrdup(tpath("wt"));
	other = wt_xstrdup(tpath("other"));
	if (sh("set -e; export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null "
	       "GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@t GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@t; "
	       "git init -q '%s' && git -C '%s' commit -q --allow-empty -m one && "
	       "git -C '%s' worktree add -q '%s' -b wt && git init -q '%s'",
	       repo, repo, repo, wt, other) != 0)
		return 2;

	ok(wt_target_verify(&t, wt, NULL, &why) == 0 && t.name && strcmp(t.name, "wt") == 0 &&
	   t.ino != 0, "a linked worktree is verified, with its admin entry's name");
	if (!why)
		wt_target_release(&t);
	gitdir = tpath("repo/.git");
	is_str(rule_of(wt, gitdir), "ok", "and against its own repository");
	is_str(rule_of("wt", NULL), "not_linked", "a relative path is refused");
	is_str(rule_of("/", NULL), "home", "/ is refused");
	setenv("HOME", wt, 1);
	is_str(rule_of(wt, NULL), "home", "$HOME is refused, even when it is a linked worktree");
	if (home)
		setenv("HOME", home, 1);
	else
		unsetenv("HOME");
	link = tpath("link");
	if (symlink(wt, link) < 0)
		perror("symlink");
	is_str(rule_of(link, NULL), "symlink", "a symbolic link to a worktree is refused");
	is_str(rule_of(repo, NULL), "main", "a main worktree is refused");
	gitdir = tpath("other/.git");
	is_str(rule_of(wt, gitdir), "foreign", "a worktree of another repository is refused");
	is_str(rule_of(tpath("nowhere"), NULL), "missing", "a missing path is refused");

	/* git's admin entry points at another path: a checkout copied or moved here. */
	gitdir = wt_xstrdup(tpath("repo/.git/worktrees/wt/gitdir"));
	s = wt_read_small(gitdir, 4096);
	write_str(gitdir, tpath("other/.git"));
	is_str(rule_of(wt, NULL), "foreign", "an admin entry that points elsewhere is refused");
	write_str(gitdir, s);
	free(s);
	free((char *)gitdir);
	is_str(rule_of(wt, NULL), "ok", "put back, it verifies again");

	/* A .git file that names a directory outside any repository's worktrees/. */
	link = tpath("fake");
	sh("mkdir -p '%s/admin' && echo 'gitdir: %s/admin' > '%s/.git'", link, top, link);
	is_str(rule_of(link, NULL), "not_linked", "a .git file outside worktrees/ is refused");

	/* git's lock, with its reason. */
	ok(wt_target_verify(&t, wt, NULL, &why) == 0, "verified again");
	ok(!wt_target_locked(&t, NULL), "not locked");
	sh("git -C '%s' worktree lock --reason 'on a stick' '%s'", repo, wt);
	ok(wt_target_locked(&t, &reason) && reason && strcmp(reason, "on a stick") == 0,
	   "locked, with the reason");
	free(reason);

	/*
	 * In use: a process whose current directory is inside; not one this
	 * process started (a child here), but its child, which is no longer
	 * ours once the child is gone.
	 */
	if (pipe(p) < 0)
		return 2;
	fflush(stdout);
	if ((pid = fork()) == 0) {
		pid_t g;

		if (chdir(wt) < 0)
			_exit(1);
		close(p[0]);
		if ((g = fork()) == 0) {
			pause();
			_exit(0);
		}
		if (g < 0 || write(p[1], &g, sizeof(g)) != sizeof(g))
			_exit(1);
		/* The grandchild's end, reaped here; then this one waits to be killed. */
		waitpid(g, NULL, 0);
		pause();
		_exit(0);
	}
	close(p[1]);
	{
		pid_t g = 0;

		/* Inside from its start: it was forked there. */
		if (read(p[0], &g, sizeof(g)) != sizeof(g))
			g = 0;
		close(p[0]);
		/* The grandchild's parent is the child: not ours, found. */
		is_int(wt_path_in_use(t.path), g, "a process with its directory inside is found");
		kill(g, SIGKILL);
		/* Only the child is left, ours: no user's process is inside. */
		while (g > 0 && kill(g, 0) == 0)
			usleep(1000);
	}
	is_int(wt_path_in_use(t.path), 0, "a process this one started is not counted");
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	is_int(wt_path_in_use(t.path), 0, "once it is gone, none is");
	wt_target_release(&t);
	free(home);
	free(repo);
	free(wt);
	free(other);
	return done_testing();
}
