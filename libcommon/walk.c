/* walk.c: parallel walks of directory trees through descriptors (wt-du, wt-prune, wt-archive). */
#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "wt.h"

/* One getdents64 call takes thousands of entries: most directories in one. */
#define DENTS (256 * 1024)
#define OPEN_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
#define STRIPES 16
/* Callers' getdents buffers a walker keeps: about one per caller thread. */
#define SPARE_MAX 16
/* Levels of ".." per openat when coming back up: 3000 bytes, under PATH_MAX. */
#define UP_MAX 1000

struct wt_walk_dir {
	struct wt_walk_dir *parent;
	atomic_int refs;            /* its frame or item, and each child */
	int depth;
	dev_t dev;
	ino_t ino;
	uintptr_t tag;
	char name[];
};

/*
 * Work in the shared queue: a directory, open, to be read and walked (a
 * walk's root); or some subdirectories of a directory already read, by
 * name, with a descriptor of that directory of their own.
 */
struct item {
	struct item *next;
	struct wt_walk *walk;
	struct wt_walk_dir *dir;
	int fd;
	char *names;                /* NUL-separated; NULL: read dir */
	size_t nlen;
};

/*
 * A directory on a worker's stack. The names of its subdirectories not yet
 * walked are names[next..end) of the worker, NUL-separated. Its descriptor is
 * -1 once nothing is left to open in it, or when it was shed to keep the
 * number of open descriptors bounded.
 */
struct frame {
	struct wt_walk_dir *dir;
	int fd;
	size_t next, end;
};

struct worker {
	struct wt_walker *wk;       /* NULL: the caller's thread, alone */
	int id;
	char *dents, *ahead;        /* a getdents batch, and the one after it */
	struct frame *fr;
	size_t nfr, frcap;
	struct wt_buf names;
	struct dirent64 **v;        /* a getdents batch, sorted by inode */
	size_t vcap;
	int nopen, maxopen;
	pthread_t th;
};

struct wt_walker {
	pthread_mutex_t mu;
	pthread_cond_t work, done;
	struct item *head, *tail;
	atomic_int hungry, queued;  /* read without the lock by donors */
	int nthreads, quit, maxopen;
	struct worker *ws;
	char *spare[SPARE_MAX];     /* callers' getdents buffers, for the next walk */
	int nspare;
};

/*
 * A set of inodes with several links, with how many of their names were
 * seen: a walk's (each inode counted once) and a removal tally's (it frees
 * an inode when all its names were given). Striped, so workers rarely wait.
 */
struct freed_ino {
	dev_t dev;
	ino_t ino;
	nlink_t nlink;
	long long seen;
	long long bytes;
	int used;
};

struct freed_stripe {
	pthread_mutex_t mu;
	struct freed_ino *tab;
	size_t cap, n;
};

struct wt_freed {
	struct freed_stripe s[STRIPES];
};

struct wt_walk {
	struct wt_walk_ops ops;
	dev_t dev;                  /* the root's device and mount */
	uint64_t mnt;
	int active;                 /* subtrees queued or walked, under wk->mu */
	int ran;
	atomic_int stop;
	atomic_long errors;
	atomic_long mounts;
	atomic_long nested;
	atomic_int nslots;
	size_t stride;
	char *slots;
	struct wt_freed links;       /* the hard-linked inodes met */
};

int
wt_stat_mount(int dirfd, const char *name, struct stat *st, uint64_t *mnt)
{
	struct statx sx;

	if (statx(dirfd, name, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT |
		  (*name ? 0 : AT_EMPTY_PATH), STATX_BASIC_STATS | STATX_MNT_ID, &sx) < 0)
		return -1;
	memset(st, 0, sizeof(*st));
	st->st_dev = makedev(sx.stx_dev_major, sx.stx_dev_minor);
	st->st_ino = sx.stx_ino;
	st->st_mode = sx.stx_mode;
	st->st_nlink = sx.stx_nlink;
	st->st_uid = sx.stx_uid;
	st->st_gid = sx.stx_gid;
	st->st_rdev = makedev(sx.stx_rdev_major, sx.stx_rdev_minor);
	st->st_size = (off_t)sx.stx_size;
	st->st_blksize = (blksize_t)sx.stx_blksize;
	st->st_blocks = (blkcnt_t)sx.stx_blocks;
	st->st_atim.tv_sec = sx.stx_atime.tv_sec;
	st->st_atim.tv_nsec = sx.stx_atime.tv_nsec;
	st->st_mtim.tv_sec = sx.stx_mtime.tv_sec;
	st->st_mtim.tv_nsec = sx.stx_mtime.tv_nsec;
	st->st_ctim.tv_sec = sx.stx_ctime.tv_sec;
	st->st_ctim.tv_nsec = sx.stx_ctime.tv_nsec;
	/* Kernels before 5.8 have no mount ids: the device is the best there is. */
	if (sx.stx_mask & STATX_MNT_ID)
		*mnt = sx.stx_mnt_id;
	else
		*mnt = (uint64_t)st->st_dev | 1ULL << 63;
	return 0;
}

int
wt_mount_id(int dirfd, const char *name, uint64_t *id)
{
	struct stat st;

	return wt_stat_mount(dirfd, name, &st, id);
}

static struct wt_walk_dir *
dir_new(struct wt_walk_dir *parent, const char *name, const struct stat *st)
{
	size_t n = strlen(name);
	struct wt_walk_dir *d = wt_xmalloc(sizeof(*d) + n + 1);

	d->parent = parent;
	if (parent)
		atomic_fetch_add_explicit(&parent->refs, 1, memory_order_relaxed);
	atomic_init(&d->refs, 1);
	d->depth = parent ? parent->depth + 1 : 0;
	d->dev = st->st_dev;
	d->ino = st->st_ino;
	d->tag = parent ? parent->tag : 0;
	memcpy(d->name, name, n + 1);
	return d;
}

