/* trash.c: a worktree's trash: its path, opening and locking it, emptying it. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wt.h"

char *
wt_trash_path(const struct wt_target *t)
{
	struct wt_buf b = WT_BUF_INIT;

	wt_buf_addf(&b, "%s/" WT_TRASH_NAME, t->admin);
	return wt_buf_detach(&b);
}

int
wt_trash_open(const struct wt_target *t, int create)
{
	struct stat st;
	char *path = wt_trash_path(t);
	int fd;

	if (create && mkdir(path, 0700) < 0 && errno != EEXIST) {
		free(path);
		return -1;
	}
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	free(path);
	if (fd < 0)
		return -1;
	/* A rename is O(1) only within one filesystem: else there is no trash. */
	if (fstat(fd, &st) < 0 || st.st_dev != t->dev) {
		close(fd);
		errno = EXDEV;
		return -1;
	}
	/* Two runs on one worktree take turns; a killed run's lock goes with it. */
	if (flock(fd, LOCK_EX) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int
wt_trash_empty(int fd, int jobs, struct wt_rm_stats *rs)
{
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, i;
	int dfd = fcntl(fd, F_DUPFD_CLOEXEC, 0), ret;
	DIR *d;

	if (dfd < 0 || !(d = fdopendir(dfd))) {
		if (dfd >= 0)
			close(dfd);
		return -1;
	}
	rewinddir(d);
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		names = wt_xrealloc(names, (n + 1) * sizeof(*names));
		names[n++] = wt_xstrdup(de->d_name);
	}
	closedir(d);
	ret = n ? wt_rmtree_parallel(fd, (const char *const *)names, n, jobs, rs) : 0;
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return ret;
}
