/* gitdir.c: git's own files, read directly: no libgit2 for who needs only these. */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wt.h"

char *
wt_git_admin_dir(const char *path)
{
	return wt_git_admin_dir_at(AT_FDCWD, path);
}

char *
wt_git_admin_dir_at(int dirfd, const char *path)
{
	struct wt_buf b = WT_BUF_INIT;
	struct stat st;
	const char *name;
	char *s;

	wt_buf_addf(&b, "%s/.git", path);
	name = dirfd == AT_FDCWD ? b.s : ".git";
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		wt_buf_release(&b);
		return NULL;
	}
	if (S_ISDIR(st.st_mode))
		return wt_buf_detach(&b);
	s = S_ISREG(st.st_mode) ? wt_read_small_at(dirfd, name, 4096) : NULL;
	wt_buf_reset(&b);
	if (!s || strncmp(s, "gitdir: ", 8) != 0) {
		free(s);
		wt_buf_release(&b);
		return NULL;
	}
	if (s[8] == '/')
		wt_buf_adds(&b, s + 8);
	else
		wt_buf_addf(&b, "%s/%s", path, s + 8);
	free(s);
	/* Without trailing slashes, but "/" stays. */
	while (b.len > 1 && b.s[b.len - 1] == '/')
		b.s[--b.len] = '\0';
	return wt_buf_detach(&b);
}

/*
 * The files git keeps in a worktree's admin directory while an operation
 * waits for the user, as git itself (wt-status.c) and libgit2's
 * git_repository_state look for them.
 */
static const struct {
	const char *file, *op;
} in_progress[] = {
	{ "rebase-merge", "rebase" },
	{ "rebase-apply", "rebase" },
	{ "MERGE_HEAD", "merge" },
	{ "CHERRY_PICK_HEAD", "cherry-pick" },
	{ "REVERT_HEAD", "revert" },
	{ "sequencer/todo", "sequencer" },   /* a cherry-pick or revert of several */
	{ "BISECT_LOG", "bisect" },
};

const char *
wt_git_in_progress(const char *admin)
{
	struct wt_buf b = WT_BUF_INIT;
	struct stat st;
	const char *op = NULL;
	size_t i;

	for (i = 0; !op && i < sizeof(in_progress) / sizeof(in_progress[0]); i++) {
		wt_buf_reset(&b);
		wt_buf_addf(&b, "%s/%s", admin, in_progress[i].file);
		if (lstat(b.s, &st) == 0)
			op = in_progress[i].op;
	}
	wt_buf_release(&b);
	return op;
}

