/* merged.c: is a branch's work already in the base branch? Squash-aware, three-valued. */
#include <git2.h>
#include <stdlib.h>
#include <string.h>

#include "wt.h"

/*
 * Limits that keep one answer cheap on long histories. Past them an answer
 * that was not found is unknown, never "not merged" and never "merged".
 */
#define BASE_WALK_MAX 20000     /* base commits since the fork, tree and cherry */
#define BRANCH_WALK_MAX 2000    /* branch commits for cherry */
#define CHERRY_MAX BASE_WALK_MAX /* base commits looked at for cherry */

int
wt_git_base_name_ok(const char *name)
{
	struct wt_buf b = WT_BUF_INIT;
	int valid = 0;

	if (!*name || strcmp(name, "HEAD") == 0 || strpbrk(name, "^~:@{}?*[\\ "))
		return 0;
	if (strncmp(name, "refs/", 5) == 0) {
		if (strncmp(name, "refs/heads/", 11) != 0 && strncmp(name, "refs/remotes/", 13) != 0)
			return 0;
		wt_buf_adds(&b, name);
	} else
		wt_buf_addf(&b, "refs/heads/%s", name);
	wt_git_init();
	if (git_reference_name_is_valid(&valid, b.s) < 0)
		valid = 0;
	wt_buf_release(&b);
	return valid;
}

int
wt_git_base(git_repository *repo, const char *opt, char **refname, git_oid *oid)
{
	static const char *const fallback[] = { "refs/heads/main", "refs/heads/master" };
	git_reference *ref = NULL, *res = NULL;
	struct wt_buf b = WT_BUF_INIT;
	const char *target;
	size_t i;
	int ret = -1;

	*refname = NULL;
	if (opt) {
		/*
		 * A branch or a remote-tracking branch, nothing a worktree could
		 * resolve its own way (HEAD, a revision, refs/worktree/).
		 */
		if (wt_git_base_name_ok(opt) && git_reference_dwim(&ref, repo, opt) == 0 &&
		    (strncmp(git_reference_name(ref), "refs/heads/", 11) == 0 ||
		     strncmp(git_reference_name(ref), "refs/remotes/", 13) == 0) &&
		    git_reference_resolve(&res, ref) == 0) {
			*refname = wt_xstrdup(git_reference_name(ref));
			git_oid_cpy(oid, git_reference_target(res));
			ret = 0;
		}
		goto out;
	}
	/* The default branch: the one origin/HEAD names, the local one first. */
	if (git_reference_lookup(&ref, repo, "refs/remotes/origin/HEAD") == 0 &&
	    git_reference_type(ref) == GIT_REFERENCE_SYMBOLIC &&
	    (target = git_reference_symbolic_target(ref)) &&
	    strncmp(target, "refs/remotes/origin/", 20) == 0) {
		wt_buf_addf(&b, "refs/heads/%s", target + 20);
		if (git_reference_name_to_id(oid, repo, b.s) == 0) {
			*refname = wt_buf_detach(&b);
			ret = 0;
			goto out;
		}
		if (git_reference_name_to_id(oid, repo, target) == 0) {
			*refname = wt_xstrdup(target);
			ret = 0;
			goto out;
		}
	}
	for (i = 0; i < sizeof(fallback) / sizeof(fallback[0]); i++)
		if (git_reference_name_to_id(oid, repo, fallback[i]) == 0) {
			*refname = wt_xstrdup(fallback[i]);
			ret = 0;
			goto out;
		}
out:
	git_reference_free(ref);
	git_reference_free(res);
	wt_buf_release(&b);
	return ret;
}

/* The tree of a commit, or NULL for a NULL id. */
static int
commit_tree(git_tree **tree, git_repository *repo, const git_oid *id)
{
	git_commit *c = NULL;
	int rc;

	*tree = NULL;
	if (!id)
		return 0;
	if ((rc = git_commit_lookup(&c, repo, id)) < 0)
		return rc;
	rc = git_commit_tree(tree, c);
	git_commit_free(c);
	return rc;
}

