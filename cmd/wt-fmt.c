/* wt-fmt: the human end of a pipe: records as an aligned table. */
#include <err.h>
#include <getopt.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wchar.h>

#include "wt.h"

#define MAXCOLS 32
#define MAXPARTS 8

/* A column: its name, the name's dotted parts, and what the run saw of it. */
struct col {
	const char *name;
	char *part[MAXPARTS];
	int nparts;
	int size;      /* a number of bytes: shown in units, totalled */
	int du;        /* a field wt-du measures: marked when it came from the cache */
	int seen;      /* some record has it */
	double total;  /* the sum of its numbers, records without error */
	int counted;   /* how many numbers that sum has */
};

static struct col cols[MAXCOLS];
static int ncols;
static int colour;
static int marked;
static const char *home;

/*
 * The fields of wt-record(5) and of the programs, and wt-fmt's own columns:
 * a column no record of the input has is still a column when it is one of
 * these (wt-ls | wt-fmt -o id,size before any wt-du); any other is a typo.
 */
static const char *const known[] = {
	"id", "path", "repo", "branch", "head", "status", "created_at",
	"last_accessed", "last_sync", "project", "locked", "prunable", "main",
	"archived", "archive", "error", "error.kind", "error.message", "error.tool",
	"error.context", "dirty", "dirty.modified", "dirty.untracked", "upstream",
	"ahead", "behind", "merged", "merged_reason", "idle", "idle_days",
	"active_at", "active_by", "size", "apparent_size", "files", "dirs",
	"artifacts", "artifact_size", "new_size", "unique_size",
	"artifact_unique_size", "size_level", "du_at", "du_errors", "du_cached",
	"archive_size", "archived_at", "archive_ref", "restore_note", "copy_of", "freed",
	"pruned", "pruned.dirs", "pruned.files", "last_pruned", "gc", "removed",
	"dir_gone", "backup_ref", "backup_archive", "branch_deleted", "skipped",
	"skipped.reason", "skipped.message", "sync", "sync.result", "sync.reason",
	"sync.from", "sync.to", "sync.upstream", "sync.ahead", "sync.behind",
	"sync.fetched_bytes", "would", "would.action", "would.backup",
	"would.archive", "would.delete_branch", "would.unregister", "would.freed",
	"would.pruned", "would.gc", "would.files", "would.bytes", "would.left_out",
	"would.ref", "would.resume", "would.path", "would.head", "would.branch",
	"would.entries", "would.dir_gone", "would.result", "would.upstream",
	"would.from", "would.ahead", "would.behind", "would.stash", "would.base",
	"would.base_commit", "total_syncs", "total_conflicts",
	"needs_manual_intervention", "copied", "adopted", "status_reason", "status_at",
	NULL
};

/* The sizes wt-du measures and keeps in its cache. */
static const char *const du_sizes[] = {
	"size", "apparent_size", "artifact_size", "unique_size",
	"artifact_unique_size", NULL
};

static int
in_list(const char *const *list, const char *s)
{
	for (; *list; list++)
		if (strcmp(*list, s) == 0)
			return 1;
	return 0;
}

/*
 * A number of bytes: a name whose last part is size, freed, bytes or ends
 * in _size or _bytes, and a kind of the artifacts object.
 */
static int
is_size(const struct col *c)
{
	const char *last = c->part[c->nparts - 1];
	size_t n = strlen(last);

	if (c->nparts == 2 && strcmp(c->part[0], "artifacts") == 0)
		return 1;
	if (strcmp(last, "size") == 0 || strcmp(last, "freed") == 0 ||
	    strcmp(last, "bytes") == 0)
		return 1;
	return (n > 5 && strcmp(last + n - 5, "_size") == 0) ||
	       (n > 6 && strcmp(last + n - 6, "_bytes") == 0);
}

struct row {
	char *cell[MAXCOLS];
	const char *tint;    /* colour of the row's status, NULL for none */
	const char *tintcol; /* colour of the size cell */
};

static const char usage_text[] =
	"usage: wt-fmt [-H] [-o columns]\n"
	"       wt-fmt -h | --help | --version\n"
	"  -H                 write no header line\n"
	"  -o columns         show these comma-separated columns (field names,\n"
	"                     a.b for the field b of the object a)\n"
	"  -h, --help         print this usage and exit\n"
	"      --version      print the version and exit\n";

static void
usage(void)
{
	wt_usage(usage_text);
}

