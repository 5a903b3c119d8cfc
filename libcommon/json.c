/* json.c: jsmn's code, a strict validator, and JSON string escaping. */
#define WT_JSMN_IMPL
#include <err.h>
#include <string.h>

#include "wt.h"

/*
 * Length of the UTF-8 sequence at s (at most n bytes), or 0 when it is not a
 * valid one: overlong forms, surrogates and code points past U+10FFFF fail.
 */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
	unsigned c = s[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return n >= 2 && (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		if (n < 3 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
			return 0;
		if (c == 0xe0 && s[1] < 0xa0)
			return 0;
		if (c == 0xed && s[1] >= 0xa0)
			return 0;
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if (n < 4 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 ||
		    (s[3] & 0xc0) != 0x80)
			return 0;
		if (c == 0xf0 && s[1] < 0x90)
			return 0;
		if (c == 0xf4 && s[1] >= 0x90)
			return 0;
		return 4;
	}
	return 0;
}

int
wt_utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *e = p + n;
	size_t k;

	while (p < e) {
		if (*p < 0x80) {
			p++;
			continue;
		}
		if (!(k = utf8_seq(p, (size_t)(e - p))))
			return 0;
		p += k;
	}
	return 1;
}

static inline int
is_ws(int c)
{
	/* One test for the usual case, a byte above the space. */
	return (unsigned char)c <= ' ' &&
	       (c == ' ' || c == '\t' || c == '\n' || c == '\r');
}

static int
is_hex(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	       (c >= 'A' && c <= 'F');
}

/*
 * The bytes among the 8 at p that need a look of their own (control
 * characters, '"', '\\', bytes of UTF-8 sequences), as a mask of their high
 * bits. Most of a record is plain text, so strings are checked a word at a
 * time with the tricks of "Bit Twiddling Hacks": (x - n*ones) & ~x & high
 * flags the bytes below n. Bits above the lowest may be false alarms, but the
 * lowest is exact, and only it is used.
 */
static inline uint64_t
special8(const unsigned char *p)
{
	const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
	uint64_t x, q, b;

	memcpy(&x, p, 8);
	q = x ^ (ones * '"');
	b = x ^ (ones * '\\');
	return (((x - ones * 0x20) & ~x) | ((q - ones) & ~q) | ((b - ones) & ~b) | x) & high;
}

/* Skips the plain bytes at p, up to e. */
static inline const unsigned char *
skip_plain(const unsigned char *p, const unsigned char *e)
{
	uint64_t m;

	while (e - p >= 8) {
		if ((m = special8(p)))
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
			return p + (__builtin_ctzll(m) >> 3);
#else
			return p;
#endif
		p += 8;
	}
	return p;
}

int
wt_json_plain(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *e = p + n;

	for (p = skip_plain(p, e); p < e; p++)
		if (*p < 0x20 || *p >= 0x80 || *p == '"' || *p == '\\')
			return 0;
	return 1;
}

/* check_string from p on, where a byte needs a look. */
static const char *
check_string_rest(const unsigned char *p, const char *end, int *esc, const char **why)
{
	const unsigned char *e = (const unsigned char *)end;
	size_t k;

	while (p < e) {
		p = skip_plain(p, e);
		if (p >= e)
			break;
		if (*p == '"')
			return (const char *)p + 1;
		if (*p < 0x20) {
			*why = "control character in string";
			return NULL;
		}
		if (*p == '\\') {
			*esc = 1;
			if (p + 1 >= e)
				break;
			switch (p[1]) {
			case '"': case '\\': case '/': case 'b': case 'f':
			case 'n': case 'r': case 't':
				p += 2;
				continue;
			case 'u':
				if (e - p < 6 || !is_hex(p[2]) || !is_hex(p[3]) ||
				    !is_hex(p[4]) || !is_hex(p[5])) {
					*why = "bad \\u escape";
					return NULL;
				}
				p += 6;
				continue;
			default:
				*why = "bad escape in string";
				return NULL;
			}
		}
		if (*p < 0x80) {
			p++;
			continue;
		}
		if (!(k = utf8_seq(p, (size_t)(e - p)))) {
			*why = "invalid UTF-8";
			return NULL;
		}
		p += k;
	}
	*why = "unterminated string";
	return NULL;
}

/*
 * Checks the string whose opening quote is at s. Returns the byte after its
 * closing quote, or NULL with *why set; sets *esc when it holds an escape.
 * Inline: most strings are plain text up to the quote.
 */
static inline const char *
check_string(const char *s, const char *end, int *esc, const char **why)
{
	const unsigned char *p = skip_plain((const unsigned char *)s + 1,
					    (const unsigned char *)end);

	if (p < (const unsigned char *)end && *p == '"')
		return (const char *)p + 1;
	return check_string_rest(p, end, esc, why);
}

