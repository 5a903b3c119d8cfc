/* batch.c: batched registry writes: journal, lock, rewrite, rename. */
#include <err.h>
#include <pthread.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wt.h"

/*
 * A batch opens its journal on the first patch, so a run that changes
 * nothing writes nothing; pool workers share one batch under its mutex.
 */
struct wt_batch {
	struct wt_registry reg;
	pthread_mutex_t mu;
	int jfd;            /* -1 until the first patch */
	int failed;         /* a patch could not be journaled */
	long patches;
};

enum op { OP_SET, OP_PUT, OP_DEL };

struct patch {
	char *id;
	enum op op;
	struct wt_rec rec;  /* the fields (set) or the record (put) */
	char **del;         /* set: the names to remove (its "del" member) */
	size_t ndel;
	int has_del;        /* set written with "del": null is a value, not a removal */
	long next;          /* the next patch of the same id, or -1 */
	int applied;
};

/* A drop: the registry's line lineno goes, when its bytes have the sum sha. */
struct drop {
	long lineno;
	char sha[WT_SHA256_HEXLEN + 1];
	int applied;
};

struct patches {
	struct patch *v;
	long n, cap;
	long *slots;        /* first patch index + 1 per slot */
	size_t nslots;
	struct drop *drops; /* in line order */
	size_t ndrops;
};

int
wt_registry_lock(const struct wt_registry *reg, double timeout)
{
	char *path = wt_registry_file(reg, "lock");
	struct timespec ts;
	double waited = 0, step = 0.001;
	int fd;

	if (wt_mkdirs(reg->dir, 0700) < 0 ||
	    (fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0) {
		warn("cannot open '%s'", path);
		free(path);
		return -1;
	}
	/* Exponential backoff, so many waiting writers do not spin. */
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			warn("cannot lock '%s'", path);
			goto fail;
		}
		if (waited >= timeout) {
			/* A try (timeout 0) that finds the lock taken is no error. */
			if (timeout > 0)
				warnx("cannot lock '%s': held by another writer for %.1fs",
				      path, waited);
			goto fail;
		}
		ts.tv_sec = (time_t)step;
		ts.tv_nsec = (long)((step - (double)ts.tv_sec) * 1e9);
		nanosleep(&ts, NULL);
		waited += step;
		step = step * 2 > 0.2 ? 0.2 : step * 2;
	}
	free(path);
	return fd;
fail:
	close(fd);
	free(path);
	return -1;
}

struct wt_batch *
wt_batch_open(const struct wt_registry *reg)
{
	struct wt_batch *b = wt_xmalloc(sizeof(*b));

	memset(b, 0, sizeof(*b));
	b->reg.path = wt_xstrdup(reg->path);
	b->reg.dir = wt_xstrdup(reg->dir);
	b->reg.moai = reg->moai;
	b->jfd = -1;
	pthread_mutex_init(&b->mu, NULL);
	return b;
}

/* The journal, opened (and the registry's directory made) on first use. */
static int
journal_open(struct wt_batch *b)
{
	char *path;

	if (b->jfd >= 0)
		return 0;
	if (wt_mkdirs(b->reg.dir, 0700) < 0) {
		warn("cannot create '%s'", b->reg.dir);
		return -1;
	}
	path = wt_registry_file(&b->reg, "journal");
	b->jfd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (b->jfd < 0)
		warn("cannot open '%s'", path);
	free(path);
	return b->jfd < 0 ? -1 : 0;
}

int
wt_batch_failed(const struct wt_batch *b)
{
	return b && b->failed;
}