/* Drops a reference; a directory freed drops its parent's, up the chain. */
static void
dir_unref(struct wt_walk_dir *d)
{
	struct wt_walk_dir *p;

	while (d && atomic_fetch_sub_explicit(&d->refs, 1, memory_order_acq_rel) == 1) {
		p = d->parent;
		free(d);
		d = p;
	}
}

const char *
wt_walk_dir_name(const struct wt_walk_dir *d)
{
	return d->name;
}

int
wt_walk_dir_depth(const struct wt_walk_dir *d)
{
	return d->depth;
}

const struct wt_walk_dir *
wt_walk_dir_parent(const struct wt_walk_dir *d)
{
	return d->parent;
}

uintptr_t
wt_walk_dir_tag(const struct wt_walk_dir *d)
{
	return d->tag;
}

/* The names from the root (full) or below it down to d, then name. */
static void
path(const struct wt_walk_dir *d, const char *name, struct wt_buf *b, int full)
{
	const struct wt_walk_dir **v;
	size_t n = d ? (size_t)d->depth + 1 : 0, i, first = full ? 0 : 1;
	int sep = 0;

	v = wt_xmalloc((n ? n : 1) * sizeof(*v));
	for (i = n; d; d = d->parent)
		v[--i] = d;
	for (i = first; i < n; i++) {
		if (sep)
			wt_buf_addc(b, '/');
		wt_buf_adds(b, v[i]->name);
		/* A root of "/" already ends with its separator. */
		sep = !(i == 0 && b->len && b->s[b->len - 1] == '/');
	}
	if (name && (full || n)) {
		if (sep)
			wt_buf_addc(b, '/');
		wt_buf_adds(b, name);
	}
	free(v);
}

void
wt_walk_path(const struct wt_walk_dir *d, const char *name, struct wt_buf *b)
{
	path(d, name, b, 1);
}

void
wt_walk_relpath(const struct wt_walk_dir *d, const char *name, struct wt_buf *b)
{
	path(d, name, b, 0);
}

static void *
slot(struct wt_walk *w, int i)
{
	return w->stride ? w->slots + (size_t)i * w->stride : NULL;
}

static void
report(struct worker *wo, struct wt_walk *w, const struct wt_walk_dir *dir,
       int dirfd, const char *name, unsigned char type, const char *what, int errnum)
{
	struct wt_walk_ent e;
	struct wt_buf b = WT_BUF_INIT;

	atomic_fetch_add_explicit(&w->errors, 1, memory_order_relaxed);
	if (!w->ops.error) {
		wt_walk_path(dir, name, &b);
		warnx("cannot %s '%s': %s", what, b.s, strerror(errnum));
		wt_buf_release(&b);
		return;
	}
	memset(&e, 0, sizeof(e));
	e.walk = w;
	e.dir = dir;
	e.name = name;
	e.dirfd = dirfd;
	e.fd = -1;
	e.type = type;
	e.depth = dir ? dir->depth + 1 : 0;
	e.worker = wo->id;
	e.ctx = slot(w, wo->id);
	e.ptag = dir ? dir->tag : 0;
	w->ops.error(&e, what, errnum, w->ops.arg);
}

static int
call(struct worker *wo, struct wt_walk *w, const struct wt_walk_dir *dir, int dirfd,
     const char *name, int fd, unsigned char type, const struct stat *st,
     uintptr_t *tag)
{
	struct wt_walk_ent e;
	int rc;

	if (!w->ops.entry)
		return WT_WALK_CONTINUE;
	e.walk = w;
	e.dir = dir;
	e.name = name;
	e.dirfd = dirfd;
	e.fd = fd;
	e.type = type;
	e.st = st;
	e.depth = dir ? dir->depth + 1 : 0;
	e.worker = wo->id;
	e.ctx = slot(w, wo->id);
	e.ptag = dir ? dir->tag : 0;
	e.tag = tag;
	rc = w->ops.entry(&e, w->ops.arg);
	if (rc == WT_WALK_STOP)
		atomic_store(&w->stop, 1);
	return rc;
}

static void
close_fd(struct worker *wo, struct frame *f)
{
	if (f->fd >= 0) {
		close(f->fd);
		f->fd = -1;
		wo->nopen--;
	}
}

/*
 * Too many descriptors: close the shallowest one below the top. The walk
 * comes back to that directory through ".." when it is done below.
 */
static void
shed(struct worker *wo)
{
	size_t i;

	for (i = 0; i + 1 < wo->nfr && wo->nopen > wo->maxopen; i++)
		close_fd(wo, &wo->fr[i]);
}

static void
push(struct worker *wo, struct wt_walk_dir *d, int fd)
{
	if (wo->nfr == wo->frcap) {
		wo->frcap = wo->frcap ? wo->frcap * 2 : 64;
		wo->fr = wt_xrealloc(wo->fr, wo->frcap * sizeof(*wo->fr));
	}
	wo->fr[wo->nfr].dir = d;
	wo->fr[wo->nfr].fd = fd;
	wo->fr[wo->nfr].next = wo->fr[wo->nfr].end = wo->names.len;
	wo->nfr++;
	wo->nopen++;
	if (wo->nopen > wo->maxopen)
		shed(wo);
}