/* Checks the number at p; returns the byte after it, or NULL with *why set. */
static const char *
check_number(const char *p, const char *e, const char **why)
{
	if (p < e && *p == '-')
		p++;
	if (p < e && *p == '0')
		p++;
	else if (p < e && *p >= '1' && *p <= '9')
		while (p < e && *p >= '0' && *p <= '9')
			p++;
	else
		goto bad;
	if (p < e && *p == '.') {
		if (++p >= e || *p < '0' || *p > '9')
			goto bad;
		while (p < e && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < e && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < e && (*p == '+' || *p == '-'))
			p++;
		if (p >= e || *p < '0' || *p > '9')
			goto bad;
		while (p < e && *p >= '0' && *p <= '9')
			p++;
	}
	return p;
bad:
	*why = "bad number";
	return NULL;
}

/* Tokens as jsmn makes them, counted always, stored while they fit. */
struct toks {
	jsmntok_t *tok;
	int cap, n;
	uint64_t keys;
	int esc;
};

static inline int
new_tok(struct toks *t, jsmntype_t type, long start, long end, int parent)
{
	jsmntok_t *k;

	if (t->n < t->cap) {
		k = &t->tok[t->n];
		k->type = type;
		k->start = (int)start;
		k->end = (int)end;
		k->size = 0;
		k->parent = parent;
	}
	return t->n++;
}

static inline void
grow_size(struct toks *t, int i)
{
	if (i >= 0 && i < t->cap)
		t->tok[i].size++;
}

/*
 * The one pass that checks a JSON text and, when t is not NULL, tokenizes it.
 * Containers nest on an explicit stack of at most WT_MAX_DEPTH, less base
 * for a text that sits base levels down; the rules and messages are those
 * of a recursive descent: a value is read after a key's ':' or an array's
 * '[' or ','; after it comes ',' or the close.
 */
static int
parse(const char *s, size_t n, int want_object, int base, struct toks *t,
      const char **why)
{
	struct toks none = { NULL, 0, 0, 0, 0 };
	const char *p = s, *e = s + n, *q;
	int stack[WT_MAX_DEPTH];
	char isobj[WT_MAX_DEPTH];
	int depth = 0, parent = -1, i, k;
	uint64_t keys = 0;

	if (!t)
		t = &none;
	while (p < e && is_ws(*p))
		p++;
	if (want_object && (p >= e || *p != '{')) {
		*why = "not a JSON object";
		return -1;
	}
value:
	/* A value whose parent token (key, array or none) is parent. */
	while (p < e && is_ws(*p))
		p++;
	if (p >= e) {
		*why = "unexpected end";
		return -1;
	}
	switch (*p) {
	case '{':
	case '[':
		if (base + depth >= WT_MAX_DEPTH) {
			*why = "nesting too deep";
			return -1;
		}
		isobj[depth] = *p == '{';
		i = new_tok(t, isobj[depth] ? JSMN_OBJECT : JSMN_ARRAY, p - s, -1, parent);
		stack[depth++] = i;
		p++;
		while (p < e && is_ws(*p))
			p++;
		if (p < e && *p == (isobj[depth - 1] ? '}' : ']')) {
			p++;
			goto close;
		}
		if (isobj[depth - 1])
			goto key;
		grow_size(t, i);
		parent = i;
		goto value;
	case '"':
		if (!(q = check_string(p, e, &t->esc, why)))
			return -1;
		new_tok(t, JSMN_STRING, p + 1 - s, q - 1 - s, parent);
		p = q;
		break;
	case 't':
	case 'f':
	case 'n': {
		const char *w = *p == 't' ? "true" : *p == 'f' ? "false" : "null";
		size_t wn = *p == 'f' ? 5 : 4;

		if ((size_t)(e - p) < wn || memcmp(p, w, wn) != 0) {
			*why = "invalid literal";
			return -1;
		}
		new_tok(t, JSMN_PRIMITIVE, p - s, p + wn - s, parent);
		p += wn;
		break;
	}
	default:
		if (!(q = check_number(p, e, why)))
			return -1;
		new_tok(t, JSMN_PRIMITIVE, p - s, q - s, parent);
		p = q;
		break;
	}
next:
	/* After a value: the end of the text, or ',' or the close of its container. */
	if (!depth)
		goto done;
	while (p < e && is_ws(*p))
		p++;
	i = stack[depth - 1];
	if (p < e && *p == ',') {
		p++;
		if (isobj[depth - 1])
			goto key;
		grow_size(t, i);
		parent = i;
		goto value;
	}
	if (p < e && *p == (isobj[depth - 1] ? '}' : ']')) {
		p++;
		goto close;
	}
	*why = isobj[depth - 1] ? "expected ',' or '}'" : "expected ',' or ']'";
	return -1;
close:
	i = stack[--depth];
	if (i < t->cap)
		t->tok[i].end = (int)(p - s);
	goto next;
key:
	while (p < e && is_ws(*p))
		p++;
	if (p >= e || *p != '"') {
		*why = "expected a key";
		return -1;
	}
	if (!(q = check_string(p, e, &t->esc, why)))
		return -1;
	i = stack[depth - 1];
	grow_size(t, i);
	if (depth == 1)
		keys |= wt_json_keybit(p + 1, (size_t)(q - p - 2));
	k = new_tok(t, JSMN_STRING, p + 1 - s, q - 1 - s, i);
	grow_size(t, k);
	p = q;
	while (p < e && is_ws(*p))
		p++;
	if (p >= e || *p != ':') {
		*why = "expected ':'";
		return -1;
	}
	p++;
	parent = k;
	goto value;
done:
	while (p < e && is_ws(*p))
		p++;
	if (p != e) {
		*why = "trailing characters";
		return -1;
	}
	t->keys = keys;
	return t->n;
}

