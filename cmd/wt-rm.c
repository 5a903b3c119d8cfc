/* wt-rm: remove whole worktrees when no work can be lost by it. */
#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <git2.h>
#include <git2/sys/repository.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wt.h"

static struct {
	int force, dry, keep_branch, jobs;
	const char *base;
} opt;

static struct wt_registry reg;
static struct wt_batch *batch;
static struct wt_walker *walker;

/* Refs, packed-refs and git's admin entries are changed by one worker at a time. */
static pthread_mutex_t git_mu = PTHREAD_MUTEX_INITIALIZER;

static const char usage_text[] =
	"usage: wt-rm [-fkn] [-b base] [-j jobs] [-r registry]\n"
	"       wt-rm -h | --help | --version\n"
	"  -b, --base base    the branch merged means merged into (main, origin/main)\n"
	"  -f, --force        remove unsafe worktrees too, saving the work under a ref\n"
	"  -j jobs            examine and remove up to jobs worktrees at once (1 to 256)\n"
	"  -k, --keep-branch  do not delete merged branches\n"
	"  -n, --dry-run      change nothing: say what would be removed\n"
	"  -r registry        the registry to update\n"
	"  -h, --help         print this usage and exit\n"
	"      --version      print the version and exit\n";

static void
usage(void)
{
	wt_usage(usage_text);
}

/* What stands in the way of a removal: the rules, the first instance of each. */
enum {
	R_MODIFIED = 1, R_UNTRACKED = 2, R_PRECIOUS = 4, R_STASH = 8, R_UNMERGED = 16,
	R_INPROGRESS = 32, R_INUSE = 64, NRULES = 7,
	/* What a backup commit of the files saves. */
	R_FILES = R_MODIFIED | R_UNTRACKED | R_PRECIOUS | R_INPROGRESS,
};
static const char *const rule_names[] = {
	"modified", "untracked", "precious", "stash", "unmerged", "in_progress", "in_use",
};

struct check {
	git_repository *repo;
	git_index *idx;
	struct wt_artifacts *arts;
	int topfd;
	const char *top, *admin;
	int rules;
	size_t nmodified, nuntracked, nprecious;
	char *first[NRULES];             /* an example per rule, for the message */
	char **precious;            /* ignored paths to keep in a backup */
	size_t npr;
	const char *branch;         /* short name, or NULL when detached */
	git_oid head;
	int has_head;
	char *base_ref;
	int merged;                 /* WT_MERGED_* */
	enum wt_merged_reason why;
	int pushed;
};

static void
set_rule(struct check *c, int rule, const char *example)
{
	int i;

	for (i = 0; (1 << i) != rule; i++)
		;
	c->rules |= rule;
	if (!c->first[i] && example)
		c->first[i] = wt_xstrdup(example);
}

/* The short name of the branch checked out, or NULL when HEAD is detached. */
static char *
head_branch(git_repository *repo)
{
	git_reference *h = NULL;
	char *name = NULL;

	if (git_reference_lookup(&h, repo, "HEAD") == 0 &&
	    git_reference_type(h) == GIT_REFERENCE_SYMBOLIC &&
	    strncmp(git_reference_symbolic_target(h), "refs/heads/", 11) == 0)
		name = wt_xstrdup(git_reference_symbolic_target(h) + 11);
	git_reference_free(h);
	return name;
}

/* A rebase, merge, cherry-pick, revert or bisect waiting for the user. */
static void
check_state(struct check *c)
{
	const char *what = wt_git_in_progress(c->admin);

	if (what)
		set_rule(c, R_INPROGRESS, what);
}

/*
 * A file that a sparse checkout leaves out is absent from disk with its
 * index entry marked skip-worktree; git's status is silent about it,
 * libgit2's says deleted. Nothing is lost with it: the index has it.
 */
static int
sparse(struct check *c, unsigned status, const char *path)
{
	const git_index_entry *ie;

	return status == GIT_STATUS_WT_DELETED &&
	       (ie = git_index_get_bypath(c->idx, path, 0)) &&
	       (ie->flags_extended & GIT_INDEX_ENTRY_SKIP_WORKTREE);
}

