/* wt-ls: the source of a pipe: the registry's records and the worktrees git knows. */
#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <git2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wt.h"

static struct wt_pool *pool;
static long errors;
/* -i and -s select records from whatever the source is. */
static const char **ids, **statuses;
static size_t nids, nstatuses;
static char *seen;        /* ids[i] was emitted */

static int
noop(struct wt_rec *r, int worker, void *arg)
{
	(void)r;
	(void)worker;
	(void)arg;
	return 0;
}

static const char usage_text[] =
	"usage: wt-ls [-g] [-d dir] [-i id] [-j jobs] [-r registry] [-s status]\n"
	"       wt-ls -h | --help | --version\n"
	"  -d dir             the registry and the worktrees found under dir\n"
	"  -g                 add git's view: dirty, ahead, behind, locked, merged\n"
	"  -i id              the record with this id; repeat for several\n"
	"  -j jobs            run -g on jobs workers (1 to 256)\n"
	"  -r registry        read this registry, which must exist\n"
	"  -s status          the records with this status; repeat for several\n"
	"  -h, --help         print this usage and exit\n"
	"      --version      print the version and exit\n";

static void
usage(void)
{
	wt_usage(usage_text);
}

/* Whether -i and -s select r; mark notes the ids found. */
static int
match(const struct wt_rec *r, int mark)
{
	size_t i;
	int t, hit;

	if (wt_rec_has_error(r))
		return 1;
	if (nstatuses) {
		t = wt_rec_find(r, "status");
		for (i = 0, hit = 0; !hit && i < nstatuses; i++)
			hit = t >= 0 && wt_rec_tokeq(r, t, statuses[i]);
		if (!hit)
			return 0;
	}
	if (nids) {
		t = wt_rec_find(r, "id");
		for (i = 0, hit = 0; i < nids; i++)
			if (t >= 0 && wt_rec_tokeq(r, t, ids[i])) {
				hit = 1;
				if (mark)
					seen[i] = 1;
			}
		return hit;
	}
	return 1;
}

static int
selected(const struct wt_rec *r)
{
	return match(r, 1);
}

/* Every selected record goes out through the pool (which does -g's work). */
static int
emit(struct wt_rec *r, void *arg)
{
	(void)arg;
	if (selected(r))
		wt_pool_push(pool, r);
	return 0;
}

static int
want_git(const struct wt_rec *r, void *arg)
{
	(void)arg;
	return !wt_rec_has_error(r) && wt_rec_find(r, "path") >= 0;
}

/* -g: the git fields, computed per record on a worker with its own repository object. */
static int
add_git(struct wt_rec *r, int worker, void *arg)
{
	git_repository *repo = NULL;
	struct wt_changes ch = { 0, 0, 0, NULL };
	git_reference *head = NULL, *up = NULL;
	size_t modified = 0, untracked = 0;
	size_t ahead, behind;
	char *path = wt_rec_str(r, "path"), *admin = NULL, *reason;
	struct wt_buf b = WT_BUF_INIT;
	struct wt_obj dirty;
	struct stat sb;
	int main_wt = 0;

	(void)worker;
	(void)arg;
	main_wt = wt_rec_bool(r, "main", &main_wt) == 0 && main_wt;
	if (stat(path, &sb) < 0) {
		wt_rec_set_bool(r, "prunable", 1);
		goto out;
	}
	if (git_repository_open(&repo, path) < 0) {
		wt_rec_error(r, WT_E_BASE, NULL, "cannot open '%s': %s", path,
			     wt_git_errmsg());
		goto out;
	}
	/* The one count of uncommitted work (sparse-checkout absences are none, hidden edits are). */
	if (wt_git_changes(repo, 0, &ch) < 0) {
		wt_rec_error(r, WT_E_BASE, NULL, "cannot get the status of '%s': %s",
			     path, wt_git_errmsg());
		goto out;
	}
	modified = (size_t)(ch.modified + ch.hidden);
	untracked = (size_t)ch.untracked;
	wt_obj_init(&dirty);
	wt_obj_int(&dirty, "modified", (long long)modified);
	wt_obj_int(&dirty, "untracked", (long long)untracked);
	wt_rec_set_obj(r, "dirty", &dirty);
	wt_obj_release(&dirty);
	wt_git_fill_head(r, repo);
	if (git_repository_head(&head, repo) == 0 && git_reference_is_branch(head) &&
	    git_branch_upstream(&up, head) == 0 &&
	    git_graph_ahead_behind(&ahead, &behind, repo, git_reference_target(head),
				   git_reference_target(up)) == 0) {
		wt_rec_set_str(r, "upstream", git_reference_shorthand(up));
		wt_rec_set_int(r, "ahead", (long long)ahead);
		wt_rec_set_int(r, "behind", (long long)behind);
	}
	wt_git_set_merged(r, repo, NULL);
	/* git's lock is a file in the worktree's admin directory. */
	if (!main_wt && (admin = wt_git_admin_dir(path))) {
		wt_buf_reset(&b);
		wt_buf_addf(&b, "%s/locked", admin);
		if ((reason = wt_read_small(b.s, 4096)) && *reason)
			wt_rec_set_str(r, "locked", reason);
		else
			wt_rec_set_bool(r, "locked", reason != NULL);
		free(reason);
	}
	if (!main_wt)
		wt_rec_set_bool(r, "prunable", 0);
out:
	free(admin);
	git_reference_free(head);
	git_reference_free(up);
	wt_changes_release(&ch);
	git_repository_free(repo);
	wt_buf_release(&b);
	free(path);
	return 0;
}

