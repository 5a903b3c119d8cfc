/* moai.c: the MoAI-ADK worktree registry (.moai-worktree-registry.json) read as records. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wt.h"

#define MOAI_MAX (256L * 1024 * 1024)

/* Past white space, within [p, e). */
static const char *
skip_ws(const char *p, const char *e)
{
	while (p < e && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
		p++;
	return p;
}

int
wt_moai_detect(const char *head, size_t n)
{
	const char *nl = memchr(head, '\n', n), *e = head + n, *p = skip_ws(head, e), *key;
	struct wt_rec r = WT_REC_INIT;
	size_t klen;
	int moai;

	if (p >= e || *p != '{')
		return 0;
	/* An NDJSON registry's first line is a whole record with an id. */
	if (wt_rec_parse(&r, head, nl ? (size_t)(nl - head) : n, NULL) == 0) {
		moai = wt_rec_find(&r, "id") < 0 && wt_rec_find(&r, "path") < 0;
		wt_rec_release(&r);
		return moai;
	}
	wt_rec_release(&r);
	/*
	 * The first line is not a whole object: a MoAI file written with
	 * indents, or a record longer than the head we were given. The first
	 * member tells: a MoAI file maps a SPEC ID to an entry or a list of
	 * entries; a record starts with id, path or some other field.
	 */
	p = skip_ws(p + 1, e);
	if (p >= e || *p != '"')
		return 1;
	key = ++p;
	while (p < e && *p != '"')
		p += *p == '\\' ? 2 : 1;
	if (p >= e)
		return 1;
	klen = (size_t)(p - key);
	if ((klen == 2 && memcmp(key, "id", 2) == 0) ||
	    (klen == 4 && memcmp(key, "path", 4) == 0))
		return 0;
	p = skip_ws(p + 1, e);
	if (p >= e || *p != ':')
		return 1;
	p = skip_ws(p + 1, e);
	return p >= e || *p == '{' || *p == '[';
}

/* Appends "name":value (raw JSON text) to b, a comma first when needed. */
static void
add_raw(struct wt_buf *b, const char *name, const char *v, size_t n)
{
	if (b->len > 1)
		wt_buf_addc(b, ',');
	wt_json_strz(b, name);
	wt_buf_addc(b, ':');
	wt_buf_add(b, v, n);
}

/* MoAI writes local time with a Z; records carry real UTC. */
static void
add_time(struct wt_buf *b, const char *name, const struct wt_rec *f, int t)
{
	char *s = wt_rec_tokstr(f, t), out[40];
	time_t when;
	struct wt_buf q = WT_BUF_INIT;

	if (s && wt_time_parse(s, WT_TIME_LOCALZ, &when) == 0) {
		wt_json_strz(&q, wt_time_fmt(when, out));
	} else {
		q.len = 0;
		wt_buf_add(&q, f->line + f->tok[t].start - (f->tok[t].type == JSMN_STRING),
			   (size_t)(f->tok[t].end - f->tok[t].start) +
				   (f->tok[t].type == JSMN_STRING ? 2 : 0));
	}
	add_raw(b, name, q.s, q.len);
	wt_buf_release(&q);
	free(s);
}

/* The index of the token after the subtree at t. */
static int
next_tok(const struct wt_rec *f, int t)
{
	int end = f->tok[t].end, i = t + 1;

	while (i < f->ntok && f->tok[i].start < end)
		i++;
	return i;
}

/* One entry (object at token e) of SPEC key, as a record into out. */
static void
convert(const struct wt_rec *f, int e, const char *key, const char *suffix,
	struct wt_buf *out)
{
	struct wt_buf id = WT_BUF_INIT;
	int k, v, sid = wt_rec_find_in(f, e, "spec_id");
	char *s = sid >= 0 ? wt_rec_tokstr(f, sid) : NULL;
	size_t a, z;

	wt_buf_reset(out);
	wt_buf_addc(out, '{');
	wt_buf_adds(&id, s ? s : key);
	if (suffix)
		wt_buf_adds(&id, suffix);
	wt_buf_adds(out, "\"id\":");
	wt_json_str(out, id.s, id.len);
	for (k = e + 1; k < f->ntok && f->tok[k].start < f->tok[e].end;
	     k = next_tok(f, k + 1)) {
		static const char *const times[] = { "created_at", "last_accessed",
						     "last_sync" };
		size_t ti;

		v = k + 1;
		if (wt_rec_tokeq(f, k, "spec_id") || wt_rec_tokeq(f, k, "id"))
			continue;
		for (ti = 0; ti < 3 && !wt_rec_tokeq(f, k, times[ti]); ti++)
			;
		if (ti < 3) {
			add_time(out, times[ti], f, v);
			continue;
		}
		a = (size_t)f->tok[v].start - (f->tok[v].type == JSMN_STRING);
		z = (size_t)f->tok[v].end + (f->tok[v].type == JSMN_STRING);
		if (wt_rec_tokeq(f, k, "project_name")) {
			add_raw(out, "project", f->line + a, z - a);
			continue;
		}
		/* Any other field is carried with its name as written. */
		wt_buf_addc(out, ',');
		wt_buf_add(out, f->line + f->tok[k].start - 1,
			   (size_t)(f->tok[k].end - f->tok[k].start) + 2);
		wt_buf_addc(out, ':');
		wt_buf_add(out, f->line + a, z - a);
	}
	wt_buf_addc(out, '}');
	wt_buf_release(&id);
	free(s);
}

struct item {
	char *id;
	char *line;
};

static int
cmp_item(const void *a, const void *b)
{
	return strcmp(((const struct item *)a)->id, ((const struct item *)b)->id);
}

int
wt_moai_each(const char *path, wt_rec_fn fn, void *arg)
{
	struct wt_rec f = WT_REC_INIT, r = WT_REC_INIT;
	struct wt_buf text = WT_BUF_INIT, line = WT_BUF_INIT, suf = WT_BUF_INIT;
	struct item *items = NULL;
	size_t nitems = 0, i;
	const char *why = "";
	struct stat st;
	ssize_t n;
	int fd, k, v, e, j, ret = -1;
	char *key;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	if (fstat(fd, &st) < 0 || st.st_size > MOAI_MAX) {
		errno = st.st_size > MOAI_MAX ? EFBIG : errno;
		close(fd);
		return -1;
	}
	wt_buf_grow(&text, (size_t)st.st_size);
	while ((n = read(fd, text.s + text.len, text.cap - text.len - 1)) > 0) {
		text.len += (size_t)n;
		wt_buf_grow(&text, 4096);
	}
	close(fd);
	if (n < 0)
		goto out;
	text.s[text.len] = '\0';
	if (wt_rec_parse(&f, text.s, text.len, &why) < 0) {
		wt_rec_clear(&r);
		wt_buf_reset(&line);
		wt_buf_adds(&line, "{\"registry_path\":");
		wt_json_strz(&line, path);
		wt_buf_adds(&line, ",\"operation\":\"read\"}");
		wt_rec_error(&r, WT_E_REGISTRY, line.s, "MoAI registry: %s", why);
		fn(&r, arg);
		ret = 0;
		goto out;
	}
	for (k = 1; k < f.ntok; k = next_tok(&f, k + 1)) {
		v = k + 1;
		key = wt_rec_tokstr(&f, k);
		if (f.tok[v].type == JSMN_OBJECT) {
			convert(&f, v, key, NULL, &line);
			items = wt_xrealloc(items, (nitems + 1) * sizeof(*items));
			items[nitems].line = wt_buf_detach(&line);
			wt_rec_parse(&r, items[nitems].line, strlen(items[nitems].line), NULL);
			items[nitems++].id = wt_rec_str(&r, "id");
		} else if (f.tok[v].type == JSMN_ARRAY) {
			/* Several entries for one SPEC: each gets its own id. */
			for (e = v + 1, j = 0; e < f.ntok && f.tok[e].start < f.tok[v].end;
			     e = next_tok(&f, e), j++) {
				int pn;
				char *proj;

				if (f.tok[e].type != JSMN_OBJECT)
					continue;
				wt_buf_reset(&suf);
				pn = wt_rec_find_in(&f, e, "project_name");
				proj = pn >= 0 ? wt_rec_tokstr(&f, pn) : NULL;
				if (f.tok[v].size > 1) {
					if (proj && *proj)
						wt_buf_addf(&suf, "@%s", proj);
					else
						wt_buf_addf(&suf, "#%d", j + 1);
				}
				free(proj);
				convert(&f, e, key, suf.len ? suf.s : NULL, &line);
				items = wt_xrealloc(items, (nitems + 1) * sizeof(*items));
				items[nitems].line = wt_buf_detach(&line);
				wt_rec_parse(&r, items[nitems].line,
					     strlen(items[nitems].line), NULL);
				items[nitems++].id = wt_rec_str(&r, "id");
			}
		}
		free(key);
	}
	qsort(items, nitems, sizeof(*items), cmp_item);
	for (i = 0; i < nitems; i++) {
		if (wt_rec_parse(&r, items[i].line, strlen(items[i].line), &why) < 0)
			continue;
		r.lineno = (long)i + 1;
		if (fn(&r, arg))
			break;
	}
	ret = 0;
out:
	for (i = 0; i < nitems; i++) {
		free(items[i].id);
		free(items[i].line);
	}
	free(items);
	wt_buf_release(&text);
	wt_buf_release(&line);
	wt_buf_release(&suf);
	wt_rec_release(&f);
	wt_rec_release(&r);
	return ret;
}
