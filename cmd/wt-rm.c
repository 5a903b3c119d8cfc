/* wt-rm: remove whole worktrees when no work can be lost by it. */
#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <git2.h>
#include <limits.h>
#include <git2/sys/repository.h>
#include <locale.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wt.h"

static struct {
	int force, dry, keep_branch, jobs;
	const char *base;
	char *archive_dir;          /* where -f keeps files, as configured */
	struct wt_compression z;
	time_t now;
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
	/* What a backup saves: tracked work in a commit, other files in an archive. */
	R_TRACKED = R_MODIFIED | R_INPROGRESS,
	R_LOOSE = R_UNTRACKED | R_PRECIOUS,
	R_FILES = R_TRACKED | R_LOOSE,
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
	char **loose;               /* untracked and precious paths, for the archive */
	size_t nloose;
	const char *branch;         /* short name, or NULL when detached */
	git_oid head;
	int has_head;
	char *base_ref;
	int merged;                 /* WT_MERGED_* */
	enum wt_merged_reason why;
	int pushed;
	struct wt_snapshot before;  /* the tree as the checks saw it */
	struct wt_git_state gs;     /* git's index and HEAD as they saw them */
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
		} else if (e->status == GIT_STATUS_WT_NEW) {
			c->nuntracked++;
			set_rule(c, R_UNTRACKED, path);
		} else {
			c->nmodified++;
			set_rule(c, R_MODIFIED, path);
			continue;
		}
		c->loose = wt_xrealloc(c->loose, (c->nloose + 1) * sizeof(char *));
		c->loose[c->nloose++] = wt_xstrdup(path);
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
	for (i = 0; i < c->nloose; i++)
		free(c->loose[i]);
	free(c->loose);
	free(c->base_ref);
	wt_snapshot_release(&c->before);
	wt_git_state_release(&c->gs);
	wt_artifacts_free(c->arts);
	git_index_free(c->idx);
	git_repository_free(c->repo);
	if (c->topfd >= 0)
		close(c->topfd);
}

/* The worktree's own submodule repositories, <admin>/modules resolved: a new string or NULL. */
static char *
own_modules(const struct wt_target *t)
{
	struct wt_buf m = WT_BUF_INIT;
	char *modules;

	wt_buf_addf(&m, "%s/modules", t->admin);
	modules = realpath(m.s, NULL);
	wt_buf_release(&m);
	return modules;
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
 * Saves the tracked files as they are on disk as a commit whose parents are
 * HEAD and, when it differs, a commit of the index, like git stash does. Its
 * id in *out. Untracked and ignored files, which may hold secrets, never go
 * into git's objects (they travel with a push --mirror or a bundle): they go
 * into the archive (save_loose).
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
	size_t np = 0;
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
	 * ones, as they are on disk, deleted ones going; nothing is added.
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
	    git_index_update_all(tmp, NULL, NULL, NULL) < 0)
		goto fail;
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

/* The archive directory, made (mode 0700) and resolved once; NULL with *why set. */
static const char *
archive_dir(char **why)
{
	static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	static char *dir;
	struct wt_buf b = WT_BUF_INIT;
	const char *ret;

	pthread_mutex_lock(&mu);
	if (!dir && wt_mkdirs(opt.archive_dir, 0700) == 0 &&
	    (dir = realpath(opt.archive_dir, NULL)))
		wt_archive_clean(dir);
	if (!(ret = dir)) {
		wt_buf_addf(&b, "cannot create '%s': %s", opt.archive_dir, strerror(errno));
		*why = wt_buf_detach(&b);
	}
	pthread_mutex_unlock(&mu);
	return ret;
}

