/* reader.c: NDJSON input read in large blocks and split with memchr. */
#include <err.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wt.h"

#define BLOCK (256 * 1024)

struct wt_reader {
	int fd;
	char *buf;
	size_t cap, start, scan, end;  /* line starts at start; scanned to scan */
	size_t maxline;
	off_t base;                    /* input offset of buf[0] */
	off_t lineoff;
	long lineno;
	int eof;
	FILE *flush;                   /* flushed before a read that waits */
	void (*wait)(void *);          /* called then too */
	void *wait_arg;
};

struct wt_reader *
wt_reader_new(int fd, size_t maxline)
{
	struct wt_reader *rd = wt_xmalloc(sizeof(*rd));
	const char *e;

	memset(rd, 0, sizeof(*rd));
	rd->fd = fd;
	if (!maxline && (e = getenv("WT_MAX_LINE")) && *e) {
		/* A bad value would be a limit of SIZE_MAX: no bound at all. */
		long long v = wt_parse_size(e);

		if (v <= 0)
			errx(WT_EXIT_FATAL, "bad value for WT_MAX_LINE: '%s'", e);
		maxline = (size_t)v;
	}
	rd->maxline = maxline ? maxline : WT_MAX_LINE_DEFAULT;
	rd->cap = BLOCK;
	rd->buf = wt_xmalloc(rd->cap);
	return rd;
}

void
wt_reader_free(struct wt_reader *rd)
{
	if (!rd)
		return;
	free(rd->buf);
	free(rd);
}

void
wt_reader_flush_on_read(struct wt_reader *rd, FILE *out)
{
	rd->flush = out;
}

long
wt_reader_lineno(const struct wt_reader *rd)
{
	return rd->lineno;
}

void
wt_reader_on_wait(struct wt_reader *rd, void (*fn)(void *), void *arg)
{
	rd->wait = fn;
	rd->wait_arg = arg;
}

/* 1 when a read of fd would not wait: input is there, or its end. */
static int
ready(int fd)
{
	struct pollfd pfd = { fd, POLLIN, 0 };
	int n;

	while ((n = poll(&pfd, 1, 0)) < 0 && errno == EINTR)
		;
	return n > 0;
}

off_t
wt_reader_offset(const struct wt_reader *rd)
{
	return rd->lineoff;
}

/* Reads more input after end; 0 at end of input, -1 on error. */
static ssize_t
fill(struct wt_reader *rd)
{
	ssize_t n;

	if (rd->start > 0) {
		memmove(rd->buf, rd->buf + rd->start, rd->end - rd->start);
		rd->base += (off_t)rd->start;
		rd->end -= rd->start;
		rd->scan -= rd->start;
		rd->start = 0;
	}
	if (rd->cap - rd->end < BLOCK / 2) {
		rd->cap += BLOCK;
		rd->buf = wt_xrealloc(rd->buf, rd->cap);
	}
	/*
	 * What a filter holds goes out before it waits for more input, so
	 * records stream through a pipe fed slowly; input that is there is
	 * read first (a regular file never waits).
	 */
	if ((rd->flush || rd->wait) && !ready(rd->fd)) {
		if (rd->wait)
			rd->wait(rd->wait_arg);
		if (rd->flush && fflush(rd->flush) == EOF)
			err(WT_EXIT_FATAL, "write");
	}
	do
		n = read(rd->fd, rd->buf + rd->end, rd->cap - rd->end);
	while (n < 0 && errno == EINTR);
	if (n > 0)
		rd->end += (size_t)n;
	else if (n == 0)
		rd->eof = 1;
	return n;
}

/* Drops input up to and including the next newline. */
static int
discard_line(struct wt_reader *rd)
{
	char *nl;

	for (;;) {
		nl = memchr(rd->buf + rd->scan, '\n', rd->end - rd->scan);
		if (nl) {
			rd->start = rd->scan = (size_t)(nl - rd->buf) + 1;
			return 0;
		}
		rd->base += (off_t)rd->end;
		rd->start = rd->scan = rd->end = 0;
		if (rd->eof)
			return 0;
		if (fill(rd) < 0)
			return -1;
	}
}

int
wt_reader_line(struct wt_reader *rd, const char **line, size_t *n, int *toolong)
{
	char *nl;
	size_t len;

	*toolong = 0;
	for (;;) {
		nl = memchr(rd->buf + rd->scan, '\n', rd->end - rd->scan);
		if (nl) {
			len = (size_t)(nl - rd->buf) - rd->start;
			if (len > rd->maxline)
				goto toolong;
			*line = rd->buf + rd->start;
			rd->lineoff = rd->base + (off_t)rd->start;
			rd->start = rd->scan = (size_t)(nl - rd->buf) + 1;
			break;
		}
		rd->scan = rd->end;
		len = rd->end - rd->start;
		if (len > rd->maxline)
			goto toolong;
		if (rd->eof) {
			if (!len)
				return 0;
			*line = rd->buf + rd->start;
			rd->lineoff = rd->base + (off_t)rd->start;
			rd->start = rd->scan = rd->end;
			break;
		}
		if (fill(rd) < 0)
			return -1;
	}
	rd->lineno++;
	if (len && (*line)[len - 1] == '\r')
		len--;
	*n = len;
	return 1;
toolong:
	rd->lineno++;
	rd->lineoff = rd->base + (off_t)rd->start;
	*toolong = 1;
	*line = rd->buf + rd->start;
	*n = 0;
	if (discard_line(rd) < 0)
		return -1;
	/* Keep the buffer bounded after a long line. */
	if (rd->cap > 4 * BLOCK && rd->end - rd->start < BLOCK) {
		memmove(rd->buf, rd->buf + rd->start, rd->end - rd->start);
		rd->base += (off_t)rd->start;
		rd->end -= rd->start;
		rd->scan -= rd->start;
		rd->start = 0;
		rd->cap = 2 * BLOCK;
		rd->buf = wt_xrealloc(rd->buf, rd->cap);
	}
	return 1;
}

static int
blank(const char *s, size_t n)
{
	/* Not strchr: it would find the terminating NUL, and call NUL blank. */
	for (; n--; s++)
		if (*s != ' ' && *s != '\t' && *s != '\r')
			return 0;
	return 1;
}

int
wt_reader_next(struct wt_reader *rd, struct wt_rec *r)
{
	const char *line, *why;
	size_t n;
	int toolong, rc;
	struct wt_obj ctx;

	for (;;) {
		if ((rc = wt_reader_line(rd, &line, &n, &toolong)) <= 0)
			return rc;
		if (toolong || !blank(line, n))
			break;
	}
	if (toolong)
		why = "line too long";
	else if (wt_rec_parse(r, line, n, &why) == 0) {
		r->lineno = rd->lineno;
		return 1;
	}
	wt_rec_clear(r);
	r->lineno = rd->lineno;
	wt_obj_init(&ctx);
	wt_obj_int(&ctx, "line", rd->lineno);
	wt_rec_error(r, WT_E_INPUT, &ctx, "line %ld: %s", rd->lineno, why);
	wt_obj_release(&ctx);
	return 1;
}
