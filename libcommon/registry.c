/* registry.c: the registry file read as a stream, its index, MoAI-ADK files. */
#include <err.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wt.h"

int
wt_registry_open(struct wt_registry *reg, const struct wt_config *c,
		 const char *opt)
{
	struct wt_buf b = WT_BUF_INIT;
	const char *p = opt ? opt : c->registry;
	char *slash;
	struct stat st;
	struct wt_reader *rd;
	const char *line;
	size_t n;
	int fd, toolong, rc;

	memset(reg, 0, sizeof(*reg));
	if (p && *p)
		wt_buf_adds(&b, p);
	else
		wt_buf_addf(&b, "%s/registry.ndjson", c->home);
	reg->path = wt_buf_detach(&b);
	slash = strrchr(reg->path, '/');
	reg->dir = slash ? wt_xstrndup(reg->path, (size_t)(slash - reg->path)) :
			   wt_xstrdup(".");
	if (!*reg->dir) {
		free(reg->dir);
		reg->dir = wt_xstrdup("/");
	}
	if ((fd = open(reg->path, O_RDONLY | O_CLOEXEC)) < 0)
		return errno == ENOENT ? 0 : -1;
	if (fstat(fd, &st) < 0 || S_ISDIR(st.st_mode)) {
		if (S_ISDIR(st.st_mode))
			errno = EISDIR;
		close(fd);
		return -1;
	}
	/* The first line decides: a record, or the start of a MoAI object. */
	rd = wt_reader_new(fd, 0);
	if ((rc = wt_reader_line(rd, &line, &n, &toolong)) < 0) {
		wt_reader_free(rd);
		close(fd);
		return -1;
	}
	reg->moai = rc > 0 && !toolong && n && wt_moai_detect(line, n);
	wt_reader_free(rd);
	close(fd);
	return 1;
}

void
wt_registry_release(struct wt_registry *reg)
{
	free(reg->path);
	free(reg->dir);
	memset(reg, 0, sizeof(*reg));
}

char *
wt_registry_file(const struct wt_registry *reg, const char *name)
{
	struct wt_buf b = WT_BUF_INIT;
	const char *base = strrchr(reg->path, '/');

	base = base ? base + 1 : reg->path;
	/*
	 * registry.ndjson -> registry.idx, but the backup keeps the whole name
	 * (registry.ndjson.bak); other names get a suffix.
	 */
	if (strcmp(name, "bak") == 0)
		wt_buf_addf(&b, "%s.bak", reg->path);
	else if (strcmp(base, "registry.ndjson") == 0)
		wt_buf_addf(&b, "%s/registry.%s", reg->dir, name);
	else
		wt_buf_addf(&b, "%s.%s", reg->path, name);
	return wt_buf_detach(&b);
}

/* A registry line that is not a valid record becomes a RegistryError. */
static void
registry_line_error(const struct wt_registry *reg, struct wt_rec *r, long lineno,
		    const char *why)
{
	struct wt_obj ctx;

	wt_obj_init(&ctx);
	wt_obj_str(&ctx, "registry_path", reg->path);
	wt_obj_str(&ctx, "operation", "read");
	wt_obj_int(&ctx, "line", lineno);
	wt_rec_clear(r);
	r->lineno = lineno;
	wt_rec_error(r, WT_E_REGISTRY, &ctx, "registry line %ld: %s", lineno, why);
	wt_obj_release(&ctx);
}

