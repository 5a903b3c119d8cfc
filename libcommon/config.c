/* config.c: settings from the config file, the environment and options. */
#include <ctype.h>
#include <err.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wt.h"

long long
wt_parse_size(const char *s)
{
	char *end;
	double v;
	long long mul = 1;

	if (!s || !*s)
		return -1;
	errno = 0;
	v = strtod(s, &end);
	/* NaN passes v < 0 and the range check below; casting it is undefined. */
	if (errno || end == s || !(v >= 0))
		return -1;
	switch (toupper((unsigned char)*end)) {
	case '\0': break;
	case 'B': break;
	case 'K': mul = 1LL << 10; break;
	case 'M': mul = 1LL << 20; break;
	case 'G': mul = 1LL << 30; break;
	case 'T': mul = 1LL << 40; break;
	default: return -1;
	}
	if (*end) {
		end++;
		/* Accept 500M, 500MB, 500MiB. */
		if (*end == 'i' || *end == 'I')
			end++;
		if (*end == 'b' || *end == 'B')
			end++;
	}
	if (*end)
		return -1;
	if (v * (double)mul > 9e18)
		return -1;
	return (long long)(v * (double)mul);
}

long
wt_parse_long(const char *s, const char *what)
{
	char *end;
	long v;

	errno = 0;
	v = s && *s ? strtol(s, &end, 10) : -1;
	if (!s || !*s || errno || *end || v < 0)
		errx(WT_EXIT_FATAL, "bad %s: '%s'", what, s ? s : "");
	return v;
}

long
wt_parse_days(const char *s)
{
	char *end;
	long v;

	if (!s || !*s || !(*s >= '0' && *s <= '9'))
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	/* 30d is 30 days, as the other durations (cache_ttl) write it. */
	if (*end == 'd')
		end++;
	return errno || *end ? -1 : v;
}

/* n bytes as the sizes are written: 500M, 1G, 1536K; bytes when no unit divides it. */
static void
size_text(long long n, char *buf, size_t len)
{
	static const char units[] = "KMGT";
	int i;

	for (i = 3; i >= 0; i--)
		if (n > 0 && n % (1LL << (10 * (i + 1))) == 0) {
			snprintf(buf, len, "%lld%c", n >> (10 * (i + 1)), units[i]);
			return;
		}
	snprintf(buf, len, "%lld", n);
}

void
wt_check_size_levels(long long warning, long long critical)
{
	char w[32], c[32];

	if (warning <= critical)
		return;
	size_text(warning, w, sizeof(w));
	size_text(critical, c, sizeof(c));
	errx(WT_EXIT_FATAL, "the warning size %s is above the critical size %s: "
	     "a worktree would be critical before it is large", w, c);
}

int
wt_default_jobs(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > 4 ? 4 : (int)n;
}

int
wt_parse_jobs(const char *s)
{
	long v = wt_parse_long(s, "job count");

	if (v < 1 || v > 256)
		errx(WT_EXIT_FATAL, "bad job count: '%s' (1 to 256)", s);
	return (int)v;
}

/* Seconds from 300, 300s, 5m, 2h, 1d; -1 when invalid. */
static long
parse_secs(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || v < 0)
		return -1;
	switch (*end) {
	case '\0': case 's': break;
	case 'm': v *= 60; break;
	case 'h': v *= 3600; break;
	case 'd': v *= 86400; break;
	default: return -1;
	}
	return *end && end[1] ? -1 : v;
}

char *
wt_home(void)
{
	const char *e = getenv("WT_HOME");
	struct wt_buf b = WT_BUF_INIT;

	if (e && *e)
		return wt_xstrdup(e);
	if ((e = getenv("XDG_STATE_HOME")) && *e)
		wt_buf_addf(&b, "%s/wt", e);
	else
		wt_buf_addf(&b, "%s/.local/state/wt", getenv("HOME") ? getenv("HOME") : "/");
	return wt_buf_detach(&b);
}

enum kind { K_SIZE, K_COUNT, K_LONG, K_DAYS, K_JOBS, K_SECS, K_PCT, K_STR, K_DSECS, K_COMP, K_ARTIFACT };

/* What each kind accepts, for the message that refuses a value. */
static const char *const forms[] = {
	[K_SIZE] = "a size in bytes with K, M, G or T: 500M, 1G",
	[K_COUNT] = "a whole number, 0 or more",
	[K_LONG] = "a whole number, 0 or more",
	[K_DAYS] = "a whole number of days: 30 or 30d",
	[K_JOBS] = "1 to 256",
	[K_SECS] = "seconds: 300, 300s, 5m, 2h or 1d",
	[K_PCT] = "a percentage from 0 to 100: 90 or 90%",
	[K_STR] = "a string",
	[K_DSECS] = "seconds, fractions allowed: 10 or 2.5s",
	[K_COMP] = "zstd, gzip or none",
	[K_ARTIFACT] = "a name and its markers",
};

