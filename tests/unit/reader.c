/* reader.c: the record stream reader and the JSON validator on edge cases. */
#include <sys/resource.h>

#include "wt.h"
#include "tap.h"

/*
 * Reads in[0..n) with a reader whose line limit is max and returns every
 * record as "LINENO:TEXT\n" in one new string.
 */
static char *
run(const char *in, size_t n, size_t max)
{
	struct wt_buf out = WT_BUF_INIT;
	struct wt_rec r = WT_REC_INIT;
	struct wt_reader *rd;
	FILE *f = tmpfile();
	int rc;

	if (!f || fwrite(in, 1, n, f) != n || fflush(f) == EOF) {
		perror("tmpfile");
		exit(2);
	}
	lseek(fileno(f), 0, SEEK_SET);
	rd = wt_reader_new(fileno(f), max);
	while ((rc = wt_reader_next(rd, &r)) > 0)
		wt_buf_addf(&out, "%ld:%s\n", r.lineno, r.line);
	if (rc < 0)
		wt_buf_adds(&out, "READ ERROR\n");
	wt_reader_free(rd);
	wt_rec_release(&r);
	fclose(f);
	return wt_buf_detach(&out);
}

#define RUN(s, max) run((s), sizeof(s) - 1, (max))

/* The InputError record the reader makes of line n. */
#define INERR(n, msg)                                                          \
	"{\"error\":{\"kind\":\"InputError\",\"message\":\"line " #n ": " msg  \
	"\",\"tool\":\"unit\",\"context\":{\"line\":" #n "}}}"

/* One line that must come out unchanged as record 1. */
static void
passes(const char *line, const char *what)
{
	struct wt_buf in = WT_BUF_INIT, want = WT_BUF_INIT;
	char *got;

	wt_buf_addf(&in, "%s\n", line);
	wt_buf_addf(&want, "1:%s\n", line);
	got = run(in.s, in.len, 0);
	is_str(got, want.s, "accepted byte for byte: %s", what);
	free(got);
	wt_buf_release(&in);
	wt_buf_release(&want);
}

/* One line that must become an InputError whose message is why. */
static void
fails(const char *line, size_t n, const char *why, const char *what)
{
	struct wt_buf in = WT_BUF_INIT, want = WT_BUF_INIT;
	char *got;

	wt_buf_add(&in, line, n);
	wt_buf_addc(&in, '\n');
	wt_buf_addf(&want, "1:{\"error\":{\"kind\":\"InputError\",\"message\":"
			   "\"line 1: %s\",\"tool\":\"unit\",\"context\":{\"line\":1}}}\n",
		    why);
	got = run(in.s, in.len, 0);
	is_str(got, want.s, "rejected (%s): %s", why, what);
	free(got);
	wt_buf_release(&in);
	wt_buf_release(&want);
}

#define FAILS(s, why, what) fails((s), sizeof(s) - 1, (why), (what))

/* The unescaped value of key "s" in the one-line object text. */
static char *
str_of(const char *text)
{
	struct wt_rec r = WT_REC_INIT;
	char *s = NULL;

	if (wt_rec_parse(&r, text, strlen(text), NULL) == 0)
		s = wt_rec_str(&r, "s");
	wt_rec_release(&r);
	return s;
}

