/* rmtree.c: the one removal of trees, serial or by parallel workers, that cannot escape its tree. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wt.h"

#define DENTS_BUF (64 * 1024)

/*
 * Every removal is this one engine; wt_rmtree_at and wt_rmtree_verified are
 * runs with one worker, the caller's thread. A node is a directory being
 * removed: it holds an open descriptor while anything below it is left, and
 * a count of what is pending (its own listing, and each child directory not
 * yet removed). The worker that brings the count to zero removes the
 * directory and gives its parent one less. Workers share directories through
 * a stack while some are idle, and otherwise go down on their own.
 *
 * The rules, each in one place: entries are removed with unlinkat relative
 * to their directory's descriptor, a directory is opened with O_NOFOLLOW (a
 * link is removed as itself, never followed); a directory on another device
 * or mount than the run's root is never entered (take_dir); a file frees its
 * blocks only when it was its last link (take); the .git entry of a
 * verified worktree goes last (finish).
 */
struct node {
	struct node *parent;    /* NULL: the caller's directory */
	int fd;
	atomic_long pending;
	atomic_int broken;          /* something below stays: it cannot go */
	int git_last;               /* a verified top: GIT_LAST_* */
	int swept;                  /* listed again once after ENOTEMPTY */
	unsigned long long blocks;
	char name[];
};

/* A verified worktree's top: relisted without .git, then .git, then itself. */
enum { GIT_LAST_NO, GIT_LAST_RELIST, GIT_LAST_GIT };

struct prm {
	pthread_mutex_t mu, linkmu;
	pthread_cond_t cv;
	struct node **q;
	size_t n, cap;
	int busy, idle, jobs;
	int rootfd;
	dev_t dev;
	uint64_t mnt;
	char *modules;              /* a verified worktree's submodule repositories */
	atomic_ullong files, dirs, bytes, skipped;
	atomic_int failed, first_errno, paused;
	long pause_after;
};

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

/* Removals run on several threads at once: once for all of them. */
static void
raise_nofile(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, raise_nofile_once);
}

static void
fail(struct prm *p, int e)
{
	int zero = 0;

	atomic_store(&p->failed, 1);
	atomic_compare_exchange_strong(&p->first_errno, &zero, e ? e : EIO);
}

/* Something in nd (NULL: the caller's directory) stays, for reason e. */
static void
broke(struct prm *p, struct node *nd, int e)
{
	fail(p, e);
	if (nd)
		atomic_store(&nd->broken, 1);
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

/* A directory, open as fd, joins the removal: shared, or gone down into. */
static void
add_dir(struct prm *p, struct node *parent, const char *name, int fd,
	const struct stat *st, int root, int git_last)
{
	struct node *nd;
	size_t len = strlen(name);
	int share = 0;

	nd = wt_xmalloc(sizeof(*nd) + len + 1);
	nd->parent = parent;
	nd->fd = fd;
	nd->blocks = (unsigned long long)st->st_blocks;
	nd->git_last = git_last ? GIT_LAST_RELIST : GIT_LAST_NO;
	nd->swept = 0;
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

static void take(struct prm *p, struct node *nd, const char *name, int root);

/* A directory entry found in parent (NULL: the caller's directory). */
static void
take_dir(struct prm *p, struct node *parent, const char *name, int root)
{
	struct stat st;
	uint64_t m;
	int pfd = parent ? parent->fd : p->rootfd, fd;

	fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		/* Not a directory after all (changed under us): remove the entry. */
		if (errno == ENOTDIR || errno == ELOOP)
			take(p, parent, name, root);
		else if (errno != ENOENT)
			broke(p, parent, errno);
		return;
	}
	if (wt_stat_mount(fd, "", &st, &m) < 0) {
		broke(p, parent, errno);
		close(fd);
		return;
	}
	if (st.st_dev != p->dev || m != p->mnt) {
		/* A mount point: another filesystem, or a bind mount, is never entered. */
		p->skipped++;
		broke(p, parent, EXDEV);
		close(fd);
		return;
	}
	/*
	 * Below what the caller named, a directory with a .git entry is
	 * another repository or worktree: never removed with its parent.
	 */
	if (!root && faccessat(fd, ".git", F_OK, AT_SYMLINK_NOFOLLOW) == 0 &&
	    !(p->modules && wt_git_own_submodule(fd, p->modules))) {
		p->skipped++;
		broke(p, parent, EBUSY);
		close(fd);
		return;
	}
	add_dir(p, parent, name, fd, &st, root, 0);
}

/* Any entry: a directory goes to take_dir, anything else is unlinked as itself. */
static void
take(struct prm *p, struct node *nd, const char *name, int root)
{
	struct stat st;
	unsigned long long n;
	int dfd = nd ? nd->fd : p->rootfd, rc;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno != ENOENT)
			broke(p, nd, errno);
		return;
	}
	if (S_ISDIR(st.st_mode)) {
		/* A directory after all (changed under us, or no d_type). */
		take_dir(p, nd, name, root);
		return;
	}
	/*
	 * Only the last link frees the blocks. Two workers could each see the
	 * other's link of one file and count neither: for a file with links,
	 * the count read and the unlink go together, one worker at a time.
	 */
	if (st.st_nlink > 1) {
		pthread_mutex_lock(&p->linkmu);
		if ((rc = fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW)) == 0)
			rc = unlinkat(dfd, name, 0);
		pthread_mutex_unlock(&p->linkmu);
	} else {
		rc = unlinkat(dfd, name, 0);
	}
	if (rc < 0) {
		if (errno != ENOENT)
			broke(p, nd, errno);
		return;
	}
	n = ++p->files;
	if (st.st_nlink == 1)
		p->bytes += (unsigned long long)st.st_blocks * 512;
	maybe_pause(p, n);
}

