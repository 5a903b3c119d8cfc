/* wt-stale: pass the records of worktrees idle for at least DAYS days. */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wt.h"

enum {
	SIG_RECORD = 1,   /* last_accessed in the record */
	SIG_INDEX = 2,    /* mtime of the worktree's index in git's admin dir */
	SIG_REFLOG = 4,   /* newest entry of the HEAD reflog */
	SIG_FILES = 8,    /* newest mtime of the worktree's files (a walk) */
};

static struct {
	long days;
	int invert, archived, unknown, main, signals;
	time_t now;
} opt;

static const char usage_text[] =
	"usage: wt-stale [-amuvw] [-j jobs] [-S signals] [days]\n"
	"       wt-stale -h | --help | --version\n"
	"  -a                 judge archived records too\n"
	"  -j jobs            judge on jobs workers (1 to 256)\n"
	"  -m                 judge main worktrees too\n"
	"  -S signals         use these signals: record,index,reflog,files\n"
	"  -u                 pass the records that have no signal\n"
	"  -v                 pass the records idle for less than days instead\n"
	"  -w                 add the files signal\n"
	"  -h, --help         print this usage and exit\n"
	"      --version      print the version and exit\n"
	"  days               days idle that make a worktree stale: 30 or 30d\n";

static void
usage(void)
{
	wt_usage(usage_text);
}