/*
 * 1 when the directory rel (inside the top open at topfd) or one below holds
 * anything but directories: an ignored tree of empty directories holds no
 * work. Not followed through links; what cannot be read counts as held.
 */
static int
holds_files(int topfd, const char *rel, int depth)
{
	struct dirent *de;
	struct stat st;
	int fd = -1, held = 0;
	DIR *d = NULL;

	if (depth > 64 || (fd = openat(topfd, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
				      O_CLOEXEC)) < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return 1;
	}
	while (!held && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		held = fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		       !S_ISDIR(st.st_mode) || holds_files(dirfd(d), de->d_name, depth + 1);
	}
	closedir(d);
	return held;
}

/* Modified, untracked, and ignored files that are not recreatable artifacts. */
static int
check_files(struct check *c)
{
	git_status_list *st = NULL;
	git_status_options so;
	size_t i, n;
	char *first = NULL;
	long hidden;

	git_status_options_init(&so, GIT_STATUS_OPTIONS_VERSION);
	/* Directories are reported whole, not read: node_modules stays cheap. */
	so.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED | GIT_STATUS_OPT_INCLUDE_IGNORED;
	if (git_status_list_new(&st, c->repo, &so) < 0)
		return -1;
	n = git_status_list_entrycount(st);
	for (i = 0; i < n; i++) {
		const git_status_entry *e = git_status_byindex(st, i);
		const git_diff_delta *d = e->index_to_workdir ? e->index_to_workdir :
					  e->head_to_index;
		const char *path = d ? (d->new_file.path ? d->new_file.path :
					d->old_file.path) : NULL;

		if (!path || e->status == GIT_STATUS_CURRENT || sparse(c, e->status, path))
			continue;
		if (e->status == GIT_STATUS_IGNORED) {
			if (wt_artifact_path(c->arts, c->topfd, path) ||
			    (path[strlen(path) - 1] == '/' && !holds_files(c->topfd, path, 0)))
				continue;
			c->nprecious++;
			set_rule(c, R_PRECIOUS, path);
			c->precious = wt_xrealloc(c->precious, (c->npr + 1) * sizeof(char *));
			c->precious[c->npr++] = wt_xstrdup(path);
		} else if (e->status == GIT_STATUS_WT_NEW) {
			c->nuntracked++;
			set_rule(c, R_UNTRACKED, path);
		} else {
			c->nmodified++;
			set_rule(c, R_MODIFIED, path);
		}
	}
	git_status_list_free(st);
	/* Edits under skip-worktree or assume-unchanged: status hides them, they are work. */
	if ((hidden = wt_git_hidden_changes(c->repo, c->idx, &first)) > 0) {
		c->nmodified += (size_t)hidden;
		set_rule(c, R_MODIFIED, first);
	}
	free(first);
	return 0;
}

struct stash_match {
	struct check *c;
	char *wip, *on;             /* "WIP on BRANCH:", "On BRANCH:" */
	git_repository *repo;
	size_t found;
	size_t first;
};

static int
stash_cb(size_t index, const char *message, const git_oid *id, void *arg)
{
	struct stash_match *m = arg;
	git_commit *sc;
	int hit;

	if (!message)
		return 0;
	hit = strncmp(message, m->wip, strlen(m->wip)) == 0 ||
	      strncmp(message, m->on, strlen(m->on)) == 0;
	/* A stash of a detached HEAD names no branch: its parent must be our HEAD. */
	if (hit && !m->c->branch) {
		hit = m->c->has_head && git_commit_lookup(&sc, m->repo, id) == 0;
		if (hit) {
			hit = git_commit_parentcount(sc) > 0 &&
			      git_oid_equal(git_commit_parent_id(sc, 0), &m->c->head);
			git_commit_free(sc);
		}
	}
	if (hit && !m->found++)
		m->first = index;
	return 0;
}

