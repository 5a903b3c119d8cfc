/* archwrite.c: an archive written into the archive directory, verified, then named. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "wt.h"

int
wt_archive_can_zstd(void)
{
	struct archive *a = archive_write_new();
	int ok = archive_write_add_filter_zstd(a) == ARCHIVE_OK;

	archive_write_free(a);
	return ok;
}

/* Sets *why to a new message: fmt with arg, libarchive's reason and errno's. */
static void
say_errno(char **why, struct archive *a, const char *fmt, const char *arg)
{
	struct wt_buf b = WT_BUF_INIT;
	int e = a ? archive_errno(a) : errno;
	const char *as = a ? archive_error_string(a) : NULL;

	wt_buf_addf(&b, fmt, arg);
	if (as)
		wt_buf_addf(&b, ": %s", as);
	/* libarchive says "Write error"; the reason (a full disk) is errno's. */
	if (e > 0 && (!as || !strstr(as, strerror(e))))
		wt_buf_addf(&b, "%s%s", as ? " - " : ": ", strerror(e));
	free(*why);
	*why = wt_buf_detach(&b);
}

int
wt_open_beneath(int top, const char *rel, int flags)
{
#ifdef SYS_openat2
	struct open_how how;
	int fd;

	memset(&how, 0, sizeof(how));
	how.flags = (uint64_t)(flags | O_NOFOLLOW | O_CLOEXEC);
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV;
	fd = (int)syscall(SYS_openat2, top, rel, &how, sizeof(how));
	if (fd >= 0 || errno != ENOSYS)
		return fd;
#endif
	return openat(top, rel, flags | O_NOFOLLOW | O_CLOEXEC);
}

char *
wt_archive_dir(const struct wt_config *cfg)
{
	struct wt_buf b = WT_BUF_INIT;

	if (cfg->archive_dir)
		wt_buf_adds(&b, cfg->archive_dir);
	else
		wt_buf_addf(&b, "%s/archives", cfg->home);
	return wt_buf_detach(&b);
}

int
wt_archive_in_dir(const char *dir, const char *path, char **resolved)
{
	char *d = realpath(dir, NULL), *f = realpath(path, NULL);
	size_t n = d ? strlen(d) : 0;
	int in = d && f && strncmp(f, d, n) == 0 && (f[n] == '/' || (n == 1 && *d == '/'));

	free(d);
	if (in)
		*resolved = f;
	else
		free(f);
	return in;
}

static int
add_mem(struct archive *a, const char *name, const void *data, size_t len, time_t mtime)
{
	struct archive_entry *e = archive_entry_new2(a);
	int ret = -1;

	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, (la_int64_t)len);
	archive_entry_set_mtime(e, mtime, 0);
	if (archive_write_header(a, e) >= ARCHIVE_WARN &&
	    (len == 0 || archive_write_data(a, data, len) == (la_ssize_t)len))
		ret = 0;
	archive_entry_free(e);
	return ret;
}

/* Writes the file content of x, open at in, of exactly the size the header promised. */
static int
copy_file(struct archive *a, int in, const struct wt_snap_ent *x, char *buf, char **why)
{
	off_t total = 0;
	ssize_t n;

	while ((n = read(in, buf, WT_ARCHIVE_BUFSZ)) > 0) {
		/* The header promised the size: never write past it. */
		if (total + n > x->st.st_size)
			break;
		if (archive_write_data(a, buf, (size_t)n) != n) {
			say_errno(why, a, "cannot write '%s'", x->path);
			return -1;
		}
		total += n;
	}
	if (total != x->st.st_size) {
		errno = 0;
		say_errno(why, NULL, "'%s' changed while being archived", x->path);
		return -1;
	}
	return 0;
}