static void
test_escapes(void)
{
	char *s;

	passes("{\"s\":\"q\\\"b\\\\s\\/n\\n t\\t b\\b f\\f r\\r\"}", "every short escape");
	s = str_of("{\"s\":\"q\\\"b\\\\s\\/n\\n t\\t b\\b f\\f r\\r\"}");
	is_str(s, "q\"b\\s/n\n t\t b\b f\f r\r", "short escapes unescape");
	free(s);

	s = str_of("{\"s\":\"\\u00e9\\u00C9\\u20ac\"}");
	is_str(s, "\xc3\xa9\xc3\x89\xe2\x82\xac", "\\u escapes, either case of hex");
	free(s);
	s = str_of("{\"s\":\"\\ud83d\\ude00\"}");
	is_str(s, "\xf0\x9f\x98\x80", "a surrogate pair is one code point");
	free(s);
	s = str_of("{\"s\":\"\\uD83D\\uDE00!\"}");
	is_str(s, "\xf0\x9f\x98\x80!", "a surrogate pair in upper-case hex");
	free(s);
	s = str_of("{\"s\":\"a\\ud83d\"}");
	is_str(s, "a\xef\xbf\xbd", "a lone high surrogate at the end is U+FFFD");
	free(s);
	s = str_of("{\"s\":\"\\ud83dx\"}");
	is_str(s, "\xef\xbf\xbdx", "a lone high surrogate before a character is U+FFFD");
	free(s);
	s = str_of("{\"s\":\"\\ude00\"}");
	is_str(s, "\xef\xbf\xbd", "a lone low surrogate is U+FFFD");
	free(s);
	s = str_of("{\"s\":\"\\ude00\\ud83d\"}");
	is_str(s, "\xef\xbf\xbd\xef\xbf\xbd", "a reversed pair is two U+FFFD");
	free(s);
	s = str_of("{\"s\":\"\\ud83d\\ud83d\\ude00\"}");
	is_str(s, "\xef\xbf\xbd\xf0\x9f\x98\x80", "high, then a pair: U+FFFD and the pair");
	free(s);
	s = str_of("{\"s\":\"\\ud83d\\u0041\"}");
	is_str(s, "\xef\xbf\xbd" "A", "high surrogate then \\u0041: U+FFFD and A");
	free(s);
	s = str_of("{\"s\":\"a\\u0000b\"}");
	is_str(s, "a\xef\xbf\xbd" "b", "\\u0000 is U+FFFD, so the value stays a C string");
	free(s);

	{
		struct wt_rec r = WT_REC_INIT;
		const char *t = "{\"x\":\"ab\",\"a\\u0062\":1}";

		wt_rec_parse(&r, t, strlen(t), NULL);
		is_int(wt_rec_find(&r, "ab"), 4, "a key written with an escape is found by its text");
		wt_rec_release(&r);
	}

	FAILS("{\"s\":\"\\x\"}", "bad escape in string", "\\x");
	FAILS("{\"s\":\"\\'\"}", "bad escape in string", "\\'");
	FAILS("{\"s\":\"\\u12\"}", "bad \\\\u escape", "\\u with two digits");
	FAILS("{\"s\":\"\\u12g4\"}", "bad \\\\u escape", "\\u with a non-hex digit");
	FAILS("{\"s\":\"a\tb\"}", "control character in string", "a raw tab in a string");
	FAILS("{\"s\":\"a\\", "unterminated string", "a backslash at the end of the line");
}

static void
test_utf8(void)
{
	passes("{\"s\":\"\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"}", "2, 3 and 4 byte sequences");
	passes("{\"s\":\"\xed\x9f\xbf \xee\x80\x80 \xef\xbf\xbf \xf4\x8f\xbf\xbf\"}",
	       "U+D7FF, U+E000, U+FFFF, U+10FFFF");
	passes("{\"\xc3\xa9t\xc3\xa9\":1}", "a non-ASCII key");

	FAILS("{\"s\":\"\xc0\xaf\"}", "invalid UTF-8", "overlong 2 byte /");
	FAILS("{\"s\":\"\xc1\xbf\"}", "invalid UTF-8", "overlong 2 byte (C1)");
	FAILS("{\"s\":\"\xe0\x80\xaf\"}", "invalid UTF-8", "overlong 3 byte");
	FAILS("{\"s\":\"\xf0\x80\x80\xaf\"}", "invalid UTF-8", "overlong 4 byte");
	FAILS("{\"s\":\"\xed\xa0\x80\"}", "invalid UTF-8", "an encoded high surrogate");
	FAILS("{\"s\":\"\xed\xbf\xbf\"}", "invalid UTF-8", "an encoded low surrogate");
	FAILS("{\"s\":\"\xe2\x82\"}", "invalid UTF-8", "a sequence cut short by the quote");
	FAILS("{\"s\":\"\xf0\x9f\x98\"}", "invalid UTF-8", "a 4 byte sequence cut short");
	FAILS("{\"s\":\"\x80\"}", "invalid UTF-8", "a lone continuation byte");
	FAILS("{\"s\":\"\xf4\x90\x80\x80\"}", "invalid UTF-8", "past U+10FFFF");
	FAILS("{\"s\":\"\xf5\x80\x80\x80\"}", "invalid UTF-8", "lead byte F5");
	FAILS("{\"s\":\"\xfe\xff\"}", "invalid UTF-8", "bytes FE FF");
	FAILS("{\"\xe9t\xe9\":1}", "invalid UTF-8", "Latin-1 in a key");

	ok(wt_utf8_valid("", 0) && wt_utf8_valid("\xf0\x9f\x98\x80", 4) &&
	   !wt_utf8_valid("\xf0\x9f\x98", 3) && !wt_utf8_valid("\xed\xa0\x80", 3),
	   "wt_utf8_valid on complete, truncated and surrogate sequences");
}

