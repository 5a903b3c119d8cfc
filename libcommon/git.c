/* git.c: what the programs ask of git, through libgit2. */
#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <git2.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wt.h"

static pthread_once_t git_once = PTHREAD_ONCE_INIT;

static void
git_init_once(void)
{
	git_libgit2_init();
	/* Owner checks would refuse repositories a test or a root user makes. */
	git_libgit2_opts(GIT_OPT_SET_OWNER_VALIDATION, 0);
}

/* The thread of wt_git_init_soon, joined by the first wt_git_init after it. */
static struct {
	pthread_mutex_t mu;
	pthread_t th;
	int running;
} soon = { PTHREAD_MUTEX_INITIALIZER, 0, 0 };

void
wt_git_init(void)
{
	pthread_once(&git_once, git_init_once);
	/*
	 * Joined, not left to end on its own: its thread-local state (the TLS
	 * library's) is freed only as it ends, and an exit meanwhile would
	 * find it neither freed nor held.
	 */
	pthread_mutex_lock(&soon.mu);
	if (soon.running) {
		pthread_join(soon.th, NULL);
		soon.running = 0;
	}
	pthread_mutex_unlock(&soon.mu);
}

static void *
init_thread(void *arg)
{
	(void)arg;
	pthread_once(&git_once, git_init_once);
	return NULL;
}

void
wt_git_init_soon(void)
{
	pthread_mutex_lock(&soon.mu);
	if (!soon.running && pthread_create(&soon.th, NULL, init_thread, NULL) == 0)
		soon.running = 1;
	pthread_mutex_unlock(&soon.mu);
}

const char *
wt_git_errmsg(void)
{
	const git_error *e = git_error_last();

	return e && e->message ? e->message : "unknown libgit2 error";
}

/* path without trailing slashes (but "/" stays). */
static char *
strip_slash(const char *path)
{
	size_t n = strlen(path);

	while (n > 1 && path[n - 1] == '/')
		n--;
	return wt_xstrndup(path, n);
}

/*
 * Sets branch and head from the HEAD file in admin (the worktree's git dir):
 * branch null when detached; head absent when the branch is unborn.
 */
static void
fill_head(struct wt_rec *r, git_repository *repo, const char *admin)
{
	struct wt_buf p = WT_BUF_INIT;
	git_oid oid;
	char *head, hex[GIT_OID_HEXSZ + 1];

	wt_buf_addf(&p, "%s/HEAD", admin);
	head = wt_read_small(p.s, 4096);
	wt_buf_release(&p);
	if (!head)
		return;
	if (strncmp(head, "ref: ", 5) == 0) {
		if (strncmp(head + 5, "refs/heads/", 11) == 0)
			wt_rec_set_str(r, "branch", head + 16);
		else
			wt_rec_set_str(r, "branch", head + 5);
		if (git_reference_name_to_id(&oid, repo, head + 5) == 0)
			wt_rec_set_str(r, "head", git_oid_tostr(hex, sizeof(hex), &oid));
	} else if (git_oid_fromstr(&oid, head) == 0) {
		wt_rec_set_null(r, "branch");
		wt_rec_set_str(r, "head", git_oid_tostr(hex, sizeof(hex), &oid));
	}
	free(head);
}

