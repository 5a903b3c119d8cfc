/* error.c: error records, messages and the end-of-run stdout check. */
#include <err.h>
#include <stdlib.h>
#include <string.h>

#include "wt.h"

const char *wt_progname = "wt";

void
wt_setprogname(const char *argv0)
{
	const char *s = strrchr(argv0, '/');

	wt_progname = s ? s + 1 : argv0;
}

void
wt_rec_error(struct wt_rec *r, const char *kind, const char *ctx,
	     const char *fmt, ...)
{
	struct wt_buf msg = WT_BUF_INIT, obj = WT_BUF_INIT;
	const char *why;
	va_list ap;
	char *id;
	int n;

	wt_buf_grow(&msg, 128);
	va_start(ap, fmt);
	n = vsnprintf(msg.s, msg.cap, fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n >= msg.cap) {
		wt_buf_grow(&msg, (size_t)n);
		va_start(ap, fmt);
		vsnprintf(msg.s, msg.cap, fmt, ap);
		va_end(ap);
	}
	msg.len = n > 0 ? (size_t)n : 0;

	wt_buf_adds(&obj, "{\"kind\":");
	wt_json_strz(&obj, kind);
	wt_buf_adds(&obj, ",\"message\":");
	wt_json_str(&obj, msg.s, msg.len);
	wt_buf_adds(&obj, ",\"tool\":");
	wt_json_strz(&obj, wt_progname);
	if (ctx && wt_json_check(ctx, strlen(ctx), 1, &why) == 0) {
		wt_buf_adds(&obj, ",\"context\":");
		wt_buf_adds(&obj, ctx);
	}
	wt_buf_addc(&obj, '}');
	if (!r->ntok)
		wt_rec_clear(r);
	wt_rec_set_raw(r, "error", obj.s, obj.len);

	id = wt_rec_str(r, "id");
	if (id)
		fprintf(stderr, "%s: '%s': %s\n", wt_progname, id, msg.s);
	else
		fprintf(stderr, "%s: %s\n", wt_progname, msg.s);
	free(id);
	wt_buf_release(&msg);
	wt_buf_release(&obj);
}

int
wt_rec_has_error(const struct wt_rec *r)
{
	int t = wt_rec_find(r, "error");

	return t >= 0 && r->tok[t].type == JSMN_OBJECT;
}

void
wt_flush_stdout(void)
{
	if (fflush(stdout) == EOF || ferror(stdout))
		err(WT_EXIT_FATAL, "stdout");
}