/* Appends one patch line to the journal and syncs it: after this, a crash loses nothing. */
static int
journal(struct wt_batch *b, struct wt_obj *patch)
{
	size_t len;
	const char *text = wt_obj_text(patch, &len);
	struct wt_buf out = WT_BUF_INIT;
	struct stat st;
	ssize_t n;
	size_t off = 0;
	int ret = 0;
	char last;

	pthread_mutex_lock(&b->mu);
	if (b->reg.moai) {
		errno = EROFS;
		goto fail;
	}
	if (journal_open(b) < 0 || flock(b->jfd, LOCK_EX) < 0)
		goto fail;
	/*
	 * A writer that died in the middle of a line left it without a newline:
	 * end that torn line first, or our patch would be joined to it and
	 * skipped with it.
	 */
	if (fstat(b->jfd, &st) == 0 && st.st_size > 0 &&
	    pread(b->jfd, &last, 1, st.st_size - 1) == 1 && last != '\n')
		wt_buf_addc(&out, '\n');
	wt_buf_add(&out, text, len);
	wt_buf_addc(&out, '\n');
	while (off < out.len) {
		n = write(b->jfd, out.s + off, out.len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -1;
			break;
		}
		off += (size_t)n;
	}
	if (ret == 0 && fdatasync(b->jfd) < 0)
		ret = -1;
	flock(b->jfd, LOCK_UN);
	wt_buf_release(&out);
	if (ret == 0)
		b->patches++;
	else
		b->failed = 1;
	pthread_mutex_unlock(&b->mu);
	return ret;
fail:
	b->failed = 1;
	pthread_mutex_unlock(&b->mu);
	wt_buf_release(&out);
	return -1;
}

int
wt_batch_set_del(struct wt_batch *b, const char *id, const char *fields,
		 const char *const *del)
{
	struct wt_obj patch;
	const char *why;
	size_t i;
	int ret;

	if (!fields)
		fields = "{}";
	if (wt_json_check(fields, strlen(fields), 1, &why) < 0) {
		errno = EINVAL;
		return -1;
	}
	wt_obj_init(&patch);
	wt_obj_str(&patch, "op", "set");
	wt_obj_str(&patch, "id", id);
	wt_obj_raw(&patch, "fields", fields, strlen(fields));
	/*
	 * Always present, empty or not: it marks the patch as one where null is
	 * a value. A set without it was written before and removes its nulls.
	 */
	wt_obj_array(&patch, "del");
	for (i = 0; del && del[i]; i++)
		wt_obj_str(&patch, NULL, del[i]);
	wt_obj_close(&patch);
	ret = journal(b, &patch);
	wt_obj_release(&patch);
	return ret;
}

int
wt_batch_set(struct wt_batch *b, const char *id, const char *fields)
{
	return wt_batch_set_del(b, id, fields, NULL);
}

int
wt_batch_put(struct wt_batch *b, const struct wt_rec *rec)
{
	struct wt_obj patch;
	char *id = wt_rec_str(rec, "id");
	int ret;

	if (!id) {
		errno = EINVAL;
		return -1;
	}
	free(id);
	wt_obj_init(&patch);
	wt_obj_str(&patch, "op", "put");
	wt_obj_raw(&patch, "record", rec->line, rec->len);
	ret = journal(b, &patch);
	wt_obj_release(&patch);
	return ret;
}

int
wt_batch_del(struct wt_batch *b, const char *id)
{
	struct wt_obj patch;
	int ret;

	wt_obj_init(&patch);
	wt_obj_str(&patch, "op", "del");
	wt_obj_str(&patch, "id", id);
	ret = journal(b, &patch);
	wt_obj_release(&patch);
	return ret;
}

/* The drops the last commit of this process kept: their lines moved or changed since. */
static long *kept_lines;
static size_t nkept;

size_t
wt_batch_kept_drops(const long **lines)
{
	*lines = kept_lines;
	return nkept;
}

/* The sum of a registry line's bytes, as a drop names it. */
static void
line_sum(const char *line, size_t n, char hex[WT_SHA256_HEXLEN + 1])
{
	unsigned char sum[WT_SHA256_LEN];

	wt_sha256(line, n, sum);
	wt_sha256_hex(sum, hex);
}