/* One entry of the top directory: a subdirectory is kept for later. */
static int
one(struct worker *wo, struct wt_walk *w, struct frame *f, const struct dirent64 *d)
{
	const char *name = d->d_name;
	unsigned char type = d->d_type;
	struct stat st;
	int stated = 0;

	if (name[0] == '.' && (!name[1] || (name[1] == '.' && !name[2])))
		return WT_WALK_CONTINUE;
	if (type == DT_DIR) {
		wt_buf_add(&wo->names, name, strlen(name) + 1);
		return WT_WALK_CONTINUE;
	}
	if (!(w->ops.flags & WT_WALK_NOSTAT) || type == DT_UNKNOWN) {
		if (fstatat(f->fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			/* Gone since it was listed: not an error. */
			if (errno != ENOENT)
				report(wo, w, f->dir, f->fd, name, type, "stat", errno);
			return WT_WALK_CONTINUE;
		}
		stated = 1;
		type = IFTODT(st.st_mode);
		if (type == DT_DIR) {
			wt_buf_add(&wo->names, name, strlen(name) + 1);
			return WT_WALK_CONTINUE;
		}
	}
	return call(wo, w, f->dir, f->fd, name, -1, type, stated ? &st : NULL, NULL);
}

static int
by_ino(const void *a, const void *b)
{
	ino64_t x = (*(struct dirent64 *const *)a)->d_ino;
	ino64_t y = (*(struct dirent64 *const *)b)->d_ino;

	return x < y ? -1 : x > y;
}

/* The entries of one getdents batch, to the callback or kept for later. */
static int
batch(struct worker *wo, struct wt_walk *w, struct frame *f, char *buf, ssize_t n)
{
	struct dirent64 *d;
	char *p, *end = buf + n;
	size_t k, nv;

	if (!(w->ops.flags & WT_WALK_INODE_ORDER)) {
		for (p = buf; p < end; p += d->d_reclen) {
			d = (struct dirent64 *)(void *)p;
			if (one(wo, w, f, d) == WT_WALK_STOP)
				return WT_WALK_STOP;
		}
		return WT_WALK_CONTINUE;
	}
	for (nv = 0, p = buf; p < end; p += d->d_reclen, nv++) {
		d = (struct dirent64 *)(void *)p;
		if (nv == wo->vcap) {
			wo->vcap = wo->vcap ? 2 * wo->vcap : 1024;
			wo->v = wt_xrealloc(wo->v, wo->vcap * sizeof(*wo->v));
		}
		wo->v[nv] = d;
	}
	qsort(wo->v, nv, sizeof(*wo->v), by_ino);
	for (k = 0; k < nv; k++)
		if (one(wo, w, f, wo->v[k]) == WT_WALK_STOP)
			return WT_WALK_STOP;
	return WT_WALK_CONTINUE;
}

/* 1 when a getdents batch lists a ".git" entry. */
static int
lists_git(const char *buf, ssize_t n)
{
	const struct dirent64 *d;
	const char *p;

	for (p = buf; p < buf + n; p += d->d_reclen) {
		d = (const struct dirent64 *)(const void *)p;
		if (strcmp(d->d_name, ".git") == 0)
			return 1;
	}
	return 0;
}

/*
 * Whether the directory below the root that frame f reads holds a .git
 * entry, before anything of it is reported: its first batch is in
 * wo->dents (n bytes). A directory of one batch, the common case, costs
 * no call more than reading it does: the batch after it, read ahead, is
 * empty. A longer one is listed to its end and then read again from the
 * start. Returns 1 when it holds one, 0 when not, -1 on a read error;
 * *rewound is 1 when the directory is to be read again from its start, and
 * *done 1 when the first batch was all of it.
 */
static int
holds_git(struct worker *wo, struct frame *f, ssize_t n, int *rewound, int *done)
{
	ssize_t m;
	int found = lists_git(wo->dents, n);

	*rewound = *done = 0;
	if (found)
		return 1;
	if (!wo->ahead)
		wo->ahead = wt_xmalloc(DENTS);
	if ((m = getdents64(f->fd, wo->ahead, DENTS)) <= 0) {
		*done = m == 0;
		return m < 0 ? -1 : 0;
	}
	*rewound = 1;
	do
		found = lists_git(wo->ahead, m);
	while (!found && (m = getdents64(f->fd, wo->ahead, DENTS)) > 0);
	if (m < 0 || lseek(f->fd, 0, SEEK_SET) < 0)
		return -1;
	return found;
}

/*
 * A directory below the root with a .git entry is another worktree or
 * repository: nothing of it is reported or entered, and the walk's
 * nested callback hears of it.
 */
static void
nested(struct worker *wo, struct wt_walk *w, struct frame *f)
{
	struct wt_walk_ent e;

	atomic_fetch_add_explicit(&w->nested, 1, memory_order_relaxed);
	if (!w->ops.nested)
		return;
	memset(&e, 0, sizeof(e));
	e.walk = w;
	e.dir = f->dir->parent;
	e.name = f->dir->name;
	e.dirfd = -1;
	e.fd = f->fd;
	e.type = DT_DIR;
	e.depth = f->dir->depth;
	e.worker = wo->id;
	e.ctx = slot(w, wo->id);
	e.ptag = f->dir->parent ? f->dir->parent->tag : 0;
	e.tag = &f->dir->tag;
	w->ops.nested(&e, w->ops.arg);
}

/*
 * Reads the top directory: every entry but a subdirectory goes to the
 * callback now, while it is hot in the dentry cache; subdirectories are
 * kept by name to be opened one by one. In inode order (WT_WALK_INODE_ORDER)
 * the inode tables are read from disk mostly forwards, and the next inodes
 * are often in the block the last read brought in.
 */
static void
read_dir(struct worker *wo, struct wt_walk *w)
{
	struct frame *f = &wo->fr[wo->nfr - 1];
	ssize_t n;
	int more = 1, rc, rewound, done;

	n = getdents64(f->fd, wo->dents, DENTS);
	if (n > 0 && f->dir->parent && !(w->ops.flags & WT_WALK_ENTER_NESTED)) {
		if ((rc = holds_git(wo, f, n, &rewound, &done)) != 0 &&
		    !(rc > 0 && w->ops.modules && wt_git_own_submodule(f->fd, w->ops.modules))) {
			if (rc > 0)
				nested(wo, w, f);
			else
				report(wo, w, f->dir->parent, -1, f->dir->name, DT_DIR, "read",
				       errno);
			f->end = wo->names.len;
			return;
		}
		/* Read again from the start, or known to be one batch, or read on. */
		if (rewound)
			n = getdents64(f->fd, wo->dents, DENTS);
		more = !done;
	}
	for (; n > 0; n = more ? getdents64(f->fd, wo->dents, DENTS) : 0) {
		if (batch(wo, w, f, wo->dents, n) == WT_WALK_STOP ||
		    atomic_load_explicit(&w->stop, memory_order_relaxed))
			break;
	}
	if (n < 0)
		report(wo, w, f->dir->parent, -1, f->dir->name, DT_DIR, "read", errno);
	f->end = wo->names.len;
}

/*
 * Opens subdirectory name of frame f and hands it to the callback. Returns
 * its directory with *fdp open, or NULL when it is not to be read (gone,
 * unreadable, another file system, pruned).
 */
static struct wt_walk_dir *
open_child(struct worker *wo, struct wt_walk *w, struct frame *f,
	   const char *name, int *fdp)
{
	struct wt_walk_dir *d;
	struct stat st;
	uintptr_t tag;
	uint64_t m;
	int fd, e, rc;

	if ((fd = openat(f->fd, name, OPEN_FLAGS)) < 0) {
		e = errno;
		if (e == ENOENT)
			return NULL;
		/*
		 * An unreadable directory still takes room, and a directory
		 * replaced by a file or a link since it was listed is that now.
		 */
		if (wt_stat_mount(f->fd, name, &st, &m) == 0 && st.st_dev == w->dev &&
		    m == w->mnt) {
			tag = f->dir->tag;
			call(wo, w, f->dir, f->fd, name, -1, IFTODT(st.st_mode), &st,
			     S_ISDIR(st.st_mode) ? &tag : NULL);
			if (!S_ISDIR(st.st_mode))
				return NULL;
		}
		report(wo, w, f->dir, f->fd, name, DT_DIR, "open", e);
		return NULL;
	}
	/* The mount id comes with the same statx call: a bind mount costs nothing. */
	if (wt_stat_mount(fd, "", &st, &m) < 0) {
		e = errno;
		close(fd);
		report(wo, w, f->dir, f->fd, name, DT_DIR, "stat", e);
		return NULL;
	}
	/*
	 * A mount point: another file system, or a bind mount of this one
	 * (same device, another mount), is not part of the tree.
	 */
	if (st.st_dev != w->dev || m != w->mnt) {
		atomic_fetch_add_explicit(&w->mounts, 1, memory_order_relaxed);
		close(fd);
		return NULL;
	}
	d = dir_new(f->dir, name, &st);
	rc = call(wo, w, f->dir, f->fd, name, fd, DT_DIR, &st, &d->tag);
	if (rc != WT_WALK_CONTINUE) {
		close(fd);
		dir_unref(d);
		return NULL;
	}
	*fdp = fd;
	return d;
}

/* Takes the next subdirectory name of frame i; NULL when none is left. */
static const char *
take(struct worker *wo, size_t i)
{
	struct frame *f = &wo->fr[i];
	const char *name;

	if (f->next >= f->end)
		return NULL;
	name = wo->names.s + f->next;
	f->next += strlen(name) + 1;
	return name;
}

static void
enqueue(struct wt_walker *wk, struct item *it)
{
	it->next = NULL;
	pthread_mutex_lock(&wk->mu);
	it->walk->active++;
	if (wk->tail)
		wk->tail->next = it;
	else
		wk->head = it;
	wk->tail = it;
	atomic_fetch_add(&wk->queued, 1);
	pthread_cond_signal(&wk->work);
	pthread_mutex_unlock(&wk->mu);
}

/*
 * When a worker is idle and nothing is queued for it, gives it work: half
 * the subdirectories left in the shallowest directory that has some, which
 * is likely the largest piece at hand, and big enough that the idle worker
 * does not come back at once (each hand-over costs a wake-up).
 */
static void
donate(struct worker *wo, struct wt_walk *w)
{
	struct wt_walker *wk = wo->wk;
	struct frame *f;
	struct item *it;
	size_t i, k, n, half, mid;
	int fd;

	if (!wk || atomic_load_explicit(&wk->hungry, memory_order_relaxed) <=
		   atomic_load_explicit(&wk->queued, memory_order_relaxed))
		return;
	for (i = 0; i < wo->nfr; i++)
		if (wo->fr[i].next < wo->fr[i].end && wo->fr[i].fd >= 0)
			break;
	if (i == wo->nfr)
		return;
	f = &wo->fr[i];
	for (n = 0, k = f->next; k < f->end; k += strlen(wo->names.s + k) + 1)
		n++;
	/* The donor keeps the first half (at least one name when it is the top). */
	half = i + 1 == wo->nfr ? n / 2 : n - n / 2;
	if (half == 0 || (fd = fcntl(f->fd, F_DUPFD_CLOEXEC, 0)) < 0)
		return;
	for (mid = f->end, k = f->next; k < f->end; k += strlen(wo->names.s + k) + 1)
		if (n-- == half) {
			mid = k;
			break;
		}
	it = wt_xmalloc(sizeof(*it));
	it->walk = w;
	it->dir = f->dir;
	atomic_fetch_add_explicit(&f->dir->refs, 1, memory_order_relaxed);
	it->fd = fd;
	it->nlen = f->end - mid;
	it->names = wt_xstrndup(wo->names.s + mid, it->nlen);
	f->end = mid;
	if (f->next == f->end && i + 1 < wo->nfr)
		close_fd(wo, f);
	enqueue(wk, it);
}

/*
 * Reopens frame a, whose descriptor was shed, from the top's descriptor
 * through "../..", and checks that it is the same directory. 0 or -1.
 */
static int
reopen(struct worker *wo, struct wt_walk *w, struct frame *a, struct frame *top)
{
	struct wt_buf b = WT_BUF_INIT;
	struct stat st;
	int up = top->dir->depth - a->dir->depth, cur = top->fd, fd, k, e;

	while (up > 0) {
		k = up > UP_MAX ? UP_MAX : up;
		wt_buf_reset(&b);
		while (k-- > 0)
			wt_buf_adds(&b, b.len ? "/.." : "..");
		up -= up > UP_MAX ? UP_MAX : up;
		fd = openat(cur, b.s, OPEN_FLAGS);
		e = errno;
		if (cur != top->fd)
			close(cur);
		if (fd < 0)
			goto fail;
		cur = fd;
	}
	if (fstat(cur, &st) < 0)
		e = errno;
	else if (st.st_dev != a->dir->dev || st.st_ino != a->dir->ino)
		e = ESTALE;     /* moved while it was walked: the rest is lost */
	else
		e = 0;
	if (e) {
		close(cur);
		goto fail;
	}
	wt_buf_release(&b);
	a->fd = cur;
	wo->nopen++;
	return 0;
fail:
	wt_buf_release(&b);
	report(wo, w, a->dir->parent, -1, a->dir->name, DT_DIR, "reopen", e);
	a->next = a->end;
	return -1;
}

/* The top is done: back to the nearest directory with subdirectories left. */
static void
pop(struct worker *wo, struct wt_walk *w)
{
	struct frame *top = &wo->fr[wo->nfr - 1];
	size_t i, j;

	for (;;) {
		for (i = wo->nfr - 1; i > 0 && wo->fr[i - 1].next == wo->fr[i - 1].end; i--)
			;
		if (i == 0 || wo->fr[i - 1].fd >= 0 || reopen(wo, w, &wo->fr[i - 1], top) == 0)
			break;
	}
	for (j = i; j < wo->nfr; j++) {
		close_fd(wo, &wo->fr[j]);
		dir_unref(wo->fr[j].dir);
	}
	wo->nfr = i;
	wo->names.len = i ? wo->fr[i - 1].end : 0;
	if (wo->nopen > wo->maxopen)
		shed(wo);
}

static void
unwind(struct worker *wo)
{
	while (wo->nfr > 0) {
		wo->nfr--;
		close_fd(wo, &wo->fr[wo->nfr]);
		dir_unref(wo->fr[wo->nfr].dir);
	}
	wo->names.len = 0;
}

/*
 * Walks the subtree at d (open as fd) depth first, or only its
 * subdirectories named in names; takes d's reference and fd.
 */
static void
run(struct worker *wo, struct wt_walk *w, struct wt_walk_dir *d, int fd,
    const char *names, size_t nlen)
{
	struct wt_walk_dir *cd;
	const char *name;
	size_t t;
	int cfd;

	push(wo, d, fd);
	if (names) {
		wt_buf_add(&wo->names, names, nlen);
		wo->fr[0].end = wo->names.len;
	} else {
		read_dir(wo, w);
	}
	while (wo->nfr) {
		if (atomic_load_explicit(&w->stop, memory_order_relaxed)) {
			unwind(wo);
			break;
		}
		t = wo->nfr - 1;
		if (wo->fr[t].next < wo->fr[t].end)
			donate(wo, w);
		if (!(name = take(wo, t))) {
			pop(wo, w);
			continue;
		}
		if (!(cd = open_child(wo, w, &wo->fr[t], name, &cfd)))
			continue;
		/* Nothing left to open here: the descriptor is not needed. */
		if (wo->fr[t].next == wo->fr[t].end)
			close_fd(wo, &wo->fr[t]);
		push(wo, cd, cfd);
		read_dir(wo, w);
	}
}

static void
worker_init(struct worker *wo, struct wt_walker *wk, int id, int maxopen, char *dents)
{
	memset(wo, 0, sizeof(*wo));
	wo->wk = wk;
	wo->id = id;
	wo->maxopen = maxopen;
	wo->dents = dents ? dents : wt_xmalloc(DENTS);
}

/*
 * A getdents buffer for a walk's caller, kept from the walk before: a
 * fresh one each time costs its pages again (malloc gives that size back
 * to the system when it is freed), more than a small tree's walk.
 */
static char *
dents_take(struct wt_walker *wk)
{
	char *b = NULL;

	pthread_mutex_lock(&wk->mu);
	if (wk->nspare)
		b = wk->spare[--wk->nspare];
	pthread_mutex_unlock(&wk->mu);
	return b;
}

static void
dents_give(struct wt_walker *wk, char *b)
{
	pthread_mutex_lock(&wk->mu);
	if (wk->nspare < SPARE_MAX) {
		wk->spare[wk->nspare++] = b;
		b = NULL;
	}
	pthread_mutex_unlock(&wk->mu);
	free(b);
}

static void
worker_release(struct worker *wo)
{
	free(wo->dents);
	free(wo->ahead);
	free(wo->v);
	free(wo->fr);
	wt_buf_release(&wo->names);
}

static void *
worker_main(void *arg)
{
	struct worker *wo = arg;
	struct wt_walker *wk = wo->wk;
	struct wt_walk *w;
	struct item *it;

	pthread_mutex_lock(&wk->mu);
	for (;;) {
		while (!wk->head && !wk->quit) {
			atomic_fetch_add(&wk->hungry, 1);
			pthread_cond_wait(&wk->work, &wk->mu);
			atomic_fetch_sub(&wk->hungry, 1);
		}
		if (!(it = wk->head))
			break;
		if (!(wk->head = it->next))
			wk->tail = NULL;
		atomic_fetch_sub(&wk->queued, 1);
		pthread_mutex_unlock(&wk->mu);
		w = it->walk;
		if (atomic_load(&w->stop)) {
			close(it->fd);
			dir_unref(it->dir);
		} else {
			run(wo, w, it->dir, it->fd, it->names, it->nlen);
		}
		free(it->names);
		free(it);
		pthread_mutex_lock(&wk->mu);
		if (--w->active == 0)
			pthread_cond_broadcast(&wk->done);
	}
	pthread_mutex_unlock(&wk->mu);
	return NULL;
}

struct wt_walker *
wt_walker_new(int threads)
{
	struct wt_walker *wk = wt_xmalloc(sizeof(*wk));
	struct rlimit rl;
	long lim = 1024;
	int i;

	memset(wk, 0, sizeof(*wk));
	wk->nthreads = threads > 1 ? threads : 0;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		lim = (long)rl.rlim_cur;
	/* Half the limit for the walks, shared by workers and callers. */
	lim = (lim - 64) / (2 * (wk->nthreads + 1));
	wk->maxopen = lim < 4 ? 4 : lim > 64 ? 64 : (int)lim;
	pthread_mutex_init(&wk->mu, NULL);
	pthread_cond_init(&wk->work, NULL);
	pthread_cond_init(&wk->done, NULL);
	atomic_init(&wk->hungry, 0);
	atomic_init(&wk->queued, 0);
	if (!wk->nthreads)
		return wk;
	wk->ws = wt_xmalloc(sizeof(*wk->ws) * (size_t)wk->nthreads);
	for (i = 0; i < wk->nthreads; i++) {
		worker_init(&wk->ws[i], wk, i, wk->maxopen, NULL);
		if ((errno = pthread_create(&wk->ws[i].th, NULL, worker_main, &wk->ws[i])))
			err(WT_EXIT_FATAL, "pthread_create");
	}
	return wk;
}

void
wt_walker_free(struct wt_walker *wk)
{
	int i;

	if (!wk)
		return;
	pthread_mutex_lock(&wk->mu);
	wk->quit = 1;
	pthread_cond_broadcast(&wk->work);
	pthread_mutex_unlock(&wk->mu);
	for (i = 0; i < wk->nthreads; i++) {
		pthread_join(wk->ws[i].th, NULL);
		worker_release(&wk->ws[i]);
	}
	while (wk->nspare)
		free(wk->spare[--wk->nspare]);
	free(wk->ws);
	pthread_mutex_destroy(&wk->mu);
	pthread_cond_destroy(&wk->work);
	pthread_cond_destroy(&wk->done);
	free(wk);
}

static void
freed_init(struct wt_freed *f)
{
	int i;

	memset(f, 0, sizeof(*f));
	for (i = 0; i < STRIPES; i++)
		pthread_mutex_init(&f->s[i].mu, NULL);
}

static void
freed_release(struct wt_freed *f)
{
	int i;

	for (i = 0; i < STRIPES; i++) {
		pthread_mutex_destroy(&f->s[i].mu);
		free(f->s[i].tab);
	}
}

struct wt_walk *
wt_walk_new(const struct wt_walk_ops *ops)
{
	struct wt_walk *w = wt_xmalloc(sizeof(*w));

	memset(w, 0, sizeof(*w));
	w->ops = *ops;
	atomic_init(&w->nslots, 0);
	atomic_init(&w->stop, 0);
	atomic_init(&w->errors, 0);
	atomic_init(&w->mounts, 0);
	freed_init(&w->links);
	return w;
}

void
wt_walk_free(struct wt_walk *w)
{
	if (!w)
		return;
	freed_release(&w->links);
	free(w->slots);
	free(w);
}

int
wt_walk_nslots(const struct wt_walk *w)
{
	return atomic_load_explicit(&w->nslots, memory_order_acquire);
}

void *
wt_walk_slot(struct wt_walk *w, int i)
{
	return i >= 0 && i < wt_walk_nslots(w) ? slot(w, i) : NULL;
}

long
wt_walk_errors(const struct wt_walk *w)
{
	return atomic_load(&w->errors);
}

long
wt_walk_mounts(const struct wt_walk *w)
{
	return atomic_load(&w->mounts);
}

long
wt_walk_nested(const struct wt_walk *w)
{
	return atomic_load(&w->nested);
}

int
wt_walk_run(struct wt_walker *wk, struct wt_walk *w, const char *root)
{
	int fd;

	if (w->ran)
		errx(WT_EXIT_FATAL, "internal error: a walk runs once");
	if ((fd = open(root, OPEN_FLAGS)) < 0) {
		w->ran = 1;
		return -1;
	}
	return wt_walk_run_fd(wk, w, root, fd);
}

int
wt_walk_run_fd(struct wt_walker *wk, struct wt_walk *w, const char *root, int fd)
{
	struct worker self;
	struct wt_walk_dir *d;
	struct stat st;
	int e;

	if (w->ran)
		errx(WT_EXIT_FATAL, "internal error: a walk runs once");
	w->ran = 1;
	if (wt_stat_mount(fd, "", &st, &w->mnt) < 0 || (!S_ISDIR(st.st_mode) && (errno = ENOTDIR))) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	w->dev = st.st_dev;
	/* One slot per worker and one for the caller, each on its own cache lines. */
	w->stride = (w->ops.ctx_size + 63) & ~(size_t)63;
	if (w->stride) {
		if (posix_memalign((void **)&w->slots, 64, w->stride * (size_t)(wk->nthreads + 1)))
			err(WT_EXIT_FATAL, "posix_memalign");
		memset(w->slots, 0, w->stride * (size_t)(wk->nthreads + 1));
	}
	/* Published for a thread that peeks while the walk runs. */
	atomic_store_explicit(&w->nslots, wk->nthreads + 1, memory_order_release);
	d = dir_new(NULL, root, &st);
	memset(&self, 0, sizeof(self));
	self.id = wk->nthreads;
	if (call(&self, w, NULL, AT_FDCWD, root, fd, DT_DIR, &st, &d->tag) !=
	    WT_WALK_CONTINUE) {
		close(fd);
		dir_unref(d);
	} else {
		/*
		 * The caller walks its tree itself and gives subdirectories to
		 * the workers only when one is idle: a small tree costs no
		 * hand-over (two wake-ups and a thread switch each way), a large
		 * one is shared as before.
		 */
		worker_init(&self, wk->nthreads ? wk : NULL, wk->nthreads, wk->maxopen,
			    dents_take(wk));
		run(&self, w, d, fd, NULL, 0);
		dents_give(wk, self.dents);
		self.dents = NULL;
		worker_release(&self);
		if (wk->nthreads) {
			pthread_mutex_lock(&wk->mu);
			while (w->active)
				pthread_cond_wait(&wk->done, &wk->mu);
			pthread_mutex_unlock(&wk->mu);
		}
	}
	return atomic_load(&w->stop) ? 1 : 0;
}

static uint64_t
mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}


