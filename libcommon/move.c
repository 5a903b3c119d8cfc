/* move.c: a worktree's branch moved to another commit with its files, crash-safe */
#include <errno.h>
#include <fcntl.h>
#include <git2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "wt.h"

/* git's date forms in GIT_*_DATE: "@SECS [+ZZZZ]", "SECS +ZZZZ", or RFC 3339. */
static int
ident_date(const char *s, git_time_t *when, int *offset)
{
	char *end;
	long long secs;
	time_t t;
	int sign, hh, mm;

	*offset = 0;
	secs = strtoll(s + (*s == '@'), &end, 10);
	if (end != s + (*s == '@') && (*end == 0 || *end == ' ')) {
		*when = secs;
		if (*end == ' ' && (end[1] == '+' || end[1] == '-') &&
		    sscanf(end + 2, "%2d%2d", &hh, &mm) == 2) {
			sign = end[1] == '-' ? -1 : 1;
			*offset = sign * (hh * 60 + mm);
		}
		return 0;
	}
	if (wt_time_parse(s, 0, &t) < 0)
		return -1;
	*when = t;
	return 0;
}

int
wt_git_ident(git_signature **out, git_repository *repo, const char *who)
{
	struct wt_buf k = WT_BUF_INIT;
	git_config *cfg = NULL;
	git_buf name = GIT_BUF_INIT, email = GIT_BUF_INIT;
	const char *n, *e, *d;
	git_time_t when;
	int offset = 0, rc = -1;

	wt_buf_addf(&k, "GIT_%s_NAME", who);
	n = getenv(k.s);
	wt_buf_reset(&k);
	wt_buf_addf(&k, "GIT_%s_EMAIL", who);
	e = getenv(k.s);
	wt_buf_reset(&k);
	wt_buf_addf(&k, "GIT_%s_DATE", who);
	d = getenv(k.s);
	if ((!n || !e) && git_repository_config_snapshot(&cfg, repo) == 0) {
		if (!n && git_config_get_string_buf(&name, cfg, "user.name") == 0)
			n = name.ptr;
		if (!e && git_config_get_string_buf(&email, cfg, "user.email") == 0)
			e = email.ptr;
	}
	if (!n || !e || !*n) {
		git_error_set_str(GIT_ERROR_CONFIG, "no identity to write commits with: "
				  "set user.name and user.email");
		goto out;
	}
	if (d && *d && ident_date(d, &when, &offset) == 0)
		rc = git_signature_new(out, n, e, when, offset);
	else
		rc = git_signature_now(out, n, e);
out:
	git_buf_dispose(&name);
	git_buf_dispose(&email);
	git_config_free(cfg);
	wt_buf_release(&k);
	return rc < 0 ? -1 : 0;
}

/*
 * A file that a sparse checkout leaves out is absent from disk with its
 * index entry marked skip-worktree; git's status is silent about it,
 * libgit2's says deleted. Nothing is lost with it: the index has it.
 */
int
wt_git_sparse_absent(git_index *idx, unsigned status, const char *path)
{
	const git_index_entry *ie;

	return status == GIT_STATUS_WT_DELETED && idx &&
	       (ie = git_index_get_bypath(idx, path, 0)) &&
	       (ie->flags_extended & GIT_INDEX_ENTRY_SKIP_WORKTREE);
}

const char *
wt_git_status_path(const git_status_entry *e)
{
	const git_diff_delta *d = e->index_to_workdir ? e->index_to_workdir : e->head_to_index;

	return d ? (d->new_file.path ? d->new_file.path : d->old_file.path) : NULL;
}

int
wt_git_changes(git_repository *repo, int flags, struct wt_changes *c)
{
	git_status_list *st = NULL;
	git_status_options so;
	git_index *idx = NULL;
	size_t i, n;
	int rc = -1;

	memset(c, 0, sizeof(*c));
	git_status_options_init(&so, GIT_STATUS_OPTIONS_VERSION);
	so.flags = GIT_STATUS_OPT_EXCLUDE_SUBMODULES;
	/* Untracked files cost a walk of every untracked tree: only when asked. */
	if (!(flags & WT_CHANGES_TRACKED))
		so.flags |= GIT_STATUS_OPT_INCLUDE_UNTRACKED | GIT_STATUS_OPT_RECURSE_UNTRACKED_DIRS;
	if (git_repository_index(&idx, repo) < 0 || git_status_list_new(&st, repo, &so) < 0)
		goto out;
	n = git_status_list_entrycount(st);
	for (i = 0; i < n; i++) {
		const git_status_entry *e = git_status_byindex(st, i);
		const char *path = wt_git_status_path(e);

		if (e->status == GIT_STATUS_CURRENT || e->status == GIT_STATUS_IGNORED ||
		    (path && wt_git_sparse_absent(idx, e->status, path)))
			continue;
		if (e->status == GIT_STATUS_WT_NEW) {
			c->untracked++;
			continue;
		}
		if (!c->first && path)
			c->first = wt_xstrdup(path);
		c->modified++;
	}
	c->hidden = wt_git_hidden_changes(repo, idx, c->first ? NULL : &c->first);
	if (c->hidden < 0)
		goto out;
	rc = 0;
out:
	git_status_list_free(st);
	git_index_free(idx);
	return rc;
}

