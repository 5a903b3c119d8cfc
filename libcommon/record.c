/* record.c: reading and editing one record, a JSON object on one line. */
#include <err.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "wt.h"

void
wt_rec_release(struct wt_rec *r)
{
	free(r->line);
	free(r->tok);
	memset(r, 0, sizeof(*r));
}

/* The index of the token after the subtree rooted at t. */
static int
skip(const struct wt_rec *r, int t)
{
	int end = r->tok[t].end, i = t + 1;

	while (i < r->ntok && r->tok[i].start < end)
		i++;
	return i;
}

/* The bits set in x, without the library call a CPU with no popcnt takes. */
static inline int
bits(uint64_t x)
{
	x -= (x >> 1) & 0x5555555555555555ULL;
	x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
	x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
	return (int)((x * 0x0101010101010101ULL) >> 56);
}

/* 1 when the key tokens a and b of line name the same key, escapes decoded. */
static int
same_key(const jsmntok_t *tok, const char *line, int a, int b)
{
	const char *p = line + tok[a].start, *q = line + tok[b].start;
	size_t n = (size_t)(tok[a].end - tok[a].start), m = (size_t)(tok[b].end - tok[b].start);
	char *u, *v;
	int eq;

	if (!memchr(p, '\\', n) && !memchr(q, '\\', m))
		return n == m && memcmp(p, q, n) == 0;
	u = wt_json_unescape(p, n);
	v = wt_json_unescape(q, m);
	eq = strcmp(u, v) == 0;
	free(u);
	free(v);
	return eq;
}

/* 1 when the object of tok[0..ntok) has a top-level key twice; out of line, as rarely asked. */
static __attribute__((noinline, cold)) int
has_dup_key(const jsmntok_t *tok, int ntok, const char *line)
{
	int keys[128], *k = keys, nk = 0, i, j, dup = 0;

	if (tok[0].size > (int)(sizeof(keys) / sizeof(keys[0])))
		k = wt_xmalloc(sizeof(*k) * (size_t)tok[0].size);
	/* The top-level keys are the tokens whose parent is the object. */
	for (i = 1; i < ntok; i++)
		if (tok[i].parent == 0)
			k[nk++] = i;
	for (i = 0; !dup && i < nk; i++)
		for (j = i + 1; !dup && j < nk; j++)
			dup = same_key(tok, line, k[i], k[j]);
	if (k != keys)
		free(k);
	return dup;
}

/*
 * Checks and tokenizes line[0..n) in one pass, growing the token array.
 * Returns 0, or -1 with *why set when the text is not a valid object, or
 * when keys is set and a top-level key is there twice. An edit makes no
 * key twice, so only what is read needs that look.
 */
static int
tokenize_text(struct wt_rec *r, const char *line, size_t n, int keys, const char **why)
{
	struct wt_json_info info;
	int k;

	/* A record of wt-record(5) with the programs' fields takes about 40. */
	if (r->tokcap == 0) {
		r->tokcap = 64;
		r->tok = wt_xmalloc(sizeof(*r->tok) * (size_t)r->tokcap);
	}
	while ((k = wt_json_tokens(line, n, r->tok, r->tokcap, &info, why)) > r->tokcap) {
		r->tokcap = k;
		r->tok = wt_xrealloc(r->tok, sizeof(*r->tok) * (size_t)r->tokcap);
	}
	if (k < 0)
		return -1;
	/*
	 * Keys with as many bits as there are keys are all different: only a
	 * record where two share a bit, or a key may be escaped, needs a look.
	 */
	if (keys && (info.esc || bits(info.keys) != r->tok[0].size) &&
	    has_dup_key(r->tok, k, line)) {
		*why = "duplicate key";
		return -1;
	}
	r->ntok = k;
	r->keys = info.keys;
	/* Keys without escapes compare as bytes (see tokeqn). */
	r->esc = info.esc;
	return 0;
}

/* Tokenizes r->line again after an edit; the text is valid by construction. */
static void
tokenize(struct wt_rec *r)
{
	const char *why;

	if (tokenize_text(r, r->line, r->len, 0, &why) < 0)
		errx(WT_EXIT_FATAL, "internal error: an edit made invalid JSON (%s)", why);
}

