/* record.c: reading and editing records: every other byte stays as it was. */
#include <math.h>

#include "wt.h"
#include "tap.h"

static struct wt_rec r = WT_REC_INIT;

static void
load(const char *text)
{
	const char *why = "?";

	if (wt_rec_parse(&r, text, strlen(text), &why) < 0) {
		printf("# cannot parse %s: %s\n", text, why);
		exit(2);
	}
}

/* 1 when the record's text is still one valid object the reader would take. */
static int
valid(void)
{
	const char *why;

	return wt_json_check(r.line, r.len, 1, &why) == 0 && strlen(r.line) == r.len;
}

static void
test_get(void)
{
	const char *raw;
	size_t n;
	double v;
	int b;
	char *s;

	load("{\"id\":\"a\\u00e9\\n\",\"n\":-1.5e2,\"t\":true,\"f\":false,\"z\":null,"
	     "\"o\":{\"id\":\"inner\"},\"l\":[1,\"id\"],\"s\":\"12\"}");
	s = wt_rec_str(&r, "id");
	is_str(s, "a\xc3\xa9\n", "wt_rec_str unescapes");
	free(s);
	ok(wt_rec_num(&r, "n", &v) == 0 && v == -150, "wt_rec_num reads -1.5e2");
	ok(wt_rec_num(&r, "s", &v) < 0 && wt_rec_num(&r, "t", &v) < 0 &&
	   wt_rec_num(&r, "none", &v) < 0, "wt_rec_num refuses a string, a bool and an absent key");
	ok(wt_rec_bool(&r, "t", &b) == 0 && b == 1 && wt_rec_bool(&r, "f", &b) == 0 && b == 0,
	   "wt_rec_bool reads true and false");
	ok(wt_rec_bool(&r, "z", &b) < 0 && wt_rec_bool(&r, "n", &b) < 0 &&
	   wt_rec_bool(&r, "s", &b) < 0, "wt_rec_bool refuses null, a number and a string");
	ok(wt_rec_is_null(&r, "z") && !wt_rec_is_null(&r, "t") && !wt_rec_is_null(&r, "none"),
	   "wt_rec_is_null");
	raw = wt_rec_raw(&r, "o", &n);
	is_mem(raw, n, "{\"id\":\"inner\"}", 14, "wt_rec_raw of an object");
	raw = wt_rec_raw(&r, "id", &n);
	is_mem(raw, n, "\"a\\u00e9\\n\"", 11, "wt_rec_raw of a string keeps quotes and escapes");
	ok(wt_rec_str(&r, "n") == NULL && wt_rec_str(&r, "o") == NULL,
	   "wt_rec_str of a number or an object is NULL");
	is_int(wt_rec_find(&r, "inner"), -1, "a nested value is not a top-level key");
	is_int(wt_rec_find_in(&r, wt_rec_find(&r, "o"), "id"), wt_rec_find(&r, "o") + 2,
	       "wt_rec_find_in looks inside one object");
	load("{\"k\":\"a\",\"a\":1}");
	is_int(wt_rec_find(&r, "a"), 4, "a string value equal to a key is not taken for the key");
}

/* Applies fn to a record made of text and compares the result with want. */
#define EDIT(text, stmt, want, ...)                                            \
	do {                                                                   \
		load(text);                                                    \
		stmt;                                                          \
		is_str(r.line, (want), __VA_ARGS__);                           \
	} while (0)

