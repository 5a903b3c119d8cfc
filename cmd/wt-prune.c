/* wt-prune: remove the recreatable artifacts of worktrees, and gc their repositories. */
#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <git2.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "wt.h"

static struct {
	int dry, force, gc, aggressive, verbose, jobs, deljobs;
	long long mask;
	time_t now;
	struct timespec start;
} opt;

static struct wt_registry reg;
static double lock_timeout;

/* The registry's patches, journaled as records finish, committed once at the end. */
static struct wt_batch *batch;

static const char usage_text[] =
	"usage: wt-prune [-fnv] [-j jobs] [-k kinds] [-r registry] [--gc [--aggressive]]\n"
	"       wt-prune -h | --help | --version\n"
	"  -f                 prune a worktree even when a process is in it\n"
	"      --gc           run git gc once per repository\n"
	"      --aggressive   with --gc, run git gc --aggressive\n"
	"  -j jobs            work on up to jobs worktrees at once (1 to 256)\n"
	"  -k, --kinds kinds  remove only these comma-separated kinds\n"
	"  -n                 change nothing: say what would be pruned\n"
	"  -r registry        the registry to update\n"
	"  -v                 print when each worktree was clean, on stderr\n"
	"  -h, --help         print this usage and exit\n"
	"      --version      print the version and exit\n";

static void
usage(void)
{
	wt_usage(usage_text);
}

static double
ms_since_start(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - opt.start.tv_sec) * 1e3 +
	       (double)(t.tv_nsec - opt.start.tv_nsec) / 1e6;
}

static struct wt_walker *serial, *sizer;

static long long
usage_of(const char *path, const char *skip)
{
	return wt_walk_usage(sizer, path, skip);
}

/* The size of a repository's common directory, without the worktrees' trash. */
static long long
repo_size(const char *common)
{
	return usage_of(common, WT_TRASH_NAME);
}

/* git gc, once per repository however many of its worktrees come by. */
struct gc {
	char *common;
	int done, ok;
	long long before, after;
	char msg[128];
};
static pthread_mutex_t gc_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gc_cv = PTHREAD_COND_INITIALIZER;
static struct gc *gcs;
static size_t ngcs;

/* Runs git through an argv vector (no shell), its output on our stderr. */
static int
run_gc(const char *common, char *msg, size_t msgsz)
{
	char *argv[8], *const *env;
	pid_t pid;
	int status, i = 0, null;

	argv[i++] = "git";
	argv[i++] = "--git-dir";
	argv[i++] = (char *)common;
	argv[i++] = "gc";
	argv[i++] = "--prune=now";
	argv[i++] = "--quiet";
	if (opt.aggressive)
		argv[i++] = "--aggressive";
	argv[i] = NULL;
	null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	/*
	 * Without the caller's GIT_OBJECT_DIRECTORY, GIT_INDEX_FILE...: gc
	 * --prune=now would delete another repository's unreachable objects.
	 */
	env = wt_git_env();
	fflush(stdout);
	if ((pid = fork()) < 0) {
		snprintf(msg, msgsz, "cannot run git gc: %s", strerror(errno));
		if (null >= 0)
			close(null);
		return -1;
	}
	if (pid == 0) {
		/* stdout carries records only: git's output goes to stderr. */
		if (null >= 0)
			dup2(null, STDIN_FILENO);
		dup2(STDERR_FILENO, STDOUT_FILENO);
		execvpe("git", argv, env);
		_exit(127);
	}
	if (null >= 0)
		close(null);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			snprintf(msg, msgsz, "cannot wait for git gc: %s", strerror(errno));
			return -1;
		}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		snprintf(msg, msgsz, "cannot run git gc: git not found");
	else if (WIFEXITED(status))
		snprintf(msg, msgsz, "git gc failed with exit status %d", WEXITSTATUS(status));
	else
		snprintf(msg, msgsz, "git gc killed by signal %d", WTERMSIG(status));
	return -1;
}

