/* archive.c: wt's archive format: the manifest both ways, and checking an archive against it. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "wt.h"

/*
 * The names of git's per-worktree state that an archive may carry: what
 * wt-archive writes and nothing else. Never configuration (config.worktree
 * can name commands git runs, core.fsmonitor) nor hooks: an archive is data.
 */
static const char *const git_names[WT_GIT_STATE_MAX + 1] = {
	WT_GIT_PREFIX "index", WT_GIT_PREFIX "HEAD", WT_GIT_PREFIX "logs/HEAD", NULL
};
_Static_assert(sizeof(git_names) / sizeof(git_names[0]) == WT_GIT_STATE_MAX + 1,
	       "WT_GIT_STATE_MAX is the number of git state names");

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

/*
 * Adds key: s when s is UTF-8, else key_hex: its bytes in hex (a file name
 * that is not UTF-8 cannot be a JSON string; hex keeps it exact).
 */
static void
obj_bytes(struct wt_obj *o, const char *key, const char *s, struct wt_buf *tmp)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, k, n = strlen(s);

	if (wt_utf8_valid(s, n)) {
		wt_obj_strn(o, key, s, n);
		return;
	}
	wt_buf_reset(tmp);
	wt_buf_addf(tmp, "%s_hex", key);
	k = tmp->len + 1;
	wt_buf_addc(tmp, '\0');
	for (i = 0; i < n; i++) {
		wt_buf_addc(tmp, hex[(unsigned char)s[i] >> 4]);
		wt_buf_addc(tmp, hex[(unsigned char)s[i] & 15]);
	}
	wt_obj_strn(o, tmp->s, tmp->s + k, tmp->len - k);
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
		if (!git_names[i])
			return "unknown git state entry (an archive carries only git's index, "
			       "HEAD and reflog, never configuration or hooks)";
	} else if (strcmp(p, WT_MANIFEST_NAME) == 0 || strcmp(p, ".git") == 0 ||
		   strncmp(p, ".git/", 5) == 0 ||
		   strncmp(p, WT_GIT_PREFIX, strlen(WT_GIT_PREFIX)) == 0 ||
		   strcmp(p, WT_GIT_DIR) == 0) {
		return "reserved path";
	}
	/* So git's state is at most WT_GIT_STATE_MAX entries. */
	if (*(sl = set_find(s, items, p, strlen(p))))
		return "path listed twice";
	/*
	 * Every parent is a directory listed earlier: so no entry can reach
	 * through a symbolic link, whatever the entries before it were.
	 */
	if (!git && slash) {
		size_t *par = set_find(s, items, p, (size_t)(slash - p));

		if (!*par || items[*par - 1].type != WT_ITEM_DIR)
			return "parent is not a directory listed before it";
	}
	*sl = k + 1;
	return NULL;
}

