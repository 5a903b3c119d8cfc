/* trash.c: a worktree's trash, and removal of big trees by parallel workers. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wt.h"

#define DENTS_BUF (64 * 1024)

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

/*
 * The parallel removal. A node is a directory being removed: it holds an
 * open descriptor while anything below it is left, and a count of what is
 * pending (its own listing, and each child directory not yet removed). The
 * worker that brings the count to zero removes the directory and gives its
 * parent one less. Workers share directories through a stack while some are
 * idle, and otherwise go down on their own, so descriptors stay bounded.
 */
struct node {
	struct node *parent;    /* NULL: the caller's directory */
	int fd;
	atomic_long pending;
	atomic_int broken;          /* something below stays: it cannot go */
	unsigned long long blocks;
	char name[];
};

struct prm {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct node **q;
	size_t n, cap;
	int busy, idle, jobs;
	int rootfd;
	dev_t dev;
	uint64_t mnt;
	atomic_ullong files, dirs, bytes, skipped;
	atomic_int failed, first_errno, paused;
	long pause_after;
};

static void
fail(struct prm *p, int e)
{
	int zero = 0;

	atomic_store(&p->failed, 1);
	atomic_compare_exchange_strong(&p->first_errno, &zero, e ? e : EIO);
}

/*
 * Test hook: after N files every worker stops for good, so that a test can
 * kill a run in the middle of a delete.
 */
static void
maybe_pause(struct prm *p, unsigned long long files)
{
	static const char msg[] = "wt: paused for a test (WT_TEST_PAUSE_AFTER)\n";

	if (p->pause_after <= 0)
		return;
	if (files == (unsigned long long)p->pause_after) {
		atomic_store(&p->paused, 1);
		if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0)
			_exit(WT_EXIT_FATAL);
	}
	if (atomic_load(&p->paused))
		for (;;)
			pause();
}

static void process(struct prm *p, struct node *nd);

/* Something in nd (NULL: the caller's directory) stays, for reason e. */
static void
broke(struct prm *p, struct node *nd, int e)
{
	fail(p, e);
	if (nd)
		atomic_store(&nd->broken, 1);
}

/* Entries a concurrent listing missed, removed in a last pass on our own. */
static void
sweep(struct prm *p, int fd)
{
	struct wt_rm_stats rs = { 0, 0, 0, 0 };
	struct dirent *de;
	int dfd = dup(fd);
	DIR *d;

	if (dfd < 0)
		return;
	if (!(d = fdopendir(dfd))) {
		close(dfd);
		return;
	}
	rewinddir(d);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			wt_rmtree_at(fd, de->d_name, &rs);
	closedir(d);
	p->files += rs.files;
	p->dirs += rs.dirs;
	p->bytes += rs.bytes;
	p->skipped += rs.skipped;
}

static int
remove_node(struct prm *p, int pfd, struct node *nd)
{
	if (unlinkat(pfd, nd->name, AT_REMOVEDIR) == 0)
		return 0;
	if (errno != ENOTEMPTY && errno != EEXIST)
		return -1;
	sweep(p, nd->fd);
	return unlinkat(pfd, nd->name, AT_REMOVEDIR);
}

/* Brings nd's pending count down by one; the last removes it, and so on upwards. */
static void
release(struct prm *p, struct node *nd)
{
	struct node *parent;

	while (nd && atomic_fetch_sub(&nd->pending, 1) == 1) {
		parent = nd->parent;
		if (atomic_load(&nd->broken)) {
			/* Known not to be empty: the reason was counted where it was met. */
			if (parent)
				atomic_store(&parent->broken, 1);
		} else if (remove_node(p, parent ? parent->fd : p->rootfd, nd) == 0) {
			p->dirs++;
			p->bytes += nd->blocks * 512;
		} else if (errno != ENOENT)
			broke(p, parent, errno);
		close(nd->fd);
		free(nd);
		nd = parent;
	}
}

/* A directory entry found in parent: opened and shared, or gone down into. */
static void
take_dir(struct prm *p, struct node *parent, const char *name, int root)
{
	struct stat st;
	struct node *nd;
	uint64_t m;
	size_t len = strlen(name);
	int pfd = parent ? parent->fd : p->rootfd, fd, share = 0;

	fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOTDIR || errno == ELOOP) {
			/* Not a directory after all (changed under us): remove the entry. */
			if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			    unlinkat(pfd, name, 0) == 0) {
				p->files++;
				if (st.st_nlink == 1)
					p->bytes += (unsigned long long)st.st_blocks * 512;
				return;
			}
		}
		if (errno != ENOENT)
			broke(p, parent, errno);
		return;
	}
	if (fstat(fd, &st) < 0 || wt_mount_id(fd, "", &m) < 0) {
		broke(p, parent, errno);
		close(fd);
		return;
	}
	if (st.st_dev != p->dev || m != p->mnt) {
		/* A mount point: another filesystem is never entered. */
		p->skipped++;
		broke(p, parent, EXDEV);
		close(fd);
		return;
	}
	nd = wt_xmalloc(sizeof(*nd) + len + 1);
	nd->parent = parent;
	nd->fd = fd;
	nd->blocks = (unsigned long long)st.st_blocks;
	atomic_init(&nd->pending, 1);
	atomic_init(&nd->broken, 0);
	memcpy(nd->name, name, len + 1);
	if (parent)
		atomic_fetch_add(&parent->pending, 1);
	pthread_mutex_lock(&p->mu);
	if (root || (p->jobs > 1 && (p->idle > 0 || p->n < (size_t)p->jobs))) {
		if (p->n == p->cap) {
			p->cap = p->cap ? p->cap * 2 : 64;
			p->q = wt_xrealloc(p->q, p->cap * sizeof(*p->q));
		}
		p->q[p->n++] = nd;
		share = 1;
		if (p->idle)
			pthread_cond_signal(&p->cv);
	}
	pthread_mutex_unlock(&p->mu);
	if (!share)
		process(p, nd);
}