static void
test_set(void)
{
	EDIT("{\"id\":\"x\", \"a\" : 1 ,\"b\":[1, 2]}", wt_rec_set_str(&r, "a", "new"),
	     "{\"id\":\"x\", \"a\" : \"new\" ,\"b\":[1, 2]}",
	     "set replaces a value in place, spacing around it kept");
	EDIT("{\"a\":{\"deep\":[1,{\"x\":2}]},\"b\":2}", wt_rec_set_int(&r, "a", 7),
	     "{\"a\":7,\"b\":2}", "set replaces an object value");
	EDIT("{\"a\":\"long string value\",\"b\":2}", wt_rec_set_raw(&r, "a", "[1,2]", 5),
	     "{\"a\":[1,2],\"b\":2}", "set replaces a string with raw JSON");
	EDIT("{\"a\":1,\"b\":2}", wt_rec_set_bool(&r, "b", 0), "{\"a\":1,\"b\":false}",
	     "set replaces the last value");
	EDIT("{}", wt_rec_set_int(&r, "k", 1), "{\"k\":1}", "set appends to {}");
	EDIT("{ }", wt_rec_set_int(&r, "k", 1), "{ \"k\":1}", "set appends to { }");
	EDIT("{\"a\":1}", wt_rec_set_null(&r, "k"), "{\"a\":1,\"k\":null}",
	     "set appends after the last field");
	EDIT("{ \"a\": 1 }", wt_rec_set_int(&r, "k", 2), "{ \"a\": 1,\"k\":2 }",
	     "set appends before the white space that ends the object");
	EDIT("{\"a\":{\"b\":1}}", wt_rec_set_int(&r, "k", 2), "{\"a\":{\"b\":1},\"k\":2}",
	     "set appends after a nested object, not inside it");
	EDIT("{\"a\":1}", wt_rec_set_str(&r, "q\"k\\", "v\"\n\x01"),
	     "{\"a\":1,\"q\\\"k\\\\\":\"v\\\"\\n\\u0001\"}", "a key and a value with escapes");
	ok(valid() && wt_rec_find(&r, "q\"k\\") == 4, "the escaped key is found by its text");
	wt_rec_set_int(&r, "q\"k\\", 5);
	is_str(r.line, "{\"a\":1,\"q\\\"k\\\\\":5}", "and replaced in place");
	EDIT("{\"a\\u0062\":1}", wt_rec_set_int(&r, "ab", 2), "{\"a\\u0062\":2}",
	     "a key written with \\u is replaced, its spelling kept");

	load("{\"a\":1}");
	ok(wt_rec_set_raw(&r, "b", "{\"x\":", 5) < 0 && strcmp(r.line, "{\"a\":1}") == 0,
	   "set_raw of invalid JSON fails and changes nothing");
	ok(wt_rec_set_raw(&r, "b", "01", 2) < 0 && wt_rec_set_raw(&r, "b", "", 0) < 0,
	   "set_raw refuses a bad number and nothing at all");

	EDIT("{\"a\":1}", wt_rec_set_num(&r, "x", 1.5), "{\"a\":1,\"x\":1.5}", "set_num 1.5");
	EDIT("{\"a\":1}", wt_rec_set_num(&r, "x", 3.0), "{\"a\":1,\"x\":3}",
	     "set_num of a whole number writes an integer");
	EDIT("{\"a\":1}", wt_rec_set_num(&r, "x", NAN), "{\"a\":1,\"x\":null}",
	     "set_num of NaN writes null");
	EDIT("{\"a\":1}", wt_rec_set_num(&r, "x", INFINITY), "{\"a\":1,\"x\":null}",
	     "set_num of infinity writes null");
	{
		double v = 0;

		load("{}");
		wt_rec_set_num(&r, "x", 1e300);
		ok(valid() && wt_rec_num(&r, "x", &v) == 0 && v == 1e300,
		   "set_num of 1e300 round-trips (%s)", r.line);
		wt_rec_set_num(&r, "x", 0.1);
		ok(valid() && wt_rec_num(&r, "x", &v) == 0 && v == 0.1,
		   "set_num of 0.1 round-trips (%s)", r.line);
	}
	EDIT("{}", wt_rec_set_int(&r, "x", -9223372036854775807LL - 1),
	     "{\"x\":-9223372036854775808}", "set_int of the smallest long long");
	EDIT("{}", wt_rec_set_time(&r, "t", 0), "{\"t\":\"1970-01-01T00:00:00Z\"}",
	     "set_time writes UTC");

	wt_rec_release(&r);
	wt_rec_set_str(&r, "id", "x");
	is_str(r.line, "{\"id\":\"x\"}", "set on a fresh record makes the object");
	wt_rec_release(&r);
	is_int(wt_rec_del(&r, "id"), -1, "del on a fresh record: absent");
}

