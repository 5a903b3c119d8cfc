/* wt-archive: inactive worktrees into verified archives, then away. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <git2.h>
#include <linux/openat2.h>
#include <locale.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <zlib.h>

#include "wt.h"

#define TMP_PREFIX ".wt-tmp."
#define MARKER "wt-archived"
#define BUFSZ (256 * 1024)

static struct {
	int nflag, keep, artifacts, force, level, threads;
	const char *compression, *ext, *pause;
	char *dir;                  /* where archives go, resolved */
	struct wt_registry reg;
	struct wt_batch *batch;     /* NULL with -n */
	time_t now;
} opt;

static void
usage(void)
{
	fprintf(stderr, "usage: wt-archive [-afkn] [-j jobs] [-l level] [-o dir] "
		"[-r registry] [-z zstd|gzip|none]\n");
	exit(WT_EXIT_FATAL);
}

/*
 * The test hook: with WT_TEST_PAUSE=STEP in the environment the program stops
 * itself (SIGSTOP) when it reaches STEP, so a test can kill -9 it at a known
 * point. Steps, in order: protected, writing, written, verified, renamed,
 * marked, journaled, removing, removed.
 */
static void
pause_at(const char *step)
{
	if (opt.pause && strcmp(opt.pause, step) == 0) {
		fprintf(stderr, "%s: paused at %s\n", wt_progname, step);
		raise(SIGSTOP);
	}
}

/* One entry of the worktree, as the walk saw it. */
struct ent {
	char *path;
	struct stat st;
	uint32_t crc;
	char *target;
};

/* Something left out: a recreatable artifact, a socket or pipe. */
struct skip {
	char *path;
	const char *kind;
};

/* What one walker thread found; merged and sorted after the walk. */
struct found {
	struct ent *v;
	size_t n, cap;
	struct skip *s;
	size_t ns, scap;
	unsigned long long bytes;
	char *buf;                  /* BUFSZ bytes for reading */
	char *err;                  /* the first error */
};

struct tree {
	struct ent *v;              /* by path: a directory before what it holds */
	size_t n;
	struct skip *s;
	size_t ns;
	unsigned long long bytes;   /* content bytes of the files */
	dev_t dev;                  /* the top directory as verified */
	ino_t ino;
	struct wt_artifacts *arts;  /* what is recreatable; NULL: keep artifacts */
	int stat_only;              /* no crc: to see whether anything changed */
	struct wt_buf err;          /* the first error */
};

/* The walker all records share; its threads read and checksum files. */
static struct wt_walker *walker;

static void
ents_free(struct ent *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].path);
		free(v[i].target);
	}
	free(v);
}

static void
skips_free(struct skip *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(s[i].path);
	free(s);
}

static void
tree_release(struct tree *t)
{
	ents_free(t->v, t->n);
	skips_free(t->s, t->ns);
	wt_buf_release(&t->err);
}

static void
found_fail(struct found *f, const char *rel, const char *what, int e)
{
	struct wt_buf b = WT_BUF_INIT;

	if (f->err)
		return;
	wt_buf_addf(&b, "%s '%s'%s%s", what, rel, e ? ": " : "", e ? strerror(e) : "");
	f->err = wt_buf_detach(&b);
}

static void
add_skip(struct found *f, const char *rel, const char *kind)
{
	if (f->ns == f->scap) {
		f->scap = f->scap ? f->scap * 2 : 16;
		f->s = wt_xrealloc(f->s, f->scap * sizeof(*f->s));
	}
	f->s[f->ns].path = wt_xstrdup(rel);
	f->s[f->ns++].kind = kind;
}

