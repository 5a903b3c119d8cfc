/* gitdir.c: git's own files, read directly: no libgit2 for who needs only these. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "wt.h"

char *
wt_git_admin_dir(const char *path)
{
	struct wt_buf b = WT_BUF_INIT;
	struct stat st;
	char *s;

	wt_buf_addf(&b, "%s/.git", path);
	if (lstat(b.s, &st) < 0) {
		wt_buf_release(&b);
		return NULL;
	}
	if (S_ISDIR(st.st_mode))
		return wt_buf_detach(&b);
	s = S_ISREG(st.st_mode) ? wt_read_small(b.s, 4096) : NULL;
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
wt_git_ref_id(const char *admin, const char *name)
{
	struct wt_buf b = WT_BUF_INIT, common = WT_BUF_INIT;
	char *ref = wt_xstrdup(name), *s = NULL, *id = NULL, *cd;
	int depth;

	wt_buf_addf(&b, "%s/commondir", admin);
	if ((cd = wt_read_small(b.s, 4096)) && *cd)
		wt_buf_addf(&common, cd[0] == '/' ? "%s" : "%s/%s", cd[0] == '/' ? cd : admin, cd);
	else
		wt_buf_adds(&common, admin);
	free(cd);
	/* git follows at most five symbolic refs (SYMREF_MAXDEPTH). */
	for (depth = 0; depth < 5; depth++) {
		if (strstr(ref, "..") || (strcmp(ref, "HEAD") != 0 && strncmp(ref, "refs/", 5) != 0))
			break;
		/* HEAD and the per-worktree refs live in the admin directory. */
		wt_buf_reset(&b);
		if (strcmp(ref, "HEAD") == 0 || strncmp(ref, "refs/worktree/", 14) == 0 ||
		    strncmp(ref, "refs/bisect/", 12) == 0 || strncmp(ref, "refs/rewritten/", 15) == 0)
			wt_buf_addf(&b, "%s/%s", admin, ref);
		else
			wt_buf_addf(&b, "%s/%s", common.s, ref);
		free(s);
		if (!(s = wt_read_small(b.s, 4096))) {
			if (strcmp(ref, "HEAD") != 0)
				id = packed_ref(common.s, ref);
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
	wt_buf_release(&b);
	wt_buf_release(&common);
	return id;
}
