/*
 * fsck.c: what wt-fsck decides that others may ask too: what a registry's
 * directory holds that a finished run would not leave, git's two pointers
 * after a move, the record an archive describes, where MoAI-ADK keeps its
 * registry, the SPEC ID a name carries.
 */
#include <archive.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <git2.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wt.h"

/* 1 when name is base.tmp.PID of a process that is gone. */
static int
dead_tmp(const char *name, const char *base)
{
	size_t n = strlen(base);
	char *end;
	long pid;

	if (strncmp(name, base, n) != 0 || strncmp(name + n, ".tmp.", 5) != 0)
		return 0;
	pid = strtol(name + n + 5, &end, 10);
	if (*end || pid <= 0)
		return 0;
	return pid != (long)getpid() && kill((pid_t)pid, 0) < 0 && errno == ESRCH;
}

int
wt_registry_leftovers(const struct wt_registry *reg, wt_leftover_fn fn, void *arg)
{
	struct wt_buf b = WT_BUF_INIT;
	struct stat st;
	struct dirent *de;
	const char *base;
	char *p, *real = NULL;
	int what = 0;
	DIR *d;

	if (reg->moai)
		return 0;
	p = wt_registry_file(reg, "journal");
	if (stat(p, &st) == 0 && st.st_size > 0) {
		what |= WT_LEFT_JOURNAL;
		if (fn)
			fn(WT_LEFT_JOURNAL, p, arg);
	}
	free(p);
	p = wt_registry_file(reg, "idx");
	if (access(reg->path, F_OK) == 0 && access(p, F_OK) == 0 &&
	    !wt_registry_index_valid(reg)) {
		what |= WT_LEFT_INDEX;
		if (fn)
			fn(WT_LEFT_INDEX, p, arg);
	}
	free(p);
	/* A writer writes PATH.tmp.PID beside the file the registry is (a link's target). */
	real = realpath(reg->path, NULL);
	p = real ? real : reg->path;
	wt_buf_adds(&b, p);
	base = strrchr(b.s, '/');
	if (base) {
		b.s[base - b.s] = '\0';
		base++;
	}
	if ((d = opendir(base ? (*b.s ? b.s : "/") : "."))) {
		while ((de = readdir(d))) {
			struct wt_buf q = WT_BUF_INIT;

			if (!dead_tmp(de->d_name, base ? base : b.s))
				continue;
			what |= WT_LEFT_TMP;
			wt_buf_addf(&q, "%s/%s", base ? (*b.s ? b.s : "") : ".", de->d_name);
			if (fn)
				fn(WT_LEFT_TMP, q.s, arg);
			wt_buf_release(&q);
		}
		closedir(d);
	}
	free(real);
	wt_buf_release(&b);
	return what;
}

/* Length of the SPEC ID at s ("SPEC-" and segments of A-Z, 0-9 joined by '-'), or 0. */
static size_t
spec_len(const char *s)
{
	size_t n = 5, seg;

	if (strncmp(s, "SPEC-", 5) != 0)
		return 0;
	for (;;) {
		for (seg = 0; (s[n + seg] >= 'A' && s[n + seg] <= 'Z') ||
			      (s[n + seg] >= '0' && s[n + seg] <= '9'); seg++)
			;
		if (!seg)
			break;
		n += seg;
		if (s[n] != '-')
			return n;
		n++;
	}
	/* A '-' that no segment follows is not the ID's. */
	return n > 6 ? n - 1 : 0;
}

char *
wt_spec_id(const char *name)
{
	const char *s;
	size_t n;

	if (!name)
		return NULL;
	for (s = name; *s; s++) {
		if (s != name && s[-1] != '/' && s[-1] != '-' && s[-1] != '_' && s[-1] != '.')
			continue;
		if ((n = spec_len(s)))
			return wt_xstrndup(s, n);
	}
	return NULL;
}

/* ---- git's two pointers, as git worktree repair mends them ---- */

/* git's admin entry of repo whose gitdir names path/.git, or NULL. A new string. */
char *
wt_worktree_admin_of(const char *repo, const char *path)
{
	struct wt_buf b = WT_BUF_INIT, want = WT_BUF_INIT;
	struct dirent *de;
	char *s, *found = NULL;
	DIR *d;

	wt_buf_addf(&b, "%s/worktrees", repo);
	wt_buf_addf(&want, "%s/.git", path);
	if (!(d = opendir(b.s)))
		goto out;
	while (!found && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		wt_buf_reset(&b);
		wt_buf_addf(&b, "%s/worktrees/%s/gitdir", repo, de->d_name);
		if ((s = wt_read_small(b.s, 4096)) && strcmp(s, want.s) == 0) {
			wt_buf_reset(&b);
			wt_buf_addf(&b, "%s/worktrees/%s", repo, de->d_name);
			found = wt_buf_detach(&b);
		}
		free(s);
	}
	closedir(d);
out:
	wt_buf_release(&b);
	wt_buf_release(&want);
	return found;
}

/* 1 when the directory dir's .git file names the admin entry admin (both as written or resolved). */
int
wt_worktree_names_admin(const char *dir, const char *admin)
{
	struct wt_buf b = WT_BUF_INIT;
	char *s, *r1 = NULL, *r2 = NULL;
	int same = 0;

	wt_buf_addf(&b, "%s/.git", dir);
	if ((s = wt_read_small(b.s, 4096)) && strncmp(s, "gitdir: ", 8) == 0 && s[8] == '/')
		same = strcmp(s + 8, admin) == 0 ||
		       ((r1 = realpath(s + 8, NULL)) && (r2 = realpath(admin, NULL)) &&
			strcmp(r1, r2) == 0);
	free(s);
	free(r1);
	free(r2);
	wt_buf_release(&b);
	return same;
}

