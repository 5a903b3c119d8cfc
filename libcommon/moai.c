/* moai.c: the MoAI-ADK worktree registry (.moai-worktree-registry.json) read as records. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wt.h"

#define MOAI_MAX (256L * 1024 * 1024)

int
wt_moai_detect(const char *line, size_t n)
{
	struct wt_rec r = WT_REC_INIT;
	int moai;

	while (n && strchr(" \t\r", line[n - 1]))
		n--;
	while (n && strchr(" \t", *line)) {
		line++;
		n--;
	}
	/* Pretty-printed, as MoAI-ADK writes it: the first line opens the object. */
	if (n == 1 && *line == '{')
		return 1;
	/*
	 * A whole object on the first line: a record has an id or a path; a
	 * one-line MoAI file has SPEC IDs for keys. A line that is no object at
	 * all is a damaged NDJSON record, reported as such, not a MoAI file.
	 */
	if (wt_rec_parse(&r, line, n, NULL) < 0) {
		wt_rec_release(&r);
		return 0;
	}
	moai = wt_rec_find(&r, "id") < 0 && wt_rec_find(&r, "path") < 0;
	wt_rec_release(&r);
	return moai;
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
	size_t seq;     /* its place in the file */
};

/*
 * By id, then by place in the file: qsort is not stable, and repeated ids
 * are numbered #2, #3 in the order the file gives them.
 */
static int
cmp_item(const void *a, const void *b)
{
	const struct item *x = a, *y = b;
	int c = strcmp(x->id, y->id);

	return c ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

/* Takes line's content as a new item and notes its id. */
static void
add_item(struct item **items, size_t *n, struct wt_buf *line)
{
	struct wt_rec r = WT_REC_INIT;

	*items = wt_xrealloc(*items, (*n + 1) * sizeof(**items));
	(*items)[*n].line = wt_buf_detach(line);
	(*items)[*n].seq = *n;
	wt_rec_parse(&r, (*items)[*n].line, strlen((*items)[*n].line), NULL);
	(*items)[*n].id = wt_rec_str(&r, "id");
	if (!(*items)[*n].id)
		(*items)[*n].id = wt_xstrdup("");
	(*n)++;
	wt_rec_release(&r);
}

int
wt_moai_each(const char *path, wt_rec_fn fn, void *arg)
{
	struct wt_rec f = WT_REC_INIT, r = WT_REC_INIT;
	struct wt_buf text = WT_BUF_INIT, line = WT_BUF_INIT, suf = WT_BUF_INIT;
	struct item *items = NULL;
	struct wt_obj ctx;
	size_t nitems = 0, i, dup;
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
		wt_obj_init(&ctx);
		wt_obj_str(&ctx, "registry_path", path);
		wt_obj_str(&ctx, "operation", "read");
		wt_rec_error(&r, WT_E_REGISTRY, &ctx, "MoAI registry: %s", why);
		wt_obj_release(&ctx);
		fn(&r, arg);
		ret = 0;
		goto out;
	}
	for (k = 1; k < f.ntok; k = next_tok(&f, k + 1)) {
		v = k + 1;
		key = wt_rec_tokstr(&f, k);
		if (f.tok[v].type == JSMN_OBJECT) {
			convert(&f, v, key, NULL, &line);
			add_item(&items, &nitems, &line);
		} else if (f.tok[v].type == JSMN_ARRAY) {
			/* Several entries for one SPEC: each gets its own id. */
			for (e = v + 1, j = 0; e < f.ntok && f.tok[e].start < f.tok[v].end;
			     e = next_tok(&f, e)) {
				int pn;
				char *proj;

				if (f.tok[e].type != JSMN_OBJECT)
					continue;
				j++;
				wt_buf_reset(&suf);
				pn = wt_rec_find_in(&f, e, "project_name");
				proj = pn >= 0 ? wt_rec_tokstr(&f, pn) : NULL;
				if (f.tok[v].size > 1) {
					if (proj && *proj)
						wt_buf_addf(&suf, "@%s", proj);
					else
						wt_buf_addf(&suf, "#%d", j);
				}
				free(proj);
				convert(&f, e, key, suf.len ? suf.s : NULL, &line);
				add_item(&items, &nitems, &line);
			}
		}
		free(key);
	}
	qsort(items, nitems, sizeof(*items), cmp_item);
	/* Ids are unique in a registry: a repeated one gets #2, #3, ... */
	for (i = 0; i < nitems; i = dup) {
		for (dup = i + 1; dup < nitems && strcmp(items[dup].id, items[i].id) == 0;
		     dup++) {
			wt_buf_reset(&suf);
			wt_buf_addf(&suf, "%s#%zu", items[i].id, dup - i + 1);
			wt_rec_parse(&r, items[dup].line, strlen(items[dup].line), NULL);
			wt_rec_set_str(&r, "id", suf.s);
			free(items[dup].line);
			items[dup].line = wt_xstrndup(r.line, r.len);
			free(items[dup].id);
			items[dup].id = wt_xstrdup(suf.s);
		}
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
