/* creating.c: wt-add's intent files, so a creation is all or nothing even across a kill. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <git2.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wt.h"

char *
wt_intent_dir(const struct wt_registry *reg)
{
	struct wt_buf b = WT_BUF_INIT;

	wt_buf_addf(&b, "%s/%s", reg->dir, WT_INTENT_DIR);
	return wt_buf_detach(&b);
}

void
wt_intent_release(struct wt_intent *in)
{
	size_t i;

	free(in->id);
	free(in->path);
	free(in->repo);
	free(in->name);
	free(in->branch);
	free(in->base);
	free(in->made_parent);
	for (i = 0; i < in->nglobs; i++)
		free(in->globs[i]);
	free(in->globs);
	free(in->file);
	if (in->fd >= 0)
		close(in->fd);
	memset(in, 0, sizeof(*in));
	in->fd = -1;
}

/* The intent as one line of JSON. */
static void
intent_line(const struct wt_intent *in, struct wt_buf *out)
{
	struct wt_obj o;
	char ts[32];
	size_t i, n;
	const char *s;

	wt_obj_init(&o);
	wt_obj_str(&o, "id", in->id);
	wt_obj_str(&o, "path", in->path);
	wt_obj_str(&o, "repo", in->repo);
	wt_obj_str(&o, "name", in->name);
	wt_obj_str(&o, "branch", in->branch);
	wt_obj_bool(&o, "made_branch", in->made_branch);
	wt_obj_str(&o, "base", in->base);
	wt_obj_str(&o, "made_parent", in->made_parent);
	wt_obj_array(&o, "copy");
	for (i = 0; i < in->nglobs; i++)
		wt_obj_str(&o, NULL, in->globs[i]);
	wt_obj_close(&o);
	wt_obj_int(&o, "pid", in->pid);
	wt_obj_str(&o, "started_at", wt_time_fmt(in->started_at, ts));
	wt_obj_str(&o, "step", in->step);
	if (in->ino) {
		wt_obj_int(&o, "dev", (long long)in->dev);
		wt_obj_int(&o, "ino", (long long)in->ino);
	}
	s = wt_obj_text(&o, &n);
	wt_buf_add(out, s, n);
	wt_buf_addc(out, '\n');
	wt_obj_release(&o);
}

/* Appends the intent as it is now, synced: the last line of the file is the truth. */
static int
intent_append(struct wt_intent *in)
{
	struct wt_buf b = WT_BUF_INIT;
	size_t off = 0;
	ssize_t w;
	int ret = -1;

	intent_line(in, &b);
	while (off < b.len) {
		if ((w = write(in->fd, b.s + off, b.len - off)) < 0) {
			if (errno == EINTR)
				continue;
			goto out;
		}
		off += (size_t)w;
	}
	ret = fdatasync(in->fd);
out:
	wt_buf_release(&b);
	return ret;
}

