/* file.c: small file system helpers: read a small file, mkdir -p, sync a directory. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wt.h"

/* Reads a small file into a new string without its final newline. */
char *
wt_read_small(const char *path, size_t max)
{
	struct wt_buf b = WT_BUF_INIT;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	wt_buf_grow(&b, max);
	n = read(fd, b.s, max);
	close(fd);
	if (n < 0) {
		wt_buf_release(&b);
		return NULL;
	}
	b.len = (size_t)n;
	while (b.len && (b.s[b.len - 1] == '\n' || b.s[b.len - 1] == '\r'))
		b.len--;
	b.s[b.len] = '\0';
	return wt_buf_detach(&b);
}

int
wt_mkdirs(const char *dir, mode_t mode)
{
	char *p = wt_xstrdup(dir), *s = p;
	int rc = 0;

	while (rc == 0 && (s = strchr(s + 1, '/'))) {
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST)
			rc = -1;
		*s = '/';
	}
	if (rc == 0 && mkdir(p, mode) < 0 && errno != EEXIST)
		rc = -1;
	free(p);
	return rc;
}

int
wt_sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), ret;

	if (fd < 0)
		return -1;
	ret = fsync(fd);
	close(fd);
	return ret;
}

int
wt_mkdirs_parent(const char *path)
{
	char *p = wt_xstrdup(path), *slash = strrchr(p, '/');
	int rc = 0;

	if (slash && slash > p) {
		*slash = '\0';
		rc = wt_mkdirs(p, 0755);
	}
	free(p);
	return rc;
}
