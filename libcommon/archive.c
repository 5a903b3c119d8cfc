/* archive.c: wt's archive format: the manifest, and checking an archive against it. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "wt.h"

/* The names of git's per-worktree state that an archive may carry. */
static const char *const git_names[] = {
	WT_GIT_PREFIX "index", WT_GIT_PREFIX "HEAD", WT_GIT_PREFIX "logs/HEAD",
	WT_GIT_PREFIX "config.worktree", NULL
};

const char *const *
wt_archive_git_names(void)
{
	return git_names;
}

static void
item_release(struct wt_item *it)
{
	free(it->path);
	free(it->target);
}

void
wt_manifest_release(struct wt_manifest *m)
{
	size_t i;

	for (i = 0; i < m->nitems; i++)
		item_release(&m->items[i]);
	free(m->items);
	for (i = 0; i < m->nskipped; i++)
		free(m->skipped[i]);
	free(m->skipped);
	wt_rec_release(&m->doc);
	free(m->id);
	free(m->path);
	free(m->repo);
	free(m->head);
	free(m->branch);
	free(m->upstream);
	free(m->name);
	memset(m, 0, sizeof(*m));
}

void
wt_json_bytes(struct wt_buf *b, const char *key, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	if (wt_utf8_valid(s, n)) {
		wt_buf_addf(b, "\"%s\":", key);
		wt_json_str(b, s, n);
		return;
	}
	/* Bytes that are not UTF-8 cannot be a JSON string: hex keeps them exact. */
	wt_buf_addf(b, "\"%s_hex\":\"", key);
	for (i = 0; i < n; i++) {
		wt_buf_addc(b, hex[(unsigned char)s[i] >> 4]);
		wt_buf_addc(b, hex[(unsigned char)s[i] & 15]);
	}
	wt_buf_addc(b, '"');
}

static int
unhex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* The bytes of key or key_hex inside object obj: a new string or NULL. */
static char *
get_bytes(const struct wt_rec *d, int obj, const char *key)
{
	struct wt_buf k = WT_BUF_INIT;
	char *s, *out;
	size_t i, n;
	int t, hi, lo;

	if ((t = wt_rec_find_in(d, obj, key)) >= 0) {
		wt_buf_release(&k);
		return wt_rec_tokstr(d, t);
	}
	wt_buf_addf(&k, "%s_hex", key);
	t = wt_rec_find_in(d, obj, k.s);
	wt_buf_release(&k);
	if (!(s = wt_rec_tokstr(d, t)))
		return NULL;
	n = strlen(s);
	out = wt_xmalloc(n / 2 + 1);
	for (i = 0; i + 1 < n; i += 2) {
		hi = unhex(s[i]);
		lo = unhex(s[i + 1]);
		if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
			break;
		out[i / 2] = (char)(hi << 4 | lo);
	}
	if (i != n) {
		free(s);
		free(out);
		return NULL;
	}
	out[n / 2] = '\0';
	free(s);
	return out;
}

/* The token after the value at t (t's whole subtree skipped). */
static int
next_tok(const struct wt_rec *d, int t)
{
	int i;

	for (i = t + 1; i < d->ntok && d->tok[i].start < d->tok[t].end; i++)
		;
	return i;
}

static int
get_num(const struct wt_rec *d, int obj, const char *key, long long *v)
{
	int t = wt_rec_find_in(d, obj, key);
	char *end;

	if (t < 0 || d->tok[t].type != JSMN_PRIMITIVE)
		return -1;
	errno = 0;
	*v = strtoll(d->line + d->tok[t].start, &end, 10);
	if (errno || end != d->line + d->tok[t].end || *v < 0)
		return -1;
	return 0;
}

/* A set of strings, by open addressing over the items' paths. */
struct pathset {
	size_t *slot;   /* item index + 1 */
	size_t n;
};

static size_t *
set_find(struct pathset *s, const struct wt_item *items, const char *p, size_t len)
{
	size_t i = wt_index_hash(p, len) & (s->n - 1);

	for (; s->slot[i]; i = (i + 1) & (s->n - 1)) {
		const char *q = items[s->slot[i] - 1].path;

		if (strncmp(q, p, len) == 0 && q[len] == '\0')
			break;
	}
	return &s->slot[i];
}

int
wt_archive_path_ok(const char *p)
{
	const char *c = p, *e;
	size_t n;

	if (!*p || *p == '/' || strlen(p) >= 4096)
		return 0;
	for (;;) {
		e = strchr(c, '/');
		n = e ? (size_t)(e - c) : strlen(c);
		if (n == 0 || (n == 1 && c[0] == '.') ||
		    (n == 2 && c[0] == '.' && c[1] == '.'))
			return 0;
		if (!e)
			return 1;
		c = e + 1;
	}
}

