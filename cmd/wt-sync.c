/* wt-sync: fetch once per repository, bring every worktree up to date, roll back what fails. */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <git2.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "wt.h"

enum strategy { FF_ONLY, REBASE, MERGE };

static struct {
	int dry, fetch_too, stash, keep_backup, quiet, force, jobs;
	enum strategy how;
	const char *onto;
	time_t now;
} opt;

static struct wt_registry reg;
static struct wt_batch *batch;
static struct wt_fetch_opts fopts;

static const char usage_text[] =
	"usage: wt-sync [-fnq] [--ff-only | --rebase | --merge] [--stash] [--onto ref] "
	"[--keep-backup] [--fetch] [-j jobs] [-r registry]\n"
	"       wt-sync -h | --help | --version\n"
	"  -f                 sync records whose status is error too\n"
	"      --fetch        with -n, fetch (but change no worktree)\n"
	"      --ff-only      fast-forward only; report a diverged branch (the default)\n"
	"  -j jobs            work on up to jobs worktrees and repositories at once\n"
	"      --keep-backup  keep refs/wt/backup/ID after a successful sync\n"
	"      --merge        merge the upstream into a diverged branch\n"
	"  -n                 change nothing: say what each worktree would do\n"
	"      --onto ref     the upstream of branches that have none\n"
	"  -q                 no progress on stderr\n"
	"  -r registry        the registry to update\n"
	"      --rebase       rebase a diverged branch onto its upstream\n"
	"      --stash        stash a dirty worktree's changes, sync, put them back\n"
	"  -h, --help         print this usage and exit\n"
	"      --version      print the version and exit\n";

/* One remote of one repository, fetched once for all its worktrees. */
struct fetch {
	char *common, *remote;
	struct wt_fetch f;
	int ok;
};
static struct fetch *fetches;
static size_t nfetches;

/* One record and what it needs. */
struct job {
	struct wt_rec r;
	int pass;                   /* decided already: written as it is */
	struct wt_target t;
	int verified;
	char *branch;               /* refs/heads/NAME */
	char *upstream;             /* the upstream's ref name, or NULL */
	long fetch;                 /* index in fetches, or -1 */
};
static struct job *jobs;
static size_t njobs;

/* Progress, on a terminal only. */
static pthread_mutex_t progress_mu = PTHREAD_MUTEX_INITIALIZER;
static size_t fetched, synced, nsync;
static int show_progress;

static void
progress(void)
{
	if (!show_progress)
		return;
	pthread_mutex_lock(&progress_mu);
	fprintf(stderr, "\r%s: %zu/%zu repositories fetched, %zu/%zu worktrees synced ",
		wt_progname, fetched, nfetches, synced, nsync);
	pthread_mutex_unlock(&progress_mu);
}

/* Runs fn(i) for i in 0..n-1 on up to opt.jobs threads. */
struct par {
	void (*fn)(size_t);
	size_t n, next;
	pthread_mutex_t mu;
};

static void *
par_worker(void *arg)
{
	struct par *p = arg;
	size_t i;

	for (;;) {
		pthread_mutex_lock(&p->mu);
		i = p->next++;
		pthread_mutex_unlock(&p->mu);
		if (i >= p->n)
			return NULL;
		p->fn(i);
	}
}

static void
parallel(size_t n, void (*fn)(size_t))
{
	struct par p = { fn, n, 0, PTHREAD_MUTEX_INITIALIZER };
	pthread_t th[256];
	int k, started = 0;

	for (k = 0; k < opt.jobs - 1 && (size_t)k + 1 < n; k++)
		if (pthread_create(&th[k], NULL, par_worker, &p) == 0)
			started++;
	par_worker(&p);
	for (k = 0; k < started; k++)
		pthread_join(th[k], NULL);
}

/* A ref's short name, as git shows it: origin/main, main. */
static const char *
short_ref(const char *name)
{
	if (!name)
		return NULL;
	if (!strncmp(name, "refs/remotes/", 13))
		return name + 13;
	if (!strncmp(name, "refs/heads/", 11))
		return name + 11;
	return name;
}

/* The sync object: result and reason, then what is known. */
static void
set_sync(struct wt_rec *r, const char *result, const char *reason, const char *from,
	 const char *to, const char *upstream, long ahead, long behind, long long bytes)
{
	struct wt_obj o;

	wt_obj_init(&o);
	wt_obj_str(&o, "result", result);
	if (reason)
		wt_obj_str(&o, "reason", reason);
	if (from)
		wt_obj_str(&o, "from", from);
	if (to)
		wt_obj_str(&o, "to", to);
	if (upstream)
		wt_obj_str(&o, "upstream", short_ref(upstream));
	if (ahead >= 0) {
		wt_obj_int(&o, "ahead", ahead);
		wt_obj_int(&o, "behind", behind);
	}
	if (bytes >= 0)
		wt_obj_int(&o, "fetched_bytes", bytes);
	wt_rec_set_obj(r, "sync", &o);
	wt_obj_release(&o);
}