/* wt_walk_find_nested's walk: the first nested directory's path. */
struct find_nested {
	pthread_mutex_t mu;
	struct wt_buf *first;
};

static void
found_nested(const struct wt_walk_ent *e, void *arg)
{
	struct find_nested *fn = arg;

	pthread_mutex_lock(&fn->mu);
	if (fn->first && !fn->first->len)
		wt_walk_relpath(e->dir, e->name, fn->first);
	pthread_mutex_unlock(&fn->mu);
}

long
wt_walk_find_nested(struct wt_walker *wk, const char *root, const char *modules,
		    struct wt_buf *first)
{
	struct find_nested fn = { PTHREAD_MUTEX_INITIALIZER, first };
	struct wt_walk_ops ops = { .flags = WT_WALK_NOSTAT, .nested = found_nested,
				   .arg = &fn, .modules = modules };
	struct wt_walk *w = wt_walk_new(&ops);
	long n = -1;

	if (wt_walk_run(wk, w, root) >= 0)
		n = wt_walk_nested(w);
	wt_walk_free(w);
	return n;
}

/* wt_walk_usage's walk: blocks, each inode once, directories named skip left out. */
static int
usage_entry(const struct wt_walk_ent *e, void *arg)
{
	const char *skip = arg;
	unsigned long long *sum = e->ctx;

	if (e->type == DT_DIR && skip && e->dir && strcmp(e->name, skip) == 0)
		return WT_WALK_PRUNE;
	if (e->st && wt_walk_once(e->walk, e->st))
		*sum += (unsigned long long)e->st->st_blocks * 512;
	return WT_WALK_CONTINUE;
}