/* An object nested depth containers deep. */
static char *
nested(int depth)
{
	struct wt_buf b = WT_BUF_INIT;
	int i;

	for (i = 0; i < depth; i++)
		wt_buf_adds(&b, "[");
	for (i = 0; i < depth; i++)
		wt_buf_adds(&b, "]");
	return wt_buf_detach(&b);
}

static void
test_set_depth(void)
{
	char *ok_raw = nested(WT_MAX_DEPTH - 1), *deep = nested(WT_MAX_DEPTH);

	load("{\"a\":1}");
	ok(wt_rec_set_raw(&r, "v", ok_raw, strlen(ok_raw)) == 0 && valid(),
	   "a value WT_MAX_DEPTH - 1 deep fits in a record");
	load("{\"a\":1}");
	ok(wt_rec_set_raw(&r, "v", deep, strlen(deep)) < 0 || valid(),
	   "a value WT_MAX_DEPTH deep is refused rather than making a record the reader rejects");
	free(ok_raw);
	free(deep);
}

static void
test_del(void)
{
	EDIT("{\"a\":1,\"b\":2,\"c\":3}", wt_rec_del(&r, "a"), "{\"b\":2,\"c\":3}", "del first");
	EDIT("{\"a\":1,\"b\":2,\"c\":3}", wt_rec_del(&r, "b"), "{\"a\":1,\"c\":3}", "del middle");
	EDIT("{\"a\":1,\"b\":2,\"c\":3}", wt_rec_del(&r, "c"), "{\"a\":1,\"b\":2}", "del last");
	EDIT("{\"a\":1}", wt_rec_del(&r, "a"), "{}", "del the only key");
	EDIT("{ \"a\" : 1 , \"b\" : 2 }", wt_rec_del(&r, "a"), "{ \"b\" : 2 }",
	     "del first with spaces");
	/* The comma goes with the last pair; the space before it stays. */
	EDIT("{ \"a\" : 1 , \"b\" : 2 }", wt_rec_del(&r, "b"), "{ \"a\" : 1  }",
	     "del last with spaces");
	EDIT("{ \"a\" : 1 }", wt_rec_del(&r, "a"), "{  }", "del the only key with spaces");
	EDIT("{\"a\":{\"x\":[1,2]},\"b\":[{\"a\":1}],\"c\":\"a\"}", wt_rec_del(&r, "b"),
	     "{\"a\":{\"x\":[1,2]},\"c\":\"a\"}", "del a value holding objects");
	EDIT("{\"x\":{\"a\":1},\"a\":2}", wt_rec_del(&r, "a"), "{\"x\":{\"a\":1}}",
	     "del takes the top-level key, not a nested one");
	EDIT("{\"a\\\"b\":1,\"c\\u0064\":2,\"e\":3}", wt_rec_del(&r, "a\"b"),
	     "{\"c\\u0064\":2,\"e\":3}", "del of a key with an escaped quote");
	EDIT("{\"a\\\"b\":1,\"c\\u0064\":2,\"e\":3}", wt_rec_del(&r, "cd"),
	     "{\"a\\\"b\":1,\"e\":3}", "del of a key written with \\u");
	load("{\"a\":1,\"b\":2}");
	ok(wt_rec_del(&r, "zz") == -1 && strcmp(r.line, "{\"a\":1,\"b\":2}") == 0,
	   "del of an absent key: -1, nothing changed");
	ok(wt_rec_del(&r, "a") == 0 && wt_rec_find(&r, "b") == 2 && valid(),
	   "after del the tokens match the text");
}

/*
 * Random edits against a model: the record must always equal the model's
 * compact text, so every byte not edited is where it was.
 */