static int
check_stash(struct check *c)
{
	struct stash_match m;
	struct wt_buf b = WT_BUF_INIT;
	const char *name = c->branch ? c->branch : "(no branch)";
	int rc;

	memset(&m, 0, sizeof(m));
	m.c = c;
	m.repo = c->repo;
	wt_buf_addf(&b, "WIP on %s:", name);
	m.wip = wt_buf_detach(&b);
	wt_buf_addf(&b, "On %s:", name);
	m.on = wt_buf_detach(&b);
	rc = git_stash_foreach(c->repo, stash_cb, &m);
	if (rc == GIT_ENOTFOUND)
		rc = 0;
	if (m.found) {
		wt_buf_addf(&b, "stash@{%zu}", m.first);
		set_rule(c, R_STASH, b.s);
	}
	wt_buf_release(&b);
	free(m.wip);
	free(m.on);
	return rc < 0 ? -1 : 0;
}

/* 1 when the commit is in a ref of one of the namespaces (its upstream for a branch). */
static int
contained(git_repository *repo, const git_oid *id, git_reference *head)
{
	git_reference *up = NULL;
	git_reference_iterator *it = NULL;
	git_reference *ref;
	git_oid *tips = NULL;
	size_t n = 0;
	int ret = 0;

	if (head && git_reference_is_branch(head)) {
		if (git_branch_upstream(&up, head) == 0 && git_reference_target(up))
			ret = git_oid_equal(git_reference_target(up), id) ||
			      git_graph_descendant_of(repo, git_reference_target(up), id) == 1;
		git_reference_free(up);
		return ret;
	}
	/* Detached: safe when any branch or remote-tracking branch has it. */
	if (git_reference_iterator_glob_new(&it, repo, "refs/*") < 0)
		return 0;
	while (git_reference_next(&ref, it) == 0) {
		const char *name = git_reference_name(ref);

		if ((strncmp(name, "refs/heads/", 11) == 0 ||
		     strncmp(name, "refs/remotes/", 13) == 0) &&
		    git_reference_type(ref) == GIT_REFERENCE_DIRECT) {
			tips = wt_xrealloc(tips, (n + 1) * sizeof(*tips));
			git_oid_cpy(&tips[n++], git_reference_target(ref));
		}
		git_reference_free(ref);
	}
	git_reference_iterator_free(it);
	ret = n && git_graph_reachable_from_any(repo, id, tips, n) == 1;
	free(tips);
	return ret;
}

/*
 * Merged into the base, or pushed: the commits are safe elsewhere. The base
 * branch itself keeps its commits: removing a worktree of it loses none.
 */
static int
check_commits(struct check *c)
{
	git_reference *head = NULL;
	int rc = git_repository_head(&head, c->repo);

	c->merged = wt_git_head_merged(c->repo, opt.base, &c->why, &c->base_ref);
	/* No commit at all: there are none to lose. */
	if (rc == GIT_EUNBORNBRANCH || rc == GIT_ENOTFOUND)
		return 0;
	if (rc < 0)
		return -1;
	c->has_head = 1;
	git_oid_cpy(&c->head, git_reference_target(head));
	if (c->merged != WT_MERGED_YES && c->why != WT_MR_BASE) {
		c->pushed = contained(c->repo, &c->head, head);
		if (!c->pushed)
			set_rule(c, R_UNMERGED, wt_merged_reason_name(c->why));
	}
	git_reference_free(head);
	return 0;
}

static void
check_release(struct check *c)
{
	size_t i;

	for (i = 0; i < NRULES; i++)
		free(c->first[i]);
	for (i = 0; i < c->npr; i++)
		free(c->precious[i]);
	free(c->precious);
	free(c->base_ref);
	wt_artifacts_free(c->arts);
	git_index_free(c->idx);
	git_repository_free(c->repo);
	if (c->topfd >= 0)
		close(c->topfd);
}

/* A ref name under refs/wt/removed/ made of the id, not yet taken. A new string. */
static char *
backup_name(git_repository *repo, const char *id)
{
	struct wt_buf b = WT_BUF_INIT;
	git_oid oid;
	char *safe = wt_xstrdup(id), *s;
	int valid = 0, k;

	for (s = safe; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' ||
		      (*s == '.' && s != safe && s[-1] != '.')))
			*s = '-';
	for (k = 1; k < 1000; k++) {
		wt_buf_reset(&b);
		wt_buf_addf(&b, "refs/wt/removed/%s", *safe ? safe : "worktree");
		if (k > 1)
			wt_buf_addf(&b, "-%d", k);
		if (git_reference_name_is_valid(&valid, b.s) < 0 || !valid)
			break;
		if (git_reference_name_to_id(&oid, repo, b.s) == GIT_ENOTFOUND) {
			free(safe);
			return wt_buf_detach(&b);
		}
	}
	free(safe);
	wt_buf_release(&b);
	return NULL;
}

