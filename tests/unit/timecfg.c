/* timecfg.c: RFC 3339 time, WT_NOW, and the configuration file and environment. */
#include "wt.h"
#include "tap.h"

#define T0 1767693600L /* 2026-01-06T10:00:00Z */

static void
parses(const char *s, int flags, long want)
{
	time_t t = -12345;
	int rc = wt_time_parse(s, flags, &t);

	ok(rc == 0 && (long)t == want, "'%s'%s is %ld (got %d, %ld)", s,
	   flags ? " as MoAI local time" : "", want, rc, (long)t);
}

static void
refuses(const char *s)
{
	time_t t;

	is_int(wt_time_parse(s, 0, &t), -1, "'%s' is refused", s);
}

static void
set_tz(const char *tz)
{
	setenv("TZ", tz, 1);
	tzset();
}

static void
test_parse(void)
{
	time_t t;

	parses("2026-01-06T10:00:00Z", 0, T0);
	parses("2026-01-06T10:00:00.123456789Z", 0, T0);
	parses("2026-01-06T10:00:00.9Z", 0, T0);
	parses("2026-01-06T10:00:00,5Z", 0, T0);
	parses("2026-01-06t10:00:00z", 0, T0);
	parses("2026-01-06 10:00:00Z", 0, T0);
	parses("2026-01-06T12:00:00+02:00", 0, T0);
	parses("2026-01-06T12:00:00+0200", 0, T0);
	parses("2026-01-06T04:30:00-05:30", 0, T0);
	parses("2026-01-06T10:00:00-00:00", 0, T0);
	parses("2026-01-06T12:00:00.5+02:00", 0, T0);
	parses("2026-01-06T10:00Z", 0, T0);
	parses("2026-01-06T10:00:00", 0, T0);
	parses("2026-01-06", 0, T0 - 10 * 3600);
	parses("2024-02-29T12:00:00Z", 0, 1709208000L);
	parses("1999-12-31T23:59:59Z", 0, 946684799L);
	parses("2026-01-07T01:00:00+15:00", 0, T0);

	refuses("");
	refuses("2026");
	refuses("2026-01");
	refuses("2026-1-06T10:00:00Z");
	refuses("2026-13-01T10:00:00Z");
	refuses("2026-00-10T10:00:00Z");
	refuses("2026-01-00T10:00:00Z");
	refuses("2026-01-32T10:00:00Z");
	refuses("2026-02-30T10:00:00Z");
	refuses("2025-02-29T10:00:00Z");
	refuses("2026-04-31T10:00:00Z");
	refuses("2026-01-06T24:00:00Z");
	refuses("2026-01-06T10:60:00Z");
	refuses("2026-01-06T10:00:61Z");
	refuses("2026-01-06T10:00:00.Z");
	refuses("2026-01-06T10:00:00Zjunk");
	refuses("2026-01-06T10:00:00+2");
	refuses("2026-01-06T10:00:00+24:00");
	refuses("2026-01-06T10:00:00+02:60");
	refuses("2026-01-06T10");
	refuses("2026-01-06X10:00:00Z");
	refuses(" 2026-01-06T10:00:00Z");
	is_int(wt_time_parse(NULL, 0, &t), -1, "NULL is refused");
}

static void
test_localz(void)
{
	/* POSIX TZ strings need no zoneinfo files. */
	set_tz("EST5EDT,M3.2.0,M11.1.0");
	parses("2026-01-06T10:00:00Z", WT_TIME_LOCALZ, T0 + 5 * 3600);
	parses("2026-07-06T10:00:00Z", WT_TIME_LOCALZ, 1783332000L + 4 * 3600);
	parses("2026-01-06T10:00:00.654321Z", WT_TIME_LOCALZ, T0 + 5 * 3600);
	parses("2026-01-06T10:00:00", WT_TIME_LOCALZ, T0 + 5 * 3600);
	parses("2026-01-06T12:00:00+02:00", WT_TIME_LOCALZ, T0);
	parses("2026-01-06T10:00:00Z", 0, T0);
	set_tz("JST-9");
	parses("2026-01-06T10:00:00Z", WT_TIME_LOCALZ, T0 - 9 * 3600);
	parses("2026-01-06t10:00:00z", WT_TIME_LOCALZ, T0 - 9 * 3600);
	set_tz("UTC");
	parses("2026-01-06T10:00:00Z", WT_TIME_LOCALZ, T0);
}