/* Takes every entry of nd from its descriptor's offset on (but .git when skip_git). */
static void
list(struct prm *p, struct node *nd, int skip_git)
{
	char *buf = wt_xmalloc(DENTS_BUF);
	ssize_t n, off;

	while ((n = getdents64(nd->fd, buf, DENTS_BUF)) > 0) {
		for (off = 0; off < n;) {
			struct dirent64 *de = (struct dirent64 *)(void *)(buf + off);
			const char *name = de->d_name;

			off += de->d_reclen;
			if (name[0] == '.' && (!name[1] || (name[1] == '.' && !name[2])))
				continue;
			if (skip_git && strcmp(name, ".git") == 0)
				continue;
			/* d_type is trusted; take stats an unknown one. */
			if (de->d_type == DT_DIR)
				take_dir(p, nd, name, 0);
			else
				take(p, nd, name, 0);
		}
	}
	if (n < 0)
		broke(p, nd, errno);
	free(buf);
}

/*
 * nd's pending count is zero and nothing in it is known to stay. Returns 1
 * when more of it was taken on (its count is one again, for this call to
 * give back), 0 when it is done with (removed, or failed).
 */
static int
finish(struct prm *p, struct node *nd)
{
	struct node *parent = nd->parent;
	int e;

	if (nd->git_last == GIT_LAST_RELIST) {
		/*
		 * A verified top: once all else is gone, a last listing (a
		 * concurrent one can miss entries), and only then its .git, so a
		 * removal cut short leaves a tree that git and wt still recognise
		 * as the same worktree, and can finish.
		 */
		nd->git_last = GIT_LAST_GIT;
		atomic_store(&nd->pending, 1);
		if (lseek(nd->fd, 0, SEEK_SET) < 0)
			broke(p, nd, errno);
		else
			list(p, nd, 1);
		return 1;
	}
	if (nd->git_last == GIT_LAST_GIT) {
		nd->git_last = GIT_LAST_NO;
		atomic_store(&nd->pending, 1);
		take(p, nd, ".git", 0);
		return 1;
	}
	if (unlinkat(parent ? parent->fd : p->rootfd, nd->name, AT_REMOVEDIR) == 0) {
		p->dirs++;
		p->bytes += nd->blocks * 512;
		return 0;
	}
	e = errno;
	if ((e == ENOTEMPTY || e == EEXIST) && !nd->swept && lseek(nd->fd, 0, SEEK_SET) == 0) {
		/* Entries a concurrent listing missed: one more pass. */
		nd->swept = 1;
		atomic_store(&nd->pending, 1);
		list(p, nd, 0);
		return 1;
	}
	if (e != ENOENT)
		broke(p, parent, e);
	return 0;
}

