/* rmtree.c: the removal rules hold for every entry point (serial, parallel, verified). */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "wt.h"
#include "tap.h"

static int can_mount;

/* dir/rel in buf, of 4096 bytes. */
static char *
at(char *buf, const char *dir, const char *rel)
{
	if ((size_t)snprintf(buf, 4096, "%s/%s", dir, rel) >= 4096)
		abort();
	return buf;
}

/* dir/relN in buf, of 4096 bytes. */
static char *
atn(char *buf, const char *dir, const char *rel, int n)
{
	if ((size_t)snprintf(buf, 4096, "%s/%s%d", dir, rel, n) >= 4096)
		abort();
	return buf;
}

static void
put(const char *path, size_t size)
{
	FILE *f = fopen(path, "w");

	if (!f)
		abort();
	while (size--)
		putc('x', f);
	if (fclose(f) != 0)
		abort();
}

static void
mkdirs(const char *path)
{
	if (sh("mkdir -p '%s'", path) != 0)
		abort();
}

static int
exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/*
 * The tree every entry point removes, in dir: files, a subdirectory, a link
 * to a directory and one to a file outside, a file with two links in the
 * tree, one with a link outside, and mnt, an empty directory to mount on.
 */
static void
build(const char *dir)
{
	char p[4096], q[4096];
	int i;

	at(p, dir, "a/sub");
	mkdirs(p);
	for (i = 0; i < 5; i++) {
		atn(p, dir, "a/f", i);
		put(p, 1000 * (size_t)i);
	}
	at(p, dir, "a/sub/g");
	put(p, 5000);
	at(p, dir, "link");
	if (symlink(tpath("outside"), p) < 0)
		abort();
	at(p, dir, "a/flink");
	if (symlink(tpath("outside/keep"), p) < 0)
		abort();
	at(p, dir, "h1");
	put(p, 9000);
	at(q, dir, "a/sub/h2");
	if (link(p, q) < 0)
		abort();
	at(p, dir, "a/shared");
	if (link(tpath("outside/shared"), p) < 0)
		abort();
	at(p, dir, "mnt");
	mkdirs(p);
}

/* What removing a tree frees: each inode once, when all its links are in it. */
struct ino { dev_t dev; ino_t ino; nlink_t nlink, seen; blkcnt_t blocks; };
static struct ino inos[256];
static size_t ninos;
static unsigned long long want_bytes, want_files, want_dirs;

static int
tally(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	size_t i;

	(void)p;
	(void)f;
	if (flag == FTW_D || flag == FTW_DP) {
		want_dirs++;
		want_bytes += (unsigned long long)st->st_blocks * 512;
		return 0;
	}
	want_files++;
	for (i = 0; i < ninos; i++)
		if (inos[i].dev == st->st_dev && inos[i].ino == st->st_ino)
			break;
	if (i == ninos) {
		if (ninos == sizeof(inos) / sizeof(*inos))
			abort();
		inos[ninos].dev = st->st_dev;
		inos[ninos].ino = st->st_ino;
		inos[ninos].nlink = st->st_nlink;
		inos[ninos].seen = 0;
		inos[ninos].blocks = st->st_blocks;
		ninos++;
	}
	inos[i].seen++;
	return 0;
}

static void
expect(const char *dir)
{
	size_t i;

	ninos = 0;
	want_bytes = want_files = want_dirs = 0;
	nftw(dir, tally, 32, FTW_PHYS | FTW_MOUNT);
	for (i = 0; i < ninos; i++)
		if (inos[i].seen == inos[i].nlink)
			want_bytes += (unsigned long long)inos[i].blocks * 512;
}

enum { SERIAL, PARALLEL1, PARALLEL4, VERIFIED };
static const char *const epname[] = {
	"wt_rmtree_at", "wt_rmtree_parallel -j1", "wt_rmtree_parallel -j4",
	"wt_rmtree_verified",
};

/* Makes a linked worktree of the scratch repository at path. */
static void
worktree(const char *path, const char *branch)
{
	if (sh("git -C '%s' worktree add -q -b '%s' '%s' 2>&1", tpath("repo"), branch,
	       path) != 0)
		abort();
}