int
wt_batch_drop_line(struct wt_batch *b, long lineno, const char *line, size_t n)
{
	struct wt_obj patch;
	char hex[WT_SHA256_HEXLEN + 1];
	int ret;

	if (lineno <= 0) {
		errno = EINVAL;
		return -1;
	}
	line_sum(line, n, hex);
	wt_obj_init(&patch);
	wt_obj_str(&patch, "op", "drop");
	wt_obj_int(&patch, "line", lineno);
	wt_obj_str(&patch, "sha256", hex);
	ret = journal(b, &patch);
	wt_obj_release(&patch);
	return ret;
}

/* 1 when a registry line is no record: it does not parse, or has no id (r: scratch). */
static int
not_record(struct wt_rec *r, const char *line, size_t n, char **id)
{
	char *s;

	if (wt_rec_parse(r, line, n, NULL) < 0 || !(s = wt_rec_str(r, "id")))
		return 1;
	if (id)
		*id = s;
	else
		free(s);
	return 0;
}

int
wt_registry_each_bad_line(const struct wt_registry *reg, wt_bad_line_fn fn, void *arg)
{
	struct wt_reader *rd;
	struct wt_rec r = WT_REC_INIT;
	const char *line;
	size_t n;
	int fd, toolong, rc, stop = 0;

	if (reg->moai)
		return 0;
	if ((fd = open(reg->path, O_RDONLY | O_CLOEXEC)) < 0)
		return errno == ENOENT ? 0 : -1;
	/* The reader of a commit's rewrite, so both see the same lines. */
	rd = wt_reader_new(fd, 64 * WT_MAX_LINE_DEFAULT);
	while (!stop && (rc = wt_reader_line(rd, &line, &n, &toolong)) > 0) {
		if (!n && !toolong)
			continue;
		if (toolong || not_record(&r, line, n, NULL))
			stop = fn(wt_reader_lineno(rd), line, n, toolong, arg);
	}
	wt_reader_free(rd);
	wt_rec_release(&r);
	close(fd);
	return rc < 0 ? -1 : 0;
}

void
wt_batch_abandon(struct wt_batch *b)
{
	if (!b)
		return;
	if (b->jfd >= 0)
		close(b->jfd);
	pthread_mutex_destroy(&b->mu);
	wt_registry_release(&b->reg);
	free(b);
}

static long
patch_lookup(const struct patches *ps, const char *id)
{
	size_t i;
	uint64_t h;

	if (!ps->nslots)
		return -1;
	h = wt_index_hash(id, strlen(id));
	for (i = h & (ps->nslots - 1); ps->slots[i]; i = (i + 1) & (ps->nslots - 1))
		if (strcmp(ps->v[ps->slots[i] - 1].id, id) == 0)
			return ps->slots[i] - 1;
	return -1;
}

/* A drop patch of the journal (r) added to ps, kept in line order. 0 or -1. */
static int
add_drop(struct patches *ps, const struct wt_rec *r)
{
	char *sha = wt_rec_str(r, "sha256");
	double v;
	size_t i;
	int ret = -1;

	if (!sha || strlen(sha) != WT_SHA256_HEXLEN || wt_rec_num(r, "line", &v) < 0 ||
	    v < 1 || v > 1e15)
		goto out;
	ps->drops = wt_xrealloc(ps->drops, (ps->ndrops + 1) * sizeof(*ps->drops));
	for (i = ps->ndrops; i > 0 && ps->drops[i - 1].lineno > (long)v; i--)
		ps->drops[i] = ps->drops[i - 1];
	ps->drops[i].lineno = (long)v;
	memcpy(ps->drops[i].sha, sha, sizeof(ps->drops[i].sha));
	ps->drops[i].applied = 0;
	ps->ndrops++;
	ret = 0;
out:
	free(sha);
	return ret;
}

