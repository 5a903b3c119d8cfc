/* walk.c: unit tests of the walker (libcommon/walk.c), printing TAP. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "wt.h"
#include "tap.h"

struct count {
	long long files, dirs, links, bytes, maxfd, maxdepth, unique;
};

/* Open descriptors of this process, for the bound on them. */
static long long
nfds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	long long k = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)))
		k += e->d_name[0] != '.';
	closedir(d);
	return k;
}

struct opts {
	int away;               /* count the entries seen on another thread than the caller's */
	const char *prune;      /* a directory name not to read */
	const char *stop;       /* a file name that ends the walk */
	int slow;               /* sleep in each directory: the walk outlasts a wakeup */
	int fdprobe;
};

static pthread_t caller;
static atomic_int away;

static int
entry(const struct wt_walk_ent *e, void *arg)
{
	struct opts *o = arg;
	struct count *c = e->ctx;

	if (o->away && !pthread_equal(pthread_self(), caller))
		atomic_fetch_add(&away, 1);

	if (e->type == DT_DIR) {
		c->dirs++;
		if (e->depth > c->maxdepth)
			c->maxdepth = e->depth;
		if (o->fdprobe && c->dirs % 16 == 0) {
			long long k = nfds();

			if (k > c->maxfd)
				c->maxfd = k;
		}
		if (o->slow)
			usleep(200);
		if (o->prune && e->dir && strcmp(e->name, o->prune) == 0)
			return WT_WALK_PRUNE;
	} else if (e->type == DT_LNK) {
		c->links++;
	} else {
		c->files++;
		if (e->st && wt_walk_once(e->walk, e->st))
			c->unique++;
		if (o->stop && strcmp(e->name, o->stop) == 0)
			return WT_WALK_STOP;
	}
	if (e->st)
		c->bytes += e->st->st_size;
	return WT_WALK_CONTINUE;
}

static int walkflags;

static int
walk(const char *root, int threads, struct opts *o, struct count *sum, int *workers,
     long *errors)
{
	struct wt_walker *wk = wt_walker_new(threads);
	struct wt_walk_ops ops = { .entry = entry, .arg = o, .ctx_size = sizeof(struct count),
				   .flags = walkflags };
	struct wt_walk *w = wt_walk_new(&ops);
	int rc, i;

	memset(sum, 0, sizeof(*sum));
	rc = wt_walk_run(wk, w, root);
	if (workers)
		*workers = 0;
	for (i = 0; i < wt_walk_nslots(w); i++) {
		struct count *c = wt_walk_slot(w, i);

		sum->files += c->files;
		sum->dirs += c->dirs;
		sum->links += c->links;
		sum->bytes += c->bytes;
		sum->unique += c->unique;
		if (c->maxfd > sum->maxfd)
			sum->maxfd = c->maxfd;
		if (c->maxdepth > sum->maxdepth)
			sum->maxdepth = c->maxdepth;
		if (workers && c->dirs > 1)
			(*workers)++;
	}
	if (errors)
		*errors = wt_walk_errors(w);
	wt_walk_free(w);
	wt_walker_free(wk);
	return rc;
}

static void
put(int dirfd, const char *name, size_t size)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	char buf[512];

	if (fd < 0) {
		perror(name);
		exit(2);
	}
	memset(buf, 'x', sizeof(buf));
	while (size) {
		size_t k = size > sizeof(buf) ? sizeof(buf) : size;

		if (write(fd, buf, k) != (ssize_t)k)
			exit(2);
		size -= k;
	}
	close(fd);
}

static int
sub(int dirfd, const char *name)
{
	int fd;

	if (mkdirat(dirfd, name, 0755) < 0 && errno != EEXIST) {
		perror(name);
		exit(2);
	}
	if ((fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		perror(name);
		exit(2);
	}
	return fd;
}

/* nftw's count of the same tree: the reference. */
static long long ref_files, ref_dirs, ref_bytes;

static int
ref(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)p;
	(void)f;
	if (flag == FTW_D || flag == FTW_DP)
		ref_dirs++;
	else if (!S_ISLNK(st->st_mode))
		ref_files++;
	ref_bytes += st->st_size;
	return 0;
}

/*
 * A bind mount of the same filesystem inside a tree: same st_dev, another
 * mount id. The walk does not enter it, counts it, and reports no error.
 * 5 tests, skipped where mounting is not possible.
 */