static void
test_syntax(void)
{
	passes("{}", "the empty object");
	passes("{ \"a\" : [ 1 , { } , [ ] ] , \"b\" : { \"c\" : null } }", "white space everywhere");
	/* A key twice at the top: JSON leaves open which counts, so it is no record. */
	FAILS("{\"a\":1,\"a\":2}", "duplicate key", "a key twice");
	FAILS("{\"id\":\"x\",\"a\":1,\"b\":2,\"a\":1}", "duplicate key",
	      "a key twice with the same value, another between");
	FAILS("{\"a\\u0062\":1,\"ab\":2}", "duplicate key", "a key twice, once escaped");
	FAILS("{\"ab\":1,\"\\u0061b\":2}", "duplicate key", "the escape second");
	passes("{\"apparent_size\":1,\"artifact_size\":2}",
	       "two keys with one bit of the key filter are two keys");
	passes("{\"a\\u0062\":1,\"ac\":2,\"ab\\\\\":3}", "escaped keys that differ");
	passes("{\"a\":{\"k\":1,\"k\":2},\"b\":[{\"k\":1,\"k\":2}]}",
	       "a key twice inside a value is the value's business");
	passes("{\"n\":[0,-0,1.5e+3,0.0,1E-2,-12.5e10,1e5,123456789012345678901234567890]}",
	       "valid numbers");
	passes("{\"t\":true,\"f\":false,\"n\":null}", "literals");

	FAILS("[1]", "not a JSON object", "an array");
	FAILS("\"x\"", "not a JSON object", "a string");
	FAILS("1", "not a JSON object", "a number");
	FAILS("null", "not a JSON object", "null");
	FAILS("{\"a\":1} x", "trailing characters", "garbage after the object");
	FAILS("{\"a\":1}{\"b\":2}", "trailing characters", "two objects on a line");
	FAILS("{\"a\":1}]", "trailing characters", "a stray bracket");
	FAILS("{\"a\":1,}", "expected a key", "a trailing comma");
	FAILS("{,}", "expected a key", "a lone comma");
	FAILS("{a:1}", "expected a key", "an unquoted key");
	FAILS("{'a':1}", "expected a key", "a single-quoted key");
	FAILS("{\"a\"}", "expected ':'", "a key without a value");
	FAILS("{\"a\" 1}", "expected ':'", "a missing colon");
	FAILS("{\"a\":}", "bad number", "a missing value");
	FAILS("{\"a\":1", "expected ',' or '}'", "an unclosed object");
	FAILS("{\"a\":[1,2}", "expected ',' or ']'", "a mismatched bracket");
	FAILS("{\"a\":\"x", "unterminated string", "an unterminated string");

	FAILS("{\"a\":tru}", "invalid literal", "tru");
	FAILS("{\"a\":nul}", "invalid literal", "nul");
	FAILS("{\"a\":True}", "bad number", "True");
	FAILS("{\"a\":nulll}", "expected ',' or '}'", "nulll");
	FAILS("{\"a\":falsey}", "expected ',' or '}'", "falsey");
	FAILS("{\"a\":NaN}", "bad number", "NaN");
	FAILS("{\"a\":Infinity}", "bad number", "Infinity");

	FAILS("{\"a\":01}", "expected ',' or '}'", "a leading zero");
	FAILS("{\"a\":-01}", "expected ',' or '}'", "a negative leading zero");
	FAILS("{\"a\":1.}", "bad number", "a dot without digits");
	FAILS("{\"a\":1.e5}", "bad number", "a dot then an exponent");
	FAILS("{\"a\":-}", "bad number", "a lone minus");
	FAILS("{\"a\":.5}", "bad number", "no digit before the dot");
	FAILS("{\"a\":1e}", "bad number", "an empty exponent");
	FAILS("{\"a\":1e+}", "bad number", "an exponent with only a sign");
	FAILS("{\"a\":+1}", "bad number", "a plus sign");
	FAILS("{\"a\":0x10}", "expected ',' or '}'", "hex");
}