/* One entry of the worktree, its file opened beneath top and checked to be the one walked. */
static int
write_entry(struct archive *a, struct archive_entry *e, int top, const struct wt_snap_ent *x,
	    char *buf, char **why)
{
	struct stat st;
	int in = -1, ret = -1;

	archive_entry_clear(e);
	archive_entry_copy_stat(e, &x->st);
	archive_entry_set_pathname(e, x->path);
	archive_entry_set_nlink(e, 1);
	if (S_ISLNK(x->st.st_mode)) {
		archive_entry_set_symlink(e, x->target);
		archive_entry_set_size(e, 0);
	} else if (S_ISDIR(x->st.st_mode)) {
		archive_entry_set_size(e, 0);
	} else {
		in = wt_open_beneath(top, x->path, O_RDONLY | O_NONBLOCK);
		if (in < 0 || fstat(in, &st) < 0 || st.st_ino != x->st.st_ino ||
		    st.st_size != x->st.st_size) {
			if (in >= 0)
				errno = 0;
			say_errno(why, NULL, "'%s' changed while being archived", x->path);
			goto out;
		}
	}
	if (archive_write_header(a, e) < ARCHIVE_WARN) {
		say_errno(why, a, "cannot write '%s'", x->path);
		goto out;
	}
	ret = in >= 0 ? copy_file(a, in, x, buf, why) : 0;
out:
	if (in >= 0)
		close(in);
	return ret;
}

/* The compression filter of z on a, with zstd's threads. */
static void
set_filter(struct archive *a, const struct wt_compression *z)
{
	char num[16];

	snprintf(num, sizeof(num), "%d", z->level);
	if (strcmp(z->name, "zstd") == 0) {
		archive_write_add_filter_zstd(a);
		archive_write_set_filter_option(a, "zstd", "compression-level", num);
		snprintf(num, sizeof(num), "%d", z->threads);
		/* Older libarchive builds lack the option; one thread still works. */
		archive_write_set_filter_option(a, "zstd", "threads", num);
	} else if (strcmp(z->name, "gzip") == 0) {
		archive_write_add_filter_gzip(a);
		archive_write_set_filter_option(a, "gzip", "compression-level", num);
	}
}