/*
 * A commit's change against its first parent: a key of the paths it touches
 * (cheap: trees only) and, when pid is not NULL, its patch-id (which reads
 * and diffs the blobs). Returns 0, 1 for a merge commit (no change of its
 * own), or -1.
 */
static int
change_of(git_repository *repo, const git_oid *id, uint64_t *key, git_oid *pid)
{
	git_commit *c = NULL, *p = NULL;
	git_tree *ct = NULL, *pt = NULL;
	git_diff *diff = NULL;
	size_t i, n;
	int ret = -1;

	if (git_commit_lookup(&c, repo, id) < 0)
		goto out;
	if (git_commit_parentcount(c) > 1) {
		ret = 1;
		goto out;
	}
	if (git_commit_parentcount(c) == 1 &&
	    (git_commit_parent(&p, c, 0) < 0 || git_commit_tree(&pt, p) < 0))
		goto out;
	if (git_commit_tree(&ct, c) < 0 || git_diff_tree_to_tree(&diff, repo, pt, ct, NULL) < 0)
		goto out;
	/* Deltas come sorted by path: the key does not depend on the order of a walk. */
	*key = 1469598103934665603ULL;
	n = git_diff_num_deltas(diff);
	for (i = 0; i < n; i++) {
		const git_diff_delta *d = git_diff_get_delta(diff, i);
		const char *path = d->new_file.path ? d->new_file.path : d->old_file.path;

		*key = (*key ^ wt_index_hash(path, strlen(path))) * 1099511628211ULL;
	}
	if (pid && git_diff_patchid(pid, diff, NULL) < 0)
		goto out;
	ret = 0;
out:
	git_diff_free(diff);
	git_tree_free(ct);
	git_tree_free(pt);
	git_commit_free(p);
	git_commit_free(c);
	return ret;
}