/* Reads the journal's patches (a torn last line from a crash is skipped). */
static int
load_journal(int jfd, struct patches *ps, const char *jpath)
{
	struct wt_reader *rd;
	struct wt_rec r = WT_REC_INIT;
	const char *line;
	size_t n, i;
	long k, last;
	int toolong, rc, t;
	struct patch *p;

	if (lseek(jfd, 0, SEEK_SET) < 0)
		return -1;
	rd = wt_reader_new(jfd, 64 * WT_MAX_LINE_DEFAULT);
	while ((rc = wt_reader_line(rd, &line, &n, &toolong)) > 0) {
		if (!n)
			continue;
		if (toolong || wt_rec_parse(&r, line, n, NULL) < 0) {
			warnx("%s: line %ld: torn or invalid patch skipped", jpath,
			      wt_reader_lineno(rd));
			continue;
		}
		t = wt_rec_find(&r, "op");
		if (t >= 0 && wt_rec_tokeq(&r, t, "drop")) {
			if (add_drop(ps, &r) < 0)
				warnx("%s: line %ld: not a drop, skipped", jpath,
				      wt_reader_lineno(rd));
			continue;
		}
		if (ps->n == ps->cap) {
			ps->cap = ps->cap ? ps->cap * 2 : 64;
			ps->v = wt_xrealloc(ps->v, (size_t)ps->cap * sizeof(*ps->v));
		}
		p = &ps->v[ps->n];
		memset(p, 0, sizeof(*p));
		p->next = -1;
		if (t >= 0 && wt_rec_tokeq(&r, t, "set") &&
		    (t = wt_rec_find(&r, "fields")) >= 0 && r.tok[t].type == JSMN_OBJECT) {
			p->op = OP_SET;
			p->id = wt_rec_str(&r, "id");
			wt_rec_parse(&p->rec, r.line + r.tok[t].start,
				     (size_t)(r.tok[t].end - r.tok[t].start), NULL);
			if ((t = wt_rec_find(&r, "del")) >= 0 && r.tok[t].type == JSMN_ARRAY) {
				p->has_del = 1;
				p->del = wt_xmalloc(((size_t)r.tok[t].size + 1) * sizeof(*p->del));
				for (k = t + 1; k < r.ntok && r.tok[k].start < r.tok[t].end; k++)
					if (r.tok[k].parent == t && r.tok[k].type == JSMN_STRING &&
					    (p->del[p->ndel] = wt_rec_tokstr(&r, (int)k)))
						p->ndel++;
			}
		} else if (t >= 0 && wt_rec_tokeq(&r, t, "del")) {
			p->op = OP_DEL;
			p->id = wt_rec_str(&r, "id");
		} else if (t >= 0 && wt_rec_tokeq(&r, t, "put") &&
			   (t = wt_rec_find(&r, "record")) >= 0 &&
			   r.tok[t].type == JSMN_OBJECT) {
			p->op = OP_PUT;
			wt_rec_parse(&p->rec, r.line + r.tok[t].start,
				     (size_t)(r.tok[t].end - r.tok[t].start), NULL);
			p->id = wt_rec_str(&p->rec, "id");
		}
		if (!p->id) {
			warnx("%s: line %ld: not a patch, skipped", jpath,
			      wt_reader_lineno(rd));
			wt_rec_release(&p->rec);
			continue;
		}
		ps->n++;
	}
	wt_reader_free(rd);
	wt_rec_release(&r);
	if (rc < 0)
		return -1;
	/* Chain the patches of each id, in journal order. */
	for (ps->nslots = 16; ps->nslots < (size_t)ps->n * 2; ps->nslots *= 2)
		;
	ps->slots = calloc(ps->nslots, sizeof(*ps->slots));
	if (!ps->slots)
		err(WT_EXIT_FATAL, "calloc");
	for (k = 0; k < ps->n; k++) {
		if ((last = patch_lookup(ps, ps->v[k].id)) < 0) {
			uint64_t h = wt_index_hash(ps->v[k].id, strlen(ps->v[k].id));

			for (i = h & (ps->nslots - 1); ps->slots[i];
			     i = (i + 1) & (ps->nslots - 1))
				;
			ps->slots[i] = k + 1;
			continue;
		}
		while (ps->v[last].next >= 0)
			last = ps->v[last].next;
		ps->v[last].next = k;
	}
	return 0;
}

