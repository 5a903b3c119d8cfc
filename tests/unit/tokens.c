/* tokens.c: json.c's one-pass tokens against jsmn's, on a corpus and on generated records. */
#include "wt.h"
#include "tap.h"

static long compared, refused, differ;

/*
 * 1 when r's tokens are those jsmn_parse makes of r's text, the escape flag
 * is set when the text has a backslash, and the key filter has the bit of
 * every top-level key.
 */
static int
same_as_jsmn(const struct wt_rec *r)
{
	jsmntok_t *t = wt_xmalloc(sizeof(*t) * (size_t)(r->ntok + 1));
	jsmn_parser p;
	int k, i, good;

	jsmn_init(&p);
	/* One token more than ours: jsmn finding more shows as a difference. */
	k = jsmn_parse(&p, r->line, r->len, t, (unsigned)r->ntok + 1);
	good = k == r->ntok && memcmp(t, r->tok, sizeof(*t) * (size_t)k) == 0;
	if (!r->esc && memchr(r->line, '\\', r->len))
		good = 0;
	for (i = 1; good && !r->esc && i < r->ntok; i++)
		if (r->tok[i].parent == 0 &&
		    !(r->keys & wt_json_keybit(r->line + r->tok[i].start,
					       (size_t)(r->tok[i].end - r->tok[i].start))))
			good = 0;
	if (!good && differ++ < 5) {
		diag("tokens differ from jsmn's (jsmn: %d, json.c: %d)", k, r->ntok);
		tap_show("text", r->line, r->len);
	}
	free(t);
	return good;
}

/* Edits of every kind the programs make, each checked against a fresh jsmn parse. */
static void
edits(struct wt_rec *r)
{
	const char *key;
	int i;

	wt_rec_set_int(r, "idle_days", 90);
	same_as_jsmn(r);
	wt_rec_set_int(r, "idle_days", -123456);     /* a scalar replaced in place */
	same_as_jsmn(r);
	wt_rec_set_time(r, "active_at", 1780272000);
	same_as_jsmn(r);
	wt_rec_set_str(r, "active_by", "last_accessed");
	same_as_jsmn(r);
	wt_rec_set_str(r, "active_by", "a \"quoted\"\n\xc3\xa9");
	same_as_jsmn(r);
	wt_rec_set_str(r, "k\xc3\xa9y \"q\"", "v");   /* a key that needs escapes */
	same_as_jsmn(r);
	wt_rec_set_raw(r, "sync", "{\"a\":[1,{\"b\":null}],\"c\":\"\\u00e9\"}", 34);
	same_as_jsmn(r);
	wt_rec_set_bool(r, "sync", 1);               /* a container replaced by a scalar */
	same_as_jsmn(r);
	wt_rec_set_null(r, "idle_days");
	same_as_jsmn(r);
	wt_rec_set_num(r, "size", 1.5);
	same_as_jsmn(r);
	/* Every key the record had, replaced or removed in turn. */
	for (i = 1; i < r->ntok && i < 40; i++) {
		char *k;

		if (r->tok[i].parent != 0)
			continue;
		k = wt_rec_tokstr(r, i);
		key = k;
		if (i % 3 == 0)
			wt_rec_del(r, key);
		else if (i % 3 == 1)
			wt_rec_set_str(r, key, "x");
		else
			wt_rec_set_raw(r, key, "[]", 2);
		free(k);
		same_as_jsmn(r);
	}
	wt_rec_del(r, "size");
	same_as_jsmn(r);
}

/* Parses s[0..n); compares when json.c takes it; with edits when asked. */
static void
one(const char *s, size_t n, int edit)
{
	struct wt_rec r = WT_REC_INIT;
	const char *why;

	if (wt_rec_parse(&r, s, n, &why) < 0) {
		refused++;
	} else {
		compared++;
		same_as_jsmn(&r);
		if (edit)
			edits(&r);
	}
	wt_rec_release(&r);
}