static int
parse_signals(const char *s)
{
	char *dup = wt_xstrdup(s), *p, *save = NULL;
	int v = 0;

	for (p = strtok_r(dup, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
		if (strcmp(p, "record") == 0)
			v |= SIG_RECORD;
		else if (strcmp(p, "index") == 0)
			v |= SIG_INDEX;
		else if (strcmp(p, "reflog") == 0)
			v |= SIG_REFLOG;
		else if (strcmp(p, "files") == 0)
			v |= SIG_FILES;
		else
			errx(WT_EXIT_FATAL, "unknown signal '%s' (record, index, reflog, files)", p);
	}
	free(dup);
	if (!v)
		errx(WT_EXIT_FATAL, "no signal given");
	return v;
}

/* The time of the newest entry of a reflog: the last line's "<email> TIME ZONE". */
static int
reflog_time(const char *path, time_t *t)
{
	char buf[4096], *end, *gt, *line;
	ssize_t n;
	off_t size;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	size = lseek(fd, 0, SEEK_END);
	n = size < 0 ? -1 : pread(fd, buf, sizeof(buf) - 1,
				    size > (off_t)sizeof(buf) - 1 ? size - (off_t)sizeof(buf) + 1 : 0);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	line = strrchr(buf, '\n');
	line = line ? line + 1 : buf;
	if (!(gt = strchr(line, '>')))
		return -1;
	*t = (time_t)strtoll(gt + 1, &end, 10);
	return end == gt + 1 ? -1 : 0;
}

static struct wt_walker *walker;

/* The files signal: the newest mtime of anything in the tree. */
static int
newer(const struct wt_walk_ent *e, void *arg)
{
	time_t *newest = e->ctx;

	(void)arg;
	if (e->st && e->st->st_mtime > *newest)
		*newest = e->st->st_mtime;
	return WT_WALK_CONTINUE;
}

/* An unreadable corner only makes the signal older; it is no error here. */
static void
quiet(const struct wt_walk_ent *e, const char *what, int errnum, void *arg)
{
	(void)e;
	(void)what;
	(void)errnum;
	(void)arg;
}

static int
files_time(const char *path, time_t *t)
{
	struct wt_walk_ops ops = { .entry = newer, .error = quiet, .ctx_size = sizeof(time_t) };
	struct wt_walk *w = wt_walk_new(&ops);
	int i, rc = wt_walk_run(walker, w, path);
	time_t *slot;

	*t = 0;
	for (i = 0; rc == 0 && i < wt_walk_nslots(w); i++)
		if (*(slot = wt_walk_slot(w, i)) > *t)
			*t = *slot;
	wt_walk_free(w);
	return rc == 0 && *t ? 0 : -1;
}

static void
consider(time_t t, const char *by, time_t *best, const char **bestby)
{
	if (!*bestby || t > *best) {
		*best = t;
		*bestby = by;
	}
}

/* Decides one record: returns 1 to drop it, 0 to pass it (with its fields added). */
static int
judge(struct wt_rec *r, int worker, void *arg)
{
	struct wt_buf b = WT_BUF_INIT;
	const char *by = NULL;
	char *path = NULL, *admin = NULL;
	time_t best = 0, t;
	struct stat st;
	long idle;
	int stale, drop = 1, m;

	(void)worker;
	(void)arg;
	if (wt_rec_has_error(r))
		return 0;
	if (wt_rec_is_archived(r) && !opt.archived)
		return 1;
	/* The main worktree is never archived or removed: not passed unless asked. */
	if (!opt.main && wt_rec_bool(r, "main", &m) == 0 && m)
		return 1;
	if ((opt.signals & SIG_RECORD) && wt_rec_time(r, "last_accessed", 0, &t) == 0)
		consider(t, "last_accessed", &best, &by);
	if ((opt.signals & (SIG_INDEX | SIG_REFLOG | SIG_FILES)) &&
	    (path = wt_rec_str(r, "path")) && (admin = wt_git_admin_dir(path))) {
		if (opt.signals & SIG_INDEX) {
			wt_buf_addf(&b, "%s/index", admin);
			if (stat(b.s, &st) == 0)
				consider(st.st_mtime, "index", &best, &by);
		}
		if (opt.signals & SIG_REFLOG) {
			wt_buf_reset(&b);
			wt_buf_addf(&b, "%s/logs/HEAD", admin);
			if (reflog_time(b.s, &t) == 0)
				consider(t, "reflog", &best, &by);
		}
	}
	if ((opt.signals & SIG_FILES) && path && files_time(path, &t) == 0)
		consider(t, "files", &best, &by);
	if (!by) {
		drop = !opt.unknown;
		goto out;
	}
	idle = best >= opt.now ? 0 : (long)((opt.now - best) / 86400);
	stale = idle >= opt.days;
	if (stale == opt.invert)
		goto out;
	drop = 0;
	wt_rec_set_int(r, "idle_days", idle);
	wt_rec_set_time(r, "active_at", best);
	wt_rec_set_str(r, "active_by", by);
out:
	free(path);
	free(admin);
	wt_buf_release(&b);
	return drop;
}

int
main(int argc, char *argv[])
{
	struct wt_config cfg;
	struct wt_reader *rd;
	long errors;
	static const struct option longopts[] = {
		WT_LONGOPTS_STD,
		{ NULL, 0, NULL, 0 },
	};
	int c, jobs = 0;

	wt_setprogname(argv[0]);
	opt.signals = SIG_RECORD | SIG_INDEX | SIG_REFLOG;
	while ((c = getopt_long(argc, argv, "ahj:mS:uvw", longopts, NULL)) != -1)
		switch (c) {
		case 'a': opt.archived = 1; break;
		case 'm': opt.main = 1; break;
		case 'j': jobs = wt_parse_jobs(optarg); break;
		case 'S': opt.signals = parse_signals(optarg); break;
		case 'u': opt.unknown = 1; break;
		case 'v': opt.invert = 1; break;
		case 'w': opt.signals |= SIG_FILES; break;
		default: wt_opt_other(c, usage_text);
		}
	argc -= optind;
	argv += optind;
	if (argc > 1 || isatty(STDIN_FILENO))
		usage();
	wt_config_load(&cfg);
	opt.days = argc ? wt_parse_days(argv[0]) : cfg.stale_days;
	if (opt.days < 0)
		errx(WT_EXIT_FATAL, "bad number of days: '%s' (a whole number of days: 30 or 30d)",
		     argv[0]);
	if (!jobs)
		jobs = cfg.jobs;
	opt.now = wt_now();
	if (opt.signals & SIG_FILES)
		walker = wt_walker_new(jobs);
	rd = wt_reader_new(STDIN_FILENO, 0);
	/* Reading only the records needs no threads; the file signals do. */
	errors = wt_pool_run(rd, opt.signals == SIG_RECORD ? 1 : jobs, NULL, judge,
			     NULL, stdout);
	wt_reader_free(rd);
	if (walker)
		wt_walker_free(walker);
	wt_config_release(&cfg);
	wt_flush_stdout();
	return errors ? WT_EXIT_RECORDS : WT_EXIT_OK;
}