static int
signature(git_signature **sig, git_repository *repo)
{
	if (git_signature_default(sig, repo) == 0)
		return 0;
	return git_signature_now(sig, "wt-rm", "wt-rm@localhost");
}

/*
 * Adds the ignored file, link or directory rel (relative to the top open at
 * topfd; a directory's trailing slash allowed) to idx, file by file.
 */
static int
add_ignored(git_index *idx, int topfd, const char *rel, int depth)
{
	struct wt_buf b = WT_BUF_INIT;
	struct dirent *de;
	struct stat st;
	char *path = wt_xstrdup(rel);
	size_t n = strlen(path);
	int fd, ret = 0;
	DIR *d;

	while (n > 1 && path[n - 1] == '/')
		path[--n] = '\0';
	if (fstatat(topfd, path, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		ret = errno == ENOENT ? 0 : -1;
		goto out;
	}
	if (!S_ISDIR(st.st_mode)) {
		if (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode))
			ret = git_index_add_bypath(idx, path);
		goto out;
	}
	if (depth > 256 ||
	    (fd = openat(topfd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
	    !(d = fdopendir(fd))) {
		ret = -1;
		goto out;
	}
	while (ret == 0 && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		wt_buf_reset(&b);
		wt_buf_addf(&b, "%s/%s", path, de->d_name);
		ret = add_ignored(idx, topfd, b.s, depth + 1);
	}
	closedir(d);
out:
	wt_buf_release(&b);
	free(path);
	return ret;
}

/*
 * Saves the worktree's full content (tracked, untracked and precious ignored
 * files, not recreatable artifacts) as a commit whose parents are HEAD and,
 * when it differs, a commit of the index, like git stash does. Its id in *out.
 */
static int
snapshot(struct check *c, const char *id, git_oid *out, char **why)
{
	git_index *real = NULL, *tmp = NULL;
	git_tree *tree = NULL, *itree = NULL;
	git_commit *parents[2] = { NULL, NULL }, *icommit = NULL;
	git_signature *sig = NULL;
	git_oid wtree, itree_id, icommit_id;
	struct wt_buf b = WT_BUF_INIT;
	size_t i, np = 0;
	int ret = -1, have_itree = 0;

	if (signature(&sig, c->repo) < 0)
		goto fail;
	if (c->has_head && git_commit_lookup(&parents[np++], c->repo, &c->head) < 0)
		goto fail;
	/* The index as it is, when it has no conflicts. */
	if (git_repository_index(&real, c->repo) == 0 &&
	    git_index_write_tree(&itree_id, real) == 0)
		have_itree = 1;
	if (have_itree && (!np || !git_oid_equal(&itree_id, git_commit_tree_id(parents[0])))) {
		wt_buf_addf(&b, "index of '%s' before forced removal\n", id);
		if (git_tree_lookup(&itree, c->repo, &itree_id) < 0 ||
		    git_commit_create(&icommit_id, c->repo, NULL, sig, sig, NULL, b.s,
				      itree, np, (const git_commit **)parents) < 0 ||
		    git_commit_lookup(&icommit, c->repo, &icommit_id) < 0)
			goto fail;
		parents[np++] = icommit;
		icommit = NULL;
	}
	/* The files as they are, through an index of our own that is never written. */
	wt_buf_reset(&b);
	wt_buf_addf(&b, "%s/wt-rm-backup-index", git_repository_path(c->repo));
	if (git_index_open(&tmp, b.s) < 0)
		goto fail;
	/*
	 * It starts as the index (or HEAD): tracked files stay in, even ignored
	 * ones; then the files as they are on disk, deleted ones going.
	 */
	if (have_itree || np) {
		if (git_tree_lookup(&tree, c->repo, have_itree ? &itree_id :
				    git_commit_tree_id(parents[0])) < 0 ||
		    git_index_read_tree(tmp, tree) < 0)
			goto fail;
		git_tree_free(tree);
		tree = NULL;
	}
	if (git_repository_set_index(c->repo, tmp) < 0 ||
	    git_index_add_all(tmp, NULL, GIT_INDEX_ADD_DEFAULT, NULL, NULL) < 0 ||
	    git_index_update_all(tmp, NULL, NULL, NULL) < 0)
		goto fail;
	for (i = 0; i < c->npr; i++)
		if (add_ignored(tmp, c->topfd, c->precious[i], 0) < 0)
			goto fail;
	/* A repository inside would be saved as a bare commit id: its files would be lost. */
	for (i = 0; i < git_index_entrycount(tmp); i++) {
		const git_index_entry *e = git_index_get_byindex(tmp, i);

		if (e->mode == GIT_FILEMODE_COMMIT && !wt_git_tracks_under(c->idx, e->path)) {
			wt_buf_reset(&b);
			wt_buf_addf(&b, "'%s' is a repository of its own; a backup cannot hold it",
				    e->path);
			*why = wt_buf_detach(&b);
			goto out;
		}
	}
	wt_buf_reset(&b);
	wt_buf_addf(&b, "wt-rm: backup of '%s' before forced removal\n", id);
	if (git_index_write_tree(&wtree, tmp) < 0 ||
	    git_tree_lookup(&tree, c->repo, &wtree) < 0 ||
	    git_commit_create(out, c->repo, NULL, sig, sig, NULL, b.s, tree, np,
			      (const git_commit **)parents) < 0)
		goto fail;
	ret = 0;
	goto out;
fail:
	wt_buf_reset(&b);
	wt_buf_addf(&b, "cannot save the work: %s", wt_git_errmsg());
	*why = wt_buf_detach(&b);
out:
	git_repository_set_index(c->repo, real);
	git_index_free(real);
	git_index_free(tmp);
	git_tree_free(tree);
	git_tree_free(itree);
	git_commit_free(parents[0]);
	git_commit_free(parents[1]);
	git_commit_free(icommit);
	git_signature_free(sig);
	wt_buf_release(&b);
	return ret;
}

/* Points a new ref under refs/wt/removed/ at id. The ref's name, or NULL. */
static char *
backup_ref(struct check *c, const char *id, const git_oid *oid, char **why)
{
	git_reference *ref = NULL;
	struct wt_buf b = WT_BUF_INIT;
	char *name;

	pthread_mutex_lock(&git_mu);
	if ((name = backup_name(c->repo, id))) {
		wt_buf_addf(&b, "wt-rm: backup of '%s'", id);
		if (git_reference_create(&ref, c->repo, name, oid, 0, b.s) < 0) {
			free(name);
			name = NULL;
		}
		git_reference_free(ref);
	}
	pthread_mutex_unlock(&git_mu);
	if (!name) {
		wt_buf_reset(&b);
		wt_buf_addf(&b, "cannot create a backup ref: %s", wt_git_errmsg());
		*why = wt_buf_detach(&b);
	}
	wt_buf_release(&b);
	return name;
}

/* Deletes the merged branch, if it is still where we saw it. 1 when deleted. */
static int
delete_branch(struct check *c, git_repository *main)
{
	git_reference *ref = NULL;
	int ret = 0;

	if (git_branch_lookup(&ref, main, c->branch, GIT_BRANCH_LOCAL) < 0)
		return 0;
	if (git_reference_target(ref) && git_oid_equal(git_reference_target(ref), &c->head) &&
	    git_branch_is_checked_out(ref) == 0 && git_branch_delete(ref) == 0)
		ret = 1;
	git_reference_free(ref);
	return ret;
}

static void
describe(struct wt_buf *b, struct check *c)
{
	static const char *const what[] = {
		"modified files", "untracked files", "ignored files that are not recreatable",
		"stash entries made from it", "commits neither merged nor pushed",
		"a git operation in progress", "in use by a process (its current directory is inside)",
	};
	int i, n = 0;

	for (i = 0; i < NRULES; i++) {
		if (!(c->rules & (1 << i)))
			continue;
		wt_buf_addf(b, "%s%s", n++ ? "; " : "", what[i]);
		if (c->first[i])
			wt_buf_addf(b, " (%s)", c->first[i]);
	}
}

/*
 * Another repository or worktree anywhere inside (.claude/worktrees/NAME,
 * build/dep): its commits and files are not this worktree's to remove, even
 * in an ignored artifact. The worktree's own submodules are part of it.
 * Nonzero, with the first one's path in b, when there is one or the tree
 * cannot be walked.
 */
static long
nested_inside(const struct wt_target *t, struct wt_buf *b)
{
	char *modules;
	long n;

	wt_buf_reset(b);
	wt_buf_addf(b, "%s/modules", t->admin);
	modules = realpath(b->s, NULL);
	wt_buf_reset(b);
	n = wt_walk_find_nested(walker, t->path, modules, b);
	if (n < 0)
		wt_buf_adds(b, t->path);
	free(modules);
	return n;
}

static int
rm_one(struct wt_rec *r, int worker, void *arg)
{
	struct wt_target t;
	struct check c;
	struct wt_rm_stats rs = { 0, 0, 0, 0 };
	struct wt_buf b = WT_BUF_INIT;
	struct wt_obj ctx;
	struct wt_rec reg_rec = WT_REC_INIT;
	git_repository *main = NULL;
	git_worktree *gw = NULL;
	git_worktree_prune_options po;
	git_oid snap;
	char *path = wt_rec_str(r, "path"), *repo = wt_rec_str(r, "repo");
	char *id = wt_rec_str(r, "id"), *bref = NULL, *why = NULL, *branch = NULL;
	const char *w;
	pid_t pid;
	int verified = 0, i, in_reg, del_branch, need_backup, deleted = 0, afd;

	(void)worker;
	(void)arg;
	memset(&c, 0, sizeof(c));
	c.topfd = -1;
	wt_obj_init(&ctx);
	if (!path) {
		wt_rec_refuse(r, "path", NULL, "not removed: the record has no path");
		goto out;
	}
	if (!id)
		id = wt_xstrdup(path);
	/* Never forced: what is not a verified linked worktree, locked, or holds a mount. */
	if (wt_target_verify(&t, path, repo, &w) < 0) {
		wt_rec_refuse(r, wt_target_rule(w), NULL, "not removed: %s", w);
		goto out;
	}
	verified = 1;
	if (wt_target_locked(&t, NULL)) {
		wt_rec_refuse(r, "locked", NULL, "not removed: the worktree is locked");
		goto out;
	}
	if (wt_path_has_mounts(t.path, NULL) != 0) {
		wt_rec_refuse(r, "mount", NULL, "not removed: a filesystem is mounted inside it");
		goto out;
	}
	c.top = t.path;
	c.admin = t.admin;
	if ((c.topfd = open(t.path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
	    git_repository_open(&c.repo, t.path) < 0 ||
	    git_repository_index(&c.idx, c.repo) < 0) {
		wt_rec_error(r, WT_E_BASE, NULL, "cannot open '%s': %s", t.path,
			     c.topfd < 0 ? strerror(errno) : wt_git_errmsg());
		goto out;
	}
	/* Never forced: the submodules' repositories go with git's admin entry. */
	if (wt_git_modules_unpushed(t.admin, &why) > 0) {
		wt_rec_refuse(r, "submodule", NULL, "not removed: submodule '%s' has commits "
			      "that are on none of its remote-tracking branches (push them)", why);
		goto out;
	}
	free(why);
	why = NULL;
	if (nested_inside(&t, &b) != 0) {
		wt_rec_refuse(r, "nested", NULL, "not removed: '%s' inside is another repository "
			      "or worktree (deal with it on its own first)", b.s);
		goto out;
	}
	wt_buf_reset(&b);
	c.arts = wt_artifacts_new(t.path, c.repo, c.idx, 0);
	c.branch = branch = head_branch(c.repo);
	/* git at work in it right now: never forced. */
	wt_buf_addf(&b, "%s/index.lock", t.admin);
	if (access(b.s, F_OK) == 0) {
		wt_rec_refuse(r, "git_running", NULL, "not removed: git is running in it "
			      "('%s' exists)", b.s);
		goto out;
	}
	wt_buf_reset(&b);
	check_state(&c);
	if (check_files(&c) < 0 || check_commits(&c) < 0 || check_stash(&c) < 0) {
		wt_rec_error(r, WT_E_BASE, NULL, "cannot inspect '%s': %s", t.path,
			     wt_git_errmsg());
		goto out;
	}
	wt_rec_set_merged(r, c.merged, c.why);
	/* In use is one more rule, looked at last, closest to the removal. */
	if (!opt.force && (pid = wt_path_in_use(t.path))) {
		wt_buf_addf(&b, "process %ld", (long)pid);
		set_rule(&c, R_INUSE, b.s);
		wt_buf_reset(&b);
		wt_obj_int(&ctx, "pid", (long)pid);
	}
	if (c.rules && !opt.force) {
		for (i = 0; !(c.rules & (1 << i)); i++)
			;
		wt_obj_array(&ctx, "rules");
		for (int k = 0; k < NRULES; k++)
			if (c.rules & (1 << k))
				wt_obj_str(&ctx, NULL, rule_names[k]);
		wt_obj_close(&ctx);
		wt_obj_int(&ctx, "modified", (long long)c.nmodified);
		wt_obj_int(&ctx, "untracked", (long long)c.nuntracked);
		wt_obj_int(&ctx, "precious", (long long)c.nprecious);
		describe(&b, &c);
		wt_rec_refuse(r, rule_names[i], &ctx, "not removed: %s (-f saves the work "
			      "in a ref and removes)", b.s);
		goto out;
	}
	need_backup = (c.rules & (R_FILES | R_UNMERGED)) != 0;
	del_branch = c.merged == WT_MERGED_YES && c.branch && !opt.keep_branch && c.has_head;
	/* Commits only the branch holds (squash, cherry) keep a ref when it goes. */
	if (del_branch && c.why != WT_MR_ANCESTOR)
		need_backup = 1;
	in_reg = wt_registry_record_of(&reg, id, t.path, t.common, &reg_rec) == WT_REG_SAME;

	if (opt.dry) {
		wt_obj_release(&ctx);
		wt_would_init(&ctx, "remove");
		if (need_backup)
			wt_obj_bool(&ctx, "backup", 1);
		if (del_branch)
			wt_obj_str(&ctx, "delete_branch", c.branch);
		if (in_reg)
			wt_obj_bool(&ctx, "unregister", 1);
		wt_rec_set_bool(r, "removed", 0);
		wt_rec_set_obj(r, "would", &ctx);
		goto out;
	}

	if (need_backup) {
		if (c.rules & R_FILES) {
			if (snapshot(&c, id, &snap, &why) < 0) {
				wt_rec_refuse(r, "backup", NULL, "not removed: %s", why);
				goto out;
			}
		} else if (c.has_head)
			git_oid_cpy(&snap, &c.head);
		if ((c.rules & R_FILES) || c.has_head) {
			if (!(bref = backup_ref(&c, id, &snap, &why))) {
				wt_rec_refuse(r, "backup", NULL, "not removed: %s", why);
				goto out;
			}
			if (c.rules)
				warnx("'%s': work saved in %s", id, bref);
		}
	}
	/* Last look before the point of no return. */
	if (!opt.force && (pid = wt_path_in_use(t.path))) {
		wt_obj_reset(&ctx);
		wt_obj_int(&ctx, "pid", (long)pid);
		wt_rec_refuse(r, "in_use", &ctx, "not removed: in use by process %ld", (long)pid);
		goto out;
	}
	git_index_free(c.idx);
	c.idx = NULL;
	git_repository_free(c.repo);
	c.repo = NULL;

	/* The trash wt-prune keeps in git's admin entry goes first. */
	if ((afd = open(t.admin, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) >= 0) {
		wt_rmtree_at(afd, WT_TRASH_NAME, &rs);
		close(afd);
	}
	if (wt_rmtree_verified(&t, &rs) < 0) {
		wt_rec_set_int(r, "freed", (long long)rs.bytes);
		wt_rec_error(r, WT_E_BASE, NULL, "removal of '%s' incomplete: %s", t.path,
			     strerror(errno));
		goto out;
	}
	wt_rec_set_bool(r, "removed", 1);
	wt_rec_set_int(r, "freed", (long long)rs.bytes);
	if (bref)
		wt_rec_set_str(r, "backup_ref", bref);

	pthread_mutex_lock(&git_mu);
	git_worktree_prune_options_init(&po, GIT_WORKTREE_PRUNE_OPTIONS_VERSION);
	po.flags = 0;   /* only when invalid now and not locked */
	if (git_repository_open(&main, t.common) < 0 ||
	    git_worktree_lookup(&gw, main, t.name) < 0 || git_worktree_prune(gw, &po) < 0) {
		pthread_mutex_unlock(&git_mu);
		wt_rec_set_bool(r, "branch_deleted", 0);
		wt_rec_error(r, WT_E_BASE, NULL, "removed, but git's admin entry '%s' stays: %s",
			     t.admin, wt_git_errmsg());
		goto out;
	}
	if (del_branch)
		deleted = delete_branch(&c, main);
	pthread_mutex_unlock(&git_mu);
	wt_rec_set_bool(r, "branch_deleted", deleted);
	if (in_reg && wt_batch_del(batch, id) < 0)
		wt_rec_registry_error(r, reg.path, "journal", "removed, but the registry "
				      "cannot record it: %s", strerror(errno));
out:
	if (verified)
		wt_target_release(&t);
	check_release(&c);
	git_worktree_free(gw);
	git_repository_free(main);
	wt_buf_release(&b);
	wt_obj_release(&ctx);
	wt_rec_release(&reg_rec);
	free(path);
	free(repo);
	free(id);
	free(bref);
	free(why);
	free(branch);
	return 0;
}

static int
want(const struct wt_rec *r, void *arg)
{
	(void)arg;
	return !wt_rec_has_error(r);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "base", required_argument, NULL, 'b' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "force", no_argument, NULL, 'f' },
		{ "keep-branch", no_argument, NULL, 'k' },
		WT_LONGOPTS_STD,
		{ NULL, 0, NULL, 0 },
	};
	struct wt_config cfg;
	struct wt_reader *rd;
	const char *ropt = NULL;
	long errors;
	int c, failed;

	wt_setprogname(argv[0]);
	while ((c = getopt_long(argc, argv, "b:fhj:knr:", longopts, NULL)) != -1)
		switch (c) {
		case 'b': opt.base = optarg; break;
		case 'f': opt.force = 1; break;
		case 'j': opt.jobs = wt_parse_jobs(optarg); break;
		case 'k': opt.keep_branch = 1; break;
		case 'n': opt.dry = 1; break;
		case 'r': ropt = optarg; break;
		default: wt_opt_other(c, usage_text);
		}
	if (optind != argc || isatty(STDIN_FILENO))
		usage();
	wt_git_init();
	if (opt.base && !wt_git_base_name_ok(opt.base))
		errx(WT_EXIT_FATAL, "bad base '%s': name a branch or a remote-tracking branch "
		     "(main, origin/main), not a revision", opt.base);
	wt_config_load(&cfg);
	if (!opt.jobs)
		opt.jobs = cfg.jobs;
	if (wt_registry_open(&reg, &cfg, ropt) < 0)
		err(WT_EXIT_FATAL, "cannot read '%s'", reg.path);
	batch = wt_batch_open(&reg);
	wt_git_init();

	walker = wt_walker_new(opt.jobs);
	rd = wt_reader_new(STDIN_FILENO, 0);
	errors = wt_pool_run(rd, opt.jobs, want, rm_one, NULL, stdout);
	wt_reader_free(rd);
	wt_walker_free(walker);
	wt_flush_stdout();
	/* One registry update for the whole run. */
	failed = wt_batch_failed(batch);
	if (wt_batch_commit(batch, cfg.lock_timeout) < 0)
		errx(WT_EXIT_FATAL, "cannot update the registry '%s': its journal keeps "
		     "the changes for the next writer", reg.path);
	wt_registry_release(&reg);
	wt_config_release(&cfg);
	return failed || errors ? WT_EXIT_RECORDS : WT_EXIT_OK;
}