/*
 * The C string literals of a test's source, unescaped, adjacent ones on a
 * line joined: the reader and record tests' inputs, good and bad.
 */
static int
corpus(const char *path)
{
	FILE *f = fopen(path, "r");
	struct wt_buf b = WT_BUF_INIT;
	char line[4096], *p;
	int n = 0, in;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		wt_buf_reset(&b);
		in = 0;
		for (p = line; *p && *p != '\n'; p++) {
			if (!in) {
				if (*p == '"')
					in = 1;
				else if (*p == '\'' && p[1] && p[2] == '\'')
					p += 2;
				else if (*p == '\'' && p[1] == '\\' && p[2] && p[3] == '\'')
					p += 3;
				else if (*p == ')' || *p == ',' || *p == ';')
					if (b.len) {
						one(b.s, b.len, 1);
						n++;
						wt_buf_reset(&b);
					}
				continue;
			}
			if (*p == '"') {
				in = 0;
				continue;
			}
			if (*p != '\\' || !p[1]) {
				wt_buf_addc(&b, *p);
				continue;
			}
			switch (*++p) {
			case 'n': wt_buf_addc(&b, '\n'); break;
			case 't': wt_buf_addc(&b, '\t'); break;
			case 'r': wt_buf_addc(&b, '\r'); break;
			case 'b': wt_buf_addc(&b, '\b'); break;
			case 'f': wt_buf_addc(&b, '\f'); break;
			case '0': wt_buf_addc(&b, '\0'); break;
			case 'x': {
				unsigned v = 0;

				while (p[1] && strchr("0123456789abcdefABCDEF", p[1])) {
					p++;
					v = v * 16 + (unsigned)(*p <= '9' ? *p - '0' : (*p | 0x20) - 'a' + 10);
				}
				wt_buf_addc(&b, (int)(v & 0xff));
				break;
			}
			default: wt_buf_addc(&b, *p); break;
			}
		}
		if (b.len) {
			one(b.s, b.len, 1);
			n++;
		}
	}
	fclose(f);
	wt_buf_release(&b);
	return n;
}

static uint64_t state = 0x2545f4914f6cdd1dULL;

static unsigned
rnd(unsigned n)
{
	state ^= state >> 12;
	state ^= state << 25;
	state ^= state >> 27;
	return (unsigned)((state * 0x9e3779b97f4a7c15ULL) >> 33) % n;
}

static void
ws(struct wt_buf *b)
{
	static const char w[] = " \t\r\n";

	while (rnd(6) == 0)
		wt_buf_addc(b, w[rnd(4)]);
}

static void
gen_string(struct wt_buf *b)
{
	static const char *const piece[] = {
		"a", "id", "SPEC-1", " ", "\\\"", "\\\\", "\\/", "\\n", "\\t", "\\u00e9",
		"\\ud83d\\ude00", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "{", "}",
		"[", "]", ":", ",", "0", "true", "'", "\\b\\f\\r", "abcdefghijklmnop",
	};
	int i, n = (int)rnd(6);

	wt_buf_addc(b, '"');
	for (i = 0; i < n; i++)
		wt_buf_adds(b, piece[rnd(sizeof(piece) / sizeof(piece[0]))]);
	wt_buf_addc(b, '"');
}

static void
gen_value(struct wt_buf *b, int depth)
{
	static const char *const prim[] = {
		"0", "-0", "1", "-12", "3.25", "1e9", "-1.5E-3", "2e+2", "123456789012",
		"true", "false", "null",
	};
	int i, n;

	ws(b);
	switch (depth < 5 ? rnd(8) : 2 + rnd(6)) {
	case 0:
		wt_buf_addc(b, '{');
		for (i = 0, n = (int)rnd(4); i < n; i++) {
			if (i)
				wt_buf_addc(b, ',');
			ws(b);
			gen_string(b);
			ws(b);
			wt_buf_addc(b, ':');
			gen_value(b, depth + 1);
		}
		ws(b);
		wt_buf_addc(b, '}');
		break;
	case 1:
		wt_buf_addc(b, '[');
		for (i = 0, n = (int)rnd(4); i < n; i++) {
			if (i)
				wt_buf_addc(b, ',');
			gen_value(b, depth + 1);
		}
		ws(b);
		wt_buf_addc(b, ']');
		break;
	case 2:
	case 3:
	case 4:
		gen_string(b);
		break;
	default:
		wt_buf_adds(b, prim[rnd(sizeof(prim) / sizeof(prim[0]))]);
		break;
	}
	ws(b);
}