int
wt_intent_begin(struct wt_intent *in, const struct wt_registry *reg)
{
	struct wt_buf tmp = WT_BUF_INIT, fin = WT_BUF_INIT;
	char *dir = wt_intent_dir(reg);
	int ret = -1, e;

	in->pid = (long)getpid();
	in->started_at = wt_now();
	snprintf(in->step, sizeof(in->step), "%s", "begin");
	if (wt_mkdirs(dir, 0700) < 0)
		goto out;
	/* Locked before it has its name, so no one ever sees it unlocked while we live. */
	wt_buf_addf(&tmp, "%s/.%s.%ld.tmp", dir, in->id, in->pid);
	wt_buf_addf(&fin, "%s/%s.json", dir, in->id);
	in->fd = open(tmp.s, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (in->fd < 0)
		goto out;
	if (flock(in->fd, LOCK_EX) < 0 || intent_append(in) < 0 || fsync(in->fd) < 0 ||
	    link(tmp.s, fin.s) < 0) {
		e = errno;
		unlink(tmp.s);
		close(in->fd);
		in->fd = -1;
		errno = e;
		goto out;
	}
	unlink(tmp.s);
	if (wt_sync_dir(dir) < 0)
		goto out;
	in->file = wt_buf_detach(&fin);
	ret = 0;
out:
	free(dir);
	wt_buf_release(&tmp);
	wt_buf_release(&fin);
	return ret;
}

int
wt_intent_step(struct wt_intent *in, const char *step)
{
	snprintf(in->step, sizeof(in->step), "%s", step);
	return intent_append(in);
}

int
wt_intent_done(struct wt_intent *in)
{
	char *dir, *s;
	int ret;

	if (!in->file)
		return 0;
	ret = unlink(in->file);
	if (ret < 0 && errno == ENOENT)
		ret = 0;
	dir = wt_xstrdup(in->file);
	if ((s = strrchr(dir, '/')))
		*s = '\0';
	if (ret == 0)
		ret = wt_sync_dir(dir);
	free(dir);
	free(in->file);
	in->file = NULL;
	return ret;
}

/* Fills in from the last line of the file open at fd that parses. */
static int
intent_parse(struct wt_intent *in, int fd)
{
	struct wt_buf b = WT_BUF_INIT;
	struct wt_rec r = WT_REC_INIT;
	char buf[8192], *line, *nl, *last = NULL, *s;
	const char *why;
	ssize_t n;
	double v;
	int t, i, ret = -1;

	while ((n = read(fd, buf, sizeof(buf))) > 0 && b.len < (1 << 20))
		wt_buf_add(&b, buf, (size_t)n);
	if (n < 0 || !b.len)
		goto out;
	for (line = b.s; (nl = memchr(line, '\n', b.len - (size_t)(line - b.s))); line = nl + 1) {
		if (wt_rec_parse(&r, line, (size_t)(nl - line), &why) == 0)
			last = line;
	}
	if (!last || wt_rec_parse(&r, last, strcspn(last, "\n"), &why) < 0)
		goto out;
	if (!(in->id = wt_rec_str(&r, "id")) || !(in->path = wt_rec_str(&r, "path")) ||
	    !(in->repo = wt_rec_str(&r, "repo")))
		goto out;
	in->name = wt_rec_str(&r, "name");
	in->branch = wt_rec_str(&r, "branch");
	in->base = wt_rec_str(&r, "base");
	in->made_parent = wt_rec_str(&r, "made_parent");
	wt_rec_bool(&r, "made_branch", &in->made_branch);
	if (wt_rec_num(&r, "pid", &v) == 0)
		in->pid = (long)v;
	wt_rec_time(&r, "started_at", 0, &in->started_at);
	if ((s = wt_rec_str(&r, "step"))) {
		snprintf(in->step, sizeof(in->step), "%s", s);
		free(s);
	}
	if (wt_rec_num(&r, "dev", &v) == 0)
		in->dev = (unsigned long long)v;
	if (wt_rec_num(&r, "ino", &v) == 0)
		in->ino = (unsigned long long)v;
	if ((t = wt_rec_find(&r, "copy")) >= 0 && r.tok[t].type == JSMN_ARRAY)
		for (i = t + 1; i < r.ntok && r.tok[i].start < r.tok[t].end; i++)
			if (r.tok[i].parent == t && (s = wt_rec_tokstr(&r, i))) {
				in->globs = wt_xrealloc(in->globs, (in->nglobs + 1) * sizeof(char *));
				in->globs[in->nglobs++] = s;
			}
	ret = 0;
out:
	wt_rec_release(&r);
	wt_buf_release(&b);
	return ret;
}

int
wt_intent_each_dead(const struct wt_registry *reg, int (*fn)(struct wt_intent *in, void *arg),
		    void *arg)
{
	struct wt_intent in;
	struct dirent *de;
	char *dir = wt_intent_dir(reg);
	DIR *d = opendir(dir);
	size_t n;
	int fd, count = 0, stop = 0;

	if (!d) {
		free(dir);
		return errno == ENOENT ? 0 : -1;
	}
	while (!stop && (de = readdir(d))) {
		n = strlen(de->d_name);
		/* A first line not yet named, of a run killed before it had any. */
		if (de->d_name[0] == '.' && n > 4 && strcmp(de->d_name + n - 4, ".tmp") == 0) {
			/* Its pid first: between open and flock a live run's is not locked yet. */
			const char *q = de->d_name + n - 4;
			long pid;

			while (q > de->d_name && q[-1] != '.')
				q--;
			pid = strtol(q, NULL, 10);
			if (pid > 0 && kill((pid_t)pid, 0) == 0)
				continue;
			if ((fd = openat(dirfd(d), de->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) >= 0) {
				if (flock(fd, LOCK_EX | LOCK_NB) == 0)
					unlinkat(dirfd(d), de->d_name, 0);
				close(fd);
			}
			continue;
		}
		if (de->d_name[0] == '.' || n < 6 || strcmp(de->d_name + n - 5, ".json") != 0)
			continue;
		fd = openat(dirfd(d), de->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			continue;
		/* A live run holds its lock; a dead one's is free, and now ours. */
		if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			close(fd);
			continue;
		}
		memset(&in, 0, sizeof(in));
		in.fd = -1;
		if (intent_parse(&in, fd) < 0) {
			/* Not one line parses: nothing was done after it was written. */
			wt_intent_release(&in);
			in.id = wt_xstrndup(de->d_name, n - 5);
		}
		in.fd = fd;
		in.dead = 1;
		{
			struct wt_buf b = WT_BUF_INIT;

			wt_buf_addf(&b, "%s/%s", dir, de->d_name);
			in.file = wt_buf_detach(&b);
		}
		count++;
		stop = fn(&in, arg);
		wt_intent_release(&in);
	}
	closedir(d);
	free(dir);
	return count;
}

int
wt_intent_copies(const struct wt_intent *in, const char *rel)
{
	char buf[4096];
	const char *base;
	size_t i, n = strlen(rel);

	if (n >= sizeof(buf))
		return 0;
	memcpy(buf, rel, n + 1);
	while (n > 1 && buf[n - 1] == '/')
		buf[--n] = '\0';
	base = strrchr(buf, '/') ? strrchr(buf, '/') + 1 : buf;
	for (i = 0; i < in->nglobs; i++)
		if (strchr(in->globs[i], '/') ? fnmatch(in->globs[i], buf, FNM_PATHNAME) == 0
					      : fnmatch(in->globs[i], base, 0) == 0)
			return 1;
	return 0;
}

/* 1 when the directory at path holds nothing but its .git entry. */
static int
only_dotgit(const char *path)
{
	struct dirent *de;
	DIR *d = opendir(path);
	int only = d != NULL;

	while (only && (de = readdir(d)))
		only = strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
		       strcmp(de->d_name, ".git") == 0;
	if (d)
		closedir(d);
	return only;
}

/* 1 when the entries name in fda and fdb are the same: type, bytes, link target, tree below. */
static int
same_entry(int fda, int fdb, const char *name, int depth)
{
	struct stat sa, sb;
	struct dirent *de;
	char ba[8192], bb[8192];
	ssize_t na, nb;
	DIR *d;
	int a = -1, b = -1, same = 0;

	if (depth > 64 || fstatat(fda, name, &sa, AT_SYMLINK_NOFOLLOW) < 0 ||
	    fstatat(fdb, name, &sb, AT_SYMLINK_NOFOLLOW) < 0 ||
	    (sa.st_mode & S_IFMT) != (sb.st_mode & S_IFMT))
		return 0;
	if (S_ISLNK(sa.st_mode)) {
		na = readlinkat(fda, name, ba, sizeof(ba));
		nb = readlinkat(fdb, name, bb, sizeof(bb));
		return na >= 0 && na == nb && memcmp(ba, bb, (size_t)na) == 0;
	}
	if (!S_ISREG(sa.st_mode) && !S_ISDIR(sa.st_mode))
		return 0;
	if (S_ISREG(sa.st_mode) && sa.st_size != sb.st_size)
		return 0;
	if ((a = openat(fda, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
	    (b = openat(fdb, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		goto out;
	if (S_ISREG(sa.st_mode)) {
		do {
			na = read(a, ba, sizeof(ba));
			nb = read(b, bb, sizeof(bb));
		} while (na > 0 && na == nb && memcmp(ba, bb, (size_t)na) == 0);
		same = na == 0 && nb == 0;
		goto out;
	}
	/* A directory: everything in the copy is the main worktree's (a cut-short copy has less). */
	if (!(d = fdopendir(b)))
		goto out;
	b = -1;
	same = 1;
	while (same && (de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			same = same_entry(a, dirfd(d), de->d_name, depth + 1);
	closedir(d);
out:
	if (a >= 0)
		close(a);
	if (b >= 0)
		close(b);
	return same;
}

/*
 * 1 when the ignored path rel of the worktree top is what -c copied: it,
 * and everything below it, as it is in the main worktree main. A copy
 * edited since is work (a .env is precious), and so is a file added to it.
 */
static int
copy_intact(const char *main, const char *top, const char *rel)
{
	char buf[4096], *s;
	const char *name = buf;
	int fm, ft, dm = -1, dt = -1, same = 0;
	size_t n = strlen(rel);

	if (!main || n >= sizeof(buf))
		return 0;
	memcpy(buf, rel, n + 1);
	while (n > 1 && buf[n - 1] == '/')
		buf[--n] = '\0';
	if ((fm = open(main, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return 0;
	if ((ft = open(top, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		goto out;
	if ((s = strrchr(buf, '/'))) {
		*s = '\0';
		name = s + 1;
		if ((dm = wt_open_beneath(fm, buf, O_RDONLY | O_DIRECTORY)) < 0 ||
		    (dt = wt_open_beneath(ft, buf, O_RDONLY | O_DIRECTORY)) < 0)
			goto out;
	}
	same = same_entry(s ? dm : fm, s ? dt : ft, name, 0);
out:
	if (dm >= 0)
		close(dm);
	if (dt >= 0)
		close(dt);
	if (ft >= 0)
		close(ft);
	close(fm);
	return same;
}

/*
 * 1 when the file at path (st its lstat) holds a beginning of the blob id:
 * a write cut short (a full disk, a kill), which holds nothing git has not.
 */
static int
blob_prefix(git_repository *repo, const char *path, const struct stat *st, const git_oid *id)
{
	git_blob *blob = NULL;
	const char *want;
	char buf[8192];
	off_t off = 0;
	ssize_t n = 0;
	int fd = -1, same = 0;

	if (git_blob_lookup(&blob, repo, id) < 0 ||
	    (git_object_size_t)st->st_size > git_blob_rawsize(blob) ||
	    (fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		goto out;
	want = git_blob_rawcontent(blob);
	while ((n = read(fd, buf, sizeof(buf))) > 0 &&
	       (git_object_size_t)(off + n) <= git_blob_rawsize(blob) &&
	       memcmp(buf, want + off, (size_t)n) == 0)
		off += n;
	same = n == 0 && off == st->st_size;
out:
	if (fd >= 0)
		close(fd);
	git_blob_free(blob);
	return same;
}

/* 1 when the file rel of the worktree repo is the blob of the tree entry te, as a checkout writes it. */
static int
as_checked_out(git_repository *repo, const char *top, const char *rel, const git_tree_entry *te)
{
	struct wt_buf b = WT_BUF_INIT;
	struct stat st;
	char link[4096];
	ssize_t n;
	git_oid oid;
	int link_entry = git_tree_entry_filemode(te) == GIT_FILEMODE_LINK, same = 0;

	wt_buf_addf(&b, "%s/%s", top, rel);
	if (lstat(b.s, &st) < 0 || (link_entry ? !S_ISLNK(st.st_mode) : !S_ISREG(st.st_mode)))
		goto out;
	if (link_entry)
		same = (n = readlink(b.s, link, sizeof(link))) >= 0 &&
		       git_odb_hash(&oid, link, (size_t)n, GIT_OBJECT_BLOB) == 0 &&
		       git_oid_equal(&oid, git_tree_entry_id(te));
	else
		same = (git_repository_hashfile(&oid, repo, b.s, GIT_OBJECT_BLOB, rel) == 0 &&
			git_oid_equal(&oid, git_tree_entry_id(te))) ||
		       blob_prefix(repo, b.s, &st, git_tree_entry_id(te));
out:
	wt_buf_release(&b);
	return same;
}

/*
 * 0 when the worktree at t holds nothing but what the checkout (and the
 * copies of in's globs) made: HEAD at the base commit, no untracked or other
 * ignored file, and (once the checkout finished) no tracked file changed.
 */
static int
only_checkout(const struct wt_intent *in, const struct wt_target *t, struct wt_buf *why)
{
	git_repository *repo = NULL;
	git_status_list *st = NULL;
	git_status_options so;
	git_oid head, base;
	git_commit *commit = NULL;
	git_tree *tree = NULL;
	git_tree_entry *te;
	size_t i, n;
	int done = strcmp(in->step, "begin") != 0 && strcmp(in->step, "branch") != 0 &&
		   strcmp(in->step, "worktree") != 0;
	int ret = -1;
	git_repository *common = NULL;
	char *main = NULL;

	/* The main worktree, which -c copied from. */
	if (in->nglobs && git_repository_open(&common, in->repo) == 0 &&
	    git_repository_workdir(common))
		main = wt_xstrdup(git_repository_workdir(common));
	git_repository_free(common);
	if (git_repository_open(&repo, t->path) < 0) {
		/* git was cut short before its HEAD: a directory of nothing but .git is its own. */
		if (!done && only_dotgit(t->path))
			ret = 0;
		else
			wt_buf_addf(why, "cannot open '%s': %s", t->path, wt_git_errmsg());
		goto out;
	}
	if (in->base && git_oid_fromstr(&base, in->base) == 0 &&
	    git_reference_name_to_id(&head, repo, "HEAD") == 0 && !git_oid_equal(&head, &base)) {
		wt_buf_addf(why, "its HEAD is not the base commit %.12s: it has commits", in->base);
		goto out;
	}
	/* A checkout cut short has written files it had not yet put in the index. */
	if (!done && in->base && git_oid_fromstr(&base, in->base) == 0 &&
	    git_commit_lookup(&commit, repo, &base) == 0)
		git_commit_tree(&tree, commit);
	git_status_options_init(&so, GIT_STATUS_OPTIONS_VERSION);
	so.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED | GIT_STATUS_OPT_INCLUDE_IGNORED |
		   GIT_STATUS_OPT_RECURSE_UNTRACKED_DIRS | GIT_STATUS_OPT_EXCLUDE_SUBMODULES;
	if (git_status_list_new(&st, repo, &so) < 0) {
		wt_buf_addf(why, "cannot read the status of '%s': %s", t->path, wt_git_errmsg());
		goto out;
	}
	n = git_status_list_entrycount(st);
	for (i = 0; i < n; i++) {
		const git_status_entry *e = git_status_byindex(st, i);
		const char *p = e->index_to_workdir ? e->index_to_workdir->new_file.path :
				e->head_to_index ? e->head_to_index->new_file.path : "?";

		if (e->status == GIT_STATUS_CURRENT)
			continue;
		if (e->status == GIT_STATUS_IGNORED && wt_intent_copies(in, p) &&
		    copy_intact(main, t->path, p))
			continue;
		/*
		 * A checkout cut short wrote files and no index: a file it has not
		 * yet written is deleted in the index, one it wrote is new with the
		 * tree's bytes. Anything else (a staged or changed file, a file
		 * with other bytes) was made since the checkout: the step written
		 * last is "worktree" also once the checkout is complete.
		 */
		if (!done && e->status == GIT_STATUS_INDEX_DELETED)
			continue;
		if (!done && tree && !(e->status & ~(GIT_STATUS_WT_NEW | GIT_STATUS_INDEX_DELETED)) &&
		    (e->status & GIT_STATUS_WT_NEW) && git_tree_entry_bypath(&te, tree, p) == 0) {
			int same = as_checked_out(repo, t->path, p, te);

			git_tree_entry_free(te);
			if (same)
				continue;
		}
		wt_buf_addf(why, "it holds work the checkout did not make: '%s'", p);
		goto out;
	}
	ret = 0;
out:
	git_status_list_free(st);
	git_tree_free(tree);
	git_commit_free(commit);
	git_repository_free(repo);
	free(main);
	return ret;
}

/* The admin entry <repo>/worktrees/<name>, when it is in's: its gitdir names in's path or nothing. */
static int
remove_admin(const struct wt_intent *in, struct wt_obj *done, struct wt_buf *why)
{
	struct wt_buf b = WT_BUF_INIT;
	struct wt_rm_stats rs = { 0 };
	struct stat st;
	char *gd = NULL;
	int fd = -1, ret = -1;

	if (!in->name || !*in->name || strchr(in->name, '/') || in->name[0] == '.')
		return 0;
	wt_buf_addf(&b, "%s/worktrees", in->repo);
	if ((fd = open(b.s, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
	    fstatat(fd, in->name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		ret = 0;
		goto out;
	}
	wt_buf_addf(&b, "/%s/gitdir", in->name);
	if ((gd = wt_read_small(b.s, 8192))) {
		wt_buf_reset(&b);
		wt_buf_addf(&b, "%s/.git", in->path);
		if (strcmp(gd, b.s) != 0) {
			wt_buf_addf(why, "git's admin entry '%s' is another worktree's (%s)",
				    in->name, gd);
			goto out;
		}
	}
	if (!S_ISDIR(st.st_mode) || wt_rmtree_at(fd, in->name, &rs) < 0) {
		wt_buf_addf(why, "cannot remove git's admin entry '%s/worktrees/%s': %s",
			    in->repo, in->name, strerror(errno));
		goto out;
	}
	wt_obj_bool(done, "admin", 1);
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	free(gd);
	wt_buf_release(&b);
	return ret;
}

/* The message of the reflog entry that creates in's branch: this run's, no other's. */
static void
branch_msg(const struct wt_intent *in, struct wt_buf *b)
{
	char ts[32];

	wt_buf_addf(b, "wt-add: branch of '%s', process %ld, started %s", in->id, in->pid,
		    wt_time_fmt(in->started_at, ts));
}

int
wt_intent_make_branch(const struct wt_intent *in, git_repository *repo, const git_oid *at,
		      git_reference **ref)
{
	struct wt_buf name = WT_BUF_INIT, msg = WT_BUF_INIT;
	git_reflog *log = NULL;
	git_signature *sig = NULL;
	int rc;

	wt_buf_addf(&name, "refs/heads/%s", in->branch);
	branch_msg(in, &msg);
	if ((rc = git_reference_create(ref, repo, name.s, at, 0, msg.s)) < 0)
		goto out;
	/* Where git keeps no reflog (a bare repository), this branch gets one. */
	if (git_reflog_read(&log, repo, name.s) == 0 && git_reflog_entrycount(log) == 0 &&
	    (git_signature_default(&sig, repo) == 0 ||
	     git_signature_now(&sig, "wt-add", "wt-add@localhost") == 0) &&
	    git_reflog_append(log, at, sig, msg.s) == 0)
		git_reflog_write(log);
out:
	git_signature_free(sig);
	git_reflog_free(log);
	wt_buf_release(&name);
	wt_buf_release(&msg);
	return rc;
}

/*
 * 1 when the branch ref is the one in's run made: its reflog's first entry
 * is that run's creation. The intent says made_branch before the branch is
 * made, and a name can be made again by hand: the name alone is no proof.
 */
static int
branch_ours(const struct wt_intent *in, git_repository *repo, const char *ref)
{
	struct wt_buf msg = WT_BUF_INIT;
	git_reflog *log = NULL;
	const git_reflog_entry *e;
	const char *m;
	size_t n;
	int ours = 0;

	branch_msg(in, &msg);
	if (git_reflog_read(&log, repo, ref) == 0 && (n = git_reflog_entrycount(log)) > 0 &&
	    (e = git_reflog_entry_byindex(log, n - 1)) && (m = git_reflog_entry_message(e)))
		ours = strncmp(m, msg.s, msg.len) == 0 && (!m[msg.len] || m[msg.len] == '\n');
	git_reflog_free(log);
	wt_buf_release(&msg);
	return ours;
}

/* The branch, when in made it and it is still at the base commit. */
static int
remove_branch(const struct wt_intent *in, struct wt_obj *done, struct wt_buf *why)
{
	git_repository *repo = NULL;
	git_reference *ref = NULL;
	git_oid base;
	int ret = -1;

	if (!in->made_branch || !in->branch)
		return 0;
	if (git_repository_open_bare(&repo, in->repo) < 0) {
		wt_buf_addf(why, "cannot open '%s': %s", in->repo, wt_git_errmsg());
		goto out;
	}
	if (git_branch_lookup(&ref, repo, in->branch, GIT_BRANCH_LOCAL) < 0 ||
	    !branch_ours(in, repo, git_reference_name(ref))) {
		ret = 0;    /* not made yet, or gone, or another's of the same name */
		goto out;
	}
	if (!in->base || git_oid_fromstr(&base, in->base) < 0 || !git_reference_target(ref) ||
	    !git_oid_equal(git_reference_target(ref), &base)) {
		wt_buf_addf(why, "the branch '%s' has moved from the base commit: it has commits",
			    in->branch);
		goto out;
	}
	if (git_branch_delete(ref) < 0) {
		wt_buf_addf(why, "cannot delete the branch '%s': %s", in->branch, wt_git_errmsg());
		goto out;
	}
	wt_obj_bool(done, "branch", 1);
	ret = 0;
out:
	git_reference_free(ref);
	git_repository_free(repo);
	return ret;
}

/* The empty parent directories this run made, up to made_parent. */
static void
remove_parents(const struct wt_intent *in)
{
	char *p, *s;
	size_t n;

	if (!in->made_parent || !*in->made_parent)
		return;
	n = strlen(in->made_parent);
	if (strncmp(in->path, in->made_parent, n) != 0 || in->path[n] != '/')
		return;
	p = wt_xstrdup(in->path);
	while ((s = strrchr(p, '/')) && (size_t)(s - p) >= n) {
		*s = '\0';
		if (rmdir(p) < 0)
			break;
	}
	free(p);
}

/* The registry's record of in's worktree, when it has one: 1, else 0 (or -1). */
static int
registered(const struct wt_intent *in, const struct wt_registry *reg)
{
	struct wt_rec cur = WT_REC_INIT;
	char *top = realpath(in->path, NULL);
	int rc = wt_registry_record_of(reg, in->id, top ? top : in->path, in->repo, &cur);

	wt_rec_release(&cur);
	free(top);
	return rc < 0 ? -1 : rc == WT_REG_SAME;
}

/* A record of the registry at in's path that is not in's own journaled one. */
struct at_path {
	const struct wt_intent *in;
	const char *top;
	char *id;
};

static int
at_path_cb(struct wt_rec *r, void *arg)
{
	struct at_path *a = arg;
	char *p = wt_rec_str(r, "path"), *id;
	int hit = p && (strcmp(p, a->in->path) == 0 || (a->top && strcmp(p, a->top) == 0));

	free(p);
	if (!hit)
		return 0;
	id = wt_rec_str(r, "id");
	if (id && strcmp(a->in->step, "journaled") == 0 && strcmp(id, a->in->id) == 0) {
		free(id);
		return 0;
	}
	a->id = id ? id : wt_xstrdup("");
	return 1;
}

/* The step names wt-add writes, in order. */
static int
known_step(const char *step)
{
	static const char *const steps[] = {
		"begin", "branch", "worktree", "checked_out", "copied", "journaled",
	};
	size_t i;

	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		if (strcmp(step, steps[i]) == 0)
			return 1;
	return 0;
}

int
wt_intent_undo(struct wt_intent *in, const struct wt_registry *reg, double timeout,
	       struct wt_obj *done, struct wt_buf *why)
{
	struct wt_target t;
	struct wt_rm_stats rs = { 0 };
	struct wt_obj scratch;
	struct stat st;
	const char *w;
	int ret = 1, journaled, verified = 0;

	wt_obj_init(&scratch);
	if (!done)
		done = &scratch;
	if (!in->path || !in->repo) {
		/* Killed before its first line was written: nothing was made. */
		ret = 0;
		goto finish;
	}
	/*
	 * wt-add writes the worktree's name and a step in every line: an intent
	 * without them is not one wt-add wrote (forged, or another version's),
	 * and nothing it names is known to be this run's.
	 */
	if (!in->name || !*in->name || !known_step(in->step)) {
		wt_buf_addf(why, "the intent file names no worktree and step of wt-add's; "
			    "nothing it names is known to be this run's");
		goto out;
	}
	/*
	 * A worktree the registry lists is not a dead run's creation (a stale or
	 * forged intent naming it): only that run's own journaled record is. A
	 * live run undoing its own failure made what is at its path (which was
	 * free when it began), whatever stale record names the path.
	 */
	if (in->dead) {
		struct at_path a = { in, NULL, NULL };
		char *top = realpath(in->path, NULL);

		a.top = top;
		wt_registry_each(reg, at_path_cb, &a);
		free(top);
		if (a.id) {
			wt_buf_addf(why, "'%s' is the registry's worktree '%s', not one this run "
				    "made", in->path, a.id);
			free(a.id);
			goto out;
		}
	}
	journaled = strcmp(in->step, "journaled") == 0;
	if (journaled && wt_registry_replay(reg, timeout) < 0) {
		wt_buf_addf(why, "cannot apply the journal of '%s'", reg->path);
		goto out;
	}
	verified = wt_target_verify(&t, in->path, in->repo, &w) == 0;
	/* The commit point is the journaled record: from there on, a creation is rolled forward. */
	if (journaled && verified && registered(in, reg) == 1) {
		wt_obj_bool(done, "completed", 1);
		wt_target_release(&t);
		ret = 0;
		goto finish;
	}
	if (verified) {
		if (in->name && strcmp(t.name, in->name) != 0) {
			wt_buf_addf(why, "'%s' is the worktree '%s', not the one this run made",
				    in->path, t.name);
			wt_target_release(&t);
			goto out;
		}
		if (in->ino && ((unsigned long long)t.dev != in->dev ||
				(unsigned long long)t.ino != in->ino)) {
			wt_buf_addf(why, "'%s' is no longer the directory this run made", in->path);
			wt_target_release(&t);
			goto out;
		}
		if (only_checkout(in, &t, why) < 0) {
			wt_target_release(&t);
			goto out;
		}
		/*
		 * The removal never enters a mount, but would remove all around it
		 * first: a worktree with a mount inside is refused whole.
		 */
		{
			char *mnt = NULL;
			int m = wt_path_has_mounts(t.path, &mnt);

			if (m != 0) {
				wt_buf_addf(why, m > 0 ? "a filesystem is mounted at '%s' inside it" :
					    "cannot read the mount table%s", m > 0 ? mnt : "");
				free(mnt);
				wt_target_release(&t);
				goto out;
			}
		}
		if (wt_rmtree_verified(&t, &rs) < 0) {
			wt_buf_addf(why, "cannot remove '%s': %s", in->path, strerror(errno));
			wt_target_release(&t);
			goto out;
		}
		wt_target_release(&t);
		wt_obj_bool(done, "directory", 1);
	} else if (lstat(in->path, &st) == 0 && strcmp(in->step, "begin") != 0 &&
		   strcmp(in->step, "branch") != 0) {
		/* git made the directory and was cut short before its .git: only an empty one goes. */
		if (!S_ISDIR(st.st_mode) || (in->ino && ((unsigned long long)st.st_dev != in->dev ||
							 (unsigned long long)st.st_ino != in->ino)) ||
		    rmdir(in->path) < 0) {
			wt_buf_addf(why, "'%s' is not a worktree this run made (%s)", in->path, w);
			goto out;
		}
		wt_obj_bool(done, "directory", 1);
	}
	if (strcmp(in->step, "begin") != 0 && strcmp(in->step, "branch") != 0 &&
	    remove_admin(in, done, why) < 0)
		goto out;
	if (remove_branch(in, done, why) < 0)
		goto out;
	remove_parents(in);
	if (journaled && registered(in, reg) == 1) {
		struct wt_batch *b = wt_batch_open(reg);

		if (!b || wt_batch_del(b, in->id) < 0 || wt_batch_commit(b, timeout) < 0) {
			wt_buf_addf(why, "cannot remove the record '%s' from '%s'", in->id, reg->path);
			goto out;
		}
		wt_obj_bool(done, "record", 1);
	}
	ret = 0;
finish:
	if (wt_intent_done(in) < 0 && ret == 0) {
		wt_buf_addf(why, "cannot remove the intent file: %s", strerror(errno));
		ret = -1;
	}
out:
	wt_obj_release(&scratch);
	return ret;
}