static void
test_fmt(void)
{
	char buf[40];

	set_tz("JST-9");
	is_str(wt_time_fmt(T0, buf), "2026-01-06T10:00:00Z", "wt_time_fmt writes UTC whatever TZ");
	set_tz("UTC");
	is_str(wt_time_fmt(0, buf), "1970-01-01T00:00:00Z", "wt_time_fmt of the epoch");
	is_str(wt_time_fmt(-1, buf), "1969-12-31T23:59:59Z", "wt_time_fmt before the epoch");
}

static void
bad_now(void *arg)
{
	setenv("WT_NOW", arg, 1);
	printf("%ld\n", (long)wt_now());
}

static void
test_now(void)
{
	time_t real = time(NULL), t;
	char *err;
	int st;

	setenv("WT_NOW", "2026-06-01T00:00:00Z", 1);
	is_int(wt_now(), 1780272000L, "WT_NOW in RFC 3339");
	setenv("WT_NOW", "2026-06-01T02:00:00+02:00", 1);
	is_int(wt_now(), 1780272000L, "WT_NOW with an offset");
	setenv("WT_NOW", "1767693600", 1);
	is_int(wt_now(), T0, "WT_NOW in seconds since the epoch");
	setenv("WT_NOW", "", 1);
	t = wt_now();
	ok(t >= real && t <= real + 60, "an empty WT_NOW is now");
	unsetenv("WT_NOW");
	t = wt_now();
	ok(t >= real && t <= real + 60, "no WT_NOW is now");
	st = run_child(bad_now, "yesterday", &err);
	ok(st == 2 && has(err, "WT_NOW"), "WT_NOW=yesterday: exit 2 naming it (%d: %s)", st, err);
	free(err);
	st = run_child(bad_now, "2026-02-30T00:00:00Z", &err);
	ok(st == 2 && has(err, "WT_NOW"), "WT_NOW on a day that does not exist: exit 2 (%d: %s)",
	   st, err);
	free(err);
}

static struct wt_config cfg;

static void
test_defaults(void)
{
	wt_config_load(&cfg);
	ok(cfg.size_warning == 500LL << 20 && cfg.size_critical == 1LL << 30 &&
	   cfg.stale_days == 30 && cfg.archive_after_days == 90 && cfg.cache_ttl == 300 &&
	   cfg.retries == 3 && cfg.disk_threshold == 90 && cfg.lock_timeout == 10 &&
	   cfg.max_worktrees == 0, "the defaults of DESIGN.md");
	is_int(cfg.jobs, wt_default_jobs(), "jobs defaults to min(CPUs, 4)");
	ok(wt_default_jobs() >= 1 && wt_default_jobs() <= 4, "which is 1 to 4");
	is_str(cfg.compression, "zstd", "compression defaults to zstd");
	ok(!cfg.registry && !cfg.worktree_root, "no registry or worktree_root by default");
	is_str(cfg.home, tpath(".local/state/wt"), "WT_HOME defaults to ~/.local/state/wt");
	wt_config_release(&cfg);
}

static const char *const full =
	"# a comment\n"
	"\n"
	"  size_warning = 100M\n"
	"size_critical=2G\n"
	"max_worktrees = 50\n"
	"\tstale_days\t=\t7\t\n"
	"archive_after_days = 60\n"
	"cache_ttl = 5m\n"
	"retries = 5\n"
	"jobs = 2\n"
	"disk_threshold = 80%\n"
	"compression = gzip\n"
	"worktree_root = /srv/wt trees\n"
	"registry = /srv/reg.ndjson\n"
	"lock_timeout = 2.5s\n";

