/* error.c: error records, messages and the end-of-run stdout check. */
#include <err.h>
#include <signal.h>
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
wt_rec_verror(struct wt_rec *r, const char *kind, struct wt_obj *ctx,
	      const char *fmt, va_list ap)
{
	struct wt_buf msg = WT_BUF_INIT;
	struct wt_obj obj;
	const char *text;
	size_t n;
	va_list aq;
	char *id;
	int len;

	va_copy(aq, ap);
	len = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	wt_buf_grow(&msg, len > 0 ? (size_t)len + 1 : 1);
	vsnprintf(msg.s, msg.cap, fmt, ap);
	msg.len = len > 0 ? (size_t)len : 0;

	wt_obj_init(&obj);
	wt_obj_str(&obj, "kind", kind);
	wt_obj_strn(&obj, "message", msg.s, msg.len);
	wt_obj_str(&obj, "tool", wt_progname);
	if (ctx) {
		text = wt_obj_text(ctx, &n);
		wt_obj_raw(&obj, "context", text, n);
	}
	text = wt_obj_text(&obj, &n);
	if (!r->ntok)
		wt_rec_clear(r);
	wt_rec_set_raw(r, "error", text, n);

	id = wt_rec_str(r, "id");
	if (id)
		fprintf(stderr, "%s: '%s': %s\n", wt_progname, id, msg.s);
	else
		fprintf(stderr, "%s: %s\n", wt_progname, msg.s);
	free(id);
	wt_buf_release(&msg);
	wt_obj_release(&obj);
}

void
wt_rec_error(struct wt_rec *r, const char *kind, struct wt_obj *ctx,
	     const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	wt_rec_verror(r, kind, ctx, fmt, ap);
	va_end(ap);
}

/*
 * Which refusals are skips: what is in use or locked now, and the main
 * worktree that wt-ls lists first in every pipeline, are no failure of
 * the run. A clone sitting at a registered path (also "main") is one.
 */
static int
is_skip(const struct wt_rec *r, const char *rule)
{
	int main = 0;

	if (!strcmp(rule, "locked") || !strcmp(rule, "in_use") || !strcmp(rule, "git_running"))
		return 1;
	return !strcmp(rule, "main") && wt_rec_bool(r, "main", &main) == 0 && main;
}

/* The skipped object: reason, message, then ctx's members; said on stderr. */
static void
skip_v(struct wt_rec *r, const char *reason, struct wt_obj *ctx, const char *fmt,
       va_list ap)
{
	struct wt_obj full;
	const char *text;
	size_t n;
	char *msg = NULL, *id;
	int len;

	wt_obj_init(&full);
	len = vasprintf(&msg, fmt, ap);
	wt_obj_str(&full, "reason", reason);
	wt_obj_str(&full, "message", len < 0 ? "" : msg);
	/* ctx's members follow: its text without the braces. */
	if (ctx && !wt_obj_empty(ctx)) {
		text = wt_obj_text(ctx, &n);
		wt_buf_addc(&full.b, ',');
		wt_buf_add(&full.b, text + 1, n - 2);
	}
	if (!r->ntok)
		wt_rec_clear(r);
	wt_rec_set_obj(r, "skipped", &full);
	/* The main worktree is skipped in every pipeline: not worth a line. */
	if (strcmp(reason, "main") != 0 && (id = wt_rec_str(r, "id"))) {
		fprintf(stderr, "%s: '%s': skipped: %s\n", wt_progname, id, len < 0 ? "" : msg);
		free(id);
	}
	if (len >= 0)
		free(msg);
	wt_obj_release(&full);
}

void
wt_rec_skip(struct wt_rec *r, const char *reason, struct wt_obj *ctx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	skip_v(r, reason, ctx, fmt, ap);
	va_end(ap);
}

void
wt_rec_refuse(struct wt_rec *r, const char *rule, struct wt_obj *ctx,
	      const char *fmt, ...)
{
	struct wt_obj full;
	const char *text;
	size_t n;
	va_list ap;

	va_start(ap, fmt);
	if (is_skip(r, rule)) {
		skip_v(r, rule, ctx, fmt, ap);
		va_end(ap);
		return;
	}
	wt_obj_init(&full);
	wt_obj_str(&full, "rule", rule);
	/* ctx's members follow: its text without the braces. */
	if (ctx && !wt_obj_empty(ctx)) {
		text = wt_obj_text(ctx, &n);
		wt_buf_addc(&full.b, ',');
		wt_buf_add(&full.b, text + 1, n - 2);
	}
	wt_rec_verror(r, WT_E_BASE, &full, fmt, ap);
	va_end(ap);
	wt_obj_release(&full);
}

void
wt_would_init(struct wt_obj *o, const char *action)
{
	wt_obj_init(o);
	wt_obj_str(o, "action", action);
}

struct wt_obj *
wt_ctx_at(struct wt_obj *ctx, const char *step, const char *path)
{
	wt_obj_reset(ctx);
	wt_obj_str(ctx, "step", step);
	if (path)
		wt_obj_str(ctx, "path", path);
	return ctx;
}

struct wt_obj *
wt_ctx_registry(struct wt_obj *ctx, const char *registry, const char *operation,
		const char *step)
{
	wt_obj_reset(ctx);
	wt_obj_str(ctx, "registry_path", registry);
	wt_obj_str(ctx, "operation", operation);
	if (step)
		wt_obj_str(ctx, "step", step);
	return ctx;
}

void
wt_rec_registry_error(struct wt_rec *r, const char *registry, const char *operation,
		      const char *fmt, ...)
{
	struct wt_obj ctx;
	va_list ap;

	wt_obj_init(&ctx);
	wt_ctx_registry(&ctx, registry, operation, NULL);
	va_start(ap, fmt);
	wt_rec_verror(r, WT_E_REGISTRY, &ctx, fmt, ap);
	va_end(ap);
	wt_obj_release(&ctx);
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

void
wt_test_pause(const char *step)
{
	const char *at = getenv("WT_TEST_PAUSE");

	if (at && strcmp(at, step) == 0) {
		fprintf(stderr, "%s: paused at %s\n", wt_progname, step);
		raise(SIGSTOP);
	}
}
