/* file.c: a small file replaced whole or not at all. */
#include <dirent.h>
#include <errno.h>

#include "wt.h"
#include "tap.h"

/* How many names in the scratch directory start with prefix. */
static int
count_prefix(const char *prefix)
{
	DIR *d = opendir(scratch());
	struct dirent *de;
	int n = 0;

	while (d && (de = readdir(d)))
		n += strncmp(de->d_name, prefix, strlen(prefix)) == 0;
	if (d)
		closedir(d);
	return n;
}

int
main(void)
{
	char *got;
	struct stat st;

	wt_setprogname("unit");
	write_str(tpath("f"), "old\n");
	ok(wt_write_atomic(tpath("f"), "new\n", 4, 0600) == 0, "replaced");
	got = read_file(tpath("f"), NULL);
	is_str(got, "new\n", "with the new content");
	free(got);
	ok(stat(tpath("f"), &st) == 0 && (st.st_mode & 0777) == 0600, "with the mode asked");
	ok(count_prefix("f.wt-tmp.") == 0, "no temporary left");

	/* A link at the path is replaced, not followed. */
	write_str(tpath("target"), "keep\n");
	ok(symlink(tpath("target"), tpath("link")) == 0, "a link in the way");
	ok(wt_write_atomic(tpath("link"), "x\n", 2, 0644) == 0, "replaced");
	got = read_file(tpath("target"), NULL);
	is_str(got, "keep\n", "what the link named is untouched");
	free(got);
	ok(lstat(tpath("link"), &st) == 0 && S_ISREG(st.st_mode), "the path is a file now");

	/* A directory that cannot be written: nothing replaced, nothing left. */
	ok(wt_write_atomic(tpath("nodir/f"), "x", 1, 0644) < 0 && errno == ENOENT,
	   "a missing directory: -1 with ENOENT");
	ok(wt_write_atomic(tpath("f"), "", 0, 0644) == 0, "an empty file is a file too");
	ok(stat(tpath("f"), &st) == 0 && st.st_size == 0, "of size 0");
	return done_testing();
}
