/* recreate.c: the one rule of what is recreatable, for every program that measures, prunes, archives or removes. */
#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <git2.h>
#include <pthread.h>
#include <spawn.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
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
	pid_t git;                  /* git check-ignore, asked on fd, answering on out */
	int fd, gitfailed;
	FILE *out;
};

static int git_start(struct wt_artifacts *a);
static void git_stop(struct wt_artifacts *a);

/*
 * Linked worktrees of one repository share its repository object: opening
 * a worktree (realpath of every path, three configuration files, the
 * index through the repository) costs more than measuring a small
 * worktree. What the rule asks of libgit2 is the worktree's own index,
 * read with the common configuration's core.ignorecase, so one repository
 * opened on the common directory, with the worktree's index read on its
 * own, answers as the worktree's own would. Not when the worktrees may have
 * a configuration each (extensions.worktreeConfig, or an includeIf, which
 * may hold for one worktree and not another): those open their own. A
 * shared repository is lent to one wt_artifacts at a time; idle ones are
 * kept for the next.
 */
struct shared {
	struct shared *next;
	dev_t dev;                  /* the common directory's, by which it is found */
	ino_t ino;
	git_repository *repo;
	int ignorecase;
	int remember;               /* answers may be kept (excludes_relative) */
	struct answer *answers;     /* what git said, by what it read to say it */
	size_t nanswers;
};

/*
 * Asking git whether a path is ignored costs more than measuring a small
 * worktree: a git process per worktree, which reads the configuration and
 * every ignore file. Its answer is made of the common directory's part
 * (info/exclude, core.excludesFile, core.ignorecase: one shared
 * repository, one run; not a core.excludesFile read from each worktree's
 * top, excludes_relative), the path and its type, and the .gitignore files
 * from the worktree's top down to the path. A shared repository remembers
 * each answer by a digest of all of those, so the worktrees of one
 * checkout ask git once, not once each; when a .gitignore on the way is
 * a link, or cannot be read, git is asked (gitignore_at).
 */
struct answer {
	unsigned char key[WT_SHA256_LEN];
	int ignored;
};

/* Answers a shared repository keeps at most. */
#define ANSWERS_MAX 256

static struct {
	pthread_mutex_t mu;
	struct shared *idle;
	int nidle;
} pool = { PTHREAD_MUTEX_INITIALIZER, NULL, 0 };

/* Idle shared repositories kept at most: about one per worker. */
#define IDLE_MAX 16

/*
 * 1 when the excludes file git reads (core.excludesFile, else
 * $XDG_CONFIG_HOME/git/ignore, else $HOME/.config/git/ignore) may be named
 * by a relative path: git reads it from each worktree's top, a file each,
 * so no answer is kept for the others.
 */
static int
excludes_relative(git_config *cfg)
{
	const char *home = getenv("HOME"), *f = getenv("XDG_CONFIG_HOME");
	git_config_entry *e = NULL;
	int rel;

	if (!f || !*f)
		f = home;
	if (git_config_get_entry(&e, cfg, "core.excludesfile") == 0)
		f = e->value && strncmp(e->value, "~/", 2) == 0 ? home : e->value;
	rel = f && *f && *f != '/';
	git_config_entry_free(e);
	return rel;
}

static void
shared_free(struct shared *sh)
{
	git_repository_free(sh->repo);
	free(sh->answers);
	free(sh);
}

