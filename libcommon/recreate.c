/* recreate.c: the one rule of what is recreatable, for every program that measures, prunes, archives or removes. */
#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <git2.h>
#include <pthread.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "wt.h"

/*
 * The rule, for wt-du, wt-prune, wt-archive and wt-rm alike: an entry is a
 * recreatable artifact when the table names it, git ignores it and git
 * tracks nothing at or under it. What git tracks is work; what git does not
 * ignore is, for all we know, work too.
 */
struct shared;

struct wt_artifacts {
	pthread_mutex_t mu;
	char *top;
	char *admin;                /* top's admin directory, when the caller knew it */
	git_repository *repo;
	git_index *idx;
	int own_repo, own_idx;      /* opened here, freed here */
	int tried, failed, flags;
	struct shared *shared;      /* repo is borrowed from it, till the free */
};

/*
 * Linked worktrees of one repository share its repository object: opening
 * a worktree (realpath of every path, three configuration files, the
 * index through the repository) costs more than measuring a small
 * worktree. What the rule asks of git depends on the common directory
 * (info/exclude, the configuration: core.excludesFile, core.ignorecase),
 * the worktree's top (its .gitignore files) and its own index, so one
 * repository opened on the common directory, pointed at the worktree's
 * top, with the worktree's index read on its own, answers as the
 * worktree's own would. Not when the worktrees have a configuration each
 * (extensions.worktreeConfig): those open their own. A shared repository
 * is lent to one wt_artifacts at a time; idle ones are kept for the next.
 */
struct shared {
	struct shared *next;
	dev_t dev;                  /* the common directory's, by which it is found */
	ino_t ino;
	git_repository *repo;
	int ignorecase;
};

static struct {
	pthread_mutex_t mu;
	struct shared *idle;
	int nidle;
} pool = { PTHREAD_MUTEX_INITIALIZER, NULL, 0 };

/* Idle shared repositories kept at most: about one per worker. */
#define IDLE_MAX 16

static void
shared_free(struct shared *sh)
{
	git_repository_free(sh->repo);
	free(sh);
}

/* A shared repository for common, lent to the caller; NULL when it cannot be shared. */
static struct shared *
shared_get(const char *common)
{
	struct shared **pp, *sh;
	git_config *cfg = NULL;
	struct stat st;
	int v = 0;

	/* By inode: "worktrees/x/../.." of each worktree is one directory. */
	if (stat(common, &st) < 0)
		return NULL;
	pthread_mutex_lock(&pool.mu);
	for (pp = &pool.idle; *pp; pp = &(*pp)->next)
		if ((*pp)->dev == st.st_dev && (*pp)->ino == st.st_ino) {
			sh = *pp;
			*pp = sh->next;
			pool.nidle--;
			pthread_mutex_unlock(&pool.mu);
			return sh;
		}
	pthread_mutex_unlock(&pool.mu);
	sh = wt_xmalloc(sizeof(*sh));
	memset(sh, 0, sizeof(*sh));
	if (git_repository_open_bare(&sh->repo, common) < 0 ||
	    git_repository_config_snapshot(&cfg, sh->repo) < 0)
		goto fail;
	if (git_config_get_bool(&v, cfg, "extensions.worktreeconfig") == 0 && v)
		goto fail;
	if (git_config_get_bool(&v, cfg, "core.ignorecase") == 0)
		sh->ignorecase = v;
	git_config_free(cfg);
	sh->dev = st.st_dev;
	sh->ino = st.st_ino;
	return sh;
fail:
	git_config_free(cfg);
	git_repository_free(sh->repo);
	free(sh);
	return NULL;
}

static void
shared_put(struct shared *sh)
{
	if (!sh)
		return;
	pthread_mutex_lock(&pool.mu);
	if (pool.nidle < IDLE_MAX) {
		sh->next = pool.idle;
		pool.idle = sh;
		pool.nidle++;
		sh = NULL;
	}
	pthread_mutex_unlock(&pool.mu);
	if (sh)
		shared_free(sh);
}

void
wt_artifacts_release_shared(void)
{
	struct shared *sh;

	pthread_mutex_lock(&pool.mu);
	while ((sh = pool.idle)) {
		pool.idle = sh->next;
		shared_free(sh);
	}
	pool.nidle = 0;
	pthread_mutex_unlock(&pool.mu);
}