int
wt_json_check(const char *s, size_t n, int want_object, const char **why)
{
	return parse(s, n, want_object, 0, NULL, why) < 0 ? -1 : 0;
}

int
wt_json_check_field(const char *s, size_t n, const char **why)
{
	return parse(s, n, 0, 1, NULL, why) < 0 ? -1 : 0;
}

int
wt_json_tokens(const char *s, size_t n, jsmntok_t *tok, int ntok,
	       struct wt_json_info *info, const char **why)
{
	struct toks t = { tok, ntok, 0, 0, 0 };
	int k = parse(s, n, 1, 0, &t, why);

	info->keys = t.keys;
	info->esc = t.esc;
	return k;
}

void
wt_json_str(struct wt_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s, *e = p + n;
	size_t k;

	wt_buf_grow(b, n + 2);
	wt_buf_addc(b, '"');
	while (p < e) {
		const unsigned char *run = p;

		while (p < e && *p >= 0x20 && *p != '"' && *p != '\\' && *p < 0x80)
			p++;
		if (p > run)
			wt_buf_add(b, run, (size_t)(p - run));
		if (p >= e)
			break;
		switch (*p) {
		case '"': wt_buf_adds(b, "\\\""); p++; continue;
		case '\\': wt_buf_adds(b, "\\\\"); p++; continue;
		case '\n': wt_buf_adds(b, "\\n"); p++; continue;
		case '\r': wt_buf_adds(b, "\\r"); p++; continue;
		case '\t': wt_buf_adds(b, "\\t"); p++; continue;
		case '\b': wt_buf_adds(b, "\\b"); p++; continue;
		case '\f': wt_buf_adds(b, "\\f"); p++; continue;
		}
		if (*p < 0x20) {
			char u[7] = { '\\', 'u', '0', '0', hex[*p >> 4], hex[*p & 15], 0 };

			wt_buf_adds(b, u);
			p++;
			continue;
		}
		/* Invalid UTF-8 (a file name, say) is written as U+FFFD. */
		if ((k = utf8_seq(p, (size_t)(e - p)))) {
			wt_buf_add(b, p, k);
			p += k;
		} else {
			wt_buf_adds(b, "\xef\xbf\xbd");
			p++;
		}
	}
	wt_buf_addc(b, '"');
}

void
wt_json_strz(struct wt_buf *b, const char *s)
{
	wt_json_str(b, s, strlen(s));
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return c - 'A' + 10;
}

static unsigned
read_u(const char *p)
{
	return (unsigned)(hexval(p[0]) << 12 | hexval(p[1]) << 8 |
			  hexval(p[2]) << 4 | hexval(p[3]));
}

static void
put_utf8(struct wt_buf *b, unsigned cp)
{
	char u[4];

	if (cp == 0 || (cp >= 0xd800 && cp <= 0xdfff))
		cp = 0xfffd;
	if (cp < 0x80) {
		wt_buf_addc(b, (int)cp);
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | cp >> 6);
		u[1] = (char)(0x80 | (cp & 0x3f));
		wt_buf_add(b, u, 2);
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | cp >> 12);
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		wt_buf_add(b, u, 3);
	} else {
		u[0] = (char)(0xf0 | cp >> 18);
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		wt_buf_add(b, u, 4);
	}
}