static void
set_text(struct wt_rec *r, const char *text, size_t n)
{
	/* Room for the fields a program appends, without a realloc. */
	if (n + 1 > r->cap) {
		r->cap = n + 1 + n / 2 < 256 ? 256 : n + 1 + n / 2;
		free(r->line);
		r->line = wt_xmalloc(r->cap);
	}
	memmove(r->line, text, n);
	r->line[n] = '\0';
	r->len = n;
}

int
wt_rec_parse(struct wt_rec *r, const char *text, size_t n, const char **why)
{
	const char *w;

	/* Surrounding white space is not part of the record. */
	while (n && (text[n - 1] == ' ' || text[n - 1] == '\t' ||
		     text[n - 1] == '\r' || text[n - 1] == '\n'))
		n--;
	while (n && (*text == ' ' || *text == '\t')) {
		text++;
		n--;
	}
	if (tokenize_text(r, text, n, 1, &w) < 0) {
		/* r keeps its text; its tokens are made again. */
		if (r->ntok)
			tokenize(r);
		if (why)
			*why = w;
		return -1;
	}
	set_text(r, text, n);
	return 0;
}

void
wt_rec_clear(struct wt_rec *r)
{
	set_text(r, "{}", 2);
	tokenize(r);
}

void
wt_rec_copy(struct wt_rec *dst, const struct wt_rec *src)
{
	set_text(dst, src->line, src->len);
	dst->lineno = src->lineno;
	tokenize(dst);
}

/* The text span of token t, quotes included for strings. */
static void
span(const struct wt_rec *r, int t, size_t *a, size_t *b)
{
	*a = (size_t)r->tok[t].start;
	*b = (size_t)r->tok[t].end;
	if (r->tok[t].type == JSMN_STRING) {
		(*a)--;
		(*b)++;
	}
}

/* wt_rec_tokeq with the length of s known. */
static inline int
tokeqn(const struct wt_rec *r, int t, const char *s, size_t sn)
{
	const jsmntok_t *k = &r->tok[t];
	size_t n = (size_t)(k->end - k->start);
	const char *p = r->line + k->start;
	char *u;
	int eq;

	if (k->type != JSMN_STRING)
		return 0;
	/*
	 * An escape makes the text longer than what it stands for: text
	 * shorter than s never matches, and text as long as s matches when it
	 * is the same bytes (and s has no backslash: then neither has the text).
	 */
	if (n < sn)
		return 0;
	if (n == sn)
		return (!n || p[0] == s[0]) && memcmp(p, s, n) == 0 &&
		       !memchr(s, '\\', sn);
	if (!r->esc || !memchr(p, '\\', n))
		return 0;
	u = wt_json_unescape(p, n);
	eq = strcmp(u, s) == 0;
	free(u);
	return eq;
}

int
wt_rec_tokeq(const struct wt_rec *r, int t, const char *s)
{
	return tokeqn(r, t, s, strlen(s));
}

/* wt_rec_find_in with the length of key known. */
static int
findn(const struct wt_rec *r, int obj, const char *key, size_t n)
{
	int i, nkeys, next;

	if (!r->ntok || obj < 0 || r->tok[obj].type != JSMN_OBJECT)
		return -1;
	nkeys = r->tok[obj].size;
	/* The filter knows the keys' text, which is their name without escapes. */
	if (obj == 0 && !r->esc && !(r->keys & wt_json_keybit(key, n)))
		return -1;
	if (!r->esc) {
		/*
		 * Keys are their text: only one of the same length and first
		 * byte (the closing quote, for the empty key) needs a look. The
		 * test is one branch, taken only there: a guess that holds.
		 */
		int c0 = n ? (unsigned char)key[0] : '"';
		const char *p;

		for (i = obj + 1; nkeys-- > 0; i = next) {
			next = r->tok[i + 1].size == 0 ? i + 2 : skip(r, i + 1);
			p = r->line + r->tok[i].start;
			if (((size_t)(r->tok[i].end - r->tok[i].start) == n) &
			    ((unsigned char)p[0] == c0))
				if (memcmp(p, key, n) == 0 && !memchr(key, '\\', n))
					return i + 1;
		}
		return -1;
	}
	for (i = obj + 1; nkeys-- > 0; i = next) {
		/* A value of one token (a scalar, an empty container) needs no walk. */
		next = r->tok[i + 1].size == 0 ? i + 2 : skip(r, i + 1);
		if ((size_t)(r->tok[i].end - r->tok[i].start) >= n && tokeqn(r, i, key, n))
			return i + 1;
	}
	return -1;
}

