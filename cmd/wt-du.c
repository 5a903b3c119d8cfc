/* wt-du: disk usage of every worktree, with its recreatable artifacts. */
#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wt.h"

#define MAXKINDS 64

/*
 * A worker's counts for one walk. Only that worker writes them; the progress
 * line reads them while it runs, hence relaxed atomics (plain loads and
 * stores on every machine wt runs on).
 */
struct counts {
	_Atomic long long size, apparent, files, dirs;
	long long art[MAXKINDS];
	long long unique, art_unique;   /* settled by wt_freed_add */
};

/* One worktree being measured. */
struct du {
	char *root, *admin, *id;
	char *modules;              /* the admin's modules/: own submodules count */
	pthread_mutex_t mu;
	struct wt_buf poisoned;     /* artifacts holding a repository: kind byte, path, NUL */
	struct wt_walk *walk;
	struct wt_artifacts *arts;  /* what is recreatable, asked of git on first need */
	struct wt_freed *all, *art; /* what removing it, or its artifacts, frees */
	struct du *next;            /* in the list the progress line reads */
};

static struct {
	int nocache, quiet, walkflags;
	long long warn, crit;
	long ttl;
	time_t now;
	char *cachedir;
	struct wt_walker *wk;
	const char *const *kinds;
	int nkinds;
} opt;

/* The walks in progress and the totals of those done, for the progress line. */
static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct du *active;
	long long files, bytes;
	int quit, showing;
	char current[256];
} prog = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, 0, 0, 0, 0, "" };

static const char usage_text[] =
	"usage: wt-du [-Cq] [-c size] [-I depth] [-j jobs] [-w size]\n"
	"       wt-du -h | --help | --version\n"
	"  -C                 ignore the cache: measure every worktree\n"
	"  -c size            the critical size, such as 2G (default size_critical)\n"
	"  -I depth           walk with depth threads, in inode order (1 to 256)\n"
	"  -j jobs            measure up to jobs worktrees at once (1 to 256)\n"
	"  -q                 no progress line\n"
	"  -w size            the warning size, such as 500M (default size_warning)\n"
	"  -h, --help         print this usage and exit\n"
	"      --version      print the version and exit\n";

static void
usage(void)
{
	wt_usage(usage_text);
}

static void
bump(_Atomic long long *v, long long n)
{
	atomic_store_explicit(v, atomic_load_explicit(v, memory_order_relaxed) + n,
			      memory_order_relaxed);
}

static int
kind_index(const char *kind)
{
	int i;

	for (i = 0; i < opt.nkinds; i++)
		if (strcmp(opt.kinds[i], kind) == 0)
			return i;
	return -1;
}

/*
 * Counts one entry. What libcommon's rule says is recreatable is an artifact
 * (wt-prune would remove it); what is inside an artifact counts for its kind
 * (the directory's tag is the kind's index + 1).
 */
static int
entry(const struct wt_walk_ent *e, void *arg)
{
	struct du *du = arg;
	struct counts *c = e->ctx;
	const struct stat *st = e->st;
	const char *k;
	uintptr_t kind = e->ptag;
	long long bytes;
	int i;

	if (!st)
		return WT_WALK_CONTINUE;
	c->unique += wt_freed_add(du->all, st, 1);
	if (e->type == DT_DIR) {
		bump(&c->dirs, 1);
		if (!kind && (k = wt_artifact_entry(du->arts, e)) && (i = kind_index(k)) >= 0)
			kind = (uintptr_t)i + 1;
		if (e->tag)
			*e->tag = kind;
		if (kind)
			c->art_unique += wt_freed_add(du->art, st, 1);
	} else {
		if (!kind && (k = wt_artifact_entry(du->arts, e)) && (i = kind_index(k)) >= 0)
			kind = (uintptr_t)i + 1;
		/* Every name counts toward what a removal frees, only the first here. */
		if (kind)
			c->art_unique += wt_freed_add(du->art, st, 1);
		if (!wt_walk_once(e->walk, st))
			return WT_WALK_CONTINUE;
		bump(&c->files, 1);
	}
	bytes = (long long)st->st_blocks * 512;
	bump(&c->size, bytes);
	bump(&c->apparent, (long long)st->st_size);
	if (kind)
		c->art[kind - 1] += bytes;
	return WT_WALK_CONTINUE;
}