/*
 * The shared repository of top's common directory pointed at top, and top's
 * own index, in a; 0, or -1 when top is not a linked worktree or anything
 * fails (the caller opens top's own repository then).
 */
static int
open_shared(struct wt_artifacts *a)
{
	struct wt_buf p = WT_BUF_INIT;
	char *admin, *common = NULL;
	struct shared *sh = NULL;
	git_index *idx = NULL;

	admin = a->admin ? wt_xstrdup(a->admin) : wt_git_admin_dir(a->top);
	if (!admin || !(common = wt_git_common_dir(admin)) ||
	    !(sh = shared_get(common)))
		goto fail;
	wt_buf_addf(&p, "%s/index", admin);
	/*
	 * libgit2 keeps ignore files by their path relative to the workdir:
	 * the last worktree's .gitignore would answer for this one's. Its
	 * cache goes with the workdir it was read for.
	 */
	if (git_repository_set_workdir(sh->repo, a->top, 0) < 0 ||
	    git_attr_cache_flush(sh->repo) < 0 ||
	    git_index_open(&idx, p.s) < 0 ||
	    git_index_set_caps(idx, sh->ignorecase ? GIT_INDEX_CAPABILITY_IGNORE_CASE : 0) < 0)
		goto fail;
	a->shared = sh;
	a->repo = sh->repo;
	a->idx = idx;
	a->own_idx = 1;
	free(admin);
	free(common);
	wt_buf_release(&p);
	return 0;
fail:
	git_index_free(idx);
	shared_put(sh);
	free(admin);
	free(common);
	wt_buf_release(&p);
	return -1;
}

struct wt_artifacts *
wt_artifacts_new(const char *top, git_repository *repo, git_index *idx, int flags)
{
	struct wt_artifacts *a = wt_xmalloc(sizeof(*a));

	memset(a, 0, sizeof(*a));
	pthread_mutex_init(&a->mu, NULL);
	a->top = wt_xstrdup(top);
	a->repo = repo;
	a->idx = idx;
	a->tried = repo && idx;
	a->flags = flags;
	return a;
}

void
wt_artifacts_admin(struct wt_artifacts *a, const char *admin)
{
	free(a->admin);
	a->admin = admin ? wt_xstrdup(admin) : NULL;
}

void
wt_artifacts_free(struct wt_artifacts *a)
{
	if (!a)
		return;
	if (a->own_idx)
		git_index_free(a->idx);
	if (a->own_repo)
		git_repository_free(a->repo);
	shared_put(a->shared);
	pthread_mutex_destroy(&a->mu);
	free(a->top);
	free(a->admin);
	free(a);
}

/* Opens what was not given, once; under a->mu. 0, or -1 when git cannot answer. */
static int
need_git(struct wt_artifacts *a)
{
	int rc;

	if (!a->tried) {
		a->tried = 1;
		wt_git_init();
		if (!a->repo && !a->idx && open_shared(a) == 0)
			return 0;
		if (!a->repo) {
			a->own_repo = 1;
			/*
			 * The worktree's own repository, not one around it: no
			 * repository at top, nothing is ignored, nothing is recreatable.
			 */
			if ((rc = git_repository_open_ext(&a->repo, a->top,
							  GIT_REPOSITORY_OPEN_NO_SEARCH, NULL)) < 0) {
				a->repo = NULL;
				a->failed = 1;
				if (rc == GIT_ENOTFOUND)
					return -1;
			}
		}
		if (a->repo && !a->idx) {
			if (git_repository_index(&a->idx, a->repo) < 0)
				a->idx = NULL;
			a->own_idx = a->idx != NULL;
		}
		if (!a->repo || !a->idx) {
			warnx("'%s': cannot read git's index, no artifact is recreatable: %s",
			      a->top, wt_git_errmsg());
			a->failed = 1;
		}
	}
	return a->failed ? -1 : 0;
}

/*
 * git matches a symbolic link as a file: "node_modules/" does not ignore a
 * link named node_modules. libgit2 looks through the link and says it does,
 * so for a link git itself is asked (git check-ignore, argv, no shell). 1
 * when git ignores it; 0 otherwise, also when git cannot be run.
 */