static void
parse_cols(char *s)
{
	struct col *c;
	char *p, *q, *save = NULL, *save2;
	int k;

	for (k = 0; k < ncols; k++)
		for (c = &cols[k]; c->nparts; )
			free(c->part[--c->nparts]);
	memset(cols, 0, sizeof(cols));
	ncols = 0;
	for (p = strtok_r(s, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
		if (ncols == MAXCOLS)
			errx(WT_EXIT_FATAL, "too many columns (at most %d)", MAXCOLS);
		c = &cols[ncols++];
		c->name = p;
		if (*p == '.' || p[strlen(p) - 1] == '.' || strstr(p, ".."))
			errx(WT_EXIT_FATAL, "bad column '%s': an empty name between dots", p);
		q = wt_xstrdup(p);
		for (save2 = NULL, p = strtok_r(q, ".", &save2); p;
		     p = strtok_r(NULL, ".", &save2)) {
			if (c->nparts == MAXPARTS)
				errx(WT_EXIT_FATAL, "bad column '%s': more than %d names",
				     c->name, MAXPARTS);
			c->part[c->nparts++] = wt_xstrdup(p);
		}
		free(q);
		c->size = is_size(c);
		c->du = in_list(du_sizes, c->name);
	}
	if (!ncols)
		errx(WT_EXIT_FATAL, "no columns given");
}

/*
 * The token of a column's value: the field of that name, else, for a dotted
 * name, the walk into objects (would.freed is the freed of would); or -1.
 */
static int
lookup(const struct wt_rec *r, const struct col *c)
{
	int t, i;

	if ((t = wt_rec_find(r, c->name)) >= 0 || c->nparts == 1)
		return t;
	t = wt_rec_find(r, c->part[0]);
	for (i = 1; i < c->nparts && t >= 0; i++)
		t = wt_rec_find_in(r, t, c->part[i]);
	return t;
}

/* 0 and *v when token t is a JSON number; else -1. */
static int
tok_num(const struct wt_rec *r, int t, double *v)
{
	const char *s;
	size_t n;
	char buf[64];

	if (!wt_rec_tok_is_primitive(r, t) || !(s = wt_rec_tok_text(r, t, &n)) ||
	    !n || n >= sizeof(buf) || !strchr("-0123456789", s[0]))
		return -1;
	memcpy(buf, s, n);
	buf[n] = 0;
	*v = strtod(buf, NULL);
	return 0;
}

/* 1.5K, 230M, 1.2G: one decimal below 10, none above. */
static char *
human(double v)
{
	static const char units[] = "BKMGTP";
	struct wt_buf b = WT_BUF_INIT;
	int u = 0;

	while (v >= 1024 && u < 5) {
		v /= 1024;
		u++;
	}
	/* What rounds to 1024 is the next unit; what rounds to 10.0 takes no decimal. */
	if (u > 0 && u < 5 && v >= 1023.5) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		wt_buf_addf(&b, "%.0f", v);
	else if (v < 9.95)
		wt_buf_addf(&b, "%.1f%c", v, units[u]);
	else
		wt_buf_addf(&b, "%.0f%c", v, units[u]);
	return wt_buf_detach(&b);
}

/* A cell shows no control characters: a newline in a path becomes '?'. */
static char *
clean(char *s)
{
	char *p;

	for (p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return s;
}

/* dirty as counts: 2M 1U (modified, untracked), clean for none; else -1. */
static char *
dirty(const struct wt_rec *r, int t)
{
	struct wt_buf b = WT_BUF_INIT;
	double m = 0, u = 0;
	int hm, hu;

	hm = tok_num(r, wt_rec_find_in(r, t, "modified"), &m) == 0;
	hu = tok_num(r, wt_rec_find_in(r, t, "untracked"), &u) == 0;
	if (!hm && !hu)
		return NULL;
	if (m > 0)
		wt_buf_addf(&b, "%.0fM", m);
	if (u > 0)
		wt_buf_addf(&b, "%s%.0fU", m > 0 ? " " : "", u);
	if (m <= 0 && u <= 0)
		wt_buf_addf(&b, "clean");
	return wt_buf_detach(&b);
}

static char *
cell(const struct wt_rec *r, struct col *cl)
{
	struct wt_buf b = WT_BUF_INIT;
	const char *raw, *col = cl->name;
	size_t n, hl;
	double v;
	char *s;
	int t, m;

	t = lookup(r, cl);
	if (t >= 0)
		cl->seen = 1;
	if (cl->size) {
		if (tok_num(r, t, &v) < 0)
			return wt_xstrdup("-");
		if (!wt_rec_has_error(r)) {
			cl->total += v;
			cl->counted++;
		}
		s = human(v);
		if (cl->du && wt_rec_bool(r, "du_cached", &m) == 0 && m) {
			wt_buf_addf(&b, "%s*", s);
			free(s);
			marked = 1;
			return wt_buf_detach(&b);
		}
		return s;
	}
	if (strcmp(col, "dirty") == 0 && t >= 0 && (s = dirty(r, t)))
		return s;
	if (strcmp(col, "idle") == 0)
		return wt_rec_num(r, "idle_days", &v) == 0 ?
		       (wt_buf_addf(&b, "%.0fd", v), wt_buf_detach(&b)) : wt_xstrdup("-");
	if (strcmp(col, "status") == 0) {
		cl->seen = 1;
		if (wt_rec_has_error(r))
			return wt_xstrdup("error");
		if ((s = wt_rec_str(r, "status")))
			return clean(s);
		return wt_xstrdup(wt_rec_bool(r, "main", &m) == 0 && m ? "main" : "-");
	}
	if (strcmp(col, "branch") == 0 && wt_rec_is_null(r, "branch"))
		return wt_xstrdup("(detached)");
	if (strcmp(col, "path") == 0 && (s = wt_rec_str(r, "path"))) {
		hl = home ? strlen(home) : 0;
		if (hl > 1 && strncmp(s, home, hl) == 0 && (s[hl] == '/' || !s[hl])) {
			wt_buf_addf(&b, "~%s", s + hl);
			free(s);
			return clean(wt_buf_detach(&b));
		}
		return clean(s);
	}
	if (strcmp(col, "id") == 0 && wt_rec_find(r, "id") < 0) {
		/* A bad line is named by the line number of whoever found it. */
		t = wt_rec_find_in(r, wt_rec_find(r, "error"), "context");
		t = wt_rec_find_in(r, t, "line");
		if (wt_rec_tok_is_primitive(r, t) && (raw = wt_rec_tok_text(r, t, &n)))
			wt_buf_addf(&b, "line %.*s", (int)n, raw);
		else
			wt_buf_addf(&b, "line %ld", r->lineno);
		return wt_buf_detach(&b);
	}
	if (t < 0)
		return wt_xstrdup("-");
	if (wt_rec_tok_is_string(r, t))
		return clean(wt_rec_tokstr(r, t));
	raw = r->line + r->tok[t].start;
	n = (size_t)(r->tok[t].end - r->tok[t].start);
	return clean(wt_xstrndup(raw, n));
}

/* Display width of a UTF-8 string. */
static int
width(const char *s)
{
	mbstate_t st;
	wchar_t wc;
	size_t k;
	int w = 0, cw;

	memset(&st, 0, sizeof(st));
	while (*s) {
		k = mbrtowc(&wc, s, MB_CUR_MAX, &st);
		if (k == (size_t)-1 || k == (size_t)-2) {
			memset(&st, 0, sizeof(st));
			s++;
			w++;
			continue;
		}
		cw = wcwidth(wc);
		w += cw > 0 ? cw : 0;
		s += k;
	}
	return w;
}

static const char *
status_tint(const struct wt_rec *r)
{
	int t = wt_rec_find(r, "status");

	if (wt_rec_has_error(r))
		return "\033[31m";
	if (t >= 0 && wt_rec_tokeq(r, t, "stale"))
		return "\033[33m";
	if (t >= 0 && wt_rec_tokeq(r, t, "archived"))
		return "\033[2m";
	if (t >= 0 && wt_rec_tokeq(r, t, "merged"))
		return "\033[32m";
	return NULL;
}

static const char *
size_tint(const struct wt_rec *r)
{
	int t = wt_rec_find(r, "size_level");

	if (t >= 0 && wt_rec_tokeq(r, t, "critical"))
		return "\033[31m";
	if (t >= 0 && wt_rec_tokeq(r, t, "warning"))
		return "\033[33m";
	return NULL;
}

/*
 * The last line: how many records have a size, their sizes' sum (each inode
 * once) and the sum of every other size column, when more than one record
 * has a number there.
 */
static void
summary(int sized, double total)
{
	struct wt_buf b = WT_BUF_INIT;
	char *h;
	int k, n = sized;

	for (k = 0; k < ncols; k++)
		if (cols[k].size && strcmp(cols[k].name, "size") != 0 && cols[k].counted > n)
			n = cols[k].counted;
	if (n < 2)
		return;
	wt_buf_addf(&b, "%d worktrees", n);
	if (sized) {
		h = human(total);
		wt_buf_addf(&b, ", %s in all", h);
		free(h);
	}
	for (k = 0; k < ncols; k++) {
		if (!cols[k].size || !cols[k].counted || strcmp(cols[k].name, "size") == 0)
			continue;
		h = human(cols[k].total);
		wt_buf_addf(&b, ", %s %s", cols[k].name, h);
		free(h);
	}
	printf("%s\n", clean(b.s));
	wt_buf_release(&b);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		WT_LONGOPTS_STD,
		{ NULL, 0, NULL, 0 },
	};
	static char defcols[] = "id,status,branch,size,idle,path";
	struct wt_reader *rd;
	struct wt_rec r = WT_REC_INIT;
	struct row *rows = NULL, *row;
	size_t nrows = 0, i;
	int c, hflag = 0, w[MAXCOLS], k, rc, nerr = 0, sized = 0;
	double total = 0, v;
	char *msg, *kind;
	const char *e;

	wt_setprogname(argv[0]);
	setlocale(LC_CTYPE, "");
	parse_cols(defcols);
	while ((c = getopt_long(argc, argv, "Hho:", longopts, NULL)) != -1)
		switch (c) {
		case 'H': hflag = 1; break;
		case 'o': parse_cols(optarg); break;
		default: wt_opt_other(c, usage_text);
		}
	if (optind != argc || isatty(STDIN_FILENO))
		usage();
	home = getenv("HOME");
	colour = isatty(STDOUT_FILENO) && !((e = getenv("NO_COLOR")) && *e);

	rd = wt_reader_new(STDIN_FILENO, 0);
	while ((rc = wt_reader_next(rd, &r)) > 0) {
		rows = wt_xrealloc(rows, (nrows + 1) * sizeof(*rows));
		row = &rows[nrows++];
		memset(row, 0, sizeof(*row));
		for (k = 0; k < ncols; k++)
			row->cell[k] = cell(&r, &cols[k]);
		row->tint = status_tint(&r);
		row->tintcol = size_tint(&r);
		if (wt_rec_has_error(&r)) {
			/* The last column says what went wrong, so it is seen. */
			int t = wt_rec_find(&r, "error");

			nerr++;
			kind = wt_rec_tokstr(&r, wt_rec_find_in(&r, t, "kind"));
			msg = wt_rec_tokstr(&r, wt_rec_find_in(&r, t, "message"));
			free(row->cell[ncols - 1]);
			{
				struct wt_buf b = WT_BUF_INIT;

				wt_buf_addf(&b, "%s: %s", kind ? kind : "error", msg ? msg : "");
				row->cell[ncols - 1] = clean(wt_buf_detach(&b));
			}
			free(kind);
			free(msg);
		} else if (wt_rec_num(&r, "size", &v) == 0) {
			/* wt-du's new_size counts a file linked into several worktrees once. */
			wt_rec_num(&r, "new_size", &v);
			total += v;
			sized++;
		}
	}
	if (rc < 0)
		err(WT_EXIT_FATAL, "read");
	/* A typo is an error before any row: a column of nothing says nothing. */
	for (k = 0; k < ncols; k++)
		if (!cols[k].seen && !in_list(known, cols[k].name) &&
		    !(cols[k].nparts == 2 && strcmp(cols[k].part[0], "artifacts") == 0))
			errx(WT_EXIT_FATAL, "unknown column '%s': no record has it and "
			     "wt-record(5) names no such field", cols[k].name);

	for (k = 0; k < ncols; k++)
		w[k] = hflag ? 0 : width(cols[k].name);
	for (i = 0; i < nrows; i++)
		for (k = 0; k < ncols; k++)
			if (width(rows[i].cell[k]) > w[k])
				w[k] = width(rows[i].cell[k]);
	if (!hflag) {
		for (k = 0; k < ncols; k++) {
			char *up = wt_xstrdup(cols[k].name), *p;

			for (p = up; *p; p++)
				*p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
			printf(k + 1 < ncols ? "%s%*s  " : "%s\n", up,
			       k + 1 < ncols ? w[k] - width(up) : 0, "");
			free(up);
		}
	}
	for (i = 0; i < nrows; i++) {
		for (k = 0; k < ncols; k++) {
			const char *tint = NULL;

			if (colour && strcmp(cols[k].name, "status") == 0)
				tint = rows[i].tint;
			if (colour && strcmp(cols[k].name, "size") == 0)
				tint = rows[i].tintcol;
			if (colour && k == ncols - 1 && rows[i].tint && rows[i].tint[2] == '3' &&
			    rows[i].tint[3] == '1')
				tint = rows[i].tint;
			printf("%s%s%s", tint ? tint : "", rows[i].cell[k], tint ? "\033[0m" : "");
			if (k + 1 < ncols)
				printf("%*s  ", w[k] - width(rows[i].cell[k]), "");
			free(rows[i].cell[k]);
		}
		putchar('\n');
	}
	summary(sized, total);
	if (marked && !hflag)
		printf("* from wt-du's cache\n");
	free(rows);
	for (k = 0; k < ncols; k++)
		while (cols[k].nparts)
			free(cols[k].part[--cols[k].nparts]);
	wt_rec_release(&r);
	wt_reader_free(rd);
	wt_flush_stdout();
	return nerr ? WT_EXIT_RECORDS : WT_EXIT_OK;
}