/* Writes text and a newline to path through a temporary and a rename. */
static int
write_small(const char *path, const char *text)
{
	struct wt_buf t = WT_BUF_INIT;
	int fd, ret = -1;
	size_t n = strlen(text);

	wt_buf_addf(&t, "%s.wt-fsck.%ld", path, (long)getpid());
	if ((fd = open(t.s, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
		goto out;
	if (write(fd, text, n) == (ssize_t)n && write(fd, "\n", 1) == 1 && fsync(fd) == 0 &&
	    close(fd) == 0) {
		fd = -1;
		ret = rename(t.s, path);
	}
	if (fd >= 0)
		close(fd);
	if (ret < 0)
		unlink(t.s);
out:
	wt_buf_release(&t);
	return ret;
}

/*
 * git worktree repair's pointer fix after a move: git's admin entry names
 * the worktree's new .git. Only once the moved directory's own .git names
 * that admin entry; then the result must verify as the record's worktree.
 */
int
wt_worktree_repair_pointer(const char *admin, const char *dir, const char *repo)
{
	struct wt_buf b = WT_BUF_INIT, g = WT_BUF_INIT;
	struct wt_target t;
	const char *why;
	int ret = -1;

	if (!wt_worktree_names_admin(dir, admin))
		return -1;
	wt_buf_addf(&b, "%s/gitdir", admin);
	wt_buf_addf(&g, "%s/.git", dir);
	if (write_small(b.s, g.s) == 0 && wt_target_verify(&t, dir, repo, &why) == 0) {
		wt_target_release(&t);
		ret = 0;
	}
	wt_buf_release(&b);
	wt_buf_release(&g);
	return ret;
}

/* An archive's record from its manifest: archived, with its archive and ref. */
int
wt_archive_record(const char *path, struct wt_rec *r)
{
	struct wt_manifest m;
	struct archive *a = NULL;
	char *why = NULL, *s;
	int fd, ret = -1;
	time_t at;

	memset(&m, 0, sizeof(m));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	if (!(a = wt_archive_read_fd(fd)) || wt_archive_read_manifest(a, &m, NULL, NULL, &why) < 0 ||
	    !m.id || !m.path)
		goto out;
	wt_rec_clear(r);
	wt_rec_set_str(r, "id", m.id);
	wt_rec_set_str(r, "path", m.path);
	if (m.repo)
		wt_rec_set_str(r, "repo", m.repo);
	if (m.branch)
		wt_rec_set_str(r, "branch", m.branch);
	else
		wt_rec_set_null(r, "branch");
	if (m.head)
		wt_rec_set_str(r, "head", m.head);
	wt_rec_set_str(r, "status", "archived");
	wt_rec_set_bool(r, "archived", 1);
	wt_rec_set_str(r, "archive", path);
	if (wt_rec_time(&m.doc, "archived_at", 0, &at) == 0)
		wt_rec_set_time(r, "archived_at", at);
	if ((s = wt_rec_str(&m.doc, "ref")))
		wt_rec_set_str(r, "archive_ref", s);
	free(s);
	ret = 0;
out:
	if (a)
		archive_read_free(a);
	close(fd);
	free(why);
	wt_manifest_release(&m);
	return ret;
}

/* MoAI-ADK keeps its registry in the worktree root: ~/.moai/worktrees/PROJECT, or older places. */
char *
wt_moai_default(void)
{
	struct wt_buf b = WT_BUF_INIT;
	git_repository *repo = NULL;
	const char *home = getenv("HOME");
	char *proj = NULL, *parent = NULL, *s;
	static const char *const where[] = {
		"%s/.moai/worktrees/%s", "%s/moai/worktrees/%s", "%s/moai/worktrees",
		"%s/worktrees/%s", "%s/worktrees",
	};
	size_t i;

	if (git_repository_open_ext(&repo, ".", 0, NULL) == 0) {
		/* The project is the main worktree's directory name. */
		s = wt_xstrdup(git_repository_commondir(repo));
		if (strlen(s) > 6 && strcmp(s + strlen(s) - 6, "/.git/") == 0) {
			s[strlen(s) - 6] = '\0';
			parent = wt_xstrdup(s);
			proj = wt_xstrdup(strrchr(s, '/') ? strrchr(s, '/') + 1 : s);
			if (strrchr(parent, '/'))
				*strrchr(parent, '/') = '\0';
		}
		free(s);
		git_repository_free(repo);
	}
	for (i = 0; home && i < sizeof(where) / sizeof(where[0]) + 1; i++) {
		wt_buf_reset(&b);
		if (i == sizeof(where) / sizeof(where[0])) {
			if (!parent)
				break;
			wt_buf_addf(&b, "%s/worktrees", parent);
		} else if (strstr(where[i] + 3, "%s")) {
			if (!proj)
				continue;
			wt_buf_addf(&b, where[i], home, proj);
		} else {
			wt_buf_addf(&b, where[i], home);
		}
		wt_buf_adds(&b, "/.moai-worktree-registry.json");
		if (access(b.s, R_OK) == 0)
			break;
	}
	free(proj);
	free(parent);
	if (!b.len || access(b.s, R_OK) < 0) {
		wt_buf_release(&b);
		return NULL;
	}
	return wt_buf_detach(&b);
}