static void
gc_repo(struct wt_rec *r, const char *common)
{
	struct wt_obj o;
	struct gc *g = NULL, res;
	size_t i;
	int mine = 0;

	pthread_mutex_lock(&gc_mu);
	for (i = 0; i < ngcs; i++)
		if (strcmp(gcs[i].common, common) == 0)
			break;
	if (i == ngcs) {
		gcs = wt_xrealloc(gcs, (ngcs + 1) * sizeof(*gcs));
		memset(&gcs[ngcs], 0, sizeof(*gcs));
		gcs[ngcs].common = wt_xstrdup(common);
		ngcs++;
		mine = 1;
	}
	pthread_mutex_unlock(&gc_mu);
	if (mine) {
		memset(&res, 0, sizeof(res));
		if (!opt.dry) {
			res.before = repo_size(common);
			res.ok = run_gc(common, res.msg, sizeof(res.msg)) == 0;
			res.after = repo_size(common);
		}
		pthread_mutex_lock(&gc_mu);
		g = &gcs[i];
		g->before = res.before;
		g->after = res.after;
		g->ok = res.ok;
		memcpy(g->msg, res.msg, sizeof(g->msg));
		g->done = 1;
		pthread_cond_broadcast(&gc_cv);
	} else {
		pthread_mutex_lock(&gc_mu);
		while (!gcs[i].done)
			pthread_cond_wait(&gc_cv, &gc_mu);
	}
	res = gcs[i];
	pthread_mutex_unlock(&gc_mu);
	if (opt.dry)
		return;
	wt_obj_init(&o);
	wt_obj_str(&o, "repo", common);
	wt_obj_int(&o, "before", res.before);
	wt_obj_int(&o, "after", res.after);
	wt_obj_bool(&o, "ran", mine);
	wt_rec_set_obj(r, "gc", &o);
	if (!res.ok)
		wt_rec_error(r, WT_E_BASE, NULL, "%s", res.msg);
	wt_obj_release(&o);
}

/* One worktree's prune. */
struct prune {
	struct wt_rec *r;
	git_repository *repo;
	git_index *idx;
	struct wt_artifacts *arts;
	int trashfd;
	const char *top;
	struct wt_buf rel;          /* the path of the directory being read */
	struct wt_obj pruned;       /* the pruned object: its dirs array open */
	char **moved;               /* names given to them in the trash */
	char **from;                /* and where they were, relative to the top */
	char *trash;                /* the trash's path */
	size_t nmoved;
	unsigned long long files, bytes;
	struct wt_rm_stats rs;
	unsigned long seq;
	int failed;
	char msg[256];
};

static void
prune_fail(struct prune *p, const char *fmt, const char *a, int e)
{
	if (p->failed++)
		return;
	snprintf(p->msg, sizeof(p->msg), fmt, a, strerror(e));
}

/*
 * 1 when the artifact at path holds another repository or worktree: then
 * it is not recreatable and stays (said on stderr). The real run looks
 * after the artifact is in the trash, so the worktree is clean at once.
 */
static int
nested_in(const char *path, const char *shown)
{
	struct wt_buf first = WT_BUF_INIT;
	long n = wt_walk_find_nested(sizer, path, NULL, &first);

	if (n < 0)
		warnx("'%s': not pruned: it cannot be walked", shown);
	else if (n > 0)
		warnx("'%s': not pruned: a repository or worktree is inside, at '%s'", shown,
		      first.s);
	wt_buf_release(&first);
	return n != 0;
}

