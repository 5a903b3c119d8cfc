/* obj.c: unit tests of json.c's object builder and error.c's error records. */
#include "wt.h"
#include "tap.h"

static void
is_text(struct wt_obj *o, const char *want, const char *what)
{
	size_t n;
	const char *got = wt_obj_text(o, &n);
	const char *why = NULL;

	is_str(got, want, "%s", what);
	ok(wt_json_check(got, n, 1, &why) == 0, "%s: valid JSON (%s)", what, why ? why : "ok");
}

int
main(void)
{
	struct wt_obj o;

	wt_obj_init(&o);
	is_text(&o, "{}", "an empty object");
	ok(wt_obj_empty(&o), "is empty");
	wt_obj_release(&o);

	wt_obj_init(&o);
	wt_obj_str(&o, "s", "a \"q\"\n\x01 \xc3\xa9");
	wt_obj_str(&o, "n", NULL);
	wt_obj_int(&o, "i", -9007199254740993LL);
	wt_obj_bool(&o, "t", 1);
	wt_obj_bool(&o, "f", 0);
	wt_obj_null(&o, "z");
	wt_obj_raw(&o, "r", "[1,{\"a\":2}]", 11);
	wt_obj_strn(&o, "b", "ab\0c", 4);
	is_text(&o, "{\"s\":\"a \\\"q\\\"\\n\\u0001 \xc3\xa9\",\"n\":null,"
		"\"i\":-9007199254740993,\"t\":true,\"f\":false,\"z\":null,"
		"\"r\":[1,{\"a\":2}],\"b\":\"ab\\u0000c\"}", "members of every type, escaped");
	ok(!wt_obj_empty(&o), "is not empty");
	wt_obj_release(&o);

	wt_obj_init(&o);
	wt_obj_array(&o, "rules");
	wt_obj_str(&o, NULL, "modified");
	wt_obj_str(&o, NULL, "untracked");
	wt_obj_close(&o);
	wt_obj_open(&o, "would");
	wt_obj_bool(&o, "remove", 1);
	wt_obj_array(&o, "dirs");
	wt_obj_close(&o);
	wt_obj_open(&o, "inner");
	wt_obj_int(&o, "x", 1);
	/* Left open: wt_obj_text closes it, and "would" too. */
	is_text(&o, "{\"rules\":[\"modified\",\"untracked\"],\"would\":{\"remove\":true,"
		"\"dirs\":[],\"inner\":{\"x\":1}}}", "arrays and nested objects, closed by text");
	wt_obj_reset(&o);
	wt_obj_int(&o, "again", 2);
	is_text(&o, "{\"again\":2}", "reset starts a new object");
	wt_obj_release(&o);
	return done_testing();
}