/*
 * A repository or worktree inside an artifact makes the artifact not
 * recreatable (wt-prune leaves it whole): its top is noted, to be taken out
 * of its kind once the walk is done. Elsewhere it is not counted: it is
 * measured on its own.
 */
static void
nested_in(const struct wt_walk_ent *e, void *arg)
{
	struct du *du = arg;
	const struct wt_walk_dir *d = e->dir, *up;
	struct wt_buf rel = WT_BUF_INIT;
	size_t off;

	if (!e->ptag || !d)
		return;
	while ((up = wt_walk_dir_parent(d)) && wt_walk_dir_tag(up) == e->ptag)
		d = up;
	wt_walk_relpath(wt_walk_dir_parent(d), wt_walk_dir_name(d), &rel);
	pthread_mutex_lock(&du->mu);
	for (off = 0; off < du->poisoned.len; off += strlen(du->poisoned.s + off) + 1)
		if (strcmp(du->poisoned.s + off + 1, rel.s) == 0)
			break;
	if (off >= du->poisoned.len) {
		wt_buf_addc(&du->poisoned, (int)e->ptag);
		wt_buf_add(&du->poisoned, rel.s, rel.len + 1);
	}
	pthread_mutex_unlock(&du->mu);
	wt_buf_release(&rel);
}

/* What could not be read is named on stderr, below the progress line. */
static void
walk_error(const struct wt_walk_ent *e, const char *what, int errnum, void *arg)
{
	struct wt_buf b = WT_BUF_INIT;

	(void)arg;
	wt_walk_path(e->dir, e->name, &b);
	pthread_mutex_lock(&prog.mu);
	if (prog.showing)
		fputs("\r\033[K", stderr);
	warnx("cannot %s '%s': %s", what, b.s, strerror(errnum));
	pthread_mutex_unlock(&prog.mu);
	wt_buf_release(&b);
}

static int
want(const struct wt_rec *r, void *arg)
{
	int t = wt_rec_find(r, "path");

	(void)arg;
	return wt_rec_tok_is_string(r, t) && !wt_rec_has_error(r) &&
	       !wt_rec_is_archived(r);
}