/* 32 bytes from 64 lowercase hex digits at s; -1 when s is not that. */
static int
sha_from_hex(const char *s, unsigned char sha[WT_SHA256_LEN])
{
	int i, hi, lo;

	if (strlen(s) != WT_SHA256_HEXLEN)
		return -1;
	for (i = 0; i < WT_SHA256_LEN; i++) {
		if ((hi = unhex(s[2 * i])) < 0 || (lo = unhex(s[2 * i + 1])) < 0)
			return -1;
		sha[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

static int
parse_item(const struct wt_rec *d, int t, struct wt_item *it, int version, const char **why)
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
		if (version >= 2) {
			s = wt_rec_tokstr(d, wt_rec_find_in(d, t, "sha256"));
			k = s && sha_from_hex(s, it->sha) == 0;
			free(s);
			if (!k) {
				*why = "a file entry without a valid sha256";
				return -1;
			}
		}
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
	if (t >= 0 && wt_rec_tokeq(d, t, WT_MANIFEST_FORMAT))
		m->version = 2;
	else if (t >= 0 && wt_rec_tokeq(d, t, WT_MANIFEST_FORMAT_1))
		m->version = 1;
	else {
		*why = "not a wt manifest (format is not " WT_MANIFEST_FORMAT " nor "
		       WT_MANIFEST_FORMAT_1 ")";
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
			if (parse_item(d, k, &m->items[m->nitems], m->version, why) < 0) {
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

int
wt_item_data_ok(const struct wt_manifest *m, const struct wt_item *it, const void *data,
		size_t len)
{
	unsigned char sha[WT_SHA256_LEN];

	if ((long long)len != it->size)
		return 0;
	if (m->version < 2)
		return (uint32_t)crc32_z(crc32(0L, Z_NULL, 0), data, len) == it->crc;
	wt_sha256(data, len, sha);
	return memcmp(sha, it->sha, WT_SHA256_LEN) == 0;
}

#define CHECK_BUFSZ (256 * 1024)

/* Reads the file open at fd to its end against it: size and SHA-256 (crc32 for format 1). */
static int
check_content(const struct wt_manifest *m, const struct wt_item *it, int fd, char *buf)
{
	unsigned char sha[WT_SHA256_LEN];
	uint32_t crc;
	off_t total;
	int v2 = m->version >= 2;

	if (wt_sums_fd(fd, buf, CHECK_BUFSZ, v2 ? NULL : &crc, v2 ? sha : NULL, &total) < 0 ||
	    total != it->size)
		return -1;
	return (v2 ? memcmp(sha, it->sha, WT_SHA256_LEN) == 0 : crc == it->crc) ? 0 : -1;
}

/* Checks one entry on disk; NULL, or what differs (static). */
static const char *
check_on_disk(const struct wt_manifest *m, const struct wt_item *it, int top, char *buf)
{
	struct stat st;
	char *l;
	ssize_t k;
	int fd;
	const char *w = NULL;

	fd = wt_open_beneath(top, it->path, it->type == WT_ITEM_FILE ? O_RDONLY :
			     it->type == WT_ITEM_DIR ? O_RDONLY | O_DIRECTORY : O_PATH);
	if (fd < 0 || fstat(fd, &st) < 0) {
		w = "missing on disk";
		goto out;
	}
	if ((it->type == WT_ITEM_FILE && !S_ISREG(st.st_mode)) ||
	    (it->type == WT_ITEM_DIR && !S_ISDIR(st.st_mode)) ||
	    (it->type == WT_ITEM_SYMLINK && !S_ISLNK(st.st_mode))) {
		w = "type on disk differs from the manifest";
	} else if (it->type == WT_ITEM_SYMLINK) {
		l = wt_xmalloc(strlen(it->target) + 2);
		k = readlinkat(fd, "", l, strlen(it->target) + 1);
		if (k < 0 || (size_t)k != strlen(it->target) || memcmp(l, it->target, (size_t)k))
			w = "link target on disk differs from the manifest";
		free(l);
	} else if ((st.st_mode & 07777) != it->mode) {
		w = "mode on disk differs from the manifest";
	} else if (it->type == WT_ITEM_FILE && st.st_size != it->size) {
		w = "size on disk differs from the manifest";
	} else if (it->type == WT_ITEM_FILE && check_content(m, it, fd, buf) < 0) {
		w = m->version >= 2 ? "content on disk differs from the manifest (sha256)" :
				      "content on disk differs from the manifest (crc32)";
	} else if (fsync(fd) < 0) {
		w = "cannot sync";
	}
out:
	if (fd >= 0)
		close(fd);
	return w;
}

int
wt_manifest_check_tree(const struct wt_manifest *m, int top, struct wt_buf *why)
{
	char *buf = wt_xmalloc(CHECK_BUFSZ);
	const char *w;
	size_t i;
	int e, ret = 0;

	for (i = m->ngit; i < m->nitems; i++)
		if ((w = check_on_disk(m, &m->items[i], top, buf))) {
			e = errno;
			wt_buf_addf(why, "'%s': %s", m->items[i].path, w);
			if (e == ENOSPC || e == EIO || e == EDQUOT)
				wt_buf_addf(why, ": %s", strerror(e));
			ret = -1;
			break;
		}
	if (ret == 0 && fsync(top) < 0) {
		wt_buf_addf(why, "cannot sync the worktree's top: %s", strerror(errno));
		ret = -1;
	}
	free(buf);
	return ret;
}

/* Adds the element it to the array open in o, on a line of its own. */
static void
add_line(struct wt_obj *o, struct wt_obj *it, struct wt_buf *tmp)
{
	size_t n;
	const char *text = wt_obj_text(it, &n);

	wt_buf_reset(tmp);
	wt_buf_addc(tmp, '\n');
	wt_buf_add(tmp, text, n);
	wt_obj_raw(o, NULL, tmp->s, tmp->len);
	wt_obj_reset(it);
}

static void
add_entry(struct wt_obj *it, const struct wt_snap_ent *e, struct wt_buf *tmp)
{
	char num[16], hex[WT_SHA256_HEXLEN + 1];

	obj_bytes(it, "path", e->path, tmp);
	if (S_ISLNK(e->st.st_mode)) {
		wt_obj_str(it, "type", "symlink");
		obj_bytes(it, "target", e->target, tmp);
		return;
	}
	wt_obj_str(it, "type", S_ISDIR(e->st.st_mode) ? "dir" : "file");
	snprintf(num, sizeof(num), "%04o", (unsigned)(e->st.st_mode & 07777));
	wt_obj_str(it, "mode", num);
	if (S_ISDIR(e->st.st_mode))
		return;
	wt_obj_int(it, "size", (long long)e->st.st_size);
	snprintf(num, sizeof(num), "%08x", (unsigned)e->crc);
	wt_obj_str(it, "crc32", num);
	wt_sha256_hex(e->sha, hex);
	wt_obj_str(it, "sha256", hex);
}

void
wt_manifest_build(struct wt_buf *out, const struct wt_manifest_of *w,
		  const struct wt_git_state *g, const struct wt_snapshot *s)
{
	struct wt_obj m, it;
	struct wt_buf tmp = WT_BUF_INIT;
	char ts[32], num[16], hex[WT_SHA256_HEXLEN + 1];
	const char *text;
	size_t i, n;

	wt_obj_init(&m);
	wt_obj_init(&it);
	wt_obj_str(&m, "format", WT_MANIFEST_FORMAT);
	wt_obj_str(&m, "id", w->id);
	wt_obj_str(&m, "name", w->name);
	wt_obj_str(&m, "path", w->path);
	wt_obj_str(&m, "repo", w->repo);
	wt_obj_str(&m, "head", w->head);
	wt_obj_str(&m, "branch", w->branch);
	if (w->upstream)
		wt_obj_str(&m, "upstream", w->upstream);
	wt_obj_str(&m, "ref", w->ref);
	wt_obj_str(&m, "archived_at", wt_time_fmt(w->archived_at, ts));
	wt_obj_str(&m, "artifacts", w->artifacts_kept ? "kept" : "left out");
	wt_buf_addc(&tmp, '\n');
	wt_buf_add(&tmp, w->record, w->record_len);
	wt_obj_raw(&m, "record", tmp.s, tmp.len);
	wt_obj_array(&m, "skipped");
	for (i = 0; i < s->ns; i++) {
		obj_bytes(&it, "path", s->s[i].path, &tmp);
		wt_obj_str(&it, "kind", s->s[i].kind);
		add_line(&m, &it, &tmp);
	}
	wt_obj_close(&m);
	wt_obj_array(&m, "git");
	for (i = 0; i < g->n; i++) {
		wt_obj_str(&it, "path", g->f[i].name);
		wt_obj_str(&it, "type", "file");
		wt_obj_str(&it, "mode", "0644");
		wt_obj_int(&it, "size", (long long)g->f[i].len);
		snprintf(num, sizeof(num), "%08x", (unsigned)g->f[i].crc);
		wt_obj_str(&it, "crc32", num);
		wt_sha256_hex(g->f[i].sha, hex);
		wt_obj_str(&it, "sha256", hex);
		add_line(&m, &it, &tmp);
	}
	wt_obj_close(&m);
	wt_obj_array(&m, "files");
	for (i = 0; i < s->n; i++) {
		add_entry(&it, &s->v[i], &tmp);
		add_line(&m, &it, &tmp);
	}
	text = wt_obj_text(&m, &n);
	wt_buf_add(out, text, n);
	wt_buf_addc(out, '\n');
	wt_obj_release(&m);
	wt_obj_release(&it);
	wt_buf_release(&tmp);
}

int
wt_manifest_has_git_state(const struct wt_manifest *m, const struct wt_git_state *g)
{
	size_t i;

	if (m->ngit != g->n)
		return 0;
	for (i = 0; i < g->n; i++)
		if (strcmp(g->f[i].name, m->items[i].path) != 0 ||
		    (long long)g->f[i].len != m->items[i].size || g->f[i].crc != m->items[i].crc ||
		    (m->version >= 2 && memcmp(g->f[i].sha, m->items[i].sha, WT_SHA256_LEN) != 0))
			return 0;
	return 1;
}

static int
cmp_item(const void *a, const void *b)
{
	return strcmp((*(const struct wt_item *const *)a)->path,
		      (*(const struct wt_item *const *)b)->path);
}

/* Whether e is in the archive as it is (hit: its item, or NULL), or lies in what it left out. */
static int
covered(const struct wt_manifest *m, const struct wt_item *hit, const struct wt_snap_ent *e)
{
	size_t k, n;

	if (hit && S_ISDIR(e->st.st_mode))
		return hit->type == WT_ITEM_DIR;
	if (hit && S_ISLNK(e->st.st_mode))
		return hit->type == WT_ITEM_SYMLINK && strcmp(hit->target, e->target) == 0;
	if (hit)
		return hit->type == WT_ITEM_FILE && hit->size == e->st.st_size &&
		       hit->crc == e->crc;
	if (S_ISDIR(e->st.st_mode))
		return 1;
	/* Not in the archive: fine only inside what it left out as recreatable. */
	for (k = 0; k < m->nskipped; k++) {
		n = strlen(m->skipped[k]);
		if (strncmp(e->path, m->skipped[k], n) == 0 &&
		    (e->path[n] == '\0' || e->path[n] == '/'))
			return 1;
	}
	return 0;
}

int
wt_manifest_covers(const struct wt_manifest *m, const struct wt_snapshot *s, const char **at)
{
	struct wt_item **idx, key, *kp = &key, **hit;
	size_t i, n = m->nitems - m->ngit;
	int ok = 1;

	idx = wt_xmalloc((n + 1) * sizeof(*idx));
	for (i = 0; i < n; i++)
		idx[i] = &m->items[m->ngit + i];
	qsort(idx, n, sizeof(*idx), cmp_item);
	for (i = 0; ok && i < s->n; i++) {
		key.path = s->v[i].path;
		hit = bsearch(&kp, idx, n, sizeof(*idx), cmp_item);
		if (!(ok = covered(m, hit ? *hit : NULL, &s->v[i])))
			*at = s->v[i].path;
	}
	free(idx);
	return ok;
}

/* An archive's record from its manifest: archived, with its archive and ref. */
int
wt_archive_record(const char *path, struct wt_rec *r)
{
	struct wt_manifest m;
	struct archive *a = NULL;
	char *why = NULL, *s;
	int fd, ret = -1;
	time_t at;

	memset(&m, 0, sizeof(m));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	if (!(a = wt_archive_read_fd(fd)) || wt_archive_read_manifest(a, &m, NULL, NULL, &why) < 0 ||
	    !m.id || !m.path)
		goto out;
	wt_rec_clear(r);
	wt_rec_set_str(r, "id", m.id);
	wt_rec_set_str(r, "path", m.path);
	if (m.repo)
		wt_rec_set_str(r, "repo", m.repo);
	if (m.branch)
		wt_rec_set_str(r, "branch", m.branch);
	else
		wt_rec_set_null(r, "branch");
	if (m.head)
		wt_rec_set_str(r, "head", m.head);
	wt_rec_set_str(r, "status", "archived");
	wt_rec_set_bool(r, "archived", 1);
	wt_rec_set_str(r, "archive", path);
	if (wt_rec_time(&m.doc, "archived_at", 0, &at) == 0)
		wt_rec_set_time(r, "archived_at", at);
	if ((s = wt_rec_str(&m.doc, "ref")))
		wt_rec_set_str(r, "archive_ref", s);
	free(s);
	ret = 0;
out:
	if (a)
		archive_read_free(a);
	close(fd);
	free(why);
	wt_manifest_release(&m);
	return ret;
}