void
wt_changes_release(struct wt_changes *c)
{
	free(c->first);
	c->first = NULL;
}

/* The marker: "REF FROM TO [STASH]\n", in the admin directory. */
static char *
marker_path(const char *admin)
{
	struct wt_buf b = WT_BUF_INIT;

	wt_buf_addf(&b, "%s/%s", admin, WT_MOVE_MARKER);
	return wt_buf_detach(&b);
}

static int
marker_write(const char *admin, const struct wt_move *m)
{
	char *p = marker_path(admin);
	struct wt_buf t = WT_BUF_INIT;
	int rc;

	wt_buf_addf(&t, "%s %s %s%s%s\n", m->ref, m->from, m->to, m->has_stash ? " " : "",
		    m->has_stash ? m->stash : "");
	rc = wt_write_atomic(p, t.s, t.len, 0644);
	free(p);
	wt_buf_release(&t);
	return rc;
}

static void
marker_remove(const char *admin)
{
	char *p = marker_path(admin);

	unlink(p);
	wt_sync_dir(admin);
	free(p);
}

int
wt_git_move_pending(const char *admin, struct wt_move *m)
{
	char *p = marker_path(admin), *text = wt_read_small(p, 4096), ref[1024],
	     a[64], b[64], s[64];
	git_oid o;
	int n, rc = 0;

	memset(m, 0, sizeof(*m));
	if (text && (n = sscanf(text, "%1023s %63s %63s %63s", ref, a, b, s)) >= 3 &&
	    git_oid_fromstr(&o, a) == 0 && git_oid_fromstr(&o, b) == 0 &&
	    (n == 3 || git_oid_fromstr(&o, s) == 0)) {
		m->has_stash = n == 4;
		snprintf(m->ref, sizeof(m->ref), "%s", ref);
		memcpy(m->from, a, WT_OID_HEX - 1);
		memcpy(m->to, b, WT_OID_HEX - 1);
		if (m->has_stash)
			memcpy(m->stash, s, WT_OID_HEX - 1);
		rc = 1;
	} else if (text)
		rc = -1;
	free(text);
	free(p);
	return rc;
}

/* Collects checkout's conflicts: files in the way of the new tree. */
static int
conflict_cb(git_checkout_notify_t why, const char *path, const git_diff_file *baseline,
	    const git_diff_file *target, const git_diff_file *workdir, void *payload)
{
	struct wt_move_result *res = payload;

	(void)baseline;
	(void)target;
	(void)workdir;
	if (why == GIT_CHECKOUT_NOTIFY_CONFLICT && path && res->nconflicts < WT_MOVE_CONFLICTS_MAX)
		res->conflicts[res->nconflicts++] = wt_xstrdup(path);
	return 0;
}

void
wt_move_result_release(struct wt_move_result *res)
{
	size_t i;

	for (i = 0; i < res->nconflicts; i++)
		free(res->conflicts[i]);
	res->nconflicts = 0;
}

int
wt_git_reset_hard(git_repository *repo, const git_oid *to)
{
	git_commit *c = NULL;
	int rc;

	if (git_commit_lookup(&c, repo, to) < 0)
		return -1;
	rc = git_reset(repo, (git_object *)c, GIT_RESET_HARD, NULL);
	git_commit_free(c);
	return rc < 0 ? -1 : 0;
}

static int only_the_move(git_repository *repo, const struct wt_move *m, char *msg,
			 size_t msgsz);

/*
 * The move's paths back as the branch's commit has them, index and files,
 * the branch not touched: a second writer moved it while the files were
 * being checked out, and a reset to m->from would take its commits off the
 * branch and its files off the disk. ttree is what the move wrote (the
 * baseline, so that files it created go again).
 */