static void
patches_release(struct patches *ps)
{
	size_t i;
	long k;

	for (k = 0; k < ps->n; k++) {
		free(ps->v[k].id);
		wt_rec_release(&ps->v[k].rec);
		for (i = 0; i < ps->v[k].ndel; i++)
			free(ps->v[k].del[i]);
		free(ps->v[k].del);
	}
	free(ps->v);
	free(ps->slots);
	free(ps->drops);
}

/*
 * 1 when a drop names line lineno with these bytes. Lines come in order, so
 * *at walks the sorted drops once; two drops of one line are one.
 */
static int
dropped(struct patches *ps, size_t *at, long lineno, const char *line, size_t n)
{
	char hex[WT_SHA256_HEXLEN + 1];
	size_t i;
	int hit = 0;

	while (*at < ps->ndrops && ps->drops[*at].lineno < lineno)
		(*at)++;
	if (*at >= ps->ndrops || ps->drops[*at].lineno != lineno)
		return 0;
	line_sum(line, n, hex);
	for (i = *at; i < ps->ndrops && ps->drops[i].lineno == lineno; i++)
		if (strcmp(ps->drops[i].sha, hex) == 0)
			hit = ps->drops[i].applied = 1;
	return hit;
}

/*
 * Applies the chain of patches starting at k to r; *live says whether the
 * record exists (before: as read; after: as patched).
 */
static void
apply(struct patches *ps, long k, struct wt_rec *r, int *live)
{
	struct patch *p;
	char *key;
	size_t d;
	int i, v, end;

	for (; k >= 0; k = p->next) {
		p = &ps->v[k];
		p->applied = 1;
		switch (p->op) {
		case OP_DEL:
			*live = 0;
			break;
		case OP_PUT:
			wt_rec_copy(r, &p->rec);
			*live = 1;
			break;
		case OP_SET:
			if (!*live)
				break;
			end = p->rec.tok[0].end;
			for (i = 1; i < p->rec.ntok && p->rec.tok[i].start < end;) {
				v = i + 1;
				key = wt_rec_tokstr(&p->rec, i);
				/* Before "del" existed, a null removed the field. */
				if (!p->has_del && p->rec.tok[v].type == JSMN_PRIMITIVE &&
				    p->rec.line[p->rec.tok[v].start] == 'n')
					wt_rec_del(r, key);
				else
					wt_rec_set_raw(r, key,
						p->rec.line + p->rec.tok[v].start -
							(p->rec.tok[v].type == JSMN_STRING),
						(size_t)(p->rec.tok[v].end - p->rec.tok[v].start) +
							(p->rec.tok[v].type == JSMN_STRING ? 2 : 0));
				free(key);
				/* The next key is past the value's subtree. */
				for (i = v + 1; i < p->rec.ntok &&
				     p->rec.tok[i].start < p->rec.tok[v].end; i++)
					;
			}
			for (d = 0; d < p->ndel; d++)
				wt_rec_del(r, p->del[d]);
			break;
		}
	}
}

static int
cmp_patch_id(const void *a, const void *b)
{
	const struct patch *const *x = a, *const *y = b;

	return strcmp((*x)->id, (*y)->id);
}

static int
out_line(FILE *f, const char *s, size_t n)
{
	return fwrite(s, 1, n, f) != n || putc('\n', f) == EOF ? -1 : 0;
}

/* 1 when the chain of patches at k puts a whole record. */
static int
chain_puts(const struct patches *ps, long k)
{
	for (; k >= 0; k = ps->v[k].next)
		if (ps->v[k].op == OP_PUT)
			return 1;
	return 0;
}

/* Writes the record that the chain at head makes of nothing, if any. */
static int
emit_fresh(FILE *f, struct patches *ps, struct patch *head, struct wt_rec *r)
{
	int live = 0;

	if (head->applied)
		return 0;
	apply(ps, head - ps->v, r, &live);
	return live ? out_line(f, r->line, r->len) : 0;
}