/* Brings nd's pending count down by one; the last finishes it, and so on upwards. */
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
		} else if (finish(p, nd)) {
			continue;
		}
		close(nd->fd);
		free(nd);
		nd = parent;
	}
}

/* Removes everything in nd (children directories maybe by other workers), then releases it. */
static void
process(struct prm *p, struct node *nd)
{
	list(p, nd, nd->git_last != GIT_LAST_NO);
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

/*
 * The run: names[0..n) inside dirfd, or, when t is not NULL, the one name
 * names[0] that must be t's top, open as topfd. The run stays on the device
 * and mount of dirfd, or of the verified top.
 */
static int
run(int dirfd, const char *const *names, size_t n, int jobs,
    const struct wt_target *t, int topfd, struct wt_rm_stats *rs)
{
	struct prm p;
	struct stat st;
	pthread_t *th;
	const char *e = getenv("WT_TEST_PAUSE_AFTER");
	size_t i;
	int j, started = 0;

	raise_nofile();
	memset(&p, 0, sizeof(p));
	if (wt_stat_mount(t ? topfd : dirfd, "", &st, &p.mnt) < 0) {
		if (t)
			close(topfd);
		return -1;
	}
	p.dev = st.st_dev;
	p.rootfd = dirfd;
	/* A worktree's own submodules go with it; their repositories are checked before. */
	if (t) {
		struct wt_buf m = WT_BUF_INIT;

		wt_buf_addf(&m, "%s/modules", t->admin);
		p.modules = realpath(m.s, NULL);
		wt_buf_release(&m);
	}
	p.jobs = jobs < 1 ? 1 : jobs;
	p.pause_after = e && *e ? atol(e) : 0;
	pthread_mutex_init(&p.mu, NULL);
	pthread_mutex_init(&p.linkmu, NULL);
	pthread_cond_init(&p.cv, NULL);
	/* The roots first, shared out as the workers start. */
	if (t)
		add_dir(&p, NULL, names[0], topfd, &st, 1, 1);
	else
		for (i = 0; i < n; i++)
			take(&p, NULL, names[i], 1);
	th = wt_xmalloc(sizeof(*th) * (size_t)p.jobs);
	for (j = 1; j < p.jobs && p.n > 0; j++)
		if (pthread_create(&th[j], NULL, worker, &p) == 0)
			started = j;
		else
			break;
	worker(&p);
	for (j = 1; j <= started; j++)
		pthread_join(th[j], NULL);
	free(th);
	free(p.q);
	free(p.modules);
	pthread_mutex_destroy(&p.mu);
	pthread_mutex_destroy(&p.linkmu);
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
wt_rmtree_parallel(int dirfd, const char *const *names, size_t n, int jobs,
		   struct wt_rm_stats *rs)
{
	return run(dirfd, names, n, jobs, NULL, -1, rs);
}

int
wt_rmtree_at(int dirfd, const char *name, struct wt_rm_stats *rs)
{
	return run(dirfd, &name, 1, 1, NULL, -1, rs);
}

int
wt_rmtree_verified(const struct wt_target *t, struct wt_rm_stats *rs)
{
	struct stat st;
	char *parent = wt_xstrdup(t->path), *slash = strrchr(parent, '/');
	const char *name = slash + 1;
	int pfd, fd = -1, ret = -1;

	*slash = '\0';
	pfd = open(*parent ? parent : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pfd < 0)
		goto out;
	/* The directory must still be the one verified, not a swapped-in link. */
	fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOTDIR || errno == ELOOP)
			errno = ESTALE;
		goto out;
	}
	if (fstat(fd, &st) < 0)
		goto out;
	if (st.st_dev != t->dev || st.st_ino != t->ino) {
		errno = ESTALE;
		goto out;
	}
	ret = run(pfd, &name, 1, 1, t, fd, rs);
	fd = -1;        /* run's now */
out:
	if (fd >= 0)
		close(fd);
	if (pfd >= 0)
		close(pfd);
	free(parent);
	return ret;
}
