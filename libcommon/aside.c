/* aside.c: a worktree moved aside before it goes, so that what was checked is what goes. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wt.h"

/* The parent directory of t's top, open, and the top's own name in it (borrowed from b). */
static int
open_parent(const char *path, struct wt_buf *b, const char **name)
{
	char *slash;
	int fd;

	wt_buf_reset(b);
	wt_buf_adds(b, path);
	if (!(slash = strrchr(b->s, '/')) || !slash[1]) {
		errno = EINVAL;
		return -1;
	}
	*slash = '\0';
	*name = slash + 1;
	fd = open(*b->s ? b->s : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return fd;
}

/* 0 when name in dirfd is still t's directory (not followed), else -1 with ESTALE. */
static int
is_top(int dirfd, const char *name, const struct wt_target *t)
{
	struct stat st;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -1;
	if (!S_ISDIR(st.st_mode) || st.st_dev != t->dev || st.st_ino != t->ino) {
		errno = ESTALE;
		return -1;
	}
	return 0;
}

/* rename(2) that replaces nothing; where the filesystem cannot say so, a look first. */
static int
rename_new(int dirfd, const char *from, const char *to)
{
	struct stat st;

	if (renameat2(dirfd, from, dirfd, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	if (fstatat(dirfd, to, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		errno = EEXIST;
		return -1;
	}
	return renameat(dirfd, from, dirfd, to);
}

static int
write_marker(const struct wt_target *t, const char *aside)
{
	struct wt_buf b = WT_BUF_INIT;
	size_t n = strlen(aside);
	int fd, ret = -1;

	wt_buf_addf(&b, "%s/" WT_ASIDE_MARKER, t->admin);
	if ((fd = open(b.s, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644)) >= 0) {
		if (write(fd, aside, n) == (ssize_t)n && write(fd, "\n", 1) == 1 &&
		    fsync(fd) == 0)
			ret = 0;
		close(fd);
		if (ret == 0)
			ret = wt_sync_dir(t->admin);
		if (ret < 0)
			unlink(b.s);
	}
	wt_buf_release(&b);
	return ret;
}

static void
drop_marker(const struct wt_target *t)
{
	struct wt_buf b = WT_BUF_INIT;

	wt_buf_addf(&b, "%s/" WT_ASIDE_MARKER, t->admin);
	unlink(b.s);
	wt_buf_release(&b);
}

int
wt_aside_move(const struct wt_target *t, const char *tag, char **aside)
{
	struct wt_buf b = WT_BUF_INIT, hidden = WT_BUF_INIT, full = WT_BUF_INIT;
	const char *name;
	int fd, e, ret = -1;
	size_t room;

	*aside = NULL;
	if ((fd = open_parent(t->path, &b, &name)) < 0)
		goto out;
	/* A name too long for the directory keeps the start of the worktree's name. */
	wt_buf_addf(&hidden, WT_ASIDE_PREFIX "%s.%ld.", tag, (long)getpid());
	room = hidden.len < NAME_MAX ? NAME_MAX - hidden.len : 0;
	wt_buf_add(&hidden, name, strlen(name) < room ? strlen(name) : room);
	wt_buf_addf(&full, "%s/%s", *b.s ? b.s : "", hidden.s);
	if (is_top(fd, name, t) < 0 || write_marker(t, full.s) < 0)
		goto out;
	if (rename_new(fd, name, hidden.s) < 0) {
		e = errno;
		drop_marker(t);
		errno = e;
		goto out;
	}
	/* Swapped between the look and the rename: what moved is not ours to keep away. */
	if (is_top(fd, hidden.s, t) < 0) {
		e = errno;
		if (rename_new(fd, hidden.s, name) == 0)
			drop_marker(t);
		errno = e;
		goto out;
	}
	fsync(fd);
	*aside = wt_buf_detach(&full);
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	wt_buf_release(&b);
	wt_buf_release(&hidden);
	wt_buf_release(&full);
	return ret;
}

int
wt_aside_back(const struct wt_target *t, const char *aside)
{
	struct wt_buf b = WT_BUF_INIT;
	const char *name, *hidden = strrchr(aside, '/');
	int fd, ret = -1;

	if (!hidden) {
		errno = EINVAL;
		return -1;
	}
	if ((fd = open_parent(t->path, &b, &name)) < 0)
		goto out;
	if (is_top(fd, hidden + 1, t) < 0 || rename_new(fd, hidden + 1, name) < 0)
		goto out;
	fsync(fd);
	drop_marker(t);
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	wt_buf_release(&b);
	return ret;
}