static int
git_ignores_link(const char *top, const char *rel)
{
	char *argv[] = { "git", "-C", (char *)top, "check-ignore", "-q", "--", (char *)rel, NULL };
	extern char **environ;
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int st, rc;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	rc = posix_spawnp(&pid, "git", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0)
		return 0;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return 0;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* kind when rel is ignored by git and holds nothing tracked, else NULL. */
static const char *
decide(struct wt_artifacts *a, const char *kind, const char *rel, int link)
{
	int ignored = 0;

	if (!kind)
		return NULL;
	pthread_mutex_lock(&a->mu);
	if (need_git(a) < 0 || wt_git_tracks_under(a->idx, rel) ||
	    git_ignore_path_is_ignored(&ignored, a->repo, rel) < 0)
		ignored = 0;
	pthread_mutex_unlock(&a->mu);
	if (ignored && link)
		ignored = git_ignores_link(a->top, rel);
	return ignored ? kind : NULL;
}

/*
 * 1 when the directory rel holds another repository or worktree somewhere
 * below: then it is not recreatable, whatever its name (a dependency
 * checked out with git inside node_modules, build/dep with commits of its
 * own). A walk of its directories; what cannot be walked holds one.
 */
static int
holds_nested(struct wt_artifacts *a, const char *rel)
{
	struct wt_walker *wk = wt_walker_new(1);
	struct wt_buf p = WT_BUF_INIT;
	long n;

	wt_buf_addf(&p, "%s/%s", a->top, rel);
	n = wt_walk_find_nested(wk, p.s, NULL, NULL);
	wt_walker_free(wk);
	wt_buf_release(&p);
	return n != 0;
}

const char *
wt_artifact_entry(struct wt_artifacts *a, const struct wt_walk_ent *e)
{
	struct wt_buf rel = WT_BUF_INIT;
	const char *kind = NULL, *parent, *slash;

	if (!e->dir)
		return NULL;
	parent = wt_walk_dir_name(e->dir);
	if (wt_walk_dir_depth(e->dir) == 0 && (slash = strrchr(parent, '/')))
		parent = slash + 1;
	/* A link in an artifact's place is one too: removed, never followed. */
	if (e->type == DT_DIR || e->type == DT_LNK)
		kind = wt_artifact_dir(e->dirfd, parent, e->name);
	else if (e->type == DT_REG)
		kind = wt_artifact_file_at(e->dirfd, parent, e->name);
	if (!kind)
		return NULL;
	wt_walk_relpath(e->dir, e->name, &rel);
	kind = decide(a, kind, rel.s, e->type == DT_LNK);
	if (kind && e->type == DT_DIR && !(a->flags & WT_ART_OWN_NESTED) && holds_nested(a, rel.s))
		kind = NULL;
	wt_buf_release(&rel);
	return kind;
}

static int
is_link(int dirfd, const char *name)
{
	struct stat st;

	return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
}

int
wt_artifact_path(struct wt_artifacts *a, int topfd, const char *path)
{
	struct wt_buf prefix = WT_BUF_INIT;
	char *p = wt_xstrdup(path), *comp, *next, *dname;
	const char *base = strrchr(a->top, '/');
	int fd = dup(topfd), nfd, found = 0;
	size_t n = strlen(p);

	while (n && p[n - 1] == '/')
		p[--n] = '\0';
	dname = wt_xstrdup(base ? base + 1 : a->top);
	/* Components are opened one by one, never following a link. */
	for (comp = p; fd >= 0 && comp && *comp && !found; comp = next) {
		if ((next = strchr(comp, '/')))
			*next++ = '\0';
		if (prefix.len)
			wt_buf_addc(&prefix, '/');
		wt_buf_adds(&prefix, comp);
		if (decide(a, wt_artifact_dir(fd, dname, comp), prefix.s, is_link(fd, comp)) ||
		    (!next && decide(a, wt_artifact_file_at(fd, dname, comp), prefix.s, 0)))
			found = 1;
		if (found || !next)
			break;
		nfd = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(fd);
		fd = nfd;
		free(dname);
		dname = wt_xstrdup(comp);
	}
	if (fd >= 0)
		close(fd);
	free(dname);
	free(p);
	wt_buf_release(&prefix);
	return found;
}