/* A record: an object of up to 12 fields, nested values in some. */
static void
gen_record(struct wt_buf *b)
{
	static const char *const keys[] = {
		"id", "path", "repo", "branch", "head", "status", "created_at",
		"last_accessed", "project", "locked", "archived", "archive", "size",
		"error", "x-u", "", "a\\u0062", "\\n", "k\xc3\xa9y",
	};
	struct wt_buf g = WT_BUF_INIT;
	int i, k, n = (int)rnd(13);
	unsigned used = 0;

	wt_buf_reset(b);
	wt_buf_addc(b, '{');
	for (i = 0; i < n; i++) {
		if (i)
			wt_buf_addc(b, ',');
		ws(b);
		/* A key is there once (wt-record(5)): a made-up one starts "rN-". */
		k = (int)rnd(sizeof(keys) / sizeof(keys[0]));
		if (rnd(4) && !(used & 1u << k)) {
			used |= 1u << k;
			wt_buf_addf(b, "\"%s\"", keys[k]);
		} else {
			wt_buf_reset(&g);
			gen_string(&g);
			wt_buf_addf(b, "\"r%d-%s", i, g.s + 1);
		}
		ws(b);
		wt_buf_addc(b, ':');
		gen_value(b, 1);
	}
	ws(b);
	wt_buf_addc(b, '}');
	wt_buf_release(&g);
}

int
main(int argc, char *argv[])
{
	struct wt_buf b = WT_BUF_INIT, m = WT_BUF_INIT;
	static const char junk[] = "{}[]\":,\\ 0e-.tfnx\x80\xc3\n";
	long before, taken;
	int i, j, n;

	for (i = 1; i < argc; i++) {
		before = compared;
		n = corpus(argv[i]);
		ok(n > 0 && !differ, "%s: %d literals, %ld records json.c takes: its tokens are jsmn's, "
		   "also after edits", argv[i], n, compared - before);
	}

	before = compared;
	for (i = 0; i < 20000; i++) {
		gen_record(&b);
		one(b.s, b.len, i % 8 == 0);
	}
	ok(!differ && compared - before == 20000,
	   "20000 generated records: json.c takes every one, with jsmn's tokens");

	/* Broken records: where json.c still takes one, jsmn must agree. */
	before = compared;
	taken = refused;
	for (i = 0; i < 20000; i++) {
		gen_record(&b);
		wt_buf_reset(&m);
		wt_buf_add(&m, b.s, b.len);
		for (j = (int)rnd(3); j >= 0 && m.len > 1; j--) {
			size_t at = rnd((unsigned)m.len);

			switch (rnd(3)) {
			case 0: m.s[at] = junk[rnd(sizeof(junk) - 1)]; break;
			case 1: memmove(m.s + at, m.s + at + 1, m.len - at); m.len--; break;
			default:
				wt_buf_addc(&m, 0);
				memmove(m.s + at + 1, m.s + at, m.len - at - 1);
				m.s[at] = junk[rnd(sizeof(junk) - 1)];
				break;
			}
		}
		one(m.s, m.len, 0);
	}
	ok(!differ && refused > taken,
	   "20000 broken records: %ld refused, jsmn's tokens for the %ld taken",
	   refused - taken, compared - before);
	wt_buf_release(&b);
	wt_buf_release(&m);
	return done_testing();
}