/* Repositories found by -d, each once, by their common directory. */
struct found {
	char **common;
	size_t n;
	struct wt_rec *recs;   /* their linked worktrees */
	size_t nrecs;
	char *used;            /* recs already merged with a registry record */
	char *taken;           /* a registry record of another worktree has recs[i]'s id */
	uint64_t *slots;       /* hash of id -> index + 1 of recs, open addressing */
	size_t nslots;
	const char *top;       /* -d's directory, resolved: only worktrees under it count */
};

/* The hash table of the found worktrees' ids, so the registry's pass stays O(1) each. */
static void
index_ids(struct found *f)
{
	size_t i, k, n;
	char *id;

	for (f->nslots = 16; f->nslots < 2 * f->nrecs; f->nslots *= 2)
		;
	f->slots = calloc(f->nslots, sizeof(*f->slots));
	for (i = 0; i < f->nrecs; i++) {
		if (!(id = wt_rec_str(&f->recs[i], "id")))
			continue;
		n = strlen(id);
		for (k = wt_index_hash(id, n) & (f->nslots - 1); f->slots[k];
		     k = (k + 1) & (f->nslots - 1))
			;
		f->slots[k] = i + 1;
		free(id);
	}
}

static int
has_id(const struct wt_rec *r, const char *id)
{
	int t = wt_rec_find(r, "id");

	return t >= 0 && wt_rec_tokeq(r, t, id);
}

/* How many found worktrees have id. */
static size_t
same_id(const struct found *f, const char *id)
{
	size_t k, j, n = 0;

	for (k = wt_index_hash(id, strlen(id)) & (f->nslots - 1); f->slots[k];
	     k = (k + 1) & (f->nslots - 1)) {
		j = f->slots[k] - 1;
		n += has_id(&f->recs[j], id);
	}
	return n;
}

/* Marks the found worktrees that share id but are not the worktree at path. */
static void
mark_taken(struct found *f, const char *id, const char *path)
{
	size_t k, j;
	char *p;

	for (k = wt_index_hash(id, strlen(id)) & (f->nslots - 1); f->slots[k];
	     k = (k + 1) & (f->nslots - 1)) {
		j = f->slots[k] - 1;
		if (!has_id(&f->recs[j], id))
			continue;
		p = wt_rec_str(&f->recs[j], "path");
		if (!path || !p || strcmp(p, path) != 0)
			f->taken[j] = 1;
		free(p);
	}
}

/*
 * Found worktrees of different repositories may share a name (two projects
 * with a worktree "hooks"), or the name of a registry record of another
 * worktree: each of them is then named NAME@PROJECT (wt-record(5)), PROJECT
 * the repository's directory name, so no two records of a listing share an
 * id and no patch meant for one lands on the other.
 */