long long
wt_walk_usage(struct wt_walker *wk, const char *path, const char *skip)
{
	struct wt_walk_ops ops = { .entry = usage_entry, .arg = (void *)skip,
				   .ctx_size = sizeof(unsigned long long) };
	struct wt_walk *w;
	struct stat st;
	long long sum = 0;
	int i;

	if (lstat(path, &st) < 0)
		return -1;
	if (!S_ISDIR(st.st_mode))
		return (long long)st.st_blocks * 512;
	w = wt_walk_new(&ops);
	if (wt_walk_run(wk, w, path) < 0)
		sum = -1;
	for (i = 0; sum >= 0 && i < wt_walk_nslots(w); i++)
		sum += (long long)*(unsigned long long *)wt_walk_slot(w, i);
	wt_walk_free(w);
	return sum;
}

/*
 * What removing trees frees. A file's blocks are freed only when its last
 * link goes, so an inode with several links is remembered with how many of
 * them were given; it counts when all were.
 */
struct wt_freed *
wt_freed_new(void)
{
	struct wt_freed *f = wt_xmalloc(sizeof(*f));

	freed_init(f);
	return f;
}

void
wt_freed_free(struct wt_freed *f)
{
	if (!f)
		return;
	freed_release(f);
	free(f);
}

static size_t
freed_slot(const struct freed_stripe *s, uint64_t h, dev_t dev, ino_t ino)
{
	size_t k;

	for (k = (h / STRIPES) & (s->cap - 1); s->tab[k].used; k = (k + 1) & (s->cap - 1))
		if (s->tab[k].ino == ino && s->tab[k].dev == dev)
			break;
	return k;
}