static int
put_back_paths(git_repository *repo, git_tree *ttree, const git_strarray *paths)
{
	git_checkout_options co;
	git_object *head = NULL;
	int rc;

	if (git_revparse_single(&head, repo, "HEAD^{tree}") < 0)
		return -1;
	git_checkout_options_init(&co, GIT_CHECKOUT_OPTIONS_VERSION);
	co.checkout_strategy = GIT_CHECKOUT_FORCE | GIT_CHECKOUT_DISABLE_PATHSPEC_MATCH;
	co.baseline = ttree;
	co.paths = *paths;
	rc = git_checkout_tree(repo, head, &co);
	git_object_free(head);
	return rc < 0 ? -1 : 0;
}

/*
 * After a move failed midway: back at m->from when every change in the
 * worktree is the move's own; else nothing is touched and the marker stays,
 * so that what was written meanwhile is not lost (res->msg says so). When
 * the branch is no longer at m->from, someone else moved it: only the
 * move's paths go back, to the branch's commit.
 */
static void
undo(git_repository *repo, const char *admin, const struct wt_move *m, const git_oid *fid,
     git_tree *ttree, const git_strarray *paths, struct wt_move_result *res)
{
	char why[512];
	size_t n = strlen(res->msg);
	git_oid now;
	int moved;

	moved = git_reference_name_to_id(&now, repo, m->ref) < 0 || !git_oid_equal(&now, fid);
	if (only_the_move(repo, m, why, sizeof(why))) {
		if ((moved ? put_back_paths(repo, ttree, paths) : wt_git_reset_hard(repo, fid)) == 0) {
			marker_remove(admin);
			return;
		}
		snprintf(why, sizeof(why), "%s", wt_git_errmsg());
	}
	snprintf(res->msg + n, sizeof(res->msg) - n, "; left as it is (%s): '%s/%s' names the "
		 "way back", why, admin, WT_MOVE_MARKER);
}

static int
path_cb(const git_diff_delta *d, float progress, void *payload)
{
	git_strarray *a = payload;
	const char *names[2] = { d->old_file.path, d->new_file.path };
	int k;

	(void)progress;
	for (k = 0; k < 2; k++) {
		if (!names[k] || (k == 1 && names[0] && !strcmp(names[0], names[1])))
			continue;
		a->strings = wt_xrealloc(a->strings, (a->count + 1) * sizeof(char *));
		a->strings[a->count++] = wt_xstrdup(names[k]);
	}
	return 0;
}

/* Every path, old and new name, that differs between trees a and b. */
static int
changed_paths(git_repository *repo, git_tree *a, git_tree *b, git_strarray *out)
{
	git_diff *diff = NULL;
	int rc;

	if (git_diff_tree_to_tree(&diff, repo, a, b, NULL) < 0)
		return -1;
	rc = git_diff_foreach(diff, path_cb, NULL, NULL, NULL, out);
	git_diff_free(diff);
	return rc < 0 ? -1 : 0;
}

static void
free_paths(git_strarray *a)
{
	size_t i;

	for (i = 0; i < a->count; i++)
		free(a->strings[i]);
	free(a->strings);
	a->strings = NULL;
	a->count = 0;
}

/*
 * 1 when the new blobs of the move's paths fit on the worktree's filesystem,
 * each rounded up to a block; checked before anything is written, because
 * a checkout stopped by a full disk leaves files half written that no undo
 * can tell from work. A filesystem that cannot say is given the benefit.
 */
static int
room_for(git_repository *repo, git_tree *ttree, const git_strarray *paths, char *msg,
	 size_t msgsz)
{
	struct statvfs vfs;
	git_odb *odb = NULL;
	unsigned long long need = 0, avail, bs;
	size_t i, len;
	git_object_t type;
	int ok = 1;

	if (statvfs(git_repository_workdir(repo), &vfs) < 0 || git_repository_odb(&odb, repo) < 0)
		return 1;
	bs = vfs.f_bsize ? vfs.f_bsize : 4096;
	avail = (unsigned long long)vfs.f_bavail * (vfs.f_frsize ? vfs.f_frsize : bs);
	for (i = 0; i < paths->count; i++) {
		git_tree_entry *e = NULL;

		if (git_tree_entry_bypath(&e, ttree, paths->strings[i]) == 0 &&
		    git_tree_entry_type(e) == GIT_OBJECT_BLOB &&
		    git_odb_read_header(&len, &type, odb, git_tree_entry_id(e)) == 0)
			need += (len + bs - 1) / bs * bs;
		git_tree_entry_free(e);
	}
	if (need > avail) {
		snprintf(msg, msgsz, "no room for the new files: %llu bytes needed, %llu free on "
			 "the worktree's filesystem", need, avail);
		ok = 0;
	}
	git_odb_free(odb);
	return ok;
}