char *
wt_json_unescape(const char *s, size_t n)
{
	struct wt_buf b = WT_BUF_INIT;
	const char *e = s + n;

	wt_buf_grow(&b, n);
	while (s < e) {
		const char *run = s;

		while (s < e && *s != '\\')
			s++;
		if (s > run)
			wt_buf_add(&b, run, (size_t)(s - run));
		if (s >= e || s + 1 >= e)
			break;
		switch (s[1]) {
		case 'b': wt_buf_addc(&b, '\b'); break;
		case 'f': wt_buf_addc(&b, '\f'); break;
		case 'n': wt_buf_addc(&b, '\n'); break;
		case 'r': wt_buf_addc(&b, '\r'); break;
		case 't': wt_buf_addc(&b, '\t'); break;
		case 'u': {
			unsigned cp;

			if (e - s < 6)
				goto out;
			cp = read_u(s + 2);
			s += 6;
			if (cp >= 0xd800 && cp <= 0xdbff && e - s >= 6 &&
			    s[0] == '\\' && s[1] == 'u') {
				unsigned lo = read_u(s + 2);

				if (lo >= 0xdc00 && lo <= 0xdfff) {
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
					s += 6;
				}
			}
			put_utf8(&b, cp);
			continue;
		}
		default: wt_buf_addc(&b, s[1]); break;
		}
		s += 2;
	}
out:
	return wt_buf_detach(&b);
}

/*
 * The object builder. Each level remembers whether it has a member yet, so
 * the comma goes in the right place; a level is an object (members have
 * keys) or an array (key NULL).
 */
void
wt_obj_init(struct wt_obj *o)
{
	memset(o, 0, sizeof(*o));
	wt_buf_addc(&o->b, '{');
	o->depth = 1;
}

void
wt_obj_release(struct wt_obj *o)
{
	wt_buf_release(&o->b);
	o->depth = 0;
}

void
wt_obj_reset(struct wt_obj *o)
{
	wt_buf_reset(&o->b);
	memset(o->has, 0, sizeof(o->has));
	wt_buf_addc(&o->b, '{');
	o->depth = 1;
}

/* The comma and the key of the next member (none in an array). */
static void
member(struct wt_obj *o, const char *key)
{
	if (o->has[o->depth - 1])
		wt_buf_addc(&o->b, ',');
	o->has[o->depth - 1] = 1;
	if (key) {
		wt_json_strz(&o->b, key);
		wt_buf_addc(&o->b, ':');
	}
}

void
wt_obj_str(struct wt_obj *o, const char *key, const char *s)
{
	member(o, key);
	if (s)
		wt_json_strz(&o->b, s);
	else
		wt_buf_adds(&o->b, "null");
}

void
wt_obj_strn(struct wt_obj *o, const char *key, const char *s, size_t n)
{
	member(o, key);
	wt_json_str(&o->b, s, n);
}

void
wt_obj_int(struct wt_obj *o, const char *key, long long v)
{
	member(o, key);
	wt_buf_add_int(&o->b, v);
}

void
wt_obj_bool(struct wt_obj *o, const char *key, int v)
{
	member(o, key);
	wt_buf_adds(&o->b, v ? "true" : "false");
}

void
wt_obj_null(struct wt_obj *o, const char *key)
{
	member(o, key);
	wt_buf_adds(&o->b, "null");
}

void
wt_obj_raw(struct wt_obj *o, const char *key, const char *raw, size_t n)
{
	member(o, key);
	wt_buf_add(&o->b, raw, n);
}

static void
open_level(struct wt_obj *o, const char *key, int c)
{
	if (o->depth >= WT_OBJ_DEPTH)
		errx(WT_EXIT_FATAL, "internal error: JSON object nested too deep");
	member(o, key);
	wt_buf_addc(&o->b, c);
	o->closer[o->depth] = c == '{' ? '}' : ']';
	o->has[o->depth++] = 0;
}

void
wt_obj_open(struct wt_obj *o, const char *key)
{
	open_level(o, key, '{');
}

void
wt_obj_array(struct wt_obj *o, const char *key)
{
	open_level(o, key, '[');
}

void
wt_obj_close(struct wt_obj *o)
{
	if (o->depth <= 1)
		errx(WT_EXIT_FATAL, "internal error: JSON object closed too often");
	o->depth--;
	wt_buf_addc(&o->b, o->closer[o->depth]);
}

const char *
wt_obj_text(struct wt_obj *o, size_t *n)
{
	while (o->depth > 1)
		wt_obj_close(o);
	if (o->depth == 1) {
		wt_buf_addc(&o->b, '}');
		o->depth = 0;
	}
	if (n)
		*n = o->b.len;
	return o->b.s;
}

int
wt_obj_empty(const struct wt_obj *o)
{
	return !o->has[0];
}