static void
bind_mount(const char *top)
{
	struct wt_walker *wk;
	struct wt_walk *w;
	struct wt_walk_ops ops = { .entry = entry, .ctx_size = sizeof(struct count) };
	struct opts o;
	struct count c;
	char t[4096], src[4096], mnt[4096], cmd[3 * 4096];
	long mounts = -1;
	int fd, rc, threads;

	memset(&o, 0, sizeof(o));
	ops.arg = &o;
	snprintf(t, sizeof(t), "%s/bind", top);
	snprintf(src, sizeof(src), "%s/bind-src", top);
	snprintf(mnt, sizeof(mnt), "%s/bind/mnt", top);
	fd = sub(AT_FDCWD, t);
	close(sub(fd, "mnt"));
	put(fd, "f", 100);
	close(fd);
	fd = sub(AT_FDCWD, src);
	put(fd, "big", 100000);
	close(sub(fd, "d"));
	close(fd);
	snprintf(cmd, sizeof(cmd), "mount --bind '%s' '%s' 2>/dev/null", src, mnt);
	if (system(cmd) != 0) {
		skip(5, "mount --bind not permitted here");
		return;
	}
	for (threads = 1; threads <= 2; threads++) {
		rc = walk(t, threads, &o, &c, NULL, NULL);
		ok(rc == 0 && c.files == 1 && c.dirs == 1 && c.bytes < 100000,
		   "%d worker(s): a bind mount of the same filesystem is not entered", threads);
		if (c.files != 1 || c.dirs != 1)
			diag("%lld files, %lld directories", c.files, c.dirs);
	}
	wk = wt_walker_new(2);
	w = wt_walk_new(&ops);
	rc = wt_walk_run(wk, w, t);
	mounts = wt_walk_mounts(w);
	ok(rc == 0 && mounts == 1 && wt_walk_errors(w) == 0,
	   "it is counted as a mount, not as an error");
	wt_walk_free(w);
	wt_walker_free(wk);
	rc = walk(mnt, 1, &o, &c, NULL, NULL);
	ok(rc == 0 && c.files == 1 && c.dirs == 2, "a walk rooted on the mount walks it");
	snprintf(cmd, sizeof(cmd), "umount '%s'", mnt);
	if (system(cmd) != 0)
		diag("cannot unmount '%s'", mnt);
	rc = walk(t, 2, &o, &c, NULL, NULL);
	ok(rc == 0 && c.files == 1 && c.dirs == 2, "unmounted, the directory is walked");
}

/* The nested directories the walk told of, by name. */
static struct wt_buf nested_names;
static pthread_mutex_t nested_mu = PTHREAD_MUTEX_INITIALIZER;

static void
note_nested(const struct wt_walk_ent *e, void *arg)
{
	struct wt_buf name = WT_BUF_INIT;

	(void)arg;
	wt_walk_relpath(e->dir, e->name, &name);
	pthread_mutex_lock(&nested_mu);
	if (nested_names.len)
		wt_buf_addc(&nested_names, ' ');
	wt_buf_adds(&nested_names, name.s);
	pthread_mutex_unlock(&nested_mu);
	wt_buf_release(&name);
}

/*
 * A directory below the root holding a .git entry is another repository or
 * worktree: nothing of it is reported or entered, also when its listing
 * takes several getdents batches; the root's own .git is walked. 6 tests.
 */
