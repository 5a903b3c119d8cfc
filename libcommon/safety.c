/* safety.c: the safety contract's checks. */
#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wt.h"

void
wt_target_release(struct wt_target *t)
{
	free(t->path);
	free(t->admin);
	free(t->common);
	free(t->name);
	memset(t, 0, sizeof(*t));
}

/* realpath of dir/rel (rel absolute or relative to dir); a new string or NULL. */
static char *
resolve(const char *dir, const char *rel)
{
	struct wt_buf b = WT_BUF_INIT;
	char *r;

	if (rel[0] == '/')
		wt_buf_adds(&b, rel);
	else
		wt_buf_addf(&b, "%s/%s", dir, rel);
	r = realpath(b.s, NULL);
	wt_buf_release(&b);
	return r;
}

static int
same(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

int
wt_target_verify(struct wt_target *t, const char *path, const char *repo,
		 const char **why)
{
	struct wt_buf b = WT_BUF_INIT;
	struct stat st;
	char *s = NULL, *home = NULL, *back = NULL, *slash, *r = NULL;
	int ret = -1;

	memset(t, 0, sizeof(*t));
	*why = NULL;
	if (!path || path[0] != '/') {
		*why = "path is not absolute";
		goto out;
	}
	if (lstat(path, &st) < 0) {
		*why = errno == ENOENT ? "path does not exist" : "path cannot be read";
		goto out;
	}
	if (S_ISLNK(st.st_mode)) {
		*why = "path is a symbolic link";
		goto out;
	}
	if (!S_ISDIR(st.st_mode)) {
		*why = "path is not a directory";
		goto out;
	}
	if (!(t->path = realpath(path, NULL))) {
		*why = "path cannot be resolved";
		goto out;
	}
	home = getenv("HOME") ? realpath(getenv("HOME"), NULL) : NULL;
	if (strcmp(t->path, "/") == 0 || same(t->path, home)) {
		*why = "path is / or $HOME";
		goto out;
	}
	wt_buf_addf(&b, "%s/.git", t->path);
	if (lstat(b.s, &st) < 0) {
		*why = "not a git worktree (no .git)";
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		*why = "main worktree or a separate repository, not a linked worktree";
		goto out;
	}
	if (!S_ISREG(st.st_mode) || !(s = wt_read_small(b.s, 4096)) ||
	    strncmp(s, "gitdir: ", 8) != 0) {
		*why = "not a linked worktree (.git is not a gitdir file)";
		goto out;
	}
	if (!(t->admin = resolve(t->path, s + 8))) {
		*why = "its git admin directory is missing";
		goto out;
	}
	/* The admin entry is <common>/worktrees/<name>. */
	slash = strrchr(t->admin, '/');
	if (!slash || slash - t->admin < 10 || strncmp(slash - 10, "/worktrees", 10) != 0) {
		*why = "its .git does not point into a repository's worktrees";
		goto out;
	}
	t->name = wt_xstrdup(slash + 1);
	wt_buf_reset(&b);
	wt_buf_addf(&b, "%s/commondir", t->admin);
	free(s);
	if (!(s = wt_read_small(b.s, 4096)) || !(t->common = resolve(t->admin, s))) {
		*why = "its git admin directory has no commondir";
		goto out;
	}
	/* And git's admin entry must point back here: else it belongs elsewhere. */
	wt_buf_reset(&b);
	wt_buf_addf(&b, "%s/gitdir", t->admin);
	free(s);
	if (!(s = wt_read_small(b.s, 4096)) || !(back = resolve(t->admin, s))) {
		*why = "git's admin entry does not point back at this worktree";
		goto out;
	}
	wt_buf_reset(&b);
	wt_buf_addf(&b, "%s/.git", t->path);
	if (strcmp(back, b.s) != 0) {
		*why = "foreign checkout: git's admin entry points at another path";
		goto out;
	}
	if (repo && *repo && (!(r = realpath(repo, NULL)) || strcmp(r, t->common) != 0)) {
		*why = "foreign checkout: the worktree belongs to another repository";
		goto out;
	}
	if (lstat(t->path, &st) < 0) {
		*why = "path cannot be read";
		goto out;
	}
	t->dev = st.st_dev;
	t->ino = st.st_ino;
	ret = 0;
out:
	if (ret < 0)
		wt_target_release(t);
	wt_buf_release(&b);
	free(s);
	free(home);
	free(back);
	free(r);
	return ret;
}

const char *
wt_target_rule(const char *why)
{
	if (!why)
		return "verify";
	if (strstr(why, "symbolic link"))
		return "symlink";
	if (strncmp(why, "foreign", 7) == 0)
		return "foreign";
	if (strstr(why, "main worktree"))
		return "main";
	if (strstr(why, "$HOME"))
		return "home";
	if (strstr(why, "does not exist"))
		return "missing";
	return "not_linked";
}

int
wt_target_locked(const struct wt_target *t, char **reason)
{
	struct wt_buf b = WT_BUF_INIT;
	struct stat st;
	int locked;

	wt_buf_addf(&b, "%s/locked", t->admin);
	locked = lstat(b.s, &st) == 0;
	if (reason)
		*reason = locked ? wt_read_small(b.s, 4096) : NULL;
	wt_buf_release(&b);
	return locked;
}

/* The parent of process pid (a /proc name), or -1. */
static pid_t
parent_of(const char *pid)
{
	struct wt_buf b = WT_BUF_INIT;
	char *stat, *p;
	int ppid = -1;

	wt_buf_addf(&b, "/proc/%s/stat", pid);
	stat = wt_read_small(b.s, 4096);
	wt_buf_release(&b);
	/* "pid (comm) state ppid ...": comm may hold spaces and parentheses. */
	if (stat && (p = strrchr(stat, ')')) && sscanf(p + 1, " %*c %d", &ppid) != 1)
		ppid = -1;
	free(stat);
	return (pid_t)ppid;
}

/*
 * The children this process had when it began: the program that exec'd it
 * started them ("cd wt; sleep 60 & exec wt-rm"), they are a user's. Noted
 * before main, from the kernel's list (empty where it has none).
 */
static char *before;            /* " PID PID ... " */

__attribute__((constructor)) static void
note_children(void)
{
	struct wt_buf b = WT_BUF_INIT;
	char *s;

	wt_buf_addf(&b, "/proc/self/task/%ld/children", (long)getpid());
	s = wt_read_small(b.s, 1 << 16);
	wt_buf_reset(&b);
	if (s && *s) {
		wt_buf_addf(&b, " %s ", s);
		before = wt_buf_detach(&b);
	}
	free(s);
	wt_buf_release(&b);
}

/* Whether process pid (a /proc name) is one this process started. */
static int
started_here(const char *pid)
{
	char want[32];

	snprintf(want, sizeof(want), " %ld ", atol(pid));
	return parent_of(pid) == getpid() && !(before && strstr(before, want));
}

/*
 * Not a user's: a process this one started, such as the git that says
 * what the artifact rule ignores, from the worktree's top.
 */
pid_t
wt_path_in_use(const char *path)
{
	struct wt_buf b = WT_BUF_INIT;
	struct dirent *de;
	char link[PATH_MAX];
	size_t n = strlen(path);
	ssize_t k;
	pid_t pid = 0, self = getpid();
	DIR *d = opendir("/proc");

	if (!d)
		return 0;
	while (!pid && (de = readdir(d))) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9' || atoi(de->d_name) == self)
			continue;
		wt_buf_reset(&b);
		wt_buf_addf(&b, "/proc/%s/cwd", de->d_name);
		if ((k = readlink(b.s, link, sizeof(link) - 1)) < 0)
			continue;
		link[k] = '\0';
		if (strncmp(link, path, n) == 0 && (link[n] == '\0' || link[n] == '/') &&
		    !started_here(de->d_name))
			pid = (pid_t)atoi(de->d_name);
	}
	closedir(d);
	wt_buf_release(&b);
	return pid;
}