/* "inode.mtime-ns:size" of a file, or "-" when it is not there. */
static void
stamp(struct wt_buf *b, const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		wt_buf_adds(b, "-;");
	else
		wt_buf_addf(b, "%llu.%lld.%09ld:%lld;", (unsigned long long)st.st_ino,
			    (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
			    (long long)st.st_size);
}

/*
 * What the cached answer depends on besides the files and time: what git
 * tracks in the worktree (its index), which says which artifacts are
 * recreatable. Taken by stat: git replaces the index through a lock file
 * and a rename, so a new version is another inode, or has another
 * modification time or size, but for two writes within one tick of the
 * clock that leave the size and get back the inode freed by the first.
 * Nothing measured depends on HEAD or the commit: a checkout that changes
 * files writes the index, a commit that changes neither (an empty one, a
 * reset --soft) changes nothing measured.
 */
static void
fingerprint(const char *admin, struct wt_buf *fp)
{
	struct wt_buf p = WT_BUF_INIT;

	if (!admin) {
		wt_buf_adds(fp, "no-git");
		return;
	}
	wt_buf_addf(&p, "%s/index", admin);
	stamp(fp, p.s);
	wt_buf_release(&p);
}

/* The fields wt-du owns and keeps in the cache, in the order they are written. */
static const char *const measured[] = {
	"size", "apparent_size", "files", "dirs", "artifacts", "artifact_size",
	"unique_size", "artifact_unique_size", "du_at", "du_errors", NULL
};

static void
apply(struct wt_rec *r, const struct wt_rec *f)
{
	const char *raw;
	size_t i, n;

	for (i = 0; measured[i]; i++)
		if ((raw = wt_rec_raw(f, measured[i], &n)))
			wt_rec_set_raw(r, measured[i], raw, n);
}

/*
 * The cache: one file, cache/du.ndjson, a line per worktree keyed by the
 * device and inode of its top. It is read once when the run starts and
 * written once when it ends (through a temporary file and a rename): the
 * answers of this run, then those of before that are still fresh.
 */
struct centry {
	unsigned long long dev, ino;
	char *line;                 /* the whole line, NUL-terminated */
	int fresh;                  /* written by this run */
};

static struct {
	pthread_mutex_t mu;
	struct centry *old;         /* from the file, sorted by key; read only */
	size_t nold;
	struct centry *new;
	size_t nnew;
	int changed;
} cache = { PTHREAD_MUTEX_INITIALIZER, NULL, 0, NULL, 0, 0 };

static int
by_key(const void *a, const void *b)
{
	const struct centry *x = a, *y = b;

	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	return x->ino < y->ino ? -1 : x->ino > y->ino;
}

static void
cache_path(struct wt_buf *b)
{
	wt_buf_addf(b, "%s/du.ndjson", opt.cachedir);
}

/*
 * A line's key and time from its start, {"dev":D,"ino":I,"at":A, as
 * cache_put writes it: 0, or -1 when the line does not start so (a line of
 * an older wt-du, whose fingerprint would not match either).
 */
static int
line_key(const char *s, unsigned long long *dev, unsigned long long *ino, long long *at)
{
	static const char *const names[] = { "{\"dev\":", ",\"ino\":", ",\"at\":" };
	unsigned long long v[3];
	char *end;
	size_t i, n;

	for (i = 0; i < 3; i++) {
		n = strlen(names[i]);
		if (strncmp(s, names[i], n) != 0 || s[n] < '0' || s[n] > '9')
			return -1;
		errno = 0;
		v[i] = strtoull(s + n, &end, 10);
		if (errno)
			return -1;
		s = end;
	}
	*dev = v[0];
	*ino = v[1];
	*at = (long long)v[2];
	return *s == ',' ? 0 : -1;
}

/* Reads the cache file into cache.old: its fresh lines, by key. */
static void
cache_load(void)
{
	struct wt_buf name = WT_BUF_INIT;
	struct centry e;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	unsigned long long dev, ino;
	long long at;
	FILE *f;

	cache_path(&name);
	if (!(f = fopen(name.s, "re"))) {
		wt_buf_release(&name);
		return;
	}
	while ((n = getline(&line, &cap, f)) > 0) {
		if (line[n - 1] == '\n')
			line[--n] = '\0';
		if (line_key(line, &dev, &ino, &at) < 0 ||
		    (time_t)at > opt.now || opt.now - (time_t)at >= opt.ttl)
			continue;
		e.dev = dev;
		e.ino = ino;
		e.line = wt_xstrndup(line, (size_t)n);
		e.fresh = 0;
		cache.old = wt_xrealloc(cache.old, (cache.nold + 1) * sizeof(*cache.old));
		cache.old[cache.nold++] = e;
	}
	fclose(f);
	free(line);
	wt_buf_release(&name);
	if (cache.nold)
		qsort(cache.old, cache.nold, sizeof(*cache.old), by_key);
}

/*
 * A cached answer for the worktree whose root is st: fresh (younger than
 * cache_ttl), for the same path, with the same fingerprint. 1 with f filled.
 */
static int
cache_get(const struct stat *st, const char *path, const char *fp, struct wt_rec *f)
{
	struct centry key = { (unsigned long long)st->st_dev, (unsigned long long)st->st_ino,
			      NULL, 0 }, *e;
	struct wt_rec c = WT_REC_INIT;
	char *s = NULL;
	const char *raw;
	size_t n;
	int hit = 0;

	if (!cache.nold ||
	    !(e = bsearch(&key, cache.old, cache.nold, sizeof(*cache.old), by_key)) ||
	    wt_rec_parse(&c, e->line, strlen(e->line), NULL) < 0)
		goto out;
	if (!(s = wt_rec_str(&c, "path")) || strcmp(s, path) != 0)
		goto out;
	free(s);
	if (!(s = wt_rec_str(&c, "fp")) || strcmp(s, fp) != 0)
		goto out;
	if (!(raw = wt_rec_raw(&c, "fields", &n)) || wt_rec_parse(f, raw, n, NULL) < 0)
		goto out;
	hit = 1;
out:
	free(s);
	wt_rec_release(&c);
	return hit;
}

/* Keeps this run's answer for the cache file written at the end. */
static void
cache_put(const struct stat *st, const char *path, const char *fp,
	  const struct wt_rec *f)
{
	struct wt_obj o;
	struct centry e;
	char num[24];

	wt_obj_init(&o);
	/* The key and the time first: cache_load reads them without a parse. */
	snprintf(num, sizeof(num), "%llu", (unsigned long long)st->st_dev);
	wt_obj_raw(&o, "dev", num, strlen(num));
	snprintf(num, sizeof(num), "%llu", (unsigned long long)st->st_ino);
	wt_obj_raw(&o, "ino", num, strlen(num));
	wt_obj_int(&o, "at", (long long)opt.now);
	wt_obj_str(&o, "path", path);
	wt_obj_str(&o, "fp", fp);
	wt_obj_raw(&o, "fields", f->line, f->len);
	e.dev = (unsigned long long)st->st_dev;
	e.ino = (unsigned long long)st->st_ino;
	e.line = wt_xstrdup(wt_obj_text(&o, NULL));
	e.fresh = 1;
	wt_obj_release(&o);
	pthread_mutex_lock(&cache.mu);
	cache.new = wt_xrealloc(cache.new, (cache.nnew + 1) * sizeof(*cache.new));
	cache.new[cache.nnew++] = e;
	cache.changed = 1;
	pthread_mutex_unlock(&cache.mu);
}

/* Writes the cache file once: this run's answers, then the older fresh ones. */
static void
cache_write(void)
{
	struct wt_buf name = WT_BUF_INIT, tmp = WT_BUF_INIT;
	size_t i;
	FILE *f = NULL;
	int fd;

	if (!cache.changed)
		goto out;
	qsort(cache.new, cache.nnew, sizeof(*cache.new), by_key);
	cache_path(&name);
	wt_buf_addf(&tmp, "%s/.du.XXXXXX", opt.cachedir);
	if ((fd = mkstemp(tmp.s)) < 0 && errno == ENOENT && wt_mkdirs(opt.cachedir, 0700) == 0) {
		wt_buf_reset(&tmp);
		wt_buf_addf(&tmp, "%s/.du.XXXXXX", opt.cachedir);
		fd = mkstemp(tmp.s);
	}
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		warn("cannot write in the cache '%s'", opt.cachedir);
		if (fd >= 0) {
			close(fd);
			unlink(tmp.s);
		}
		goto out;
	}
	for (i = 0; i < cache.nnew; i++) {
		fputs(cache.new[i].line, f);
		putc('\n', f);
	}
	for (i = 0; i < cache.nold; i++)
		if (!bsearch(&cache.old[i], cache.new, cache.nnew, sizeof(*cache.new), by_key)) {
			fputs(cache.old[i].line, f);
			putc('\n', f);
		}
	if (fflush(f) == EOF || ferror(f) || fclose(f) == EOF || rename(tmp.s, name.s) < 0) {
		warn("cannot write the cache '%s'", name.s);
		unlink(tmp.s);
	}
out:
	for (i = 0; i < cache.nold; i++)
		free(cache.old[i].line);
	for (i = 0; i < cache.nnew; i++)
		free(cache.new[i].line);
	free(cache.old);
	free(cache.new);
	wt_buf_release(&name);
	wt_buf_release(&tmp);
}

