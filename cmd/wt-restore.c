/* wt-restore: archived worktrees back where they were, as they were, or copies elsewhere. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <git2.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "wt.h"

#define MARKER "wt-archived"

static struct {
	int nflag, keep, pused, aused;
	const char *path;           /* -p */
	const char *archive;        /* -a */
	char *dir;                  /* the archive directory, as configured */
	struct wt_registry reg;
	struct wt_batch *batch;
	time_t now;
} opt;

static const char usage_text[] =
	"usage: wt-restore [-kn] [-a archive] [-p path] [-r registry]\n"
	"       wt-restore -h | --help | --version\n"
	"  -a archive         restore from this archive (one record only)\n"
	"  -k, --keep         keep the archive and the record's archive fields\n"
	"  -n                 change nothing: say what would be restored\n"
	"  -p path            restore to this absolute path (one record only)\n"
	"  -r registry        the registry to journal to and update\n"
	"  -h, --help         print this usage and exit\n"
	"      --version      print the version and exit\n";

static void
usage(void)
{
	wt_usage(usage_text);
}

/*
 * An archived record; with -p also one that is not archived but names an
 * archive (wt-archive -k's), or any with -a: that one is restored as a copy.
 */
static int
want(const struct wt_rec *r, void *arg)
{
	(void)arg;
	int m;

	if (wt_rec_has_error(r))
		return 0;
	if (wt_rec_is_archived(r))
		return 1;
	/* A main worktree is no copy's original: wt-ls | wt-restore -a A -p P passes it. */
	return opt.path && !(wt_rec_bool(r, "main", &m) == 0 && m) &&
	       (opt.archive || wt_rec_tok_is_string(r, wt_rec_find(r, "archive")));
}

/* What one restore made, so that a failure can take it all back. */
struct job {
	struct wt_rec *r;
	struct wt_manifest m;
	char *archive, *target, *id, *name, *admin, *branch, *tmpbranch, *note;
	git_repository *repo;
	git_oid commit;
	int made_dir, made_admin, made_branch;
	int in_registry;            /* the registry has the worktree's record: patch it */
	int verify_failed;          /* extracted, but the disk does not hold the manifest's tree */
	int foreign;                /* -a named an archive outside the archive directory: kept */
	int copy;                   /* the record is not archived: a copy, the original untouched */
	int put_copy;               /* the registry has the original: the copy gets a record */
	dev_t dev;
	ino_t ino;
	struct wt_buf gitdata[WT_GIT_STATE_MAX];   /* git's state from the archive, as in m.items */
};

static void
job_release(struct job *j)
{
	size_t i;

	wt_manifest_release(&j->m);
	free(j->archive);
	free(j->target);
	free(j->id);
	free(j->name);
	free(j->admin);
	free(j->branch);
	free(j->tmpbranch);
	free(j->note);
	for (i = 0; i < WT_GIT_STATE_MAX; i++)
		wt_buf_release(&j->gitdata[i]);
	git_repository_free(j->repo);
}

static void
delete_branch(git_repository *repo, const char *name)
{
	git_reference *ref;

	if (name && git_branch_lookup(&ref, repo, name, GIT_BRANCH_LOCAL) == 0) {
		git_branch_delete(ref);
		git_reference_free(ref);
	}
}