/* Checks one worktree item's path: safe, not reserved, its parent a directory listed before. */
static const char *
check_path(struct pathset *s, const struct wt_item *items, size_t k, int git)
{
	const char *p = items[k].path, *slash = strrchr(p, '/');
	size_t *sl, i;

	if (!wt_archive_path_ok(p))
		return "unsafe path (absolute, empty, . or .. component)";
	if (git) {
		for (i = 0; git_names[i] && strcmp(git_names[i], p) != 0; i++)
			;
		return git_names[i] ? NULL : "unknown git state entry";
	}
	if (strcmp(p, WT_MANIFEST_NAME) == 0 || strcmp(p, ".git") == 0 ||
	    strncmp(p, ".git/", 5) == 0 || strncmp(p, WT_GIT_PREFIX, strlen(WT_GIT_PREFIX)) == 0 ||
	    strcmp(p, ".wt-git") == 0)
		return "reserved path";
	if (*(sl = set_find(s, items, p, strlen(p))))
		return "path listed twice";
	/*
	 * Every parent is a directory listed earlier: so no entry can reach
	 * through a symbolic link, whatever the entries before it were.
	 */
	if (slash) {
		size_t *par = set_find(s, items, p, (size_t)(slash - p));

		if (!*par || items[*par - 1].type != WT_ITEM_DIR)
			return "parent is not a directory listed before it";
	}
	*sl = k + 1;
	return NULL;
}

static int
parse_item(const struct wt_rec *d, int t, struct wt_item *it, const char **why)
{
	char *s;
	long long v;
	int k;

	memset(it, 0, sizeof(*it));
	if (d->tok[t].type != JSMN_OBJECT || !(it->path = get_bytes(d, t, "path"))) {
		*why = "an entry without a path";
		return -1;
	}
	k = wt_rec_find_in(d, t, "type");
	if (k >= 0 && wt_rec_tokeq(d, k, "file"))
		it->type = WT_ITEM_FILE;
	else if (k >= 0 && wt_rec_tokeq(d, k, "dir"))
		it->type = WT_ITEM_DIR;
	else if (k >= 0 && wt_rec_tokeq(d, k, "symlink"))
		it->type = WT_ITEM_SYMLINK;
	else {
		*why = "an entry of unknown type";
		return -1;
	}
	if ((s = wt_rec_tokstr(d, wt_rec_find_in(d, t, "mode")))) {
		char *end;

		it->mode = (unsigned)strtoul(s, &end, 8);
		k = *s && !*end && it->mode <= 07777;
		free(s);
		if (!k) {
			*why = "an entry with a bad mode";
			return -1;
		}
	}
	if (it->type == WT_ITEM_FILE) {
		if (get_num(d, t, "size", &it->size) < 0 ||
		    !(s = wt_rec_tokstr(d, wt_rec_find_in(d, t, "crc32")))) {
			*why = "a file entry without size or crc32";
			return -1;
		}
		v = strtoll(s, NULL, 16);
		k = strlen(s) == 8 && strspn(s, "0123456789abcdef") == 8;
		free(s);
		if (!k) {
			*why = "a file entry with a bad crc32";
			return -1;
		}
		it->crc = (uint32_t)v;
	}
	if (it->type == WT_ITEM_SYMLINK && !(it->target = get_bytes(d, t, "target"))) {
		*why = "a symbolic link without a target";
		return -1;
	}
	return 0;
}