static void
nested_repos(const char *top)
{
	struct wt_walker *wk;
	struct wt_walk *w;
	struct wt_walk_ops ops = { .entry = entry, .ctx_size = sizeof(struct count),
				   .nested = note_nested };
	struct opts o;
	struct count c;
	char t[4096], name[64];
	int root, fd, g, i, threads;

	memset(&o, 0, sizeof(o));
	ops.arg = &o;
	snprintf(t, sizeof(t), "%s/nest", top);
	root = sub(AT_FDCWD, t);
	close(sub(root, ".git"));               /* the root's own: walked */
	put(root, "top.txt", 10);
	fd = sub(root, "wt");                   /* a worktree: .git is a file */
	put(fd, ".git", 10);
	put(fd, "WIP.txt", 10);
	close(sub(fd, "deeper"));
	close(fd);
	fd = sub(root, "build");                /* a repository inside an artifact */
	g = sub(fd, "dep");
	close(sub(g, ".git"));
	put(g, "only-here.c", 10);
	close(g);
	put(fd, "out.o", 10);
	close(fd);
	/* A listing of several getdents batches, its .git among thousands. */
	fd = sub(root, "big");
	for (i = 0; i < 12000; i++) {
		snprintf(name, sizeof(name), "file-with-a-long-name-%05d", i);
		put(fd, name, 0);
	}
	put(fd, ".git", 10);
	close(fd);
	/* As long, with no .git: every entry once, none twice. */
	fd = sub(root, "plain");
	for (i = 0; i < 12000; i++) {
		snprintf(name, sizeof(name), "file-with-a-long-name-%05d", i);
		put(fd, name, 0);
	}
	close(fd);
	close(root);
	for (threads = 1; threads <= 2; threads++) {
		int k;

		wk = wt_walker_new(threads);
		w = wt_walk_new(&ops);
		wt_buf_reset(&nested_names);
		wt_walk_run(wk, w, t);
		memset(&c, 0, sizeof(c));
		for (k = 0; k < wt_walk_nslots(w); k++) {
			struct count *s = wt_walk_slot(w, k);

			c.files += s->files;
			c.dirs += s->dirs;
		}
		/* top.txt, out.o and plain's 12000; dirs: root, .git, wt, build, dep, big, plain. */
		is_int(c.files, 12002, "%d worker(s): files outside nested ones, each once", threads);
		is_int(c.dirs, 7, "%d worker(s): the nested directories are seen, not entered", threads);
		ok(wt_walk_nested(w) == 3 && strstr(nested_names.s, "wt") &&
		   strstr(nested_names.s, "build/dep") && strstr(nested_names.s, "big"),
		   "%d worker(s): three nested ones told of (%s)", threads, nested_names.s);
		wt_walk_free(w);
		wt_walker_free(wk);
	}
	wt_buf_release(&nested_names);
}

