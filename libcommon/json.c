/* json.c: jsmn's code, a strict validator, and JSON string escaping. */
#define WT_JSMN_IMPL
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

struct check {
	const char *s, *e, *why;
};

static void
skip_ws(struct check *c)
{
	while (c->s < c->e && (*c->s == ' ' || *c->s == '\t' || *c->s == '\n' ||
			       *c->s == '\r'))
		c->s++;
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

static int
check_string(struct check *c)
{
	const unsigned char *p = (const unsigned char *)c->s + 1;
	const unsigned char *e = (const unsigned char *)c->e;
	size_t k;

	while (p < e) {
		p = skip_plain(p, e);
		if (p >= e)
			break;
		if (*p == '"') {
			c->s = (const char *)p + 1;
			return 0;
		}
		if (*p < 0x20) {
			c->why = "control character in string";
			return -1;
		}
		if (*p == '\\') {
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
					c->why = "bad \\u escape";
					return -1;
				}
				p += 6;
				continue;
			default:
				c->why = "bad escape in string";
				return -1;
			}
		}
		if (*p < 0x80) {
			p++;
			continue;
		}
		if (!(k = utf8_seq(p, (size_t)(e - p)))) {
			c->why = "invalid UTF-8";
			return -1;
		}
		p += k;
	}
	c->why = "unterminated string";
	return -1;
}

static int
check_number(struct check *c)
{
	const char *p = c->s, *e = c->e;

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
	c->s = p;
	return 0;
bad:
	c->why = "bad number";
	return -1;
}

static int
check_word(struct check *c, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(c->e - c->s) < n || memcmp(c->s, w, n) != 0) {
		c->why = "invalid literal";
		return -1;
	}
	c->s += n;
	return 0;
}

static int
check_value(struct check *c, int depth)
{
	skip_ws(c);
	if (c->s >= c->e) {
		c->why = "unexpected end";
		return -1;
	}
	switch (*c->s) {
	case '{':
	case '[': {
		char close = *c->s == '{' ? '}' : ']';
		int obj = close == '}';

		if (depth >= WT_MAX_DEPTH) {
			c->why = "nesting too deep";
			return -1;
		}
		c->s++;
		skip_ws(c);
		if (c->s < c->e && *c->s == close) {
			c->s++;
			return 0;
		}
		for (;;) {
			if (obj) {
				skip_ws(c);
				if (c->s >= c->e || *c->s != '"') {
					c->why = "expected a key";
					return -1;
				}
				if (check_string(c))
					return -1;
				skip_ws(c);
				if (c->s >= c->e || *c->s != ':') {
					c->why = "expected ':'";
					return -1;
				}
				c->s++;
			}
			if (check_value(c, depth + 1))
				return -1;
			skip_ws(c);
			if (c->s < c->e && *c->s == ',') {
				c->s++;
				continue;
			}
			if (c->s < c->e && *c->s == close) {
				c->s++;
				return 0;
			}
			c->why = obj ? "expected ',' or '}'" : "expected ',' or ']'";
			return -1;
		}
	}
	case '"':
		return check_string(c);
	case 't':
		return check_word(c, "true");
	case 'f':
		return check_word(c, "false");
	case 'n':
		return check_word(c, "null");
	default:
		return check_number(c);
	}
}

static int
check_at(const char *s, size_t n, int want_object, int depth, const char **why)
{
	struct check c = { s, s + n, NULL };

	skip_ws(&c);
	if (want_object && (c.s >= c.e || *c.s != '{')) {
		*why = "not a JSON object";
		return -1;
	}
	if (check_value(&c, depth)) {
		*why = c.why;
		return -1;
	}
	skip_ws(&c);
	if (c.s != c.e) {
		*why = "trailing characters";
		return -1;
	}
	return 0;
}

int
wt_json_check(const char *s, size_t n, int want_object, const char **why)
{
	return check_at(s, n, want_object, 0, why);
}

int
wt_json_check_field(const char *s, size_t n, const char **why)
{
	return check_at(s, n, 0, 1, why);
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