/* A skip: the skipped object and a sync result saying the same. */
static void skip(struct job *j, const char *reason, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
skip(struct job *j, const char *reason, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	set_sync(&j->r, "skipped", reason, NULL, NULL, NULL, -1, 0, -1);
	wt_rec_skip(&j->r, reason, NULL, "%s", msg);
	j->pass = 1;
}

static long
fetch_of(const char *common, const char *remote)
{
	static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	size_t i;

	pthread_mutex_lock(&mu);
	for (i = 0; i < nfetches; i++)
		if (!strcmp(fetches[i].common, common) && !strcmp(fetches[i].remote, remote))
			break;
	if (i == nfetches) {
		fetches = wt_xrealloc(fetches, (nfetches + 1) * sizeof(*fetches));
		memset(&fetches[i], 0, sizeof(*fetches));
		fetches[i].common = wt_xstrdup(common);
		fetches[i].remote = wt_xstrdup(remote);
		nfetches++;
	}
	pthread_mutex_unlock(&mu);
	return (long)i;
}

/* The remote a ref name fetches from: refs/remotes/R/... where R is a remote. */
static char *
remote_of_ref(git_repository *repo, const char *refname)
{
	git_strarray names = { NULL, 0 };
	char *found = NULL;
	size_t i, n;

	if (strncmp(refname, "refs/remotes/", 13) || git_remote_list(&names, repo) < 0)
		return NULL;
	for (i = 0; i < names.count && !found; i++) {
		n = strlen(names.strings[i]);
		if (!strncmp(refname + 13, names.strings[i], n) && refname[13 + n] == '/')
			found = wt_xstrdup(names.strings[i]);
	}
	git_strarray_dispose(&names);
	return found;
}

/* A ref name for --onto: as given, else refs/heads/REF, else refs/remotes/REF. */
static char *
onto_ref(git_repository *repo)
{
	git_reference *ref = NULL;
	char *name = NULL;

	if (git_reference_dwim(&ref, repo, opt.onto) == 0) {
		name = wt_xstrdup(git_reference_name(ref));
		git_reference_free(ref);
	}
	return name;
}

/*
 * First pass, before any fetch: what each record is, and which remote it
 * needs. The upstream: the branch's configured one, else the same name on
 * origin, else --onto.
 */
static void
plan(size_t i)
{
	struct job *j = &jobs[i];
	struct wt_rec *r = &j->r;
	git_repository *repo = NULL;
	git_reference *head = NULL;
	git_buf up = GIT_BUF_INIT, rem = GIT_BUF_INIT;
	char *path = NULL, *repo_s = NULL, *status = NULL, *remote = NULL, *locked = NULL;
	const char *why;

	j->fetch = -1;
	if (wt_rec_has_error(r) || !r->ntok) {
		j->pass = 1;
		return;
	}
	path = wt_rec_str(r, "path");
	repo_s = wt_rec_str(r, "repo");
	status = wt_rec_str(r, "status");
	if (wt_rec_is_archived(r)) {
		skip(j, "archived", "not synced: the worktree is archived");
		goto out;
	}
	if (status && !strcmp(status, "error") && !opt.force) {
		skip(j, "error", "not synced: its status is error%s (-f syncs it anyway)",
		     wt_rec_find(r, "needs_manual_intervention") >= 0 ?
		     ", it needs a person to look" : "");
		goto out;
	}
	if (wt_rec_find(r, "id") < 0 || !wt_rec_tok_is_string(r, wt_rec_find(r, "id"))) {
		/* Its backup ref is named by it. */
		wt_rec_refuse(r, "id", NULL, "not synced: the record has no id");
		j->pass = 1;
		goto out;
	}
	if (!path) {
		wt_rec_refuse(r, "path", NULL, "not synced: the record has no path");
		j->pass = 1;
		goto out;
	}
	if (wt_target_verify(&j->t, path, repo_s, &why) < 0) {
		wt_rec_refuse(r, wt_target_rule(why), NULL, "not synced: %s", why);
		j->pass = 1;
		goto out;
	}
	j->verified = 1;
	if (wt_target_locked(&j->t, &locked)) {
		set_sync(r, "skipped", "locked", NULL, NULL, NULL, -1, 0, -1);
		wt_rec_refuse(r, "locked", NULL, "not synced: the worktree is locked%s%s",
			      locked && *locked ? ": " : "", locked ? locked : "");
		j->pass = 1;
		goto out;
	}
	if (git_repository_open(&repo, j->t.path) < 0) {
		wt_rec_error(r, WT_E_SYNC, NULL, "cannot open '%s': %s", j->t.path,
			     wt_git_errmsg());
		j->pass = 1;
		goto out;
	}
	if (git_repository_head_unborn(repo) == 1) {
		skip(j, "unborn", "not synced: its branch has no commit yet");
		goto out;
	}
	if (git_repository_head(&head, repo) < 0 || !git_reference_is_branch(head)) {
		skip(j, "detached", "not synced: HEAD is detached");
		goto out;
	}
	j->branch = wt_xstrdup(git_reference_name(head));
	if (git_branch_upstream_name(&up, repo, j->branch) == 0) {
		j->upstream = wt_xstrdup(up.ptr);
		if (git_branch_upstream_remote(&rem, repo, j->branch) == 0 &&
		    strcmp(rem.ptr, ".") != 0)
			remote = wt_xstrdup(rem.ptr);
	} else {
		git_remote *origin = NULL;

		if (git_remote_lookup(&origin, repo, "origin") == 0) {
			struct wt_buf b = WT_BUF_INIT;

			wt_buf_addf(&b, "refs/remotes/origin/%s", j->branch + 11);
			j->upstream = wt_buf_detach(&b);
			remote = wt_xstrdup("origin");
			git_remote_free(origin);
		} else if (opt.onto && (j->upstream = onto_ref(repo)))
			remote = remote_of_ref(repo, j->upstream);
		else {
			skip(j, "no_upstream", "not synced: its branch has no upstream "
			     "(--onto names one)");
			goto out;
		}
	}
	if (remote && (!opt.dry || opt.fetch_too))
		j->fetch = fetch_of(j->t.common, remote);
out:
	git_buf_dispose(&up);
	git_buf_dispose(&rem);
	git_reference_free(head);
	git_repository_free(repo);
	free(path);
	free(repo_s);
	free(status);
	free(remote);
	free(locked);
}

static void
on_retry(const struct wt_fetch *f, long n, double delay, void *arg)
{
	(void)arg;
	fprintf(stderr, "%s: fetch of '%s' for '%s' failed: %s; retry %ld of %ld in %.2f s\n",
		wt_progname, f->remote, f->common, f->msg, n, fopts.retries, delay);
}

static void
fetch_one(size_t i)
{
	struct fetch *fe = &fetches[i];

	fe->f.common = fe->common;
	fe->f.remote = fe->remote;
	fe->ok = wt_fetch(&fe->f, &fopts) == 0;
	if (!fe->ok)
		fprintf(stderr, "%s: cannot fetch '%s' for '%s' (%ld attempt%s): %s\n",
			wt_progname, fe->remote, fe->common, fe->f.attempts,
			fe->f.attempts == 1 ? "" : "s", fe->f.msg);
	pthread_mutex_lock(&progress_mu);
	fetched++;
	pthread_mutex_unlock(&progress_mu);
	progress();
}

/* What a sync that failed leaves in the record: the error, its state, the backup. */
struct state {
	const char *step, *upstream, *backup;
	char **conflicts;
	size_t nconflicts;
};

static void
sync_error(struct job *j, const struct state *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
sync_error(struct job *j, const struct state *s, const char *fmt, ...)
{
	struct wt_obj ctx;
	size_t i;
	va_list ap;

	wt_obj_init(&ctx);
	wt_obj_open(&ctx, "sync_state");
	wt_obj_str(&ctx, "step", s->step);
	if (s->upstream)
		wt_obj_str(&ctx, "upstream", short_ref(s->upstream));
	if (s->nconflicts) {
		wt_obj_array(&ctx, "conflicts");
		for (i = 0; i < s->nconflicts; i++)
			wt_obj_str(&ctx, NULL, s->conflicts[i]);
		wt_obj_close(&ctx);
	}
	wt_obj_close(&ctx);
	if (s->backup)
		wt_obj_str(&ctx, "backup_ref", s->backup);
	va_start(ap, fmt);
	wt_rec_verror(&j->r, WT_E_SYNC, &ctx, fmt, ap);
	va_end(ap);
	wt_obj_release(&ctx);
}

/* The paths in conflict in an index, into s (at most WT_MOVE_CONFLICTS_MAX). */
static void
index_conflicts(git_index *idx, struct state *s)
{
	git_index_conflict_iterator *it = NULL;
	const git_index_entry *a, *o, *t;

	if (git_index_conflict_iterator_new(&it, idx) < 0)
		return;
	while (s->nconflicts < WT_MOVE_CONFLICTS_MAX &&
	       git_index_conflict_next(&a, &o, &t, it) == 0) {
		const char *p = o ? o->path : t ? t->path : a ? a->path : NULL;

		if (!p)
			continue;
		s->conflicts = wt_xrealloc(s->conflicts, (s->nconflicts + 1) * sizeof(char *));
		s->conflicts[s->nconflicts++] = wt_xstrdup(p);
	}
	git_index_conflict_iterator_free(it);
}

/* 1 when commit c changes nothing: its tree is its first parent's (or empty). */
static int
starts_empty(git_commit *c)
{
	git_commit *p = NULL;
	int empty;

	if (git_commit_parentcount(c) == 0)
		return 0;
	if (git_commit_parent(&p, c, 0) < 0)
		return 0;
	empty = git_oid_equal(git_commit_tree_id(c), git_commit_tree_id(p));
	git_commit_free(p);
	return empty;
}

/*
 * The branch's commits since the upstream replayed onto it, in memory, as
 * git rebase does: oldest first, merge commits left out, each commit's
 * author and message kept, the committer ours. A commit whose change the
 * upstream has already (it applies to nothing) is dropped; a commit that
 * was empty to begin with is kept, as git keeps it. The worktree and the
 * branch are not touched.
 */
static int
rebase_mem(git_repository *repo, const git_oid *head, const git_oid *up, git_oid *tip,
	   struct state *s, char *msg, size_t msgsz)
{
	git_revwalk *walk = NULL;
	git_signature *me = NULL;
	git_merge_options mo;
	git_oid id;
	int rc = -1, e;

	git_merge_options_init(&mo, GIT_MERGE_OPTIONS_VERSION);
	*tip = *up;
	if (wt_git_ident(&me, repo, "COMMITTER") < 0 || git_revwalk_new(&walk, repo) < 0 ||
	    git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL | GIT_SORT_REVERSE) < 0 ||
	    git_revwalk_push(walk, head) < 0 || git_revwalk_hide(walk, up) < 0) {
		snprintf(msg, msgsz, "cannot rebase: %s", wt_git_errmsg());
		goto out;
	}
	while ((e = git_revwalk_next(&id, walk)) == 0) {
		git_commit *c = NULL, *onto = NULL;
		git_index *idx = NULL;
		git_tree *tree = NULL;
		git_oid tid;
		const git_commit *parents[1];
		int fail = 0;

		if (git_commit_lookup(&c, repo, &id) < 0 || git_commit_lookup(&onto, repo, tip) < 0)
			fail = 1;
		else if (git_commit_parentcount(c) > 1)
			goto next;
		else if (git_cherrypick_commit(&idx, repo, c, onto, 0, &mo) < 0)
			fail = 1;
		else if (git_index_has_conflicts(idx)) {
			index_conflicts(idx, s);
			snprintf(msg, msgsz, "conflict rebasing %.7s onto %s", git_oid_tostr_s(&id),
				 short_ref(s->upstream));
			rc = 1;
		} else if (git_index_write_tree_to(&tid, idx, repo) < 0 ||
			   git_tree_lookup(&tree, repo, &tid) < 0)
			fail = 1;
		else if (!git_oid_equal(&tid, git_commit_tree_id(onto)) || starts_empty(c)) {
			parents[0] = onto;
			if (git_commit_create(tip, repo, NULL, git_commit_author(c), me,
					      git_commit_message_encoding(c), git_commit_message(c),
					      tree, 1, parents) < 0)
				fail = 1;
		}
		wt_test_pause("rebase");
	next:
		if (fail)
			snprintf(msg, msgsz, "cannot rebase %.7s: %s", git_oid_tostr_s(&id),
				 wt_git_errmsg());
		git_tree_free(tree);
		git_index_free(idx);
		git_commit_free(onto);
		git_commit_free(c);
		if (fail || rc == 1)
			goto out;
	}
	if (e != GIT_ITEROVER) {
		snprintf(msg, msgsz, "cannot rebase: %s", wt_git_errmsg());
		goto out;
	}
	rc = 0;
out:
	git_revwalk_free(walk);
	git_signature_free(me);
	return rc;
}

/* A merge commit of the upstream into the branch, in memory. */
static int
merge_mem(git_repository *repo, const git_oid *head, const git_oid *up, git_oid *tip,
	  const char *branch, struct state *s, char *msg, size_t msgsz)
{
	git_commit *a = NULL, *b = NULL;
	git_index *idx = NULL;
	git_tree *tree = NULL;
	git_signature *au = NULL, *me = NULL;
	git_merge_options mo;
	git_oid tid;
	struct wt_buf m = WT_BUF_INIT;
	const git_commit *parents[2];
	const char *up_short = s->upstream;
	int rc = -1;

	git_merge_options_init(&mo, GIT_MERGE_OPTIONS_VERSION);
	if (git_commit_lookup(&a, repo, head) < 0 || git_commit_lookup(&b, repo, up) < 0 ||
	    git_merge_commits(&idx, repo, a, b, &mo) < 0) {
		snprintf(msg, msgsz, "cannot merge: %s", wt_git_errmsg());
		goto out;
	}
	if (git_index_has_conflicts(idx)) {
		index_conflicts(idx, s);
		snprintf(msg, msgsz, "conflict merging %s", short_ref(s->upstream));
		rc = 1;
		goto out;
	}
	if (!strncmp(up_short, "refs/remotes/", 13))
		wt_buf_addf(&m, "Merge remote-tracking branch '%s' into %s\n", up_short + 13,
			    branch + 11);
	else
		wt_buf_addf(&m, "Merge branch '%s' into %s\n", !strncmp(up_short, "refs/heads/", 11) ?
			    up_short + 11 : up_short, branch + 11);
	parents[0] = a;
	parents[1] = b;
	if (git_index_write_tree_to(&tid, idx, repo) < 0 || git_tree_lookup(&tree, repo, &tid) < 0 ||
	    wt_git_ident(&au, repo, "AUTHOR") < 0 || wt_git_ident(&me, repo, "COMMITTER") < 0 ||
	    git_commit_create(tip, repo, NULL, au, me, NULL, m.s, tree, 2, parents) < 0) {
		snprintf(msg, msgsz, "cannot merge: %s", wt_git_errmsg());
		goto out;
	}
	rc = 0;
out:
	wt_buf_release(&m);
	git_signature_free(au);
	git_signature_free(me);
	git_tree_free(tree);
	git_index_free(idx);
	git_commit_free(a);
	git_commit_free(b);
	return rc;
}

struct find_stash {
	const git_oid *id;
	size_t index;
	int found;
};

static int
find_stash_cb(size_t index, const char *message, const git_oid *id, void *arg)
{
	struct find_stash *f = arg;

	(void)message;
	if (git_oid_equal(id, f->id)) {
		f->index = index;
		f->found = 1;
		return 1;
	}
	return 0;
}

/* Applies our stash (by id) with its index, and drops it when that went cleanly. */
static int
unstash(git_repository *repo, const git_oid *id, int drop)
{
	git_stash_apply_options so;
	struct find_stash f = { id, 0, 0 };
	git_index *idx = NULL;
	int rc;

	git_stash_foreach(repo, find_stash_cb, &f);
	if (!f.found)
		return -1;
	git_stash_apply_options_init(&so, GIT_STASH_APPLY_OPTIONS_VERSION);
	so.flags = GIT_STASH_APPLY_REINSTATE_INDEX;
	rc = git_stash_apply(repo, f.index, &so);
	if (rc == 0 && git_repository_index(&idx, repo) == 0 && git_index_read(idx, 1) == 0 &&
	    git_index_has_conflicts(idx))
		rc = 1;
	git_index_free(idx);
	if (rc == 0 && drop)
		git_stash_drop(repo, f.index);
	return rc;
}

/*
 * Back to the state before: the branch, index and files at the backup when
 * this run changed them (reset), else they are as they were and are not
 * touched, so what was written meanwhile stays; then the stash on top.
 */
static int
roll_back(struct job *j, git_repository *repo, const git_oid *backup, const git_oid *stash,
	  const char *backup_ref, int reset)
{
	char *id = wt_rec_str(&j->r, "id");
	int rc = 0;

	if (reset) {
		rc = wt_git_reset_hard(repo, backup);
		fprintf(stderr, "%s: '%s': reset %s, its index and files to %s (%.12s)\n",
			wt_progname, id ? id : j->t.path, short_ref(j->branch), backup_ref,
			git_oid_tostr_s(backup));
	} else
		fprintf(stderr, "%s: '%s': %s, its index and files left as they were, at %s "
			"(%.12s)\n", wt_progname, id ? id : j->t.path, short_ref(j->branch),
			backup_ref, git_oid_tostr_s(backup));
	if (rc == 0 && stash) {
		rc = unstash(repo, stash, 1) == 0 ? 0 : -1;
		fprintf(stderr, "%s: '%s': %s\n", wt_progname, id ? id : j->t.path, rc == 0 ?
			"put the stashed changes back" : "the stashed changes stay in git stash "
			"list: git stash pop puts them back");
	}
	free(id);
	return rc;
}

static void
registry_patch(struct job *j, int conflict, int ok)
{
	struct wt_rec cur = WT_REC_INIT;
	struct wt_obj f;
	char *id = wt_rec_str(&j->r, "id");
	const char *text;
	double v;
	size_t n;
	int rc;

	rc = wt_registry_record_of(&reg, id, j->t.path, j->t.common, &cur);
	if (wt_registry_may_patch(&j->r, &reg, rc, &cur, "sync") < 0 || rc != WT_REG_SAME)
		goto out;
	wt_obj_init(&f);
	if ((text = wt_rec_raw(&j->r, "head", &n)))
		wt_obj_raw(&f, "head", text, n);
	if ((text = wt_rec_raw(&j->r, "sync", &n)))
		wt_obj_raw(&f, "sync", text, n);
	if ((text = wt_rec_raw(&j->r, "last_sync", &n)))
		wt_obj_raw(&f, "last_sync", text, n);
	wt_obj_int(&f, "total_syncs", (wt_rec_num(&cur, "total_syncs", &v) == 0 ?
				       (long long)v : 0) + 1);
	wt_obj_int(&f, "total_conflicts", (wt_rec_num(&cur, "total_conflicts", &v) == 0 ?
					   (long long)v : 0) + conflict);
	if (!ok) {
		wt_obj_str(&f, "status", "error");
		wt_obj_bool(&f, "needs_manual_intervention", 1);
	} else if (wt_rec_find(&cur, "needs_manual_intervention") >= 0) {
		wt_obj_str(&f, "status", "active");
		wt_obj_bool(&f, "needs_manual_intervention", 0);
	}
	if (wt_batch_set(batch, id, wt_obj_text(&f, NULL)) < 0)
		wt_rec_registry_error(&j->r, reg.path, "journal", "synced, but the registry "
				      "cannot record it: %s", strerror(errno));
	wt_obj_release(&f);
out:
	wt_rec_release(&cur);
	free(id);
}

/* The record's own counters, as the registry will have them. */
static void
count(struct job *j, int conflict, int ok)
{
	char tbuf[32];
	double v;

	wt_rec_set_str(&j->r, "last_sync", wt_time_fmt(opt.now, tbuf));
	wt_rec_set_int(&j->r, "total_syncs", (wt_rec_num(&j->r, "total_syncs", &v) == 0 ?
					      (long long)v : 0) + 1);
	wt_rec_set_int(&j->r, "total_conflicts", (wt_rec_num(&j->r, "total_conflicts", &v) == 0 ?
						  (long long)v : 0) + conflict);
	if (!ok) {
		wt_rec_set_str(&j->r, "status", "error");
		wt_rec_set_bool(&j->r, "needs_manual_intervention", 1);
	} else if (wt_rec_find(&j->r, "needs_manual_intervention") >= 0) {
		wt_rec_set_str(&j->r, "status", "active");
		wt_rec_set_bool(&j->r, "needs_manual_intervention", 0);
	}
}

static const char *
result_of(long ahead, long behind)
{
	if (behind == 0)
		return "up-to-date";
	if (ahead == 0)
		return "fast-forward";
	return opt.how == REBASE ? "rebased" : opt.how == MERGE ? "merged" : "diverged";
}

/* An earlier backup that holds commits HEAD does not is kept: a person looks. */
static int
backup_free(git_repository *repo, const char *name, const git_oid *head)
{
	git_reference *old = NULL;
	int ok = 1;

	if (git_reference_lookup(&old, repo, name) == 0) {
		const git_oid *b = git_reference_target(old);

		ok = b && (git_oid_equal(b, head) || git_graph_descendant_of(repo, head, b) == 1);
		git_reference_free(old);
	}
	return ok;
}

static void
sync_one(size_t i)
{
	struct job *j = &jobs[i];
	struct wt_rec *r = &j->r;
	struct state s = { "start", NULL, NULL, NULL, 0 };
	struct wt_changes ch = { 0, 0, 0, NULL };
	struct wt_move m, rec;
	struct wt_move_result res;
	struct wt_buf bname = WT_BUF_INIT;
	size_t k;
	git_repository *repo = NULL;
	git_reference *up = NULL, *bref = NULL;
	git_oid head, upid, tip, stash;
	char from[WT_OID_HEX], to[WT_OID_HEX], msg[1536], *id = NULL;
	const char *result;
	size_t ahead = 0, behind = 0;
	long long bytes = -1;
	int stashed = 0, backed = 0, rc, conflict = 0, lockfd = -1;

	memset(&res, 0, sizeof(res));
	if (j->pass)
		goto done;
	id = wt_rec_str(r, "id");
	s.upstream = j->upstream;
	if (j->fetch >= 0) {
		struct fetch *fe = &fetches[j->fetch];

		if (!fe->ok) {
			s.step = "fetch";
			sync_error(j, &s, "not synced: cannot fetch '%s' (%ld attempt%s): %s",
				   fe->remote, fe->f.attempts, fe->f.attempts == 1 ? "" : "s",
				   fe->f.msg);
			goto done;
		}
		bytes = (long long)fe->f.bytes;
	}
	/*
	 * One sync of a worktree at a time, whichever process runs it: the lock
	 * on git's admin directory is held to the end, so a marker found while
	 * holding it is a dead run's.
	 */
	if ((lockfd = wt_git_sync_lock(j->t.admin)) < 0) {
		if (errno == EWOULDBLOCK) {
			skip(j, "sync_running", "not synced: another wt-sync is syncing it");
			goto done;
		}
		sync_error(j, &s, "cannot lock '%s': %s", j->t.admin, strerror(errno));
		goto done;
	}
	if (git_repository_open(&repo, j->t.path) < 0) {
		sync_error(j, &s, "cannot open '%s': %s", j->t.path, wt_git_errmsg());
		goto done;
	}
	/* A run killed while it moved the files: back to where it started first. */
	if (!opt.dry && (rc = wt_git_move_recover(repo, j->t.admin, &rec, msg, sizeof(msg)))) {
		s.step = "recover";
		if (rc < 0) {
			sync_error(j, &s, "an interrupted sync left '%s/%s': %s; git reset --hard "
				   "refs/wt/backup/%s goes back by hand", j->t.admin,
				   WT_MOVE_MARKER, msg, id ? id : "ID");
			goto done;
		}
		fprintf(stderr, "%s: '%s': undid an interrupted sync: %s back at %.12s\n",
			wt_progname, id, rec.ref, rec.from);
		if (rec.has_stash && git_oid_fromstr(&stash, rec.stash) == 0 &&
		    unstash(repo, &stash, 1) != 0)
			fprintf(stderr, "%s: '%s': its stashed changes stay in git stash list\n",
				wt_progname, id);
	}
	if (wt_git_in_progress(j->t.admin)) {
		wt_rec_refuse(r, "in_progress", NULL, "not synced: a git %s is in progress",
			      wt_git_in_progress(j->t.admin));
		goto done;
	}
	if (git_reference_name_to_id(&head, repo, j->branch) < 0) {
		sync_error(j, &s, "cannot read '%s': %s", j->branch, wt_git_errmsg());
		goto done;
	}
	if (git_reference_lookup(&up, repo, j->upstream) < 0) {
		char *alt;

		/* No such branch on origin: --onto, when given, is the upstream. */
		if (!opt.onto || !(alt = onto_ref(repo))) {
			skip(j, "no_upstream", "not synced: its upstream '%s' does not exist",
			     short_ref(j->upstream));
			goto done;
		}
		free(j->upstream);
		s.upstream = j->upstream = alt;
		if (git_reference_lookup(&up, repo, j->upstream) < 0) {
			sync_error(j, &s, "cannot read '%s': %s", j->upstream, wt_git_errmsg());
			goto done;
		}
	}
	if (git_reference_resolve(&bref, up) < 0) {
		sync_error(j, &s, "cannot read '%s': %s", j->upstream, wt_git_errmsg());
		goto done;
	}
	upid = *git_reference_target(bref);
	git_reference_free(bref);
	bref = NULL;
	if (git_graph_ahead_behind(&ahead, &behind, repo, &head, &upid) < 0) {
		sync_error(j, &s, "cannot compare with '%s': %s", j->upstream, wt_git_errmsg());
		goto done;
	}
	git_oid_tostr(from, sizeof(from), &head);
	git_oid_tostr(to, sizeof(to), &upid);
	result = result_of((long)ahead, (long)behind);
	if (wt_git_changes(repo, WT_CHANGES_TRACKED, &ch) < 0) {
		sync_error(j, &s, "cannot read the status of '%s': %s", j->t.path, wt_git_errmsg());
		goto done;
	}
	/* Changes matter only to a sync that will move the branch. */
	if (behind && !(ahead && opt.how == FF_ONLY) && (ch.modified || ch.hidden) &&
	    (!opt.stash || ch.hidden)) {
		set_sync(r, "skipped", "dirty", from, NULL, j->upstream, (long)ahead,
			 (long)behind, bytes);
		wt_rec_skip(r, "dirty", NULL, "not synced: '%s' has changes%s", ch.first ? ch.first :
			    "?", ch.hidden ? " that git status hides (skip-worktree or "
			    "assume-unchanged): commit them first" : " (--stash keeps them)");
		goto done;
	}
	if (opt.dry) {
		struct wt_obj w;

		wt_would_init(&w, "sync");
		wt_obj_str(&w, "result", result);
		wt_obj_str(&w, "from", from);
		wt_obj_str(&w, "upstream", short_ref(j->upstream));
		wt_obj_int(&w, "ahead", (long long)ahead);
		wt_obj_int(&w, "behind", (long long)behind);
		if (behind && !(ahead && opt.how == FF_ONLY) && ch.modified)
			wt_obj_bool(&w, "stash", 1);
		wt_rec_set_obj(r, "would", &w);
		wt_obj_release(&w);
		goto done;
	}
	if (!behind || (ahead && opt.how == FF_ONLY)) {
		set_sync(r, result, NULL, from, NULL, j->upstream, (long)ahead, (long)behind,
			 bytes);
		if (ahead && behind)
			fprintf(stderr, "%s: '%s': %s and %s have diverged (%zu and %zu commits): "
				"--rebase or --merge brings them together\n", wt_progname, id,
				j->branch + 11, short_ref(j->upstream), ahead, behind);
		count(j, 0, 1);
		registry_patch(j, 0, 1);
		goto done;
	}
	/* From here on the backup names where the branch was. */
	wt_buf_addf(&bname, "refs/wt/backup/%s", id);
	s.backup = bname.s;
	s.step = "backup";
	if (!backup_free(repo, bname.s, &head)) {
		sync_error(j, &s, "not synced: an earlier backup '%s' holds commits the branch "
			   "does not; look at it (git log %s), then git update-ref -d %s",
			   bname.s, bname.s, bname.s);
		goto done;
	}
	if (git_reference_create(&bref, repo, bname.s, &head, 1, "wt-sync: backup") < 0) {
		sync_error(j, &s, "cannot write '%s': %s", bname.s, wt_git_errmsg());
		goto done;
	}
	backed = 1;
	s.step = opt.how == REBASE && ahead ? "rebase" : opt.how == MERGE && ahead ? "merge" :
		 "fast-forward";
	tip = upid;
	rc = 0;
	if (ahead && opt.how == REBASE)
		rc = rebase_mem(repo, &head, &upid, &tip, &s, msg, sizeof(msg));
	else if (ahead && opt.how == MERGE)
		rc = merge_mem(repo, &head, &upid, &tip, j->branch, &s, msg, sizeof(msg));
	if (rc != 0) {
		conflict = rc > 0;
		if (conflict)
			set_sync(r, "conflict", NULL, from, NULL, j->upstream, (long)ahead,
				 (long)behind, bytes);
		/* Made in memory: the worktree was not touched. */
		roll_back(j, repo, &head, NULL, bname.s, 0);
		sync_error(j, &s, "%s; nothing changed, the backup is %s", msg, bname.s);
		count(j, conflict, 0);
		registry_patch(j, conflict, 0);
		goto done;
	}
	/*
	 * Stashed only now, after the rebase or merge made in memory: a run killed
	 * while it made them leaves the changes where they are, not in a stash.
	 */
	if (ch.modified) {
		git_signature *me = NULL;

		s.step = "stash";
		if (wt_git_ident(&me, repo, "COMMITTER") < 0 ||
		    git_stash_save(&stash, repo, me, "wt-sync: before syncing", GIT_STASH_DEFAULT) < 0) {
			sync_error(j, &s, "cannot stash the changes of '%s': %s", j->t.path,
				   wt_git_errmsg());
			git_signature_free(me);
			goto done;
		}
		git_signature_free(me);
		stashed = 1;
	}
	memset(&m, 0, sizeof(m));
	snprintf(m.ref, sizeof(m.ref), "%s", j->branch);
	memcpy(m.from, from, sizeof(m.from));
	git_oid_tostr(m.to, sizeof(m.to), &tip);
	if (stashed) {
		m.has_stash = 1;
		git_oid_tostr(m.stash, sizeof(m.stash), &stash);
	}
	s.step = "checkout";
	snprintf(msg, sizeof(msg), "wt-sync: %s %s", result, short_ref(j->upstream));
	if (wt_git_move(repo, j->t.admin, &m, msg, &res) < 0) {
		struct wt_move left;
		int half = wt_git_move_pending(j->t.admin, &left) != 0;

		s.conflicts = res.conflicts;
		s.nconflicts = res.nconflicts;
		/*
		 * wt_git_move put back what it wrote, or, when it could not tell
		 * its writes from others' (a file it wrote half, a full disk),
		 * left the files half updated with the marker naming the way
		 * back. The stash is not applied over such a tree: the way back
		 * (git reset --hard) would discard it. It stays in git stash list.
		 */
		if (half)
			fprintf(stderr, "%s: '%s': %s left half updated%s\n", wt_progname, id,
				j->t.path, stashed ? "; the stashed changes stay in git stash "
				"list: git stash pop puts them back after going back" : "");
		else
			roll_back(j, repo, &head, stashed ? &stash : NULL, bname.s, 0);
		sync_error(j, &s, "cannot update the worktree: %s%s%s; %s, the backup is %s",
			   res.msg, res.nconflicts ? ": " : "",
			   res.nconflicts ? res.conflicts[0] : "", half ? "the files are half "
			   "updated, git reset --hard to the backup goes back" : "nothing changed",
			   bname.s);
		s.conflicts = NULL;
		s.nconflicts = 0;
		count(j, 0, 0);
		registry_patch(j, 0, 0);
		goto done;
	}
	if (stashed) {
		s.step = "unstash";
		if ((rc = unstash(repo, &stash, 1)) != 0) {
			git_index *idx = NULL;

			if (git_repository_index(&idx, repo) == 0) {
				index_conflicts(idx, &s);
				git_index_free(idx);
			}
			conflict = 1;
			set_sync(r, "conflict", "stash", from, m.to, j->upstream, (long)ahead,
				 (long)behind, bytes);
			roll_back(j, repo, &head, &stash, bname.s, 1);
			sync_error(j, &s, "the stashed changes conflict with %s; everything is "
				   "back as before, the backup is %s", short_ref(j->upstream), bname.s);
			count(j, 1, 0);
			registry_patch(j, 1, 0);
			goto done;
		}
	}
	set_sync(r, result, NULL, from, m.to, j->upstream, (long)ahead, (long)behind, bytes);
	wt_rec_set_str(r, "head", m.to);
	count(j, 0, 1);
	registry_patch(j, 0, 1);
	if (!opt.keep_backup && backed) {
		git_reference_free(bref);
		bref = NULL;
		if (git_reference_lookup(&bref, repo, bname.s) == 0)
			git_reference_delete(bref);
	}
done:
	if (lockfd >= 0)
		close(lockfd);
	if (!j->pass) {
		pthread_mutex_lock(&progress_mu);
		synced++;
		pthread_mutex_unlock(&progress_mu);
		progress();
	}
	wt_move_result_release(&res);
	wt_changes_release(&ch);
	git_reference_free(bref);
	git_reference_free(up);
	git_repository_free(repo);
	wt_buf_release(&bname);
	for (k = 0; k < s.nconflicts; k++)
		free(s.conflicts[k]);
	free(s.conflicts);
	free(id);
}

/* A worktree named by two records is synced once: the first; the others say so. */
static void
one_each(void)
{
	size_t i, k;

	for (i = 0; i < njobs; i++)
		for (k = 0; k < i && jobs[i].verified && !jobs[i].pass; k++)
			if (jobs[k].verified && !jobs[k].pass &&
			    strcmp(jobs[k].t.admin, jobs[i].t.admin) == 0)
				skip(&jobs[i], "duplicate", "not synced: an earlier record names the "
				     "same worktree");
}

static void
read_all(void)
{
	struct wt_reader *rd = wt_reader_new(STDIN_FILENO, 0);
	struct wt_rec r = WT_REC_INIT;
	int rc;

	while ((rc = wt_reader_next(rd, &r)) > 0) {
		if (njobs % 64 == 0)
			jobs = wt_xrealloc(jobs, (njobs + 64) * sizeof(*jobs));
		memset(&jobs[njobs], 0, sizeof(*jobs));
		jobs[njobs].r = r;
		memset(&r, 0, sizeof(r));
		njobs++;
	}
	if (rc < 0)
		err(WT_EXIT_FATAL, "stdin");
	wt_rec_release(&r);
	wt_reader_free(rd);
}

int
main(int argc, char *argv[])
{
	enum { O_FETCH = 0x200, O_FF, O_REBASE, O_MERGE, O_STASH, O_ONTO, O_KEEP };
	static const struct option longopts[] = {
		{ "fetch", no_argument, NULL, O_FETCH },
		{ "ff-only", no_argument, NULL, O_FF },
		{ "rebase", no_argument, NULL, O_REBASE },
		{ "merge", no_argument, NULL, O_MERGE },
		{ "stash", no_argument, NULL, O_STASH },
		{ "onto", required_argument, NULL, O_ONTO },
		{ "keep-backup", no_argument, NULL, O_KEEP },
		WT_LONGOPTS_STD,
		{ NULL, 0, NULL, 0 },
	};
	struct wt_config cfg;
	const char *ropt = NULL;
	long errors = 0;
	size_t i;
	int c, failed;

	wt_setprogname(argv[0]);
	while ((c = getopt_long(argc, argv, "fhj:nqr:", longopts, NULL)) != -1)
		switch (c) {
		case 'f': opt.force = 1; break;
		case 'j': opt.jobs = wt_parse_jobs(optarg); break;
		case 'n': opt.dry = 1; break;
		case 'q': opt.quiet = 1; break;
		case 'r': ropt = optarg; break;
		case O_FETCH: opt.fetch_too = 1; break;
		case O_FF: opt.how = FF_ONLY; break;
		case O_REBASE: opt.how = REBASE; break;
		case O_MERGE: opt.how = MERGE; break;
		case O_STASH: opt.stash = 1; break;
		case O_ONTO: opt.onto = optarg; break;
		case O_KEEP: opt.keep_backup = 1; break;
		default: wt_opt_other(c, usage_text);
		}
	if (optind != argc || isatty(STDIN_FILENO))
		wt_usage(usage_text);
	if (opt.fetch_too && !opt.dry)
		errx(WT_EXIT_FATAL, "--fetch goes with -n: a sync fetches anyway");
	if (opt.onto && !wt_git_base_name_ok(opt.onto))
		errx(WT_EXIT_FATAL, "--onto '%s': name a branch or a remote-tracking branch",
		     opt.onto);
	wt_config_load(&cfg);
	if (!opt.jobs)
		opt.jobs = cfg.jobs;
	opt.now = wt_now();
	fopts.retries = cfg.retries;
	fopts.delay = cfg.retry_delay;
	fopts.timeout = cfg.fetch_timeout;
	fopts.on_retry = on_retry;
	show_progress = !opt.quiet && isatty(STDERR_FILENO);
	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	if (wt_registry_open(&reg, &cfg, ropt) < 0)
		err(WT_EXIT_FATAL, "cannot read '%s'", reg.path);
	batch = opt.dry ? NULL : wt_batch_open(&reg);
	wt_git_init();
	wt_fetch_signals();

	read_all();
	parallel(njobs, plan);
	one_each();
	for (i = 0; i < njobs; i++)
		nsync += !jobs[i].pass;
	progress();
	parallel(nfetches, fetch_one);
	parallel(njobs, sync_one);
	if (show_progress)
		fputc('\n', stderr);
	for (i = 0; i < njobs; i++) {
		errors += wt_rec_has_error(&jobs[i].r);
		wt_rec_write(&jobs[i].r, stdout);
		if (jobs[i].verified)
			wt_target_release(&jobs[i].t);
		free(jobs[i].branch);
		free(jobs[i].upstream);
		wt_rec_release(&jobs[i].r);
	}
	free(jobs);
	for (i = 0; i < nfetches; i++) {
		free(fetches[i].common);
		free(fetches[i].remote);
	}
	free(fetches);
	/* One registry update for the whole run. */
	wt_flush_stdout();
	failed = batch && wt_batch_failed(batch);
	if (wt_batch_commit(batch, cfg.lock_timeout) < 0)
		errx(WT_EXIT_FATAL, "cannot update the registry '%s': its journal keeps "
		     "the changes for the next writer", reg.path);
	wt_registry_release(&reg);
	wt_config_release(&cfg);
	return failed || errors ? WT_EXIT_RECORDS : WT_EXIT_OK;
}
