/* fsck.c: what a registry's directory holds that a finished run would not leave. */
#include <dirent.h>
#include <errno.h>
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