/* Takes back what a failed restore made: the directory, git's admin entry, branches. */
static void
rollback(struct job *j)
{
	struct wt_rm_stats rs;
	struct wt_buf b = WT_BUF_INIT;
	struct stat st;
	char *parent, *slash;
	int fd;

	memset(&rs, 0, sizeof(rs));
	if (j->made_dir) {
		parent = wt_xstrdup(j->target);
		slash = strrchr(parent, '/');
		*slash = '\0';
		fd = open(*parent ? parent : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		/* Only the directory this run made, not whatever took its place. */
		if (fd >= 0 && fstatat(fd, slash + 1, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    st.st_dev == j->dev && st.st_ino == j->ino)
			wt_rmtree_at(fd, slash + 1, &rs);
		if (fd >= 0)
			close(fd);
		free(parent);
	}
	if (j->made_admin) {
		wt_buf_addf(&b, "%s/worktrees", git_repository_commondir(j->repo));
		if ((fd = open(b.s, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
			wt_rmtree_at(fd, j->name, &rs);
			close(fd);
		}
	}
	delete_branch(j->repo, j->tmpbranch);
	if (j->made_branch)
		delete_branch(j->repo, j->branch);
	wt_buf_release(&b);
}

/*
 * The path must be free. An empty directory counts as free: it is what an
 * archive's removal cut short at its very end leaves.
 */
static int
path_free(struct job *j, const char **why)
{
	struct wt_buf b = WT_BUF_INIT;
	struct stat st;
	char *admin;

	if (lstat(j->target, &st) < 0)
		return errno == ENOENT ? 0 : -1;
	if (S_ISDIR(st.st_mode) && rmdir(j->target) == 0)
		return 0;
	if ((admin = wt_git_admin_dir(j->target))) {
		wt_buf_addf(&b, "%s/" MARKER, admin);
		if (access(b.s, F_OK) == 0)
			*why = "the remains of an interrupted wt-archive are there; run "
			       "wt-archive on the record to finish it";
		free(admin);
	}
	wt_buf_release(&b);
	if (!*why)
		*why = "path taken";
	return -1;
}

/*
 * The name of git's admin entry: the archived one, unless a live worktree
 * has it. An entry whose directory is gone (the archived worktree's, left by
 * an interrupted run) is pruned.
 */
static int
choose_name(struct job *j)
{
	struct wt_buf b = WT_BUF_INIT, g = WT_BUF_INIT, dir = WT_BUF_INIT;
	struct wt_rm_stats rs;
	struct stat st;
	char *gitdir, *slash;
	int k, fd, gone;

	wt_buf_addf(&dir, "%s/worktrees", git_repository_commondir(j->repo));
	for (k = 1; k < 100; k++) {
		wt_buf_reset(&b);
		wt_buf_addf(&b, k == 1 ? "%s" : "%s-%d", j->m.name, k);
		wt_buf_reset(&g);
		wt_buf_addf(&g, "%s/%s", dir.s, b.s);
		if (lstat(g.s, &st) < 0)
			break;
		wt_buf_adds(&g, "/gitdir");
		gitdir = wt_read_small(g.s, 4096);
		/* gitdir names PATH/.git: PATH gone and no lock means git would prune it. */
		if (gitdir && (slash = strrchr(gitdir, '/')))
			*slash = '\0';
		gone = gitdir && *gitdir && lstat(gitdir, &st) < 0 && errno == ENOENT;
		free(gitdir);
		wt_buf_reset(&g);
		wt_buf_addf(&g, "%s/%s/locked", dir.s, b.s);
		/* A copy leaves the original's entry alone, gone or not. */
		if (gone && !j->copy && access(g.s, F_OK) < 0) {
			memset(&rs, 0, sizeof(rs));
			if ((fd = open(dir.s, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
				wt_rmtree_at(fd, b.s, &rs);
				close(fd);
			}
			break;
		}
	}
	wt_buf_release(&g);
	wt_buf_release(&dir);
	if (k == 100) {
		wt_buf_release(&b);
		return -1;
	}
	j->name = wt_buf_detach(&b);
	return 0;
}

/* The commit: the protection ref's, else the manifest's head. */
static int
find_commit(struct job *j, const char **why)
{
	git_commit *c;
	char *ref = wt_rec_str(&j->m.doc, "ref");
	int ok;

	if (!ref || git_reference_name_to_id(&j->commit, j->repo, ref) < 0)
		git_oid_fromstr(&j->commit, j->m.head);
	free(ref);
	ok = git_commit_lookup(&c, j->repo, &j->commit) == 0;
	git_commit_free(c);
	if (!ok)
		*why = "its commit is gone from the repository";
	return ok ? 0 : -1;
}

/*
 * Adds the worktree at its commit, on its branch when that can be: the branch
 * is made when it is gone; when it has moved or is checked out elsewhere the
 * worktree is detached at the commit, with a note.
 */
static int
add_worktree(struct job *j, const char **why)
{
	git_worktree_add_options wo;
	git_worktree *wt = NULL;
	git_reference *ref = NULL;
	git_repository *wr = NULL;
	git_commit *c = NULL;
	struct wt_buf b = WT_BUF_INIT;
	struct stat st;
	int detach = 0, ret = -1;

	if (git_commit_lookup(&c, j->repo, &j->commit) < 0)
		goto out;
	if (j->m.branch) {
		if (git_branch_lookup(&ref, j->repo, j->m.branch, GIT_BRANCH_LOCAL) < 0) {
			if (git_branch_create(&ref, j->repo, j->m.branch, c, 0) < 0)
				goto out;
			j->made_branch = 1;
			j->branch = wt_xstrdup(j->m.branch);
		} else if (!git_oid_equal(git_reference_target(ref), &j->commit)) {
			wt_buf_addf(&b, "branch '%s' has moved since the archive; restored "
				    "detached at its commit", j->m.branch);
			detach = 1;
		} else if (git_branch_is_checked_out(ref) == 1) {
			wt_buf_addf(&b, "branch '%s' is checked out elsewhere; restored "
				    "detached at its commit", j->m.branch);
			detach = 1;
		} else {
			j->branch = wt_xstrdup(j->m.branch);
		}
	} else {
		detach = 1;
	}
	if (detach) {
		/* libgit2 adds worktrees on a branch: a temporary one, dropped below. */
		git_reference_free(ref);
		ref = NULL;
		if (b.len)
			j->note = wt_buf_detach(&b);
		wt_buf_reset(&b);
		wt_buf_addf(&b, "wt-restore/%s-%ld", j->name, (long)getpid());
		if (git_branch_create(&ref, j->repo, b.s, c, 1) < 0)
			goto out;
		j->tmpbranch = wt_buf_detach(&b);
	}
	if (wt_mkdirs_parent(j->target) < 0) {
		*why = "cannot create the path's parent directories";
		goto out;
	}
	git_worktree_add_options_init(&wo, GIT_WORKTREE_ADD_OPTIONS_VERSION);
	wo.ref = ref;
	/* The archive brings every file: git writes none. */
	wo.checkout_options.checkout_strategy = GIT_CHECKOUT_NONE;
	if (git_worktree_add(&wt, j->repo, j->name, j->target, &wo) < 0) {
		j->made_admin = 1;
		if (lstat(j->target, &st) == 0) {
			j->made_dir = 1;
			j->dev = st.st_dev;
			j->ino = st.st_ino;
		}
		goto out;
	}
	j->made_admin = j->made_dir = 1;
	if (lstat(j->target, &st) < 0)
		goto out;
	j->dev = st.st_dev;
	j->ino = st.st_ino;
	wt_buf_reset(&b);
	wt_buf_addf(&b, "%s/worktrees/%s", git_repository_commondir(j->repo), j->name);
	j->admin = wt_buf_detach(&b);
	if (detach) {
		if (git_repository_open(&wr, j->target) < 0 ||
		    git_repository_set_head_detached(wr, &j->commit) < 0)
			goto out;
		delete_branch(j->repo, j->tmpbranch);
		free(j->tmpbranch);
		j->tmpbranch = NULL;
	}
	ret = 0;
out:
	if (ret < 0 && !*why)
		*why = git_error_last() ? git_error_last()->message : "cannot add the worktree";
	wt_buf_release(&b);
	git_reference_free(ref);
	git_worktree_free(wt);
	git_repository_free(wr);
	git_commit_free(c);
	return ret;
}

/* Reads the current entry's data into b, checking it against the manifest (SHA-256, or crc32). */
static int
read_git_entry(const struct wt_manifest *m, struct archive *a, const struct wt_item *it,
	       struct wt_buf *b)
{
	la_ssize_t n;

	wt_buf_reset(b);
	wt_buf_grow(b, (size_t)it->size + 1);
	while ((n = archive_read_data(a, b->s + b->len, b->cap - b->len)) > 0) {
		b->len += (size_t)n;
		if (b->len > (size_t)it->size)
			return -1;
		wt_buf_grow(b, 1);
	}
	return n == 0 && wt_item_data_ok(m, it, b->s, b->len) ? 0 : -1;
}

/* An entry under WT_GIT_PREFIX that is not the git state expected there. */
static int
foreign_git(struct archive_entry *e, struct wt_buf *msg)
{
	const char *p = archive_entry_pathname(e);

	if (!p || (strncmp(p, WT_GIT_PREFIX, strlen(WT_GIT_PREFIX)) != 0 &&
		   strcmp(p, WT_GIT_DIR) != 0 && strcmp(p, WT_GIT_PREFIX) != 0))
		return 0;
	wt_buf_addf(msg, "refusing '%s': an archive carries only git's index, HEAD and "
		    "reflog, never configuration or hooks", p);
	return 1;
}

/*
 * Reads git's state from the archive into j->gitdata, checked against the
 * manifest, and the header of the first worktree entry into *next (NULL at
 * the end): all before anything is written, so that an archive carrying
 * anything else under WT_GIT_PREFIX is refused with nothing made.
 */
static int
read_git(struct job *j, struct archive *a, struct archive_entry **next, struct wt_buf *msg)
{
	struct archive_entry *e;
	const struct wt_item *it;
	const char *w;
	size_t i;
	int r;

	for (i = 0; i < j->m.ngit; i++) {
		it = &j->m.items[i];
		if (archive_read_next_header(a, &e) != ARCHIVE_OK) {
			wt_buf_addf(msg, "archive unreadable or cut short before '%s'%s%s", it->path,
				    archive_error_string(a) ? ": " : "",
				    archive_error_string(a) ? archive_error_string(a) : "");
			return -1;
		}
		if (wt_manifest_check_entry(it, e, &w) < 0) {
			if (!foreign_git(e, msg))
				wt_buf_addf(msg, "%s: '%s'", w, archive_entry_pathname(e));
			return -1;
		}
		if (i >= WT_GIT_STATE_MAX || read_git_entry(&j->m, a, it, &j->gitdata[i]) < 0) {
			wt_buf_addf(msg, "git state '%s' differs from the manifest", it->path);
			return -1;
		}
	}
	if ((r = archive_read_next_header(a, &e)) == ARCHIVE_EOF) {
		*next = NULL;
		return 0;
	}
	if (r != ARCHIVE_OK) {
		wt_buf_addf(msg, "archive unreadable after git's state%s%s",
			    archive_error_string(a) ? ": " : "",
			    archive_error_string(a) ? archive_error_string(a) : "");
		return -1;
	}
	if (foreign_git(e, msg))
		return -1;
	*next = e;
	return 0;
}

#define HOLE 4096

/*
 * Writes n bytes of a file at off, leaving every aligned block of HOLE zeros
 * unwritten: a hole, so that a sparse file comes back sparse (the file is
 * new, and libarchive extends it to its size at the end). What lies between is written in
 * one piece, not block by block as libarchive's own sparse mode does.
 */
static int
write_holes(struct archive *d, const char *buf, size_t n, la_int64_t off)
{
	size_t i = 0, start = 0, k;

	while (i < n) {
		k = HOLE - (size_t)((off + (la_int64_t)i) % HOLE);
		if (k > n - i)
			k = n - i;
		/*
		 * Zeros left unwritten read as zeros in the new file: a piece at
		 * either end of buf may be skipped too, so a block that two
		 * buffers share is a hole when both halves are zeros.
		 */
		if ((k == HOLE || i == 0 || i + k == n) && !buf[i] &&
		    (k == 1 || memcmp(buf + i, buf + i + 1, k - 1) == 0)) {
			if (i > start && archive_write_data_block(d, buf + start, i - start,
								  off + (la_int64_t)start) != ARCHIVE_OK)
				return -1;
			start = i + k;
		}
		i += k;
	}
	if (n > start && archive_write_data_block(d, buf + start, n - start,
						  off + (la_int64_t)start) != ARCHIVE_OK)
		return -1;
	return 0;
}

/*
 * Extracts the worktree's entries (the first header read already, e; NULL
 * when none) into the new worktree, checking every entry against the
 * manifest in order; names are resolved inside the worktree (cwd) by
 * libarchive's secure extraction, every write's result is checked, runs of
 * zeros become holes. Then the tree is synced and read back from the disk
 * against the manifest: only a tree verified there lets the archive go.
 */
static int
extract(struct job *j, struct archive *a, struct archive_entry *e, const char **why,
	struct wt_buf *msg)
{
	struct archive *d = archive_write_disk_new();
	const struct wt_item *it;
	const void *buf;
	const char *w;
	struct stat st;
	size_t i, n;
	la_int64_t off, total;
	int r, here = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), top = -1, ret = -1;

	archive_write_disk_set_options(d, ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME |
		ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
		ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS | ARCHIVE_EXTRACT_NO_OVERWRITE);
	/* Into the directory git just made, not one swapped in since. */
	if (here < 0 || (top = open(j->target, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
	    fstat(top, &st) < 0 || st.st_dev != j->dev || st.st_ino != j->ino || fchdir(top) < 0) {
		*why = "cannot enter the new worktree";
		goto out;
	}
	for (i = j->m.ngit; i < j->m.nitems; i++) {
		it = &j->m.items[i];
		if (i > j->m.ngit && (r = archive_read_next_header(a, &e)) != ARCHIVE_OK)
			e = NULL;
		if (!e) {
			wt_buf_addf(msg, "archive unreadable or cut short before '%s'%s%s", it->path,
				    archive_error_string(a) ? ": " : "",
				    archive_error_string(a) ? archive_error_string(a) : "");
			goto out;
		}
		if (wt_manifest_check_entry(it, e, &w) < 0) {
			wt_buf_addf(msg, "%s: '%s'", w, archive_entry_pathname(e));
			goto out;
		}
		/* The manifest's path, checked safe, not whatever the header says. */
		archive_entry_copy_pathname(e, it->path);
		archive_entry_set_uid(e, getuid());
		archive_entry_set_gid(e, getgid());
		/* A warning is a failure too: libarchive warns of a write that failed. */
		if (archive_write_header(d, e) != ARCHIVE_OK) {
			wt_buf_addf(msg, "cannot extract '%s': %s", it->path, archive_error_string(d));
			goto out;
		}
		if (it->type == WT_ITEM_FILE) {
			total = 0;
			while ((r = archive_read_data_block(a, &buf, &n, &off)) == ARCHIVE_OK) {
				if (off != total) {
					wt_buf_addf(msg, "'%s': a sparse entry, not written by wt-archive",
						    it->path);
					goto out;
				}
				if (write_holes(d, buf, n, off) < 0) {
					wt_buf_addf(msg, "cannot write '%s': %s", it->path,
						    archive_error_string(d));
					/* "Write failed": the reason (a full disk) is errno's. */
					if (archive_errno(d) > 0)
						wt_buf_addf(msg, ": %s", strerror(archive_errno(d)));
					goto out;
				}
				total += (la_int64_t)n;
			}
			if (r != ARCHIVE_EOF || total != it->size) {
				wt_buf_addf(msg, "'%s' differs from the manifest (size)%s%s", it->path,
					    r != ARCHIVE_EOF && archive_error_string(a) ? ": " : "",
					    r != ARCHIVE_EOF && archive_error_string(a) ?
					    archive_error_string(a) : "");
				goto out;
			}
		}
		if (archive_write_finish_entry(d) != ARCHIVE_OK) {
			wt_buf_addf(msg, "cannot extract '%s': %s", it->path, archive_error_string(d));
			goto out;
		}
	}
	if (j->m.nitems > j->m.ngit && (r = archive_read_next_header(a, &e)) != ARCHIVE_EOF) {
		wt_buf_addf(msg, "an entry that is not in the manifest: '%s'",
			    r == ARCHIVE_OK ? archive_entry_pathname(e) : "?");
		goto out;
	}
	if (j->m.nitems == j->m.ngit && e) {
		wt_buf_addf(msg, "an entry that is not in the manifest: '%s'",
			    archive_entry_pathname(e));
		goto out;
	}
	/* Directories get their modes and times last. */
	if (archive_write_close(d) != ARCHIVE_OK) {
		wt_buf_addf(msg, "cannot finish extracting: %s", archive_error_string(d));
		goto out;
	}
	/* What reached the disk, not what was read: a full disk shows here. */
	if (syncfs(top) < 0) {
		wt_buf_addf(msg, "cannot sync the restored files: %s", strerror(errno));
		goto out;
	}
	if (wt_manifest_check_tree(&j->m, top, msg) < 0) {
		j->verify_failed = 1;
		goto out;
	}
	ret = 0;
out:
	if (here >= 0) {
		if (fchdir(here) < 0)
			err(WT_EXIT_FATAL, "cannot return to the working directory");
		close(here);
	}
	if (top >= 0)
		close(top);
	archive_write_free(d);
	return ret;
}

/* git's index and reflog back into the new admin entry (the names parse allowed, no other). */
static int
restore_git_state(struct job *j)
{
	struct wt_buf p = WT_BUF_INIT, t = WT_BUF_INIT;
	const char *name;
	size_t i;
	int ret = 0;

	for (i = 0; i < j->m.ngit && i < WT_GIT_STATE_MAX; i++) {
		name = j->m.items[i].path + strlen(WT_GIT_PREFIX);
		/* HEAD is the one just set: the commit, on its branch or detached. */
		if (strcmp(name, "HEAD") == 0)
			continue;
		wt_buf_reset(&p);
		wt_buf_addf(&p, "%s/%s", j->admin, name);
		if (strchr(name, '/')) {
			wt_buf_reset(&t);
			wt_buf_addf(&t, "%s/logs", j->admin);
			if (mkdir(t.s, 0755) < 0 && errno != EEXIST)
				ret = -1;
		}
		if (wt_write_atomic(p.s, j->gitdata[i].s ? j->gitdata[i].s : "",
				    j->gitdata[i].len, 0644) < 0)
			ret = -1;
	}
	wt_buf_release(&p);
	wt_buf_release(&t);
	return ret;
}

/*
 * Whether the registry's record of the id is this worktree's, the one
 * archived (at the manifest's path or the record's): only then is it
 * patched; with none, the restored record is added. A record of the id
 * naming another worktree is left alone, and nothing is restored.
 */
static int
registry_check(struct job *j, const char *path)
{
	struct wt_rec cur = WT_REC_INIT;
	char *common = realpath(git_repository_commondir(j->repo), NULL);
	int rc = WT_REG_OTHER;

	if (j->m.path)
		rc = wt_registry_record_of(&opt.reg, j->id, j->m.path, common, &cur);
	if (rc == WT_REG_OTHER && path && (!j->m.path || strcmp(path, j->m.path) != 0)) {
		wt_rec_release(&cur);
		rc = wt_registry_record_of(&opt.reg, j->id, path, common, &cur);
	}
	j->in_registry = rc == WT_REG_SAME;
	rc = wt_registry_may_patch(j->r, &opt.reg, rc, &cur, "restore");
	wt_rec_release(&cur);
	free(common);
	return rc;
}

/*
 * A copy is registered when its original is, as a record of its own under
 * git's name for it; the original's record is never touched. A record of
 * that name for another worktree refuses, before anything is made.
 */
static int
registry_copy(struct job *j, const char *path)
{
	struct wt_rec cur = WT_REC_INIT;
	char *common = realpath(git_repository_commondir(j->repo), NULL);
	int rc = WT_REG_NONE;

	if (j->id && (path || j->m.path))
		rc = wt_registry_record_of(&opt.reg, j->id, path ? path : j->m.path, common, &cur);
	if (rc == WT_REG_SAME) {
		wt_rec_release(&cur);
		rc = wt_registry_record_of(&opt.reg, j->name, j->target, common, &cur);
		j->put_copy = rc == WT_REG_NONE;
	} else if (rc == WT_REG_OTHER)
		rc = WT_REG_NONE;       /* the registry's w1 is not this one's: nothing to register */
	rc = rc == WT_REG_OTHER || rc < 0 ?
	     wt_registry_may_patch(j->r, &opt.reg, rc, &cur, "restore") : 0;
	wt_rec_release(&cur);
	free(common);
	return rc;
}

/* What wt-archive recorded of the archive: gone with it (kept with -k). */
static const char *const archive_fields[] = {
	"archive", "archive_size", "archived_at", "archive_ref", "freed", NULL
};

/* The registry patch: the worktree active where it is, the archive's fields gone. */
static int
journal(struct job *j, struct wt_rec *out)
{
	struct wt_obj f;
	char ts[32], hex[GIT_OID_HEXSZ + 1];
	int ret;

	if (j->copy)
		return j->put_copy ? wt_batch_put(opt.batch, out) : 0;
	if (!j->in_registry)
		return wt_batch_put(opt.batch, out);
	wt_obj_init(&f);
	wt_obj_str(&f, "status", "active");
	wt_obj_bool(&f, "archived", 0);
	wt_obj_str(&f, "last_accessed", wt_time_fmt(opt.now, ts));
	wt_obj_str(&f, "path", j->target);
	wt_obj_str(&f, "head", git_oid_tostr(hex, sizeof(hex), &j->commit));
	/* NULL: detached, recorded as null (a set keeps nulls; del removes). */
	wt_obj_str(&f, "branch", j->branch);
	ret = wt_batch_set_del(opt.batch, j->id, wt_obj_text(&f, NULL),
			       opt.keep ? NULL : archive_fields);
	wt_obj_release(&f);
	return ret;
}

static void
set_fields(struct job *j, struct wt_rec *r)
{
	char hex[GIT_OID_HEXSZ + 1];
	size_t i;

	if (j->copy) {
		/* The record is the copy's now: git's name for it, and whose copy it is. */
		wt_rec_set_str(r, "id", j->name);
		wt_rec_set_str(r, "copy_of", j->id);
	}
	wt_rec_set_str(r, "status", "active");
	wt_rec_set_bool(r, "archived", 0);
	wt_rec_set_time(r, "last_accessed", opt.now);
	wt_rec_set_str(r, "path", j->target);
	wt_rec_set_str(r, "head", git_oid_tostr(hex, sizeof(hex), &j->commit));
	if (j->branch)
		wt_rec_set_str(r, "branch", j->branch);
	else
		wt_rec_set_null(r, "branch");
	for (i = 0; !opt.keep && archive_fields[i]; i++)
		wt_rec_del(r, archive_fields[i]);
	if (j->m.version < 2) {
		/* Format 1 has no SHA-256: the restore could check only crc32 sums. */
		struct wt_buf b = WT_BUF_INIT;

		if (j->note)
			wt_buf_addf(&b, "%s; ", j->note);
		wt_buf_adds(&b, "an archive of format " WT_MANIFEST_FORMAT_1 ", checked by "
			    "crc32 only (no sha256): it guards against accidents, not tampering");
		free(j->note);
		j->note = wt_buf_detach(&b);
	}
	if (j->note)
		wt_rec_set_str(r, "restore_note", j->note);
}

/* -n: what would be restored, where, at which commit. */
static void
dry_run(struct job *j, struct wt_obj *o)
{
	char hex[GIT_OID_HEXSZ + 1];

	wt_obj_release(o);
	wt_would_init(o, "restore");
	wt_obj_str(o, "path", j->target);
	wt_obj_str(o, "head", git_oid_tostr(hex, sizeof(hex), &j->commit));
	wt_obj_str(o, "branch", j->m.branch);
	wt_obj_int(o, "entries", (long long)(j->m.nitems - j->m.ngit));
	if (j->copy)
		wt_obj_str(o, "copy_of", j->id);
	wt_rec_set_obj(j->r, "would", o);
}

/*
 * Opens the archive and reads and checks its manifest: the one -a names, or
 * the record's, which must be in the archive directory (a record is data:
 * it cannot point wt-restore at a file made elsewhere).
 */
static int
open_archive(struct job *j, int *fd, struct archive **a, struct wt_obj *ctx)
{
	char *why = NULL, *named = NULL;
	int ret = -1;

	if (opt.archive && !opt.aused++) {
		j->archive = wt_xstrdup(opt.archive);
		if (!(j->foreign = !wt_archive_in_dir(opt.dir, opt.archive, &named)))
			free(named);
		named = NULL;
	}
	else if (!opt.archive)
		named = wt_rec_str(j->r, "archive");
	if (!j->id || (!j->archive && !named)) {
		wt_rec_error(j->r, WT_E_BASE, wt_ctx_at(ctx, "archive", NULL), !j->id ?
			     "an archived record without an id" : opt.archive ?
			     "-a names one archive, already used by another record" :
			     "an archived record without an archive");
	} else if (named && access(named, F_OK) < 0) {
		wt_rec_error(j->r, WT_E_BASE, wt_ctx_at(ctx, "archive", named),
			     "cannot open '%s': %s", named, strerror(errno));
	} else if (named && !wt_archive_in_dir(opt.dir, named, &j->archive)) {
		wt_rec_error(j->r, WT_E_BASE, wt_ctx_at(ctx, "archive", named),
			     "refusing the archive '%s': it is not in the archive directory "
			     "'%s'; name it with -a to restore from it", named, opt.dir);
	} else if ((*fd = open(j->archive, O_RDONLY | O_CLOEXEC)) < 0) {
		wt_rec_error(j->r, WT_E_BASE, wt_ctx_at(ctx, "archive", j->archive),
			     "cannot open '%s': %s", j->archive, strerror(errno));
	} else if (!(*a = wt_archive_read_fd(*fd))) {
		/* libarchive's errno is no cause worth naming: the file's kind is. */
		wt_rec_error(j->r, WT_E_BASE, wt_ctx_at(ctx, "archive", j->archive),
			     "'%s' is not a wt archive: not a tar file, compressed with zstd, "
			     "gzip or not at all", j->archive);
	} else if (wt_archive_read_manifest(*a, &j->m, NULL, NULL, &why) < 0) {
		wt_rec_error(j->r, WT_E_BASE, wt_ctx_at(ctx, "archive", j->archive), "'%s': %s",
			     j->archive, why);
	} else if (opt.path && opt.pused++) {
		wt_rec_error(j->r, WT_E_BASE, wt_ctx_at(ctx, "path", opt.path),
			     "-p names one path, already used by another record");
	} else {
		ret = 0;
	}
	free(why);
	free(named);
	return ret;
}

static int
restore_one(struct wt_rec *r, int worker, void *arg)
{
	struct job j;
	struct archive *a = NULL;
	struct archive_entry *first = NULL;
	struct wt_buf msg = WT_BUF_INIT;
	struct wt_obj ctx;
	git_reference *ref;
	char *repo = NULL, *path = NULL, *refname = NULL;
	const char *why = NULL;
	int fd = -1;

	(void)worker;
	(void)arg;
	memset(&j, 0, sizeof(j));
	wt_obj_init(&ctx);
	j.r = r;
	j.id = wt_rec_str(r, "id");
	j.copy = !wt_rec_is_archived(r);
	if (open_archive(&j, &fd, &a, &ctx) < 0)
		goto out;
	path = wt_rec_str(r, "path");
	if (opt.path)
		j.target = wt_xstrdup(opt.path);
	else if (path || j.m.path)
		j.target = wt_xstrdup(path ? path : j.m.path);
	if (!j.target || j.target[0] != '/' || !wt_archive_path_ok(j.target + 1)) {
		wt_rec_error(r, WT_E_BASE, wt_ctx_at(&ctx, "path", j.target),
			     "the path is not a clean absolute path");
		goto out;
	}
	if (path_free(&j, &why) < 0) {
		wt_rec_error(r, WT_E_BASE, wt_ctx_at(&ctx, "path", j.target),
			     "refusing to restore to '%s': %s", j.target, why ? why : strerror(errno));
		goto out;
	}
	repo = wt_rec_str(r, "repo");
	if (git_repository_open(&j.repo, repo ? repo : j.m.repo) < 0) {
		wt_rec_error(r, WT_E_BASE, wt_ctx_at(&ctx, "repo", repo ? repo : j.m.repo),
			     "cannot open the repository: %s", wt_git_errmsg());
		goto out;
	}
	if (find_commit(&j, &why) < 0 || choose_name(&j) < 0) {
		wt_rec_error(r, WT_E_BASE, wt_ctx_at(&ctx, "repo", repo ? repo : j.m.repo),
			     "cannot restore: %s", why ? why : "no free worktree name");
		goto out;
	}
	if (j.copy ? registry_copy(&j, path) < 0 : registry_check(&j, path) < 0)
		goto out;
	if (read_git(&j, a, &first, &msg) < 0) {
		wt_rec_error(r, WT_E_BASE, wt_ctx_at(&ctx, "archive", j.archive),
			     "cannot restore '%s': %s", j.archive, msg.s);
		goto out;
	}
	if (opt.nflag) {
		dry_run(&j, &ctx);
		goto out;
	}
	if (add_worktree(&j, &why) < 0) {
		wt_rec_error(r, WT_E_BASE, wt_ctx_at(&ctx, "add", j.target),
			     "cannot add the worktree: %s", why);
		rollback(&j);
		goto out;
	}
	if (extract(&j, a, first, &why, &msg) < 0) {
		wt_rec_error(r, WT_E_BASE, wt_ctx_at(&ctx, j.verify_failed ? "verify" : "extract", j.target),
			     "cannot restore '%s': %s", j.archive, msg.len ? msg.s : why);
		rollback(&j);
		goto out;
	}
	if (restore_git_state(&j) < 0) {
		wt_rec_error(r, WT_E_BASE, wt_ctx_at(&ctx, "git", j.target),
			     "cannot restore git's index of '%s'", j.target);
		rollback(&j);
		goto out;
	}
	set_fields(&j, r);
	/* Journaled before the archive goes: from here the worktree is the copy. */
	if (journal(&j, r) < 0) {
		wt_rec_error(r, WT_E_REGISTRY, wt_ctx_registry(&ctx, opt.reg.path,
			     j.in_registry ? "set" : "put", "journal"), "cannot journal the registry patch");
		goto out;
	}
	/* A copy's archive and ref are the original's: they stay. */
	if (j.copy)
		goto out;
	refname = wt_rec_str(&j.m.doc, "ref");
	if (refname && git_reference_lookup(&ref, j.repo, refname) == 0) {
		git_reference_delete(ref);
		git_reference_free(ref);
	}
	/* An archive -a named outside the archive directory is not wt's to delete. */
	if (!opt.keep && !j.foreign && unlink(j.archive) < 0)
		warn("cannot remove '%s'", j.archive);
out:
	if (a)
		archive_read_free(a);
	if (fd >= 0)
		close(fd);
	job_release(&j);
	wt_buf_release(&msg);
	wt_obj_release(&ctx);
	free(repo);
	free(path);
	free(refname);
	return 0;
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
	const char *ropt = NULL;
	long errors;
	int c;

	wt_setprogname(argv[0]);
	/* Names pass through libarchive unconverted in UTF-8 (see wt-archive). */
	if (!setlocale(LC_CTYPE, "C.UTF-8"))
		setlocale(LC_CTYPE, "");
	while ((c = getopt_long(argc, argv, "a:hknp:r:", longopts, NULL)) != -1)
		switch (c) {
		case 'a': opt.archive = optarg; break;
		case 'k': opt.keep = 1; break;
		case 'n': opt.nflag = 1; break;
		case 'p': opt.path = optarg; break;
		case 'r': ropt = optarg; break;
		default: wt_opt_other(c, usage_text);
		}
	if (optind != argc || isatty(STDIN_FILENO))
		usage();
	if (opt.path && opt.path[0] != '/')
		errx(WT_EXIT_FATAL, "-p needs an absolute path: '%s'", opt.path);
	wt_config_load(&cfg);
	opt.dir = wt_archive_dir(&cfg);
	opt.now = wt_now();
	if (wt_registry_open(&opt.reg, &cfg, ropt) < 0)
		err(WT_EXIT_FATAL, "cannot read '%s'", opt.reg.path);
	if (opt.reg.moai && !opt.nflag)
		errx(WT_EXIT_FATAL, "'%s' is a MoAI-ADK registry, read only here; give an "
		     "NDJSON registry with -r", opt.reg.path);
	wt_git_init();
	if (!opt.nflag) {
		if (wt_registry_replay(&opt.reg, cfg.lock_timeout) < 0)
			errx(WT_EXIT_FATAL, "cannot apply the journal of '%s'", opt.reg.path);
		opt.batch = wt_batch_open(&opt.reg);
	}
	rd = wt_reader_new(STDIN_FILENO, 0);
	/* One at a time: extraction works relative to the current directory. */
	errors = wt_pool_run(rd, 1, want, restore_one, NULL, stdout);
	wt_reader_free(rd);
	wt_flush_stdout();
	if (wt_batch_failed(opt.batch))
		errors++;
	if (wt_batch_commit(opt.batch, cfg.lock_timeout) < 0) {
		warnx("the registry was not updated; its journal keeps the changes for the next run");
		errors++;
	}
	wt_registry_release(&opt.reg);
	wt_config_release(&cfg);
	free(opt.dir);
	return errors ? WT_EXIT_RECORDS : WT_EXIT_OK;
}
