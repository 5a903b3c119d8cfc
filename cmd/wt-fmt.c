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

static const char *cols[MAXCOLS];
static int ncols;
static int colour;
static const char *home;

struct row {
	char *cell[MAXCOLS];
	const char *tint;    /* colour of the row's status, NULL for none */
	const char *tintcol; /* colour of the size cell */
};

static const char usage_text[] =
	"usage: wt-fmt [-H] [-o columns]\n"
	"       wt-fmt -h | --help | --version\n"
	"  -H                 write no header line\n"
	"  -o columns         show these comma-separated columns (any field names)\n"
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
	char *p, *save = NULL;

	ncols = 0;
	for (p = strtok_r(s, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
		if (ncols == MAXCOLS)
			errx(WT_EXIT_FATAL, "too many columns (at most %d)", MAXCOLS);
		cols[ncols++] = p;
	}
	if (!ncols)
		errx(WT_EXIT_FATAL, "no columns given");
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

static char *
cell(const struct wt_rec *r, const char *col)
{
	struct wt_buf b = WT_BUF_INIT;
	const char *raw;
	size_t n, hl;
	double v;
	char *s;
	int t, m;

	if (strcmp(col, "size") == 0 || strcmp(col, "apparent_size") == 0 ||
	    strcmp(col, "artifact_size") == 0 || strcmp(col, "freed") == 0 ||
	    strcmp(col, "archive_size") == 0)
		return wt_rec_num(r, col, &v) == 0 ? human(v) : wt_xstrdup("-");
	if (strcmp(col, "idle") == 0)
		return wt_rec_num(r, "idle_days", &v) == 0 ?
		       (wt_buf_addf(&b, "%.0fd", v), wt_buf_detach(&b)) : wt_xstrdup("-");
	if (strcmp(col, "status") == 0) {
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
	t = wt_rec_find(r, col);
	if (t < 0)
		return wt_xstrdup("-");
	if (wt_rec_tok_is_string(r, t))
		return clean(wt_rec_tokstr(r, t));
	raw = wt_rec_raw(r, col, &n);
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
	char *msg, *kind, *tot;
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
			row->cell[k] = cell(&r, cols[k]);
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

	for (k = 0; k < ncols; k++)
		w[k] = hflag ? 0 : width(cols[k]);
	for (i = 0; i < nrows; i++)
		for (k = 0; k < ncols; k++)
			if (width(rows[i].cell[k]) > w[k])
				w[k] = width(rows[i].cell[k]);
	if (!hflag) {
		for (k = 0; k < ncols; k++) {
			char *up = wt_xstrdup(cols[k]), *p;

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

			if (colour && strcmp(cols[k], "status") == 0)
				tint = rows[i].tint;
			if (colour && strcmp(cols[k], "size") == 0)
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
	if (sized > 1) {
		tot = human(total);
		printf("%d worktrees, %s in all\n", sized, tot);
		free(tot);
	}
	free(rows);
	wt_rec_release(&r);
	wt_reader_free(rd);
	wt_flush_stdout();
	return nerr ? WT_EXIT_RECORDS : WT_EXIT_OK;
}