/* An object nested depth containers deep (the record itself is one). */
static char *
nested(int depth)
{
	struct wt_buf b = WT_BUF_INIT;
	int i;

	wt_buf_adds(&b, "{\"a\":");
	for (i = 1; i < depth; i++)
		wt_buf_adds(&b, i % 2 ? "[" : "{\"k\":");
	wt_buf_adds(&b, "1");
	for (i = depth - 1; i >= 1; i--)
		wt_buf_adds(&b, i % 2 ? "]" : "}");
	wt_buf_adds(&b, "}");
	return wt_buf_detach(&b);
}

static void
test_depth(void)
{
	char *s = nested(WT_MAX_DEPTH), *t = nested(WT_MAX_DEPTH + 1), *u = nested(5000);

	passes(s, "nesting exactly WT_MAX_DEPTH deep");
	fails(t, strlen(t), "nesting too deep", "nesting WT_MAX_DEPTH + 1 deep");
	fails(u, strlen(u), "nesting too deep", "nesting 5000 deep (no stack overflow)");
	free(s);
	free(t);
	free(u);
}

static void
test_lines(void)
{
	char *got;

	got = RUN("\n  \n\t\r\n{\"a\":1}\n\n{\"b\":2}\n", 0);
	is_str(got, "4:{\"a\":1}\n6:{\"b\":2}\n", "blank lines are skipped and still counted");
	free(got);
	got = RUN("{\"a\":1}\r\n{\"b\":2}\r\n\r\n", 0);
	is_str(got, "1:{\"a\":1}\n2:{\"b\":2}\n", "CRLF line ends");
	free(got);
	got = RUN("{\"a\":1}\n{\"b\":2}", 0);
	is_str(got, "1:{\"a\":1}\n2:{\"b\":2}\n", "a missing final newline");
	free(got);
	got = RUN("{\"a\":1}\n{\"b\":2}\r", 0);
	is_str(got, "1:{\"a\":1}\n2:{\"b\":2}\n", "a missing final newline after a CR");
	free(got);
	got = RUN("", 0);
	is_str(got, "", "empty input: no records");
	free(got);
	got = RUN("\n\n \n", 0);
	is_str(got, "", "blank input: no records");
	free(got);
	got = RUN("  {\"a\":1}  \n", 0);
	is_str(got, "1:{\"a\":1}\n", "white space around the object is not part of it");
	free(got);
	got = RUN("{\"a\":1}\nnot json\n{\"b\":2}\n", 0);
	is_str(got, "1:{\"a\":1}\n2:" INERR(2, "not a JSON object") "\n3:{\"b\":2}\n",
	       "a bad line becomes an InputError and reading goes on");
	free(got);
	got = RUN("\0\n{\"a\":1}\n", 0);
	is_str(got, "1:" INERR(1, "not a JSON object") "\n2:{\"a\":1}\n",
	       "a line of NUL bytes is not blank: an InputError");
	free(got);
	got = RUN("{\"a\":1}\0\n", 0);
	is_str(got, "1:" INERR(1, "trailing characters") "\n", "a NUL after the object");
	free(got);
}

static void
test_long_lines(void)
{
	char *got;

	/* The limit counts the line's bytes without its newline. */
	got = RUN("{\"a\":\"0123456789\"}\n{\"a\":\"01234567890\"}\n{\"b\":2}\n", 18);
	is_str(got, "1:{\"a\":\"0123456789\"}\n2:" INERR(2, "line too long") "\n3:{\"b\":2}\n",
	       "a line one byte over the limit is an InputError; the next is read");
	free(got);
	got = RUN("{\"b\":1}\n{\"a\":\"0123456789012345678901234567890123456789\"}", 16);
	is_str(got, "1:{\"b\":1}\n2:" INERR(2, "line too long") "\n",
	       "an over-long last line without a newline");
	free(got);
	got = RUN("{\"a\":\"0123456789012345678901234567890123456789\"}\n"
		  "{\"a\":\"0123456789012345678901234567890123456789\"}\n{\"b\":1}\n", 16);
	is_str(got, "1:" INERR(1, "line too long") "\n2:" INERR(2, "line too long") "\n3:{\"b\":1}\n",
	       "two over-long lines in a row");
	free(got);

	setenv("WT_MAX_LINE", "20", 1);
	got = RUN("{\"a\":\"0123456789abcdef\"}\n{\"b\":1}\n", 0);
	unsetenv("WT_MAX_LINE");
	is_str(got, "1:" INERR(1, "line too long") "\n2:{\"b\":1}\n", "WT_MAX_LINE sets the limit");
	free(got);
}

static void
bad_max_line(void *arg)
{
	struct wt_reader *rd;

	setenv("WT_MAX_LINE", arg, 1);
	rd = wt_reader_new(0, 0);
	wt_reader_free(rd);
}

