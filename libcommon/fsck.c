/*
 * fsck.c: what wt-fsck decides that others may ask too: git's two pointers
 * after a move, where MoAI-ADK keeps its registry, the SPEC ID a name carries.
 */
#include <archive.h>
#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <git2.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wt.h"

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

/* Replaces path with text and a newline. */
static int
write_small(const char *path, const char *text)
{
	struct wt_buf t = WT_BUF_INIT;
	int ret;

	wt_buf_addf(&t, "%s\n", text);
	ret = wt_write_atomic(path, t.s, t.len, 0644);
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
	struct stat st;
	const char *why;
	char *old = NULL;
	int ret = -1;

	/* A symbolic link is never a worktree's top: git's pointer is not written through one. */
	if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || !wt_worktree_names_admin(dir, admin))
		return -1;
	wt_buf_addf(&b, "%s/gitdir", admin);
	wt_buf_addf(&g, "%s/.git", dir);
	old = wt_read_small(b.s, 8192);
	if (write_small(b.s, g.s) == 0) {
		if (wt_target_verify(&t, dir, repo, &why) == 0) {
			wt_target_release(&t);
			ret = 0;
		} else if (old && write_small(b.s, old) < 0) {
			/* A repair that does not verify leaves git's pointer as it was. */
			warn("cannot put back '%s'", b.s);
		}
	}
	free(old);
	wt_buf_release(&b);
	wt_buf_release(&g);
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