/* A shared repository for common, lent to the caller; NULL when it cannot be shared. */
static struct shared *
shared_get(const char *common)
{
	struct shared **pp, *sh;
	git_config *cfg = NULL;
	git_config_iterator *it;
	git_config_entry *e;
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
	/*
	 * includeIf may give each worktree its own (onbranch:, gitdir:). By
	 * name, not with a pattern: libgit2 keeps a pattern's match data.
	 */
	if (git_config_iterator_new(&it, cfg) < 0)
		goto fail;
	while ((v = git_config_next(&e, it)) == 0 && strncmp(e->name, "includeif.", 10) != 0)
		;
	git_config_iterator_free(it);
	if (v == 0)
		goto fail;
	if (git_config_get_bool(&v, cfg, "core.ignorecase") == 0)
		sh->ignorecase = v;
	sh->remember = !excludes_relative(cfg);
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
 * The shared repository of top's common directory, and top's
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
	if (git_index_open(&idx, p.s) < 0 ||
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
wt_artifacts_lend(struct wt_artifacts *a, git_repository *repo, git_index *idx)
{
	pthread_mutex_lock(&a->mu);
	if (!a->tried && repo && idx) {
		a->repo = repo;
		a->idx = idx;
		a->tried = 1;
	}
	pthread_mutex_unlock(&a->mu);
}

void
wt_artifacts_start(struct wt_artifacts *a)
{
	pthread_mutex_lock(&a->mu);
	if (!a->git && !a->gitfailed && git_start(a) < 0)
		a->gitfailed = -1;
	pthread_mutex_unlock(&a->mu);
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
	git_stop(a);
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
 * What git ignores is git's to say. libgit2's ignore rules are not git's
 * where it matters most: a .gitignore deeper down that takes a rule back
 * ("!node_modules" in pkg/.gitignore) goes unheard, and a link is looked
 * through ("node_modules/" ignores no link); where they differ, work would
 * be taken for an artifact. So git itself is asked, one
 * "git check-ignore --no-index --stdin -z -v -n" per worktree, started at
 * its first question and kept while the worktree is worked on: a path in,
 * its last matching pattern out (none, or one that starts with "!": not
 * ignored). What git tracks is the index's to say (wt_git_tracks_under).
 */
static void
git_stop(struct wt_artifacts *a)
{
	int st;

	if (a->out)
		fclose(a->out);
	a->out = NULL;
	a->fd = -1;
	if (a->git > 0)
		while (waitpid(a->git, &st, 0) < 0 && errno == EINTR)
			;
	a->git = 0;
}

static int
git_start(struct wt_artifacts *a)
{
	/* Whoever owns the repository, as libgit2 is told (wt_git_init). */
	char *argv[] = { "git", "-c", "safe.directory=*", "-C", a->top, "check-ignore",
			 "--no-index", "--stdin",
			 "-z", "-v", "-n", NULL };
	posix_spawn_file_actions_t fa;
	int sv[2], rc;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, sv[1], 0);
	posix_spawn_file_actions_adddup2(&fa, sv[1], 1);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	rc = posix_spawnp(&a->git, "git", &fa, NULL, argv, wt_git_env());
	posix_spawn_file_actions_destroy(&fa);
	close(sv[1]);
	if (rc != 0) {
		a->git = 0;
		close(sv[0]);
		return -1;
	}
	if (!(a->out = fdopen(sv[0], "r"))) {
		close(sv[0]);
		git_stop(a);
		return -1;
	}
	a->fd = sv[0];
	return 0;
}

/* Whether git ignores rel in a's worktree: 1, 0, or -1 when git cannot say. */
static int
git_ignores(struct wt_artifacts *a, const char *rel)
{
	struct wt_buf q = WT_BUF_INIT;
	char *f[4] = { NULL, NULL, NULL, NULL };
	size_t cap[4] = { 0, 0, 0, 0 };
	int i, rc = -1;

	/* "./" first: a path is a pathspec to git, and ":(...)" at its start magic. */
	wt_buf_addf(&q, "./%s", rel);
	if (a->gitfailed > 0 || (!a->git && git_start(a) < 0))
		goto out;
	if (send(a->fd, q.s, q.len + 1, MSG_NOSIGNAL) != (ssize_t)(q.len + 1))
		goto out;
	/* Source, line number, pattern and path, each ended by a NUL. */
	for (i = 0; i < 4; i++)
		if (getdelim(&f[i], &cap[i], '\0', a->out) < 0)
			goto out;
	if (strcmp(f[3], q.s) == 0)
		rc = f[2][0] && f[2][0] != '!';
out:
	if (rc < 0 && a->gitfailed <= 0) {
		a->gitfailed = 1;
		git_stop(a);
		warnx("'%s': cannot ask git what it ignores, no artifact is recreatable",
		      a->top);
	}
	for (i = 0; i < 4; i++)
		free(f[i]);
	wt_buf_release(&q);
	return rc;
}

/*
 * What the .gitignore of the directory dir (its first len bytes, a path
 * from the top; none: the top) lets git answer: 0 when it is absent or a
 * plain file (added to h, when not NULL); 1 when git may be asked but its
 * answer not remembered (a link, which git does not follow, or a file that
 * cannot be read); -1 when git is not to be asked: anything but a plain
 * file (a FIFO, which git would wait on for ever), or a file git's index
 * marks skip-worktree (a sparse checkout) that cannot be opened, which git
 * status reads from the index, and check-ignore --no-index does not.
 */
static int
gitignore_at(struct wt_artifacts *a, struct wt_sha256 *h, const char *dir, size_t len)
{
	struct wt_buf p = WT_BUF_INIT;
	const git_index_entry *ie;
	struct stat st;
	char buf[8192];
	long long left;
	ssize_t n;
	size_t at;
	int fd, e, rc = -1;

	wt_buf_addf(&p, "%s/", a->top);
	at = p.len;
	wt_buf_addf(&p, "%.*s%s.gitignore", (int)len, dir, len ? "/" : "");
	if ((fd = open(p.s, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)) < 0) {
		e = errno;
		ie = git_index_get_bypath(a->idx, p.s + at, 0);
		if (!ie || !(ie->flags_extended & GIT_INDEX_ENTRY_SKIP_WORKTREE))
			rc = e == ENOENT ? 0 : 1;
		if (rc == 0 && h)
			wt_sha256_update(h, "-", 1);
		goto out;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		goto out;
	rc = 0;
	if (!h)
		goto out;
	wt_sha256_update(h, "+", 1);
	wt_sha256_update(h, &st.st_size, sizeof(st.st_size));
	for (left = (long long)st.st_size; left > 0; left -= n) {
		if ((n = read(fd, buf, left < (long long)sizeof(buf) ? (size_t)left : sizeof(buf))) <= 0) {
			rc = 1;
			break;
		}
		wt_sha256_update(h, buf, (size_t)n);
	}
out:
	if (fd >= 0)
		close(fd);
	wt_buf_release(&p);
	return rc;
}

/*
 * The .gitignore files git reads to say whether rel (of type, a DT_ value)
 * is ignored in a's worktree: from the top down to rel's directory, and
 * rel's own when it is a directory. -1 when one of them says git is not to
 * be asked (gitignore_at); 1 when its answer is not to be remembered; else
 * 0, with the digest of rel, its type and those files in key (when not
 * NULL), by which the answer is remembered.
 */
static int
gitignores(struct wt_artifacts *a, const char *rel, int type, unsigned char *key)
{
	struct wt_sha256 h, *hp = key ? &h : NULL;
	unsigned char t = (unsigned char)type;
	size_t len = 0, end = strlen(rel);
	const char *slash;
	int r, rc = 0;

	if (hp) {
		wt_sha256_init(hp);
		wt_sha256_update(hp, rel, end + 1);
		wt_sha256_update(hp, &t, 1);
	}
	for (;;) {
		if ((r = gitignore_at(a, hp, rel, len)) < 0)
			return -1;
		if (r > 0) {
			rc = 1;
			hp = NULL;
		}
		if (len == end)
			break;
		if ((slash = strchr(rel + len + (len > 0), '/')))
			len = (size_t)(slash - rel);
		else if (type == DT_DIR)
			len = end;
		else
			break;
	}
	if (hp)
		wt_sha256_final(hp, key);
	return rc;
}

/* Whether git ignores rel in a's worktree: 1, 0, or -1 when git cannot say. Under a->mu. */
static int
ignores(struct wt_artifacts *a, const char *rel, int type)
{
	unsigned char buf[WT_SHA256_LEN], *key;
	struct shared *sh = a->shared;
	int way, ignored;
	size_t i;

	key = sh && sh->remember && type != DT_UNKNOWN ? buf : NULL;
	if ((way = gitignores(a, rel, type, key)) < 0)
		return -1;
	if (way > 0)
		key = NULL;
	for (i = 0; key && i < sh->nanswers; i++)
		if (memcmp(sh->answers[i].key, key, WT_SHA256_LEN) == 0)
			return sh->answers[i].ignored;
	if ((ignored = git_ignores(a, rel)) < 0)
		return -1;
	if (key && sh->nanswers < ANSWERS_MAX) {
		if (!sh->nanswers)
			sh->answers = wt_xmalloc(ANSWERS_MAX * sizeof(*sh->answers));
		memcpy(sh->answers[sh->nanswers].key, key, WT_SHA256_LEN);
		sh->answers[sh->nanswers++].ignored = ignored;
	}
	return ignored;
}

/*
 * kind when rel (of type, a DT_ value, or DT_UNKNOWN) is ignored by git and
 * holds nothing tracked, else NULL.
 */
static const char *
decide(struct wt_artifacts *a, const char *kind, const char *rel, int type)
{
	int ignored = 0;

	if (!kind)
		return NULL;
	pthread_mutex_lock(&a->mu);
	if (need_git(a) < 0 || wt_git_tracks_under(a->idx, rel) ||
	    (ignored = ignores(a, rel, type)) < 0)
		ignored = 0;
	pthread_mutex_unlock(&a->mu);
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
	kind = decide(a, kind, rel.s, e->type);
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
		if (decide(a, wt_artifact_dir(fd, dname, comp), prefix.s,
			   is_link(fd, comp) ? DT_LNK : DT_UNKNOWN) ||
		    (!next && decide(a, wt_artifact_file_at(fd, dname, comp), prefix.s, DT_UNKNOWN)))
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