int
wt_rec_find_in(const struct wt_rec *r, int obj, const char *key)
{
	return findn(r, obj, key, strlen(key));
}

int
wt_rec_find_n(const struct wt_rec *r, const char *key, size_t n)
{
	return findn(r, 0, key, n);
}

char *
wt_rec_tokstr(const struct wt_rec *r, int t)
{
	if (t < 0 || r->tok[t].type != JSMN_STRING)
		return NULL;
	return wt_json_unescape(r->line + r->tok[t].start,
				(size_t)(r->tok[t].end - r->tok[t].start));
}

int
wt_rec_tok_is_string(const struct wt_rec *r, int t)
{
	return t >= 0 && t < r->ntok && r->tok[t].type == JSMN_STRING;
}

int
wt_rec_tok_is_primitive(const struct wt_rec *r, int t)
{
	return t >= 0 && t < r->ntok && r->tok[t].type == JSMN_PRIMITIVE;
}

const char *
wt_rec_tok_text(const struct wt_rec *r, int t, size_t *n)
{
	if (t < 0 || t >= r->ntok)
		return NULL;
	*n = (size_t)(r->tok[t].end - r->tok[t].start);
	return r->line + r->tok[t].start;
}

char *
wt_rec_str(const struct wt_rec *r, const char *key)
{
	return wt_rec_tokstr(r, wt_rec_find(r, key));
}

int
wt_rec_time(const struct wt_rec *r, const char *key, int flags, time_t *when)
{
	int t = wt_rec_find(r, key), ret;
	const char *p;
	char buf[64], *s;
	size_t n;

	if (t < 0 || r->tok[t].type != JSMN_STRING)
		return -1;
	p = r->line + r->tok[t].start;
	n = (size_t)(r->tok[t].end - r->tok[t].start);
	/* A time is short and plain: read in place, not unescaped on the heap. */
	if (n < sizeof(buf) && !memchr(p, '\\', n)) {
		memcpy(buf, p, n);
		buf[n] = '\0';
		return wt_time_parse(buf, flags, when);
	}
	s = wt_rec_tokstr(r, t);
	ret = wt_time_parse(s, flags, when);
	free(s);
	return ret;
}

int
wt_rec_num(const struct wt_rec *r, const char *key, double *v)
{
	int t = wt_rec_find(r, key);
	char *end;

	if (t < 0 || r->tok[t].type != JSMN_PRIMITIVE)
		return -1;
	if (!strchr("-0123456789", r->line[r->tok[t].start]))
		return -1;
	*v = strtod(r->line + r->tok[t].start, &end);
	return 0;
}

int
wt_rec_bool(const struct wt_rec *r, const char *key, int *v)
{
	int t = wt_rec_find(r, key);

	if (t < 0 || r->tok[t].type != JSMN_PRIMITIVE)
		return -1;
	if (r->line[r->tok[t].start] == 't')
		*v = 1;
	else if (r->line[r->tok[t].start] == 'f')
		*v = 0;
	else
		return -1;
	return 0;
}

int
wt_rec_is_null(const struct wt_rec *r, const char *key)
{
	int t = wt_rec_find(r, key);

	return t >= 0 && r->tok[t].type == JSMN_PRIMITIVE &&
	       r->line[r->tok[t].start] == 'n';
}

const char *
wt_rec_raw(const struct wt_rec *r, const char *key, size_t *n)
{
	int t = wt_rec_find(r, key);
	size_t a, b;

	if (t < 0)
		return NULL;
	span(r, t, &a, &b);
	*n = b - a;
	return r->line + a;
}

/* Replaces line[a..b) with n bytes of s; the tokens are left to the caller. */
static void
splice_text(struct wt_rec *r, size_t a, size_t b, const char *s, size_t n)
{
	size_t len = r->len - (b - a) + n;

	if (len + 1 > r->cap) {
		r->cap = len + 1 + len / 2;
		r->line = wt_xrealloc(r->line, r->cap);
	}
	memmove(r->line + a + n, r->line + b, r->len - b + 1);
	memcpy(r->line + a, s, n);
	r->len = len;
}

/* Replaces line[a..b) with n bytes of s, then tokenizes again. */
static void
splice(struct wt_rec *r, size_t a, size_t b, const char *s, size_t n)
{
	splice_text(r, a, b, s, n);
	tokenize(r);
}