static void
distinct_ids(struct found *f)
{
	struct wt_buf b = WT_BUF_INIT;
	size_t i;
	char *id, *repo, *s;

	/* Decided for all before any is renamed. */
	for (i = 0; i < f->nrecs; i++)
		if (!f->used[i] && (id = wt_rec_str(&f->recs[i], "id"))) {
			f->taken[i] |= same_id(f, id) > 1;
			free(id);
		}
	for (i = 0; i < f->nrecs; i++) {
		if (f->used[i] || !f->taken[i] || !(id = wt_rec_str(&f->recs[i], "id")))
			continue;
		if ((repo = wt_rec_str(&f->recs[i], "repo"))) {
			/* <dir>/.git names <dir>; a bare <name>.git names <name>. */
			if ((s = strrchr(repo, '/')) && strcmp(s, "/.git") == 0)
				*s = '\0';
			s = strrchr(repo, '/') ? strrchr(repo, '/') + 1 : repo;
			if (strlen(s) > 4 && strcmp(s + strlen(s) - 4, ".git") == 0)
				s[strlen(s) - 4] = '\0';
			wt_buf_reset(&b);
			wt_buf_addf(&b, "%s@%s", id, s);
			wt_rec_set_str(&f->recs[i], "id", b.s);
			free(repo);
		}
		free(id);
	}
	wt_buf_release(&b);
}