/* The first entry of v[0..n) whose path is not below key in strcmp's order. */
static size_t
lower_bound(const struct wt_snap_ent *v, size_t n, const char *key)
{
	size_t lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (strcmp(v[mid].path, key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * Marks in keep what of the snapshot s an archive of the path p (as git's
 * status names it, a directory with a trailing slash) holds: p, everything
 * below it (a range in strcmp's order), and the directories above it.
 */
static void
mark_path(const struct wt_snapshot *s, const char *p, char *keep)
{
	struct wt_buf q = WT_BUF_INIT;
	size_t len = strlen(p), i, k;

	while (len > 1 && p[len - 1] == '/')
		len--;
	for (k = 1; k <= len; k++) {
		if (k < len && p[k] != '/')
			continue;
		wt_buf_reset(&q);
		wt_buf_add(&q, p, k);
		i = lower_bound(s->v, s->n, q.s);
		if (i < s->n && strcmp(s->v[i].path, q.s) == 0)
			keep[i] = 1;
	}
	wt_buf_addc(&q, '/');
	for (i = lower_bound(s->v, s->n, q.s); i < s->n &&
	     strncmp(s->v[i].path, q.s, q.len) == 0; i++)
		keep[i] = 1;
	wt_buf_release(&q);
}

/*
 * Untracked and precious ignored files, which may hold secrets, into a
 * verified archive of mode 0600 in the archive directory, in wt-archive's
 * format: the manifest (naming the backup ref, when there is one), git's
 * state, then those files and the directories above them. A local adapter:
 * snapshot.c takes whole trees, so the tree is walked (each file read for
 * its checksum) and what the archive holds picked from it. *final is its
 * path (a new string); -1 with *why.
 */
static int
save_loose(struct check *c, const struct wt_target *t, const struct wt_rec *r,
	   const char *id, const char *bref, char **final, char **why)
{
	struct wt_snapshot all, pick;
	struct wt_manifest_of w;
	struct wt_archive_src src;
	struct wt_buf man = WT_BUF_INIT, b = WT_BUF_INIT;
	char hex[GIT_OID_HEXSZ + 1], *keep = NULL, *modules;
	const char *dir;
	size_t i, j, len;
	int ret = -1, rc;

	memset(&pick, 0, sizeof(pick));
	if (!(dir = archive_dir(why)))
		return -1;
	modules = own_modules(t);
	rc = wt_snapshot_take(&all, walker, t->path, t->dev, t->ino, c->arts, WT_SNAP_SHA256,
			      NULL, modules);
	free(modules);
	if (rc < 0) {
		wt_buf_addf(&b, "cannot archive the files: %s", all.err.s);
		*why = wt_buf_detach(&b);
		goto out;
	}
	keep = wt_xmalloc(all.n + 1);
	memset(keep, 0, all.n + 1);
	for (i = 0; i < c->nloose; i++)
		mark_path(&all, c->loose[i], keep);
	pick.v = wt_xmalloc((all.n + 1) * sizeof(*pick.v));
	for (i = 0; i < all.n; i++)
		if (keep[i]) {
			pick.v[pick.n++] = all.v[i];
			if (S_ISREG(all.v[i].st.st_mode))
				pick.bytes += (unsigned long long)all.v[i].st.st_size;
		}
	/* What was left out inside the files kept (an artifact in an untracked directory). */
	pick.s = wt_xmalloc((all.ns + 1) * sizeof(*pick.s));
	for (i = 0; i < all.ns; i++)
		for (j = 0; j < c->nloose; j++) {
			len = strlen(c->loose[j]);
			if (c->loose[j][len - 1] == '/' &&
			    strncmp(all.s[i].path, c->loose[j], len) == 0) {
				pick.s[pick.ns++] = all.s[i];
				break;
			}
		}
	memset(&w, 0, sizeof(w));
	w.id = id;
	w.name = t->name;
	w.path = t->path;
	w.repo = t->common;
	/* No commit checked out: git's null id. */
	memset(hex, '0', GIT_OID_HEXSZ);
	hex[GIT_OID_HEXSZ] = '\0';
	if (c->has_head)
		git_oid_tostr(hex, sizeof(hex), &c->head);
	w.head = hex;
	w.branch = c->branch;
	w.ref = bref;
	w.record = r->line;
	w.record_len = r->len;
	w.archived_at = opt.now;
	wt_manifest_build(&man, &w, &c->gs, &pick);
	memset(&src, 0, sizeof(src));
	src.manifest = man.s;
	src.manifest_len = man.len;
	src.git = &c->gs;
	src.snap = &pick;
	src.top = t->path;
	src.mtime = opt.now;
	if (wt_archive_make(dir, id, opt.now, &opt.z, &src, final, why) < 0)
		goto out;
	ret = 0;
out:
	/* pick borrows all's entries. */
	free(pick.v);
	free(pick.s);
	free(keep);
	wt_snapshot_release(&all);
	wt_buf_release(&man);
	wt_buf_release(&b);
	return ret;
}

/*
 * A refusal once the backup is made: the worktree stays with all its work,
 * and the backup of it goes, the ref only when it is still where it was put.
 */
static void
drop_backup(const struct wt_target *t, const char *bref, const git_oid *snap,
	    const char *archive)
{
	git_repository *repo = NULL;
	git_reference *ref = NULL;

	if (archive)
		unlink(archive);
	if (!bref)
		return;
	pthread_mutex_lock(&git_mu);
	if (git_repository_open(&repo, t->common) == 0 &&
	    git_reference_lookup(&ref, repo, bref) == 0 && git_reference_target(ref) &&
	    git_oid_equal(git_reference_target(ref), snap))
		git_reference_delete(ref);
	pthread_mutex_unlock(&git_mu);
	git_reference_free(ref);
	git_repository_free(repo);
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

/*
 * The tree as the checks see it, to compare with it once moved aside: every
 * entry with its lstat and link target, the worktree's own submodule
 * checkouts included (a removal takes them); with like, leaving out what
 * like left out, for the tree moved where git cannot see it.
 */
static int
take_tree(struct wt_snapshot *s, const char *top, const struct wt_target *t,
	  struct wt_artifacts *arts, const struct wt_snapshot *like)
{
	char *modules = own_modules(t);
	int rc;

	rc = wt_snapshot_take(s, walker, top, t->dev, t->ino, arts, WT_SNAP_STAT, like, modules);
	free(modules);
	return rc;
}

/*
 * The check again, of the worktree moved aside to t->path: git's state as
 * the checks saw it, and every entry as it was (wt_snapshot_same: inode,
 * size, times, link target). Anything written since the first walk is work
 * the checks did not see. 0, or -1 with *why a new string.
 */
static int
recheck(struct check *c, const struct wt_target *t, char **why)
{
	struct wt_snapshot now;
	struct wt_git_state gs;
	struct wt_buf b = WT_BUF_INIT;
	const char *at;
	int ret = -1;

	wt_git_state_read(&gs, t->admin);
	if (take_tree(&now, t->path, t, NULL, &c->before) < 0)
		wt_buf_addf(&b, "cannot walk it again: %s", now.err.s);
	else if (!wt_git_state_same(&c->gs, &gs))
		wt_buf_adds(&b, "git's index or HEAD changed while it was checked");
	else if (!wt_snapshot_same(&c->before, &now, &at))
		wt_buf_addf(&b, "it changed while it was checked (at '%s')", at);
	else
		ret = 0;
	if (ret < 0)
		*why = wt_buf_detach(&b);
	wt_buf_release(&b);
	wt_snapshot_release(&now);
	wt_git_state_release(&gs);
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
	char *modules = own_modules(t);
	long n;

	wt_buf_reset(b);
	n = wt_walk_find_nested(walker, t->path, modules, b);
	if (n < 0)
		wt_buf_adds(b, t->path);
	free(modules);
	return n;
}

/*
 * The worktree moved aside goes back to its path, the check again having
 * failed. 0, or -1 with the record's error saying where it is.
 */
static int
put_back(struct wt_rec *r, const struct wt_target *t, const char *aside)
{
	struct wt_obj ctx;

	if (wt_aside_back(t, aside) == 0)
		return 0;
	wt_obj_init(&ctx);
	wt_obj_str(&ctx, "aside", aside);
	wt_rec_error(r, WT_E_BASE, &ctx, "not removed, but it cannot be moved back: "
		     "'%s' is at '%s' (%s)", t->path, aside, strerror(errno));
	wt_obj_release(&ctx);
	return -1;
}

/* One removal: the record, the verified worktree, what was found and what is to be done. */
struct removal {
	struct wt_rec *r;
	struct wt_target t;
	struct check c;
	struct wt_buf b;            /* messages */
	struct wt_obj ctx;          /* an error's context */
	char *id, *branch;
	int need_ref, need_archive, del_branch, in_reg;
	int gone;                   /* the directory was already gone */
	git_oid snap;
	char *bref, *archive, *aside;
};

/* The rules no -f overrides: verified, not locked, no mount, submodule or repository inside. */
static int
never_forced(struct removal *m)
{
	struct check *c = &m->c;
	char *why = NULL;
	int ret = -1;

	if (wt_target_locked(&m->t, NULL)) {
		wt_rec_refuse(m->r, "locked", NULL, "not removed: the worktree is locked");
		return -1;
	}
	if (wt_path_has_mounts(m->t.path, NULL) != 0) {
		wt_rec_refuse(m->r, "mount", NULL, "not removed: a filesystem is mounted inside it");
		return -1;
	}
	c->top = m->t.path;
	c->admin = m->t.admin;
	/* git's state before git is read: a change after this is seen once moved aside. */
	if (!opt.dry)
		wt_git_state_read(&c->gs, m->t.admin);
	if ((c->topfd = open(m->t.path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
	    git_repository_open(&c->repo, m->t.path) < 0 ||
	    git_repository_index(&c->idx, c->repo) < 0) {
		wt_rec_error(m->r, WT_E_BASE, NULL, "cannot open '%s': %s", m->t.path,
			     c->topfd < 0 ? strerror(errno) : wt_git_errmsg());
		return -1;
	}
	/* The submodules' repositories go with git's admin entry. */
	if (wt_git_modules_unpushed(m->t.admin, &why) > 0) {
		wt_rec_refuse(m->r, "submodule", NULL, "not removed: submodule '%s' has commits "
			      "that are on none of its remote-tracking branches (push them)", why);
		goto out;
	}
	if (nested_inside(&m->t, &m->b) != 0) {
		wt_rec_refuse(m->r, "nested", NULL, "not removed: '%s' inside is another "
			      "repository or worktree (deal with it on its own first)", m->b.s);
		goto out;
	}
	c->arts = wt_artifacts_new(m->t.path, c->repo, c->idx, 0);
	c->branch = m->branch = head_branch(c->repo);
	/* git at work in it right now. */
	wt_buf_reset(&m->b);
	wt_buf_addf(&m->b, "%s/index.lock", m->t.admin);
	if (access(m->b.s, F_OK) == 0) {
		wt_rec_refuse(m->r, "git_running", NULL, "not removed: git is running in it "
			      "('%s' exists)", m->b.s);
		goto out;
	}
	ret = 0;
out:
	free(why);
	return ret;
}

static int refuse_rules(struct removal *m);

/* The rules -f overrides, every one that holds listed; 0 when none stands in the way. */
static int
inspect(struct removal *m)
{
	struct check *c = &m->c;
	pid_t pid;

	/* The tree before the checks read it, to compare with it once it is moved aside. */
	if (!opt.dry && take_tree(&c->before, m->t.path, &m->t, c->arts, NULL) < 0) {
		wt_rec_error(m->r, WT_E_BASE, NULL, "cannot inspect '%s': %s", m->t.path,
			     c->before.err.s);
		return -1;
	}
	check_state(c);
	if (check_files(c) < 0 || check_commits(c) < 0 || check_stash(c) < 0) {
		wt_rec_error(m->r, WT_E_BASE, NULL, "cannot inspect '%s': %s", m->t.path,
			     wt_git_errmsg());
		return -1;
	}
	wt_rec_set_merged(m->r, c->merged, c->why);
	/* In use is one more rule, looked at last, closest to the removal. */
	wt_buf_reset(&m->b);
	if (!opt.force && (pid = wt_path_in_use(m->t.path))) {
		wt_buf_addf(&m->b, "process %ld", (long)pid);
		set_rule(c, R_INUSE, m->b.s);
		wt_buf_reset(&m->b);
		wt_obj_int(&m->ctx, "pid", (long)pid);
	}
	return refuse_rules(m);
}

/* Refuses with every rule that holds, unless forced; 0 when none stands in the way. */
static int
refuse_rules(struct removal *m)
{
	struct check *c = &m->c;
	int i, k;

	if (!c->rules || opt.force)
		return 0;
	for (i = 0; !(c->rules & (1 << i)); i++)
		;
	wt_obj_array(&m->ctx, "rules");
	for (k = 0; k < NRULES; k++)
		if (c->rules & (1 << k))
			wt_obj_str(&m->ctx, NULL, rule_names[k]);
	wt_obj_close(&m->ctx);
	wt_obj_int(&m->ctx, "modified", (long long)c->nmodified);
	wt_obj_int(&m->ctx, "untracked", (long long)c->nuntracked);
	wt_obj_int(&m->ctx, "precious", (long long)c->nprecious);
	describe(&m->b, c);
	wt_rec_refuse(m->r, rule_names[i], &m->ctx, "not removed: %s (-f saves the work "
		      "in a ref and removes)", m->b.s);
	return -1;
}

/* What the removal takes: a ref, an archive, the branch, the registry's record. */
static void
plan(struct removal *m)
{
	struct check *c = &m->c;
	struct wt_rec reg_rec = WT_REC_INIT;

	/* Tracked work and commits in a ref; the other files in an archive. */
	m->need_ref = (c->rules & (R_TRACKED | R_UNMERGED)) != 0;
	m->need_archive = (c->rules & R_LOOSE) != 0;
	m->del_branch = c->merged == WT_MERGED_YES && c->branch && !opt.keep_branch &&
			c->has_head;
	/* Commits only the branch holds (squash, cherry) keep a ref when it goes. */
	if (m->del_branch && c->why != WT_MR_ANCESTOR)
		m->need_ref = 1;
	m->in_reg = wt_registry_record_of(&reg, m->id, m->t.path, m->t.common, &reg_rec) ==
		    WT_REG_SAME;
	wt_rec_release(&reg_rec);
}

/* -n: what would be done. */
static void
dry_run(struct removal *m)
{
	wt_obj_release(&m->ctx);
	wt_would_init(&m->ctx, "remove");
	if (m->gone)
		wt_obj_bool(&m->ctx, "dir_gone", 1);
	if (m->need_ref || m->need_archive)
		wt_obj_bool(&m->ctx, "backup", 1);
	if (m->need_archive)
		wt_obj_bool(&m->ctx, "archive", 1);
	if (m->del_branch)
		wt_obj_str(&m->ctx, "delete_branch", m->c.branch);
	if (m->in_reg)
		wt_obj_bool(&m->ctx, "unregister", 1);
	wt_rec_set_bool(m->r, "removed", 0);
	wt_rec_set_obj(m->r, "would", &m->ctx);
}

/* The work that would be lost, saved first: 0, or -1 refused. */
static int
backup(struct removal *m)
{
	struct check *c = &m->c;
	char *why = NULL;
	int ret = -1;

	if (m->need_ref) {
		if (c->rules & R_TRACKED) {
			if (snapshot(c, m->id, &m->snap, &why) < 0)
				goto refuse;
		} else if (c->has_head)
			git_oid_cpy(&m->snap, &c->head);
		if (((c->rules & R_TRACKED) || c->has_head) &&
		    !(m->bref = backup_ref(c, m->id, &m->snap, &why)))
			goto refuse;
	}
	if (m->need_archive &&
	    save_loose(c, &m->t, m->r, m->id, m->bref, &m->archive, &why) < 0) {
		drop_backup(&m->t, m->bref, &m->snap, NULL);
		goto refuse;
	}
	if (c->rules && m->bref && m->archive)
		warnx("'%s': work saved in %s, files in %s", m->id, m->bref, m->archive);
	else if (c->rules && (m->bref || m->archive))
		warnx("'%s': work saved in %s", m->id, m->bref ? m->bref : m->archive);
	ret = 0;
	goto out;
refuse:
	wt_rec_refuse(m->r, "backup", NULL, "not removed: %s", why);
out:
	free(why);
	return ret;
}

/*
 * The checks leave a window: work written since is not in what they
 * judged. The worktree moves aside (nothing is left at its path to write
 * into), is checked again there, and only then goes; back on any change.
 */
static int
remove_aside(struct removal *m)
{
	struct wt_rm_stats rs = { 0, 0, 0, 0 };
	struct wt_target moved;
	const char *rule = NULL;
	char *why = NULL;
	pid_t pid = 0;
	int afd, ret = -1;

	git_index_free(m->c.idx);
	m->c.idx = NULL;
	git_repository_free(m->c.repo);
	m->c.repo = NULL;
	if (wt_aside_move(&m->t, "rm", &m->aside) < 0) {
		wt_rec_error(m->r, WT_E_BASE, NULL, "not removed: cannot move '%s' aside: %s",
			     m->t.path, strerror(errno));
		drop_backup(&m->t, m->bref, &m->snap, m->archive);
		return -1;
	}
	wt_test_pause("moved");
	moved = m->t;
	moved.path = m->aside;
	wt_buf_reset(&m->b);
	wt_buf_addf(&m->b, "%s/index.lock", m->t.admin);
	wt_obj_reset(&m->ctx);
	if (!opt.force && (pid = wt_path_in_use(m->aside))) {
		rule = "in_use";
		wt_obj_int(&m->ctx, "pid", (long)pid);
		why = wt_xstrdup("in use by a process");
	} else if (access(m->b.s, F_OK) == 0) {
		rule = "git_running";
		why = wt_xstrdup("git is running in it");
	} else if (recheck(&m->c, &moved, &why) < 0)
		rule = "changed";
	if (rule) {
		if (put_back(m->r, &m->t, m->aside) == 0) {
			drop_backup(&m->t, m->bref, &m->snap, m->archive);
			wt_rec_refuse(m->r, rule, &m->ctx, "not removed: %s", why);
		}
		goto out;
	}
	/* The trash wt-prune keeps in git's admin entry goes first. */
	if ((afd = open(m->t.admin, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) >= 0) {
		wt_rmtree_at(afd, WT_TRASH_NAME, &rs);
		close(afd);
	}
	ret = wt_rmtree_verified(&moved, &rs);
	wt_rec_set_int(m->r, "freed", (long long)rs.bytes);
	if (ret < 0) {
		wt_obj_reset(&m->ctx);
		wt_obj_str(&m->ctx, "aside", m->aside);
		wt_rec_error(m->r, WT_E_BASE, &m->ctx, "removal of '%s' incomplete: %s (what is "
			     "left is at '%s')", m->t.path, strerror(errno), m->aside);
	}
out:
	free(why);
	return ret;
}

/* Once the directory is gone: git's admin entry, the merged branch, the registry. */
static void
finish(struct removal *m)
{
	git_repository *main = NULL;
	git_worktree *gw = NULL;
	git_worktree_prune_options po;
	int deleted = 0;

	wt_rec_set_bool(m->r, "removed", 1);
	if (m->bref)
		wt_rec_set_str(m->r, "backup_ref", m->bref);
	if (m->archive)
		wt_rec_set_str(m->r, "backup_archive", m->archive);
	pthread_mutex_lock(&git_mu);
	git_worktree_prune_options_init(&po, GIT_WORKTREE_PRUNE_OPTIONS_VERSION);
	po.flags = 0;   /* only when invalid now and not locked */
	if (git_repository_open(&main, m->t.common) < 0 ||
	    git_worktree_lookup(&gw, main, m->t.name) < 0 || git_worktree_prune(gw, &po) < 0) {
		pthread_mutex_unlock(&git_mu);
		wt_rec_set_bool(m->r, "branch_deleted", 0);
		wt_rec_error(m->r, WT_E_BASE, NULL, "removed, but git's admin entry '%s' "
			     "stays: %s", m->t.admin, wt_git_errmsg());
		goto out;
	}
	if (m->del_branch)
		deleted = delete_branch(&m->c, main);
	pthread_mutex_unlock(&git_mu);
	wt_rec_set_bool(m->r, "branch_deleted", deleted);
	if (m->in_reg && wt_batch_del(batch, m->id) < 0)
		wt_rec_registry_error(m->r, reg.path, "journal", "removed, but the registry "
				      "cannot record it: %s", strerror(errno));
out:
	git_worktree_free(gw);
	git_repository_free(main);
}

/*
 * A worktree whose directory is gone, as git worktree prune finds it: the
 * one admin entry of repo whose gitdir names exactly path/.git and whose
 * commondir leads back to repo. 0 with t filled (path as given, without a
 * trailing slash), or -1: none, more than one, or path is still there.
 */
static int
find_gone(struct wt_target *t, const char *path, const char *repo)
{
	struct stat st;
	size_t n;

	memset(t, 0, sizeof(*t));
	if (!path || path[0] != '/' || !repo || lstat(path, &st) == 0 || errno != ENOENT ||
	    wt_admin_of_path(repo, path, &t->admin, &t->name) != 1 ||
	    !(t->common = realpath(repo, NULL))) {
		wt_target_release(t);
		return -1;
	}
	for (n = strlen(path); n > 1 && path[n - 1] == '/'; n--)
		;
	t->path = wt_xstrndup(path, n);
	return 0;
}

/*
 * The directory is gone: its files with it, so what is left to lose is in
 * git's admin entry: its HEAD's commits, a git operation waiting, stash
 * entries made from it, its submodules' repositories. The same rules as for
 * a present worktree decide, and the same -f; then git's admin entry, the
 * merged branch and the registry's record go as finish() takes them.
 */
static void
rm_gone(struct removal *m)
{
	struct check *c = &m->c;
	struct wt_rm_stats rs = { 0, 0, 0, 0 };
	char *why = NULL;
	int afd;

	m->gone = 1;
	if (wt_target_locked(&m->t, NULL)) {
		wt_rec_refuse(m->r, "locked", NULL, "not removed: the worktree is locked");
		goto out;
	}
	if (wt_git_modules_unpushed(m->t.admin, &why) > 0) {
		wt_rec_refuse(m->r, "submodule", NULL, "not removed: submodule '%s' has commits "
			      "that are on none of its remote-tracking branches (push them)", why);
		goto out;
	}
	c->top = m->t.path;
	c->admin = m->t.admin;
	/* Bare: libgit2 would look for the missing work tree; HEAD and refs are all it needs. */
	if (git_repository_open_ext(&c->repo, m->t.admin, GIT_REPOSITORY_OPEN_NO_SEARCH |
				    GIT_REPOSITORY_OPEN_BARE, NULL) < 0) {
		wt_rec_error(m->r, WT_E_BASE, NULL, "cannot open '%s': %s", m->t.admin,
			     wt_git_errmsg());
		goto out;
	}
	c->branch = m->branch = head_branch(c->repo);
	check_state(c);
	if (check_commits(c) < 0 || check_stash(c) < 0) {
		wt_rec_error(m->r, WT_E_BASE, NULL, "cannot inspect '%s': %s", m->t.admin,
			     wt_git_errmsg());
		goto out;
	}
	wt_rec_set_merged(m->r, c->merged, c->why);
	if (refuse_rules(m) < 0)
		goto out;
	plan(m);
	/* No files to commit: a ref keeps HEAD, what an operation waiting started from. */
	if (c->rules & R_TRACKED) {
		c->rules &= ~R_TRACKED;
		m->need_ref = 1;
	}
	if (opt.dry) {
		dry_run(m);
		goto out;
	}
	if (backup(m) < 0)
		goto out;
	/* The trash wt-prune keeps in git's admin entry is the bytes freed. */
	if ((afd = open(m->t.admin, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) >= 0) {
		wt_rmtree_at(afd, WT_TRASH_NAME, &rs);
		close(afd);
	}
	wt_rec_set_int(m->r, "freed", (long long)rs.bytes);
	wt_rec_set_bool(m->r, "dir_gone", 1);
	finish(m);
out:
	free(why);
}

/*
 * The steps of wt-rm(1) for one record. Tests stop it (wt_test_pause) at
 * "checked", every check made and the backup saved with the worktree still
 * in place, and at "moved", renamed aside and not yet checked again.
 */
static int
rm_one(struct wt_rec *r, int worker, void *arg)
{
	struct removal m;
	char *path = wt_rec_str(r, "path"), *repo = wt_rec_str(r, "repo");
	const char *w;
	int verified = 0;

	(void)worker;
	(void)arg;
	memset(&m, 0, sizeof(m));
	m.r = r;
	m.c.topfd = -1;
	wt_obj_init(&m.ctx);
	if (!path) {
		wt_rec_refuse(r, "path", NULL, "not removed: the record has no path");
		goto out;
	}
	if (!(m.id = wt_rec_str(r, "id")))
		m.id = wt_xstrdup(path);
	if (wt_target_verify(&m.t, path, repo, &w) < 0) {
		if (strcmp(wt_target_rule(w), "missing") == 0 &&
		    find_gone(&m.t, path, repo) == 0) {
			verified = 1;
			rm_gone(&m);
			goto out;
		}
		wt_rec_refuse(r, wt_target_rule(w), NULL, "not removed: %s", w);
		goto out;
	}
	verified = 1;
	if (never_forced(&m) < 0 || inspect(&m) < 0)
		goto out;
	plan(&m);
	if (opt.dry) {
		dry_run(&m);
		goto out;
	}
	if (backup(&m) < 0)
		goto out;
	wt_test_pause("checked");
	if (remove_aside(&m) == 0)
		finish(&m);
out:
	if (verified)
		wt_target_release(&m.t);
	check_release(&m.c);
	wt_buf_release(&m.b);
	wt_obj_release(&m.ctx);
	free(path);
	free(repo);
	free(m.id);
	free(m.branch);
	free(m.bref);
	free(m.archive);
	free(m.aside);
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
	opt.now = wt_now();
	/* libarchive's names as wt-archive has them: UTF-8 passes, other bytes are kept. */
	if (!setlocale(LC_CTYPE, "C.UTF-8"))
		setlocale(LC_CTYPE, "");
	wt_git_init();
	if (opt.base && !wt_git_base_name_ok(opt.base))
		errx(WT_EXIT_FATAL, "bad base '%s': name a branch or a remote-tracking branch "
		     "(main, origin/main), not a revision", opt.base);
	wt_config_load(&cfg);
	wt_compression_pick(&opt.z, &cfg, NULL, -1, wt_archive_can_zstd());
	opt.archive_dir = wt_archive_dir(&cfg);
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
	free(opt.archive_dir);
	return failed || errors ? WT_EXIT_RECORDS : WT_EXIT_OK;
}