int
wt_registry_each(const struct wt_registry *reg, wt_rec_fn fn, void *arg)
{
	struct wt_reader *rd;
	struct wt_rec r = WT_REC_INIT;
	const char *line, *why;
	size_t n;
	int fd, toolong, rc, stop = 0;

	if (reg->moai)
		return wt_moai_each(reg->path, fn, arg);
	if ((fd = open(reg->path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	rd = wt_reader_new(fd, 0);
	while (!stop && (rc = wt_reader_line(rd, &line, &n, &toolong)) > 0) {
		if (!toolong && n == 0)
			continue;
		if (toolong)
			registry_line_error(reg, &r, wt_reader_lineno(rd), "line too long");
		else if (wt_rec_parse(&r, line, n, &why) < 0)
			registry_line_error(reg, &r, wt_reader_lineno(rd), why);
		else
			r.lineno = wt_reader_lineno(rd);
		stop = fn(&r, arg);
	}
	wt_reader_free(rd);
	wt_rec_release(&r);
	close(fd);
	return rc < 0 ? -1 : 0;
}

/* Reads the line at off in fd into r. Returns 1, or 0 at a bad line. */
static int
read_line_at(int fd, off_t off, struct wt_rec *r)
{
	struct wt_buf b = WT_BUF_INIT;
	char *nl;
	ssize_t n;
	int ok = 0;

	for (;;) {
		wt_buf_grow(&b, 4096);
		n = pread(fd, b.s + b.len, 4096, off + (off_t)b.len);
		if (n <= 0)
			break;
		nl = memchr(b.s + b.len, '\n', (size_t)n);
		b.len += (size_t)n;
		if (nl) {
			b.len = (size_t)(nl - b.s);
			break;
		}
		if (b.len > WT_MAX_LINE_DEFAULT * 16)
			goto out;
	}
	ok = b.len > 0 && wt_rec_parse(r, b.s, b.len, NULL) == 0;
out:
	wt_buf_release(&b);
	return ok;
}

struct find {
	const char *id;
	struct wt_rec *out;
	int found;
};

static int
find_cb(struct wt_rec *r, void *arg)
{
	struct find *f = arg;
	int t = wt_rec_find(r, "id");

	if (t >= 0 && wt_rec_tokeq(r, t, f->id)) {
		wt_rec_copy(f->out, r);
		f->found = 1;
		return 1;
	}
	return 0;
}

int
wt_registry_find(const struct wt_registry *reg, const char *id,
		 struct wt_rec *r, int *used_index)
{
	struct wt_index ix;
	struct find f = { id, r, 0 };
	uint64_t h, i, slot[2];
	int fd, t, rc = 0;

	if (used_index)
		*used_index = 0;
	if (!reg->moai && (fd = wt_index_open(reg, &ix)) >= 0) {
		if (used_index)
			*used_index = 1;
		h = wt_index_hash(id, strlen(id));
		for (i = h & (ix.nslots - 1);; i = (i + 1) & (ix.nslots - 1)) {
			if (pread(ix.fd, slot, sizeof(slot), (off_t)(WT_IDX_HDR + i * 16)) !=
			    sizeof(slot)) {
				rc = -1;
				break;
			}
			if (!slot[1])
				break;
			if (slot[0] != h || !read_line_at(fd, (off_t)(slot[1] - 1), r))
				continue;
			t = wt_rec_find(r, "id");
			if (t >= 0 && wt_rec_tokeq(r, t, id)) {
				rc = 1;
				break;
			}
		}
		close(ix.fd);
		close(fd);
		return rc;
	}
	if (wt_registry_each(reg, find_cb, &f) < 0)
		return -1;
	return f.found;
}

struct by_status {
	const char *status;
	wt_rec_fn fn;
	void *arg;
};

static int
status_cb(struct wt_rec *r, void *arg)
{
	struct by_status *s = arg;
	int t = wt_rec_find(r, "status");

	if (wt_rec_has_error(r) || (t >= 0 && wt_rec_tokeq(r, t, s->status)))
		return s->fn(r, s->arg);
	return 0;
}

/* 1 when the record's path field names dir: as written, or once resolved. */
static int
names_dir(const struct wt_rec *r, const char *key, const char *dir)
{
	char *p = wt_rec_str(r, key), *real = NULL;
	int same;

	same = p && (strcmp(p, dir) == 0 ||
		     ((real = realpath(p, NULL)) && strcmp(real, dir) == 0));
	free(p);
	free(real);
	return same;
}

int
wt_registry_record_of(const struct wt_registry *reg, const char *id,
		      const char *top, const char *common, struct wt_rec *r)
{
	int rc;

	if (!id || reg->moai || access(reg->path, F_OK) < 0)
		return WT_REG_NONE;
	if ((rc = wt_registry_find(reg, id, r, NULL)) <= 0)
		return rc < 0 ? -1 : WT_REG_NONE;
	if (!names_dir(r, "path", top) ||
	    (common && wt_rec_find(r, "repo") >= 0 && !names_dir(r, "repo", common)))
		return WT_REG_OTHER;
	return WT_REG_SAME;
}

int
wt_registry_may_patch(struct wt_rec *r, const struct wt_registry *reg, int rc,
		      const struct wt_rec *cur, const char *doing)
{
	struct wt_obj ctx;
	char *other;

	if (rc == WT_REG_SAME || rc == WT_REG_NONE)
		return 0;
	wt_obj_init(&ctx);
	if (rc == WT_REG_OTHER) {
		other = wt_rec_str(cur, "path");
		wt_rec_error(r, WT_E_REGISTRY, wt_ctx_registry(&ctx, reg->path, "set", "registry"),
			     "refusing to %s: the registry's record of this id is of another "
			     "worktree ('%s')", doing, other ? other : "no path");
		free(other);
	} else {
		wt_rec_error(r, WT_E_REGISTRY, wt_ctx_registry(&ctx, reg->path, "read", "registry"),
			     "cannot read '%s': %s", reg->path, strerror(errno));
	}
	wt_obj_release(&ctx);
	return -1;
}

int
wt_registry_each_status(const struct wt_registry *reg, const char *status,
			wt_rec_fn fn, void *arg, int *used_index)
{
	struct wt_index ix;
	struct by_status s = { status, fn, arg };
	struct wt_rec r = WT_REC_INIT;
	uint64_t count, listoff, k, off;
	int fd, rc = 0;

	if (used_index)
		*used_index = 0;
	if (!reg->moai && (fd = wt_index_open(reg, &ix)) >= 0) {
		if (wt_index_status(&ix, status, &count, &listoff) == 0) {
			if (used_index)
				*used_index = 1;
			for (k = 0; k < count; k++) {
				if (pread(ix.fd, &off, 8, (off_t)(listoff + k * 8)) != 8) {
					rc = -1;
					break;
				}
				if (read_line_at(fd, (off_t)off, &r) && fn(&r, arg))
					break;
			}
			wt_rec_release(&r);
			close(ix.fd);
			close(fd);
			return rc;
		}
		close(ix.fd);
		close(fd);
	}
	return wt_registry_each(reg, status_cb, &s);
}

/* 1 when name is base.tmp.PID of a process that is gone. */
static int
dead_tmp(const char *name, const char *base)
{
	size_t n = strlen(base);
	char *end;
	long pid;

	if (strncmp(name, base, n) != 0 || strncmp(name + n, ".tmp.", 5) != 0)
		return 0;
	pid = strtol(name + n + 5, &end, 10);
	if (*end || pid <= 0)
		return 0;
	return pid != (long)getpid() && kill((pid_t)pid, 0) < 0 && errno == ESRCH;
}

int
wt_registry_leftovers(const struct wt_registry *reg, wt_leftover_fn fn, void *arg)
{
	struct wt_buf b = WT_BUF_INIT;
	struct stat st;
	struct dirent *de;
	const char *base;
	char *p, *real = NULL;
	int what = 0;
	DIR *d;

	if (reg->moai)
		return 0;
	p = wt_registry_file(reg, "journal");
	if (stat(p, &st) == 0 && st.st_size > 0) {
		what |= WT_LEFT_JOURNAL;
		if (fn)
			fn(WT_LEFT_JOURNAL, p, arg);
	}
	free(p);
	p = wt_registry_file(reg, "idx");
	if (access(reg->path, F_OK) == 0 && access(p, F_OK) == 0 &&
	    !wt_registry_index_valid(reg)) {
		what |= WT_LEFT_INDEX;
		if (fn)
			fn(WT_LEFT_INDEX, p, arg);
	}
	free(p);
	/* A writer writes PATH.tmp.PID beside the file the registry is (a link's target). */
	real = realpath(reg->path, NULL);
	p = real ? real : reg->path;
	wt_buf_adds(&b, p);
	base = strrchr(b.s, '/');
	if (base) {
		b.s[base - b.s] = '\0';
		base++;
	}
	if ((d = opendir(base ? (*b.s ? b.s : "/") : "."))) {
		while ((de = readdir(d))) {
			struct wt_buf q = WT_BUF_INIT;

			if (!dead_tmp(de->d_name, base ? base : b.s))
				continue;
			what |= WT_LEFT_TMP;
			wt_buf_addf(&q, "%s/%s", base ? (*b.s ? b.s : "") : ".", de->d_name);
			if (fn)
				fn(WT_LEFT_TMP, q.s, arg);
			wt_buf_release(&q);
		}
		closedir(d);
	}
	free(real);
	wt_buf_release(&b);
	return what;
}