static void
test_file(void)
{
	char *dir = tpath("cfg/wt");

	mkdir(tpath("cfg"), 0755);
	mkdir(dir, 0755);
	write_str(tpath("cfg/wt/config"), full);
	setenv("XDG_CONFIG_HOME", tpath("cfg"), 1);
	wt_config_load(&cfg);
	ok(cfg.size_warning == 100LL << 20 && cfg.size_critical == 2LL << 30 &&
	   cfg.max_worktrees == 50, "sizes from the file");
	ok(cfg.stale_days == 7 && cfg.archive_after_days == 60 && cfg.retries == 5 &&
	   cfg.jobs == 2, "numbers from the file, white space around them ignored");
	ok(cfg.cache_ttl == 300 && cfg.disk_threshold == 80 && cfg.lock_timeout == 2.5,
	   "durations and percentages from the file");
	ok(cfg.compression && strcmp(cfg.compression, "gzip") == 0 && cfg.worktree_root &&
	   strcmp(cfg.worktree_root, "/srv/wt trees") == 0 && cfg.registry &&
	   strcmp(cfg.registry, "/srv/reg.ndjson") == 0,
	   "strings from the file, inner spaces kept");
	wt_config_release(&cfg);

	setenv("WT_SIZE_WARNING", "1G", 1);
	setenv("WT_STALE_DAYS", "9", 1);
	setenv("WT_JOBS", "3", 1);
	setenv("WT_COMPRESSION", "none", 1);
	setenv("WT_REGISTRY", "/env/reg.ndjson", 1);
	setenv("WT_CACHE_TTL", "2h", 1);
	setenv("WT_RETRIES", "", 1);
	setenv("WT_HOME", "/env/home", 1);
	wt_config_load(&cfg);
	ok(cfg.size_warning == 1LL << 30 && cfg.stale_days == 9 && cfg.jobs == 3 &&
	   cfg.cache_ttl == 7200, "WT_* variables override the file");
	ok(strcmp(cfg.compression, "none") == 0 && strcmp(cfg.registry, "/env/reg.ndjson") == 0,
	   "WT_COMPRESSION and WT_REGISTRY override the file");
	ok(cfg.retries == 5 && cfg.size_critical == 2LL << 30,
	   "keys not in the environment (or empty there) keep the file's value");
	is_str(cfg.home, "/env/home", "WT_HOME sets the state directory");
	wt_config_release(&cfg);
	unsetenv("WT_SIZE_WARNING");
	unsetenv("WT_STALE_DAYS");
	unsetenv("WT_JOBS");
	unsetenv("WT_COMPRESSION");
	unsetenv("WT_REGISTRY");
	unsetenv("WT_CACHE_TTL");
	unsetenv("WT_RETRIES");
	unsetenv("WT_HOME");

	write_str(tpath("other"), "retries = 7  # seven\nworktree_root = /srv/a#b\n"
				  "stale_days = 11\n");
	setenv("WT_CONFIG", tpath("other"), 1);
	wt_config_load(&cfg);
	ok(cfg.stale_days == 11 && cfg.size_warning == 500LL << 20,
	   "WT_CONFIG names another file, read instead");
	ok(cfg.retries == 7 && cfg.worktree_root && strcmp(cfg.worktree_root, "/srv/a#b") == 0,
	   "a comment after a value goes; a # inside a value stays");
	wt_config_release(&cfg);
	unsetenv("WT_CONFIG");

	setenv("XDG_STATE_HOME", "/xdg/state", 1);
	wt_config_load(&cfg);
	is_str(cfg.home, "/xdg/state/wt", "WT_HOME defaults to $XDG_STATE_HOME/wt");
	wt_config_release(&cfg);
	unsetenv("XDG_STATE_HOME");
}

static void
test_warnings(void)
{
	char *err;

	write_str(tpath("cfg/wt/config"),
		  "colour = yes\nstale_days = 12\nnonsense line\nsize_warning = 1K\n");
	stderr_begin();
	wt_config_load(&cfg);
	err = stderr_end();
	ok(has(err, "config:1: unknown key 'colour'"), "an unknown key warns with file and line");
	ok(has(err, "config:3: not a 'key = value' line"), "a line without '=' warns");
	ok(cfg.stale_days == 12 && cfg.size_warning == 1024,
	   "and the keys around them are still read");
	free(err);
	wt_config_release(&cfg);
}

static void
load_config(void *arg)
{
	(void)arg;
	wt_config_load(&cfg);
}

/* A config file (NULL: none) and one environment variable; load must exit 2. */
static void
bad(const char *file, const char *var, const char *val, const char *msg)
{
	char *err;
	int st;

	if (file)
		write_str(tpath("cfg/wt/config"), file);
	else
		unlink(tpath("cfg/wt/config"));
	if (var)
		setenv(var, val, 1);
	st = run_child(load_config, NULL, &err);
	if (var)
		unsetenv(var);
	ok(st == 2 && has(err, msg), "%s%s%s: exit 2 with '%s' (%d: %s)",
	   var ? var : "the config file", var ? "=" : "", var ? val : "", msg, st, err);
	free(err);
}

