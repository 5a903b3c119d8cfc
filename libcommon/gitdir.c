/* gitdir.c: git's own files, read directly: no libgit2 for who needs only these. */
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
