/* safety.c: the safety contract's checks and a removal that cannot escape its tree. */
#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "wt.h"

void
wt_target_release(struct wt_target *t)
{
	free(t->path);
	free(t->admin);
	free(t->common);
	free(t->name);
	memset(t, 0, sizeof(*t));
}

/* realpath of dir/rel (rel absolute or relative to dir); a new string or NULL. */
static char *
resolve(const char *dir, const char *rel)
{
	struct wt_buf b = WT_BUF_INIT;
	char *r;

	if (rel[0] == '/')
		wt_buf_adds(&b, rel);
	else
		wt_buf_addf(&b, "%s/%s", dir, rel);
	r = realpath(b.s, NULL);
	wt_buf_release(&b);
	return r;
}

static int
same(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

int
wt_target_verify(struct wt_target *t, const char *path, const char *repo,
		 const char **why)
{
	struct wt_buf b = WT_BUF_INIT;
	struct stat st;
	char *s = NULL, *home = NULL, *back = NULL, *slash, *r = NULL;
	int ret = -1;

	memset(t, 0, sizeof(*t));
	*why = NULL;
	if (!path || path[0] != '/') {
		*why = "path is not absolute";
		goto out;
	}
	if (lstat(path, &st) < 0) {
		*why = errno == ENOENT ? "path does not exist" : "path cannot be read";
		goto out;
	}
	if (S_ISLNK(st.st_mode)) {
		*why = "path is a symbolic link";
		goto out;
	}
	if (!S_ISDIR(st.st_mode)) {
		*why = "path is not a directory";
		goto out;
	}
	if (!(t->path = realpath(path, NULL))) {
		*why = "path cannot be resolved";
		goto out;
	}
	home = getenv("HOME") ? realpath(getenv("HOME"), NULL) : NULL;
	if (strcmp(t->path, "/") == 0 || same(t->path, home)) {
		*why = "path is / or $HOME";
		goto out;
	}
	wt_buf_addf(&b, "%s/.git", t->path);
	if (lstat(b.s, &st) < 0) {
		*why = "not a git worktree (no .git)";
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		*why = "main worktree or a separate repository, not a linked worktree";
		goto out;
	}
	if (!S_ISREG(st.st_mode) || !(s = wt_read_small(b.s, 4096)) ||
	    strncmp(s, "gitdir: ", 8) != 0) {
		*why = "not a linked worktree (.git is not a gitdir file)";
		goto out;
	}
	if (!(t->admin = resolve(t->path, s + 8))) {
		*why = "its git admin directory is missing";
		goto out;
	}
	/* The admin entry is <common>/worktrees/<name>. */
	slash = strrchr(t->admin, '/');
	if (!slash || slash - t->admin < 10 || strncmp(slash - 10, "/worktrees", 10) != 0) {
		*why = "its .git does not point into a repository's worktrees";
		goto out;
	}
	t->name = wt_xstrdup(slash + 1);
	wt_buf_reset(&b);
	wt_buf_addf(&b, "%s/commondir", t->admin);
	free(s);
	if (!(s = wt_read_small(b.s, 4096)) || !(t->common = resolve(t->admin, s))) {
		*why = "its git admin directory has no commondir";
		goto out;
	}
	/* And git's admin entry must point back here: else it belongs elsewhere. */
	wt_buf_reset(&b);
	wt_buf_addf(&b, "%s/gitdir", t->admin);
	free(s);
	if (!(s = wt_read_small(b.s, 4096)) || !(back = resolve(t->admin, s))) {
		*why = "git's admin entry does not point back at this worktree";
		goto out;
	}
	wt_buf_reset(&b);
	wt_buf_addf(&b, "%s/.git", t->path);
	if (strcmp(back, b.s) != 0) {
		*why = "foreign checkout: git's admin entry points at another path";
		goto out;
	}
	if (repo && *repo && (!(r = realpath(repo, NULL)) || strcmp(r, t->common) != 0)) {
		*why = "foreign checkout: the worktree belongs to another repository";
		goto out;
	}
	if (lstat(t->path, &st) < 0) {
		*why = "path cannot be read";
		goto out;
	}
	t->dev = st.st_dev;
	t->ino = st.st_ino;
	ret = 0;
out:
	if (ret < 0) {
		free(t->path);
		free(t->admin);
		free(t->common);
		free(t->name);
		memset(t, 0, sizeof(*t));
	}
	wt_buf_release(&b);
	free(s);
	free(home);
	free(back);
	free(r);
	return ret;
}

const char *
wt_target_rule(const char *why)
{
	if (!why)
		return "verify";
	if (strstr(why, "symbolic link"))
		return "symlink";
	if (strncmp(why, "foreign", 7) == 0)
		return "foreign";
	if (strstr(why, "main worktree"))
		return "main";
	if (strstr(why, "$HOME"))
		return "home";
	if (strstr(why, "does not exist"))
		return "missing";
	return "not_linked";
}

int
wt_target_locked(const struct wt_target *t, char **reason)
{
	struct wt_buf b = WT_BUF_INIT;
	struct stat st;
	int locked;

	wt_buf_addf(&b, "%s/locked", t->admin);
	locked = lstat(b.s, &st) == 0;
	if (reason)
		*reason = locked ? wt_read_small(b.s, 4096) : NULL;
	wt_buf_release(&b);
	return locked;
}

pid_t
wt_path_in_use(const char *path)
{
	struct wt_buf b = WT_BUF_INIT;
	struct dirent *de;
	char link[PATH_MAX];
	size_t n = strlen(path);
	ssize_t k;
	pid_t pid = 0, self = getpid();
	DIR *d = opendir("/proc");

	if (!d)
		return 0;
	while (!pid && (de = readdir(d))) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9' || atoi(de->d_name) == self)
			continue;
		wt_buf_reset(&b);
		wt_buf_addf(&b, "/proc/%s/cwd", de->d_name);
		if ((k = readlink(b.s, link, sizeof(link) - 1)) < 0)
			continue;
		link[k] = '\0';
		if (strncmp(link, path, n) == 0 && (link[n] == '\0' || link[n] == '/'))
			pid = (pid_t)atoi(de->d_name);
	}
	closedir(d);
	wt_buf_release(&b);
	return pid;
}

