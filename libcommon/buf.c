/* buf.c: growable buffers and allocation that never returns NULL. */
#include <err.h>
#include <stdlib.h>
#include <string.h>

#include "wt.h"

void *
wt_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		err(WT_EXIT_FATAL, "malloc");
	return p;
}

void *
wt_xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		err(WT_EXIT_FATAL, "realloc");
	return p;
}

char *
wt_xstrndup(const char *s, size_t n)
{
	char *p = wt_xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
wt_xstrdup(const char *s)
{
	return wt_xstrndup(s, strlen(s));
}

void
wt_buf_grow(struct wt_buf *b, size_t extra)
{
	size_t want = b->len + extra + 1;

	if (want <= b->cap)
		return;
	if (want < b->cap * 2)
		want = b->cap * 2;
	if (want < 64)
		want = 64;
	b->s = wt_xrealloc(b->s, want);
	b->cap = want;
	/* Always a string, also a fresh buffer nothing was added to. */
	b->s[b->len] = '\0';
}

void
wt_buf_add(struct wt_buf *b, const void *p, size_t n)
{
	wt_buf_grow(b, n);
	memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void
wt_buf_adds(struct wt_buf *b, const char *s)
{
	wt_buf_add(b, s, strlen(s));
}

void
wt_buf_addc(struct wt_buf *b, int c)
{
	wt_buf_grow(b, 1);
	b->s[b->len++] = (char)c;
	b->s[b->len] = '\0';
}

void
wt_buf_addf(struct wt_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	wt_buf_grow(b, 64);
	va_start(ap, fmt);
	n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		err(WT_EXIT_FATAL, "vsnprintf");
	if ((size_t)n >= b->cap - b->len) {
		wt_buf_grow(b, (size_t)n);
		va_start(ap, fmt);
		vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
}

void
wt_buf_reset(struct wt_buf *b)
{
	b->len = 0;
	if (b->s)
		b->s[0] = '\0';
}

void
wt_buf_release(struct wt_buf *b)
{
	free(b->s);
	b->s = NULL;
	b->len = b->cap = 0;
}

char *
wt_buf_detach(struct wt_buf *b)
{
	char *s = b->s ? b->s : wt_xstrdup("");

	b->s = NULL;
	b->len = b->cap = 0;
	return s;
}

const char *
wt_int_text(char buf[WT_INT_TEXT], long long v, size_t *n)
{
	char *p = buf + WT_INT_TEXT;
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;

	do
		*--p = (char)('0' + u % 10);
	while (u /= 10);
	if (v < 0)
		*--p = '-';
	*n = (size_t)(buf + WT_INT_TEXT - p);
	return p;
}

void
wt_buf_add_int(struct wt_buf *b, long long v)
{
	char s[WT_INT_TEXT];
	size_t n;
	const char *p = wt_int_text(s, v, &n);

	wt_buf_add(b, p, n);
}