/* crc32 of an open file's content; -1 on a read error. */
static int
crc_fd(int fd, char *buf, uint32_t *crc, off_t *total)
{
	uLong c = crc32(0L, Z_NULL, 0);
	ssize_t n;

	*total = 0;
	while ((n = read(fd, buf, BUFSZ)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		c = crc32_z(c, (const Bytef *)buf, (size_t)n);
		*total += n;
	}
	*crc = (uint32_t)c;
	return 0;
}

/*
 * The walk's callback, on the walker's threads: every entry of the worktree
 * but its .git file, with its crc when a file; artifacts pruned.
 */
static int
visit(const struct wt_walk_ent *e, void *arg)
{
	struct tree *t = arg;
	struct found *f = e->ctx;
	struct wt_buf p = WT_BUF_INIT;
	const struct stat *st = e->st;
	const char *kind;
	struct ent *x;
	off_t total;
	ssize_t k;
	int fd, rc = WT_WALK_CONTINUE;

	/* The top must still be the directory verified, not one swapped in. */
	if (!e->dir) {
		if (!st || st->st_dev != t->dev || st->st_ino != t->ino) {
			found_fail(f, e->name, "not the directory verified:", ESTALE);
			return WT_WALK_STOP;
		}
		return WT_WALK_CONTINUE;
	}
	if (f->err)
		return WT_WALK_STOP;
	if (e->depth == 1 && strcmp(e->name, ".git") == 0)
		return WT_WALK_PRUNE;
	wt_walk_relpath(e->dir, e->name, &p);
	if (e->depth == 1 && (strcmp(e->name, WT_MANIFEST_NAME) == 0 ||
			      strcmp(e->name, ".wt-git") == 0)) {
		found_fail(f, p.s, "a name wt-archive reserves for itself:", 0);
		rc = WT_WALK_STOP;
		goto out;
	}
	if (!st) {
		found_fail(f, p.s, "cannot stat", EIO);
		rc = WT_WALK_STOP;
		goto out;
	}
	if (t->arts && (kind = wt_artifact_entry(t->arts, e))) {
		add_skip(f, p.s, kind);
		rc = WT_WALK_PRUNE;
		goto out;
	}
	if (!S_ISDIR(st->st_mode) && !S_ISREG(st->st_mode) && !S_ISLNK(st->st_mode)) {
		/* Sockets and pipes hold no content to keep. */
		add_skip(f, p.s, "special");
		goto out;
	}
	if (f->n == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 256;
		f->v = wt_xrealloc(f->v, f->cap * sizeof(*f->v));
	}
	x = &f->v[f->n++];
	memset(x, 0, sizeof(*x));
	x->path = wt_buf_detach(&p);
	x->st = *st;
	if (S_ISLNK(st->st_mode)) {
		x->target = wt_xmalloc((size_t)st->st_size + 2);
		k = readlinkat(e->dirfd, e->name, x->target, (size_t)st->st_size + 1);
		if (k < 0 || k > st->st_size) {
			x->target[0] = '\0';
			found_fail(f, x->path, "cannot read the link", k < 0 ? errno : 0);
			rc = WT_WALK_STOP;
			goto out;
		}
		x->target[k] = '\0';
	} else if (S_ISREG(st->st_mode) && !t->stat_only) {
		if (!f->buf)
			f->buf = wt_xmalloc(BUFSZ);
		fd = openat(e->dirfd, e->name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0 || crc_fd(fd, f->buf, &x->crc, &total) < 0) {
			found_fail(f, x->path, "cannot read", errno);
			if (fd >= 0)
				close(fd);
			rc = WT_WALK_STOP;
			goto out;
		}
		close(fd);
		if (total != st->st_size) {
			found_fail(f, x->path, "changed while being read:", 0);
			rc = WT_WALK_STOP;
			goto out;
		}
		f->bytes += (unsigned long long)total;
	} else if (S_ISREG(st->st_mode)) {
		f->bytes += (unsigned long long)st->st_size;
	}
out:
	wt_buf_release(&p);
	return rc;
}

static void
walk_error(const struct wt_walk_ent *e, const char *what, int errnum, void *arg)
{
	struct wt_buf p = WT_BUF_INIT, w = WT_BUF_INIT;

	(void)arg;
	wt_walk_relpath(e->dir, e->name, &p);
	wt_buf_addf(&w, "cannot %s", what);
	found_fail(e->ctx, p.s, w.s, errnum);
	wt_buf_release(&p);
	wt_buf_release(&w);
}

static int
cmp_ent(const void *a, const void *b)
{
	return strcmp(((const struct ent *)a)->path, ((const struct ent *)b)->path);
}

static int
cmp_skip(const void *a, const void *b)
{
	return strcmp(((const struct skip *)a)->path, ((const struct skip *)b)->path);
}

/*
 * Walks the worktree at path with libcommon's walker: every entry, sorted by
 * path (so a directory comes before what it holds), and what was left out.
 */
static void
walk_tree(struct tree *t, const char *path)
{
	struct wt_walk_ops ops;
	struct wt_walk *w;
	struct found *f;
	size_t n = 0, ns = 0;
	int i, rc;

	memset(&ops, 0, sizeof(ops));
	ops.entry = visit;
	ops.error = walk_error;
	ops.arg = t;
	ops.ctx_size = sizeof(struct found);
	w = wt_walk_new(&ops);
	rc = wt_walk_run(walker, w, path);
	if (rc < 0)
		wt_buf_addf(&t->err, "cannot open '%s': %s", path, strerror(errno));
	for (i = 0; i < wt_walk_nslots(w); i++) {
		f = wt_walk_slot(w, i);
		if (f->err && !t->err.len)
			wt_buf_adds(&t->err, f->err);
		t->v = wt_xrealloc(t->v, (n + f->n + 1) * sizeof(*t->v));
		if (f->n)
			memcpy(t->v + n, f->v, f->n * sizeof(*f->v));
		n += f->n;
		t->s = wt_xrealloc(t->s, (ns + f->ns + 1) * sizeof(*t->s));
		if (f->ns)
			memcpy(t->s + ns, f->s, f->ns * sizeof(*f->s));
		ns += f->ns;
		t->bytes += f->bytes;
		free(f->v);
		free(f->s);
		free(f->buf);
		free(f->err);
	}
	t->n = n;
	t->ns = ns;
	if (n)
		qsort(t->v, n, sizeof(*t->v), cmp_ent);
	if (ns)
		qsort(t->s, ns, sizeof(*t->s), cmp_skip);
	wt_walk_free(w);
}

/* Opens rel below top without following any symbolic link or leaving the filesystem. */
static int
open_beneath(int top, const char *rel)
{
#ifdef SYS_openat2
	struct open_how how;
	int fd;

	memset(&how, 0, sizeof(how));
	how.flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC;
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV;
	fd = (int)syscall(SYS_openat2, top, rel, &how, sizeof(how));
	if (fd >= 0 || errno != ENOSYS)
		return fd;
#endif
	return openat(top, rel, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
}

/* git's per-worktree state that restore needs, read into memory. */
struct gitstate {
	const char *name;   /* archive path */
	char *data;
	size_t len;
	uint32_t crc;
};

static size_t
read_git_state(const char *admin, struct gitstate *gs)
{
	const char *const *names = wt_archive_git_names();
	struct wt_buf p = WT_BUF_INIT, b = WT_BUF_INIT;
	size_t i, k = 0;
	ssize_t n;
	int fd;

	for (i = 0; names[i]; i++) {
		wt_buf_reset(&p);
		wt_buf_addf(&p, "%s/%s", admin, names[i] + strlen(WT_GIT_PREFIX));
		if ((fd = open(p.s, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
			continue;
		wt_buf_reset(&b);
		for (;;) {
			wt_buf_grow(&b, 1 << 16);
			n = read(fd, b.s + b.len, b.cap - b.len - 1);
			if (n <= 0)
				break;
			b.len += (size_t)n;
		}
		close(fd);
		if (n < 0)
			continue;
		gs[k].name = names[i];
		gs[k].len = b.len;
		gs[k].crc = (uint32_t)crc32_z(crc32(0L, Z_NULL, 0), (const Bytef *)b.s, b.len);
		gs[k].data = wt_buf_detach(&b);
		k++;
	}
	wt_buf_release(&p);
	wt_buf_release(&b);
	return k;
}

static void
mode_str(struct wt_buf *b, mode_t m)
{
	wt_buf_addf(b, ",\"mode\":\"%04o\"", (unsigned)(m & 07777));
}

/* What one record's archive is about. */
struct job {
	struct wt_rec *r;
	char *id, *ref, *head, *branch, *upstream;
	struct wt_target t;
	struct tree tree;
	struct gitstate gs[8];
	size_t ngs;
	struct wt_buf manifest;
	char *final;          /* the archive's final path */
	git_repository *repo;
	git_index *idx;
	struct wt_artifacts *arts;
	int in_registry;      /* the registry has the worktree's record: patch it */
	int made_ref;         /* the protection ref is this run's */
};

static void
build_manifest(struct job *j)
{
	struct wt_buf *b = &j->manifest;
	char ts[32];
	size_t i;

	wt_buf_adds(b, "{\"format\":\"" WT_MANIFEST_FORMAT "\",\"id\":");
	wt_json_strz(b, j->id);
	wt_buf_adds(b, ",\"name\":");
	wt_json_strz(b, j->t.name);
	wt_buf_adds(b, ",\"path\":");
	wt_json_strz(b, j->t.path);
	wt_buf_adds(b, ",\"repo\":");
	wt_json_strz(b, j->t.common);
	wt_buf_adds(b, ",\"head\":");
	wt_json_strz(b, j->head);
	wt_buf_adds(b, ",\"branch\":");
	if (j->branch)
		wt_json_strz(b, j->branch);
	else
		wt_buf_adds(b, "null");
	if (j->upstream) {
		wt_buf_adds(b, ",\"upstream\":");
		wt_json_strz(b, j->upstream);
	}
	wt_buf_adds(b, ",\"ref\":");
	wt_json_strz(b, j->ref);
	wt_buf_addf(b, ",\"archived_at\":\"%s\",\"artifacts\":\"%s\",\n\"record\":",
		    wt_time_fmt(opt.now, ts), opt.artifacts ? "kept" : "left out");
	wt_buf_add(b, j->r->line, j->r->len);
	wt_buf_adds(b, ",\n\"skipped\":[");
	for (i = 0; i < j->tree.ns; i++) {
		wt_buf_adds(b, i ? ",\n{" : "\n{");
		wt_json_bytes(b, "path", j->tree.s[i].path, strlen(j->tree.s[i].path));
		wt_buf_addf(b, ",\"kind\":\"%s\"}", j->tree.s[i].kind);
	}
	wt_buf_adds(b, "],\n\"git\":[");
	for (i = 0; i < j->ngs; i++)
		wt_buf_addf(b, "%s{\"path\":\"%s\",\"type\":\"file\",\"mode\":\"0644\","
			    "\"size\":%zu,\"crc32\":\"%08x\"}", i ? ",\n" : "\n",
			    j->gs[i].name, j->gs[i].len, (unsigned)j->gs[i].crc);
	wt_buf_adds(b, "],\n\"files\":[");
	for (i = 0; i < j->tree.n; i++) {
		const struct ent *e = &j->tree.v[i];

		wt_buf_adds(b, i ? ",\n{" : "\n{");
		wt_json_bytes(b, "path", e->path, strlen(e->path));
		if (S_ISDIR(e->st.st_mode)) {
			wt_buf_adds(b, ",\"type\":\"dir\"");
			mode_str(b, e->st.st_mode);
		} else if (S_ISLNK(e->st.st_mode)) {
			wt_buf_adds(b, ",\"type\":\"symlink\",");
			wt_json_bytes(b, "target", e->target, strlen(e->target));
		} else {
			wt_buf_adds(b, ",\"type\":\"file\"");
			mode_str(b, e->st.st_mode);
			wt_buf_addf(b, ",\"size\":%lld,\"crc32\":\"%08x\"",
				    (long long)e->st.st_size, (unsigned)e->crc);
		}
		wt_buf_addc(b, '}');
	}
	wt_buf_adds(b, "]}\n");
}

static int
add_mem(struct archive *a, const char *name, const void *data, size_t len)
{
	struct archive_entry *e = archive_entry_new2(a);
	int ret = -1;

	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, (la_int64_t)len);
	archive_entry_set_mtime(e, opt.now, 0);
	if (archive_write_header(a, e) >= ARCHIVE_WARN &&
	    (len == 0 || archive_write_data(a, data, len) == (la_ssize_t)len))
		ret = 0;
	archive_entry_free(e);
	return ret;
}

/* Sets a message from libarchive or errno into *why (a new string). */
static void
why_set(char **why, struct archive *a, const char *fmt, const char *arg)
{
	struct wt_buf b = WT_BUF_INIT;
	int e = a ? archive_errno(a) : errno;

	wt_buf_addf(&b, fmt, arg);
	if (a && archive_error_string(a))
		wt_buf_addf(&b, ": %s", archive_error_string(a));
	/* libarchive says "Write error"; the reason (a full disk) is errno's. */
	if (e > 0 && (!a || !archive_error_string(a) ||
		      !strstr(archive_error_string(a), strerror(e))))
		wt_buf_addf(&b, "%s%s", a && archive_error_string(a) ? " - " : ": ", strerror(e));
	free(*why);
	*why = wt_buf_detach(&b);
}

/* Writes the archive to fd: manifest, git's state, the worktree's entries. */
static int
write_archive(struct job *j, int fd, char **why)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e;
	struct stat st;
	char num[16], *buf = wt_xmalloc(BUFSZ);
	size_t i;
	ssize_t n;
	off_t total;
	int top = -1, in, ret = -1;

	archive_write_set_format_pax_restricted(a);
	snprintf(num, sizeof(num), "%d", opt.level);
	if (strcmp(opt.compression, "zstd") == 0) {
		archive_write_add_filter_zstd(a);
		archive_write_set_filter_option(a, "zstd", "compression-level", num);
		snprintf(num, sizeof(num), "%d", opt.threads);
		/* Older libarchive builds lack the option; one thread still works. */
		archive_write_set_filter_option(a, "zstd", "threads", num);
	} else if (strcmp(opt.compression, "gzip") == 0) {
		archive_write_add_filter_gzip(a);
		archive_write_set_filter_option(a, "gzip", "compression-level", num);
	}
	archive_write_set_bytes_per_block(a, 1 << 16);
	archive_write_set_bytes_in_last_block(a, 1);
	if (archive_write_open_fd(a, fd) != ARCHIVE_OK) {
		why_set(why, a, "cannot start the archive%s", "");
		goto out;
	}
	if (add_mem(a, WT_MANIFEST_NAME, j->manifest.s, j->manifest.len) < 0) {
		why_set(why, a, "cannot write %s", WT_MANIFEST_NAME);
		goto out;
	}
	for (i = 0; i < j->ngs; i++)
		if (add_mem(a, j->gs[i].name, j->gs[i].data, j->gs[i].len) < 0) {
			why_set(why, a, "cannot write '%s'", j->gs[i].name);
			goto out;
		}
	if ((top = open(j->t.path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		why_set(why, NULL, "cannot open '%s'", j->t.path);
		goto out;
	}
	e = archive_entry_new2(a);
	for (i = 0; i < j->tree.n; i++) {
		const struct ent *x = &j->tree.v[i];

		if (i == j->tree.n / 2)
			pause_at("writing");
		archive_entry_clear(e);
		archive_entry_copy_stat(e, &x->st);
		archive_entry_set_pathname(e, x->path);
		archive_entry_set_nlink(e, 1);
		in = -1;
		if (S_ISLNK(x->st.st_mode)) {
			archive_entry_set_symlink(e, x->target);
			archive_entry_set_size(e, 0);
		} else if (S_ISDIR(x->st.st_mode)) {
			archive_entry_set_size(e, 0);
		} else {
			in = open_beneath(top, x->path);
			if (in < 0 || fstat(in, &st) < 0 || st.st_ino != x->st.st_ino ||
			    st.st_size != x->st.st_size) {
				if (in >= 0) {
					close(in);
					errno = 0;
				}
				why_set(why, NULL, "'%s' changed while being archived", x->path);
				archive_entry_free(e);
				goto out;
			}
		}
		if (archive_write_header(a, e) < ARCHIVE_WARN) {
			why_set(why, a, "cannot write '%s'", x->path);
			if (in >= 0)
				close(in);
			archive_entry_free(e);
			goto out;
		}
		total = 0;
		while (in >= 0 && (n = read(in, buf, BUFSZ)) > 0) {
			/* The header promised the size: never write past it. */
			if (total + n > x->st.st_size)
				break;
			if (archive_write_data(a, buf, (size_t)n) != n) {
				why_set(why, a, "cannot write '%s'", x->path);
				close(in);
				archive_entry_free(e);
				goto out;
			}
			total += n;
		}
		if (in >= 0) {
			close(in);
			if (total != x->st.st_size) {
				errno = 0;
				why_set(why, NULL, "'%s' changed while being archived", x->path);
				archive_entry_free(e);
				goto out;
			}
		}
	}
	archive_entry_free(e);
	if (archive_write_close(a) != ARCHIVE_OK) {
		why_set(why, a, "cannot finish the archive%s", "");
		goto out;
	}
	ret = 0;
out:
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

/* Writes, verifies and renames the archive into place; j->final is set. */
static int
make_archive(struct job *j, char **why)
{
	struct wt_buf tmp = WT_BUF_INIT, fin = WT_BUF_INIT;
	char ts[32], *fid = file_id(j->id), *p;
	int fd = -1, dfd = -1, k, ret = -1;
	static unsigned seq;

	wt_time_fmt(opt.now, ts);
	/* 2026-06-01T00:00:00Z becomes 20260601T000000Z in a file name. */
	for (p = ts, k = 0; *p; p++)
		if (*p != '-' && *p != ':')
			ts[k++] = *p;
	ts[k] = '\0';
	if ((dfd = open(opt.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		why_set(why, NULL, "cannot open '%s'", opt.dir);
		goto out;
	}
	wt_buf_addf(&tmp, TMP_PREFIX "%ld.%u.%s-%s%s", (long)getpid(),
		    __atomic_fetch_add(&seq, 1, __ATOMIC_RELAXED), fid, ts, opt.ext);
	fd = openat(dfd, tmp.s, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		why_set(why, NULL, "cannot create '%s'", tmp.s);
		goto out;
	}
	/* Held until the rename: the next run removes only temporaries nobody holds. */
	flock(fd, LOCK_EX);
	if (write_archive(j, fd, why) < 0)
		goto fail;
	pause_at("written");
	if (wt_archive_verify(fd, j->manifest.s, j->manifest.len, why) < 0) {
		p = *why;
		*why = NULL;
		why_set(why, NULL, "verification failed: %s", p);
		free(p);
		goto fail;
	}
	pause_at("verified");
	if (fsync(fd) < 0) {
		why_set(why, NULL, "cannot sync '%s'", tmp.s);
		goto fail;
	}
	for (k = 1;; k++) {
		wt_buf_reset(&fin);
		wt_buf_addf(&fin, "%s-%s", fid, ts);
		if (k > 1)
			wt_buf_addf(&fin, ".%d", k);
		wt_buf_adds(&fin, opt.ext);
		if (renameat2(dfd, tmp.s, dfd, fin.s, RENAME_NOREPLACE) == 0)
			break;
		if (errno != EEXIST || k > 100) {
			why_set(why, NULL, "cannot rename '%s'", tmp.s);
			goto fail;
		}
	}
	if (fsync(dfd) < 0) {
		why_set(why, NULL, "cannot sync '%s'", opt.dir);
		goto out;
	}
	wt_buf_reset(&tmp);
	wt_buf_addf(&tmp, "%s/%s", opt.dir, fin.s);
	j->final = wt_buf_detach(&tmp);
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
	free(fid);
	return ret;
}

/* Removes temporaries of runs that died: no live process holds them. */
static void
clean_temporaries(void)
{
	struct dirent *de;
	DIR *d = opendir(opt.dir);
	long pid;
	int fd;

	if (!d)
		return;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, TMP_PREFIX, strlen(TMP_PREFIX)) != 0)
			continue;
		pid = strtol(de->d_name + strlen(TMP_PREFIX), NULL, 10);
		if (pid > 0 && pid != (long)getpid() && kill((pid_t)pid, 0) == 0)
			continue;
		fd = openat(dirfd(d), de->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (flock(fd, LOCK_EX | LOCK_NB) == 0 && unlinkat(dirfd(d), de->d_name, 0) == 0)
			warnx("removed the partial archive '%s/%s' of a run that died",
			      opt.dir, de->d_name);
		close(fd);
	}
	closedir(d);
}

static int
write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644), ret = 0;
	size_t n = strlen(s);

	if (fd < 0)
		return -1;
	if (write(fd, s, n) != (ssize_t)n || write(fd, "\n", 1) != 1 || fsync(fd) < 0)
		ret = -1;
	close(fd);
	return ret;
}

/*
 * Whether git's per-worktree state (the index: what is staged; HEAD) is what
 * the archive holds: given as the list gs of n, or the manifest m's git items.
 */
static int
git_state_is(const char *admin, const struct gitstate *gs, size_t n,
	     const struct wt_manifest *m)
{
	struct gitstate now[8];
	size_t k = read_git_state(admin, now), i, want = m ? m->ngit : n;
	int same = k == want;

	for (i = 0; same && i < k; i++) {
		if (m)
			same = strcmp(now[i].name, m->items[i].path) == 0 &&
			       (long long)now[i].len == m->items[i].size && now[i].crc == m->items[i].crc;
		else
			same = strcmp(now[i].name, gs[i].name) == 0 && now[i].len == gs[i].len &&
			       now[i].crc == gs[i].crc;
	}
	for (i = 0; i < k; i++)
		free(now[i].data);
	return same;
}

static int
cmp_item(const void *a, const void *b)
{
	return strcmp((*(const struct wt_item *const *)a)->path,
		      (*(const struct wt_item *const *)b)->path);
}

/*
 * After an interrupted run: may the worktree's remains go? Only when the
 * archive the marker names verifies and everything left is in it as it is
 * there (or lies in what it left out as recreatable). New or changed work
 * means no: the worktree is archived afresh.
 */
static int
remains_archived(struct job *j, const char *archive, char **why)
{
	struct wt_manifest m;
	struct wt_item **idx = NULL, key, *kp = &key, **hit;
	struct archive *a = NULL;
	const struct ent *e;
	char *text = NULL;
	size_t len, i, k;
	int fd, ret = -1, ok;

	memset(&m, 0, sizeof(m));
	if ((fd = open(archive, O_RDONLY | O_CLOEXEC)) < 0) {
		why_set(why, NULL, "cannot open '%s'", archive);
		return -1;
	}
	if (wt_archive_verify(fd, NULL, 0, why) < 0 || !(a = wt_archive_read_fd(fd)) ||
	    wt_archive_read_manifest(a, &m, &text, &len, why) < 0)
		goto out;
	if (strcmp(m.name, j->t.name) != 0 || strcmp(m.path, j->t.path) != 0) {
		why_set(why, NULL, "'%s' is the archive of another worktree", archive);
		goto out;
	}
	/* A commit or a staged change since is work the archive does not have. */
	if (strcmp(m.head, j->head) != 0 || !git_state_is(j->t.admin, NULL, 0, &m)) {
		errno = 0;
		why_set(why, NULL, "HEAD or the index changed since '%s' was made", archive);
		goto out;
	}
	idx = wt_xmalloc((m.nitems + 1) * sizeof(*idx));
	for (i = m.ngit; i < m.nitems; i++)
		idx[i - m.ngit] = &m.items[i];
	qsort(idx, m.nitems - m.ngit, sizeof(*idx), cmp_item);
	for (i = 0; i < j->tree.n; i++) {
		e = &j->tree.v[i];
		key.path = e->path;
		hit = bsearch(&kp, idx, m.nitems - m.ngit, sizeof(*idx), cmp_item);
		if (hit && S_ISDIR(e->st.st_mode))
			ok = (*hit)->type == WT_ITEM_DIR;
		else if (hit && S_ISLNK(e->st.st_mode))
			ok = (*hit)->type == WT_ITEM_SYMLINK && strcmp((*hit)->target, e->target) == 0;
		else if (hit)
			ok = (*hit)->type == WT_ITEM_FILE && (*hit)->size == e->st.st_size &&
			     (*hit)->crc == e->crc;
		else
			ok = S_ISDIR(e->st.st_mode);
		/* Not in the archive: fine only inside what it left out as recreatable. */
		for (k = 0; !ok && k < m.nskipped; k++) {
			size_t n = strlen(m.skipped[k]);

			ok = strncmp(e->path, m.skipped[k], n) == 0 &&
			     (e->path[n] == '\0' || e->path[n] == '/');
		}
		if (!ok) {
			why_set(why, NULL, "'%s' is not in the archive as it is now", e->path);
			goto out;
		}
	}
	ret = 0;
out:
	if (a)
		archive_read_free(a);
	close(fd);
	free(idx);
	free(text);
	wt_manifest_release(&m);
	return ret;
}

/*
 * Whether the worktree is still as the walk saw it: the same entries with
 * the same inode, size, times and link targets. Work written while the
 * archive was made would not be in it, so the worktree must then stay.
 */
static int
unchanged(struct job *j, char **why)
{
	struct tree now;
	const struct ent *a, *b;
	size_t i;
	int ret = -1;

	memset(&now, 0, sizeof(now));
	now.dev = j->tree.dev;
	now.ino = j->tree.ino;
	now.arts = j->tree.arts;
	now.stat_only = 1;
	walk_tree(&now, j->t.path);
	if (now.err.len) {
		why_set(why, NULL, "%s", now.err.s);
		goto out;
	}
	for (i = 0; i < now.n && i < j->tree.n; i++) {
		a = &j->tree.v[i];
		b = &now.v[i];
		if (strcmp(a->path, b->path) != 0 || a->st.st_mode != b->st.st_mode ||
		    a->st.st_ino != b->st.st_ino || a->st.st_size != b->st.st_size ||
		    a->st.st_mtim.tv_sec != b->st.st_mtim.tv_sec ||
		    a->st.st_mtim.tv_nsec != b->st.st_mtim.tv_nsec ||
		    a->st.st_ctim.tv_sec != b->st.st_ctim.tv_sec ||
		    a->st.st_ctim.tv_nsec != b->st.st_ctim.tv_nsec ||
		    (a->target && strcmp(a->target, b->target) != 0))
			break;
	}
	if (!git_state_is(j->t.admin, j->gs, j->ngs, NULL)) {
		errno = 0;
		why_set(why, NULL, "git's index or HEAD changed while the worktree was archived%s",
			"");
		goto out;
	}
	if (i < now.n || i < j->tree.n || now.ns != j->tree.ns) {
		errno = 0;
		why_set(why, NULL, "the worktree changed while it was archived (at '%s')",
			i < now.n ? now.v[i].path : i < j->tree.n ? j->tree.v[i].path : "?");
		goto out;
	}
	ret = 0;
out:
	tree_release(&now);
	return ret;
}

/* Removes git's admin entry of the worktree, once its directory is gone. */
static int
remove_admin(const struct wt_target *t, struct wt_rm_stats *rs)
{
	struct wt_buf b = WT_BUF_INIT;
	int fd, ret = -1;

	wt_buf_addf(&b, "%s/worktrees", t->common);
	if ((fd = open(b.s, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) >= 0) {
		ret = wt_rmtree_at(fd, t->name, rs);
		close(fd);
	}
	wt_buf_release(&b);
	return ret;
}

static void
job_release(struct job *j)
{
	size_t i;

	free(j->id);
	free(j->ref);
	free(j->head);
	free(j->branch);
	free(j->upstream);
	free(j->final);
	wt_target_release(&j->t);
	tree_release(&j->tree);
	for (i = 0; i < j->ngs; i++)
		free(j->gs[i].data);
	wt_buf_release(&j->manifest);
	wt_artifacts_free(j->arts);
	git_index_free(j->idx);
	git_repository_free(j->repo);
}

/* HEAD, branch and upstream of the worktree; -1 when HEAD has no commit. */
static int
read_head(struct job *j)
{
	git_reference *head = NULL;
	git_buf up = { NULL, 0, 0 };
	char hex[GIT_OID_HEXSZ + 1];
	const git_oid *oid;
	int ret = -1;

	if (git_repository_head(&head, j->repo) < 0 || !(oid = git_reference_target(head)))
		goto out;
	j->head = wt_xstrdup(git_oid_tostr(hex, sizeof(hex), oid));
	if (git_reference_is_branch(head)) {
		j->branch = wt_xstrdup(git_reference_shorthand(head));
		if (git_branch_upstream_name(&up, j->repo, git_reference_name(head)) == 0)
			j->upstream = wt_xstrndup(up.ptr, up.size);
	}
	ret = 0;
out:
	git_buf_dispose(&up);
	git_reference_free(head);
	return ret;
}

/* The ref that keeps HEAD's commits from gc: refs/wt/archived/ID, or by git's name. */
static int
protect(struct job *j)
{
	struct wt_buf b = WT_BUF_INIT;
	git_reference *ref = NULL;
	git_oid oid;
	int valid = 0, ret;

	wt_buf_addf(&b, "refs/wt/archived/%s", j->id);
	if (git_reference_name_is_valid(&valid, b.s) < 0 || !valid) {
		wt_buf_reset(&b);
		wt_buf_addf(&b, "refs/wt/archived/%s", j->t.name);
	}
	j->ref = wt_buf_detach(&b);
	if (opt.nflag)
		return 0;
	/* A ref already there protects an earlier archive: a failure here must leave it. */
	if (git_reference_lookup(&ref, j->repo, j->ref) == 0)
		git_reference_free(ref);
	else
		j->made_ref = 1;
	ref = NULL;
	git_oid_fromstr(&oid, j->head);
	ret = git_reference_create(&ref, j->repo, j->ref, &oid, 1, "wt-archive: protect HEAD");
	git_reference_free(ref);
	return ret;
}

static void
drop_ref(struct job *j)
{
	git_reference *ref;

	if (j->ref && j->made_ref && !opt.nflag && git_reference_lookup(&ref, j->repo, j->ref) == 0) {
		git_reference_delete(ref);
		git_reference_free(ref);
	}
}

/*
 * Initialised submodules: their repositories live in git's admin entry
 * (modules/), which an archive does not carry.
 */
static int
has_submodules(const char *admin)
{
	struct wt_buf b = WT_BUF_INIT;
	struct stat st;
	int ret;

	wt_buf_addf(&b, "%s/modules", admin);
	ret = lstat(b.s, &st) == 0;
	wt_buf_release(&b);
	return ret;
}

static int
want(const struct wt_rec *r, void *arg)
{
	(void)arg;
	return !wt_rec_has_error(r) && wt_rec_find(r, "path") >= 0;
}

/* The context of an error: the step that failed and the worktree's path. */
static struct wt_obj *
at(struct wt_obj *ctx, const char *step, const char *path)
{
	wt_obj_reset(ctx);
	wt_obj_str(ctx, "step", step);
	if (path)
		wt_obj_str(ctx, "path", path);
	return ctx;
}

/* A RegistryError's context: the registry and the operation that failed. */
static struct wt_obj *
at_registry(struct wt_obj *ctx, const char *step, const char *operation)
{
	wt_obj_reset(ctx);
	wt_obj_str(ctx, "registry_path", opt.reg.path);
	wt_obj_str(ctx, "operation", operation);
	wt_obj_str(ctx, "step", step);
	return ctx;
}

/*
 * Whether the registry's record of the id is this worktree's: only then is
 * it patched; with none, the worktree's record is added. A record of the id
 * naming another worktree is left alone, and so is the worktree.
 */
static int
registry_check(struct job *j, struct wt_obj *ctx)
{
	struct wt_rec cur = WT_REC_INIT;
	char *other = NULL;
	int rc = wt_registry_record_of(&opt.reg, j->id, j->t.path, j->t.common, &cur);

	if (rc == WT_REG_OTHER) {
		other = wt_rec_str(&cur, "path");
		wt_rec_error(j->r, WT_E_REGISTRY, at_registry(ctx, "registry", "set"),
			     "refusing to archive: the registry's record of '%s' is of another "
			     "worktree ('%s')", j->id, other ? other : "no path");
	} else if (rc < 0) {
		wt_rec_error(j->r, WT_E_REGISTRY, at_registry(ctx, "registry", "read"),
			     "cannot read '%s': %s", opt.reg.path, strerror(errno));
	}
	j->in_registry = rc == WT_REG_SAME;
	wt_rec_release(&cur);
	free(other);
	return rc == WT_REG_SAME || rc == WT_REG_NONE ? 0 : -1;
}

/* The registry patch of the archive: the archived fields, status unless --keep. */
static void
patch_fields(struct job *j, struct wt_obj *o, long long size)
{
	char ts[32];

	if (!opt.keep) {
		wt_obj_str(o, "status", "archived");
		wt_obj_bool(o, "archived", 1);
	}
	wt_obj_str(o, "archive", j->final);
	wt_obj_int(o, "archive_size", size);
	wt_obj_str(o, "archived_at", wt_time_fmt(opt.now, ts));
	wt_obj_str(o, "archive_ref", j->ref);
	wt_obj_str(o, "head", j->head);
}

/* The same fields on a record. */
static void
set_fields(struct job *j, struct wt_rec *r, long long size)
{
	if (!opt.keep) {
		wt_rec_set_str(r, "status", "archived");
		wt_rec_set_bool(r, "archived", 1);
	}
	wt_rec_set_str(r, "archive", j->final);
	wt_rec_set_int(r, "archive_size", size);
	wt_rec_set_time(r, "archived_at", opt.now);
	wt_rec_set_str(r, "archive_ref", j->ref);
	wt_rec_set_str(r, "head", j->head);
}

/* The registry patch: journaled before anything is removed. */
static int
journal(struct job *j, long long size)
{
	struct wt_obj f;
	struct wt_rec cur = WT_REC_INIT;
	int ret;

	if (j->in_registry) {
		wt_obj_init(&f);
		patch_fields(j, &f, size);
		ret = wt_batch_set(opt.batch, j->id, wt_obj_text(&f, NULL));
		wt_obj_release(&f);
		return ret;
	}
	/* The registry does not know the worktree: it must know the archive. */
	wt_rec_copy(&cur, j->r);
	set_fields(j, &cur, size);
	ret = wt_batch_put(opt.batch, &cur);
	wt_rec_release(&cur);
	return ret;
}

static void
emit_fields(struct job *j, long long size, unsigned long long freed)
{
	set_fields(j, j->r, size);
	wt_rec_set_int(j->r, "freed", (long long)freed);
}

/*
 * A worktree whose directory is gone may be one that a run archived and was
 * killed while removing: the registry (its journal applied) knows the
 * archive. The record gets the archived fields and git's admin entry, left
 * with its marker, goes. Returns 1 when so.
 */
static int
finished(struct wt_rec *r, const char *id, const char *path, const char *repo)
{
	static const char *const fields[] = { "status", "archived", "archive",
		"archive_size", "archived_at", "archive_ref", "head", NULL };
	struct wt_rec cur = WT_REC_INIT;
	struct wt_buf b = WT_BUF_INIT;
	struct wt_rm_stats rs;
	struct dirent *de;
	struct stat st;
	const char *raw;
	char *archive = NULL, *common = repo ? realpath(repo, NULL) : NULL, *s;
	size_t n, i;
	DIR *d;
	int ok;

	ok = wt_registry_record_of(&opt.reg, id, path, common ? common : repo, &cur) == WT_REG_SAME;
	if (!ok || !wt_rec_is_archived(&cur) || !(archive = wt_rec_str(&cur, "archive")) ||
	    stat(archive, &st) < 0) {
		ok = 0;
		goto out;
	}
	for (i = 0; fields[i]; i++)
		if ((raw = wt_rec_raw(&cur, fields[i], &n)))
			wt_rec_set_raw(r, fields[i], raw, n);
	if (!repo || opt.nflag)
		goto out;
	wt_buf_addf(&b, "%s/worktrees", repo);
	if (!(d = opendir(b.s)))
		goto out;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		wt_buf_reset(&b);
		wt_buf_addf(&b, "%s/worktrees/%s/" MARKER, repo, de->d_name);
		if (access(b.s, F_OK) < 0)
			continue;
		wt_buf_reset(&b);
		wt_buf_addf(&b, "%s/worktrees/%s/gitdir", repo, de->d_name);
		s = wt_read_small(b.s, 4096);
		wt_buf_reset(&b);
		wt_buf_addf(&b, "%s/.git", path);
		if (s && strcmp(s, b.s) == 0) {
			memset(&rs, 0, sizeof(rs));
			wt_rmtree_at(dirfd(d), de->d_name, &rs);
		}
		free(s);
	}
	closedir(d);
out:
	wt_rec_release(&cur);
	wt_buf_release(&b);
	free(archive);
	free(common);
	return ok;
}

/* Step 1, the safety contract; 0 when the worktree may be archived. */
static int
safe(struct job *j, const char *path, const char *repo, struct wt_obj *ctx)
{
	char *reason = NULL, *mount = NULL;
	const char *w;
	pid_t pid;
	int rc, ret = -1;

	if (wt_target_verify(&j->t, path, repo, &w) < 0) {
		wt_rec_refuse(j->r, wt_target_rule(w), at(ctx, "safety", path),
			      "refusing to archive: %s", w);
		return -1;
	}
	if (wt_target_locked(&j->t, &reason)) {
		wt_rec_refuse(j->r, "locked", at(ctx, "safety", path), "refusing to archive: "
			      "locked%s%s", reason && *reason ? ": " : "", reason ? reason : "");
	} else if (!opt.force && (pid = wt_path_in_use(j->t.path))) {
		wt_rec_refuse(j->r, "in_use", at(ctx, "safety", path), "refusing to archive: "
			      "in use (process %ld has its directory there)", (long)pid);
	} else if ((w = wt_git_in_progress(j->t.admin))) {
		wt_rec_refuse(j->r, "in_progress", at(ctx, "safety", path), "refusing to "
			      "archive: git state an archive cannot keep (a %s in progress)", w);
	} else if (has_submodules(j->t.admin)) {
		wt_rec_refuse(j->r, "submodules", at(ctx, "safety", path), "refusing to "
			      "archive: git state an archive cannot keep (initialised submodules)");
	} else if ((rc = wt_path_has_mounts(j->t.path, &mount)) != 0) {
		wt_rec_refuse(j->r, "mount", at(ctx, "safety", path), rc < 0 ?
			      "refusing to archive: cannot read the mount table%s" :
			      "refusing to archive: a mount point inside the worktree at '%s'",
			      rc < 0 ? "" : mount);
	} else if (git_repository_open(&j->repo, j->t.path) < 0) {
		wt_rec_error(j->r, WT_E_BASE, at(ctx, "safety", path),
			     "cannot open the repository: %s", wt_git_errmsg());
	} else if (read_head(j) < 0) {
		wt_rec_refuse(j->r, "no_commit", at(ctx, "safety", path),
			      "refusing to archive: HEAD has no commit to protect");
	} else {
		ret = registry_check(j, ctx);
	}
	free(reason);
	free(mount);
	return ret;
}

static int
archive_one(struct wt_rec *r, int worker, void *arg)
{
	struct job j;
	struct wt_rm_stats rs;
	struct wt_buf b = WT_BUF_INIT;
	struct wt_obj ctx;
	struct stat st;
	char *path = NULL, *repo = NULL, *why = NULL, *marked = NULL;
	int resumed = 0;

	(void)worker;
	(void)arg;
	memset(&j, 0, sizeof(j));
	memset(&rs, 0, sizeof(rs));
	wt_obj_init(&ctx);
	j.r = r;
	path = wt_rec_str(r, "path");
	repo = wt_rec_str(r, "repo");
	if (!(j.id = wt_rec_str(r, "id"))) {
		wt_rec_error(r, WT_E_BASE, NULL, "a record without an id");
		goto out;
	}
	if (!path) {
		wt_rec_error(r, WT_E_BASE, NULL, "a record whose path is not a string");
		goto out;
	}
	/* An archived worktree whose directory is gone is done: pass it on. */
	if (lstat(path, &st) < 0 && errno == ENOENT &&
	    (wt_rec_is_archived(r) || finished(r, j.id, path, repo)))
		goto out;

	/* 1. The safety contract. */
	if (safe(&j, path, repo, &ctx) < 0)
		goto out;

	/* The walk: every entry, with its crc, for the manifest. */
	if (git_repository_index(&j.idx, j.repo) < 0)
		j.idx = NULL;
	wt_buf_addf(&b, "%s/" MARKER, j.t.admin);
	marked = wt_read_small(b.s, 4096);
	/* A marker means a run archived it and died: judge the remains with everything in them. */
	if (!opt.artifacts && !marked)
		j.arts = j.tree.arts = wt_artifacts_new(j.t.path, j.repo, j.idx);
	j.tree.dev = j.t.dev;
	j.tree.ino = j.t.ino;
	walk_tree(&j.tree, j.t.path);
	if (j.tree.err.len) {
		wt_rec_error(r, WT_E_BASE, at(&ctx, "walk", path), "cannot archive: %s",
			     j.tree.err.s);
		goto out;
	}
	if (protect(&j) < 0) {
		wt_rec_error(r, WT_E_BASE, at(&ctx, "protect", path), "cannot protect HEAD: %s",
			     wt_git_errmsg());
		goto out;
	}

	if (marked) {
		if (remains_archived(&j, marked, &why) == 0) {
			j.final = marked;
			marked = NULL;
			resumed = 1;
		} else {
			warnx("'%s': %s archiving afresh: %s", j.id, opt.nflag ? "would be" : "",
			      why);
			if (!opt.nflag)
				unlink(b.s);
			free(why);
			why = NULL;
		}
	}
	if (opt.nflag) {
		wt_obj_reset(&ctx);
		wt_obj_int(&ctx, "files", (long long)j.tree.n);
		wt_obj_int(&ctx, "bytes", (long long)j.tree.bytes);
		wt_obj_int(&ctx, "left_out", (long long)j.tree.ns);
		wt_obj_str(&ctx, "ref", j.ref);
		wt_obj_bool(&ctx, "resume", resumed);
		wt_rec_set_obj(r, "dry_run", &ctx);
		goto out;
	}
	pause_at("protected");

	if (!resumed) {
		/* 2. The archive, verified before it gets its name. */
		j.ngs = read_git_state(j.t.admin, j.gs);
		build_manifest(&j);
		if (make_archive(&j, &why) < 0) {
			wt_rec_error(r, WT_E_BASE, at(&ctx, "write", path), "cannot archive: %s", why);
			goto undo;
		}
		pause_at("renamed");
		if (unchanged(&j, &why) < 0) {
			wt_rec_error(r, WT_E_BASE, at(&ctx, "write", path), "cannot archive: %s", why);
			unlink(j.final);
			goto undo;
		}
		/* The marker lets a run that dies from here on be finished by the next. */
		if (!opt.keep && (write_file(b.s, j.final) < 0 || wt_sync_dir(j.t.admin) < 0)) {
			why_set(&why, NULL, "cannot write '%s'", b.s);
			wt_rec_error(r, WT_E_BASE, at(&ctx, "mark", path), "%s", why);
			unlink(j.final);
			unlink(b.s);
			goto undo;
		}
		pause_at("marked");
	}
	if (stat(j.final, &st) < 0) {
		why_set(&why, NULL, "cannot stat '%s'", j.final);
		wt_rec_error(r, WT_E_BASE, at(&ctx, "journal", path), "%s", why);
		goto out;
	}
	/* 3. The journal, before anything goes. */
	if (journal(&j, (long long)st.st_size) < 0) {
		why_set(&why, NULL, "cannot journal the registry patch of '%s'", j.id);
		wt_rec_error(r, WT_E_REGISTRY, at_registry(&ctx, "journal",
			     j.in_registry ? "set" : "put"), "%s", why);
		goto out;
	}
	pause_at("journaled");
	if (opt.keep) {
		if (resumed)
			unlink(b.s);
		emit_fields(&j, (long long)st.st_size, 0);
		goto out;
	}
	/* 4. The worktree goes: its directory (.git last), then git's admin entry. */
	pause_at("removing");
	if (wt_rmtree_verified(&j.t, &rs) < 0) {
		why_set(&why, NULL, "archived to '%s', but cannot remove the worktree", j.final);
		emit_fields(&j, (long long)st.st_size, rs.bytes);
		wt_rec_error(r, WT_E_BASE, at(&ctx, "remove", path), "%s", why);
		goto out;
	}
	pause_at("removed");
	if (remove_admin(&j.t, &rs) < 0) {
		why_set(&why, NULL, "archived to '%s', but cannot remove git's admin entry",
			j.final);
		emit_fields(&j, (long long)st.st_size, rs.bytes);
		wt_rec_error(r, WT_E_BASE, at(&ctx, "remove", path), "%s", why);
		goto out;
	}
	emit_fields(&j, (long long)st.st_size, rs.bytes);
	goto out;
undo:
	drop_ref(&j);
out:
	job_release(&j);
	wt_buf_release(&b);
	wt_obj_release(&ctx);
	free(path);
	free(repo);
	free(why);
	free(marked);
	return 0;
}

/* Whether libarchive writes zstd itself (Debian's does, with its threads). */
static int
zstd_works(void)
{
	struct archive *a = archive_write_new();
	int ok = archive_write_add_filter_zstd(a) == ARCHIVE_OK;

	archive_write_free(a);
	return ok;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "keep", no_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 }
	};
	struct wt_config cfg;
	struct wt_reader *rd;
	struct wt_buf b = WT_BUF_INIT;
	const char *ropt = NULL, *odir = NULL, *z = NULL;
	long errors;
	int c, jobs = 0, level = -1, have;

	wt_setprogname(argv[0]);
	/*
	 * libarchive converts names between the locale's charset and UTF-8: in
	 * UTF-8 they pass unchanged, and a name that is not UTF-8 is kept as
	 * bytes (pax hdrcharset=BINARY) instead of failing in the C locale.
	 */
	if (!setlocale(LC_CTYPE, "C.UTF-8"))
		setlocale(LC_CTYPE, "");
	while ((c = getopt_long(argc, argv, "afj:kl:no:r:z:", longopts, NULL)) != -1)
		switch (c) {
		case 'a': opt.artifacts = 1; break;
		case 'f': opt.force = 1; break;
		case 'j': jobs = wt_parse_jobs(optarg); break;
		case 'k': opt.keep = 1; break;
		case 'l': level = (int)wt_parse_long(optarg, "compression level"); break;
		case 'n': opt.nflag = 1; break;
		case 'o': odir = optarg; break;
		case 'r': ropt = optarg; break;
		case 'z': z = optarg; break;
		default: usage();
		}
	if (optind != argc || isatty(STDIN_FILENO))
		usage();
	wt_config_load(&cfg);
	opt.compression = z ? z : cfg.compression;
	if (strcmp(opt.compression, "zstd") == 0)
		opt.ext = ".tar.zst";
	else if (strcmp(opt.compression, "gzip") == 0)
		opt.ext = ".tar.gz";
	else if (strcmp(opt.compression, "none") == 0)
		opt.ext = ".tar";
	else
		errx(WT_EXIT_FATAL, "unknown compression '%s' (zstd, gzip, none)", opt.compression);
	if (strcmp(opt.compression, "zstd") == 0 && !zstd_works()) {
		warnx("this libarchive cannot write zstd: writing gzip instead");
		opt.compression = "gzip";
		opt.ext = ".tar.gz";
		if (level > 9)
			level = 9;
	}
	opt.level = level >= 0 ? level : strcmp(opt.compression, "gzip") == 0 ? 6 : 3;
	if ((strcmp(opt.compression, "zstd") == 0 && (opt.level < 1 || opt.level > 19)) ||
	    (strcmp(opt.compression, "gzip") == 0 && (opt.level < 1 || opt.level > 9)))
		errx(WT_EXIT_FATAL, "bad compression level: %d", opt.level);
	opt.threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (opt.threads < 1)
		opt.threads = 1;
	if (!jobs)
		jobs = cfg.jobs;
	opt.pause = getenv("WT_TEST_PAUSE");
	opt.now = wt_now();
	if (odir)
		wt_buf_adds(&b, odir);
	else if (cfg.archive_dir)
		wt_buf_adds(&b, cfg.archive_dir);
	else
		wt_buf_addf(&b, "%s/archives", cfg.home);

	if ((have = wt_registry_open(&opt.reg, &cfg, ropt)) < 0)
		err(WT_EXIT_FATAL, "cannot read '%s'", opt.reg.path);
	if (opt.reg.moai && !opt.nflag)
		errx(WT_EXIT_FATAL, "'%s' is a MoAI-ADK registry, read only here; give an "
		     "NDJSON registry with -r", opt.reg.path);
	wt_git_init();
	if (!opt.nflag) {
		if (wt_mkdirs(b.s, 0700) < 0 || !(opt.dir = realpath(b.s, NULL)))
			err(WT_EXIT_FATAL, "cannot create '%s'", b.s);
		/* What a run that died left: its journal applied, its temporaries gone. */
		if (wt_registry_replay(&opt.reg, cfg.lock_timeout) < 0)
			errx(WT_EXIT_FATAL, "cannot apply the journal of '%s'", opt.reg.path);
		clean_temporaries();
		opt.batch = wt_batch_open(&opt.reg);
	} else {
		opt.dir = realpath(b.s, NULL);
		if (!opt.dir)
			opt.dir = wt_xstrdup(b.s);
	}
	walker = wt_walker_new(opt.threads);
	rd = wt_reader_new(STDIN_FILENO, 0);
	errors = wt_pool_run(rd, jobs, want, archive_one, NULL, stdout);
	wt_walker_free(walker);
	wt_reader_free(rd);
	wt_flush_stdout();
	/* One registry update for the whole run. */
	if (wt_batch_failed(opt.batch))
		errors++;
	if (wt_batch_commit(opt.batch, cfg.lock_timeout) < 0) {
		warnx("the registry was not updated; its journal keeps the changes for the next run");
		errors++;
	}
	wt_buf_release(&b);
	free(opt.dir);
	wt_registry_release(&opt.reg);
	wt_config_release(&cfg);
	return errors ? WT_EXIT_RECORDS : WT_EXIT_OK;
}