static void
prog_add(struct du *du)
{
	char *id = du->id ? du->id : du->root;

	pthread_mutex_lock(&prog.mu);
	du->next = prog.active;
	prog.active = du;
	snprintf(prog.current, sizeof(prog.current), "%s", id);
	pthread_mutex_unlock(&prog.mu);
}

static void
prog_del(struct du *du, long long files, long long bytes)
{
	struct du **p;

	pthread_mutex_lock(&prog.mu);
	for (p = &prog.active; *p; p = &(*p)->next)
		if (*p == du) {
			*p = du->next;
			break;
		}
	prog.files += files;
	prog.bytes += bytes;
	pthread_mutex_unlock(&prog.mu);
}

/*
 * Measures a worktree, its top open at fd (the walk closes it), with the
 * walker; fills f with the fields. 0 or -1 (errno).
 */
static int
measure(struct du *du, int fd, struct wt_rec *f)
{
	struct wt_walk_ops ops = { .entry = entry, .error = walk_error, .arg = du,
				   .ctx_size = sizeof(struct counts), .flags = opt.walkflags,
				   .nested = nested_in, .modules = du->modules };
	struct wt_obj o;
	struct counts *c;
	long long size = 0, apparent = 0, files = 0, dirs = 0, art[MAXKINDS], asum = 0;
	long long unique = 0, aunique = 0;
	const char *text;
	size_t n, off;
	int i, k, rc, e;
	char t[40];

	memset(art, 0, sizeof(art));
	du->walk = wt_walk_new(&ops);
	du->all = wt_freed_new();
	du->art = wt_freed_new();
	prog_add(du);
	rc = wt_walk_run_fd(opt.wk, du->walk, du->root, fd);
	e = errno;
	for (i = 0; rc >= 0 && i < wt_walk_nslots(du->walk); i++) {
		c = wt_walk_slot(du->walk, i);
		size += c->size;
		apparent += c->apparent;
		files += c->files;
		dirs += c->dirs;
		unique += c->unique;
		aunique += c->art_unique;
		for (k = 0; k < opt.nkinds; k++)
			art[k] += c->art[k];
	}
	prog_del(du, files, size);
	if (rc < 0) {
		errno = e;
		return -1;
	}
	/* The artifacts holding a repository are none: their bytes leave their kind. */
	for (off = 0; off < du->poisoned.len; off += strlen(du->poisoned.s + off) + 1) {
		struct wt_buf p = WT_BUF_INIT;
		long long u;
		int err;

		k = (unsigned char)du->poisoned.s[off] - 1;
		wt_buf_addf(&p, "%s/%s", du->root, du->poisoned.s + off + 1);
		if (k < opt.nkinds && (u = wt_walk_usage(opt.wk, p.s, NULL)) > 0)
			art[k] = art[k] > u ? art[k] - u : 0;
		/* Its names stay: what they settled is taken back, their links too. */
		aunique += wt_walk_freed_add(opt.wk, du->art, p.s, -1, &err);
		wt_buf_release(&p);
	}
	unique += wt_freed_links(du->all);
	aunique += wt_freed_links(du->art);
	wt_obj_init(&o);
	wt_obj_int(&o, "size", size);
	wt_obj_int(&o, "apparent_size", apparent);
	wt_obj_int(&o, "files", files);
	wt_obj_int(&o, "dirs", dirs);
	wt_obj_open(&o, "artifacts");
	for (k = 0; k < opt.nkinds; k++) {
		if (!art[k])
			continue;
		wt_obj_int(&o, opt.kinds[k], art[k]);
		asum += art[k];
	}
	wt_obj_close(&o);
	wt_obj_int(&o, "artifact_size", asum);
	wt_obj_int(&o, "unique_size", unique);
	wt_obj_int(&o, "artifact_unique_size", aunique > 0 ? aunique : 0);
	wt_obj_str(&o, "du_at", wt_time_fmt(opt.now, t));
	wt_obj_int(&o, "du_errors", wt_walk_errors(du->walk));
	text = wt_obj_text(&o, &n);
	if (wt_rec_parse(f, text, n, NULL) < 0)
		errx(WT_EXIT_FATAL, "internal error: bad fields %s", text);
	wt_obj_release(&o);
	return 0;
}