/* Fills token k for the scalar JSON text at line[a..a+n). */
static void
scalar_tok(struct wt_rec *r, int k, size_t a, size_t n, int parent)
{
	int str = r->line[a] == '"';

	r->tok[k].type = str ? JSMN_STRING : JSMN_PRIMITIVE;
	r->tok[k].start = (int)(a + (size_t)str);
	r->tok[k].end = (int)(a + n - (size_t)str);
	r->tok[k].size = 0;
	r->tok[k].parent = parent;
}

/*
 * Replaces the scalar value at token t with the scalar raw. The tokens are
 * moved rather than made again: those after t shift, and the containers
 * around t (its ancestors) grow or shrink.
 */
static void
replace_scalar(struct wt_rec *r, int t, const char *raw, size_t n)
{
	size_t a, b;
	int i, delta;

	span(r, t, &a, &b);
	splice_text(r, a, b, raw, n);
	delta = (int)n - (int)(b - a);
	scalar_tok(r, t, a, n, r->tok[t].parent);
	for (i = t + 1; i < r->ntok; i++) {
		r->tok[i].start += delta;
		r->tok[i].end += delta;
	}
	for (i = r->tok[t].parent; i >= 0; i = r->tok[i].parent)
		if (r->tok[i].type == JSMN_OBJECT || r->tok[i].type == JSMN_ARRAY)
			r->tok[i].end += delta;
}

/*
 * wt_rec_set_raw for raw known to be valid JSON; esc says whether raw may
 * hold an escape (a backslash).
 */
static void
set_value(struct wt_rec *r, const char *key, const char *raw, size_t n, int esc)
{
	struct wt_buf b = WT_BUF_INIT;
	char small[256];
	const char *pair;
	size_t a, e, k, kn, len;
	int t, scalar = n && raw[0] != '{' && raw[0] != '[';

	if (!r->ntok)
		wt_rec_clear(r);
	kn = strlen(key);
	if (esc)
		r->esc = 1;
	if ((t = findn(r, 0, key, kn)) >= 0) {
		if (scalar && (r->tok[t].type == JSMN_STRING ||
			       r->tok[t].type == JSMN_PRIMITIVE)) {
			replace_scalar(r, t, raw, n);
			return;
		}
		span(r, t, &a, &e);
		splice(r, a, e, raw, n);
		return;
	}
	/* The pair ,"key":raw; on the stack when it is short and plain. */
	e = r->tok[0].size > 0;
	if (e + kn + n + 3 <= sizeof(small) && wt_json_plain(key, kn)) {
		small[0] = ',';
		small[e] = '"';
		memcpy(small + e + 1, key, kn);
		small[e + 1 + kn] = '"';
		k = e + kn + 2;
		small[k] = ':';
		memcpy(small + k + 1, raw, n);
		pair = small;
		len = k + 1 + n;
	} else {
		/* The key may need escapes. */
		r->esc = 1;
		if (e)
			wt_buf_addc(&b, ',');
		wt_json_strz(&b, key);
		k = b.len;
		wt_buf_addc(&b, ':');
		wt_buf_add(&b, raw, n);
		pair = b.s;
		len = b.len;
	}
	/* Insert before the closing brace, after any white space before it. */
	a = (size_t)r->tok[0].end - 1;
	while (a > 1 && (r->line[a - 1] == ' ' || r->line[a - 1] == '\t') &&
	       r->tok[0].size > 0)
		a--;
	if (!scalar) {
		splice(r, a, a, pair, len);
		wt_buf_release(&b);
		return;
	}
	/*
	 * A scalar pair at the end of the object: its two tokens come after
	 * every other, and only the object itself changes.
	 */
	splice_text(r, a, a, pair, len);
	if (r->ntok + 2 > r->tokcap) {
		r->tokcap = r->ntok + 2 + r->tokcap / 2;
		r->tok = wt_xrealloc(r->tok, sizeof(*r->tok) * (size_t)r->tokcap);
	}
	r->tok[r->ntok].type = JSMN_STRING;
	r->tok[r->ntok].start = (int)(a + e) + 1;
	r->tok[r->ntok].end = (int)(a + k) - 1;
	r->tok[r->ntok].size = 1;
	r->tok[r->ntok].parent = 0;
	scalar_tok(r, r->ntok + 1, a + k + 1, n, r->ntok);
	r->keys |= wt_json_keybit(r->line + r->tok[r->ntok].start,
				  (size_t)(r->tok[r->ntok].end - r->tok[r->ntok].start));
	r->ntok += 2;
	r->tok[0].size++;
	r->tok[0].end += (int)len;
	wt_buf_release(&b);
}

