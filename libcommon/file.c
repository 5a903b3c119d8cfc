/* file.c: small file system helpers: read or replace a small file, mkdir -p, sync a directory. */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wt.h"

/* Reads a small file into a new string without its final newline. */
char *
wt_read_small(const char *path, size_t max)
{
	return wt_read_small_at(AT_FDCWD, path, max);
}

char *
wt_read_small_at(int dirfd, const char *path, size_t max)
{
	struct wt_buf b = WT_BUF_INIT;
	ssize_t n;
	int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);

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

int
wt_write_atomic(const char *path, const void *data, size_t n, mode_t mode)
{
	static atomic_uint seq;
	struct wt_buf tmp = WT_BUF_INIT;
	const char *p = data, *slash;
	size_t done = 0;
	ssize_t w;
	int fd, e, rc = -1;

	wt_buf_addf(&tmp, "%s.wt-tmp.%ld.%u", path, (long)getpid(), atomic_fetch_add(&seq, 1));
	/* A name of its own, made here: never a file or link someone put there. */
	if ((fd = open(tmp.s, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)) < 0)
		goto out;
	while (done < n && ((w = write(fd, p + done, n - done)) > 0 || (w < 0 && errno == EINTR)))
		if (w > 0)
			done += (size_t)w;
	if (done < n || fsync(fd) < 0) {
		e = done < n && errno == 0 ? EIO : errno;
		close(fd);
		unlink(tmp.s);
		errno = e;
		goto out;
	}
	if (close(fd) < 0 || rename(tmp.s, path) < 0) {
		e = errno;
		unlink(tmp.s);
		errno = e;
		goto out;
	}
	/* The rename lasts once the directory holding it is synced. */
	wt_buf_reset(&tmp);
	slash = strrchr(path, '/');
	if (slash)
		wt_buf_add(&tmp, path, slash == path ? 1 : (size_t)(slash - path));
	else
		wt_buf_adds(&tmp, ".");
	rc = wt_sync_dir(tmp.s);
out:
	wt_buf_release(&tmp);
	return rc;
}