static void
test_bad_values(void)
{
	bad("stale_days = soon\n", NULL, NULL, "config:1: bad value for stale_days: 'soon'");
	bad("# x\njobs = 0\n", NULL, NULL, "config:2: bad value for jobs: '0'");
	bad("stale_days = 99999999999999999999\n", NULL, NULL, "bad value for stale_days");
	bad("max_worktrees = 99999999999999999999\n", NULL, NULL, "bad value for max_worktrees");
	bad("size_warning = lots\n", NULL, NULL, "bad value for size_warning");
	bad("compression = lz4\n", NULL, NULL, "bad value for compression: 'lz4'");
	bad("disk_threshold = 120%\n", NULL, NULL, "bad value for disk_threshold");
	bad(NULL, "WT_SIZE_WARNING", "12Q", "WT_SIZE_WARNING: bad value for size_warning: '12Q'");
	bad(NULL, "WT_JOBS", "0", "WT_JOBS: bad value for jobs");
	bad(NULL, "WT_JOBS", "257", "WT_JOBS: bad value for jobs");
	bad(NULL, "WT_RETRIES", "-1", "WT_RETRIES: bad value for retries");
	bad(NULL, "WT_CACHE_TTL", "5x", "WT_CACHE_TTL: bad value");
	bad(NULL, "WT_CACHE_TTL", "5ms", "WT_CACHE_TTL: bad value");
	bad(NULL, "WT_LOCK_TIMEOUT", "-1", "WT_LOCK_TIMEOUT: bad value");
	bad(NULL, "WT_DISK_THRESHOLD", "101", "WT_DISK_THRESHOLD: bad value");
	bad("stale_days = 5\n", "WT_STALE_DAYS", "five", "WT_STALE_DAYS: bad value");
}

static void
size_is(const char *s, long long want)
{
	is_int(wt_parse_size(s), want, "wt_parse_size('%s')", s);
}

static void
parse_long(void *arg)
{
	printf("%ld\n", wt_parse_long(arg, "count"));
}

static void
parse_jobs(void *arg)
{
	printf("%d\n", wt_parse_jobs(arg));
}

static void
test_parsers(void)
{
	static const char *const badlong[] = { "-1", "12x", "", "99999999999999999999" };
	static const char *const badjobs[] = { "0", "257", "two" };
	size_t i;
	char *err;
	int st;

	size_is("500M", 500LL << 20);
	size_is("1G", 1LL << 30);
	size_is("2T", 2LL << 40);
	size_is("1024", 1024);
	size_is("10B", 10);
	size_is("1.5K", 1536);
	size_is("500MiB", 500LL << 20);
	size_is("500MB", 500LL << 20);
	size_is("500mb", 500LL << 20);
	size_is("0", 0);
	size_is("", -1);
	size_is("-1", -1);
	size_is("1X", -1);
	size_is("M", -1);
	size_is("1MM", -1);
	size_is("1 M", -1);
	size_is("nan", -1);
	size_is("inf", -1);
	size_is("1e30", -1);
	is_int(wt_parse_size(NULL), -1, "wt_parse_size(NULL)");

	is_int(wt_parse_long("12", "count"), 12, "wt_parse_long('12')");
	for (i = 0; i < sizeof(badlong) / sizeof(badlong[0]); i++) {
		st = run_child(parse_long, (void *)badlong[i], &err);
		ok(st == 2 && has(err, "bad count"), "wt_parse_long('%s'): exit 2 (%d: %s)",
		   badlong[i], st, err);
		free(err);
	}
	is_int(wt_parse_jobs("4"), 4, "wt_parse_jobs('4')");
	for (i = 0; i < sizeof(badjobs) / sizeof(badjobs[0]); i++) {
		st = run_child(parse_jobs, (void *)badjobs[i], &err);
		ok(st == 2 && has(err, "bad job count"), "wt_parse_jobs('%s'): exit 2 (%d: %s)",
		   badjobs[i], st, err);
		free(err);
	}
}

int
main(void)
{
	wt_setprogname("unit");
	clean_env();
	test_parse();
	test_localz();
	test_fmt();
	test_now();
	test_defaults();
	test_file();
	test_warnings();
	test_bad_values();
	test_parsers();
	return done_testing();
}