/* An artifact directory (or a link in its place): into the trash, or gone now. */
static void
take_artifact(struct prune *p, int dirfd, const char *name, const char *rel, int isdir)
{
	struct wt_buf full = WT_BUF_INIT, tn = WT_BUF_INIT;
	const char *one[1];
	int rc;

	wt_buf_addf(&full, "%s/%s", p->top, rel);
	if (isdir && wt_path_has_mounts(full.s, NULL) != 0) {
		/* Something is mounted inside: it is not ours to remove, nor is its tree. */
		warnx("'%s': not pruned: a filesystem is mounted inside", full.s);
		goto out;
	}
	if (opt.dry) {
		/* What its removal frees: not the blocks of files linked from outside it. */
		const char *path = full.s;
		long long u = wt_walk_freed(sizer, &path, 1);

		wt_obj_str(&p->pruned, NULL, rel);
		p->bytes += u > 0 ? (unsigned long long)u : 0;
		goto out;
	}
	if (p->trashfd >= 0) {
		do {
			wt_buf_reset(&tn);
			wt_buf_addf(&tn, "%ld.%lu.%s", (long)getpid(), p->seq++, name);
			rc = renameat(dirfd, name, p->trashfd, tn.s);
		} while (rc < 0 && (errno == EEXIST || errno == ENOTEMPTY));
		if (rc == 0) {
			p->moved = wt_xrealloc(p->moved, (p->nmoved + 1) * sizeof(*p->moved));
			p->from = wt_xrealloc(p->from, (p->nmoved + 1) * sizeof(*p->from));
			p->moved[p->nmoved] = wt_buf_detach(&tn);
			p->from[p->nmoved++] = wt_xstrdup(rel);
			goto out;
		}
		if (errno != EXDEV) {
			prune_fail(p, "cannot move '%s' to the trash: %s", full.s, errno);
			goto out;
		}
	}
	/* No trash on this filesystem: removed where it is, still in parallel. */
	if (isdir && nested_in(full.s, full.s))
		goto out;
	wt_obj_str(&p->pruned, NULL, rel);
	one[0] = name;
	if (wt_rmtree_parallel(dirfd, one, 1, opt.deljobs, &p->rs) < 0)
		prune_fail(p, "cannot remove '%s': %s", full.s, errno);
out:
	wt_buf_release(&full);
	wt_buf_release(&tn);
}

/*
 * The artifacts now in the trash that hold a repository go back where they
 * were; the others are pruned. What cannot go back stays in the trash,
 * whose removal never enters a repository either.
 */