static const struct key {
	const char *name;
	enum kind kind;
	size_t off;
} keys[] = {
	{ "size_warning", K_SIZE, offsetof(struct wt_config, size_warning) },
	{ "size_critical", K_SIZE, offsetof(struct wt_config, size_critical) },
	{ "max_worktrees", K_COUNT, offsetof(struct wt_config, max_worktrees) },
	{ "stale_days", K_DAYS, offsetof(struct wt_config, stale_days) },
	{ "archive_after_days", K_DAYS, offsetof(struct wt_config, archive_after_days) },
	{ "cache_ttl", K_SECS, offsetof(struct wt_config, cache_ttl) },
	{ "retries", K_LONG, offsetof(struct wt_config, retries) },
	{ "jobs", K_JOBS, offsetof(struct wt_config, jobs) },
	{ "disk_threshold", K_PCT, offsetof(struct wt_config, disk_threshold) },
	{ "compression", K_COMP, offsetof(struct wt_config, compression) },
	{ "worktree_root", K_STR, offsetof(struct wt_config, worktree_root) },
	{ "registry", K_STR, offsetof(struct wt_config, registry) },
	{ "archive_dir", K_STR, offsetof(struct wt_config, archive_dir) },
	{ "lock_timeout", K_DSECS, offsetof(struct wt_config, lock_timeout) },
	{ "retry_delay", K_DSECS, offsetof(struct wt_config, retry_delay) },
	{ "fetch_timeout", K_DSECS, offsetof(struct wt_config, fetch_timeout) },
	{ "artifact", K_ARTIFACT, 0 },     /* artifact.c's, see wt_config_artifacts */
};

/* Sets key from its text; where names the source for messages. */
static void
set_key(struct wt_config *c, const struct key *k, const char *v, const char *where)
{
	char *p = (char *)c + k->off, *end;
	long long n;
	double d;

	switch (k->kind) {
	case K_SIZE:
		if ((n = wt_parse_size(v)) < 0)
			goto bad;
		*(long long *)(void *)p = n;
		return;
	case K_COUNT:
		errno = 0;
		n = strtoll(v, &end, 10);
		if (!*v || *end || errno || n < 0)
			goto bad;
		*(long long *)(void *)p = n;
		return;
	case K_COMP:
		if (strcmp(v, "zstd") && strcmp(v, "gzip") && strcmp(v, "none"))
			goto bad;
		free(*(char **)(void *)p);
		*(char **)(void *)p = wt_xstrdup(v);
		return;
	case K_LONG:
		errno = 0;
		n = strtoll(v, &end, 10);
		/* strtoll saturates: an overflow must not read as LONG_MAX. */
		if (!*v || *end || errno || n < 0 || n > LONG_MAX)
			goto bad;
		*(long *)(void *)p = (long)n;
		return;
	case K_DAYS:
		if ((n = wt_parse_days(v)) < 0)
			goto bad;
		*(long *)(void *)p = (long)n;
		return;
	case K_JOBS:
		n = strtoll(v, &end, 10);
		if (!*v || *end || n < 1 || n > 256)
			goto bad;
		*(int *)(void *)p = (int)n;
		return;
	case K_SECS:
		if ((n = parse_secs(v)) < 0)
			goto bad;
		*(long *)(void *)p = (long)n;
		return;
	case K_DSECS:
		d = strtod(v, &end);
		if (!*v || (*end && strcmp(end, "s")) || !(d >= 0))
			goto bad;
		*(double *)(void *)p = d;
		return;
	case K_PCT:
		d = strtod(v, &end);
		if (!*v || (*end && strcmp(end, "%")) || !(d >= 0 && d <= 100))
			goto bad;
		*(double *)(void *)p = d;
		return;
	case K_STR:
		free(*(char **)(void *)p);
		*(char **)(void *)p = wt_xstrdup(v);
		return;
	case K_ARTIFACT:
		return;
	}
bad:
	errx(WT_EXIT_FATAL, "%s: bad value for %s: '%s' (%s)", where, k->name, v, forms[k->kind]);
}