int
main(void)
{
	char name[32];
	struct wt_buf b = WT_BUF_INIT;
	struct count one, four;
	struct opts o;
	int root, a, fd, i, j, k, workers, rc;
	long errors;
	const char *top;

	wt_setprogname("walk");
	plan(32);
	top = scratch();
	root = open(top, O_RDONLY | O_DIRECTORY);

	/* A bushy tree: 24 directories of 16 directories of 6 files. */
	a = sub(root, "bushy");
	for (i = 0; i < 24; i++) {
		snprintf(name, sizeof(name), "d%d", i);
		fd = sub(a, name);
		for (j = 0; j < 16; j++) {
			int g;

			snprintf(name, sizeof(name), "e%d", j);
			g = sub(fd, name);
			for (k = 0; k < 6; k++) {
				snprintf(name, sizeof(name), "f%d", k);
				put(g, name, (size_t)(i + j + k));
			}
			close(g);
		}
		close(fd);
	}
	/* A link to a directory outside, and one to a file: never followed. */
	symlinkat("/usr", a, "out");
	symlinkat("d0/e0/f0", a, "tofile");
	/* Two names of one file. */
	put(a, "hard1", 4096);
	linkat(a, "hard1", a, "hard2", 0);
	close(a);
	wt_buf_addf(&b, "%s/bushy", top);
	nftw(b.s, ref, 64, FTW_PHYS);

	memset(&o, 0, sizeof(o));
	rc = walk(b.s, 1, &o, &one, NULL, &errors);
	is_int(rc, 0, "a walk in the caller's thread returns 0");
	is_int(one.files, ref_files, "files counted as nftw counts them");
	is_int(one.dirs, ref_dirs, "directories counted, the root included");
	is_int(one.bytes, ref_bytes, "sizes summed as nftw sums them");
	is_int(one.links, 2, "symbolic links are entries, not followed");
	is_int(one.unique, ref_files - 1, "a hard-linked inode is seen once");
	is_int(errors, 0, "no errors");

	o.slow = 1;
	rc = walk(b.s, 4, &o, &four, &workers, NULL);
	ok(rc == 0 && four.files == one.files && four.dirs == one.dirs &&
	   four.bytes == one.bytes && four.unique == one.unique,
	   "four workers count the same");
	ok(workers >= 2, "one tree is shared between workers");
	if (workers < 2)
		diag("%d worker(s) did the walk", workers);

	walkflags = WT_WALK_INODE_ORDER;
	memset(&o, 0, sizeof(o));
	rc = walk(b.s, 3, &o, &four, NULL, NULL);
	ok(rc == 0 && four.files == one.files && four.dirs == one.dirs &&
	   four.bytes == one.bytes && four.unique == one.unique,
	   "in inode order, the same");
	walkflags = 0;

	memset(&o, 0, sizeof(o));
	o.prune = "d3";
	walk(b.s, 2, &o, &four, NULL, NULL);
	is_int(four.files, one.files - 16 * 6, "a pruned directory is not read");
	is_int(four.dirs, one.dirs - 16, "it is seen, what is inside is not");

	memset(&o, 0, sizeof(o));
	o.stop = "f5";
	rc = walk(b.s, 2, &o, &four, NULL, NULL);
	ok(rc == 1 && four.files < one.files, "a callback can stop the walk");

	/*
	 * Deep: 1500 levels in one chain, and a deep tree where every level
	 * keeps siblings to come back to, beyond the descriptor budget.
	 */
	a = sub(root, "deep");
	for (i = 0; i < 1500; i++) {
		fd = sub(a, "level-of-a-deep-tree");
		put(fd, "f", 1);
		close(a);
		a = fd;
	}
	close(a);
	wt_buf_reset(&b);
	wt_buf_addf(&b, "%s/deep", top);
	memset(&o, 0, sizeof(o));
	o.fdprobe = 1;
	rc = walk(b.s, 2, &o, &four, NULL, &errors);
	ok(rc == 0 && four.files == 1500 && four.dirs == 1501 && errors == 0,
	   "1500 levels deep, paths over PATH_MAX");
	is_int(four.maxdepth, 1500, "depth counted");
	ok(four.maxfd < 40, "a chain keeps few descriptors open");
	diag("at most %lld descriptors open", four.maxfd);

	a = sub(root, "wide");
	for (i = 0; i < 400; i++) {
		int s1 = sub(a, "s1"), s2 = sub(a, "s2");

		put(s1, "f", 1);
		close(s1);
		close(a);
		a = s2;
		(void)s1;
		put(a, "g", 2);
		fd = sub(a, "s0");
		close(fd);
	}
	close(a);
	wt_buf_reset(&b);
	wt_buf_addf(&b, "%s/wide", top);
	ref_files = ref_dirs = ref_bytes = 0;
	nftw(b.s, ref, 16, FTW_PHYS);
	rc = walk(b.s, 2, &o, &four, NULL, &errors);
	ok(rc == 0 && four.files == ref_files && four.dirs == ref_dirs && errors == 0,
	   "a deep tree with siblings at every level: all seen");
	ok(four.maxfd < 2 * 64 + 40, "descriptors stay under the budget");
	diag("at most %lld descriptors open over %lld levels", four.maxfd,
	     four.maxdepth);

	/* Paths on demand: the deep tree's leaf is over PATH_MAX. */
	{
		struct wt_buf p = WT_BUF_INIT;

		wt_walk_path(NULL, "/x/y", &p);
		wt_buf_adds(&p, "|");
		wt_walk_relpath(NULL, "/x/y", &p);
		is_str(p.s, "/x/y|", "the root's path and relative path");
		wt_buf_release(&p);
	}
	/*
	 * A small tree, a worktree of a few files and one directory, is walked
	 * in the caller's thread: handing it to a worker and waiting costs more
	 * than walking it (two wake-ups and two thread switches).
	 */
	a = sub(root, "small");
	for (k = 0; k < 10; k++) {
		snprintf(name, sizeof(name), "f%d", k);
		put(a, name, 2);
	}
	fd = sub(a, "node_modules");
	put(fd, "i.js", 2);
	close(fd);
	close(a);
	wt_buf_reset(&b);
	wt_buf_addf(&b, "%s/small", top);
	memset(&o, 0, sizeof(o));
	o.away = 1;
	caller = pthread_self();
	rc = walk(b.s, 4, &o, &four, NULL, &errors);
	ok(rc == 0 && four.files == 11 && four.dirs == 2 && atomic_load(&away) == 0,
	   "a small tree is walked in the caller's thread");
	if (atomic_load(&away))
		diag("%d entries seen on a worker", atomic_load(&away));
	memset(&o, 0, sizeof(o));

	errno = 0;
	rc = walk("/nonexistent/wt-walk", 2, &o, &four, NULL, NULL);
	ok(rc == -1 && errno == ENOENT, "a missing root is -1 with errno");

	bind_mount(top);
	nested_repos(top);
	wt_buf_release(&b);
	close(root);
	return done_testing();
}