int
wt_git_own_submodule(int fd, const char *modules)
{
	struct wt_buf b = WT_BUF_INIT;
	char self[64], *dir = NULL, *real = NULL, *mod = NULL;
	size_t n;
	int gfd, own = 0;
	ssize_t len;
	char buf[4096];

	/* A submodule's .git is a file: "gitdir: PATH", PATH often relative. */
	if ((gfd = openat(fd, ".git", O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return 0;
	len = read(gfd, buf, sizeof(buf) - 1);
	close(gfd);
	if (len <= 8 || strncmp(buf, "gitdir: ", 8) != 0)
		return 0;
	buf[len] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
	if (buf[8] != '/' && !(dir = realpath(self, NULL)))
		return 0;
	if (dir)
		wt_buf_addf(&b, "%s/%s", dir, buf + 8);
	else
		wt_buf_adds(&b, buf + 8);
	/*
	 * modules is resolved here, when a checkout asks: most worktrees have
	 * none, and a realpath costs a readlink per component.
	 */
	if ((real = realpath(b.s, NULL)) && (mod = realpath(modules, NULL))) {
		n = strlen(mod);
		own = strncmp(real, mod, n) == 0 && real[n] == '/';
	}
	wt_buf_release(&b);
	free(dir);
	free(real);
	free(mod);
	return own;
}

/* A commit id in hex: SHA-1 or SHA-256. */
static int
is_oid(const char *s)
{
	size_t n = strlen(s);

	return (n == 40 || n == 64) && strspn(s, "0123456789abcdef") == n;
}

/* The id that packed-refs in common gives name, or NULL. */
static char *
packed_ref(const char *common, const char *name)
{
	struct wt_buf b = WT_BUF_INIT;
	char *line = NULL, *id = NULL, *sp;
	size_t cap = 0;
	ssize_t len;
	FILE *f;

	wt_buf_addf(&b, "%s/packed-refs", common);
	f = fopen(b.s, "re");
	wt_buf_release(&b);
	if (!f)
		return NULL;
	while (!id && (len = getline(&line, &cap, f)) > 0) {
		if (line[len - 1] == '\n')
			line[--len] = '\0';
		/* "<id> <name>"; comments and peeled lines ("^<id>") have no name. */
		if (!(sp = strchr(line, ' ')) || strcmp(sp + 1, name) != 0)
			continue;
		*sp = '\0';
		if (is_oid(line))
			id = wt_xstrdup(line);
	}
	free(line);
	fclose(f);
	return id;
}

char *
wt_git_common_dir(const char *admin)
{
	struct wt_buf b = WT_BUF_INIT;
	char *cd;

	wt_buf_addf(&b, "%s/commondir", admin);
	cd = wt_read_small(b.s, 4096);
	wt_buf_reset(&b);
	if (cd && *cd)
		wt_buf_addf(&b, cd[0] == '/' ? "%s" : "%s/%s", cd[0] == '/' ? cd : admin, cd);
	free(cd);
	return b.len ? wt_buf_detach(&b) : (wt_buf_release(&b), NULL);
}

/*
 * wt_git_ref_id, and when head is not NULL the text of the first file it
 * reads (HEAD's: "ref: refs/heads/x" or an id) in *head, so that a caller
 * that wants both reads HEAD once. The common directory is read only when
 * a ref outside admin is needed: a detached HEAD costs one file.
 */
static char *
ref_id(const char *admin, const char *name, char **head)
{
	struct wt_buf b = WT_BUF_INIT;
	char *ref = wt_xstrdup(name), *s = NULL, *id = NULL, *common = NULL;
	int depth;

	if (head)
		*head = NULL;
	/* git follows at most five symbolic refs (SYMREF_MAXDEPTH). */
	for (depth = 0; depth < 5; depth++) {
		if (strstr(ref, "..") || (strcmp(ref, "HEAD") != 0 && strncmp(ref, "refs/", 5) != 0))
			break;
		/* HEAD and the per-worktree refs live in the admin directory. */
		wt_buf_reset(&b);
		if (strcmp(ref, "HEAD") == 0 || strncmp(ref, "refs/worktree/", 14) == 0 ||
		    strncmp(ref, "refs/bisect/", 12) == 0 || strncmp(ref, "refs/rewritten/", 15) == 0) {
			wt_buf_addf(&b, "%s/%s", admin, ref);
		} else {
			if (!common && !(common = wt_git_common_dir(admin)))
				common = wt_xstrdup(admin);
			wt_buf_addf(&b, "%s/%s", common, ref);
		}
		free(s);
		s = wt_read_small(b.s, 4096);
		if (head && depth == 0 && s)
			*head = wt_xstrdup(s);
		if (!s) {
			if (strcmp(ref, "HEAD") != 0) {
				if (!common && !(common = wt_git_common_dir(admin)))
					common = wt_xstrdup(admin);
				id = packed_ref(common, ref);
			}
			break;
		}
		if (strncmp(s, "ref: ", 5) == 0) {
			free(ref);
			ref = wt_xstrdup(s + 5);
			continue;
		}
		if (is_oid(s))
			id = wt_xstrdup(s);
		break;
	}
	free(s);
	free(ref);
	free(common);
	wt_buf_release(&b);
	return id;
}

char *
wt_git_ref_id(const char *admin, const char *name)
{
	return ref_id(admin, name, NULL);
}

char *
wt_git_head_id(const char *admin, char **head)
{
	return ref_id(admin, "HEAD", head);
}

/*
 * The variables by which git finds a repository, or a configuration, other
 * than the one around the directory it runs in, as git clears them itself
 * before it runs in another repository (local_repo_env, git rev-parse
 * --local-env-vars: GIT_CONFIG_PARAMETERS, which "git -c" sets, among
 * them). And those by which git reads the paths it is given otherwise
 * (GIT_LITERAL_PATHSPECS...: check-ignore refuses every path then) or
 * holds its answers back (GIT_FLUSH=0: git check-ignore answered into its
 * buffer while we waited).
 */
static const char *const repo_env[] = {
	"GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_COMMON_DIR", "GIT_CONFIG",
	"GIT_CONFIG_COUNT", "GIT_CONFIG_PARAMETERS", "GIT_DIR", "GIT_GRAFT_FILE",
	"GIT_IMPLICIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_INTERNAL_SUPER_PREFIX",
	"GIT_NO_REPLACE_OBJECTS", "GIT_OBJECT_DIRECTORY", "GIT_PREFIX",
	"GIT_REPLACE_REF_BASE", "GIT_SHALLOW_FILE", "GIT_WORK_TREE",
	"GIT_FLUSH", "GIT_GLOB_PATHSPECS", "GIT_ICASE_PATHSPECS",
	"GIT_LITERAL_PATHSPECS", "GIT_NOGLOB_PATHSPECS", NULL
};

static struct {
	pthread_once_t once;
	char **env;
} child = { PTHREAD_ONCE_INIT, NULL };

static void
child_env(void)
{
	extern char **environ;
	size_t n = 0, k = 0, i, len;
	int keep;

	while (environ[n])
		n++;
	child.env = wt_xmalloc((n + 1) * sizeof(*child.env));
	for (i = 0; i < n; i++) {
		const char *const *v;

		for (keep = 1, v = repo_env; keep && *v; v++)
			keep = !((len = strlen(*v)) && strncmp(environ[i], *v, len) == 0 &&
				 environ[i][len] == '=');
		if (keep)
			child.env[k++] = environ[i];
	}
	child.env[k] = NULL;
}

char *const *
wt_git_env(void)
{
	pthread_once(&child.once, child_env);
	return child.env;
}