static void
keep_nested(struct prune *p)
{
	struct wt_buf tpath = WT_BUF_INIT, back = WT_BUF_INIT;
	struct stat st;
	size_t i, k = 0;

	for (i = 0; i < p->nmoved; i++) {
		wt_buf_reset(&tpath);
		wt_buf_addf(&tpath, "%s/%s", p->trash, p->moved[i]);
		wt_buf_reset(&back);
		wt_buf_addf(&back, "%s/%s", p->top, p->from[i]);
		/* A link in an artifact's place holds nothing. */
		if (fstatat(p->trashfd, p->moved[i], &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISDIR(st.st_mode) || !nested_in(tpath.s, back.s)) {
			wt_obj_str(&p->pruned, NULL, p->from[i]);
			p->moved[k] = p->moved[i];
			p->from[k++] = p->from[i];
			continue;
		}
		if (renameat(p->trashfd, p->moved[i], AT_FDCWD, back.s) < 0)
			prune_fail(p, "'%s' holds a repository and cannot go back from the "
				   "trash: %s", back.s, errno);
		free(p->moved[i]);
		free(p->from[i]);
	}
	p->nmoved = k;
	wt_buf_release(&tpath);
	wt_buf_release(&back);
}

static void
take_file(struct prune *p, int dirfd, const char *name, const struct stat *st)
{
	if (!opt.dry && unlinkat(dirfd, name, 0) < 0) {
		if (errno != ENOENT)
			prune_fail(p, "cannot remove '%s': %s", name, errno);
		return;
	}
	p->files++;
	if (st->st_nlink == 1 || opt.dry)
		p->bytes += (unsigned long long)st->st_blocks * 512 /
			    (st->st_nlink > 1 ? st->st_nlink : 1);
}

/*
 * The search, on the caller's thread: artifacts are taken as they are met
 * and not read; a repository inside, another mount and .git are not entered.
 */
static int
search_cb(const struct wt_walk_ent *e, void *arg)
{
	struct prune *p = arg;
	const char *kind;
	struct stat st;
	int isdir = e->type == DT_DIR;

	if (!e->dir)
		return WT_WALK_CONTINUE;
	if (wt_walk_dir_depth(e->dir) == 0 && strcmp(e->name, ".git") == 0)
		return WT_WALK_PRUNE;
	if (e->type != DT_REG && !isdir && e->type != DT_LNK)
		return WT_WALK_CONTINUE;
	if ((kind = wt_artifact_entry(p->arts, e)) && wt_artifact_in_mask(kind, opt.mask)) {
		wt_buf_reset(&p->rel);
		wt_walk_relpath(e->dir, e->name, &p->rel);
		if (e->type == DT_REG) {
			if (fstatat(e->dirfd, e->name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			    S_ISREG(st.st_mode))
				take_file(p, e->dirfd, e->name, &st);
			return WT_WALK_CONTINUE;
		}
		take_artifact(p, e->dirfd, e->name, p->rel.s, isdir);
		return isdir ? WT_WALK_PRUNE : WT_WALK_CONTINUE;
	}
	/* A repository inside has its own index: its artifacts are not ours to judge. */
	if (isdir && faccessat(e->fd, ".git", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		return WT_WALK_PRUNE;
	return WT_WALK_CONTINUE;
}

static void
search(struct prune *p)
{
	struct wt_walk_ops ops = { .entry = search_cb, .flags = WT_WALK_NOSTAT };
	struct wt_walk *w;

	ops.arg = p;
	w = wt_walk_new(&ops);
	if (wt_walk_run(serial, w, p->top) < 0)
		prune_fail(p, "cannot read '%s': %s", p->top, errno);
	wt_walk_free(w);
}

/* The names in the trash before this run: a killed run's leftovers. */
static char **
list_trash(int fd, size_t *n)
{
	struct dirent *de;
	char **v = NULL;
	int dfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	DIR *d;

	*n = 0;
	if (dfd < 0 || !(d = fdopendir(dfd))) {
		if (dfd >= 0)
			close(dfd);
		return NULL;
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		v = wt_xrealloc(v, (*n + 1) * sizeof(*v));
		v[(*n)++] = wt_xstrdup(de->d_name);
	}
	closedir(d);
	return v;
}

/* What removing the entries left in t's trash frees, in one removal. */
static unsigned long long
trash_usage(const struct wt_target *t, char **left, size_t n)
{
	char *trash = wt_trash_path(t), **paths = wt_xmalloc((n ? n : 1) * sizeof(*paths));
	long long u;
	size_t i;

	for (i = 0; i < n; i++) {
		struct wt_buf e = WT_BUF_INIT;

		wt_buf_addf(&e, "%s/%s", trash, left[i]);
		paths[i] = wt_buf_detach(&e);
	}
	u = wt_walk_freed(sizer, (const char *const *)paths, n);
	for (i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
	free(trash);
	return u > 0 ? (unsigned long long)u : 0;
}

static void
free_names(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* Records the prune in the registry, when the record is the registry's. */
static void
journal(struct wt_rec *r, const struct wt_target *t, unsigned long long freed)
{
	struct wt_rec rr = WT_REC_INIT;
	struct wt_obj f;
	char *id = wt_rec_str(r, "id"), tbuf[32];
	double size;

	wt_obj_init(&f);
	if (wt_registry_record_of(&reg, id, t->path, t->common, &rr) != WT_REG_SAME)
		goto out;
	wt_obj_str(&f, "last_pruned", wt_time_fmt(opt.now, tbuf));
	if (wt_rec_num(&rr, "size", &size) == 0)
		wt_obj_int(&f, "size", size > (double)freed ? (long long)(size - (double)freed) : 0);
	if (wt_batch_set(batch, id, wt_obj_text(&f, NULL)) < 0)
		wt_rec_registry_error(r, reg.path, "journal", "pruned, but the registry "
				      "cannot record it: %s", strerror(errno));
out:
	wt_rec_release(&rr);
	wt_obj_release(&f);
	free(id);
}

static int
want(const struct wt_rec *r, void *arg)
{
	(void)arg;
	return !wt_rec_has_error(r);
}

static int
prune_one(struct wt_rec *r, int worker, void *arg)
{
	struct wt_target t;
	struct prune p;
	struct wt_buf b = WT_BUF_INIT;
	struct wt_rm_stats old = { 0, 0, 0, 0 };
	char *path = wt_rec_str(r, "path"), *repo = wt_rec_str(r, "repo"), tbuf[32];
	char **left = NULL;
	const char *why;
	size_t nleft = 0;
	double clean_ms = 0, size;
	pid_t pid;
	int verified = 0;

	(void)worker;
	(void)arg;
	memset(&p, 0, sizeof(p));
	p.trashfd = -1;
	wt_obj_init(&p.pruned);
	wt_obj_array(&p.pruned, "dirs");
	if (!path) {
		wt_rec_refuse(r, "path", NULL, "not pruned: the record has no path");
		goto out;
	}
	if (wt_target_verify(&t, path, repo, &why) < 0) {
		wt_rec_refuse(r, wt_target_rule(why), NULL, "not pruned: %s", why);
		goto out;
	}
	verified = 1;
	if (wt_target_locked(&t, NULL)) {
		wt_rec_refuse(r, "locked", NULL, "not pruned: the worktree is locked");
		goto out;
	}
	if (!opt.force && (pid = wt_path_in_use(t.path))) {
		wt_rec_refuse(r, "in_use", NULL, "not pruned: in use by process %ld (-f prunes "
			      "anyway)", (long)pid);
		goto out;
	}
	wt_buf_addf(&b, "%s/index.lock", t.admin);
	if (access(b.s, F_OK) == 0) {
		wt_rec_refuse(r, "git_running", NULL, "not pruned: git is running in it "
			      "('%s' exists)", b.s);
		goto out;
	}
	wt_buf_reset(&b);
	p.r = r;
	p.top = t.path;
	wt_buf_grow(&p.rel, 256);
	/*
	 * A real run looks for repositories inside once an artifact is in the
	 * trash. git, which says what it ignores, starts while libgit2 does.
	 */
	p.arts = wt_artifacts_new(t.path, NULL, NULL, opt.dry ? 0 : WT_ART_OWN_NESTED);
	wt_artifacts_start(p.arts);
	wt_git_init();
	if (git_repository_open(&p.repo, t.path) < 0 ||
	    git_repository_index(&p.idx, p.repo) < 0) {
		wt_rec_error(r, WT_E_BASE, NULL, "cannot open '%s': %s", t.path, wt_git_errmsg());
		goto out;
	}
	wt_artifacts_lend(p.arts, p.repo, p.idx);
	if (!opt.dry) {
		p.trashfd = wt_trash_open(&t, 1);
		p.trash = wt_trash_path(&t);
		if (p.trashfd < 0 && errno != EXDEV) {
			wt_rec_error(r, WT_E_BASE, NULL, "cannot open the trash of '%s': %s",
				     t.path, strerror(errno));
			goto out;
		}
		if (p.trashfd >= 0)
			left = list_trash(p.trashfd, &nleft);
	} else if ((p.trashfd = wt_trash_open(&t, 0)) >= 0) {
		/* What a killed run left would be freed too. */
		left = list_trash(p.trashfd, &nleft);
		old.bytes = trash_usage(&t, left, nleft);
	}
	search(&p);
	clean_ms = ms_since_start();
	if (!opt.dry && p.nmoved)
		keep_nested(&p);
	if (!opt.dry && p.nmoved &&
	    wt_rmtree_parallel(p.trashfd, (const char *const *)p.moved, p.nmoved,
			       opt.deljobs, &p.rs) < 0)
		prune_fail(&p, "cannot empty the trash of '%s': %s", t.path, errno);
	if (!opt.dry && nleft &&
	    wt_rmtree_parallel(p.trashfd, (const char *const *)left, nleft, opt.deljobs,
			       &old) < 0)
		prune_fail(&p, "cannot empty the trash of '%s': %s", t.path, errno);
	p.bytes += p.rs.bytes;
	if (opt.verbose)
		fprintf(stderr, "%s: '%s': clean after %.1f ms, space free after %.1f ms\n",
			wt_progname, t.path, clean_ms, ms_since_start());

	wt_obj_close(&p.pruned);
	wt_obj_int(&p.pruned, "files", (long long)p.files);
	if (old.bytes)
		wt_obj_int(&p.pruned, "trash", (long long)old.bytes);
	if (opt.dry) {
		struct wt_obj w;
		size_t n;
		const char *text = wt_obj_text(&p.pruned, &n);

		wt_would_init(&w, "prune");
		wt_obj_int(&w, "freed", (long long)(p.bytes + old.bytes));
		wt_obj_raw(&w, "pruned", text, n);
		if (opt.gc)
			wt_obj_bool(&w, "gc", 1);
		wt_rec_set_obj(r, "would", &w);
		wt_obj_release(&w);
	} else {
		wt_rec_set_int(r, "freed", (long long)(p.bytes + old.bytes));
		wt_rec_set_obj(r, "pruned", &p.pruned);
		wt_rec_set_str(r, "last_pruned", wt_time_fmt(opt.now, tbuf));
		if (wt_rec_num(r, "size", &size) == 0)
			wt_rec_set_int(r, "size", size > (double)p.bytes ?
				       (long long)(size - (double)p.bytes) : 0);
		journal(r, &t, p.bytes);
	}
	if (p.failed)
		wt_rec_error(r, WT_E_BASE, NULL, "%s", p.msg);
	else if (opt.gc && !opt.dry)
		gc_repo(r, t.common);
out:
	if (verified)
		wt_target_release(&t);
	if (p.trashfd >= 0)
		close(p.trashfd);
	wt_artifacts_free(p.arts);
	git_index_free(p.idx);
	git_repository_free(p.repo);
	free_names(p.moved, p.nmoved);
	free_names(p.from, p.nmoved);
	free(p.trash);
	free_names(left, nleft);
	wt_buf_release(&p.rel);
	wt_obj_release(&p.pruned);
	wt_buf_release(&b);
	free(path);
	free(repo);
	return 0;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "aggressive", no_argument, NULL, 'A' },
		{ "gc", no_argument, NULL, 'G' },
		{ "kinds", required_argument, NULL, 'k' },
		WT_LONGOPTS_STD,
		{ NULL, 0, NULL, 0 },
	};
	struct wt_config cfg;
	struct wt_reader *rd;
	const char *kinds = NULL, *ropt = NULL, *bad;
	long errors;
	int c, failed;

	clock_gettime(CLOCK_MONOTONIC, &opt.start);
	wt_setprogname(argv[0]);
	while ((c = getopt_long(argc, argv, "fhj:k:nr:v", longopts, NULL)) != -1)
		switch (c) {
		case 'A': opt.aggressive = 1; break;
		case 'f': opt.force = 1; break;
		case 'G': opt.gc = 1; break;
		case 'j': opt.jobs = wt_parse_jobs(optarg); break;
		case 'k': kinds = optarg; break;
		case 'n': opt.dry = 1; break;
		case 'r': ropt = optarg; break;
		case 'v': opt.verbose = 1; break;
		default: wt_opt_other(c, usage_text);
		}
	if (optind != argc || (opt.aggressive && !opt.gc))
		usage();
	if (isatty(STDIN_FILENO))
		usage();
	opt.mask = -1;
	if (kinds && (opt.mask = wt_artifact_mask(kinds, &bad)) < 0) {
		const char *const *k = wt_artifact_kinds();
		struct wt_buf b = WT_BUF_INIT;

		for (; *k; k++)
			wt_buf_addf(&b, "%s%s", b.len ? ", " : "", *k);
		errx(WT_EXIT_FATAL, "unknown kind '%s' (the kinds are %s)", bad, b.s);
	}
	wt_config_load(&cfg);
	if (!opt.jobs)
		opt.jobs = cfg.jobs;
	/*
	 * Deleting waits on the disk's journal far more than on the processors:
	 * more workers than processors keep it busy (scripts/bench/prune).
	 */
	opt.deljobs = opt.jobs * 4 > 32 ? 32 : opt.jobs * 4;
	lock_timeout = cfg.lock_timeout;
	opt.now = wt_now();
	if (wt_registry_open(&reg, &cfg, ropt) < 0)
		err(WT_EXIT_FATAL, "cannot read '%s'", reg.path);
	batch = wt_batch_open(&reg);
	/* Meanwhile the first record is read and checked, and its git started. */
	wt_git_init_soon();
	serial = wt_walker_new(1);
	sizer = wt_walker_new(opt.jobs);

	rd = wt_reader_new(STDIN_FILENO, 0);
	errors = wt_pool_run(rd, opt.jobs, want, prune_one, NULL, stdout);
	/* libgit2's start, if no record waited for it, ends before the exit. */
	wt_git_init();
	wt_reader_free(rd);
	wt_walker_free(serial);
	wt_walker_free(sizer);
	/* One registry update for the whole run. */
	wt_flush_stdout();
	failed = wt_batch_failed(batch);
	if (wt_batch_commit(batch, lock_timeout) < 0)
		errx(WT_EXIT_FATAL, "cannot update the registry '%s': its journal keeps "
		     "the changes for the next writer", reg.path);
	wt_registry_release(&reg);
	wt_config_release(&cfg);
	return failed || errors ? WT_EXIT_RECORDS : WT_EXIT_OK;
}