/* A mount point from mountinfo, its \ooo escapes undone, in place. */
static void
unescape_octal(char *s)
{
	char *o = s;

	for (; *s; s++, o++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' &&
		    s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*o = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else
			*o = *s;
	}
	*o = '\0';
}

int
wt_path_has_mounts(const char *path, char **first)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL, *p, *mp;
	size_t cap = 0, n = strlen(path);
	int i, found = 0;

	if (!f)
		return -1;
	while (!found && getline(&line, &cap, f) > 0) {
		/* id parent major:minor root MOUNTPOINT options ... */
		for (p = line, i = 0; i < 4 && (p = strchr(p, ' ')); i++)
			p++;
		if (!p)
			continue;
		mp = p;
		if ((p = strchr(mp, ' ')))
			*p = '\0';
		unescape_octal(mp);
		found = strncmp(mp, path, n) == 0 && mp[n] == '/' && mp[n + 1];
		if (found && first)
			*first = wt_xstrdup(mp);
	}
	free(line);
	fclose(f);
	return found;
}

/* Deep trees need a descriptor per level: take what the hard limit allows. */
static void
raise_nofile_once(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int
wt_mount_id(int dirfd, const char *name, uint64_t *id)
{
	struct statx sx;

	if (statx(dirfd, name, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT |
		  (*name ? 0 : AT_EMPTY_PATH), STATX_MNT_ID, &sx) < 0)
		return -1;
	/* Kernels before 5.8 have no mount ids: the device is the best there is. */
	if (sx.stx_mask & STATX_MNT_ID)
		*id = sx.stx_mnt_id;
	else
		*id = (uint64_t)makedev(sx.stx_dev_major, sx.stx_dev_minor) | 1ULL << 63;
	return 0;
}

/* Removals run on several workers at once: once for all of them. */
static void
raise_nofile(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, raise_nofile_once);
}