static int
rm_one(int ep, const char *dir, struct wt_rm_stats *rs)
{
	struct wt_target t;
	const char *why, *name = strrchr(dir, '/') + 1;
	char parent[4096];
	int fd, rc, e;

	if (ep == VERIFIED) {
		if (wt_target_verify(&t, dir, NULL, &why) < 0) {
			diag("cannot verify '%s': %s", dir, why);
			errno = EINVAL;
			return -1;
		}
		rc = wt_rmtree_verified(&t, rs);
		e = errno;
		wt_target_release(&t);
		errno = e;
		return rc;
	}
	snprintf(parent, sizeof(parent), "%.*s", (int)(name - 1 - dir), dir);
	if ((fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		abort();
	if (ep == SERIAL)
		rc = wt_rmtree_at(fd, name, rs);
	else
		rc = wt_rmtree_parallel(fd, &name, 1, ep == PARALLEL1 ? 1 : 4, rs);
	e = errno;
	close(fd);
	errno = e;
	return rc;
}

/* The rules, for one entry point: 5 tests, 6 for the verified one. */
static void
rules(int ep)
{
	struct wt_rm_stats rs = { 0, 0, 0, 0 };
	struct stat st;
	char dir[4096], p[4096], q[4096], *s;
	int rc, e, mounted = 0;

	atn(dir, scratch(), "t", ep);
	if (ep == VERIFIED)
		worktree(dir, "rules");
	else
		mkdirs(dir);
	build(dir);
	expect(dir);
	at(p, dir, "mnt");
	if (can_mount)
		mounted = sh("mount --bind '%s' '%s' 2>/dev/null", tpath("src"), p) == 0;
	if (mounted) {
		rc = rm_one(ep, dir, &rs);
		e = errno;
		s = wt_read_small(tpath("src/secret"), 4096);
		ok(rc < 0 && e == EXDEV && rs.skipped == 1 && s && !strcmp(s, "secret"),
		   "%s: a bind mount inside is not entered (EXDEV, one skipped)", epname[ep]);
		free(s);
		at(p, dir, "a");
		at(q, dir, "link");
		ok(!exists(p) && !exists(q) && exists(dir),
		   "%s: all else goes, the directory with the mount stays", epname[ep]);
		if (ep == VERIFIED) {
			at(p, dir, ".git");
			ok(exists(p), "%s: a removal cut short keeps .git", epname[ep]);
		}
		at(p, dir, "mnt");
		sh("umount '%s'", p);
	} else {
		skip(ep == VERIFIED ? 3 : 2, "mount --bind not permitted here");
	}
	rc = rm_one(ep, dir, &rs);
	ok(rc == 0 && !exists(dir), "%s: then the whole tree goes", epname[ep]);
	s = wt_read_small(tpath("outside/keep"), 4096);
	ok(s && !strcmp(s, "keep") && exists(tpath("outside/sub/x")),
	   "%s: links to outside are removed, not followed", epname[ep]);
	free(s);
	ok(rs.bytes == want_bytes && rs.files == want_files && rs.dirs == want_dirs &&
	   stat(tpath("outside/shared"), &st) == 0 && st.st_nlink == 1,
	   "%s: bytes freed count a hard-linked file once, and not one linked outside",
	   epname[ep]);
	if (rs.bytes != want_bytes || rs.files != want_files || rs.dirs != want_dirs)
		diag("bytes %llu files %llu dirs %llu, want %llu %llu %llu", rs.bytes,
		     rs.files, rs.dirs, want_bytes, want_files, want_dirs);
}

/* Counts the files (not directories) below a tree. */
static unsigned long long nfiles;

static int
count_files(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)p;
	(void)st;
	(void)f;
	nfiles += flag == FTW_F || flag == FTW_SL;
	return 0;
}

/*
 * A verified removal stopped one file before its end (WT_TEST_PAUSE_AFTER)
 * has removed everything but .git: it goes last.
 */
static void
git_last(void)
{
	char dir[4096], p[4096], msg[256];
	int fds[2], st;
	ssize_t n;
	pid_t pid;

	at(dir, scratch(), "last");
	worktree(dir, "last");
	build(dir);
	nfiles = 0;
	nftw(dir, count_files, 32, FTW_PHYS);
	if (pipe(fds) < 0 || (pid = fork()) < 0)
		abort();
	if (pid == 0) {
		struct wt_rm_stats rs = { 0, 0, 0, 0 };
		struct wt_target t;
		const char *why;

		snprintf(p, sizeof(p), "%llu", nfiles - 1);
		setenv("WT_TEST_PAUSE_AFTER", p, 1);
		dup2(fds[1], 2);
		if (wt_target_verify(&t, dir, NULL, &why) < 0)
			_exit(3);
		wt_rmtree_verified(&t, &rs);
		_exit(4);
	}
	close(fds[1]);
	n = read(fds[0], msg, sizeof(msg) - 1);
	msg[n > 0 ? n : 0] = '\0';
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	close(fds[0]);
	at(p, dir, ".git");
	nfiles = 0;
	nftw(dir, count_files, 32, FTW_PHYS);
	ok(strstr(msg, "WT_TEST_PAUSE_AFTER") && exists(p) && nfiles == 1,
	   "wt_rmtree_verified: stopped before its last file, only .git is left");
}

/* A directory swapped in at the verified path is not removed. */
static void
stale(void)
{
	struct wt_rm_stats rs = { 0, 0, 0, 0 };
	struct wt_target t;
	const char *why;
	char dir[4096], p[4096];
	int rc, e;

	at(dir, scratch(), "stale");
	worktree(dir, "stale");
	if (wt_target_verify(&t, dir, NULL, &why) < 0)
		abort();
	at(p, scratch(), "stale.moved");
	if (rename(dir, p) < 0)
		abort();
	mkdirs(dir);
	at(p, dir, "precious");
	put(p, 10);
	rc = wt_rmtree_verified(&t, &rs);
	e = errno;
	ok(rc < 0 && e == ESTALE && exists(p), "wt_rmtree_verified: another directory "
	   "at the verified path is refused (ESTALE)");
	wt_target_release(&t);
}

int
main(void)
{
	/* git for the worktrees, with no configuration but this. */
	static const char *const env[][2] = {
		{ "GIT_CONFIG_NOSYSTEM", "1" }, { "GIT_CONFIG_GLOBAL", "/dev/null" },
		{ "GIT_AUTHOR_NAME", "t" }, { "GIT_AUTHOR_EMAIL", "t@example.com" },
		{ "GIT_COMMITTER_NAME", "t" }, { "GIT_COMMITTER_EMAIL", "t@example.com" },
	};
	size_t i;
	int ep;

	wt_setprogname("rmtree");
	plan(4 * 5 + 1 + 2);
	for (i = 0; i < sizeof(env) / sizeof(*env); i++)
		setenv(env[i][0], env[i][1], 1);
	mkdirs(tpath("outside/sub"));
	put(tpath("outside/sub/x"), 1);
	write_str(tpath("outside/keep"), "keep\n");
	put(tpath("outside/shared"), 7000);
	mkdirs(tpath("src"));
	write_str(tpath("src/secret"), "secret\n");
	if (sh("git init -q '%s' && echo hi > '%s/README' && git -C '%s' add README && "
	       "git -C '%s' commit -q -m init", tpath("repo"), tpath("repo"), tpath("repo"),
	       tpath("repo")) != 0)
		abort();
	/* Mounting needs root, and a kernel that lets this process do it. */
	mkdirs(tpath("probe"));
	can_mount = sh("mount --bind '%s' '%s' 2>/dev/null", tpath("src"), tpath("probe")) == 0;
	if (can_mount)
		sh("umount '%s'", tpath("probe"));
	for (ep = SERIAL; ep <= VERIFIED; ep++)
		rules(ep);
	git_last();
	stale();
	return done_testing();
}