static const struct key *
lookup(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/*
 * Reads the file at path: its keys into c, or, with each, only its artifact
 * lines, quietly, to each.
 */
static void
load_file(struct wt_config *c, const char *path,
	  void (*each)(const char *value, const char *where))
{
	FILE *f = fopen(path, "r");
	char *line = NULL, *k, *v, *eq;
	size_t cap = 0;
	long n = 0;
	const struct key *key;
	struct wt_buf where = WT_BUF_INIT;

	if (!f) {
		if (errno != ENOENT && !each)
			warn("cannot read '%s'", path);
		return;
	}
	while (getline(&line, &cap, f) > 0) {
		n++;
		k = trim(line);
		if (!*k || *k == '#')
			continue;
		wt_buf_reset(&where);
		wt_buf_addf(&where, "%s:%ld", path, n);
		if (!(eq = strchr(k, '='))) {
			if (!each)
				warnx("%s: not a 'key = value' line", where.s);
			continue;
		}
		*eq = '\0';
		k = trim(k);
		/* A comment may follow a value after white space: "jobs = 2  # two". */
		for (v = eq + 1; (v = strchr(v, '#')); v++)
			if (v > eq + 1 && (v[-1] == ' ' || v[-1] == '\t')) {
				*v = '\0';
				break;
			}
		v = trim(eq + 1);
		key = lookup(k);
		if (each) {
			if (key && key->kind == K_ARTIFACT)
				each(v, where.s);
			continue;
		}
		if (!key) {
			warnx("%s: unknown key '%s'", where.s, k);
			continue;
		}
		set_key(c, key, v, where.s);
	}
	free(line);
	wt_buf_release(&where);
	fclose(f);
}

static void
config_path(struct wt_buf *b)
{
	const char *e;

	if ((e = getenv("WT_CONFIG")) && *e)
		wt_buf_adds(b, e);
	else if ((e = getenv("XDG_CONFIG_HOME")) && *e)
		wt_buf_addf(b, "%s/wt/config", e);
	else
		wt_buf_addf(b, "%s/.config/wt/config", getenv("HOME") ? getenv("HOME") : "/");
}

void
wt_config_artifacts(void (*fn)(const char *value, const char *where))
{
	struct wt_buf b = WT_BUF_INIT;

	config_path(&b);
	load_file(NULL, b.s, fn);
	wt_buf_release(&b);
}

void
wt_config_load(struct wt_config *c)
{
	struct wt_buf b = WT_BUF_INIT;
	const char *e;
	char env[64];
	size_t i, j;

	memset(c, 0, sizeof(*c));
	c->size_warning = 500LL << 20;
	c->size_critical = 1LL << 30;
	c->stale_days = 30;
	c->archive_after_days = 90;
	c->cache_ttl = 300;
	c->retries = 3;
	c->jobs = wt_default_jobs();
	c->disk_threshold = 90;
	c->lock_timeout = 10;
	c->retry_delay = 1;
	c->fetch_timeout = 60;
	c->compression = wt_xstrdup("zstd");

	config_path(&b);
	load_file(c, b.s, NULL);
	wt_buf_release(&b);
	/* The artifact lines are the table's: checked here, like every key. */
	wt_artifact_kinds();

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (keys[i].kind == K_ARTIFACT)
			continue;
		snprintf(env, sizeof(env), "WT_%s", keys[i].name);
		for (j = 3; env[j]; j++)
			env[j] = (char)toupper((unsigned char)env[j]);
		if ((e = getenv(env)) && *e)
			set_key(c, &keys[i], e, env);
	}
	c->home = wt_home();
}

void
wt_config_release(struct wt_config *c)
{
	free(c->compression);
	free(c->worktree_root);
	free(c->registry);
	free(c->archive_dir);
	free(c->home);
	memset(c, 0, sizeof(*c));
}

/* The compressions an archive may have, with their file extensions and levels. */
static const struct {
	const char *name, *ext;
	int min, max, dflt;
} compressions[] = {
	{ "zstd", ".tar.zst", 1, 19, 3 },
	{ "gzip", ".tar.gz", 1, 9, 6 },
	{ "none", ".tar", 0, 0, 0 },
};

void
wt_compression_pick(struct wt_compression *z, const struct wt_config *c,
		    const char *name, int level, int zstd_ok)
{
	size_t i, n = sizeof(compressions) / sizeof(compressions[0]);
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	if (!name)
		name = c->compression;
	for (i = 0; i < n && strcmp(compressions[i].name, name) != 0; i++)
		;
	if (i == n)
		errx(WT_EXIT_FATAL, "unknown compression '%s' (zstd, gzip, none)", name);
	if (i == 0 && !zstd_ok) {
		warnx("this libarchive cannot write zstd: writing gzip instead");
		i = 1;
		if (level > compressions[i].max)
			level = compressions[i].max;
	}
	if (level < 0)
		level = compressions[i].dflt;
	if (compressions[i].max && (level < compressions[i].min || level > compressions[i].max))
		errx(WT_EXIT_FATAL, "bad compression level: %d", level);
	z->name = compressions[i].name;
	z->ext = compressions[i].ext;
	z->level = level;
	z->threads = cpus < 1 ? 1 : (int)cpus;
}