int
wt_manifest_parse(struct wt_manifest *m, const char *text, size_t n, const char **why)
{
	static const char *const lists[] = { "git", "files" };
	struct pathset set = { NULL, 0 };
	struct wt_rec *d = &m->doc;
	size_t cap = 0, l;
	int t, i, k, ret = -1;

	memset(m, 0, sizeof(*m));
	if (wt_rec_parse(d, text, n, why) < 0)
		goto out;
	t = wt_rec_find(d, "format");
	if (t < 0 || !wt_rec_tokeq(d, t, WT_MANIFEST_FORMAT)) {
		*why = "not a wt manifest (format is not " WT_MANIFEST_FORMAT ")";
		goto out;
	}
	m->id = wt_rec_str(d, "id");
	m->path = wt_rec_str(d, "path");
	m->repo = wt_rec_str(d, "repo");
	m->head = wt_rec_str(d, "head");
	m->branch = wt_rec_str(d, "branch");
	m->upstream = wt_rec_str(d, "upstream");
	m->name = wt_rec_str(d, "name");
	if (!m->id || !m->head || !m->name || !wt_archive_path_ok(m->name) ||
	    strchr(m->name, '/')) {
		*why = "the manifest lacks id, head or a valid name";
		goto out;
	}
	/* Enough slots for every entry at half load. */
	for (set.n = 64; set.n < (size_t)d->ntok; set.n *= 2)
		;
	set.slot = calloc(set.n, sizeof(*set.slot));
	if (!set.slot) {
		*why = "out of memory";
		goto out;
	}
	for (l = 0; l < 2; l++) {
		t = wt_rec_find(d, lists[l]);
		if (t < 0 || d->tok[t].type != JSMN_ARRAY) {
			*why = "the manifest lacks its git or files list";
			goto out;
		}
		for (i = 0, k = t + 1; i < d->tok[t].size; i++, k = next_tok(d, k)) {
			if (m->nitems == cap) {
				cap = cap ? cap * 2 : 256;
				m->items = wt_xrealloc(m->items, cap * sizeof(*m->items));
			}
			if (parse_item(d, k, &m->items[m->nitems], why) < 0) {
				m->nitems++;
				goto out;
			}
			m->nitems++;
			if (l == 0 && m->items[m->nitems - 1].type != WT_ITEM_FILE) {
				*why = "a git state entry that is not a file";
				goto out;
			}
			if ((*why = check_path(&set, m->items, m->nitems - 1, l == 0)))
				goto out;
		}
		if (l == 0)
			m->ngit = m->nitems;
	}
	if ((t = wt_rec_find(d, "skipped")) >= 0 && d->tok[t].type == JSMN_ARRAY) {
		m->skipped = wt_xmalloc(((size_t)d->tok[t].size + 1) * sizeof(char *));
		for (i = 0, k = t + 1; i < d->tok[t].size; i++, k = next_tok(d, k))
			if (d->tok[k].type == JSMN_OBJECT &&
			    (m->skipped[m->nskipped] = get_bytes(d, k, "path")))
				m->nskipped++;
	}
	ret = 0;
out:
	free(set.slot);
	if (ret < 0)
		wt_manifest_release(m);
	return ret;
}

int
wt_manifest_check_entry(const struct wt_item *it, struct archive_entry *e,
			const char **why)
{
	const char *p = archive_entry_pathname(e), *l;
	mode_t ft = archive_entry_filetype(e);
	size_t n = p ? strlen(p) : 0;

	/* tar writes a directory's name with a slash at its end. */
	if (n > 1 && ft == AE_IFDIR && p[n - 1] == '/')
		n--;
	if (!p || strncmp(p, it->path, n) != 0 || it->path[n] != '\0') {
		*why = "entry out of order or not in the manifest";
		return -1;
	}
	if ((it->type == WT_ITEM_FILE && ft != AE_IFREG) ||
	    (it->type == WT_ITEM_DIR && ft != AE_IFDIR) ||
	    (it->type == WT_ITEM_SYMLINK && ft != AE_IFLNK) ||
	    archive_entry_hardlink(e)) {
		*why = "entry type differs from the manifest";
		return -1;
	}
	if (it->type == WT_ITEM_FILE && (!archive_entry_size_is_set(e) ||
	    archive_entry_size(e) != it->size)) {
		*why = "entry size differs from the manifest";
		return -1;
	}
	if (it->type == WT_ITEM_SYMLINK &&
	    (!(l = archive_entry_symlink(e)) || strcmp(l, it->target) != 0)) {
		*why = "symbolic link target differs from the manifest";
		return -1;
	}
	if (it->type != WT_ITEM_SYMLINK && (archive_entry_perm(e) & 07777) != it->mode) {
		*why = "entry mode differs from the manifest";
		return -1;
	}
	return 0;
}

struct archive *
wt_archive_read_fd(int fd)
{
	struct archive *a = archive_read_new();

	archive_read_support_filter_zstd(a);
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_none(a);
	archive_read_support_format_tar(a);
	if (lseek(fd, 0, SEEK_SET) < 0 ||
	    archive_read_open_fd(a, fd, 1 << 20) != ARCHIVE_OK) {
		archive_read_free(a);
		return NULL;
	}
	return a;
}

/* Sets *why to a new message: what, and libarchive's or errno's reason. */
static void
say(char **why, struct archive *a, const char *what, const char *path)
{
	struct wt_buf b = WT_BUF_INIT;

	wt_buf_adds(&b, what);
	if (path)
		wt_buf_addf(&b, " '%s'", path);
	if (a && archive_error_string(a))
		wt_buf_addf(&b, ": %s", archive_error_string(a));
	free(*why);
	*why = wt_buf_detach(&b);
}