static void
test_model(void)
{
	static const char *const keys[] = { "a", "b\"q", "\xc3\xa9", "k3", "id", "x\\y",
					    "\xf0\x9f\x98\x80", "" };
	static const char *const vals[] = { "1", "\"s\"", "[1,{\"x\":2}]", "{\"y\":null}",
					    "true", "null", "\"\\u00e9\\\"\"", "-0.5e3" };
	enum { NK = sizeof(keys) / sizeof(keys[0]), NV = sizeof(vals) / sizeof(vals[0]) };
	int present[NK], order[NK], val[NK], n = 0, i, j, k, step, bad = -1;
	struct wt_buf want = WT_BUF_INIT;
	unsigned seed = 12345;

	memset(present, 0, sizeof(present));
	load("{}");
	for (step = 0; step < 5000 && bad < 0; step++) {
		k = (int)(rand_r(&seed) % NK);
		if (rand_r(&seed) % 3 == 0) {
			int rc = wt_rec_del(&r, keys[k]);

			if (rc != (present[k] ? 0 : -1))
				bad = step;
			if (present[k]) {
				for (i = 0; order[i] != k; i++)
					;
				for (j = i; j < n - 1; j++)
					order[j] = order[j + 1];
				n--;
				present[k] = 0;
			}
		} else {
			int v = (int)(rand_r(&seed) % NV);

			wt_rec_set_raw(&r, keys[k], vals[v], strlen(vals[v]));
			if (!present[k]) {
				order[n++] = k;
				present[k] = 1;
			}
			val[k] = v;
		}
		wt_buf_reset(&want);
		wt_buf_addc(&want, '{');
		for (i = 0; i < n; i++) {
			if (i)
				wt_buf_addc(&want, ',');
			wt_json_strz(&want, keys[order[i]]);
			wt_buf_addc(&want, ':');
			wt_buf_adds(&want, vals[val[order[i]]]);
		}
		wt_buf_addc(&want, '}');
		if (strcmp(want.s, r.line) != 0 || !valid())
			bad = step;
	}
	ok(bad < 0, "5000 random sets and dels match the model (first difference at step %d)",
	   bad);
	if (bad >= 0) {
		diag("want %s", want.s);
		diag("got  %s", r.line);
	}
	wt_buf_release(&want);
}