int
wt_git_move(git_repository *repo, const char *admin, const struct wt_move *m,
	    const char *why, struct wt_move_result *res)
{
	git_checkout_options co;
	git_commit *from = NULL, *to = NULL;
	git_tree *ftree = NULL, *ttree = NULL;
	git_reference *ref = NULL, *moved = NULL;
	git_strarray paths = { NULL, 0 };
	git_oid fid, tid;
	int rc = -1, e;

	memset(res, 0, sizeof(*res));
	if (git_oid_fromstr(&fid, m->from) < 0 || git_oid_fromstr(&tid, m->to) < 0 ||
	    git_commit_lookup(&from, repo, &fid) < 0 ||
	    git_commit_lookup(&to, repo, &tid) < 0 || git_commit_tree(&ftree, from) < 0 ||
	    git_commit_tree(&ttree, to) < 0 || git_reference_lookup(&ref, repo, m->ref) < 0) {
		snprintf(res->msg, sizeof(res->msg), "%s", wt_git_errmsg());
		goto out;
	}
	if (!git_oid_equal(git_reference_target(ref), &fid)) {
		snprintf(res->msg, sizeof(res->msg), "'%s' moved meanwhile", m->ref);
		goto out;
	}
	if (marker_write(admin, m) < 0) {
		snprintf(res->msg, sizeof(res->msg), "cannot write '%s/%s': %s", admin,
			 WT_MOVE_MARKER, strerror(errno));
		goto out;
	}
	git_checkout_options_init(&co, GIT_CHECKOUT_OPTIONS_VERSION);
	/* Safe: a file in the way (untracked, or changed) stops it before it writes. */
	co.checkout_strategy = GIT_CHECKOUT_SAFE;
	co.baseline = ftree;
	co.notify_flags = GIT_CHECKOUT_NOTIFY_CONFLICT;
	co.notify_cb = conflict_cb;
	co.notify_payload = res;
	/*
	 * Only the paths the two trees differ in: the others are the same in
	 * both, so nothing there changes, and checking them (a stat of every
	 * file of the worktree) would double the cost of a sync.
	 */
	if (changed_paths(repo, ftree, ttree, &paths) < 0) {
		snprintf(res->msg, sizeof(res->msg), "%s", wt_git_errmsg());
		marker_remove(admin);
		goto out;
	}
	co.paths = paths;
	co.checkout_strategy |= GIT_CHECKOUT_DISABLE_PATHSPEC_MATCH;
	if (!room_for(repo, ttree, &paths, res->msg, sizeof(res->msg))) {
		marker_remove(admin);
		goto out;
	}
	wt_test_pause("checkout");
	if (paths.count && (e = git_checkout_tree(repo, (git_object *)ttree, &co)) < 0) {
		snprintf(res->msg, sizeof(res->msg), "%s", res->nconflicts || e == GIT_ECONFLICT ?
			 "files in the worktree are in the way" : wt_git_errmsg());
		/* A conflict stops the checkout before it writes; a failure midway goes back. */
		if (res->nconflicts || e == GIT_ECONFLICT)
			marker_remove(admin);
		else
			undo(repo, admin, m, &fid, ttree, &paths, res);
		goto out;
	}
	wt_test_pause("ref");
	/* Compare and swap: only from where it was, whoever else writes it. */
	if (git_reference_create_matching(&moved, repo, m->ref, &tid, 1, &fid, why) < 0) {
		snprintf(res->msg, sizeof(res->msg), "cannot move '%s': %s", m->ref,
			 wt_git_errmsg());
		undo(repo, admin, m, &fid, ttree, &paths, res);
		goto out;
	}
	marker_remove(admin);
	rc = 0;
out:
	free_paths(&paths);
	git_reference_free(moved);
	git_reference_free(ref);
	git_tree_free(ftree);
	git_tree_free(ttree);
	git_commit_free(from);
	git_commit_free(to);
	return rc;
}

/*
 * 1 when every change of the worktree against its HEAD is on a path that
 * differs between m's two trees and holds what one of them holds: all of it
 * is the interrupted move's, none of it work made since.
 */
