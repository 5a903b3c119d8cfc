/* protect.c: whether a protection ref still protects any work. */
#include <git2.h>
#include <stdlib.h>
#include <string.h>

#include "wt.h"

const char *
wt_protect_ref_kind(const char *name)
{
	if (strncmp(name, "refs/wt/removed/", 16) == 0 && name[16])
		return "removed";
	if (strncmp(name, "refs/wt/backup/", 15) == 0 && name[15])
		return "backup";
	return NULL;
}

/*
 * The name of the direct ref a ref ends at (symbolic ones followed), a new
 * string, or NULL (a dangling one).
 */
static char *
final_name(git_reference *ref)
{
	git_reference *res = NULL;
	char *s = NULL;

	if (git_reference_type(ref) == GIT_REFERENCE_DIRECT)
		return wt_xstrdup(git_reference_name(ref));
	if (git_reference_resolve(&res, ref) == 0)
		s = wt_xstrdup(git_reference_name(res));
	git_reference_free(res);
	return s;
}

/* The commit a ref (symbolic ones followed) holds; 0 or -1 (not a commit, unborn). */
static int
ref_commit(git_reference *ref, git_oid *oid)
{
	git_object *o = NULL;

	if (git_reference_peel(&o, ref, GIT_OBJECT_COMMIT) < 0)
		return -1;
	git_oid_cpy(oid, git_object_id(o));
	git_object_free(o);
	return 0;
}

int
wt_protect_ref_redundant(struct git_repository *repo, const char *name, struct git_oid *oid,
			 char **by)
{
	git_reference_iterator *it = NULL;
	git_reference *ref = NULL, *r;
	git_oid tip;
	const char *rn;
	int ret = -1, rc;

	if (by)
		*by = NULL;
	if (git_reference_lookup(&ref, repo, name) < 0 || ref_commit(ref, oid) < 0)
		goto out;
	if (git_reference_iterator_new(&it, repo) < 0)
		goto out;
	ret = 0;
	/*
	 * Only refs that stay count: refs of the kinds a repair deletes are left
	 * out, so two of them that hold the same commits do not vouch for each
	 * other and both go.
	 */
	while (ret == 0 && (rc = git_reference_next(&r, it)) == 0) {
		/*
		 * A symbolic ref is what it ends at: one that names this ref or
		 * another of the kinds a repair deletes vouches for nothing (it
		 * dangles once that ref goes).
		 */
		char *fin = final_name(r);

		rn = git_reference_name(r);
		if (fin && strcmp(fin, name) != 0 && !wt_protect_ref_kind(fin) &&
		    ref_commit(r, &tip) == 0 &&
		    (git_oid_equal(&tip, oid) || git_graph_descendant_of(repo, &tip, oid) == 1)) {
			ret = 1;
			if (by)
				*by = wt_xstrdup(rn);
		}
		free(fin);
		git_reference_free(r);
	}
	if (ret == 0 && rc != GIT_ITEROVER)
		ret = -1;
out:
	git_reference_iterator_free(it);
	git_reference_free(ref);
	return ret;
}

int
wt_protect_ref_delete(struct git_repository *repo, const char *name, const struct git_oid *oid)
{
	git_reference *ref = NULL;
	git_oid now;
	int ret = -1;

	/* Only the ref as it was judged: one moved since holds other commits. */
	if (git_reference_lookup(&ref, repo, name) == 0 && git_reference_type(ref) == GIT_REFERENCE_DIRECT &&
	    ref_commit(ref, &now) == 0 && git_oid_equal(&now, oid))
		ret = git_reference_delete(ref) == 0 ? 0 : -1;
	git_reference_free(ref);
	return ret;
}
