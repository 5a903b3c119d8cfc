/* wt-archive: inactive worktrees into verified archives, then away. */
#include <archive.h>
#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <git2.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wt.h"

#define MARKER "wt-archived"

static struct {
	int nflag, keep, artifacts, force;
	struct wt_compression z;
	char *dir;                  /* where archives go, resolved */
	struct wt_registry reg;
	struct wt_batch *batch;     /* NULL with -n */
	time_t now;
} opt;

/* The walker all records share; its threads read and checksum files. */
static struct wt_walker *walker;

/* What one record's archive is about. */
struct job {
	struct wt_rec *r;
	char *id, *ref, *head, *branch, *upstream;
	struct wt_target t;
	struct wt_snapshot tree;
	struct wt_git_state gs;
	struct wt_buf manifest;
	char *marker;         /* the marker's path in git's admin entry */
	char *final;          /* the archive's final path */
	git_repository *repo;
	git_index *idx;
	struct wt_artifacts *arts;  /* NULL: artifacts are kept */
	int in_registry;      /* the registry has the worktree's record: patch it */
	int made_ref;         /* the protection ref is this run's */
	long long size;       /* the archive's */
};

static const char usage_text[] =
	"usage: wt-archive [-afkn] [-j jobs] [-l level] [-o dir] [-r registry] [-z zstd | gzip | none]\n"
	"       wt-archive -h | --help | --version\n"
	"  -a                 keep recreatable artifacts in the archive\n"
	"  -f                 archive a worktree even when a process is in it\n"
	"  -j jobs            archive on jobs workers (1 to 256)\n"
	"  -k, --keep         make and record the archive, but keep the worktree\n"
	"  -l level           compression level: zstd 1 to 19 (3), gzip 1 to 9 (6)\n"
	"  -n                 change nothing: say what would be archived\n"
	"  -o dir             write the archives into dir\n"
	"  -r registry        the registry to journal to and update\n"
	"  -z zstd | gzip | none  the compression (default: the compression key)\n"
	"  -h, --help         print this usage and exit\n"
	"      --version      print the version and exit\n";

static void
usage(void)
{
	wt_usage(usage_text);
}

static void
job_release(struct job *j)
{
	free(j->id);
	free(j->ref);
	free(j->head);
	free(j->branch);
	free(j->upstream);
	free(j->marker);
	free(j->final);
	wt_target_release(&j->t);
	wt_snapshot_release(&j->tree);
	wt_git_state_release(&j->gs);
	wt_buf_release(&j->manifest);
	wt_artifacts_free(j->arts);
	git_index_free(j->idx);
	git_repository_free(j->repo);
}

/* Writes, verifies and renames the archive into place; j->final is set. */
static int
make_archive(struct job *j, char **why)
{
	struct wt_archive_src src;

	memset(&src, 0, sizeof(src));
	src.manifest = j->manifest.s;
	src.manifest_len = j->manifest.len;
	src.git = &j->gs;
	src.snap = &j->tree;
	src.top = j->t.path;
	src.mtime = opt.now;
	src.pause = wt_test_pause;
	return wt_archive_make(opt.dir, j->id, opt.now, &opt.z, &src, &j->final, why);
}

/* The manifest of what the walk found and git's state. */
static void
build_manifest(struct job *j)
{
	struct wt_manifest_of w;

	memset(&w, 0, sizeof(w));
	w.id = j->id;
	w.name = j->t.name;
	w.path = j->t.path;
	w.repo = j->t.common;
	w.head = j->head;
	w.branch = j->branch;
	w.upstream = j->upstream;
	w.ref = j->ref;
	w.record = j->r->line;
	w.record_len = j->r->len;
	w.archived_at = opt.now;
	w.artifacts_kept = opt.artifacts;
	wt_manifest_build(&j->manifest, &w, &j->gs, &j->tree);
}

/* Sets *why to a new message: fmt with arg, and strerror(e) unless e is 0. */
static void
why_set(char **why, int e, const char *fmt, const char *arg)
{
	struct wt_buf b = WT_BUF_INIT;

	wt_buf_addf(&b, fmt, arg);
	if (e > 0)
		wt_buf_addf(&b, ": %s", strerror(e));
	free(*why);
	*why = wt_buf_detach(&b);
}