static int
only_the_move(git_repository *repo, const struct wt_move *m, char *msg, size_t msgsz)
{
	git_commit *a = NULL, *b = NULL;
	git_tree *ta = NULL, *tb = NULL;
	git_status_list *st = NULL;
	git_status_options so;
	size_t i, n;
	git_oid fid, tid;
	int ok = 0;

	git_status_options_init(&so, GIT_STATUS_OPTIONS_VERSION);
	so.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED | GIT_STATUS_OPT_EXCLUDE_SUBMODULES;
	if (git_oid_fromstr(&fid, m->from) < 0 || git_oid_fromstr(&tid, m->to) < 0 ||
	    git_commit_lookup(&a, repo, &fid) < 0 || git_commit_lookup(&b, repo, &tid) < 0 ||
	    git_commit_tree(&ta, a) < 0 || git_commit_tree(&tb, b) < 0 ||
	    git_status_list_new(&st, repo, &so) < 0) {
		snprintf(msg, msgsz, "%s", wt_git_errmsg());
		goto out;
	}
	n = git_status_list_entrycount(st);
	for (i = 0; i < n; i++) {
		const git_status_entry *e = git_status_byindex(st, i);
		const char *path = wt_git_status_path(e);
		git_tree_entry *ea = NULL, *eb = NULL;
		git_oid disk;
		struct wt_buf full = WT_BUF_INIT;
		int have_a, have_b, on_disk, match;

		if (!path || e->status == GIT_STATUS_CURRENT)
			continue;
		have_a = git_tree_entry_bypath(&ea, ta, path) == 0;
		have_b = git_tree_entry_bypath(&eb, tb, path) == 0;
		if (e->status == GIT_STATUS_WT_NEW && !have_a && !have_b) {
			/* Untracked, in neither tree: not the move's, and a reset keeps it. */
			continue;
		}
		wt_buf_addf(&full, "%s/%s", git_repository_workdir(repo), path);
		on_disk = git_odb_hashfile(&disk, full.s, GIT_OBJECT_BLOB) == 0;
		match = (have_a || have_b) &&
			(!have_a || !have_b || !git_oid_equal(git_tree_entry_id(ea),
							      git_tree_entry_id(eb))) &&
			((on_disk && ((have_a && git_oid_equal(&disk, git_tree_entry_id(ea))) ||
				      (have_b && git_oid_equal(&disk, git_tree_entry_id(eb))))) ||
			 (!on_disk && (!have_a || !have_b)));
		git_tree_entry_free(ea);
		git_tree_entry_free(eb);
		wt_buf_release(&full);
		if (!match) {
			snprintf(msg, msgsz, "'%s' changed since the interrupted sync", path);
			goto out;
		}
	}
	ok = 1;
out:
	git_status_list_free(st);
	git_tree_free(ta);
	git_tree_free(tb);
	git_commit_free(a);
	git_commit_free(b);
	return ok;
}

int
wt_git_move_recover(git_repository *repo, const char *admin, struct wt_move *m,
		    char *msg, size_t msgsz)
{
	git_reference *ref = NULL;
	git_oid fid, tid;
	int rc;

	if ((rc = wt_git_move_pending(admin, m)) <= 0) {
		if (rc < 0)
			snprintf(msg, msgsz, "'%s/%s' cannot be read", admin, WT_MOVE_MARKER);
		return rc;
	}
	rc = -1;
	git_oid_fromstr(&fid, m->from);
	git_oid_fromstr(&tid, m->to);
	if (git_reference_lookup(&ref, repo, m->ref) < 0 ||
	    (!git_oid_equal(git_reference_target(ref), &fid) &&
	     !git_oid_equal(git_reference_target(ref), &tid))) {
		snprintf(msg, msgsz, "'%s' is neither where the interrupted sync found it "
			 "nor where it was taking it", m->ref);
		goto out;
	}
	if (!only_the_move(repo, m, msg, msgsz))
		goto out;
	/* Back to where the move started: the branch, the index and the files. */
	if (!git_oid_equal(git_reference_target(ref), &fid)) {
		git_reference *back = NULL;

		if (git_reference_set_target(&back, ref, &fid,
					     "wt-sync: back from an interrupted sync") < 0) {
			snprintf(msg, msgsz, "cannot move '%s' back: %s", m->ref, wt_git_errmsg());
			goto out;
		}
		git_reference_free(back);
	}
	if (wt_git_reset_hard(repo, &fid) < 0) {
		snprintf(msg, msgsz, "cannot reset to %s: %s", m->from,
			 wt_git_errmsg());
		goto out;
	}
	marker_remove(admin);
	rc = 1;
out:
	git_reference_free(ref);
	return rc;
}

int
wt_git_sync_lock(const char *admin)
{
	int fd = open(admin, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}