static void
freed_grow(struct freed_stripe *s)
{
	struct freed_ino *old = s->tab;
	size_t oldcap = s->cap, i;

	s->cap = s->cap ? s->cap * 2 : 256;
	if (!(s->tab = calloc(s->cap, sizeof(*s->tab))))
		err(WT_EXIT_FATAL, "calloc");
	for (i = 0; i < oldcap; i++)
		if (old[i].used)
			s->tab[freed_slot(s, mix((uint64_t)old[i].ino ^ mix((uint64_t)old[i].dev)),
					  old[i].dev, old[i].ino)] = old[i];
	free(old);
}

/* Notes n more names of st's inode; 1 when the set did not hold it before. */
static int
freed_note(struct wt_freed *f, const struct stat *st, int n)
{
	uint64_t h = mix((uint64_t)st->st_ino ^ mix((uint64_t)st->st_dev));
	struct freed_stripe *s = &f->s[h % STRIPES];
	struct freed_ino *e;
	int fresh;

	pthread_mutex_lock(&s->mu);
	if (2 * (s->n + 1) > s->cap)
		freed_grow(s);
	e = &s->tab[freed_slot(s, h, st->st_dev, st->st_ino)];
	if ((fresh = !e->used)) {
		e->used = 1;
		e->dev = st->st_dev;
		e->ino = st->st_ino;
		s->n++;
	}
	/* The latest word on the links and blocks: what a removal would meet. */
	e->nlink = st->st_nlink;
	e->bytes = (long long)st->st_blocks * 512;
	e->seen += n;
	pthread_mutex_unlock(&s->mu);
	return fresh;
}

