/* snapshot.c: a worktree as an archive holds it, to write it and to compare. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "wt.h"

#define BUFSZ (256 * 1024)

/* What one walker thread found; merged and sorted after the walk. */
struct found {
	struct wt_snap_ent *v;
	size_t n, cap;
	struct wt_snap_skip *s;
	size_t ns, scap;
	unsigned long long bytes;
	char *buf;                  /* BUFSZ bytes for reading */
	char *err;                  /* the first error */
};

/* The walk's own arguments. */
struct take {
	dev_t dev;
	ino_t ino;
	struct wt_artifacts *arts;
	int flags;
	const struct wt_snapshot *like;
};

void
wt_snapshot_release(struct wt_snapshot *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		free(s->v[i].path);
		free(s->v[i].target);
	}
	free(s->v);
	for (i = 0; i < s->ns; i++)
		free(s->s[i].path);
	free(s->s);
	wt_buf_release(&s->err);
	memset(s, 0, sizeof(*s));
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

int
wt_sums_fd(int fd, char *buf, size_t bufsz, uint32_t *crc, unsigned char *sha,
	   off_t *total)
{
	uLong c = crc32(0L, Z_NULL, 0);
	struct wt_sha256 s;
	ssize_t n;

	wt_sha256_init(&s);
	*total = 0;
	while ((n = read(fd, buf, bufsz)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (crc)
			c = crc32_z(c, (const Bytef *)buf, (size_t)n);
		if (sha)
			wt_sha256_update(&s, buf, (size_t)n);
		*total += n;
	}
	if (crc)
		*crc = (uint32_t)c;
	if (sha)
		wt_sha256_final(&s, sha);
	return 0;
}

/* A link's target, or a file's crc and size: what the entry x holds. */
static int
content(struct found *f, const struct wt_walk_ent *e, struct wt_snap_ent *x, int flags)
{
	const struct stat *st = e->st;
	off_t total;
	ssize_t k;
	int fd;

	if (S_ISLNK(st->st_mode)) {
		x->target = wt_xmalloc((size_t)st->st_size + 2);
		k = readlinkat(e->dirfd, e->name, x->target, (size_t)st->st_size + 1);
		if (k < 0 || k > st->st_size) {
			x->target[0] = '\0';
			found_fail(f, x->path, "cannot read the link", k < 0 ? errno : 0);
			return -1;
		}
		x->target[k] = '\0';
	} else if (S_ISREG(st->st_mode) && !(flags & WT_SNAP_STAT)) {
		if (!f->buf)
			f->buf = wt_xmalloc(BUFSZ);
		fd = openat(e->dirfd, e->name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0 || wt_sums_fd(fd, f->buf, BUFSZ, &x->crc,
					 flags & WT_SNAP_SHA256 ? x->sha : NULL, &total) < 0) {
			found_fail(f, x->path, "cannot read", errno);
			if (fd >= 0)
				close(fd);
			return -1;
		}
		close(fd);
		if (total != st->st_size) {
			found_fail(f, x->path, "changed while being read:", 0);
			return -1;
		}
		f->bytes += (unsigned long long)total;
	} else if (S_ISREG(st->st_mode)) {
		f->bytes += (unsigned long long)st->st_size;
	}
	return 0;
}

/* What like left out at rel (its kind), or NULL. */
static const char *
left_out(const struct wt_snapshot *like, const char *rel)
{
	size_t lo = 0, hi = like->ns, mid;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((c = strcmp(like->s[mid].path, rel)) == 0)
			return like->s[mid].kind;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/*
 * The walk's callback, on the walker's threads: every entry of the worktree
 * but its .git file, with its crc when a file; artifacts pruned.
 */
static int
visit(const struct wt_walk_ent *e, void *arg)
{
	struct take *t = arg;
	struct found *f = e->ctx;
	struct wt_buf p = WT_BUF_INIT;
	const struct stat *st = e->st;
	const char *kind;
	struct wt_snap_ent *x;
	int rc = WT_WALK_CONTINUE;

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
	/* An archive's own names; a walk that only compares (STAT) does not mind them. */
	if (!(t->flags & WT_SNAP_STAT) && e->depth == 1 &&
	    (strcmp(e->name, WT_MANIFEST_NAME) == 0 || strcmp(e->name, WT_GIT_DIR) == 0)) {
		found_fail(f, p.s, "a name wt-archive reserves for itself:", 0);
		rc = WT_WALK_STOP;
	} else if (!st) {
		found_fail(f, p.s, "cannot stat", EIO);
		rc = WT_WALK_STOP;
	} else if ((kind = t->like ? left_out(t->like, p.s) :
		    t->arts ? wt_artifact_entry(t->arts, e) : NULL)) {
		add_skip(f, p.s, kind);
		rc = S_ISDIR(st->st_mode) ? WT_WALK_PRUNE : WT_WALK_CONTINUE;
	} else if (!S_ISDIR(st->st_mode) && !S_ISREG(st->st_mode) && !S_ISLNK(st->st_mode)) {
		/* Sockets and pipes hold no content to keep. */
		add_skip(f, p.s, "special");
	} else {
		if (f->n == f->cap) {
			f->cap = f->cap ? f->cap * 2 : 256;
			f->v = wt_xrealloc(f->v, f->cap * sizeof(*f->v));
		}
		x = &f->v[f->n++];
		memset(x, 0, sizeof(*x));
		x->path = wt_buf_detach(&p);
		x->st = *st;
		if (content(f, e, x, t->flags) < 0)
			rc = WT_WALK_STOP;
	}
	wt_buf_release(&p);
	return rc;
}

/*
 * Another repository or worktree inside (coding agents nest worktrees): an
 * archive would leave it out and the removal would take it. The walk fails.
 */
static void
nested_repo(const struct wt_walk_ent *e, void *arg)
{
	struct wt_buf p = WT_BUF_INIT;

	(void)arg;
	wt_walk_relpath(e->dir, e->name, &p);
	found_fail(e->ctx, p.s, "another repository or worktree inside, at", 0);
	wt_buf_release(&p);
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
	return strcmp(((const struct wt_snap_ent *)a)->path, ((const struct wt_snap_ent *)b)->path);
}

static int
cmp_skip(const void *a, const void *b)
{
	return strcmp(((const struct wt_snap_skip *)a)->path,
		      ((const struct wt_snap_skip *)b)->path);
}

/* Moves a worker's findings into s. */
static void
merge(struct wt_snapshot *s, struct found *f)
{
	if (f->err && !s->err.len)
		wt_buf_adds(&s->err, f->err);
	s->v = wt_xrealloc(s->v, (s->n + f->n + 1) * sizeof(*s->v));
	if (f->n)
		memcpy(s->v + s->n, f->v, f->n * sizeof(*f->v));
	s->n += f->n;
	s->s = wt_xrealloc(s->s, (s->ns + f->ns + 1) * sizeof(*s->s));
	if (f->ns)
		memcpy(s->s + s->ns, f->s, f->ns * sizeof(*f->s));
	s->ns += f->ns;
	s->bytes += f->bytes;
	free(f->v);
	free(f->s);
	free(f->buf);
	free(f->err);
}

int
wt_snapshot_take(struct wt_snapshot *s, struct wt_walker *wk, const char *top,
		 dev_t dev, ino_t ino, struct wt_artifacts *arts, int flags,
		 const struct wt_snapshot *like, const char *modules)
{
	struct take t = { dev, ino, arts, flags, like };
	struct wt_walk_ops ops;
	struct wt_walk *w;
	int i;

	memset(s, 0, sizeof(*s));
	memset(&ops, 0, sizeof(ops));
	ops.entry = visit;
	ops.error = walk_error;
	ops.nested = nested_repo;
	ops.arg = &t;
	ops.ctx_size = sizeof(struct found);
	ops.modules = modules;
	w = wt_walk_new(&ops);
	if (wt_walk_run(wk, w, top) < 0)
		wt_buf_addf(&s->err, "cannot open '%s': %s", top, strerror(errno));
	for (i = 0; i < wt_walk_nslots(w); i++)
		merge(s, wt_walk_slot(w, i));
	wt_walk_free(w);
	if (s->n)
		qsort(s->v, s->n, sizeof(*s->v), cmp_ent);
	if (s->ns)
		qsort(s->s, s->ns, sizeof(*s->s), cmp_skip);
	return s->err.len ? -1 : 0;
}

/* The same entry as far as stat can tell: inode, type, size, times, link target. */
static int
same_ent(const struct wt_snap_ent *a, const struct wt_snap_ent *b)
{
	return strcmp(a->path, b->path) == 0 && a->st.st_mode == b->st.st_mode &&
	       a->st.st_ino == b->st.st_ino && a->st.st_size == b->st.st_size &&
	       a->st.st_mtim.tv_sec == b->st.st_mtim.tv_sec &&
	       a->st.st_mtim.tv_nsec == b->st.st_mtim.tv_nsec &&
	       a->st.st_ctim.tv_sec == b->st.st_ctim.tv_sec &&
	       a->st.st_ctim.tv_nsec == b->st.st_ctim.tv_nsec &&
	       (!a->target || (b->target && strcmp(a->target, b->target) == 0));
}

int
wt_snapshot_same(const struct wt_snapshot *a, const struct wt_snapshot *b, const char **at)
{
	size_t i;

	for (i = 0; i < a->n && i < b->n && same_ent(&a->v[i], &b->v[i]); i++)
		;
	if (i == a->n && i == b->n && a->ns == b->ns)
		return 1;
	*at = i < b->n ? b->v[i].path : i < a->n ? a->v[i].path : "?";
	return 0;
}

void
wt_git_state_read(struct wt_git_state *g, const char *admin)
{
	const char *const *names = wt_archive_git_names();
	struct wt_buf p = WT_BUF_INIT, b = WT_BUF_INIT;
	struct wt_git_file *f;
	size_t i;
	ssize_t n;
	int fd;

	memset(g, 0, sizeof(*g));
	for (i = 0; names[i] && g->n < WT_GIT_STATE_MAX; i++) {
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
		f = &g->f[g->n++];
		f->name = names[i];
		f->len = b.len;
		f->crc = (uint32_t)crc32_z(crc32(0L, Z_NULL, 0), (const Bytef *)b.s, b.len);
		wt_sha256(b.s, b.len, f->sha);
		f->data = wt_buf_detach(&b);
	}
	wt_buf_release(&p);
	wt_buf_release(&b);
}

void
wt_git_state_release(struct wt_git_state *g)
{
	size_t i;

	for (i = 0; i < g->n; i++)
		free(g->f[i].data);
	memset(g, 0, sizeof(*g));
}

int
wt_git_state_same(const struct wt_git_state *a, const struct wt_git_state *b)
{
	size_t i;

	if (a->n != b->n)
		return 0;
	for (i = 0; i < a->n; i++)
		if (strcmp(a->f[i].name, b->f[i].name) != 0 || a->f[i].len != b->f[i].len ||
		    a->f[i].crc != b->f[i].crc || memcmp(a->f[i].sha, b->f[i].sha, WT_SHA256_LEN))
			return 0;
	return 1;
}
