/* gitlazy.c: libgit2 loaded on its first use, for wt-ls (see the Makefile). */
/*
 * A program linked with -lgit2 loads it and 16 libraries behind it (ssl,
 * ssh, kerberos, pcre ...) and resolves some 5,700 symbols before main:
 * about 1.7 ms, most of what `wt-ls -i ID` costs. wt-ls needs git only for
 * -g, -d and a directory with no registry, so it is linked with these
 * stand-ins instead. Each is a libgit2 function wt-ls calls, defined with
 * libgit2's own prototype (git2.h checks it); the first call of any opens
 * libgit2 by its SONAME, and each finds its real function once.
 *
 * This file is not in libcommon.a. The Makefile links it into wt-ls, and
 * -lgit2 after it: a libgit2 function wt-ls comes to call that is not listed
 * here is then taken from libgit2 linked as usual, which costs the start-up
 * time again but nothing else (LD_DEBUG=libs shows libgit2 loaded at start).
 */
#include <dlfcn.h>
#include <err.h>
#include <git2.h>
#include <pthread.h>
#include <stdarg.h>

#include "wt.h"

#ifndef WT_LIBGIT2
#error "WT_LIBGIT2 names libgit2's SONAME (the Makefile finds it)"
#endif

static void *lib;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void
load(void)
{
	if (!(lib = dlopen(WT_LIBGIT2, RTLD_NOW | RTLD_LOCAL)))
		errx(WT_EXIT_FATAL, "cannot load %s: %s", WT_LIBGIT2, dlerror());
}

static void *
sym(const char *name)
{
	void *f;

	pthread_once(&once, load);
	if (!(f = dlsym(lib, name)))
		errx(WT_EXIT_FATAL, "%s has no %s", WT_LIBGIT2, name);
	return f;
}