static int
cmp_key(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int
cmp_oid(const void *a, const void *b)
{
	return git_oid_cmp(a, b);
}

/* A walk of the commits reachable from from and not from hide (which may be NULL). */
static git_revwalk *
walk_range(git_repository *repo, const git_oid *from, const git_oid *hide)
{
	git_revwalk *w = NULL;

	if (git_revwalk_new(&w, repo) < 0)
		return NULL;
	if (git_revwalk_push(w, from) < 0 || (hide && git_revwalk_hide(w, hide) < 0)) {
		git_revwalk_free(w);
		return NULL;
	}
	return w;
}

/*
 * Tree and cherry: a base commit since the fork has the branch's tree, or
 * every non-merge commit of the branch has a patch-id that a base commit has.
 * Returns 1 with *reason, 0 when neither, -1 when unknown.
 */
static int
tree_or_cherry(git_repository *repo, const git_oid *tip, const git_oid *base,
	       const git_oid *fork, enum wt_merged_reason *reason)
{
	git_revwalk *w = NULL;
	git_commit *c = NULL;
	git_tree *tt = NULL;
	git_oid id, *mine = NULL, *hit, pid;
	uint64_t *keys = NULL, key;
	size_t nmine = 0, nkeys = 0, k, found;
	char *seen = NULL;
	int ret = -1, n = 0, rc;

	if (commit_tree(&tt, repo, tip) < 0 || !(w = walk_range(repo, base, fork)))
		goto out;
	while ((rc = git_revwalk_next(&id, w)) == 0) {
		if (++n > BASE_WALK_MAX)
			goto out;
		if (git_commit_lookup(&c, repo, &id) < 0)
			goto out;
		if (git_oid_equal(git_commit_tree_id(c), git_tree_id(tt))) {
			*reason = WT_MR_TREE;
			ret = 1;
			goto out;
		}
		git_commit_free(c);
		c = NULL;
	}
	if (rc != GIT_ITEROVER)
		goto out;
	git_revwalk_free(w);
	w = NULL;

	/* The branch's own commits, as patch-ids and the paths they touch. */
	if (!(w = walk_range(repo, tip, fork)))
		goto out;
	while ((rc = git_revwalk_next(&id, w)) == 0) {
		if (nmine >= BRANCH_WALK_MAX)
			goto out;
		mine = wt_xrealloc(mine, (nmine + 1) * sizeof(*mine));
		keys = wt_xrealloc(keys, (nmine + 1) * sizeof(*keys));
		if ((rc = change_of(repo, &id, &keys[nmine], &mine[nmine])) < 0)
			goto out;
		if (rc == 0)
			nmine++;
	}
	if (rc != GIT_ITEROVER)
		goto out;
	git_revwalk_free(w);
	w = NULL;
	if (!nmine) {
		ret = 0;
		goto out;
	}
	qsort(keys, nmine, sizeof(*keys), cmp_key);
	qsort(mine, nmine, sizeof(*mine), cmp_oid);
	for (k = 1, found = 1; k < nmine; k++)
		if (!git_oid_equal(&mine[k], &mine[found - 1]))
			git_oid_cpy(&mine[found++], &mine[k]);
	nkeys = nmine;
	nmine = found;
	seen = calloc(nmine, 1);
	/*
	 * The base's commits since the fork, until each of the branch's patches
	 * is seen; a patch-id only for those touching the paths one of the
	 * branch's commits touches, as git cherry does.
	 */
	if (!seen || !(w = walk_range(repo, base, fork)))
		goto out;
	found = 0;
	n = 0;
	while (found < nmine && (rc = git_revwalk_next(&id, w)) == 0) {
		if (++n > CHERRY_MAX || (rc = change_of(repo, &id, &key, NULL)) < 0)
			goto out;
		if (rc == 1 || !bsearch(&key, keys, nkeys, sizeof(*keys), cmp_key))
			continue;
		if (change_of(repo, &id, &key, &pid) < 0)
			goto out;
		hit = bsearch(&pid, mine, nmine, sizeof(*mine), cmp_oid);
		if (hit && !seen[hit - mine]) {
			seen[hit - mine] = 1;
			found++;
		}
	}
	if (found < nmine && rc != GIT_ITEROVER)
		goto out;
	ret = found == nmine;
	if (ret)
		*reason = WT_MR_CHERRY;
out:
	git_commit_free(c);
	git_tree_free(tt);
	git_revwalk_free(w);
	free(mine);
	free(keys);
	free(seen);
	return ret;
}

/*
 * Squash: every path the branch changed since the fork has, in the base, the
 * content and mode the branch gave it (or is absent in both). A branch that
 * changed nothing is not merged by this rule: it has nothing to show.
 */
static int
squashed(git_repository *repo, const git_oid *tip, const git_oid *base,
	 const git_oid *fork)
{
	git_tree *ft = NULL, *tt = NULL, *bt = NULL;
	git_tree_entry *e = NULL;
	git_diff *diff = NULL;
	git_diff_options o;
	size_t i, n;
	int ret = -1, rc;

	git_diff_options_init(&o, GIT_DIFF_OPTIONS_VERSION);
	o.flags |= GIT_DIFF_SKIP_BINARY_CHECK;
	if (commit_tree(&ft, repo, fork) < 0 || commit_tree(&tt, repo, tip) < 0 ||
	    commit_tree(&bt, repo, base) < 0 ||
	    git_diff_tree_to_tree(&diff, repo, ft, tt, &o) < 0)
		goto out;
	n = git_diff_num_deltas(diff);
	ret = n > 0;
	for (i = 0; ret == 1 && i < n; i++) {
		const git_diff_delta *d = git_diff_get_delta(diff, i);

		rc = git_tree_entry_bypath(&e, bt, d->new_file.path);
		if (rc < 0 && rc != GIT_ENOTFOUND) {
			ret = -1;
			break;
		}
		if (d->status == GIT_DELTA_DELETED)
			ret = rc == GIT_ENOTFOUND;
		else
			ret = rc == 0 && git_oid_equal(git_tree_entry_id(e), &d->new_file.id) &&
			      (unsigned)git_tree_entry_filemode(e) == d->new_file.mode;
		git_tree_entry_free(e);
		e = NULL;
	}
out:
	git_diff_free(diff);
	git_tree_free(ft);
	git_tree_free(tt);
	git_tree_free(bt);
	return ret;
}

static const char *const reason_names[] = {
	[WT_MR_ANCESTOR] = "ancestor",
	[WT_MR_TREE] = "tree",
	[WT_MR_CHERRY] = "cherry",
	[WT_MR_SQUASH] = "squash",
	[WT_MR_NOT_MERGED] = "not merged",
	[WT_MR_BASE] = "the base branch itself",
	[WT_MR_NO_COMMIT] = "no commit checked out",
	[WT_MR_NO_BASE] = "no base branch",
	[WT_MR_UNREADABLE] = "cannot read the history",
	[WT_MR_NO_FORK] = "cannot find where the branch forked",
	[WT_MR_TOO_LONG] = "history too long or unreadable to decide",
};

const char *
wt_merged_reason_name(enum wt_merged_reason why)
{
	return (unsigned)why < sizeof(reason_names) / sizeof(reason_names[0]) ?
	       reason_names[why] : "unknown";
}

int
wt_git_merged(git_repository *repo, const git_oid *tip, const git_oid *base,
	      enum wt_merged_reason *reason)
{
	git_oid fork;
	int rc = 0, unknown = 0, has_fork;

	/* Cheapest first: the tip is in the base's history. */
	if (git_oid_equal(tip, base) || (rc = git_graph_descendant_of(repo, base, tip)) == 1) {
		*reason = WT_MR_ANCESTOR;
		return WT_MERGED_YES;
	}
	if (rc < 0) {
		*reason = WT_MR_UNREADABLE;
		return WT_MERGED_UNKNOWN;
	}
	rc = git_merge_base(&fork, repo, tip, base);
	if (rc < 0 && rc != GIT_ENOTFOUND) {
		*reason = WT_MR_NO_FORK;
		return WT_MERGED_UNKNOWN;
	}
	has_fork = rc == 0;
	rc = tree_or_cherry(repo, tip, base, has_fork ? &fork : NULL, reason);
	if (rc == 1)
		return WT_MERGED_YES;
	unknown = rc < 0;
	rc = squashed(repo, tip, base, has_fork ? &fork : NULL);
	if (rc == 1) {
		*reason = WT_MR_SQUASH;
		return WT_MERGED_YES;
	}
	if (unknown || rc < 0) {
		*reason = WT_MR_TOO_LONG;
		return WT_MERGED_UNKNOWN;
	}
	*reason = WT_MR_NOT_MERGED;
	return WT_MERGED_NO;
}

int
wt_git_head_merged(git_repository *repo, const char *base_opt,
		   enum wt_merged_reason *reason, char **base_ref)
{
	git_reference *head = NULL;
	git_oid tip, base;
	char *refname = NULL;
	int m = WT_MERGED_UNKNOWN;

	if (base_ref)
		*base_ref = NULL;
	if (git_repository_head(&head, repo) < 0) {
		*reason = WT_MR_NO_COMMIT;
		goto out;
	}
	git_oid_cpy(&tip, git_reference_target(head));
	if (wt_git_base(repo, base_opt, &refname, &base) < 0) {
		*reason = WT_MR_NO_BASE;
		goto out;
	}
	/* The base branch is not merged into itself: what it holds stays with it. */
	if (strcmp(git_reference_name(head), refname) == 0) {
		*reason = WT_MR_BASE;
		goto out;
	}
	m = wt_git_merged(repo, &tip, &base, reason);
out:
	if (base_ref)
		*base_ref = refname;
	else
		free(refname);
	git_reference_free(head);
	return m;
}

void
wt_rec_set_merged(struct wt_rec *r, int merged, enum wt_merged_reason reason)
{
	if (merged == WT_MERGED_UNKNOWN)
		wt_rec_set_null(r, "merged");
	else
		wt_rec_set_bool(r, "merged", merged == WT_MERGED_YES);
	wt_rec_set_str(r, "merged_reason", wt_merged_reason_name(reason));
}

void
wt_git_set_merged(struct wt_rec *r, git_repository *repo, const char *base_opt)
{
	enum wt_merged_reason why;
	int m = wt_git_head_merged(repo, base_opt, &why, NULL);

	wt_rec_set_merged(r, m, why);
}