int
wt_archive_read_manifest(struct archive *a, struct wt_manifest *m, char **text,
			 size_t *len, char **why)
{
	struct archive_entry *e;
	struct wt_buf b = WT_BUF_INIT;
	const char *w;
	la_int64_t size;
	la_ssize_t n;

	if (archive_read_next_header(a, &e) != ARCHIVE_OK) {
		say(why, a, "cannot read the first entry", NULL);
		return -1;
	}
	if (!archive_entry_pathname(e) || strcmp(archive_entry_pathname(e), WT_MANIFEST_NAME) ||
	    archive_entry_filetype(e) != AE_IFREG) {
		say(why, NULL, "the first entry is not " WT_MANIFEST_NAME, NULL);
		return -1;
	}
	size = archive_entry_size(e);
	if (size <= 0 || size > WT_MANIFEST_MAX) {
		say(why, NULL, "the manifest has a bad size", NULL);
		return -1;
	}
	wt_buf_grow(&b, (size_t)size);
	while ((n = archive_read_data(a, b.s + b.len, b.cap - b.len)) > 0) {
		b.len += (size_t)n;
		if (b.len == b.cap)
			wt_buf_grow(&b, 1 << 16);
	}
	if (n < 0 || b.len != (size_t)size) {
		say(why, a, "cannot read the manifest", NULL);
		wt_buf_release(&b);
		return -1;
	}
	b.s[b.len] = '\0';
	if (wt_manifest_parse(m, b.s, b.len, &w) < 0) {
		free(*why);
		wt_buf_reset(&b);
		wt_buf_addf(&b, "bad manifest: %s", w);
		*why = wt_buf_detach(&b);
		wt_buf_release(&b);
		return -1;
	}
	if (text) {
		*len = b.len;
		*text = wt_buf_detach(&b);
	}
	wt_buf_release(&b);
	return 0;
}

/* Reads the current entry's data, comparing size and crc32 with it. */
static int
check_data(struct archive *a, const struct wt_item *it, char **why)
{
	const void *buf;
	size_t n;
	la_int64_t off, total = 0;
	uLong crc = crc32(0L, Z_NULL, 0);
	int r;

	while ((r = archive_read_data_block(a, &buf, &n, &off)) == ARCHIVE_OK) {
		/* Sparse holes read as zeros; the crc must count them too. */
		if (off > total) {
			static const unsigned char zero[4096];

			while (total < off) {
				size_t k = off - total > (la_int64_t)sizeof(zero) ?
					sizeof(zero) : (size_t)(off - total);
				crc = crc32_z(crc, zero, k);
				total += (la_int64_t)k;
			}
		}
		crc = crc32_z(crc, buf, n);
		total += (la_int64_t)n;
	}
	if (r != ARCHIVE_EOF) {
		say(why, a, "cannot read", it->path);
		return -1;
	}
	if (total != it->size || (uint32_t)crc != it->crc) {
		say(why, NULL, "content differs from the manifest (size or crc32)", it->path);
		return -1;
	}
	return 0;
}

int
wt_archive_verify(int fd, const char *expect, size_t nexpect, char **why)
{
	struct wt_manifest m;
	struct archive *a = wt_archive_read_fd(fd);
	struct archive_entry *e;
	char *text = NULL;
	const char *w;
	size_t len = 0, i;
	int r, ret = -1;

	memset(&m, 0, sizeof(m));
	if (!a) {
		say(why, NULL, "cannot open the archive", NULL);
		return -1;
	}
	if (wt_archive_read_manifest(a, &m, &text, &len, why) < 0)
		goto out;
	if (expect && (len != nexpect || memcmp(text, expect, len) != 0)) {
		say(why, NULL, "the manifest differs from the one written", NULL);
		goto out;
	}
	for (i = 0; i < m.nitems; i++) {
		if ((r = archive_read_next_header(a, &e)) != ARCHIVE_OK) {
			say(why, r == ARCHIVE_EOF ? NULL : a,
			    r == ARCHIVE_EOF ? "archive ends before" : "cannot read the entry for",
			    m.items[i].path);
			goto out;
		}
		if (wt_manifest_check_entry(&m.items[i], e, &w) < 0) {
			say(why, NULL, w, archive_entry_pathname(e));
			goto out;
		}
		if (m.items[i].type == WT_ITEM_FILE && check_data(a, &m.items[i], why) < 0)
			goto out;
	}
	if ((r = archive_read_next_header(a, &e)) != ARCHIVE_EOF) {
		say(why, r == ARCHIVE_OK ? NULL : a, r == ARCHIVE_OK ?
		    "an entry that is not in the manifest" : "cannot read the end of the archive",
		    r == ARCHIVE_OK ? archive_entry_pathname(e) : NULL);
		goto out;
	}
	ret = 0;
out:
	archive_read_free(a);
	wt_manifest_release(&m);
	free(text);
	return ret;
}