static void
add_repo(struct found *f, const char *gitpath)
{
	git_repository *repo;
	size_t i;
	char *c;

	if (git_repository_open_ext(&repo, gitpath, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0)
		return;
	c = wt_xstrdup(git_repository_commondir(repo));
	git_repository_free(repo);
	for (i = 0; i < f->n; i++)
		if (strcmp(f->common[i], c) == 0) {
			free(c);
			return;
		}
	f->common = wt_xrealloc(f->common, (f->n + 1) * sizeof(char *));
	f->common[f->n++] = c;
}

/* The entry's path; the root's name is its path. */
static void
entry_path(const struct wt_walk_ent *e, struct wt_buf *b)
{
	if (e->dir)
		wt_walk_path(e->dir, e->name, b);
	else
		wt_buf_adds(b, e->name);
}

/*
 * A directory that holds a .git entry is a repository's worktree, one with
 * HEAD and objects a bare repository: noted, and not entered. Depth is
 * bounded and node_modules trees are skipped.
 */
static int
discover(const struct wt_walk_ent *e, void *arg)
{
	struct found *f = arg;
	struct wt_buf b = WT_BUF_INIT;
	struct stat st;
	int repo;

	if (e->type != DT_DIR || e->fd < 0)
		return WT_WALK_CONTINUE;
	if (strcmp(e->name, "node_modules") == 0 || strcmp(e->name, ".git") == 0)
		return WT_WALK_PRUNE;
	repo = fstatat(e->fd, ".git", &st, AT_SYMLINK_NOFOLLOW) == 0 ||
	       (fstatat(e->fd, "HEAD", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
		fstatat(e->fd, "objects", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode));
	if (repo) {
		entry_path(e, &b);
		add_repo(f, b.s);
		wt_buf_release(&b);
		return WT_WALK_PRUNE;
	}
	return e->depth >= 6 ? WT_WALK_PRUNE : WT_WALK_CONTINUE;
}

/* Names an unreadable directory under -d, and goes on. */
static void
unreadable(const struct wt_walk_ent *e, const char *what, int errnum, void *arg)
{
	struct wt_buf b = WT_BUF_INIT;

	(void)arg;
	entry_path(e, &b);
	warnx("cannot %s '%s': %s", what, b.s, strerror(errnum));
	wt_buf_release(&b);
}

/* 1 when path is top or below it. */
static int
below(const char *top, const char *path)
{
	size_t n = strlen(top);

	if (n == 1 && top[0] == '/')
		return path[0] == '/';
	return strncmp(path, top, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

/*
 * A found repository's linked worktrees count only when they are under
 * -d's directory, as git names them or resolved (a path through a
 * symbolic link); the others are elsewhere, and not asked for.
 */
static int
under_top(const struct found *f, const struct wt_rec *r)
{
	char *path = wt_rec_str(r, "path"), *real;
	int in;

	if (!path)
		return 0;
	in = below(f->top, path);
	if (!in && (real = realpath(path, NULL))) {
		in = below(f->top, real);
		free(real);
	}
	free(path);
	return in;
}

static int
collect(struct wt_rec *r, void *arg)
{
	struct found *f = arg;
	int m;

	if ((wt_rec_bool(r, "main", &m) == 0 && m) || !under_top(f, r))
		return 0;
	f->recs = wt_xrealloc(f->recs, (f->nrecs + 1) * sizeof(*f->recs));
	memset(&f->recs[f->nrecs], 0, sizeof(*f->recs));
	wt_rec_copy(&f->recs[f->nrecs++], r);
	return 0;
}

/* A registry record whose path git also knows gets git's live fields. */
static int
merge(struct wt_rec *r, void *arg)
{
	static const char *const live[] = { "branch", "head", "locked", "prunable" };
	struct found *f = arg;
	char *path = wt_rec_str(r, "path"), *p;
	size_t i, k, n;
	const char *raw;
	char *id = wt_rec_str(r, "id");

	if (id)
		mark_taken(f, id, path);
	free(id);
	for (i = 0; path && i < f->nrecs; i++) {
		if (f->used[i] || !(p = wt_rec_str(&f->recs[i], "path")))
			continue;
		if (strcmp(p, path) == 0) {
			f->used[i] = 1;
			for (k = 0; k < sizeof(live) / sizeof(live[0]); k++)
				if ((raw = wt_rec_raw(&f->recs[i], live[k], &n)))
					wt_rec_set_raw(r, live[k], raw, n);
			if (wt_rec_find(r, "repo") < 0 &&
			    (raw = wt_rec_raw(&f->recs[i], "repo", &n)))
				wt_rec_set_raw(r, "repo", raw, n);
			free(p);
			break;
		}
		free(p);
	}
	free(path);
	return emit(r, NULL);
}

static void
list_dir(const char *dir, const struct wt_registry *reg, int have_reg)
{
	struct found f;
	git_repository *repo;
	size_t i;
	char *real = realpath(dir, NULL);

	if (!real) {
		struct wt_rec r = WT_REC_INIT;
		struct wt_obj ctx;

		wt_obj_init(&ctx);
		wt_obj_str(&ctx, "dir", dir);
		wt_rec_clear(&r);
		wt_rec_error(&r, WT_E_BASE, &ctx, "cannot read '%s': %s", dir,
			     strerror(errno));
		wt_pool_push(pool, &r);
		wt_rec_release(&r);
		wt_obj_release(&ctx);
		return;
	}
	memset(&f, 0, sizeof(f));
	{
		struct wt_walk_ops ops = { .entry = discover, .error = unreadable, .arg = &f,
					   .flags = WT_WALK_NOSTAT };
		struct wt_walker *wk = wt_walker_new(1);
		struct wt_walk *w = wt_walk_new(&ops);

		wt_walk_run(wk, w, real);
		wt_walk_free(w);
		wt_walker_free(wk);
	}
	f.top = real;
	for (i = 0; i < f.n; i++) {
		if (git_repository_open(&repo, f.common[i]) < 0)
			continue;
		wt_git_list_worktrees(repo, collect, &f);
		git_repository_free(repo);
	}
	free(real);
	f.top = NULL;
	f.used = calloc(f.nrecs + 1, 1);
	f.taken = calloc(f.nrecs + 1, 1);
	index_ids(&f);
	if (have_reg && wt_registry_each(reg, merge, &f) < 0)
		warn("cannot read '%s'", reg->path);
	distinct_ids(&f);
	for (i = 0; i < f.nrecs; i++)
		if (!f.used[i])
			emit(&f.recs[i], NULL);
	for (i = 0; i < f.nrecs; i++)
		wt_rec_release(&f.recs[i]);
	for (i = 0; i < f.n; i++)
		free(f.common[i]);
	free(f.recs);
	free(f.common);
	free(f.used);
	free(f.taken);
	free(f.slots);
}

/*
 * The one view (wt-ls(1)): in a repository, the registry's records and then
 * the repository's worktrees that no record names (by path, as git gives it
 * or resolved), told apart from a record of another worktree with the same
 * id as -d does.
 */
static struct found view;
static char **view_path;   /* each view.recs[i]'s path as git gives it, or NULL */
static char **view_real;   /* and resolved, or NULL */
static char **view_id;     /* each view.recs[i]'s id, or NULL */

static int
view_collect(struct wt_rec *r, void *arg)
{
	(void)arg;
	view.recs = wt_xrealloc(view.recs, (view.nrecs + 1) * sizeof(*view.recs));
	memset(&view.recs[view.nrecs], 0, sizeof(*view.recs));
	wt_rec_copy(&view.recs[view.nrecs++], r);
	return 0;
}

static void
view_open(git_repository *repo)
{
	size_t i;
	char *p;

	memset(&view, 0, sizeof(view));
	if (wt_git_list_worktrees(repo, view_collect, NULL) < 0)
		warnx("cannot list the worktrees: %s", wt_git_errmsg());
	view.used = calloc(view.nrecs + 1, 1);
	view.taken = calloc(view.nrecs + 1, 1);
	view_path = calloc(view.nrecs + 1, sizeof(char *));
	view_real = calloc(view.nrecs + 1, sizeof(char *));
	view_id = calloc(view.nrecs + 1, sizeof(char *));
	for (i = 0; i < view.nrecs; i++) {
		view_id[i] = wt_rec_str(&view.recs[i], "id");
		if ((p = wt_rec_str(&view.recs[i], "path"))) {
			view_real[i] = realpath(p, NULL);
			view_path[i] = p;
		}
	}
	index_ids(&view);
}

/*
 * A registry record names the view's worktree at its path; its id is taken
 * from the others. Compared on the record's tokens: a registry streams
 * through here, and few of its records concern the view.
 */
static int
view_mark(struct wt_rec *r, void *arg)
{
	int tp = wt_rec_find(r, "path"), ti = wt_rec_find(r, "id"), hit = 0;
	char *path, *id;
	size_t i;

	(void)arg;
	for (i = 0; tp >= 0 && i < view.nrecs; i++)
		if (!view.used[i] && view_path[i] && (wt_rec_tokeq(r, tp, view_path[i]) ||
		    (view_real[i] && wt_rec_tokeq(r, tp, view_real[i]))))
			view.used[i] = 1;
	for (i = 0; ti >= 0 && !hit && i < view.nrecs; i++)
		hit = view_id[i] && wt_rec_tokeq(r, ti, view_id[i]);
	if (hit) {
		path = wt_rec_str(r, "path");
		id = wt_rec_str(r, "id");
		mark_taken(&view, id, path);
		free(id);
		free(path);
	}
	return 0;
}

static int
view_emit(struct wt_rec *r, void *arg)
{
	view_mark(r, arg);
	return emit(r, arg);
}

/*
 * The view's worktrees no record names. After a selective read of the
 * registry (-i, -s), the whole registry is read for the names only when a
 * worktree of the view is selected at all.
 */
static void
view_close(const struct wt_registry *reg, int partial)
{
	size_t i;
	int want = 0;

	for (i = 0; partial && i < view.nrecs; i++)
		want |= match(&view.recs[i], 0);
	if (want && wt_registry_each(reg, view_mark, NULL) < 0)
		err(WT_EXIT_FATAL, "cannot read '%s'", reg->path);
	distinct_ids(&view);
	for (i = 0; i < view.nrecs; i++) {
		if (!view.used[i])
			emit(&view.recs[i], NULL);
		wt_rec_release(&view.recs[i]);
		free(view_path[i]);
		free(view_real[i]);
		free(view_id[i]);
	}
	free(view.recs);
	free(view.used);
	free(view.taken);
	free(view.slots);
	free(view_path);
	free(view_real);
	free(view_id);
}

static void
not_found(const char *id)
{
	struct wt_rec r = WT_REC_INIT;

	wt_rec_clear(&r);
	wt_rec_set_str(&r, "id", id);
	wt_rec_error(&r, WT_E_BASE, NULL, "no such worktree");
	wt_pool_push(pool, &r);
	wt_rec_release(&r);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		WT_LONGOPTS_STD,
		{ NULL, 0, NULL, 0 },
	};
	struct wt_config cfg;
	struct wt_registry reg;
	struct wt_rec r = WT_REC_INIT;
	const char *ropt = NULL, *dir = NULL;
	size_t i;
	int c, gflag = 0, jobs = 0, have, rc, used = 1, here = 0;
	git_repository *repo;

	wt_setprogname(argv[0]);
	while ((c = getopt_long(argc, argv, "d:ghi:j:r:s:", longopts, NULL)) != -1)
		switch (c) {
		case 'd': dir = optarg; break;
		case 'g': gflag = 1; break;
		case 'i':
			ids = wt_xrealloc(ids, (nids + 1) * sizeof(*ids));
			ids[nids++] = optarg;
			break;
		case 'j': jobs = wt_parse_jobs(optarg); break;
		case 'r': ropt = optarg; break;
		case 's':
			statuses = wt_xrealloc(statuses, (nstatuses + 1) * sizeof(*statuses));
			statuses[nstatuses++] = optarg;
			break;
		default: wt_opt_other(c, usage_text);
		}
	if (optind != argc)
		usage();
	seen = calloc(nids + 1, 1);

	wt_config_load(&cfg);
	if (!jobs)
		jobs = cfg.jobs;
	if ((have = wt_registry_open(&reg, &cfg, ropt)) < 0)
		err(WT_EXIT_FATAL, "cannot read '%s'", reg.path);
	/* Only the default registry may be missing: a named one is a mistake. */
	if (!have && (ropt || (cfg.registry && *cfg.registry)))
		errx(WT_EXIT_FATAL, "no registry at '%s'", reg.path);
	/* A reader changes nothing, but says once what wt-fsck --repair would mend. */
	if (have && (c = wt_registry_leftovers(&reg, NULL, NULL)))
		warnx("'%s' %s: run wt-fsck --repair", reg.path, c & WT_LEFT_JOURNAL ?
		      "has a journal a killed run left" : c & WT_LEFT_INDEX ?
		      "is newer than its index" : "has a temporary file a killed run left");
	if (gflag || dir || !have || !ropt)
		wt_git_init();
	/* -r names exactly a file; otherwise, in a repository, the registry and git are one view. */
	if (have && !ropt && !dir && git_repository_open_ext(&repo, ".", 0, NULL) == 0) {
		view_open(repo);
		git_repository_free(repo);
		here = 1;
	}
	/* Without -g the pool only writes: no record needs a look. */
	pool = wt_pool_new(gflag ? jobs : 1, gflag ? want_git : NULL, gflag ? add_git : noop,
			   NULL, stdout);

	if (have && !dir && nids) {
		/* By id through the index: O(1) each. */
		for (i = 0; i < nids; i++) {
			if ((rc = wt_registry_find(&reg, ids[i], &r, &used)) < 0)
				err(WT_EXIT_FATAL, "cannot read '%s'", reg.path);
			if (rc)
				emit(&r, NULL);
		}
	} else if (have && !dir && nstatuses) {
		for (i = 0; i < nstatuses; i++)
			if (wt_registry_each_status(&reg, statuses[i], emit, NULL, &used) < 0)
				err(WT_EXIT_FATAL, "cannot read '%s'", reg.path);
	} else if (dir) {
		list_dir(dir, &reg, have);
	} else if (have) {
		if (wt_registry_each(&reg, here ? view_emit : emit, NULL) < 0)
			err(WT_EXIT_FATAL, "cannot read '%s'", reg.path);
	} else {
		/* No registry: the worktrees of the repository around us. */
		if (git_repository_open_ext(&repo, ".", 0, NULL) < 0)
			errx(WT_EXIT_FATAL, "no registry at '%s' and not in a git repository",
			     reg.path);
		if (wt_git_list_worktrees(repo, emit, NULL) < 0)
			errx(WT_EXIT_FATAL, "cannot list the worktrees: %s", wt_git_errmsg());
		git_repository_free(repo);
	}
	if (here)
		view_close(&reg, nids || nstatuses);
	for (i = 0; i < nids; i++)
		if (!seen[i])
			not_found(ids[i]);
	/*
	 * A query that had to scan leaves an index behind for the next one, when
	 * the registry is ours to write and no writer holds the lock.
	 */
	if (have && (nids || nstatuses) && !used && !reg.moai &&
	    access(reg.dir, W_OK) == 0)
		wt_registry_reindex(&reg, 0);
	errors += wt_pool_finish(pool);
	wt_flush_stdout();
	wt_rec_release(&r);
	wt_registry_release(&reg);
	wt_config_release(&cfg);
	free(ids);
	free(statuses);
	free(seen);
	return errors ? WT_EXIT_RECORDS : WT_EXIT_OK;
}
