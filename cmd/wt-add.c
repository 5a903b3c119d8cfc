/* wt-add: creates worktrees and registers them, all or nothing; or registers existing ones. */
#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <git2.h>
#include <linux/fs.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "wt.h"

static const char usage_text[] =
	"usage: wt-add [-fn] [--adopt] [-b branch] [--base ref] [-c glob] [-j jobs] [-p path] "
	"[-r registry] [id ...]\n"
	"       wt-add -h | --help | --version\n"
	"      --adopt        register the worktrees of the records on stdin, creating nothing\n"
	"  -b branch          the new branch (default: feature/ID)\n"
	"      --base ref     the branch to start from (default: the default branch)\n"
	"  -c glob            copy the ignored files matching glob from the main worktree\n"
	"  -f, --force        create beyond max_worktrees and disk_threshold\n"
	"  -j jobs            create on jobs workers (1 to 256)\n"
	"  -n                 print what would be created, create nothing\n"
	"  -p path            the new worktree's path (default: worktree_root/PROJECT/ID)\n"
	"  -r registry        register in this registry\n"
	"  -h, --help         print this usage and exit\n"
	"      --version      print the version and exit\n";

static struct {
	struct wt_config cfg;
	struct wt_registry reg;
	struct wt_batch *batch;     /* NULL with -n */
	const char *branch, *base, *path;
	char **globs;
	size_t nglobs;
	char *common;               /* the repository around us, resolved; NULL: none */
	int nflag, force, adopt;
	time_t now;
	/* Intents of the run, removed after the registry commit. */
	pthread_mutex_t lock;
	struct wt_intent **intents;
	size_t nintents;
	char **ids;                 /* ids of this run, each once */
	size_t nids;
} opt = { .lock = PTHREAD_MUTEX_INITIALIZER };
static pthread_mutex_t add_lock = PTHREAD_MUTEX_INITIALIZER;