int
wt_git_fill_head(struct wt_rec *r, git_repository *wtrepo)
{
	char *admin = strip_slash(git_repository_path(wtrepo));

	fill_head(r, wtrepo, admin);
	free(admin);
	return 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
wt_git_list_worktrees(git_repository *repo, wt_rec_fn fn, void *arg)
{
	git_strarray names = { NULL, 0 };
	git_worktree *wt;
	git_buf reason = { NULL, 0, 0 };
	struct wt_rec r = WT_REC_INIT;
	struct wt_buf b = WT_BUF_INIT;
	char *common = strip_slash(git_repository_commondir(repo)), *top, *base;
	const char *wd;
	git_repository *main = NULL;
	size_t i;
	int locked, ret = -1;
	struct stat st;

	/* The main worktree, unless the repository is bare. */
	if (git_repository_open(&main, common) < 0)
		goto out;
	if (!git_repository_is_bare(main) && (wd = git_repository_workdir(main))) {
		top = strip_slash(wd);
		base = strrchr(top, '/');
		wt_rec_clear(&r);
		wt_rec_set_str(&r, "id", base && base[1] ? base + 1 : top);
		wt_rec_set_str(&r, "path", top);
		wt_rec_set_str(&r, "repo", common);
		fill_head(&r, main, common);
		wt_rec_set_bool(&r, "main", 1);
		free(top);
		if (fn(&r, arg)) {
			ret = 0;
			goto out;
		}
	}
	if (git_worktree_list(&names, main) < 0)
		goto out;
	/* A repository with no linked worktree has a NULL list: qsort must not see it. */
	if (names.count)
		qsort(names.strings, names.count, sizeof(char *), cmp_str);
	for (i = 0; i < names.count; i++) {
		if (git_worktree_lookup(&wt, main, names.strings[i]) < 0)
			continue;
		wt_rec_clear(&r);
		wt_rec_set_str(&r, "id", names.strings[i]);
		top = strip_slash(git_worktree_path(wt));
		wt_rec_set_str(&r, "path", top);
		wt_rec_set_str(&r, "repo", common);
		wt_buf_reset(&b);
		wt_buf_addf(&b, "%s/worktrees/%s", common, names.strings[i]);
		fill_head(&r, main, b.s);
		locked = git_worktree_is_locked(&reason, wt);
		while (locked > 0 && reason.size && strchr("\n\r ", reason.ptr[reason.size - 1]))
			reason.ptr[--reason.size] = '\0';
		if (locked > 0 && reason.size)
			wt_rec_set_str(&r, "locked", reason.ptr);
		else
			wt_rec_set_bool(&r, "locked", locked > 0);
		git_buf_dispose(&reason);
		/* Prunable as git says: its directory is gone and it is not locked. */
		wt_rec_set_bool(&r, "prunable", locked <= 0 && stat(top, &st) < 0);
		free(top);
		git_worktree_free(wt);
		if (fn(&r, arg))
			break;
	}
	ret = 0;
out:
	if (ret < 0)
		warnx("cannot list worktrees of '%s': %s", common, wt_git_errmsg());
	git_strarray_dispose(&names);
	git_repository_free(main);
	wt_rec_release(&r);
	wt_buf_release(&b);
	free(common);
	return ret;
}

int
wt_git_tracks_under(git_index *idx, const char *relpath)
{
	struct wt_buf b = WT_BUF_INIT;
	size_t at;
	int found;

	if (git_index_find(&at, idx, relpath) == 0) {
		wt_buf_release(&b);
		return 1;
	}
	wt_buf_addf(&b, "%s/", relpath);
	found = git_index_find_prefix(&at, idx, b.s) == 0;
	wt_buf_release(&b);
	return found;
}

/*
 * The index flags that make git (and libgit2's status) look away from a
 * file: skip-worktree (sparse checkouts, "git update-index --skip-worktree")
 * and assume-unchanged ("--assume-unchanged"). What is on disk under them
 * is compared with the index by content.
 */
long
wt_git_hidden_changes(git_repository *repo, git_index *idx, char **first)
{
	struct wt_buf p = WT_BUF_INIT;
	const char *top = git_repository_workdir(repo);
	struct stat st;
	git_oid oid;
	size_t i, n = git_index_entrycount(idx);
	long changed = 0;
	char target[4096];
	ssize_t len;
	int differs;

	if (first)
		*first = NULL;
	for (i = 0; top && i < n; i++) {
		const git_index_entry *e = git_index_get_byindex(idx, i);

		if (!(e->flags & GIT_INDEX_ENTRY_VALID) &&
		    !(e->flags_extended & GIT_INDEX_ENTRY_SKIP_WORKTREE))
			continue;
		wt_buf_reset(&p);
		wt_buf_addf(&p, "%s%s", top, e->path);
		/* Absent is what a sparse checkout means: the index still has it. */
		if (lstat(p.s, &st) < 0)
			continue;
		if (S_ISLNK(st.st_mode)) {
			len = readlink(p.s, target, sizeof(target));
			differs = e->mode != GIT_FILEMODE_LINK || len < 0 ||
				  git_odb_hash(&oid, target, (size_t)len, GIT_OBJECT_BLOB) < 0 ||
				  !git_oid_equal(&oid, &e->id);
		} else if (S_ISREG(st.st_mode)) {
			differs = git_odb_hashfile(&oid, p.s, GIT_OBJECT_BLOB) < 0 ||
				  !git_oid_equal(&oid, &e->id);
		} else
			differs = 1;
		if (differs && !changed++ && first)
			*first = wt_xstrdup(e->path);
	}
	wt_buf_release(&p);
	return changed;
}

/* 1 when every branch and HEAD of the submodule repository are on its remote-tracking refs. */
static int
module_pushed(git_repository *sub)
{
	git_reference_iterator *it = NULL;
	git_reference *ref;
	git_oid *tips = NULL, *mine = NULL, head;
	size_t ntips = 0, nmine = 0, i;
	int ok = 1;

	if (git_reference_iterator_new(&it, sub) < 0)
		return 0;
	while (git_reference_next(&ref, it) == 0) {
		const char *name = git_reference_name(ref);
		const git_oid *id = git_reference_target(ref);

		if (id && strncmp(name, "refs/remotes/", 13) == 0) {
			tips = wt_xrealloc(tips, (ntips + 1) * sizeof(*tips));
			git_oid_cpy(&tips[ntips++], id);
		} else if (id && strncmp(name, "refs/heads/", 11) == 0) {
			mine = wt_xrealloc(mine, (nmine + 1) * sizeof(*mine));
			git_oid_cpy(&mine[nmine++], id);
		}
		git_reference_free(ref);
	}
	git_reference_iterator_free(it);
	/* A submodule is checked out detached: its HEAD is what matters most. */
	if (git_reference_name_to_id(&head, sub, "HEAD") == 0) {
		mine = wt_xrealloc(mine, (nmine + 1) * sizeof(*mine));
		git_oid_cpy(&mine[nmine++], &head);
	}
	for (i = 0; ok && i < nmine; i++)
		ok = ntips && git_graph_reachable_from_any(sub, &mine[i], tips, ntips) == 1;
	free(tips);
	free(mine);
	return ok;
}

/* Looks for submodule repositories below dir (rel: its path under modules/). */
static long
scan_modules(const char *dir, const char *rel, int depth, char **first)
{
	struct wt_buf p = WT_BUF_INIT, r = WT_BUF_INIT;
	git_repository *sub = NULL;
	struct dirent *de;
	struct stat st;
	long n = 0;
	DIR *d;

	wt_buf_addf(&p, "%s/HEAD", dir);
	if (lstat(p.s, &st) == 0 && S_ISREG(st.st_mode)) {
		/* A repository: nested submodules live in its own modules/. */
		if (git_repository_open_bare(&sub, dir) < 0 || !module_pushed(sub)) {
			n++;
			if (first && !*first)
				*first = wt_xstrdup(rel);
		}
		git_repository_free(sub);
		wt_buf_reset(&p);
		wt_buf_addf(&p, "%s/modules", dir);
		n += scan_modules(p.s, rel, depth + 1, first);
		goto out;
	}
	if (depth > 32 || !(d = opendir(dir)))
		goto out;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' && (!de->d_name[1] || (de->d_name[1] == '.' && !de->d_name[2])))
			continue;
		wt_buf_reset(&p);
		wt_buf_addf(&p, "%s/%s", dir, de->d_name);
		if (lstat(p.s, &st) < 0 || !S_ISDIR(st.st_mode))
			continue;
		wt_buf_reset(&r);
		wt_buf_addf(&r, "%s%s%s", rel, *rel ? "/" : "", de->d_name);
		n += scan_modules(p.s, r.s, depth + 1, first);
	}
	closedir(d);
out:
	wt_buf_release(&p);
	wt_buf_release(&r);
	return n;
}

long
wt_git_modules_unpushed(const char *admin, char **first)
{
	struct wt_buf p = WT_BUF_INIT;
	long n;

	if (first)
		*first = NULL;
	wt_buf_addf(&p, "%s/modules", admin);
	n = scan_modules(p.s, "", 0, first);
	wt_buf_release(&p);
	return n;
}