/* The real function, found once; workers of -g may race to find it. */
#define REAL(name)							\
	static __typeof__(&name) real;					\
	__typeof__(&name) f = __atomic_load_n(&real, __ATOMIC_ACQUIRE);	\
	if (!f) {							\
		f = (__typeof__(&name))sym(#name);			\
		__atomic_store_n(&real, f, __ATOMIC_RELEASE);		\
	}

#define LAZY(ret, name, params, args) \
	ret name params { REAL(name) return f args; }
#define LAZY_VOID(name, params, args) \
	void name params { REAL(name) f args; }

LAZY(int, git_libgit2_init, (void), ())
LAZY(const git_error *, git_error_last, (void), ())

LAZY(int, git_repository_open, (git_repository **out, const char *path), (out, path))
LAZY(int, git_repository_open_ext, (git_repository **out, const char *path,
	unsigned int flags, const char *ceiling_dirs), (out, path, flags, ceiling_dirs))
LAZY_VOID(git_repository_free, (git_repository *repo), (repo))
LAZY(int, git_repository_head, (git_reference **out, git_repository *repo), (out, repo))
LAZY(int, git_repository_is_bare, (const git_repository *repo), (repo))
LAZY(const char *, git_repository_path, (const git_repository *repo), (repo))
LAZY(const char *, git_repository_workdir, (const git_repository *repo), (repo))
LAZY(const char *, git_repository_commondir, (const git_repository *repo), (repo))

LAZY(int, git_reference_name_to_id, (git_oid *out, git_repository *repo,
	const char *name), (out, repo, name))
LAZY(int, git_reference_is_branch, (const git_reference *ref), (ref))
LAZY(const git_oid *, git_reference_target, (const git_reference *ref), (ref))
LAZY(const char *, git_reference_shorthand, (const git_reference *ref), (ref))
LAZY_VOID(git_reference_free, (git_reference *ref), (ref))
LAZY(int, git_branch_upstream, (git_reference **out, const git_reference *branch),
	(out, branch))
LAZY(int, git_graph_ahead_behind, (size_t *ahead, size_t *behind, git_repository *repo,
	const git_oid *local, const git_oid *upstream), (ahead, behind, repo, local, upstream))

LAZY(int, git_oid_fromstr, (git_oid *out, const char *str), (out, str))
LAZY(char *, git_oid_tostr, (char *out, size_t n, const git_oid *id), (out, n, id))

LAZY(int, git_status_options_init, (git_status_options *opts, unsigned int version),
	(opts, version))
LAZY(int, git_status_list_new, (git_status_list **out, git_repository *repo,
	const git_status_options *opts), (out, repo, opts))
LAZY(size_t, git_status_list_entrycount, (git_status_list *statuslist), (statuslist))
LAZY(const git_status_entry *, git_status_byindex, (git_status_list *statuslist,
	size_t idx), (statuslist, idx))
LAZY_VOID(git_status_list_free, (git_status_list *statuslist), (statuslist))

LAZY(int, git_worktree_list, (git_strarray *out, git_repository *repo), (out, repo))
LAZY(int, git_worktree_lookup, (git_worktree **out, git_repository *repo,
	const char *name), (out, repo, name))
LAZY(const char *, git_worktree_path, (const git_worktree *wt), (wt))
LAZY(int, git_worktree_is_locked, (git_buf *reason, const git_worktree *wt), (reason, wt))
LAZY_VOID(git_worktree_free, (git_worktree *wt), (wt))

LAZY(int, git_index_find, (size_t *at_pos, git_index *index, const char *path),
	(at_pos, index, path))
LAZY(int, git_index_find_prefix, (size_t *at_pos, git_index *index, const char *prefix),
	(at_pos, index, prefix))

LAZY_VOID(git_buf_dispose, (git_buf *buffer), (buffer))
LAZY_VOID(git_strarray_dispose, (git_strarray *array), (array))

/* merged.c, for the merged field of -g */
LAZY_VOID(git_commit_free, (git_commit *commit), (commit))
LAZY(int, git_commit_lookup, (git_commit **commit, git_repository *repo,
	const git_oid *id),
	(commit, repo, id))
LAZY(int, git_commit_parent, (git_commit **out, const git_commit *commit,
	unsigned int n),
	(out, commit, n))
LAZY(unsigned int, git_commit_parentcount, (const git_commit *commit), (commit))
LAZY(int, git_commit_tree, (git_tree **tree_out, const git_commit *commit),
	(tree_out, commit))
LAZY(const git_oid *, git_commit_tree_id, (const git_commit *commit), (commit))
LAZY_VOID(git_diff_free, (git_diff *diff), (diff))
LAZY(const git_diff_delta *, git_diff_get_delta, (const git_diff *diff, size_t idx),
	(diff, idx))
LAZY(size_t, git_diff_num_deltas, (const git_diff *diff), (diff))
LAZY(int, git_diff_options_init, (git_diff_options *opts, unsigned int version),
	(opts, version))
LAZY(int, git_diff_patchid, (git_oid *out, git_diff *diff,
	git_diff_patchid_options *opts),
	(out, diff, opts))
LAZY(int, git_diff_tree_to_tree, (git_diff **diff, git_repository *repo,
	git_tree *old_tree, git_tree *new_tree, const git_diff_options *opts),
	(diff, repo, old_tree, new_tree, opts))
LAZY(int, git_graph_descendant_of, (git_repository *repo, const git_oid *commit,
	const git_oid *ancestor),
	(repo, commit, ancestor))
LAZY(int, git_merge_base, (git_oid *out, git_repository *repo, const git_oid *one,
	const git_oid *two),
	(out, repo, one, two))
LAZY_VOID(git_object_free, (git_object *object), (object))
LAZY(const git_oid *, git_object_id, (const git_object *obj), (obj))
LAZY(int, git_object_peel, (git_object **peeled, const git_object *object,
	git_object_t target_type),
	(peeled, object, target_type))
LAZY(int, git_oid_cmp, (const git_oid *a, const git_oid *b), (a, b))
LAZY(int, git_oid_cpy, (git_oid *out, const git_oid *src), (out, src))
LAZY(int, git_oid_equal, (const git_oid *a, const git_oid *b), (a, b))
LAZY(int, git_reference_dwim, (git_reference **out, git_repository *repo,
	const char *shorthand),
	(out, repo, shorthand))
LAZY(int, git_reference_lookup, (git_reference **out, git_repository *repo,
	const char *name),
	(out, repo, name))
LAZY(const char *, git_reference_name, (const git_reference *ref), (ref))
LAZY(int, git_reference_resolve, (git_reference **out, const git_reference *ref),
	(out, ref))
LAZY(const char *, git_reference_symbolic_target, (const git_reference *ref), (ref))
LAZY(git_reference_t, git_reference_type, (const git_reference *ref), (ref))
LAZY(int, git_revparse_single, (git_object **out, git_repository *repo,
	const char *spec),
	(out, repo, spec))
LAZY_VOID(git_revwalk_free, (git_revwalk *walk), (walk))
LAZY(int, git_revwalk_hide, (git_revwalk *walk, const git_oid *commit_id),
	(walk, commit_id))
LAZY(int, git_revwalk_new, (git_revwalk **out, git_repository *repo), (out, repo))
LAZY(int, git_revwalk_next, (git_oid *out, git_revwalk *walk), (out, walk))
LAZY(int, git_revwalk_push, (git_revwalk *walk, const git_oid *id), (walk, id))
LAZY(int, git_tree_entry_bypath, (git_tree_entry **out, const git_tree *root,
	const char *path),
	(out, root, path))
LAZY(git_filemode_t, git_tree_entry_filemode, (const git_tree_entry *entry), (entry))
LAZY_VOID(git_tree_entry_free, (git_tree_entry *entry), (entry))
LAZY(const git_oid *, git_tree_entry_id, (const git_tree_entry *entry), (entry))
LAZY_VOID(git_tree_free, (git_tree *tree), (tree))
LAZY(const git_oid *, git_tree_id, (const git_tree *tree), (tree))

/*
 * Variadic, so it is forwarded option by option: only those wt sets. Any
 * other stops the program rather than pass arguments of a wrong type.
 */
int
git_libgit2_opts(int option, ...)
{
	va_list ap;
	int v;

	REAL(git_libgit2_opts)
	switch (option) {
	case GIT_OPT_SET_OWNER_VALIDATION:
		va_start(ap, option);
		v = va_arg(ap, int);
		va_end(ap);
		return f(option, v);
	default:
		errx(WT_EXIT_FATAL, "internal error: gitlazy.c does not forward "
		     "git_libgit2_opts option %d", option);
	}
}