static void
take_file(struct prm *p, struct node *nd, const char *name)
{
	struct stat st;
	unsigned long long n;
	int dfd = nd ? nd->fd : p->rootfd;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno != ENOENT)
			broke(p, nd, errno);
		return;
	}
	if (unlinkat(dfd, name, 0) < 0) {
		if (errno != ENOENT)
			broke(p, nd, errno);
		return;
	}
	n = ++p->files;
	/* Only the last link frees the blocks. */
	if (st.st_nlink == 1)
		p->bytes += (unsigned long long)st.st_blocks * 512;
	maybe_pause(p, n);
}

/* Removes everything in nd (children directories maybe by other workers), then releases it. */
static void
process(struct prm *p, struct node *nd)
{
	char *buf = wt_xmalloc(DENTS_BUF);
	struct stat st;
	ssize_t n, off;
	int isdir;

	while ((n = getdents64(nd->fd, buf, DENTS_BUF)) > 0) {
		for (off = 0; off < n;) {
			struct dirent64 *de = (struct dirent64 *)(buf + off);
			const char *name = de->d_name;

			off += de->d_reclen;
			if (name[0] == '.' && (!name[1] || (name[1] == '.' && !name[2])))
				continue;
			isdir = de->d_type == DT_DIR;
			if (de->d_type == DT_UNKNOWN)
				isdir = fstatat(nd->fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
					S_ISDIR(st.st_mode);
			if (isdir)
				take_dir(p, nd, name, 0);
			else
				take_file(p, nd, name);
		}
	}
	if (n < 0)
		broke(p, nd, errno);
	free(buf);
	release(p, nd);
}

static void *
worker(void *arg)
{
	struct prm *p = arg;
	struct node *nd;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (p->n == 0 && p->busy > 0) {
			p->idle++;
			pthread_cond_wait(&p->cv, &p->mu);
			p->idle--;
		}
		if (p->n == 0)
			break;
		nd = p->q[--p->n];
		p->busy++;
		pthread_mutex_unlock(&p->mu);
		process(p, nd);
		pthread_mutex_lock(&p->mu);
		p->busy--;
		if (p->n == 0 && p->busy == 0)
			pthread_cond_broadcast(&p->cv);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

int
wt_rmtree_parallel(int dirfd, const char *const *names, size_t n, int jobs,
		   struct wt_rm_stats *rs)
{
	struct prm p;
	struct stat st;
	pthread_t *th;
	const char *e = getenv("WT_TEST_PAUSE_AFTER");
	size_t i;
	int j, started = 0;

	memset(&p, 0, sizeof(p));
	if (fstat(dirfd, &st) < 0 || wt_mount_id(dirfd, "", &p.mnt) < 0)
		return -1;
	p.dev = st.st_dev;
	p.rootfd = dirfd;
	p.jobs = jobs < 1 ? 1 : jobs;
	p.pause_after = e && *e ? atol(e) : 0;
	pthread_mutex_init(&p.mu, NULL);
	pthread_cond_init(&p.cv, NULL);
	/* The roots first, shared out as the workers start. */
	for (i = 0; i < n; i++) {
		if (fstatat(dirfd, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno != ENOENT)
				fail(&p, errno);
			continue;
		}
		if (S_ISDIR(st.st_mode))
			take_dir(&p, NULL, names[i], 1);
		else
			take_file(&p, NULL, names[i]);
	}
	th = wt_xmalloc(sizeof(*th) * (size_t)p.jobs);
	for (j = 1; j < p.jobs; j++)
		if (pthread_create(&th[j], NULL, worker, &p) == 0)
			started = j;
		else
			break;
	worker(&p);
	for (j = 1; j <= started; j++)
		pthread_join(th[j], NULL);
	free(th);
	free(p.q);
	pthread_mutex_destroy(&p.mu);
	pthread_cond_destroy(&p.cv);
	rs->files += p.files;
	rs->dirs += p.dirs;
	rs->bytes += p.bytes;
	rs->skipped += p.skipped;
	if (p.failed) {
		errno = p.first_errno;
		return -1;
	}
	return 0;
}

int
wt_trash_empty(int fd, int jobs, struct wt_rm_stats *rs)
{
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, i;
	int dfd = dup(fd), ret;
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