static const char *
level(long long size)
{
	if (size >= opt.crit)
		return "critical";
	if (size >= opt.warn)
		return "warning";
	return "ok";
}

/*
 * new_size: what a worktree holds that no record before it in this run
 * holds (an inode with links in several worktrees counts at the first), so
 * that the sizes' sum over the stream is what du -c counts. The pool tells
 * the records in order as they go out; each measured one left its tally of
 * linked inodes here, by the record's address, until then.
 */
struct pending {
	const struct wt_rec *r;
	struct wt_freed *all;
	struct pending *next;
};
static struct {
	pthread_mutex_t mu;
	struct pending *list;
	struct wt_freed *seen;
} order = { PTHREAD_MUTEX_INITIALIZER, NULL, NULL };

static void
keep_tally(const struct wt_rec *r, struct wt_freed *all)
{
	struct pending *p = wt_xmalloc(sizeof(*p));

	p->r = r;
	p->all = all;
	pthread_mutex_lock(&order.mu);
	p->next = order.list;
	order.list = p;
	pthread_mutex_unlock(&order.mu);
}

static int
written(struct wt_rec *r, void *arg)
{
	struct pending **pp, *p = NULL;
	double size;

	(void)arg;
	pthread_mutex_lock(&order.mu);
	for (pp = &order.list; *pp; pp = &(*pp)->next)
		if ((*pp)->r == r) {
			p = *pp;
			*pp = p->next;
			break;
		}
	pthread_mutex_unlock(&order.mu);
	/* A record from the cache has no tally: it counts whole (-C measures). */
	if (!wt_rec_has_error(r) && wt_rec_num(r, "size", &size) == 0) {
		if (!order.seen)
			order.seen = wt_freed_new();
		wt_rec_set_int(r, "new_size", (long long)size -
			       (p ? wt_freed_held(p->all, order.seen) : 0));
	}
	if (p) {
		wt_freed_free(p->all);
		free(p);
	}
	return 0;
}