int
wt_walk_once(struct wt_walk *w, const struct stat *st)
{
	if (st->st_nlink < 2 || S_ISDIR(st->st_mode))
		return 1;
	return freed_note(&w->links, st, 1);
}

long long
wt_freed_add(struct wt_freed *f, const struct stat *st, int n)
{
	if (st->st_nlink < 2 || S_ISDIR(st->st_mode))
		return (long long)n * st->st_blocks * 512;
	freed_note(f, st, n);
	return 0;
}

long long
wt_freed_held(struct wt_freed *f, struct wt_freed *seen)
{
	struct freed_stripe *s;
	struct freed_ino *e, *x;
	long long held = 0;
	uint64_t h;
	size_t k;
	int i;

	for (i = 0; i < STRIPES; i++)
		for (k = 0; k < f->s[i].cap; k++) {
			x = &f->s[i].tab[k];
			if (!x->used)
				continue;
			h = mix((uint64_t)x->ino ^ mix((uint64_t)x->dev));
			s = &seen->s[h % STRIPES];
			pthread_mutex_lock(&s->mu);
			if (2 * (s->n + 1) > s->cap)
				freed_grow(s);
			e = &s->tab[freed_slot(s, h, x->dev, x->ino)];
			if (e->used) {
				held += x->bytes;
			} else {
				*e = *x;
				s->n++;
			}
			pthread_mutex_unlock(&s->mu);
		}
	return held;
}