/*
 * After an interrupted run: may the worktree's remains go? Only when the
 * archive the marker names verifies and everything left is in it as it is
 * there (or lies in what it left out as recreatable). New or changed work
 * means no: the worktree is archived afresh.
 */
static int
remains_archived(struct job *j, const char *archive, char **why)
{
	struct wt_manifest m;
	struct wt_git_state now;
	struct archive *a = NULL;
	const char *at;
	char *text = NULL;
	size_t len;
	int fd, ret = -1;

	memset(&m, 0, sizeof(m));
	if ((fd = open(archive, O_RDONLY | O_CLOEXEC)) < 0) {
		why_set(why, errno, "cannot open '%s'", archive);
		return -1;
	}
	wt_git_state_read(&now, j->t.admin);
	errno = 0;
	if (wt_archive_verify(fd, NULL, 0, why) < 0 || !(a = wt_archive_read_fd(fd)) ||
	    wt_archive_read_manifest(a, &m, &text, &len, why) < 0)
		goto out;
	if (strcmp(m.name, j->t.name) != 0 || strcmp(m.path, j->t.path) != 0)
		why_set(why, 0, "'%s' is the archive of another worktree", archive);
	/* A commit or a staged change since is work the archive does not have. */
	else if (strcmp(m.head, j->head) != 0 || !wt_manifest_has_git_state(&m, &now))
		why_set(why, 0, "HEAD or the index changed since '%s' was made", archive);
	else if (!wt_manifest_covers(&m, &j->tree, &at))
		why_set(why, 0, "'%s' is not in the archive as it is now", at);
	else
		ret = 0;
out:
	if (a)
		archive_read_free(a);
	close(fd);
	free(text);
	wt_manifest_release(&m);
	wt_git_state_release(&now);
	return ret;
}

/*
 * Whether the worktree is still as the walk saw it: the same entries with
 * the same inode, size, times and link targets, and git's state the same.
 * Work written while the archive was made would not be in it, so the
 * worktree must then stay.
 */
static int
unchanged(struct job *j, char **why)
{
	struct wt_snapshot now;
	struct wt_git_state gs;
	const char *at;
	int ret = -1;

	wt_git_state_read(&gs, j->t.admin);
	errno = 0;
	if (wt_snapshot_take(&now, walker, j->t.path, j->t.dev, j->t.ino, j->arts,
			     WT_SNAP_STAT, NULL, NULL) < 0)
		why_set(why, 0, "%s", now.err.s);
	else if (!wt_git_state_same(&j->gs, &gs))
		why_set(why, 0, "git's index or HEAD changed while the worktree was archived%s",
			"");
	else if (!wt_snapshot_same(&j->tree, &now, &at))
		why_set(why, 0, "the worktree changed while it was archived (at '%s')", at);
	else
		ret = 0;
	wt_snapshot_release(&now);
	wt_git_state_release(&gs);
	return ret;
}