/* An id names a file and git's admin entry: a safe name. */
static int
id_ok(const char *id)
{
	size_t i, n = strlen(id);

	if (!n || n > 128 || id[0] == '.' || id[0] == '-')
		return 0;
	for (i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789._-+@", id[i]))
			return 0;
	return 1;
}

/* 1 the first time the run sees id. */
static int
first_use(const char *id)
{
	size_t i;
	int ret = 1;

	pthread_mutex_lock(&opt.lock);
	for (i = 0; ret && i < opt.nids; i++)
		ret = strcmp(opt.ids[i], id) != 0;
	if (ret) {
		opt.ids = wt_xrealloc(opt.ids, (opt.nids + 1) * sizeof(char *));
		opt.ids[opt.nids++] = wt_xstrdup(id);
	}
	pthread_mutex_unlock(&opt.lock);
	return ret;
}

/* The project: the repository's directory name (<dir>/.git, or a bare <name>.git). */
static char *
project_of(const char *common)
{
	char *p = wt_xstrdup(common), *s;
	size_t n;

	if ((s = strrchr(p, '/')) && strcmp(s, "/.git") == 0)
		*s = '\0';
	s = strrchr(p, '/') ? strrchr(p, '/') + 1 : p;
	n = strlen(s);
	if (n > 4 && strcmp(s + n - 4, ".git") == 0)
		s[n - 4] = '\0';
	s = wt_xstrdup(s);
	free(p);
	return s;
}

/* The filesystem's use in percent at path's nearest existing directory, as df counts it. */
static double
disk_use(const char *path, char **at)
{
	struct statvfs sv;
	char *p = wt_xstrdup(path), *s;
	double used, avail;

	while (statvfs(p, &sv) < 0 && (s = strrchr(p, '/')) && s != p)
		*s = '\0';
	if (statvfs(p, &sv) < 0) {
		free(p);
		return -1;
	}
	*at = p;
	used = (double)(sv.f_blocks - sv.f_bfree);
	avail = (double)sv.f_bavail;
	return used + avail > 0 ? 100 * used / (used + avail) : 0;
}

/* The topmost missing directory above path, or NULL when its parent exists. */
static char *
missing_parent(const char *path)
{
	char *p = wt_xstrdup(path), *s, *top = NULL;
	struct stat st;

	while ((s = strrchr(p, '/')) && s != p) {
		*s = '\0';
		if (lstat(p, &st) == 0)
			break;
		free(top);
		top = wt_xstrdup(p);
	}
	free(p);
	return top;
}

/* Copies the file name from sfd to dfd: a reflink when the filesystem can, else a copy. */
static int
copy_file(int sdir, int ddir, const char *name, const struct stat *st, int *reflinked)
{
	char buf[65536];
	ssize_t n, w, off;
	int in, out, ret = -1;

	if ((in = openat(sdir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return -1;
	if ((out = openat(ddir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			  st->st_mode & 07777)) < 0) {
		close(in);
		return -1;
	}
	if (ioctl(out, FICLONE, in) == 0) {
		ret = 0;
		goto out;
	}
	*reflinked = 0;
	while ((n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0)) > 0)
		;
	if (n == 0) {
		ret = 0;
		goto out;
	}
	if (errno != EXDEV && errno != ENOSYS && errno != EINVAL && errno != EOPNOTSUPP)
		goto out;
	/* What was copied so far is copied again from the start. */
	if (lseek(in, 0, SEEK_SET) < 0 || ftruncate(out, 0) < 0 || lseek(out, 0, SEEK_SET) < 0)
		goto out;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		for (off = 0; off < n; off += w)
			if ((w = write(out, buf + off, (size_t)(n - off))) < 0)
				goto out;
	ret = n < 0 ? -1 : 0;
out:
	if (close(out) < 0)
		ret = -1;
	close(in);
	return ret;
}

/*
 * Copies name (in sdir) into ddir and, for a directory, what it holds: links
 * as links, never followed, nothing on another filesystem and no nested
 * repository or worktree.
 */
static int
copy_at(int sdir, int ddir, const char *name, dev_t dev, int *reflinked)
{
	struct stat st;
	struct dirent *de;
	char target[4096];
	ssize_t n;
	DIR *d;
	int s, t, ret = -1;

	if (fstatat(sdir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -1;
	if (st.st_dev != dev)
		return 0;
	if (S_ISREG(st.st_mode))
		return copy_file(sdir, ddir, name, &st, reflinked);
	if (S_ISLNK(st.st_mode)) {
		if ((n = readlinkat(sdir, name, target, sizeof(target) - 1)) < 0)
			return -1;
		target[n] = '\0';
		return symlinkat(target, ddir, name);
	}
	if (!S_ISDIR(st.st_mode))
		return 0;
	if ((s = openat(sdir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return -1;
	if (faccessat(s, ".git", F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
		close(s);
		return 0;
	}
	if ((mkdirat(ddir, name, st.st_mode & 07777) < 0 && errno != EEXIST) ||
	    (t = openat(ddir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		close(s);
		return -1;
	}
	if (!(d = fdopendir(s))) {
		close(s);
		close(t);
		return -1;
	}
	ret = 0;
	while (ret == 0 && (de = readdir(d)))
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, ".."))
			ret = copy_at(dirfd(d), t, de->d_name, dev, reflinked);
	closedir(d);
	close(t);
	return ret;
}

/*
 * -c: the ignored files of the main worktree main that a glob matches, into
 * the new worktree top. Each path copied joins copied: {"path","how"}.
 */
static int
copy_globs(const struct wt_intent *in, const char *main, const char *top,
	   struct wt_obj *copied, struct wt_buf *why)
{
	git_repository *repo = NULL;
	git_status_list *st = NULL;
	git_status_options so;
	struct stat sb;
	char *rel = NULL, *s;
	size_t i, n;
	int sfd = -1, dfd = -1, sdir = -1, ddir = -1, reflinked, ret = -1;

	if (git_repository_open(&repo, main) < 0) {
		wt_buf_addf(why, "cannot open '%s': %s", main, wt_git_errmsg());
		goto out;
	}
	git_status_options_init(&so, GIT_STATUS_OPTIONS_VERSION);
	so.flags = GIT_STATUS_OPT_INCLUDE_IGNORED | GIT_STATUS_OPT_EXCLUDE_SUBMODULES;
	if (git_status_list_new(&st, repo, &so) < 0) {
		wt_buf_addf(why, "cannot read the status of '%s': %s", main, wt_git_errmsg());
		goto out;
	}
	if ((sfd = open(main, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 || fstat(sfd, &sb) < 0 ||
	    (dfd = open(top, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		wt_buf_addf(why, "cannot open '%s': %s", sfd < 0 ? main : top, strerror(errno));
		goto out;
	}
	wt_obj_array(copied, "copied");
	n = git_status_list_entrycount(st);
	for (i = 0; i < n; i++) {
		const git_status_entry *e = git_status_byindex(st, i);
		const char *p = e->index_to_workdir ? e->index_to_workdir->new_file.path : NULL;
		const char *name;

		if (e->status != GIT_STATUS_IGNORED || !p || !wt_intent_copies(in, p))
			continue;
		free(rel);
		rel = wt_xstrdup(p);
		while (strlen(rel) > 1 && rel[strlen(rel) - 1] == '/')
			rel[strlen(rel) - 1] = '\0';
		s = strrchr(rel, '/');
		name = s ? s + 1 : rel;
		if (s)
			*s = '\0';
		/* Both parents opened beneath their tops, following no link. */
		sdir = s ? wt_open_beneath(sfd, rel, O_RDONLY | O_DIRECTORY) :
			   fcntl(sfd, F_DUPFD_CLOEXEC, 0);
		if (s) {
			char *c;

			for (c = rel; (c = strchr(c, '/')); c++) {
				*c = '\0';
				mkdirat(dfd, rel, 0755);
				*c = '/';
			}
			mkdirat(dfd, rel, 0755);
		}
		ddir = s ? wt_open_beneath(dfd, rel, O_RDONLY | O_DIRECTORY) :
			   fcntl(dfd, F_DUPFD_CLOEXEC, 0);
		reflinked = 1;
		if (sdir < 0 || ddir < 0 || copy_at(sdir, ddir, name, sb.st_dev, &reflinked) < 0) {
			wt_buf_addf(why, "cannot copy '%s': %s", p, strerror(errno));
			goto out;
		}
		close(sdir);
		close(ddir);
		sdir = ddir = -1;
		wt_obj_open(copied, NULL);
		if (s)
			*s = '/';
		wt_obj_str(copied, "path", rel);
		wt_obj_str(copied, "how", reflinked ? "reflink" : "copy");
		wt_obj_close(copied);
	}
	wt_obj_close(copied);
	ret = 0;
out:
	if (sdir >= 0)
		close(sdir);
	if (ddir >= 0)
		close(ddir);
	if (sfd >= 0)
		close(sfd);
	if (dfd >= 0)
		close(dfd);
	free(rel);
	git_status_list_free(st);
	git_repository_free(repo);
	return ret;
}

/* A WorktreeCreationError: the step, the directory made (or null) and what was undone. */
static void
creation_error(struct wt_rec *r, const char *step, const char *partial, struct wt_obj *undone,
	       int left, const char *msg)
{
	struct wt_obj ctx;
	const char *u;

	wt_obj_init(&ctx);
	wt_obj_str(&ctx, "creation_step", step);
	wt_obj_str(&ctx, "partial_worktree", partial);
	if (undone && !wt_obj_empty(undone)) {
		u = wt_obj_text(undone, NULL);
		wt_obj_raw(&ctx, "undone", u, strlen(u));
	}
	if (left)
		wt_obj_bool(&ctx, "left", 1);
	wt_rec_error(r, WT_E_CREATE, &ctx, "%s", msg);
	wt_obj_release(&ctx);
}

/*
 * Fails the creation at step: undoes what the run made, then says so on r.
 * The message is made first: it may hold libgit2's, which the undo replaces.
 */
static void __attribute__((format(printf, 5, 6)))
fail(struct wt_rec *r, struct wt_intent *in, const char *step, int made_dir, const char *fmt, ...)
{
	struct wt_buf why = WT_BUF_INIT, msg = WT_BUF_INIT;
	struct wt_obj undone;
	va_list ap;
	char *m;
	int rc = 0;

	va_start(ap, fmt);
	if (vasprintf(&m, fmt, ap) < 0)
		m = NULL;
	va_end(ap);
	wt_obj_init(&undone);
	if (in->file)
		rc = wt_intent_undo(in, &opt.reg, opt.cfg.lock_timeout, &undone, &why);
	wt_buf_addf(&msg, "cannot create the worktree: %s", m ? m : fmt);
	if (rc)
		wt_buf_addf(&msg, "; not undone: %s", why.s ? why.s : "");
	creation_error(r, step, made_dir ? in->path : NULL, &undone, rc != 0, msg.s);
	wt_obj_release(&undone);
	wt_buf_release(&why);
	wt_buf_release(&msg);
	free(m);
}

static char *
default_path(const char *project, const char *id)
{
	struct wt_buf b = WT_BUF_INIT;
	char *cwd;

	if (opt.cfg.worktree_root && *opt.cfg.worktree_root) {
		if (opt.cfg.worktree_root[0] != '/' && (cwd = getcwd(NULL, 0))) {
			wt_buf_addf(&b, "%s/", cwd);
			free(cwd);
		}
		wt_buf_addf(&b, "%s/%s/%s", opt.cfg.worktree_root, project, id);
	} else {
		wt_buf_addf(&b, "%s/worktrees/%s/%s", getenv("HOME") ? getenv("HOME") : "/", project,
			    id);
	}
	return wt_buf_detach(&b);
}

static char *
absolute(const char *p)
{
	struct wt_buf b = WT_BUF_INIT;
	char *cwd;

	if (p[0] != '/' && (cwd = getcwd(NULL, 0))) {
		wt_buf_addf(&b, "%s/", cwd);
		free(cwd);
	}
	wt_buf_adds(&b, p);
	while (b.len > 1 && b.s[b.len - 1] == '/')
		b.s[--b.len] = '\0';
	return wt_buf_detach(&b);
}

/* One worktree: branch, worktree, copies, record; undone at the first failure. */
static int
create_one(struct wt_rec *r, int worker, void *arg)
{
	git_repository *repo = NULL;
	git_reference *ref = NULL;
	git_worktree *wt = NULL;
	git_worktree_add_options ao;
	git_oid base;
	struct wt_intent *in = wt_xmalloc(sizeof(*in));
	struct wt_target t;
	struct wt_buf b = WT_BUF_INIT;
	struct wt_obj copied, would;
	struct stat st;
	char hex[GIT_OID_HEXSZ + 1], *baseref = NULL, *project = NULL, *at = NULL, *s;
	char *base_opt = wt_rec_str(r, "base"), *main = NULL;
	const char *w;
	double use;
	int valid = 0, made_dir = 0, rc;
	git_repository *wtrepo = NULL;

	(void)worker;
	(void)arg;
	memset(in, 0, sizeof(*in));
	in->fd = -1;
	wt_obj_init(&copied);
	in->id = wt_rec_str(r, "id");
	in->repo = wt_rec_str(r, "repo");
	if (!in->id || !id_ok(in->id)) {
		creation_error(r, "input", NULL, NULL, 0, "cannot create the worktree: an id is "
			       "letters, digits and . _ - + @, not starting with . or -");
		goto out;
	}
	if (!first_use(in->id)) {
		creation_error(r, "input", NULL, NULL, 0, "cannot create the worktree: the id is "
			       "given twice");
		goto out;
	}
	if (!in->repo && opt.common)
		in->repo = wt_xstrdup(opt.common);
	if (!in->repo || git_repository_open(&repo, in->repo) < 0) {
		fail(r, in, "repository", 0, in->repo ? "cannot open the repository '%s': %s" :
		     "not in a git repository%s%s", in->repo ? in->repo : "",
		     in->repo ? wt_git_errmsg() : "");
		goto out;
	}
	free(in->repo);
	in->repo = realpath(git_repository_commondir(repo), NULL);
	if (!in->repo)
		in->repo = wt_xstrdup(git_repository_commondir(repo));
	while ((s = strrchr(in->repo, '/')) && s != in->repo && !s[1])
		*s = '\0';
	if (!git_repository_is_bare(repo) && git_repository_workdir(repo))
		main = absolute(git_repository_workdir(repo));
	project = project_of(in->repo);
	in->name = wt_xstrdup(in->id);
	if (!(in->branch = wt_rec_str(r, "branch"))) {
		wt_buf_addf(&b, "feature/%s", in->id);
		in->branch = opt.branch ? wt_xstrdup(opt.branch) : wt_buf_detach(&b);
	}
	if ((s = wt_rec_str(r, "path"))) {
		in->path = absolute(s);
		free(s);
	} else {
		in->path = opt.path ? absolute(opt.path) : default_path(project, in->id);
	}
	in->globs = wt_xmalloc((opt.nglobs + 1) * sizeof(char *));
	for (in->nglobs = 0; in->nglobs < opt.nglobs; in->nglobs++)
		in->globs[in->nglobs] = wt_xstrdup(opt.globs[in->nglobs]);

	/* Checks, before anything is made. */
	if (!base_opt && opt.base)
		base_opt = wt_xstrdup(opt.base);
	if (base_opt && !wt_git_base_name_ok(base_opt)) {
		fail(r, in, "base", 0, "'%s' is no branch to start from", base_opt);
		goto out;
	}
	if (wt_git_base(repo, base_opt, &baseref, &base) < 0) {
		fail(r, in, "base", 0, base_opt ? "no branch '%s' to start from" :
		     "no default branch to start from%s", base_opt ? base_opt : "");
		goto out;
	}
	git_oid_tostr(hex, sizeof(hex), &base);
	in->base = wt_xstrdup(hex);
	if (git_branch_name_is_valid(&valid, in->branch) < 0 || !valid) {
		fail(r, in, "branch", 0, "'%s' is no valid branch name", in->branch);
		goto out;
	}
	if (git_branch_lookup(&ref, repo, in->branch, GIT_BRANCH_LOCAL) == 0) {
		fail(r, in, "branch", 0, "the branch '%s' exists already", in->branch);
		goto out;
	}
	if (lstat(in->path, &st) == 0) {
		fail(r, in, "path", 0, "'%s' exists already", in->path);
		goto out;
	}
	wt_buf_reset(&b);
	wt_buf_addf(&b, "%s/worktrees/%s", in->repo, in->name);
	if (lstat(b.s, &st) == 0) {
		fail(r, in, "worktree", 0, "git has a worktree named '%s' already", in->name);
		goto out;
	}
	if (in->nglobs && !main) {
		fail(r, in, "copy", 0, "-c needs a main worktree to copy from, and '%s' is bare", in->repo);
		goto out;
	}
	if (!opt.force && opt.cfg.disk_threshold < 100 &&
	    (use = disk_use(in->path, &at)) > opt.cfg.disk_threshold) {
		wt_buf_reset(&b);
		wt_buf_addf(&b, "%s is %.0f%% full, over disk_threshold %.0f%%; free space "
			    "(wt-ls | wt-du | wt-fmt, then wt-prune or wt-archive) or use --force",
			    at, use, opt.cfg.disk_threshold);
		fail(r, in, "limits", 0, "%s", b.s);
		goto out;
	}
	if (opt.nflag) {
		wt_would_init(&would, "create");
		wt_obj_str(&would, "path", in->path);
		wt_obj_str(&would, "branch", in->branch);
		wt_obj_str(&would, "base", baseref);
		wt_obj_str(&would, "base_commit", in->base);
		wt_rec_set_obj(r, "would", &would);
		wt_obj_release(&would);
		goto out;
	}

	in->made_parent = missing_parent(in->path);
	if (wt_intent_begin(in, &opt.reg) < 0) {
		char *dir = wt_intent_dir(&opt.reg);

		if (errno == EEXIST)
			fail(r, in, "intent", 0, "another run is creating '%s', or died doing so and "
			     "left what it could not undo (its intent file is in '%s')", in->id, dir);
		else
			fail(r, in, "intent", 0, "cannot write an intent file in '%s': %s", dir,
			     strerror(errno));
		free(dir);
		goto out;
	}
	wt_buf_reset(&b);
	wt_buf_adds(&b, in->path);
	*strrchr(b.s, '/') = '\0';
	if (in->made_parent && wt_mkdirs(b.s, 0755) < 0) {
		fail(r, in, "path", 0, "cannot make the parent directory '%s': %s", b.s, strerror(errno));
		goto out;
	}
	/* Paths resolved, as git writes them in its admin entry and the record holds them. */
	if ((s = realpath(*b.s ? b.s : "/", NULL))) {
		wt_buf_reset(&b);
		wt_buf_addf(&b, "%s/%s", strcmp(s, "/") ? s : "", strrchr(in->path, '/') + 1);
		free(s);
		free(in->path);
		in->path = wt_buf_detach(&b);
	}
	if (in->made_parent && (s = realpath(in->made_parent, NULL))) {
		free(in->made_parent);
		in->made_parent = s;
	}
	/* The intent names the branch before it exists, so a kill right after leaves no orphan. */
	in->made_branch = 1;
	if (wt_intent_step(in, "branch") < 0) {
		fail(r, in, "intent", 0, "cannot write the intent file '%s': %s", in->file, strerror(errno));
		goto out;
	}
	{
		git_commit *c = NULL;
		int rc = git_commit_lookup(&c, repo, &base);

		/* Its reflog names this run, so an undo deletes no branch of the same name made by another. */
		if (rc == 0)
			rc = wt_intent_make_branch(in, repo, git_commit_id(c), &ref);
		git_commit_free(c);
		if (rc < 0) {
			in->made_branch = 0;
			fail(r, in, "branch", 0, "cannot create the branch '%s': %s", in->branch, wt_git_errmsg());
			goto out;
		}
	}
	wt_test_pause("branch");
	if (wt_intent_step(in, "worktree") < 0) {
		fail(r, in, "intent", 0, "cannot write the intent file '%s': %s", in->file, strerror(errno));
		goto out;
	}
	/*
	 * libgit2 reads every worktree's state to see whether the branch is
	 * checked out elsewhere, and takes a worktree half made by another
	 * thread for one: the adds take turns, the checkouts run in parallel.
	 */
	git_worktree_add_options_init(&ao, GIT_WORKTREE_ADD_OPTIONS_VERSION);
	ao.ref = ref;
	ao.checkout_options.checkout_strategy = GIT_CHECKOUT_NONE;
	wt_buf_reset(&b);
	pthread_mutex_lock(&add_lock);
	rc = git_worktree_add(&wt, repo, in->name, in->path, &ao);
	if (rc < 0)
		wt_buf_adds(&b, wt_git_errmsg());
	pthread_mutex_unlock(&add_lock);
	if (rc < 0) {
		made_dir = lstat(in->path, &st) == 0;
		fail(r, in, "worktree", made_dir, "cannot add the worktree '%s': %s", in->path, b.s);
		goto out;
	}
	made_dir = 1;
	{
		/* The directory is new and holds only .git: a forced checkout overwrites nothing. */
		git_checkout_options co;

		git_checkout_options_init(&co, GIT_CHECKOUT_OPTIONS_VERSION);
		co.checkout_strategy = GIT_CHECKOUT_FORCE;
		if (git_repository_open(&wtrepo, in->path) < 0 ||
		    git_checkout_head(wtrepo, &co) < 0) {
			fail(r, in, "worktree", 1, "cannot check out '%s': %s", in->path, wt_git_errmsg());
			goto out;
		}
	}
	wt_test_pause("worktree");
	if (lstat(in->path, &st) < 0) {
		fail(r, in, "worktree", 1, "the new worktree '%s' is gone: %s", in->path, strerror(errno));
		goto out;
	}
	in->dev = (unsigned long long)st.st_dev;
	in->ino = (unsigned long long)st.st_ino;
	if (wt_intent_step(in, "checked_out") < 0) {
		fail(r, in, "intent", 1, "cannot write the intent file '%s': %s", in->file, strerror(errno));
		goto out;
	}
	if (in->nglobs) {
		wt_buf_reset(&b);
		if (copy_globs(in, main, in->path, &copied, &b) < 0) {
			fail(r, in, "copy", 1, "%s", b.s);
			goto out;
		}
		if (wt_intent_step(in, "copied") < 0) {
			fail(r, in, "intent", 1, "cannot write the intent file '%s': %s", in->file, strerror(errno));
			goto out;
		}
		wt_test_pause("copied");
	}
	if (wt_target_verify(&t, in->path, in->repo, &w) < 0) {
		fail(r, in, "verify", 1, "the new worktree '%s' does not verify: %s", in->path, w);
		goto out;
	}
	wt_rec_set_str(r, "id", in->id);
	wt_rec_set_str(r, "path", t.path);
	wt_rec_set_str(r, "repo", t.common);
	wt_rec_set_str(r, "branch", in->branch);
	wt_rec_set_str(r, "head", in->base);
	wt_rec_set_str(r, "status", "active");
	wt_rec_set_time(r, "created_at", opt.now);
	wt_rec_set_time(r, "last_accessed", opt.now);
	wt_rec_set_str(r, "project", project);
	wt_rec_del(r, "base");
	if (in->nglobs) {
		/* copied is {"copied":[...]}: the record takes the array. */
		size_t n, k = strlen("{\"copied\":");
		const char *txt = wt_obj_text(&copied, &n);

		wt_rec_set_raw(r, "copied", txt + k, n - k - 1);
	}
	wt_target_release(&t);
	if (wt_batch_put(opt.batch, r) < 0) {
		fail(r, in, "journal", 1, "cannot journal the record in '%s': %s", opt.reg.path, strerror(errno));
		goto out;
	}
	if (wt_intent_step(in, "journaled") < 0)
		warn("cannot write the intent file of '%s'", in->id);
	wt_test_pause("journaled");
	pthread_mutex_lock(&opt.lock);
	opt.intents = wt_xrealloc(opt.intents, (opt.nintents + 1) * sizeof(*opt.intents));
	opt.intents[opt.nintents++] = in;
	pthread_mutex_unlock(&opt.lock);
	in = NULL;
out:
	if (in) {
		wt_intent_release(in);
		free(in);
	}
	git_worktree_free(wt);
	git_repository_free(wtrepo);
	git_reference_free(ref);
	git_repository_free(repo);
	wt_obj_release(&copied);
	wt_buf_release(&b);
	free(baseref);
	free(base_opt);
	free(project);
	free(main);
	free(at);
	return 0;
}

/* When git made the worktree's admin entry: its commondir file, written once then. */
static time_t
created_at(const char *admin)
{
	struct wt_buf b = WT_BUF_INIT;
	struct stat st;
	time_t t = opt.now;

	wt_buf_addf(&b, "%s/commondir", admin);
	if (stat(b.s, &st) == 0 || stat(admin, &st) == 0)
		t = st.st_mtime;
	wt_buf_release(&b);
	return t;
}

/* --adopt: a verified worktree's record, put; nothing made. */
static int
adopt_one(struct wt_rec *r, int worker, void *arg)
{
	static const char *const derived[] = { "main", "prunable", "dirty", "would", NULL };
	struct wt_target t;
	struct wt_rec cur = WT_REC_INIT;
	struct wt_obj would;
	git_repository *repo = NULL;
	char *id = wt_rec_str(r, "id"), *path = wt_rec_str(r, "path"), *repo_s, *project;
	const char *w;
	size_t i;
	int m = 0, rc;

	(void)worker;
	(void)arg;
	repo_s = wt_rec_str(r, "repo");
	if (wt_rec_bool(r, "main", &m) == 0 && m) {
		wt_rec_refuse(r, "main", NULL, "not adopted: the main worktree is the repository's");
		goto out;
	}
	if (!id || !id_ok(id)) {
		creation_error(r, "input", NULL, NULL, 0, "cannot adopt the worktree: an id is "
			       "letters, digits and . _ - + @, not starting with . or -");
		goto out;
	}
	/* The registry's own records (wt-ls -d writes them too) are registered already. */
	if (path && wt_registry_find(&opt.reg, id, &cur, NULL) == 1 &&
	    (m = wt_rec_find(&cur, "path")) >= 0 && wt_rec_tokeq(&cur, m, path)) {
		wt_rec_set_bool(r, "adopted", 0);
		goto out;
	}
	if (wt_target_verify(&t, path, repo_s, &w) < 0) {
		wt_rec_refuse(r, wt_target_rule(w), NULL, "not adopted: %s", w);
		goto out;
	}
	rc = wt_registry_record_of(&opt.reg, id, t.path, t.common, &cur);
	if (rc == WT_REG_SAME) {
		wt_rec_set_bool(r, "adopted", 0);
	} else if (wt_registry_may_patch(r, &opt.reg, rc, &cur, "adopt") == 0) {
		if (!first_use(id)) {
			wt_rec_registry_error(r, opt.reg.path, "adopt", "refusing to adopt: "
					      "another worktree of this input has the id");
			wt_target_release(&t);
			goto out;
		}
		for (i = 0; derived[i]; i++)
			wt_rec_del(r, derived[i]);
		wt_rec_set_str(r, "path", t.path);
		wt_rec_set_str(r, "repo", t.common);
		if (git_repository_open(&repo, t.path) == 0)
			wt_git_fill_head(r, repo);
		if (wt_rec_find(r, "status") < 0)
			wt_rec_set_str(r, "status", "active");
		if (wt_rec_find(r, "created_at") < 0)
			wt_rec_set_time(r, "created_at", created_at(t.admin));
		if (wt_rec_find(r, "last_accessed") < 0)
			wt_rec_set_time(r, "last_accessed", opt.now);
		if (wt_rec_find(r, "project") < 0) {
			project = project_of(t.common);
			wt_rec_set_str(r, "project", project);
			free(project);
		}
		if (opt.nflag) {
			wt_would_init(&would, "adopt");
			wt_obj_str(&would, "path", t.path);
			wt_rec_set_obj(r, "would", &would);
			wt_obj_release(&would);
		} else if (wt_batch_put(opt.batch, r) < 0) {
			wt_rec_registry_error(r, opt.reg.path, "journal", "cannot journal the "
					      "record: %s", strerror(errno));
		} else {
			wt_rec_set_bool(r, "adopted", 1);
		}
	}
	wt_target_release(&t);
out:
	git_repository_free(repo);
	wt_rec_release(&cur);
	free(id);
	free(path);
	free(repo_s);
	return 0;
}

static int
want(const struct wt_rec *r, void *arg)
{
	(void)arg;
	return !wt_rec_has_error(r);
}

/* A run that died left intents: each is undone (or completed) before this run begins. */
static int
clean_dead(struct wt_intent *in, void *arg)
{
	struct wt_buf why = WT_BUF_INIT;
	struct wt_obj done;
	int rc;

	(void)arg;
	wt_obj_init(&done);
	rc = wt_intent_undo(in, &opt.reg, opt.cfg.lock_timeout, &done, &why);
	if (rc == 0)
		warnx("'%s': %s the creation of a run that died (process %ld): %s", in->id,
		      strstr(wt_obj_text(&done, NULL), "completed") ? "completed" : "undid",
		      in->pid, wt_obj_text(&done, NULL));
	else
		warnx("'%s': cannot undo the creation of a run that died (process %ld): %s",
		      in->id, in->pid, why.s ? why.s : "");
	wt_obj_release(&done);
	wt_buf_release(&why);
	return 0;
}

/* Worktrees there are: the registry's not archived, and the repository's linked ones it does not name. */
struct count {
	char **paths;
	size_t n;
	long long total;
};

static int
count_reg(struct wt_rec *r, void *arg)
{
	struct count *c = arg;
	char *p;

	if (wt_rec_is_archived(r))
		return 0;
	c->total++;
	if ((p = wt_rec_str(r, "path"))) {
		c->paths = wt_xrealloc(c->paths, (c->n + 1) * sizeof(char *));
		c->paths[c->n++] = p;
	}
	return 0;
}

static int
count_git(struct wt_rec *r, void *arg)
{
	struct count *c = arg;
	char *p = wt_rec_str(r, "path");
	size_t i;
	int m = 0, known = 0;

	if (!(wt_rec_bool(r, "main", &m) == 0 && m)) {
		for (i = 0; p && !known && i < c->n; i++)
			known = strcmp(c->paths[i], p) == 0;
		c->total += !known;
	}
	free(p);
	return 0;
}

static long long
worktrees_now(int have)
{
	struct count c = { NULL, 0, 0 };
	git_repository *repo;
	size_t i;

	if (have && wt_registry_each(&opt.reg, count_reg, &c) < 0)
		err(WT_EXIT_FATAL, "cannot read '%s'", opt.reg.path);
	if (opt.common && git_repository_open(&repo, opt.common) == 0) {
		wt_git_list_worktrees(repo, count_git, &c);
		git_repository_free(repo);
	}
	for (i = 0; i < c.n; i++)
		free(c.paths[i]);
	free(c.paths);
	return c.total;
}

int
main(int argc, char *argv[])
{
	enum { O_BASE = 0x200, O_ADOPT };
	static const struct option longopts[] = {
		{ "adopt", no_argument, NULL, O_ADOPT },
		{ "base", required_argument, NULL, O_BASE },
		{ "force", no_argument, NULL, 'f' },
		WT_LONGOPTS_STD,
		{ NULL, 0, NULL, 0 }
	};
	struct wt_rec r = WT_REC_INIT, *recs = NULL;
	struct wt_reader *rd;
	struct wt_pool *pool;
	git_repository *repo;
	const char *ropt = NULL;
	size_t i, nrecs = 0;
	long errors = 0;
	long long have_n;
	int c, jobs = 0, have, rc;

	wt_setprogname(argv[0]);
	while ((c = getopt_long(argc, argv, "b:c:fhj:np:r:", longopts, NULL)) != -1)
		switch (c) {
		case 'b': opt.branch = optarg; break;
		case 'c':
			opt.globs = wt_xrealloc(opt.globs, (opt.nglobs + 1) * sizeof(char *));
			opt.globs[opt.nglobs++] = optarg;
			break;
		case 'f': opt.force = 1; break;
		case 'j': jobs = wt_parse_jobs(optarg); break;
		case 'n': opt.nflag = 1; break;
		case 'p': opt.path = optarg; break;
		case 'r': ropt = optarg; break;
		case O_BASE: opt.base = optarg; break;
		case O_ADOPT: opt.adopt = 1; break;
		default: wt_opt_other(c, usage_text);
		}
	argc -= optind;
	argv += optind;
	if (opt.adopt && (argc || opt.branch || opt.base || opt.path || opt.nglobs))
		wt_usage(usage_text);
	if (argc > 1 && (opt.branch || opt.path))
		errx(WT_EXIT_FATAL, "-b and -p name one worktree, and %d ids are given", argc);
	if (!argc && isatty(STDIN_FILENO))
		wt_usage(usage_text);
	if (opt.base && !wt_git_base_name_ok(opt.base))
		errx(WT_EXIT_FATAL, "'%s' cannot name a base: a branch, not a revision", opt.base);
	wt_config_load(&opt.cfg);
	if (!jobs)
		jobs = opt.cfg.jobs;
	opt.now = wt_now();
	if ((have = wt_registry_open(&opt.reg, &opt.cfg, ropt)) < 0)
		err(WT_EXIT_FATAL, "cannot read '%s'", opt.reg.path);
	if (opt.reg.moai)
		errx(WT_EXIT_FATAL, "'%s' is a MoAI-ADK registry, read only here; give an "
		     "NDJSON registry with -r", opt.reg.path);
	wt_git_init();
	if (git_repository_open_ext(&repo, ".", 0, NULL) == 0) {
		opt.common = realpath(git_repository_commondir(repo), NULL);
		git_repository_free(repo);
	}

	/* The records: ids given, else stdin; all read before anything is made. */
	if (argc) {
		for (i = 0; i < (size_t)argc; i++) {
			recs = wt_xrealloc(recs, (nrecs + 1) * sizeof(*recs));
			memset(&recs[nrecs], 0, sizeof(*recs));
			wt_rec_clear(&recs[nrecs]);
			wt_rec_set_str(&recs[nrecs++], "id", argv[i]);
		}
	} else {
		rd = wt_reader_new(STDIN_FILENO, 0);
		while ((rc = wt_reader_next(rd, &r)) > 0) {
			recs = wt_xrealloc(recs, (nrecs + 1) * sizeof(*recs));
			memset(&recs[nrecs], 0, sizeof(*recs));
			wt_rec_copy(&recs[nrecs++], &r);
		}
		if (rc < 0)
			err(WT_EXIT_FATAL, "stdin");
		wt_reader_free(rd);
	}

	if (!opt.nflag) {
		if (wt_registry_replay(&opt.reg, opt.cfg.lock_timeout) < 0)
			errx(WT_EXIT_FATAL, "cannot apply the journal of '%s'", opt.reg.path);
		if (!opt.adopt)
			wt_intent_each_dead(&opt.reg, clean_dead, NULL);
		opt.batch = wt_batch_open(&opt.reg);
		have = access(opt.reg.path, F_OK) == 0;
	}
	/* Limits, before anything is made: the same refusal for every record. */
	if (!opt.adopt && !opt.force && opt.cfg.max_worktrees > 0 &&
	    (have_n = worktrees_now(have)) + (long long)nrecs > opt.cfg.max_worktrees) {
		struct wt_obj ctx;

		wt_obj_init(&ctx);
		wt_obj_str(&ctx, "creation_step", "limits");
		wt_obj_null(&ctx, "partial_worktree");
		wt_obj_int(&ctx, "max_worktrees", opt.cfg.max_worktrees);
		wt_obj_int(&ctx, "worktrees", have_n);
		for (i = 0; i < nrecs; i++) {
			if (wt_rec_has_error(&recs[i]))
				continue;
			wt_rec_error(&recs[i], WT_E_CREATE, &ctx, "cannot create the worktree: %lld "
				     "worktrees exist and max_worktrees is %lld; archive or remove "
				     "some first (wt-ls | wt-stale | wt-archive, or wt-rm) or use "
				     "--force", have_n, opt.cfg.max_worktrees);
		}
		wt_obj_release(&ctx);
	}
	/* git makes worktrees/ on a first add: made here, not raced by the workers. */
	if (opt.common && !opt.nflag && !opt.adopt) {
		struct wt_buf b = WT_BUF_INIT;

		wt_buf_addf(&b, "%s/worktrees", opt.common);
		if (mkdir(b.s, 0755) < 0 && errno != EEXIST)
			warn("cannot create '%s'", b.s);
		wt_buf_release(&b);
	}
	pool = wt_pool_new(jobs, want, opt.adopt ? adopt_one : create_one, NULL, stdout);
	for (i = 0; i < nrecs; i++) {
		wt_pool_push(pool, &recs[i]);
		wt_rec_release(&recs[i]);
	}
	errors = wt_pool_finish(pool);
	free(recs);

	/* One registry update for the whole run; then the intents go. */
	if (wt_batch_failed(opt.batch))
		errors++;
	if (wt_batch_commit(opt.batch, opt.cfg.lock_timeout) < 0) {
		warnx("the registry was not updated; its journal keeps the records for the next "
		      "run, the intent files the way to finish or undo");
		errors++;
	} else {
		for (i = 0; i < opt.nintents; i++)
			if (wt_intent_done(opt.intents[i]) < 0)
				warn("cannot remove the intent file of '%s'", opt.intents[i]->id);
	}
	wt_flush_stdout();
	for (i = 0; i < opt.nintents; i++) {
		wt_intent_release(opt.intents[i]);
		free(opt.intents[i]);
	}
	for (i = 0; i < opt.nids; i++)
		free(opt.ids[i]);
	free(opt.ids);
	free(opt.intents);
	free(opt.globs);
	free(opt.common);
	wt_rec_release(&r);
	wt_registry_release(&opt.reg);
	wt_config_release(&opt.cfg);
	return errors ? WT_EXIT_RECORDS : WT_EXIT_OK;
}