/*
 * The mount a directory entry is on, 0 when it cannot be read. A bind mount
 * of the same filesystem has the same st_dev, but not the same mount:
 * deleting through it would delete outside the tree.
 */
static uint64_t
mount_id(int pfd, const char *name)
{
	uint64_t m;

	return wt_mount_id(pfd, name, &m) == 0 ? m : 0;
}

/*
 * Removes name below pfd. At the top of a worktree (keep_git), its .git entry
 * goes last, so that a removal cut short leaves a tree that git and wt still
 * recognise as the same worktree, and can finish.
 */
static int
rm_at(int pfd, const char *name, dev_t dev, uint64_t mnt, struct wt_rm_stats *rs,
      int keep_git)
{
	struct stat st;
	struct dirent *de;
	DIR *d;
	int fd, ret = 0;

	if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode)) {
		/* Files and symbolic links go as themselves; a link is never followed. */
		if (unlinkat(pfd, name, 0) < 0)
			return errno == ENOENT ? 0 : -1;
		rs->files++;
		rs->bytes += (unsigned long long)st.st_blocks * 512;
		return 0;
	}
	if (st.st_dev != dev || mount_id(pfd, name) != mnt) {
		/* A mount point: another filesystem, or a bind mount, is never entered. */
		rs->skipped++;
		errno = EXDEV;
		return -1;
	}
	fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (!(d = fdopendir(fd))) {
		close(fd);
		return -1;
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' && (!de->d_name[1] ||
		    (de->d_name[1] == '.' && !de->d_name[2])))
			continue;
		if (keep_git && strcmp(de->d_name, ".git") == 0)
			continue;
		if (rm_at(fd, de->d_name, dev, mnt, rs, 0) < 0)
			ret = -1;
	}
	if (keep_git && ret == 0 && rm_at(fd, ".git", dev, mnt, rs, 0) < 0)
		ret = -1;
	closedir(d);
	if (ret == 0) {
		if (unlinkat(pfd, name, AT_REMOVEDIR) < 0)
			return -1;
		rs->dirs++;
		rs->bytes += (unsigned long long)st.st_blocks * 512;
	}
	return ret;
}

int
wt_rmtree_at(int dirfd, const char *name, struct wt_rm_stats *rs)
{
	struct stat st;
	uint64_t mnt;

	raise_nofile();
	/*
	 * What is removed is on the filesystem and mount of the directory it is
	 * in: a name that is itself a mount point is not entered either.
	 */
	if (fstat(dirfd, &st) < 0 || wt_mount_id(dirfd, "", &mnt) < 0)
		return -1;
	return rm_at(dirfd, name, st.st_dev, mnt, rs, 0);
}

int
wt_rmtree_verified(const struct wt_target *t, struct wt_rm_stats *rs)
{
	struct stat st;
	uint64_t mnt;
	char *parent = wt_xstrdup(t->path), *slash = strrchr(parent, '/');
	int pfd, ret = -1;

	raise_nofile();
	*slash = '\0';
	pfd = open(*parent ? parent : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pfd < 0)
		goto out;
	/* The directory must still be the one verified, not a swapped-in link. */
	if (fstatat(pfd, slash + 1, &st, AT_SYMLINK_NOFOLLOW) < 0)
		goto out;
	if (!S_ISDIR(st.st_mode) || st.st_dev != t->dev || st.st_ino != t->ino) {
		errno = ESTALE;
		goto out;
	}
	if (wt_mount_id(pfd, slash + 1, &mnt) < 0)
		goto out;
	ret = rm_at(pfd, slash + 1, t->dev, mnt, rs, 1);
out:
	if (pfd >= 0)
		close(pfd);
	free(parent);
	return ret;
}