/* A mount point from mountinfo, its \ooo escapes undone, in place. */
static void
unescape_octal(char *s)
{
	char *o = s;

	for (; *s; s++, o++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' &&
		    s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*o = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else
			*o = *s;
	}
	*o = '\0';
}

int
wt_path_has_mounts(const char *path, char **first)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL, *p, *mp;
	size_t cap = 0, n = strlen(path);
	int i, found = 0;

	if (!f)
		return -1;
	while (!found && getline(&line, &cap, f) > 0) {
		/* id parent major:minor root MOUNTPOINT options ... */
		for (p = line, i = 0; i < 4 && (p = strchr(p, ' ')); i++)
			p++;
		if (!p)
			continue;
		mp = p;
		if ((p = strchr(mp, ' ')))
			*p = '\0';
		unescape_octal(mp);
		found = strncmp(mp, path, n) == 0 && mp[n] == '/' && mp[n + 1];
		if (found && first)
			*first = wt_xstrdup(mp);
	}
	free(line);
	fclose(f);
	return found;
}

/* A small file of git's admin entry, its line end removed: a new string or NULL. */
static char *
admin_line(const char *admin, const char *name)
{
	struct wt_buf b = WT_BUF_INIT;
	char *s;
	size_t n;

	wt_buf_addf(&b, "%s/%s", admin, name);
	s = wt_read_small(b.s, PATH_MAX + 16);
	wt_buf_release(&b);
	if (s)
		for (n = strlen(s); n && (s[n - 1] == '\n' || s[n - 1] == '\r'); )
			s[--n] = 0;
	return s;
}

long
wt_admin_of_path(const char *common, const char *path, char **admin, char **name)
{
	struct wt_buf want = WT_BUF_INIT, b = WT_BUF_INIT;
	struct dirent *de;
	char *real = NULL, *gitdir, *cd, *back;
	size_t n;
	long found = 0;
	DIR *d = NULL;

	if (admin)
		*admin = NULL;
	if (name)
		*name = NULL;
	if (!path || path[0] != '/' || !(real = realpath(common, NULL)))
		goto out;
	for (n = strlen(path); n > 1 && path[n - 1] == '/'; n--)
		;
	wt_buf_addf(&want, "%.*s/.git", (int)n, path);
	wt_buf_addf(&b, "%s/worktrees", real);
	if (!(d = opendir(b.s)))
		goto out;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		wt_buf_reset(&b);
		wt_buf_addf(&b, "%s/worktrees/%s", real, de->d_name);
		gitdir = admin_line(b.s, "gitdir");
		if (gitdir && strcmp(gitdir, want.s) == 0) {
			/* The entry must be the repository's: its commondir leads back. */
			size_t at = b.len;

			cd = admin_line(b.s, "commondir");
			wt_buf_addf(&b, "/%s", cd ? cd : "");
			back = cd ? realpath(cd[0] == '/' ? cd : b.s, NULL) : NULL;
			b.len = at;
			b.s[at] = 0;
			if (back && strcmp(back, real) == 0 && found++ == 0) {
				if (admin)
					*admin = wt_xstrdup(b.s);
				if (name)
					*name = wt_xstrdup(de->d_name);
			}
			free(back);
			free(cd);
		}
		free(gitdir);
	}
out:
	if (d)
		closedir(d);
	if (found != 1) {
		if (admin) {
			free(*admin);
			*admin = NULL;
		}
		if (name) {
			free(*name);
			*name = NULL;
		}
	}
	free(real);
	wt_buf_release(&want);
	wt_buf_release(&b);
	return found;
}