static void
test_bad_max_line(void)
{
	char *err;
	int st;

	st = run_child(bad_max_line, "lots", &err);
	ok(st == 2 && has(err, "WT_MAX_LINE"), "WT_MAX_LINE=lots: exit 2 naming it (got %d: %s)",
	   st, err);
	free(err);
	st = run_child(bad_max_line, "0", &err);
	ok(st == 2 && has(err, "WT_MAX_LINE"), "WT_MAX_LINE=0: exit 2 naming it (got %d: %s)", st,
	   err);
	free(err);
}

static long
maxrss_kib(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

/* Writes a 64 MiB line, then a record, into the pipe fd. */
static void
huge_writer(int fd)
{
	static char block[65536];
	int i;

	memset(block, 'x', sizeof(block));
	block[0] = '{';
	if (write(fd, block, sizeof(block)) < 0)
		_exit(1);
	block[0] = 'x';
	for (i = 1; i < 1024; i++)
		if (write(fd, block, sizeof(block)) < 0)
			_exit(1);
	if (write(fd, "\n{\"after\":1}\n", 13) < 0)
		_exit(1);
	_exit(0);
}

static void
test_bounded_memory(void)
{
	struct wt_rec r = WT_REC_INIT;
	struct wt_reader *rd;
	struct wt_buf out = WT_BUF_INIT;
	long before, grew;
	int p[2], rc;
	pid_t pid;

	if (pipe(p) < 0)
		exit(2);
	fflush(stdout);
	if ((pid = fork()) == 0) {
		close(p[0]);
		huge_writer(p[1]);
	}
	close(p[1]);
	before = maxrss_kib();
	rd = wt_reader_new(p[0], 0);
	while ((rc = wt_reader_next(rd, &r)) > 0)
		wt_buf_addf(&out, "%ld:%s\n", r.lineno, r.line);
	wt_reader_free(rd);
	close(p[0]);
	waitpid(pid, NULL, 0);
	grew = maxrss_kib() - before;
	is_str(out.s, "1:" INERR(1, "line too long") "\n2:{\"after\":1}\n",
	       "a 64 MiB line at the default limit: InputError, then the next record");
	ok(grew < 16 * 1024, "reading it grew the peak RSS by %ld KiB (under 16 MiB)", grew);
	wt_buf_release(&out);
	wt_rec_release(&r);
}

/* Writes text into fd in chunks of odd sizes, so lines straddle reads. */
static void
chunked_writer(int fd, const char *s, size_t n)
{
	size_t off = 0, k = 1;

	while (off < n) {
		if (k > n - off)
			k = n - off;
		if (write(fd, s + off, k) < 0)
			_exit(1);
		off += k;
		k = k * 7 % 100003 + 1;
	}
	_exit(0);
}

static void
test_many_records(void)
{
	struct wt_buf in = WT_BUF_INIT, out = WT_BUF_INIT;
	struct wt_rec r = WT_REC_INIT;
	struct wt_reader *rd;
	int p[2], i, rc, lines_ok = 1;
	pid_t pid;
	off_t at = 0;

	for (i = 0; i < 30000; i++)
		wt_buf_addf(&in, "{\"id\":\"w%05d\",\"pad\":\"%.*s\"}\n", i, i % 97,
			    "0123456789012345678901234567890123456789012345678901234567890123456789"
			    "01234567890123456789012345678");
	if (pipe(p) < 0)
		exit(2);
	fflush(stdout);
	if ((pid = fork()) == 0) {
		close(p[0]);
		chunked_writer(p[1], in.s, in.len);
	}
	close(p[1]);
	rd = wt_reader_new(p[0], 0);
	while ((rc = wt_reader_next(rd, &r)) > 0) {
		if (wt_reader_offset(rd) != at)
			lines_ok = 0;
		at += (off_t)r.len + 1;
		wt_buf_add(&out, r.line, r.len);
		wt_buf_addc(&out, '\n');
	}
	wt_reader_free(rd);
	close(p[0]);
	waitpid(pid, NULL, 0);
	ok(rc == 0 && out.len == in.len && memcmp(out.s, in.s, in.len) == 0,
	   "30000 records read from a pipe in odd chunks come out byte for byte");
	ok(lines_ok, "wt_reader_offset gives each line's start");
	wt_buf_release(&in);
	wt_buf_release(&out);
	wt_rec_release(&r);
}

/*
 * Random lines around the limit, blank lines and CRLF, read from a pipe in
 * odd chunks: each line must come out as its record or as "line too long".
 */
static void
fuzz_lines(int nlines, size_t max, size_t longest, unsigned seed, const char *what)
{
	struct wt_buf in = WT_BUF_INIT, want = WT_BUF_INIT, got = WT_BUF_INIT, rec = WT_BUF_INIT;
	struct wt_rec r = WT_REC_INIT;
	struct wt_reader *rd;
	int i, p[2], rc;
	size_t len;
	pid_t pid;

	for (i = 1; i <= nlines; i++) {
		unsigned k = (unsigned)rand_r(&seed);

		if (k % 17 == 0) {
			wt_buf_adds(&in, k % 2 ? "\n" : "  \r\n");
			continue;
		}
		len = 16 + (size_t)rand_r(&seed) % longest;
		/* Now and then exactly at the limit, or one past it. */
		if (k % 11 == 0)
			len = max + (k % 2);
		wt_buf_reset(&rec);
		wt_buf_addf(&rec, "{\"i\":%d,\"p\":\"", i);
		while (rec.len + 2 < len)
			wt_buf_addc(&rec, 'a' + (char)(rec.len % 26));
		wt_buf_adds(&rec, "\"}");
		wt_buf_add(&in, rec.s, rec.len);
		wt_buf_adds(&in, k % 3 ? "\n" : "\r\n");
		if (rec.len + (k % 3 ? 0 : 1) > max)
			wt_buf_addf(&want, "%d:" "{\"error\":{\"kind\":\"InputError\",\"message\":"
				    "\"line %d: line too long\",\"tool\":\"unit\",\"context\":"
				    "{\"line\":%d}}}\n", i, i, i);
		else
			wt_buf_addf(&want, "%d:%s\n", i, rec.s);
	}
	if (pipe(p) < 0)
		exit(2);
	fflush(stdout);
	if ((pid = fork()) == 0) {
		close(p[0]);
		chunked_writer(p[1], in.s, in.len);
	}
	close(p[1]);
	rd = wt_reader_new(p[0], max);
	while ((rc = wt_reader_next(rd, &r)) > 0)
		wt_buf_addf(&got, "%ld:%s\n", r.lineno, r.line);
	wt_reader_free(rd);
	close(p[0]);
	waitpid(pid, NULL, 0);
	ok(rc == 0 && got.len == want.len && memcmp(got.s, want.s, got.len) == 0,
	   "%s: every line a record or a line too long, with its number", what);
	wt_buf_release(&in);
	wt_buf_release(&want);
	wt_buf_release(&got);
	wt_buf_release(&rec);
	wt_rec_release(&r);
}

static void
test_read_error(void)
{
	struct wt_rec r = WT_REC_INIT;
	int fd = open("/", O_RDONLY | O_DIRECTORY);
	struct wt_reader *rd = wt_reader_new(fd, 0);

	is_int(wt_reader_next(rd, &r), -1, "a read error is -1, not end of input");
	close(fd);
	wt_reader_free(rd);
	wt_rec_release(&r);
}

static void
test_check(void)
{
	const char *why = NULL;

	ok(wt_json_check("1", 1, 0, &why) == 0 && wt_json_check(" \"x\" ", 5, 0, &why) == 0 &&
	   wt_json_check("[]", 2, 0, &why) == 0, "wt_json_check takes any value when asked");
	ok(wt_json_check("", 0, 0, &why) < 0 && wt_json_check("1 2", 3, 0, &why) < 0,
	   "wt_json_check refuses nothing and two values");
	ok(wt_json_check("{}", 2, 1, &why) == 0 && wt_json_check("[]", 2, 1, &why) < 0,
	   "wt_json_check with want_object");
}

int
main(void)
{
	wt_setprogname("unit");
	clean_env();
	stderr_begin();
	test_escapes();
	test_utf8();
	test_syntax();
	test_depth();
	test_lines();
	test_long_lines();
	test_check();
	free(stderr_end());
	test_bad_max_line();
	stderr_begin();
	test_bounded_memory();
	test_many_records();
	fuzz_lines(5000, 1000, 2500, 1, "5000 random lines around a 1000 byte limit");
	fuzz_lines(60, WT_MAX_LINE_DEFAULT, 3 * WT_MAX_LINE_DEFAULT, 2,
		   "60 random lines of up to 3 MiB around the default limit");
	test_read_error();
	free(stderr_end());
	return done_testing();
}