/* Removes git's admin entry of the worktree, once its directory is gone. */
static int
remove_admin(const struct wt_target *t, struct wt_rm_stats *rs)
{
	struct wt_buf b = WT_BUF_INIT;
	int fd, ret = -1;

	wt_buf_addf(&b, "%s/worktrees", t->common);
	if ((fd = open(b.s, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) >= 0) {
		ret = wt_rmtree_at(fd, t->name, rs);
		close(fd);
	}
	wt_buf_release(&b);
	return ret;
}

/* HEAD, branch and upstream of the worktree; -1 when HEAD has no commit. */
static int
read_head(struct job *j)
{
	git_reference *head = NULL;
	git_buf up = { NULL, 0, 0 };
	char hex[GIT_OID_HEXSZ + 1];
	const git_oid *oid;
	int ret = -1;

	if (git_repository_head(&head, j->repo) < 0 || !(oid = git_reference_target(head)))
		goto out;
	j->head = wt_xstrdup(git_oid_tostr(hex, sizeof(hex), oid));
	if (git_reference_is_branch(head)) {
		j->branch = wt_xstrdup(git_reference_shorthand(head));
		if (git_branch_upstream_name(&up, j->repo, git_reference_name(head)) == 0)
			j->upstream = wt_xstrndup(up.ptr, up.size);
	}
	ret = 0;
out:
	git_buf_dispose(&up);
	git_reference_free(head);
	return ret;
}

/* The ref that keeps HEAD's commits from gc: refs/wt/archived/ID, or by git's name. */
static int
protect(struct job *j)
{
	struct wt_buf b = WT_BUF_INIT;
	git_reference *ref = NULL;
	git_oid oid;
	int valid = 0, ret;

	wt_buf_addf(&b, "refs/wt/archived/%s", j->id);
	if (git_reference_name_is_valid(&valid, b.s) < 0 || !valid) {
		wt_buf_reset(&b);
		wt_buf_addf(&b, "refs/wt/archived/%s", j->t.name);
	}
	j->ref = wt_buf_detach(&b);
	if (opt.nflag)
		return 0;
	/* A ref already there protects an earlier archive: a failure here must leave it. */
	if (git_reference_lookup(&ref, j->repo, j->ref) == 0)
		git_reference_free(ref);
	else
		j->made_ref = 1;
	ref = NULL;
	git_oid_fromstr(&oid, j->head);
	ret = git_reference_create(&ref, j->repo, j->ref, &oid, 1, "wt-archive: protect HEAD");
	git_reference_free(ref);
	return ret;
}

static void
drop_ref(struct job *j)
{
	git_reference *ref;

	if (j->ref && j->made_ref && !opt.nflag && git_reference_lookup(&ref, j->repo, j->ref) == 0) {
		git_reference_delete(ref);
		git_reference_free(ref);
	}
}

/*
 * Initialised submodules: their repositories live in git's admin entry
 * (modules/), which an archive does not carry.
 */
static int
has_submodules(const char *admin)
{
	struct wt_buf b = WT_BUF_INIT;
	struct stat st;
	int ret;

	wt_buf_addf(&b, "%s/modules", admin);
	ret = lstat(b.s, &st) == 0;
	wt_buf_release(&b);
	return ret;
}

static int
want(const struct wt_rec *r, void *arg)
{
	(void)arg;
	return !wt_rec_has_error(r) && wt_rec_find(r, "path") >= 0;
}

/*
 * Whether the registry's record of the id is this worktree's: only then is
 * it patched; with none, the worktree's record is added. A record of the id
 * naming another worktree is left alone, and so is the worktree.
 */
static int
registry_check(struct job *j)
{
	struct wt_rec cur = WT_REC_INIT;
	int rc = wt_registry_record_of(&opt.reg, j->id, j->t.path, j->t.common, &cur);

	j->in_registry = rc == WT_REG_SAME;
	rc = wt_registry_may_patch(j->r, &opt.reg, rc, &cur, "archive");
	wt_rec_release(&cur);
	return rc;
}

/* Step 1, the safety contract; 0 when the worktree may be archived. */
static int
safe(struct job *j, const char *path, const char *repo, struct wt_obj *ctx)
{
	char *reason = NULL, *mount = NULL;
	const char *w;
	pid_t pid;
	int rc, ret = -1;

	if (wt_target_verify(&j->t, path, repo, &w) < 0) {
		wt_rec_refuse(j->r, wt_target_rule(w), wt_ctx_at(ctx, "safety", path),
			      "refusing to archive: %s", w);
		return -1;
	}
	if (wt_target_locked(&j->t, &reason)) {
		wt_rec_refuse(j->r, "locked", wt_ctx_at(ctx, "safety", path), "refusing to archive: "
			      "locked%s%s", reason && *reason ? ": " : "", reason ? reason : "");
	} else if (!opt.force && (pid = wt_path_in_use(j->t.path))) {
		wt_rec_refuse(j->r, "in_use", wt_ctx_at(ctx, "safety", path), "refusing to archive: "
			      "in use (process %ld has its directory there)", (long)pid);
	} else if ((w = wt_git_in_progress(j->t.admin))) {
		wt_rec_refuse(j->r, "in_progress", wt_ctx_at(ctx, "safety", path), "refusing to "
			      "archive: git state an archive cannot keep (a %s in progress)", w);
	} else if (has_submodules(j->t.admin)) {
		wt_rec_refuse(j->r, "submodules", wt_ctx_at(ctx, "safety", path), "refusing to "
			      "archive: git state an archive cannot keep (initialised submodules)");
	} else if ((rc = wt_path_has_mounts(j->t.path, &mount)) != 0) {
		wt_rec_refuse(j->r, "mount", wt_ctx_at(ctx, "safety", path), rc < 0 ?
			      "refusing to archive: cannot read the mount table%s" :
			      "refusing to archive: a mount point inside the worktree at '%s'",
			      rc < 0 ? "" : mount);
	} else if (git_repository_open(&j->repo, j->t.path) < 0) {
		wt_rec_error(j->r, WT_E_BASE, wt_ctx_at(ctx, "safety", path),
			     "cannot open the repository: %s", wt_git_errmsg());
	} else if (read_head(j) < 0) {
		wt_rec_refuse(j->r, "no_commit", wt_ctx_at(ctx, "safety", path),
			      "refusing to archive: HEAD has no commit to protect");
	} else {
		ret = registry_check(j);
	}
	free(reason);
	free(mount);
	return ret;
}

/* The registry patch of the archive: the archived fields, status unless --keep. */
static void
patch_fields(struct job *j, struct wt_obj *o)
{
	char ts[32];

	if (!opt.keep) {
		wt_obj_str(o, "status", "archived");
		wt_obj_bool(o, "archived", 1);
	}
	wt_obj_str(o, "archive", j->final);
	wt_obj_int(o, "archive_size", j->size);
	wt_obj_str(o, "archived_at", wt_time_fmt(opt.now, ts));
	wt_obj_str(o, "archive_ref", j->ref);
	wt_obj_str(o, "head", j->head);
}

/* The same fields on a record. */
static void
set_fields(struct job *j, struct wt_rec *r)
{
	if (!opt.keep) {
		wt_rec_set_str(r, "status", "archived");
		wt_rec_set_bool(r, "archived", 1);
	}
	wt_rec_set_str(r, "archive", j->final);
	wt_rec_set_int(r, "archive_size", j->size);
	wt_rec_set_time(r, "archived_at", opt.now);
	wt_rec_set_str(r, "archive_ref", j->ref);
	wt_rec_set_str(r, "head", j->head);
}

/* The registry patch: journaled before anything is removed. */
static int
journal(struct job *j)
{
	struct wt_obj f;
	struct wt_rec cur = WT_REC_INIT;
	int ret;

	if (j->in_registry) {
		wt_obj_init(&f);
		patch_fields(j, &f);
		ret = wt_batch_set(opt.batch, j->id, wt_obj_text(&f, NULL));
		wt_obj_release(&f);
		return ret;
	}
	/* The registry does not know the worktree: it must know the archive. */
	wt_rec_copy(&cur, j->r);
	set_fields(j, &cur);
	ret = wt_batch_put(opt.batch, &cur);
	wt_rec_release(&cur);
	return ret;
}

static void
emit_fields(struct job *j, unsigned long long freed)
{
	set_fields(j, j->r);
	wt_rec_set_int(j->r, "freed", (long long)freed);
}

/*
 * A worktree whose directory is gone may be one that a run archived and was
 * killed while removing: the registry (its journal applied) knows the
 * archive. The record gets the archived fields and git's admin entry, left
 * with its marker, goes. Returns 1 when so.
 */
static int
finished(struct wt_rec *r, const char *id, const char *path, const char *repo)
{
	static const char *const fields[] = { "status", "archived", "archive",
		"archive_size", "archived_at", "archive_ref", "head", NULL };
	struct wt_rec cur = WT_REC_INIT;
	struct wt_buf b = WT_BUF_INIT;
	struct wt_rm_stats rs;
	struct stat st;
	const char *raw;
	char *archive = NULL, *common = repo ? realpath(repo, NULL) : NULL, *admin = NULL;
	char *name = NULL, *slash;
	size_t n, i;
	int ok, fd;

	ok = wt_registry_record_of(&opt.reg, id, path, common ? common : repo, &cur) == WT_REG_SAME;
	if (!ok || !wt_rec_is_archived(&cur) || !(archive = wt_rec_str(&cur, "archive")) ||
	    stat(archive, &st) < 0) {
		ok = 0;
		goto out;
	}
	for (i = 0; fields[i]; i++)
		if ((raw = wt_rec_raw(&cur, fields[i], &n)))
			wt_rec_set_raw(r, fields[i], raw, n);
	if (!repo || opt.nflag)
		goto out;
	/* The one admin entry that is this path, when the run left its marker there. */
	if (wt_admin_of_path(repo, path, &admin, &name) == 1) {
		wt_buf_addf(&b, "%s/" MARKER, admin);
		if (access(b.s, F_OK) == 0 && (slash = strrchr(admin, '/'))) {
			*slash = 0;
			if ((fd = open(admin, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
				memset(&rs, 0, sizeof(rs));
				wt_rmtree_at(fd, name, &rs);
				close(fd);
			}
		}
	}
out:
	wt_rec_release(&cur);
	wt_buf_release(&b);
	free(admin);
	free(name);
	free(archive);
	free(common);
	return ok;
}

/*
 * The walk: every entry, with its crc, for the manifest; then HEAD is
 * protected. With a marker, a run archived the worktree and died: the
 * remains are judged with everything in them. Returns 1 when they are
 * archived already (j->final set), 0 to archive, -1 on an error.
 */
static int
walk(struct job *j, const char *path, struct wt_obj *ctx)
{
	struct wt_buf b = WT_BUF_INIT;
	char *marked, *why = NULL;
	int ret = 0;

	if (git_repository_index(&j->idx, j->repo) < 0)
		j->idx = NULL;
	wt_buf_addf(&b, "%s/" MARKER, j->t.admin);
	j->marker = wt_buf_detach(&b);
	marked = wt_read_small(j->marker, 4096);
	if (!opt.artifacts && !marked)
		j->arts = wt_artifacts_new(j->t.path, j->repo, j->idx, 0);
	if (wt_snapshot_take(&j->tree, walker, j->t.path, j->t.dev, j->t.ino, j->arts,
			     WT_SNAP_SHA256, NULL, NULL) < 0) {
		wt_rec_error(j->r, WT_E_BASE, wt_ctx_at(ctx, "walk", path), "cannot archive: %s",
			     j->tree.err.s);
		ret = -1;
	} else if (protect(j) < 0) {
		wt_rec_error(j->r, WT_E_BASE, wt_ctx_at(ctx, "protect", path),
			     "cannot protect HEAD: %s", wt_git_errmsg());
		ret = -1;
	} else if (marked && remains_archived(j, marked, &why) == 0) {
		j->final = marked;
		marked = NULL;
		ret = 1;
	} else if (marked) {
		warnx("'%s': %s archiving afresh: %s", j->id, opt.nflag ? "would be" : "", why);
		if (!opt.nflag)
			unlink(j->marker);
	}
	free(marked);
	free(why);
	return ret;
}

/* -n: what would be archived. */
static void
dry_run(struct job *j, int resumed, struct wt_obj *o)
{
	wt_obj_release(o);
	wt_would_init(o, "archive");
	wt_obj_int(o, "files", (long long)j->tree.n);
	wt_obj_int(o, "bytes", (long long)j->tree.bytes);
	wt_obj_int(o, "left_out", (long long)j->tree.ns);
	wt_obj_str(o, "ref", j->ref);
	wt_obj_bool(o, "resume", resumed);
	wt_rec_set_obj(j->r, "would", o);
}

/*
 * Step 2: the archive, verified before it gets its name, and the worktree
 * unchanged since the walk; then the marker, which lets a run that dies from
 * here on be finished by the next.
 */
static int
write_step(struct job *j, const char *path, struct wt_obj *ctx)
{
	struct wt_buf mark = WT_BUF_INIT;
	char *why = NULL;
	int ret = -1;

	wt_git_state_read(&j->gs, j->t.admin);
	build_manifest(j);
	if (make_archive(j, &why) < 0) {
		wt_rec_error(j->r, WT_E_BASE, wt_ctx_at(ctx, "write", path), "cannot archive: %s", why);
		goto out;
	}
	wt_test_pause("renamed");
	if (unchanged(j, &why) < 0) {
		wt_rec_error(j->r, WT_E_BASE, wt_ctx_at(ctx, "write", path), "cannot archive: %s", why);
		unlink(j->final);
		goto out;
	}
	wt_buf_addf(&mark, "%s\n", j->final);
	if (!opt.keep && wt_write_atomic(j->marker, mark.s, mark.len, 0644) < 0) {
		why_set(&why, errno, "cannot write '%s'", j->marker);
		wt_rec_error(j->r, WT_E_BASE, wt_ctx_at(ctx, "mark", path), "%s", why);
		unlink(j->final);
		unlink(j->marker);
		goto out;
	}
	wt_test_pause("marked");
	ret = 0;
out:
	wt_buf_release(&mark);
	free(why);
	return ret;
}

/* Step 3: the registry patch, journaled before anything goes. */
static int
journal_step(struct job *j, const char *path, struct wt_obj *ctx)
{
	struct stat st;
	char *why = NULL;
	int ret = -1;

	if (stat(j->final, &st) < 0) {
		why_set(&why, errno, "cannot stat '%s'", j->final);
		wt_rec_error(j->r, WT_E_BASE, wt_ctx_at(ctx, "journal", path), "%s", why);
	} else if (j->size = (long long)st.st_size, journal(j) < 0) {
		why_set(&why, errno, "cannot journal the registry patch of '%s'", j->id);
		wt_rec_error(j->r, WT_E_REGISTRY, wt_ctx_registry(ctx, opt.reg.path,
			     j->in_registry ? "set" : "put", "journal"), "%s", why);
	} else {
		wt_test_pause("journaled");
		ret = 0;
	}
	free(why);
	return ret;
}

/* Step 4: the worktree goes: its directory (.git last), then git's admin entry. */
static void
remove_step(struct job *j, const char *path, struct wt_obj *ctx)
{
	struct wt_rm_stats rs;
	char *why = NULL;

	memset(&rs, 0, sizeof(rs));
	wt_test_pause("removing");
	if (wt_rmtree_verified(&j->t, &rs) < 0) {
		why_set(&why, errno, "archived to '%s', but cannot remove the worktree", j->final);
	} else {
		wt_test_pause("removed");
		if (remove_admin(&j->t, &rs) < 0)
			why_set(&why, errno, "archived to '%s', but cannot remove git's admin "
				"entry", j->final);
	}
	emit_fields(j, rs.bytes);
	if (why)
		wt_rec_error(j->r, WT_E_BASE, wt_ctx_at(ctx, "remove", path), "%s", why);
	free(why);
}

/*
 * Tests stop the program (wt_test_pause) at its steps, in order: protected,
 * writing, written, verified, renamed, marked, journaled, removing, removed.
 */
static int
archive_one(struct wt_rec *r, int worker, void *arg)
{
	struct job j;
	struct wt_obj ctx;
	struct stat st;
	char *path = wt_rec_str(r, "path"), *repo = wt_rec_str(r, "repo");
	int resumed;

	(void)worker;
	(void)arg;
	memset(&j, 0, sizeof(j));
	wt_obj_init(&ctx);
	j.r = r;
	if (!(j.id = wt_rec_str(r, "id"))) {
		wt_rec_error(r, WT_E_BASE, NULL, "a record without an id");
		goto out;
	}
	if (!path) {
		wt_rec_error(r, WT_E_BASE, NULL, "a record whose path is not a string");
		goto out;
	}
	/* An archived worktree whose directory is gone is done: pass it on. */
	if (lstat(path, &st) < 0 && errno == ENOENT &&
	    (wt_rec_is_archived(r) || finished(r, j.id, path, repo)))
		goto out;
	/* 1. The safety contract. */
	if (safe(&j, path, repo, &ctx) < 0 || (resumed = walk(&j, path, &ctx)) < 0)
		goto out;
	if (opt.nflag) {
		dry_run(&j, resumed, &ctx);
		goto out;
	}
	wt_test_pause("protected");
	if (!resumed && write_step(&j, path, &ctx) < 0) {
		drop_ref(&j);
		goto out;
	}
	if (journal_step(&j, path, &ctx) < 0)
		goto out;
	if (!opt.keep) {
		remove_step(&j, path, &ctx);
		goto out;
	}
	if (resumed)
		unlink(j.marker);
	emit_fields(&j, 0);
out:
	job_release(&j);
	wt_obj_release(&ctx);
	free(path);
	free(repo);
	return 0;
}

/*
 * The archive directory, made when missing; and what a run that died left:
 * its journal applied, its temporaries gone.
 */
static void
prepare(const struct wt_config *cfg, const char *odir)
{
	struct wt_buf b = WT_BUF_INIT;
	char *dir = wt_archive_dir(cfg);

	/* The directory wt-restore takes a record's archive from; one -o names is elsewhere. */
	wt_buf_adds(&b, odir ? odir : dir);
	free(dir);
	if (opt.nflag) {
		if (!(opt.dir = realpath(b.s, NULL)))
			opt.dir = wt_xstrdup(b.s);
		wt_buf_release(&b);
		return;
	}
	if (wt_mkdirs(b.s, 0700) < 0 || !(opt.dir = realpath(b.s, NULL)))
		err(WT_EXIT_FATAL, "cannot create '%s'", b.s);
	if (wt_registry_replay(&opt.reg, cfg->lock_timeout) < 0)
		errx(WT_EXIT_FATAL, "cannot apply the journal of '%s'", opt.reg.path);
	wt_archive_clean(opt.dir);
	opt.batch = wt_batch_open(&opt.reg);
	wt_buf_release(&b);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "keep", no_argument, NULL, 'k' },
		WT_LONGOPTS_STD,
		{ NULL, 0, NULL, 0 }
	};
	struct wt_config cfg;
	struct wt_reader *rd;
	const char *ropt = NULL, *odir = NULL, *z = NULL;
	long errors;
	int c, jobs = 0, level = -1, have;

	wt_setprogname(argv[0]);
	/*
	 * libarchive converts names between the locale's charset and UTF-8: in
	 * UTF-8 they pass unchanged, and a name that is not UTF-8 is kept as
	 * bytes (pax hdrcharset=BINARY) instead of failing in the C locale.
	 */
	if (!setlocale(LC_CTYPE, "C.UTF-8"))
		setlocale(LC_CTYPE, "");
	while ((c = getopt_long(argc, argv, "afhj:kl:no:r:z:", longopts, NULL)) != -1)
		switch (c) {
		case 'a': opt.artifacts = 1; break;
		case 'f': opt.force = 1; break;
		case 'j': jobs = wt_parse_jobs(optarg); break;
		case 'k': opt.keep = 1; break;
		case 'l': level = (int)wt_parse_long(optarg, "compression level"); break;
		case 'n': opt.nflag = 1; break;
		case 'o': odir = optarg; break;
		case 'r': ropt = optarg; break;
		case 'z': z = optarg; break;
		default: wt_opt_other(c, usage_text);
		}
	if (optind != argc || isatty(STDIN_FILENO))
		usage();
	wt_config_load(&cfg);
	wt_compression_pick(&opt.z, &cfg, z, level, wt_archive_can_zstd());
	if (!jobs)
		jobs = cfg.jobs;
	opt.now = wt_now();
	if ((have = wt_registry_open(&opt.reg, &cfg, ropt)) < 0)
		err(WT_EXIT_FATAL, "cannot read '%s'", opt.reg.path);
	if (opt.reg.moai && !opt.nflag)
		errx(WT_EXIT_FATAL, "'%s' is a MoAI-ADK registry, read only here; give an "
		     "NDJSON registry with -r", opt.reg.path);
	wt_git_init();
	prepare(&cfg, odir);
	/* Reading and checksumming files keeps every CPU busy, as zstd does. */
	walker = wt_walker_new(opt.z.threads);
	rd = wt_reader_new(STDIN_FILENO, 0);
	errors = wt_pool_run(rd, jobs, want, archive_one, NULL, stdout);
	wt_walker_free(walker);
	wt_reader_free(rd);
	wt_flush_stdout();
	/* One registry update for the whole run. */
	if (wt_batch_failed(opt.batch))
		errors++;
	if (wt_batch_commit(opt.batch, cfg.lock_timeout) < 0) {
		warnx("the registry was not updated; its journal keeps the changes for the next run");
		errors++;
	}
	free(opt.dir);
	wt_registry_release(&opt.reg);
	wt_config_release(&cfg);
	return errors ? WT_EXIT_RECORDS : WT_EXIT_OK;
}