int
wt_rec_set_raw(struct wt_rec *r, const char *key, const char *raw, size_t n)
{
	const char *why;

	if (wt_json_check_field(raw, n, &why))
		return -1;
	set_value(r, key, raw, n, memchr(raw, '\\', n) != NULL);
	return 0;
}

void
wt_rec_set_str(struct wt_rec *r, const char *key, const char *s)
{
	struct wt_buf b = WT_BUF_INIT;
	size_t n = strlen(s);
	char small[256];

	/* wt_json_str always writes valid JSON. */
	if (n + 2 <= sizeof(small) && wt_json_plain(s, n)) {
		small[0] = '"';
		memcpy(small + 1, s, n);
		small[n + 1] = '"';
		set_value(r, key, small, n + 2, 0);
		return;
	}
	wt_json_str(&b, s, n);
	set_value(r, key, b.s, b.len, memchr(b.s, '\\', b.len) != NULL);
	wt_buf_release(&b);
}

void
wt_rec_set_int(struct wt_rec *r, const char *key, long long v)
{
	char s[WT_INT_TEXT];
	size_t n;
	const char *p = wt_int_text(s, v, &n);

	set_value(r, key, p, n, 0);
}

void
wt_rec_set_num(struct wt_rec *r, const char *key, double v)
{
	char s[64];

	if (!isfinite(v)) {
		wt_rec_set_null(r, key);
		return;
	}
	if (v == (double)(long long)v && fabs(v) < 9e15) {
		wt_rec_set_int(r, key, (long long)v);
		return;
	}
	wt_rec_set_raw(r, key, s, (size_t)snprintf(s, sizeof(s), "%.17g", v));
}

void
wt_rec_set_bool(struct wt_rec *r, const char *key, int v)
{
	set_value(r, key, v ? "true" : "false", v ? 4 : 5, 0);
}

void
wt_rec_set_null(struct wt_rec *r, const char *key)
{
	set_value(r, key, "null", 4, 0);
}

void
wt_rec_set_time(struct wt_rec *r, const char *key, time_t t)
{
	char s[40];
	size_t n;

	/* A time is plain ASCII: quoted as it is. */
	s[0] = '"';
	n = strlen(wt_time_fmt(t, s + 1));
	s[n + 1] = '"';
	set_value(r, key, s, n + 2, 0);
}

int
wt_rec_del(struct wt_rec *r, const char *key)
{
	int t = wt_rec_find(r, key);
	size_t a, b, k;

	if (t < 0)
		return -1;
	span(r, t - 1, &a, &k);
	span(r, t, &k, &b);
	/* Take the comma after the pair, or failing that the one before it. */
	k = b;
	while (k < r->len && strchr(" \t\r\n", r->line[k]))
		k++;
	if (k < r->len && r->line[k] == ',') {
		b = k + 1;
		while (b < r->len && strchr(" \t\r\n", r->line[b]))
			b++;
	} else {
		k = a;
		while (k > 0 && strchr(" \t\r\n", r->line[k - 1]))
			k--;
		if (k > 0 && r->line[k - 1] == ',')
			a = k - 1;
	}
	splice(r, a, b, "", 0);
	return 0;
}

void
wt_rec_write(const struct wt_rec *r, FILE *out)
{
	if (fwrite(r->line, 1, r->len, out) != r->len || putc('\n', out) == EOF)
		err(WT_EXIT_FATAL, "write");
}

int
wt_rec_is_archived(const struct wt_rec *r)
{
	int t = wt_rec_find(r, "status"), b;

	if (t >= 0 && wt_rec_tokeq(r, t, "archived"))
		return 1;
	return wt_rec_bool(r, "archived", &b) == 0 && b;
}

void
wt_rec_set_obj(struct wt_rec *r, const char *key, struct wt_obj *o)
{
	size_t n;
	const char *text = wt_obj_text(o, &n);

	/* The builder's text is valid JSON of bounded depth: this cannot fail. */
	if (wt_rec_set_raw(r, key, text, n) < 0)
		errx(WT_EXIT_FATAL, "internal error: '%s' is no JSON value", key);
}