/* Streams the registry through the patches into a new file; returns its fd. */
static int
rewrite(const struct wt_registry *reg, struct patches *ps, const char *tmp)
{
	struct wt_rec r = WT_REC_INIT, nr = WT_REC_INIT;
	struct patch **fresh = NULL;
	struct wt_reader *rd = NULL;
	const char *line;
	size_t n, nfresh = 0, fi = 0, di = 0;
	long k;
	int fd = -1, in = -1, toolong, rc = 0, live, wfd;
	char *id;
	FILE *f;

	if ((wfd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0)
		return -1;
	if (!(f = fdopen(fcntl(wfd, F_DUPFD_CLOEXEC, 0), "w"))) {
		close(wfd);
		return -1;
	}
	/* Records that may be new go in at their place in id order. */
	for (k = 0; k < ps->n; k++)
		if (patch_lookup(ps, ps->v[k].id) == k && chain_puts(ps, k)) {
			fresh = wt_xrealloc(fresh, (nfresh + 1) * sizeof(*fresh));
			fresh[nfresh++] = &ps->v[k];
		}
	if (nfresh)
		qsort(fresh, nfresh, sizeof(*fresh), cmp_patch_id);

	in = open(reg->path, O_RDONLY | O_CLOEXEC);
	if (in < 0 && errno != ENOENT)
		goto fail;
	if (in >= 0) {
		rd = wt_reader_new(in, 64 * WT_MAX_LINE_DEFAULT);
		while ((rc = wt_reader_line(rd, &line, &n, &toolong)) > 0) {
			if (!n && !toolong)
				continue;
			/*
			 * The one line a drop names, by its number and its bytes, as
			 * the registry is under the lock: a line that moved or changed
			 * since the drop was made stays.
			 */
			if (!toolong && ps->ndrops &&
			    dropped(ps, &di, wt_reader_lineno(rd), line, n))
				continue;
			/* A line we cannot read is kept as it is: never lose data. */
			if (toolong || not_record(&r, line, n, &id)) {
				if (toolong) {
					warnx("'%s': line %ld too long to rewrite",
					      reg->path, wt_reader_lineno(rd));
					errno = EFBIG;
					goto fail;
				}
				if (out_line(f, line, n) < 0)
					goto fail;
				continue;
			}
			for (; fi < nfresh && strcmp(fresh[fi]->id, id) < 0; fi++)
				if (emit_fresh(f, ps, fresh[fi], &nr) < 0)
					goto fail;
			live = 1;
			k = patch_lookup(ps, id);
			free(id);
			/*
			 * The patches went to an earlier line of this id already: this
			 * line is a second record of the id, kept as it is (never lose
			 * data; wt-fsck reports it).
			 */
			if (k >= 0 && ps->v[k].applied) {
				if (out_line(f, line, n) < 0)
					goto fail;
				continue;
			}
			if (k >= 0)
				apply(ps, k, &r, &live);
			if (live && out_line(f, r.line, r.len) < 0)
				goto fail;
		}
		if (rc < 0)
			goto fail;
	}
	for (; fi < nfresh; fi++)
		if (emit_fresh(f, ps, fresh[fi], &nr) < 0)
			goto fail;
	if (fflush(f) == EOF || ferror(f) || fsync(wfd) < 0)
		goto fail;
	fd = wfd;
	wfd = -1;
fail:
	fclose(f);
	if (wfd >= 0)
		close(wfd);
	if (in >= 0)
		close(in);
	wt_reader_free(rd);
	wt_rec_release(&r);
	wt_rec_release(&nr);
	free(fresh);
	return fd;
}

/* The commit itself, under the lock; returns patches applied or -1. */
/*
 * The file the registry is: its path, or the file a symbolic link there
 * names, which is written through rather than replaced by a regular file.
 * A new string, or NULL (a link to nothing) with a message.
 */
static char *
registry_target(const struct wt_registry *reg)
{
	struct stat st;
	char *t;

	if (lstat(reg->path, &st) < 0 || !S_ISLNK(st.st_mode))
		return wt_xstrdup(reg->path);
	if (!(t = realpath(reg->path, NULL)))
		warn("'%s' is a symbolic link to nothing; not written", reg->path);
	return t;
}

static int
commit_locked(const struct wt_registry *reg)
{
	struct patches ps;
	char *jpath = wt_registry_file(reg, "journal");
	char *tmp = NULL, *bak = NULL, *target = NULL, *slash;
	int jfd, fd = -1, ret = -1;
	struct wt_buf t = WT_BUF_INIT;
	size_t i;

	memset(&ps, 0, sizeof(ps));
	jfd = open(jpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (jfd < 0 || flock(jfd, LOCK_EX) < 0) {
		warn("cannot open '%s'", jpath);
		goto out;
	}
	if (load_journal(jfd, &ps, jpath) < 0) {
		warn("cannot read '%s'", jpath);
		goto out;
	}
	if (ps.n == 0 && ps.ndrops == 0) {
		ret = 0;
		goto out;
	}
	if (!(target = registry_target(reg)))
		goto out;
	wt_buf_addf(&t, "%s.tmp.%ld", target, (long)getpid());
	tmp = wt_buf_detach(&t);
	if ((fd = rewrite(reg, &ps, tmp)) < 0) {
		warn("cannot write '%s'", tmp);
		unlink(tmp);
		goto out;
	}
	nkept = 0;
	for (i = 0; i < ps.ndrops; i++)
		if (!ps.drops[i].applied) {
			warnx("'%s': line %ld is not the line a drop named (it changed or "
			      "moved); kept", reg->path, ps.drops[i].lineno);
			kept_lines = wt_xrealloc(kept_lines, (nkept + 1) * sizeof(*kept_lines));
			kept_lines[nkept++] = ps.drops[i].lineno;
		}
	bak = wt_registry_file(reg, "bak");
	if (strcmp(bak, reg->path) != 0) {
		unlink(bak);
		if (link(target, bak) < 0 && errno != ENOENT)
			warn("cannot keep '%s'", bak);
	}
	if (rename(tmp, target) < 0) {
		warn("cannot rename '%s'", tmp);
		unlink(tmp);
		goto out;
	}
	/* The rename lasts once the directory that holds the file is synced. */
	if ((slash = strrchr(target, '/')))
		slash[slash == target] = '\0';
	if (wt_sync_dir(slash ? target : ".") < 0)
		warn("cannot sync the directory of '%s'", reg->path);
	if (wt_index_write(reg, fd) < 0)
		warn("cannot write the index of '%s'", reg->path);
	/* Only now may the journal go: its patches are in the registry. */
	if (ftruncate(jfd, 0) < 0 || fsync(jfd) < 0)
		warn("cannot truncate '%s'", jpath);
	ret = (int)(ps.n + (long)ps.ndrops);
out:
	if (fd >= 0)
		close(fd);
	if (jfd >= 0)
		close(jfd);
	patches_release(&ps);
	free(jpath);
	free(tmp);
	free(bak);
	free(target);
	return ret;
}

int
wt_registry_replay(const struct wt_registry *reg, double timeout)
{
	int lock = wt_registry_lock(reg, timeout), ret;

	if (lock < 0)
		return -1;
	ret = commit_locked(reg);
	close(lock);
	return ret;
}

int
wt_batch_commit(struct wt_batch *b, double timeout)
{
	struct stat st;
	char *jpath;
	int ret = 0, need;

	if (!b)
		return 0;
	need = !b->reg.moai;
	/*
	 * A run that journaled nothing still merges what a killed run left,
	 * but takes no lock when there is no journal at all.
	 */
	if (need && !b->patches) {
		jpath = wt_registry_file(&b->reg, "journal");
		need = stat(jpath, &st) == 0 && st.st_size > 0;
		free(jpath);
	}
	if (need)
		ret = wt_registry_replay(&b->reg, timeout);
	wt_batch_abandon(b);
	return ret;
}

int
wt_registry_reindex(const struct wt_registry *reg, double timeout)
{
	int lock = wt_registry_lock(reg, timeout), fd, ret = -1;

	if (lock < 0)
		return -1;
	if ((fd = open(reg->path, O_RDONLY | O_CLOEXEC)) >= 0) {
		ret = wt_index_write(reg, fd);
		close(fd);
	}
	close(lock);
	return ret;
}