/* Writes the archive of src to fd, compressed as z says. */
static int
write_archive(int fd, const struct wt_compression *z, const struct wt_archive_src *src,
	      char **why)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e = NULL;
	const struct wt_snapshot *s = src->snap;
	char *buf = wt_xmalloc(WT_ARCHIVE_BUFSZ);
	size_t i;
	int top = -1, ret = -1;

	archive_write_set_format_pax_restricted(a);
	set_filter(a, z);
	archive_write_set_bytes_per_block(a, 1 << 16);
	archive_write_set_bytes_in_last_block(a, 1);
	if (archive_write_open_fd(a, fd) != ARCHIVE_OK) {
		say_errno(why, a, "cannot start the archive%s", "");
		goto out;
	}
	if (add_mem(a, WT_MANIFEST_NAME, src->manifest, src->manifest_len, src->mtime) < 0) {
		say_errno(why, a, "cannot write %s", WT_MANIFEST_NAME);
		goto out;
	}
	for (i = 0; i < src->git->n; i++)
		if (add_mem(a, src->git->f[i].name, src->git->f[i].data, src->git->f[i].len,
			    src->mtime) < 0) {
			say_errno(why, a, "cannot write '%s'", src->git->f[i].name);
			goto out;
		}
	if ((top = open(src->top, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		say_errno(why, NULL, "cannot open '%s'", src->top);
		goto out;
	}
	e = archive_entry_new2(a);
	for (i = 0; i < s->n; i++) {
		if (i == s->n / 2 && src->pause)
			src->pause("writing");
		if (write_entry(a, e, top, &s->v[i], buf, why) < 0)
			goto out;
	}
	if (archive_write_close(a) != ARCHIVE_OK) {
		say_errno(why, a, "cannot finish the archive%s", "");
		goto out;
	}
	ret = 0;
out:
	if (e)
		archive_entry_free(e);
	if (top >= 0)
		close(top);
	archive_write_free(a);
	free(buf);
	return ret;
}

/* A file name made of the id: no slash, no leading dot, no control character. */
static char *
file_id(const char *id)
{
	char *s = wt_xstrdup(id), *p;

	for (p = s; *p; p++)
		if (*p == '/' || (unsigned char)*p < 0x20 || (p == s && *p == '.'))
			*p = '_';
	return s;
}

/* Renames the verified temporary tmp in dfd to NAME[.N]EXT, taking no name that exists. */
static int
rename_final(int dfd, const char *tmp, const char *name, const char *ext, struct wt_buf *fin,
	     char **why)
{
	int k;

	for (k = 1;; k++) {
		wt_buf_reset(fin);
		wt_buf_adds(fin, name);
		if (k > 1)
			wt_buf_addf(fin, ".%d", k);
		wt_buf_adds(fin, ext);
		if (renameat2(dfd, tmp, dfd, fin->s, RENAME_NOREPLACE) == 0)
			return 0;
		if (errno != EEXIST || k > 100) {
			say_errno(why, NULL, "cannot rename '%s'", tmp);
			return -1;
		}
	}
}

/* Reads the archive at fd back whole against the manifest written, then syncs it. */
static int
verify(int fd, const struct wt_archive_src *src, const char *tmp, char **why)
{
	char *w;

	if (wt_archive_verify(fd, src->manifest, src->manifest_len, why) < 0) {
		w = *why;
		*why = NULL;
		errno = 0;
		say_errno(why, NULL, "verification failed: %s", w);
		free(w);
		return -1;
	}
	if (src->pause)
		src->pause("verified");
	if (fsync(fd) < 0) {
		say_errno(why, NULL, "cannot sync '%s'", tmp);
		return -1;
	}
	return 0;
}

int
wt_archive_make(const char *dir, const char *id, time_t now, const struct wt_compression *z,
		const struct wt_archive_src *src, char **final, char **why)
{
	struct wt_buf tmp = WT_BUF_INIT, fin = WT_BUF_INIT, name = WT_BUF_INIT;
	char ts[32], *fid = file_id(id), *p;
	int fd = -1, dfd = -1, ret = -1;
	static unsigned seq;

	/* 2026-06-01T00:00:00Z becomes 20260601T000000Z in a file name. */
	wt_buf_addf(&name, "%s-", fid);
	for (p = wt_time_fmt(now, ts); *p; p++)
		if (*p != '-' && *p != ':')
			wt_buf_addc(&name, *p);
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		say_errno(why, NULL, "cannot open '%s'", dir);
		goto out;
	}
	wt_buf_addf(&tmp, WT_ARCHIVE_TMP_PREFIX "%ld.%u.%s%s", (long)getpid(),
		    __atomic_fetch_add(&seq, 1, __ATOMIC_RELAXED), name.s, z->ext);
	if ((fd = openat(dfd, tmp.s, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0) {
		say_errno(why, NULL, "cannot create '%s'", tmp.s);
		goto out;
	}
	/* Held until the rename: the next run removes only temporaries nobody holds. */
	flock(fd, LOCK_EX);
	if (write_archive(fd, z, src, why) < 0)
		goto fail;
	if (src->pause)
		src->pause("written");
	if (verify(fd, src, tmp.s, why) < 0 || rename_final(dfd, tmp.s, name.s, z->ext, &fin, why) < 0)
		goto fail;
	if (fsync(dfd) < 0) {
		say_errno(why, NULL, "cannot sync '%s'", dir);
		goto out;
	}
	wt_buf_reset(&tmp);
	wt_buf_addf(&tmp, "%s/%s", dir, fin.s);
	*final = wt_buf_detach(&tmp);
	ret = 0;
	goto out;
fail:
	/* No partial archive is left behind, whatever went wrong. */
	unlinkat(dfd, tmp.s, 0);
out:
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	wt_buf_release(&tmp);
	wt_buf_release(&fin);
	wt_buf_release(&name);
	free(fid);
	return ret;
}

int
wt_archive_tmp_dead(int dfd, const char *name)
{
	size_t n = strlen(WT_ARCHIVE_TMP_PREFIX);
	long pid;
	int fd;

	if (strncmp(name, WT_ARCHIVE_TMP_PREFIX, n) != 0)
		return -1;
	/* The writer's pid is in the name: a live one is still writing it. */
	pid = strtol(name + n, NULL, 10);
	if (pid > 0 && pid != (long)getpid() && kill((pid_t)pid, 0) == 0)
		return -1;
	/* And it holds the file locked while it writes (a pid reused is no writer). */
	if ((fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return -1;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

void
wt_archive_clean(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int fd;

	if (!d)
		return;
	while ((de = readdir(d))) {
		if ((fd = wt_archive_tmp_dead(dirfd(d), de->d_name)) < 0)
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) == 0)
			warnx("removed the partial archive '%s/%s' of a run that died", dir,
			      de->d_name);
		close(fd);
	}
	closedir(d);
}