static int
work(struct wt_rec *r, int worker, void *arg)
{
	struct du du;
	struct wt_rec f = WT_REC_INIT;
	struct wt_buf fp = WT_BUF_INIT;
	struct wt_obj ctx;
	struct stat st;
	double size;
	int cached = 0, fd, e;

	(void)worker;
	(void)arg;
	memset(&du, 0, sizeof(du));
	pthread_mutex_init(&du.mu, NULL);
	du.root = wt_rec_str(r, "path");
	du.id = wt_rec_str(r, "id");
	wt_obj_init(&ctx);
	wt_obj_str(&ctx, "path", du.root);
	/* Opened once: its .git and its walk are looked up from here. */
	if ((fd = open(du.root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
	    fstat(fd, &st) < 0) {
		e = errno;
		if (fd >= 0)
			close(fd);
		wt_rec_error(r, WT_E_BASE, &ctx, "cannot measure '%s': %s", du.root,
			     e == ENOTDIR ? "not a directory" :
			     e == ELOOP && lstat(du.root, &st) == 0 && S_ISLNK(st.st_mode) ?
			     "a symbolic link" : strerror(e));
		goto out;
	}
	du.admin = wt_git_admin_dir_at(fd, du.root);
	du.arts = wt_artifacts_new(du.root, NULL, NULL, WT_ART_OWN_NESTED);
	wt_artifacts_admin(du.arts, du.admin);
	/* Resolved by the walk if a checkout inside asks: most have no modules/. */
	if (du.admin) {
		wt_buf_addf(&fp, "%s/modules", du.admin);
		du.modules = wt_buf_detach(&fp);
	}
	fingerprint(du.admin, &fp);
	if (!opt.nocache && opt.ttl > 0 && cache_get(&st, du.root, fp.s, &f)) {
		cached = 1;
		close(fd);
	} else if (measure(&du, fd, &f) < 0) {
		wt_rec_error(r, WT_E_BASE, &ctx, "cannot measure '%s': %s", du.root,
			     strerror(errno));
		goto out;
	} else {
		/* A partial answer is not kept: the next run tries again. */
		if (wt_walk_errors(du.walk) == 0 && opt.ttl > 0)
			cache_put(&st, du.root, fp.s, &f);
		keep_tally(r, du.all);
		du.all = NULL;
	}
	apply(r, &f);
	if (wt_rec_num(&f, "size", &size) == 0)
		wt_rec_set_str(r, "size_level", level((long long)size));
	wt_rec_set_bool(r, "du_cached", cached);
out:
	wt_artifacts_free(du.arts);
	wt_walk_free(du.walk);
	wt_freed_free(du.all);
	wt_freed_free(du.art);
	free(du.root);
	free(du.admin);
	free(du.modules);
	wt_buf_release(&du.poisoned);
	pthread_mutex_destroy(&du.mu);
	free(du.id);
	wt_rec_release(&f);
	wt_buf_release(&fp);
	wt_obj_release(&ctx);
	return 0;
}

static void
human(char *buf, size_t n, long long v)
{
	const char *u = "BKMGTP";
	double d = (double)v;

	while (d >= 1024 && u[1]) {
		d /= 1024;
		u++;
	}
	snprintf(buf, n, *u == 'B' ? "%.0f %c" : "%.1f %ciB", d, *u);
}

/* The progress line: files and bytes so far, and the worktree last started. */
static void *
progress(void *arg)
{
	struct timespec ts;
	struct du *du;
	long long files, bytes;
	char size[32];
	int i;

	(void)arg;
	pthread_mutex_lock(&prog.mu);
	while (!prog.quit) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 200 * 1000 * 1000;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&prog.cv, &prog.mu, &ts);
		if (prog.quit)
			break;
		files = prog.files;
		bytes = prog.bytes;
		for (du = prog.active; du; du = du->next)
			for (i = 0; i < wt_walk_nslots(du->walk); i++) {
				struct counts *c = wt_walk_slot(du->walk, i);

				files += atomic_load_explicit(&c->files, memory_order_relaxed);
				bytes += atomic_load_explicit(&c->size, memory_order_relaxed);
			}
		human(size, sizeof(size), bytes);
		fprintf(stderr, "\r%s: %lld files, %s, %s\033[K", wt_progname, files,
			size, prog.current);
	}
	fprintf(stderr, "\r\033[K");
	pthread_mutex_unlock(&prog.mu);
	return NULL;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		WT_LONGOPTS_STD,
		{ NULL, 0, NULL, 0 },
	};
	struct wt_config cfg;
	struct wt_reader *rd;
	struct wt_buf b = WT_BUF_INIT;
	pthread_t pt;
	long errors;
	int c, jobs = 0, depth = 0, showing = 0;

	wt_setprogname(argv[0]);
	wt_config_load(&cfg);
	opt.warn = cfg.size_warning;
	opt.crit = cfg.size_critical;
	while ((c = getopt_long(argc, argv, "Cc:hI:j:qw:", longopts, NULL)) != -1)
		switch (c) {
		case 'C': opt.nocache = 1; break;
		case 'c':
			if ((opt.crit = wt_parse_size(optarg)) < 0)
				errx(WT_EXIT_FATAL, "bad size for -c: '%s' (a size in bytes "
				     "with K, M, G or T: 500M, 1G)", optarg);
			break;
		case 'I': depth = wt_parse_jobs(optarg); break;
		case 'j': jobs = wt_parse_jobs(optarg); break;
		case 'q': opt.quiet = 1; break;
		case 'w':
			if ((opt.warn = wt_parse_size(optarg)) < 0)
				errx(WT_EXIT_FATAL, "bad size for -w: '%s' (a size in bytes "
				     "with K, M, G or T: 500M, 1G)", optarg);
			break;
		default: wt_opt_other(c, usage_text);
		}
	argc -= optind;
	if (argc != 0 || isatty(STDIN_FILENO))
		usage();
	wt_check_size_levels(opt.warn, opt.crit);
	if (!jobs)
		jobs = cfg.jobs;
	opt.ttl = cfg.cache_ttl;
	opt.now = wt_now();
	wt_buf_addf(&b, "%s/cache", cfg.home);
	opt.cachedir = wt_buf_detach(&b);
	opt.kinds = wt_artifact_kinds();
	for (opt.nkinds = 0; opt.kinds[opt.nkinds] && opt.nkinds < MAXKINDS; opt.nkinds++)
		;
	/*
	 * No libgit2 before a worktree has an artifact candidate: its start
	 * (mbedTLS reading the system's certificates) costs more than
	 * measuring hundreds of small worktrees (recreate.c starts it then).
	 *
	 * jobs records at once, each walked by all the walker's threads. When
	 * the inodes are on disk, not in memory, more threads (-I) keep more
	 * reads in flight and inode order reads the inode tables forwards.
	 */
	opt.wk = wt_walker_new(depth ? depth : jobs);
	if (depth)
		opt.walkflags = WT_WALK_INODE_ORDER;
	if (!opt.quiet && isatty(STDERR_FILENO) &&
	    pthread_create(&pt, NULL, progress, NULL) == 0)
		showing = prog.showing = 1;
	/* Read with -C too: the answers it does not replace are kept. */
	if (opt.ttl > 0)
		cache_load();
	rd = wt_reader_new(STDIN_FILENO, 0);
	errors = wt_pool_run_written(rd, jobs, want, work, written, NULL, stdout);
	wt_freed_free(order.seen);
	if (showing) {
		pthread_mutex_lock(&prog.mu);
		prog.quit = 1;
		pthread_cond_signal(&prog.cv);
		pthread_mutex_unlock(&prog.mu);
		pthread_join(pt, NULL);
	}
	wt_reader_free(rd);
	if (opt.ttl > 0)
		cache_write();
	wt_walker_free(opt.wk);
	wt_artifacts_release_shared();
	free(opt.cachedir);
	wt_config_release(&cfg);
	wt_flush_stdout();
	return errors ? WT_EXIT_RECORDS : WT_EXIT_OK;
}