static void
test_json_str(void)
{
	struct wt_buf b = WT_BUF_INIT;
	char all[256], *u;
	const char *why;
	int i;

	wt_json_str(&b, "\"\\/\n\r\t\b\f\x01\x1f\x7f", 11);
	is_str(b.s, "\"\\\"\\\\/\\n\\r\\t\\b\\f\\u0001\\u001f\x7f\"",
	       "wt_json_str escapes quotes, backslashes and control characters only");
	for (i = 1; i < 128; i++)
		all[i - 1] = (char)i;
	memcpy(all + 127, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xef\xbf\xbf", 12);
	wt_buf_reset(&b);
	wt_json_str(&b, all, 139);
	ok(wt_json_check(b.s, b.len, 0, &why) == 0, "every ASCII character escaped is valid JSON");
	u = wt_json_unescape(b.s + 1, b.len - 2);
	is_mem(u, strlen(u), all, 139, "and unescapes to the same bytes");
	free(u);

	wt_buf_reset(&b);
	wt_json_str(&b, "a\xff" "b\xc0\xaf" "c\xed\xa0\x80", 9);
	is_str(b.s, "\"a\xef\xbf\xbd" "b\xef\xbf\xbd\xef\xbf\xbd" "c\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"",
	       "invalid UTF-8 is written as U+FFFD, byte by byte");
	ok(wt_json_check(b.s, b.len, 0, &why) == 0, "so the output is valid JSON");
	wt_buf_reset(&b);
	wt_json_str(&b, "a\0b", 3);
	is_str(b.s, "\"a\\u0000b\"", "a NUL byte is written as \\u0000");
	wt_buf_release(&b);

	/* Round trip through a record: set a string, read it back. */
	load("{}");
	all[0] = 'x';
	all[127] = '\0';
	wt_rec_set_str(&r, "all", all);
	u = wt_rec_str(&r, "all");
	is_str(u, all, "a string set in a record reads back the same");
	free(u);
}

static void
test_error(void)
{
	char *err;
	const char *raw;
	struct wt_obj ctx;
	size_t n;

	load("{\"id\":\"w1\",\"path\":\"/p\"}");
	stderr_begin();
	wt_obj_init(&ctx);
	wt_obj_str(&ctx, "sync_state", "conflict");
	wt_rec_error(&r, WT_E_SYNC, &ctx, "cannot rebase '%s'", "main");
	wt_obj_release(&ctx);
	err = stderr_end();
	is_str(r.line, "{\"id\":\"w1\",\"path\":\"/p\",\"error\":{\"kind\":\"SynchronizationError\","
		       "\"message\":\"cannot rebase 'main'\",\"tool\":\"unit\","
		       "\"context\":{\"sync_state\":\"conflict\"}}}",
	       "wt_rec_error appends the error object, the record kept");
	is_str(err, "unit: 'w1': cannot rebase 'main'", "and says so on stderr, naming the id");
	free(err);
	ok(wt_rec_has_error(&r), "wt_rec_has_error sees it");
	stderr_begin();
	wt_rec_error(&r, WT_E_BASE, NULL, "again");
	free(stderr_end());
	raw = wt_rec_raw(&r, "error", &n);
	is_mem(raw, n, "{\"kind\":\"WorktreeError\",\"message\":\"again\",\"tool\":\"unit\"}", 56,
	       "a second error replaces the first; no context, none written");
	stderr_begin();
	wt_obj_init(&ctx);
	wt_obj_int(&ctx, "untracked", 7);
	wt_rec_refuse(&r, "untracked", &ctx, "%d untracked", 7);
	wt_obj_release(&ctx);
	free(stderr_end());
	raw = wt_rec_raw(&r, "error", &n);
	is_mem(raw, n, "{\"kind\":\"WorktreeError\",\"message\":\"7 untracked\",\"tool\":\"unit\","
	       "\"context\":{\"rule\":\"untracked\",\"untracked\":7}}", 107,
	       "a refusal's context is its rule, then the caller's members");
	load("{\"id\":\"w1\",\"path\":\"/p\"}");
	stderr_begin();
	wt_obj_init(&ctx);
	wt_obj_int(&ctx, "pid", 7);
	wt_rec_refuse(&r, "in_use", &ctx, "in use by %d", 7);
	wt_obj_release(&ctx);
	err = stderr_end();
	is_str(r.line, "{\"id\":\"w1\",\"path\":\"/p\",\"skipped\":{\"reason\":\"in_use\","
	       "\"message\":\"in use by 7\",\"pid\":7}}", "in use is a skip: a result, no error");
	is_str(err, "unit: 'w1': skipped: in use by 7", "said on stderr as a skip");
	free(err);
	load("{\"id\":\"r\",\"path\":\"/r\",\"main\":true}");
	stderr_begin();
	wt_rec_refuse(&r, "main", NULL, "the main worktree");
	err = stderr_end();
	ok(!wt_rec_has_error(&r) && wt_rec_find(&r, "skipped") >= 0 && !*err,
	   "the main worktree wt-ls lists is skipped, quietly");
	free(err);
	load("{\"id\":\"r\",\"path\":\"/r\"}");
	stderr_begin();
	wt_rec_refuse(&r, "main", NULL, "a clone at the path");
	free(stderr_end());
	ok(wt_rec_has_error(&r), "a record that does not say main is refused");
	load("{\"error\":\"text\"}");
	ok(!wt_rec_has_error(&r), "an error field that is not an object is no error record");
}

static void
write_full(void *arg)
{
	(void)arg;
	if (!freopen("/dev/full", "w", stdout))
		_exit(3);
	load("{\"a\":1}");
	wt_rec_write(&r, stdout);
	wt_flush_stdout();
}

static void
test_write(void)
{
	char *err;
	int st;

	if (access("/dev/full", W_OK) < 0) {
		skip(1, "no /dev/full");
		return;
	}
	st = run_child(write_full, NULL, &err);
	ok(st == 2 && has(err, "No space"), "a full stdout is a fatal error, exit 2 (%d: %s)", st,
	   err);
	free(err);
}

int
main(void)
{
	wt_setprogname("unit");
	clean_env();
	test_get();
	test_set();
	test_set_depth();
	test_del();
	test_model();
	test_json_str();
	test_error();
	test_write();
	wt_rec_release(&r);
	return done_testing();
}