long long
wt_freed_links(struct wt_freed *f)
{
	long long sum = 0;
	size_t k;
	int i;

	for (i = 0; i < STRIPES; i++) {
		pthread_mutex_lock(&f->s[i].mu);
		for (k = 0; k < f->s[i].cap; k++)
			if (f->s[i].tab[k].used && f->s[i].tab[k].seen >= (long long)f->s[i].tab[k].nlink)
				sum += f->s[i].tab[k].bytes;
		pthread_mutex_unlock(&f->s[i].mu);
	}
	return sum;
}

/* wt_walk_freed_add's walk: every name given to the tally, n links each. */
struct freed_walk {
	struct wt_freed *f;
	int n;
};

static int
freed_entry(const struct wt_walk_ent *e, void *arg)
{
	struct freed_walk *fw = arg;
	long long *sum = e->ctx;

	if (e->st)
		*sum += wt_freed_add(fw->f, e->st, fw->n);
	return WT_WALK_CONTINUE;
}

long long
wt_walk_freed_add(struct wt_walker *wk, struct wt_freed *f, const char *path, int n,
		  int *errnum)
{
	struct freed_walk fw = { f, n };
	struct wt_walk_ops ops = { .entry = freed_entry, .arg = &fw,
				   .ctx_size = sizeof(long long) };
	struct wt_walk *w;
	struct stat st;
	long long sum = 0;
	int i;

	*errnum = 0;
	if (lstat(path, &st) < 0) {
		*errnum = errno;
		return 0;
	}
	if (!S_ISDIR(st.st_mode))
		return wt_freed_add(f, &st, n);
	w = wt_walk_new(&ops);
	if (wt_walk_run(wk, w, path) < 0)
		*errnum = errno;
	for (i = 0; !*errnum && i < wt_walk_nslots(w); i++)
		sum += *(long long *)wt_walk_slot(w, i);
	wt_walk_free(w);
	return sum;
}

long long
wt_walk_freed(struct wt_walker *wk, const char *const *paths, size_t n)
{
	struct wt_freed *f = wt_freed_new();
	long long sum = 0;
	size_t i;
	int e = 0;

	for (i = 0; i < n && !e; i++)
		sum += wt_walk_freed_add(wk, f, paths[i], 1, &e);
	sum = e ? -1 : sum + wt_freed_links(f);
	wt_freed_free(f);
	errno = e;
	return sum;
}
