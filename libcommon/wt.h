/* wt.h: the one header of libcommon, the library shared by the wt programs. */
#ifndef WT_H
#define WT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

/*
 * jsmn is header-only: json.c defines WT_JSMN_IMPL and compiles its code, every
 * other file sees declarations only. Both see the same token layout.
 */
#define JSMN_STRICT
#define JSMN_PARENT_LINKS
#ifndef WT_JSMN_IMPL
#define JSMN_HEADER
#endif
#include <jsmn.h>

/* Exit status shared by every program (DESIGN.md). */
enum { WT_EXIT_OK = 0, WT_EXIT_RECORDS = 1, WT_EXIT_FATAL = 2 };

#define WT_MAX_LINE_DEFAULT (1024 * 1024)
#define WT_MAX_DEPTH 64

/* buf.c: a growable byte buffer, always NUL-terminated */
struct wt_buf {
	char *s;
	size_t len, cap;
};
#define WT_BUF_INIT { NULL, 0, 0 }
void wt_buf_grow(struct wt_buf *b, size_t extra);
void wt_buf_add(struct wt_buf *b, const void *p, size_t n);
void wt_buf_adds(struct wt_buf *b, const char *s);
void wt_buf_addc(struct wt_buf *b, int c);
void wt_buf_addf(struct wt_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/*
 * v in decimal, as %lld writes it, without printf (records write many):
 * the text ends the buffer, not NUL-terminated; returns where it starts.
 */
#define WT_INT_TEXT 24
const char *wt_int_text(char buf[WT_INT_TEXT], long long v, size_t *n);
void wt_buf_add_int(struct wt_buf *b, long long v);
void wt_buf_reset(struct wt_buf *b);
void wt_buf_release(struct wt_buf *b);
/* Returns the string and leaves b empty; the caller frees it. */
char *wt_buf_detach(struct wt_buf *b);
void *wt_xmalloc(size_t n);
void *wt_xrealloc(void *p, size_t n);
char *wt_xstrdup(const char *s);
char *wt_xstrndup(const char *s, size_t n);

/* file.c: small file system helpers */
/* A small file's content without its final newline; a new string or NULL. */
char *wt_read_small(const char *path, size_t max);
/* The same for path relative to the directory open at dirfd (or AT_FDCWD). */
char *wt_read_small_at(int dirfd, const char *path, size_t max);
/* mkdir -p dir with mode for what it makes; 0 or -1 with errno. */
int wt_mkdirs(const char *dir, mode_t mode);
/* mkdir -p of the directory that holds path (mode 0755). */
int wt_mkdirs_parent(const char *path);
/*
 * Replaces the file path with n bytes of data, whole or not at all: written
 * to a temporary of its own beside it (O_EXCL, not following links, with
 * mode), synced, renamed over path, and the directory synced. 0, or -1 with
 * errno and no temporary left.
 */
int wt_write_atomic(const char *path, const void *data, size_t n, mode_t mode);
/* fsync of a directory, so a rename in it lasts; 0 or -1. */
int wt_sync_dir(const char *dir);

/* json.c: validation, escaping and unescaping of JSON text */
/* Appends s (n bytes of UTF-8) as a quoted JSON string. */
void wt_json_str(struct wt_buf *b, const char *s, size_t n);
void wt_json_strz(struct wt_buf *b, const char *s);
/*
 * 1 when s[0..n) as a JSON string is itself between quotes: printable ASCII
 * without '"' or '\\' (what wt_json_str copies as it is).
 */
int wt_json_plain(const char *s, size_t n);
/*
 * Unescapes the body of a JSON string (without quotes) into a new
 * NUL-terminated string; the caller frees it. A \u0000 or a lone surrogate
 * becomes U+FFFD, so the result is always a C string of valid UTF-8.
 */
char *wt_json_unescape(const char *s, size_t n);
/*
 * Checks that s[0..n) is exactly one JSON value (an object when want_object)
 * in valid UTF-8, nested at most WT_MAX_DEPTH deep, with surrounding white
 * space only. Returns 0 or -1 with *why set to a static message.
 */
int wt_json_check(const char *s, size_t n, int want_object, const char **why);
/* What wt_json_tokens learns of an object besides its tokens. */
struct wt_json_info {
	uint64_t keys;   /* wt_json_keybit of each top-level key's text, or-ed */
	int esc;         /* 1 when a string (key or value) holds an escape */
};
/*
 * The same for the value of a record's field, which sits one level down: it
 * may nest at most WT_MAX_DEPTH - 1 deep, so the record stays readable.
 */
int wt_json_check_field(const char *s, size_t n, const char **why);
/*
 * The same check of an object, in the same pass tokenizing it as jsmn_parse
 * does (JSMN_STRICT, JSMN_PARENT_LINKS) into tok. Returns the number of
 * tokens, of which only the first ntok are stored (call again with more room
 * when it is larger), or -1 with *why set. Fills *info.
 */
int wt_json_tokens(const char *s, size_t n, jsmntok_t *tok, int ntok,
		   struct wt_json_info *info, const char **why);
/*
 * A bit for a key's text (as it stands between the quotes): a name whose
 * bit is clear in a filter is surely not one of its keys. A hash of the
 * length and the end bytes; the multiplier gives each top-level field of
 * wt-record(5) and of the programs a bit of its own, but apparent_size and
 * artifact_size, alike in both. Inline, as every lookup takes one.
 */
static inline uint64_t
wt_json_keybit(const char *s, size_t n)
{
	uint32_t x = (uint32_t)n << 16;

	if (n)
		x |= (uint32_t)(unsigned char)s[0] << 8 | (unsigned char)s[n - 1];
	return 1ULL << ((x * 0xdb64f223u) >> 26);
}
/* 1 when s[0..n) is valid UTF-8 (no overlong forms, no surrogates). */
int wt_utf8_valid(const char *s, size_t n);

/*
 * A JSON object builder, for every object a program writes (error contexts,
 * patches, dry runs, results): members are added in order, nested objects
 * and arrays opened and closed; a NULL key adds an element to the array
 * open. The text is valid JSON by construction. wt_obj_text closes what is
 * open and returns the text, owned by o until wt_obj_release.
 */
#define WT_OBJ_DEPTH 16
struct wt_obj {
	struct wt_buf b;
	int depth;
	unsigned char has[WT_OBJ_DEPTH];      /* a level has a member already */
	char closer[WT_OBJ_DEPTH];
};
void wt_obj_init(struct wt_obj *o);
void wt_obj_reset(struct wt_obj *o);
void wt_obj_release(struct wt_obj *o);
/* s NULL writes null. */
void wt_obj_str(struct wt_obj *o, const char *key, const char *s);
void wt_obj_strn(struct wt_obj *o, const char *key, const char *s, size_t n);
void wt_obj_int(struct wt_obj *o, const char *key, long long v);
void wt_obj_bool(struct wt_obj *o, const char *key, int v);
void wt_obj_null(struct wt_obj *o, const char *key);
/* raw must be one valid JSON value (another object's text, a record's field). */
void wt_obj_raw(struct wt_obj *o, const char *key, const char *raw, size_t n);
void wt_obj_open(struct wt_obj *o, const char *key);
void wt_obj_array(struct wt_obj *o, const char *key);
void wt_obj_close(struct wt_obj *o);
const char *wt_obj_text(struct wt_obj *o, size_t *n);
/* 1 while the object has no member. */
int wt_obj_empty(const struct wt_obj *o);

/* record.c: one record, one JSON object on one line */
struct wt_rec {
	char *line;          /* the object's text, NUL-terminated, no newline */
	size_t len, cap;
	jsmntok_t *tok;      /* tokens of line; tok[0] is the object */
	int ntok, tokcap;
	long lineno;         /* input line number, 0 when made here */
	int esc;             /* 0 when no string of line holds an escape */
	uint64_t keys;       /* filter of the top-level keys' text (wt_json_keybit) */
};
#define WT_REC_INIT { NULL, 0, 0, NULL, 0, 0, 0, 0, 0 }
void wt_rec_release(struct wt_rec *r);
/*
 * Parses text as the record's new content. Returns 0, or -1 with a message in
 * *why (static storage) when the text is not one valid JSON object of bounded
 * depth in valid UTF-8, or has a top-level key twice (wt-record(5): JSON
 * leaves open which value counts, so no program guesses).
 */
int wt_rec_parse(struct wt_rec *r, const char *text, size_t n, const char **why);
/* Token index of the value of top-level key (n bytes), or -1. */
int wt_rec_find_n(const struct wt_rec *r, const char *key, size_t n);
/*
 * The same for a NUL-terminated key. Inline: the length of a literal is
 * known when compiling, and most lookups of an absent key end at the key
 * filter, without a call.
 */
static inline int
wt_rec_find(const struct wt_rec *r, const char *key)
{
	size_t n = strlen(key);

	if (r->ntok && !r->esc && !(r->keys & wt_json_keybit(key, n)))
		return -1;
	return wt_rec_find_n(r, key, n);
}
/* Token index of the value of key inside the object at token obj, or -1. */
int wt_rec_find_in(const struct wt_rec *r, int obj, const char *key);
/* A new string holding the value of key when it is a JSON string; else NULL. */
char *wt_rec_str(const struct wt_rec *r, const char *key);
char *wt_rec_tokstr(const struct wt_rec *r, int t);
/* 0 and *t when key holds a string that wt_time_parse reads with flags; else -1. */
int wt_rec_time(const struct wt_rec *r, const char *key, int flags, time_t *t);
/* 0 and *v when key holds a number (or a bool/null for the others); else -1. */
int wt_rec_num(const struct wt_rec *r, const char *key, double *v);
int wt_rec_bool(const struct wt_rec *r, const char *key, int *v);
int wt_rec_is_null(const struct wt_rec *r, const char *key);
/* 1 when the record is archived: status "archived" or archived true. */
int wt_rec_is_archived(const struct wt_rec *r);
/* The raw JSON text of key's value and its length; NULL when absent. */
const char *wt_rec_raw(const struct wt_rec *r, const char *key, size_t *n);
/* 1 when the token is the string s (compared after unescaping). */
int wt_rec_tokeq(const struct wt_rec *r, int t, const char *s);
/*
 * What token t is, for callers that need not know jsmn's token type: 1 when
 * it is a string (a primitive: a number, true, false or null); 0 when not,
 * or t is -1. tok_text gives its text (a string's between the quotes, still
 * escaped) and length, pointing into r->line; NULL when t is -1.
 */
int wt_rec_tok_is_string(const struct wt_rec *r, int t);
int wt_rec_tok_is_primitive(const struct wt_rec *r, int t);
const char *wt_rec_tok_text(const struct wt_rec *r, int t, size_t *n);
/*
 * Editing keeps every other byte of the line. set_raw replaces the value of key
 * in place, or appends "key":raw at the end of the object; raw must be valid
 * JSON nested at most WT_MAX_DEPTH - 1 deep, so the record stays readable (it
 * is checked). Return 0, or -1 when raw is not such a value.
 */
int wt_rec_set_raw(struct wt_rec *r, const char *key, const char *raw, size_t n);
void wt_rec_set_str(struct wt_rec *r, const char *key, const char *s);
void wt_rec_set_int(struct wt_rec *r, const char *key, long long v);
void wt_rec_set_num(struct wt_rec *r, const char *key, double v);
void wt_rec_set_bool(struct wt_rec *r, const char *key, int v);
void wt_rec_set_null(struct wt_rec *r, const char *key);
void wt_rec_set_time(struct wt_rec *r, const char *key, time_t t);
/* Sets key to the object o built (closing what is open in it). */
struct wt_obj;
void wt_rec_set_obj(struct wt_rec *r, const char *key, struct wt_obj *o);
/* Removes key and its value; 0 when removed, -1 when absent. */
int wt_rec_del(struct wt_rec *r, const char *key);
/* Appends the line and a newline to out; err(2) when out fails. */
void wt_rec_write(const struct wt_rec *r, FILE *out);
/* Makes r the empty object {}. */
void wt_rec_clear(struct wt_rec *r);
/* Copies src into dst (dst must be initialised). */
void wt_rec_copy(struct wt_rec *dst, const struct wt_rec *src);

/* reader.c: NDJSON records from a file descriptor, in large blocks */
struct wt_reader;
/* maxline 0 takes the default (WT_MAX_LINE or 1 MiB). */
struct wt_reader *wt_reader_new(int fd, size_t maxline);
void wt_reader_free(struct wt_reader *rd);
/*
 * Reads the next record into r. Returns 1 with a record (a line that is not a
 * valid object becomes an InputError record naming its line number), 0 at end
 * of input, -1 on a read error (errno set). Blank lines are skipped; CRLF and
 * a missing final newline are accepted.
 */
int wt_reader_next(struct wt_reader *rd, struct wt_rec *r);
/*
 * Raw variant: the next line's bytes without parsing (CR and newline removed);
 * *line points into the reader's buffer until the next call. A line over the
 * limit is returned with *toolong set and its text cut. Used by readers that
 * trust their input (the registry) for speed. Returns like wt_reader_next.
 */
int wt_reader_line(struct wt_reader *rd, const char **line, size_t *n, int *toolong);
long wt_reader_lineno(const struct wt_reader *rd);
/*
 * Flushes out before a read of more input that would wait (filters: stream,
 * don't hold); input already there is read first.
 */
void wt_reader_flush_on_read(struct wt_reader *rd, FILE *out);
/* Calls fn(arg) at the same moments, before any flush_on_read flush. */
void wt_reader_on_wait(struct wt_reader *rd, void (*fn)(void *), void *arg);
/* Byte offset in the input where the line last returned starts. */
off_t wt_reader_offset(const struct wt_reader *rd);

/* error.c: error records and messages */
extern const char *wt_progname;
#define WT_E_BASE "WorktreeError"
#define WT_E_CREATE "WorktreeCreationError"
#define WT_E_SYNC "SynchronizationError"
#define WT_E_REGISTRY "RegistryError"
#define WT_E_INPUT "InputError"
void wt_setprogname(const char *argv0);
/*
 * The one way a record gets an error: adds {"error":{"kind":kind,
 * "message":...,"tool":progname,"context":ctx}} to r (ctx NULL: none; it is
 * closed by this call but still released by the caller) and prints
 * "prog: 'id': message" on stderr.
 */
void wt_rec_error(struct wt_rec *r, const char *kind, struct wt_obj *ctx,
		  const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void wt_rec_verror(struct wt_rec *r, const char *kind, struct wt_obj *ctx,
		   const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));
/*
 * A refusal by a safety rule: a WorktreeError whose context is
 * {"rule":rule} followed by ctx's members (ctx may be NULL). When the rule
 * is a skip, no failure (locked, in_use, git_running, and main for the
 * record of a main worktree, "main": true), the record gets instead
 * {"skipped":{"reason":rule,"message":...}} plus ctx's members: a result,
 * which leaves the exit status 0.
 */
void wt_rec_refuse(struct wt_rec *r, const char *rule, struct wt_obj *ctx,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/*
 * A skip a program decides for its own reasons (wt-sync: a dirty worktree,
 * a detached HEAD): the skipped object of wt_rec_refuse's skips, always.
 */
void wt_rec_skip(struct wt_rec *r, const char *reason, struct wt_obj *ctx,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/*
 * Contexts of one shape for every program, into ctx (reset, initialised),
 * which is returned: the step that failed and the path it concerns (NULL:
 * none); a RegistryError's registry, operation and step (NULL: none).
 */
struct wt_obj *wt_ctx_at(struct wt_obj *ctx, const char *step, const char *path);
struct wt_obj *wt_ctx_registry(struct wt_obj *ctx, const char *registry,
			       const char *operation, const char *step);
/*
 * A RegistryError: the registry at registry could not do operation (read,
 * journal, commit, ...) for r.
 */
void wt_rec_registry_error(struct wt_rec *r, const char *registry, const char *operation,
			   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/*
 * A dry run's answer, one shape for every program: the record's "would"
 * object starts with "action" (remove, prune, archive, restore), what the
 * run would do, then the program's details. o is initialised here.
 */
void wt_would_init(struct wt_obj *o, const char *action);
/* 1 when r carries an error object. */
int wt_rec_has_error(const struct wt_rec *r);
/*
 * The test hook of the programs that change things in steps: with
 * WT_TEST_PAUSE=STEP in the environment, the process says "paused at STEP"
 * on stderr and stops itself (SIGSTOP) there, so that a test can look, kill
 * or continue it at a known point. Otherwise nothing.
 */
void wt_test_pause(const char *step);
/* Checks stdout was written; err(2) otherwise. */
void wt_flush_stdout(void);

/* opt.c: the options every program has */
/*
 * A program's usage text is its
 * SYNOPSIS line, then one line per option; getopt_long gets "h" in its
 * short options and WT_LONGOPTS_STD (which needs <getopt.h>) in its long
 * ones, and every value no case of its switch takes goes to wt_opt_other.
 */
#define WT_OPT_VERSION 0x100
#define WT_LONGOPTS_STD \
	{ "help", no_argument, NULL, 'h' }, \
	{ "version", no_argument, NULL, WT_OPT_VERSION }
/* The suite's version, from the Makefile's VERSION. */
extern const char wt_version[];
/* A usage error: text on stderr, exit 2. */
void wt_usage(const char *text) __attribute__((noreturn));
/*
 * -h or --help: usage on stdout, exit 0; --version: "PROGRAM VERSION" on
 * stdout, exit 0; any other value (a bad option, which getopt has named):
 * wt_usage(usage).
 */
void wt_opt_other(int c, const char *usage) __attribute__((noreturn));

/* timeutil.c: RFC 3339 time */
#define WT_TIME_LOCALZ 1  /* a trailing Z means local time (MoAI-ADK files) */
/* Parses RFC 3339 (lenient: fractions, offsets, space for T, no zone = UTC). */
int wt_time_parse(const char *s, int flags, time_t *t);
/* Formats t in UTC as 2026-01-06T10:00:00Z into buf (at least 32 bytes). */
char *wt_time_fmt(time_t t, char *buf);
/*
 * Now, or WT_NOW (RFC 3339 or seconds since the epoch) when set; exits 2
 * when WT_NOW is neither.
 */
time_t wt_now(void);

/* config.c: ${XDG_CONFIG_HOME:-~/.config}/wt/config, WT_* environment */
struct wt_config {
	long long size_warning, size_critical, max_worktrees;
	long stale_days, archive_after_days, cache_ttl, retries;
	int jobs;
	double disk_threshold;
	char *compression, *worktree_root, *registry, *home;
	char *archive_dir;   /* wt-archive's output; NULL: $WT_HOME/archives */
	double lock_timeout;
	double retry_delay;  /* the first wait before a retry; doubled each time */
	double fetch_timeout;/* a fetch that makes no progress this long fails */
};
/* Loads defaults, then the file, then the environment; exits 2 on a bad value. */
void wt_config_load(struct wt_config *c);
/*
 * Calls fn with the value of each "artifact = ..." line of the configuration
 * file, in order, and "FILE:LINE" for messages (artifact.c's table does this
 * once, on first use). The key has no environment variable.
 */
void wt_config_artifacts(void (*fn)(const char *value, const char *where));
void wt_config_release(struct wt_config *c);
/* Parses 500M, 1G, 1024 (bytes); -1 when invalid. */
long long wt_parse_size(const char *s);
/* Parses a positive job count; exits 2 when invalid. */
int wt_parse_jobs(const char *s);
/* Parses a non-negative integer; exits 2 with "bad NAME" when invalid. */
long wt_parse_long(const char *s, const char *what);
/* Days from 30 or 30d; -1 when invalid. */
long wt_parse_days(const char *s);
/*
 * Exits 2 with the reason when the warning size is above the critical one
 * (the sizes as the options and the configuration give them).
 */
void wt_check_size_levels(long long warning, long long critical);
/* The default job count: min(CPUs, 4). */
int wt_default_jobs(void);
/* "$WT_HOME" resolved: a new string. */
char *wt_home(void);
/* An archive's compression, as wt_compression_pick chose it. */
struct wt_compression {
	const char *name;           /* "zstd", "gzip" or "none" */
	const char *ext;            /* ".tar.zst", ".tar.gz" or ".tar" */
	int level;                  /* zstd 1 to 19, gzip 1 to 9 */
	int threads;                /* zstd's workers: every CPU */
};
/*
 * The compression policy: name (NULL: the compression key of c) at level
 * (-1: zstd 3, gzip 6). When zstd is asked for and zstd_ok is 0 (libarchive
 * cannot write it, wt_archive_can_zstd), gzip is written instead with a
 * warning, its level at most 9. Exits 2 on an unknown name or a level out
 * of range.
 */
void wt_compression_pick(struct wt_compression *z, const struct wt_config *c,
			 const char *name, int level, int zstd_ok);

/* registry.c: the registry, read streaming and written in batches */
struct wt_registry {
	char *path;      /* registry.ndjson */
	char *dir;       /* its directory: lock, journal, index sit beside it */
	int moai;        /* 1 when the file is a MoAI-ADK registry (read only) */
};
/*
 * Resolves the registry from opt (-r), WT_REGISTRY, the config, or the
 * default. Returns 1 when the file exists, 0 when it does not (reg is still
 * filled), -1 when it exists but cannot be read.
 */
int wt_registry_open(struct wt_registry *reg, const struct wt_config *c,
		     const char *opt);
void wt_registry_release(struct wt_registry *reg);
/* Callback for every record; borrowed r. Return nonzero to stop. */
typedef int (*wt_rec_fn)(struct wt_rec *r, void *arg);
/*
 * Streams every record (in constant memory for NDJSON) to fn. A leftover
 * journal is not applied by readers. Returns 0, or -1 when unreadable.
 */
int wt_registry_each(const struct wt_registry *reg, wt_rec_fn fn, void *arg);
/*
 * Finds by id through the index when it is valid (O(1)); falls back to a
 * scan. Returns 1 with r filled, 0 when absent, -1 on error. *used_index
 * tells which way was taken when not NULL.
 */
int wt_registry_find(const struct wt_registry *reg, const char *id,
		     struct wt_rec *r, int *used_index);
/*
 * "Is this the registry's record of this worktree?", asked before any patch:
 * the record with id, when its path (as written or resolved) is top and its
 * repo, when it has one, is common (both resolved, as wt_target_verify
 * gives them). Returns WT_REG_SAME with r filled, WT_REG_NONE when there is
 * no such id (or no registry, or a MoAI-ADK one), WT_REG_OTHER when the id
 * names another worktree (r filled; patching it would be a RegistryError),
 * or -1 when the registry cannot be read.
 */
enum { WT_REG_NONE = 0, WT_REG_SAME = 1, WT_REG_OTHER = 2 };
int wt_registry_record_of(const struct wt_registry *reg, const char *id,
			  const char *top, const char *common, struct wt_rec *r);
/*
 * What a program that patches the registry for r does with the answer (rc,
 * cur) of wt_registry_record_of: 0 when the patch may go on (the record is
 * this worktree's, or there is none), else -1 with a RegistryError on r
 * saying it refuses to doing (archive, restore) or cannot read the registry.
 */
int wt_registry_may_patch(struct wt_rec *r, const struct wt_registry *reg, int rc,
			  const struct wt_rec *cur, const char *doing);
/* Streams the records whose status is status, through the index if valid. */
int wt_registry_each_status(const struct wt_registry *reg, const char *status,
			    wt_rec_fn fn, void *arg, int *used_index);
/* Rebuilds the index from the registry under the lock. 0 or -1. */
int wt_registry_reindex(const struct wt_registry *reg, double lock_timeout);
/* 1 when the index matches the registry's generation. */
int wt_registry_index_valid(const struct wt_registry *reg);
/* A file beside the registry: registry.NAME (or PATH.NAME). A new string. */
char *wt_registry_file(const struct wt_registry *reg, const char *name);

/* What a registry's directory holds that a finished run would not leave. */
enum {
	WT_LEFT_JOURNAL = 1,    /* registry.journal with patches not merged */
	WT_LEFT_INDEX = 2,      /* an index that does not match the registry (edited since) */
	WT_LEFT_TMP = 4,        /* PATH.tmp.PID of a writer that is gone */
};
/* Called with one WT_LEFT_* and the file's path (borrowed). */
typedef void (*wt_leftover_fn)(int what, const char *path, void *arg);
/*
 * Looks beside reg for what a killed or bypassed writer left, calling fn
 * (when not NULL) for each; returns the WT_LEFT_* found, or-ed. Reads only:
 * wt-ls names them, wt-fsck --repair removes them. A MoAI-ADK registry has none.
 */
int wt_registry_leftovers(const struct wt_registry *reg, wt_leftover_fn fn, void *arg);

/* moai.c: the MoAI-ADK registry file, read as records */
/* Converts a MoAI-ADK registry file at path to records (sorted by id). */
int wt_moai_each(const char *path, wt_rec_fn fn, void *arg);
/* 1 when a file's first line says it is a MoAI-ADK registry, not NDJSON. */
int wt_moai_detect(const char *line, size_t n);

/* fsck.c: what wt-fsck decides that others may ask too */
/*
 * The MoAI-ADK SPEC ID a name carries (a directory name, a branch such as
 * feature/SPEC-123): "SPEC-" and segments of capitals and digits joined by
 * '-', starting the name or after a '/', '-', '_' or '.'; SPEC-AUTH-001-login
 * carries SPEC-AUTH-001. A new string, or NULL when it carries none.
 */
char *wt_spec_id(const char *name);
/*
 * Git's two pointers of a linked worktree: <admin>/gitdir names the
 * worktree's .git, whose "gitdir: " line names admin (wt_admin_of_path finds
 * admin from the path). names_admin: 1 when dir's .git file names admin (as
 * written or resolved). repair_pointer: git worktree repair's fix after a
 * move, only once dir (a directory, not a symbolic link) has its own .git
 * naming admin: admin's gitdir is rewritten (a temporary, fsync, rename) to
 * name dir/.git, and the result must then verify as a linked worktree of
 * repo (wt_target_verify), else the old gitdir is put back. 0 or -1.
 */
int wt_worktree_names_admin(const char *dir, const char *admin);
int wt_worktree_repair_pointer(const char *admin, const char *dir, const char *repo);
/*
 * Where MoAI-ADK keeps the registry of the project of the repository around
 * the current directory: ~/.moai/worktrees/PROJECT/.moai-worktree-registry.json,
 * then its legacy places (~/moai/worktrees/PROJECT, ~/moai/worktrees,
 * ~/worktrees/PROJECT, ~/worktrees, the worktrees directory beside the
 * repository). The first readable one (a new string), or NULL.
 */
char *wt_moai_default(void);

/* index.c: registry.idx, find by id in O(1) and records by status */
/*
 * The file: a header (magic, the registry's generation as device, inode,
 * size and mtime, slot count, record count, where the status table is, the
 * count of lines that are no record),
 * an open-addressed hash table of (hash of id, offset + 1) slots, then the
 * status table and its offset lists.
 */
#define WT_IDX_HDR 96
struct wt_index {
	int fd;
	uint64_t nslots, nrecs, status_off, nstatus;
	uint64_t nbad;       /* lines that are no record: status queries scan */
};
uint64_t wt_index_hash(const char *s, size_t n);
/*
 * Opens the index when it matches the registry's generation. Returns an open
 * fd of the registry (the file the index describes) with ix->fd open too, or
 * -1 when there is no valid index.
 */
int wt_index_open(const struct wt_registry *reg, struct wt_index *ix);
/*
 * Where the offsets of status's records are; -1 when not indexed (also when
 * the registry has lines that are no record, which a scan reports).
 */
int wt_index_status(struct wt_index *ix, const char *status, uint64_t *count,
		    uint64_t *listoff);
/* Writes the index of the registry open at regfd (atomically). 0 or -1. */
int wt_index_write(const struct wt_registry *reg, int regfd);

/* batch.c: the batched write protocol */
struct wt_batch;
/*
 * A batch of reg's patches. Nothing is written until the first patch, which
 * opens the journal (making the registry's directory): open one at the start
 * of every run that may change the registry. Patches may come from any
 * thread (pool workers) at once. A MoAI-ADK registry is read only: its
 * patches fail with EROFS.
 */
struct wt_batch *wt_batch_open(const struct wt_registry *reg);
/*
 * Patches, journaled (appended and synced) as they are made:
 * set merges the fields of the JSON object fields into record id (a null is
 * set as null); set_del does too (fields NULL: none) and then removes the
 * fields named in del (NULL-terminated, or NULL); put inserts or replaces a
 * whole record; del removes record id. Return 0 or -1 (errno set; the batch
 * then failed). A set patch a journal holds from before del existed (no
 * "del" member) removes the fields it sets to null, as it meant.
 */
int wt_batch_set(struct wt_batch *b, const char *id, const char *fields);
int wt_batch_set_del(struct wt_batch *b, const char *id, const char *fields,
		     const char *const *del);
int wt_batch_put(struct wt_batch *b, const struct wt_rec *rec);
int wt_batch_del(struct wt_batch *b, const char *id);
/*
 * A patch that removes a line of the registry that is no record (it does
 * not parse, or has no id), which no patch by id can reach: the line
 * numbered lineno (from 1, as wt_registry_each_bad_line counts) whose bytes
 * (without the newline, or a CR before it) are line[0..n). The commit drops
 * exactly that line of the registry as it is under the lock, matched by
 * number and SHA-256 of its bytes; a line that moved or changed since
 * stays, with a warning. Dropping one line of an id written twice leaves
 * the id's patches to the other. The old file is the .bak, as always.
 */
int wt_batch_drop_line(struct wt_batch *b, long lineno, const char *line, size_t n);
/*
 * The line numbers of the drops that the last commit of this process kept
 * (the line moved or changed since): *lines borrowed until the next commit.
 * Returns how many; a drop is done when its commit succeeded and it is not
 * among them.
 */
size_t wt_batch_kept_drops(const long **lines);
/*
 * Calls fn for each line of the registry that is no record, with its number,
 * its bytes (borrowed until fn returns) and toolong (its bytes then cut),
 * read as a commit reads them. Return nonzero from fn to stop. 0 or -1.
 */
typedef int (*wt_bad_line_fn)(long lineno, const char *line, size_t n, int toolong,
			      void *arg);
int wt_registry_each_bad_line(const struct wt_registry *reg, wt_bad_line_fn fn, void *arg);
/*
 * Takes the lock (waiting up to timeout seconds with backoff), applies every
 * journaled patch to the registry as it is, writes it through a temporary
 * file with fsync, keeps .bak, renames, syncs the directory, rewrites the
 * index and truncates the journal. Returns the number of patches applied, or
 * -1 (a message was printed). Frees b either way. A batch with no patch only
 * replays a journal a killed run left; b NULL is no batch (returns 0).
 */
int wt_batch_commit(struct wt_batch *b, double timeout);
/* 1 when a patch of b could not be journaled: the run exits 1. */
int wt_batch_failed(const struct wt_batch *b);
/* Forgets b without committing (its journaled patches stay for the next). */
void wt_batch_abandon(struct wt_batch *b);
/* Replays a leftover journal, if any. Returns patches applied or -1. */
int wt_registry_replay(const struct wt_registry *reg, double timeout);
/*
 * Takes the registry lock; returns the fd or -1 after timeout seconds (with a
 * message, except for a mere try with timeout 0).
 */
int wt_registry_lock(const struct wt_registry *reg, double timeout);

/* creating.c: wt-add's intent files, so a creation is all or nothing */
/*
 * Before its first step wt-add writes, for each ID, the intent file
 * <registry dir>/creating/<ID>.json (mode 0600, fsynced, the directory
 * too): NDJSON, one whole intent object per line, appended at every step;
 * the last line that parses is the truth. Fields (wt_obj): id, path (the
 * worktree's top), repo (the common git directory, resolved), name (git's
 * admin entry: <repo>/worktrees/<name>), branch, made_branch (the run
 * created it), base (the base commit, hex), made_parent (the topmost parent
 * directory the run created, or null), copy (the -c globs), pid,
 * started_at, step, and dev and ino of the worktree's top once it exists.
 * Steps, in order: begin (nothing made yet), branch (the branch is made),
 * worktree (git_worktree_add runs: admin entry, directory, checkout),
 * checked_out (dev and ino known), copied (the -c copies made), journaled
 * (the record is in the registry's journal: the commit point). A live run
 * holds an exclusive flock on its file from before the file has its name
 * until it is removed, so "dead" is "the lock is free", not a guess from a
 * pid that may be reused. The file goes after the registry commit.
 */
#define WT_INTENT_DIR "creating"
struct wt_intent {
	char *id, *path, *repo, *name, *branch;
	char *base;                 /* commit id, hex */
	char *made_parent;          /* NULL: the parent existed */
	char **globs;               /* -c, in order */
	size_t nglobs;
	int made_branch;
	long pid;
	time_t started_at;
	char step[32];
	unsigned long long dev, ino;    /* 0: not known yet */
	char *file;                 /* the intent file's path; NULL once removed */
	int fd;                     /* the file, locked; -1 */
	int dead;                   /* 1: a dead run's, read by wt_intent_each_dead */
};
/* <registry dir>/creating: a new string. */
char *wt_intent_dir(const struct wt_registry *reg);
/*
 * Writes in's first line (in->id, path, repo, name, branch, base, globs set
 * by the caller; pid, started_at and step "begin" set here) as the new file
 * <dir>/<id>.json, replacing nothing: EEXIST when another run's intent of
 * the id is there (a live one, or a dead one not undone yet). 0 or -1 with
 * errno. The id must be a safe file name (the caller checks it).
 */
int wt_intent_begin(struct wt_intent *in, const struct wt_registry *reg);
/* Sets in->step and appends the intent as it is now, synced. 0 or -1 with errno. */
int wt_intent_step(struct wt_intent *in, const char *step);
/* Removes the intent file (synced); in->file is NULL after. 0 or -1 with errno. */
int wt_intent_done(struct wt_intent *in);
/*
 * 1 when rel (a path relative to the top, as git status names an ignored
 * one: a directory's with a trailing slash) is what a -c glob of in asks
 * for: a glob without '/' matches the last component (fnmatch), one with
 * '/' the whole path (FNM_PATHNAME). wt-add copies what it matches, and
 * the undo takes such files for the copies a run made.
 */
int wt_intent_copies(const struct wt_intent *in, const char *rel);
/* Frees in's strings and closes (unlocks) its file; in is left empty with fd -1. */
void wt_intent_release(struct wt_intent *in);
/*
 * Calls fn for each intent file whose run is gone (its lock is free; it is
 * held for the call): in is filled from the file's last parsing line (only
 * in->id and file when none parses), borrowed, released after fn returns.
 * fn returns nonzero to stop. Returns how many were found, -1 when the
 * directory cannot be read (none there is 0).
 */
int wt_intent_each_dead(const struct wt_registry *reg,
			int (*fn)(struct wt_intent *in, void *arg), void *arg);
/*
 * The one undo of a creation, for wt-add on any failure of a step and for
 * wt-fsck --repair on a dead run's intent (from wt_intent_each_dead), in
 * this order, each only when it is this run's (an intent without a name and
 * one of wt-add's steps, or a dead run's naming a path the registry lists
 * that is not its own journaled record, is refused: nothing is touched):
 * - at step journaled (the commit point) the registry's journal is replayed
 *   first; when the registry then has the record of the worktree (same id,
 *   path and repo) and the worktree verifies, the creation is complete: it
 *   is rolled forward, only the intent file goes ("completed" in done);
 * - the worktree at in->path: verified (wt_target_verify against in->repo,
 *   admin entry name in->name, device and inode when known), then refused
 *   when it holds work: HEAD not at base, an untracked or ignored file not
 *   matching a -c glob, a copy (a -c match) not as it is in the main
 *   worktree, a staged or changed tracked file; before step checked_out
 *   (no index written yet) only a file not yet written or holding a
 *   beginning of its blob passes; refused whole when a filesystem is
 *   mounted inside it; else removed with wt_rmtree_verified. A directory that does not
 *   verify (git cut short before writing .git) is removed only when empty;
 * - git's admin entry <repo>/worktrees/<name> when its gitdir names
 *   in->path/.git or it has none;
 * - the branch, when made_branch, its first reflog entry is this run's
 *   creation (wt_intent_make_branch) and it still points at base;
 * - the empty parent directories up to made_parent;
 * - at step journaled, the registry record of the worktree (one batch);
 * - then the intent file.
 * Returns 0 when all is undone (the file is gone), 1 when something stays
 * (refused, or a step failed: the file stays, so wt-fsck keeps finding it;
 * why says what), or -1 when only the intent file could not be removed. done, when not NULL, gets a member true for
 * what went: directory, admin, branch, record (or completed).
 */
/*
 * Makes in->branch at the commit at (no branch of that name there) with a
 * reflog entry naming in's run (its id, pid and start), written also where
 * git keeps no reflog: the undo deletes a branch only when its first reflog
 * entry is that one. 0 with *ref set (free it), or libgit2's error.
 */
struct git_repository;
struct git_oid;
struct git_reference;
int wt_intent_make_branch(const struct wt_intent *in, struct git_repository *repo,
			  const struct git_oid *at, struct git_reference **ref);
int wt_intent_undo(struct wt_intent *in, const struct wt_registry *reg, double timeout,
		   struct wt_obj *done, struct wt_buf *why);

/* pool.c: a worker pool that keeps input order */
/*
 * Runs fn(rec, worker, arg) for the records of rd on jobs workers (worker is
 * 0..jobs-1, for per-thread state), writing every record to out in input
 * order as soon as it and all before it are done; a record for which fn
 * returns nonzero is dropped (filters). want(rec, arg), when not NULL, says
 * whether a record needs work at all; others just pass in order. Fewer
 * workers run when available memory is low. Returns the number of records
 * written with an error object.
 */
typedef int (*wt_work_fn)(struct wt_rec *r, int worker, void *arg);
typedef int (*wt_want_fn)(const struct wt_rec *r, void *arg);
long wt_pool_run(struct wt_reader *rd, int jobs, wt_want_fn want, wt_work_fn fn,
		 void *arg, FILE *out);
/*
 * The same, calling written(rec, arg) for every record fn kept, one at a
 * time and in input order, just before it is written: what depends on the
 * records before it (wt-du's new_size) is settled there.
 */
long wt_pool_run_written(struct wt_reader *rd, int jobs, wt_want_fn want, wt_work_fn fn,
			 wt_rec_fn written, void *arg, FILE *out);
/*
 * The same for a source that pushes: push takes r's content (r is left
 * and reusable) and blocks while the window is full; finish waits for the
 * work, writes the rest, frees p and returns the count of error records.
 */
struct wt_pool;
struct wt_pool *wt_pool_new(int jobs, wt_want_fn want, wt_work_fn fn, void *arg,
			    FILE *out);
void wt_pool_push(struct wt_pool *p, struct wt_rec *r);
long wt_pool_finish(struct wt_pool *p);
/* Jobs to use when memory is short: fewer when MemAvailable is low. */
int wt_pool_jobs_for_memory(int jobs);

/* walk.c: parallel walks of directory trees through descriptors */
/*
 * A walker is a set of worker threads that walks trees for any number of
 * callers at once. Directories are opened with openat(O_DIRECTORY|O_NOFOLLOW)
 * relative to their parent's descriptor, read with getdents64 into a large
 * buffer and their entries stat'ed with fstatat relative to it; d_type is
 * trusted, symbolic links are never followed and a walk stays on the device
 * and the mount of its root (a bind mount of the same filesystem is another
 * mount: it is not entered, see wt_walk_mounts). Each worker walks depth
 * first on its own stack and gives a subdirectory to the shared queue when
 * another worker is idle, so one huge tree keeps every worker busy and many
 * small ones do too. A worker keeps a bounded number of descriptors open
 * however deep the tree (it closes the shallow ones and comes back through
 * ".." checking device and inode). No path is built unless asked for
 * (wt_walk_path), for messages.
 *
 * The callback sees every entry once, the root included: files, links and
 * the like as they are listed, a directory when it is opened (with its fd),
 * before it is read. Callbacks run on several threads at once; ctx is the
 * calling worker's own zeroed slot of ops->ctx_size bytes for this walk, so
 * counters need no locks: the caller sums the slots afterwards.
 */
struct wt_walker;
struct wt_walk;
struct wt_walk_dir;                 /* a directory of a walk: name and parent */
struct stat;
enum {
	WT_WALK_CONTINUE = 0,
	WT_WALK_PRUNE = 1,          /* a directory: do not read it */
	WT_WALK_STOP = 2,           /* end the walk (wt_walk_run returns 1) */
};
#define WT_WALK_NOSTAT 1            /* no fstatat for non-directories: st NULL */
#define WT_WALK_INODE_ORDER 2       /* each directory in inode order: for cold caches */
#define WT_WALK_ENTER_NESTED 4      /* enter directories holding .git too (see below) */
struct wt_walk_ent {
	struct wt_walk *walk;
	const struct wt_walk_dir *dir;  /* the directory holding it; NULL: root */
	const char *name;           /* its name; the root's path for the root */
	int dirfd;                  /* dir's descriptor (AT_FDCWD for the root) */
	int fd;                     /* a directory's own descriptor, else -1 */
	unsigned char type;         /* DT_REG, DT_DIR, DT_LNK, ... */
	const struct stat *st;      /* lstat of the entry, or NULL */
	int depth;                  /* 0 for the root */
	int worker;                 /* the slot index, 0 .. wt_walk_nslots()-1 */
	void *ctx;                  /* the worker's slot for this walk */
	uintptr_t ptag;             /* the tag of dir (0 for the root) */
	uintptr_t *tag;             /* a directory's tag, inherited by what is
	                               inside; starts as ptag; NULL otherwise */
};
/* Borrowed e; returns WT_WALK_CONTINUE, WT_WALK_PRUNE or WT_WALK_STOP. */
typedef int (*wt_walk_fn)(const struct wt_walk_ent *e, void *arg);
/*
 * An entry that could not be opened, read or stat'ed (what: "open", "read",
 * "stat"); errnum is errno. The walk counts it and goes on. NULL prints
 * "prog: cannot open 'path': Permission denied" on stderr.
 */
typedef void (*wt_walk_err_fn)(const struct wt_walk_ent *e, const char *what,
			       int errnum, void *arg);
struct wt_walk_ops {
	wt_walk_fn entry;
	wt_walk_err_fn error;
	void *arg;
	size_t ctx_size;            /* bytes of each worker's slot */
	int flags;                  /* WT_WALK_NOSTAT, ... */
	/*
	 * A directory below the root that holds a .git entry (file or
	 * directory) is another worktree or repository: a walk neither reports
	 * nor enters what is in it (unless WT_WALK_ENTER_NESTED), and tells
	 * this callback, when set, once it has been opened (e describes it as
	 * its entry did, e->tag its tag). Its own entry was reported already.
	 */
	void (*nested)(const struct wt_walk_ent *e, void *arg);
	/*
	 * The modules/ of the root worktree's admin directory (resolved when
	 * a checkout asks; it need not exist), or NULL: a checkout of one of
	 * its own submodules is walked as part of it.
	 */
	const char *modules;
};
/* threads workers (1: walks run in the caller's thread). wt_walker_free joins. */
struct wt_walker *wt_walker_new(int threads);
void wt_walker_free(struct wt_walker *wk);
/* A walk; ops is copied. Free with wt_walk_free after its run. */
struct wt_walk *wt_walk_new(const struct wt_walk_ops *ops);
void wt_walk_free(struct wt_walk *w);
/*
 * Walks the tree at root (opened without following a final symbolic link)
 * in the caller's thread, which gives subdirectories to wk's workers when
 * they are idle (a small tree costs no hand-over), and returns when it is
 * done: 0, 1 when a callback stopped
 * it, -1 with errno when root cannot be opened. Any thread may call it, many
 * at once with different walks, but not a callback (its worker would wait
 * on itself); a walk runs once.
 */
int wt_walk_run(struct wt_walker *wk, struct wt_walk *w, const char *root);
/* The same with root already open at fd (a directory), which the walk closes. */
int wt_walk_run_fd(struct wt_walker *wk, struct wt_walk *w, const char *root, int fd);
/*
 * Per-worker slots of a walk, zeroed, to merge after the run. While it runs
 * another thread may peek at them (progress): nslots is 0 until they exist.
 */
int wt_walk_nslots(const struct wt_walk *w);
void *wt_walk_slot(struct wt_walk *w, int i);
/* Entries that could not be opened, read or stat'ed. */
long wt_walk_errors(const struct wt_walk *w);
/*
 * Directories not entered because another filesystem is mounted there, or
 * a bind mount of the root's own (another mount id): not errors.
 */
long wt_walk_mounts(const struct wt_walk *w);
/* Directories below the root that hold a .git entry, not entered. */
long wt_walk_nested(const struct wt_walk *w);
/*
 * 1 the first time a walk sees the inode of st, 0 after: hard links count
 * once. Only inodes with more than one link are remembered. Thread-safe.
 */
int wt_walk_once(struct wt_walk *w, const struct stat *st);
/* A directory's own name (the root: its path as given) and depth. */
const char *wt_walk_dir_name(const struct wt_walk_dir *d);
int wt_walk_dir_depth(const struct wt_walk_dir *d);
/* The directory holding d (NULL for the root), and d's tag. */
const struct wt_walk_dir *wt_walk_dir_parent(const struct wt_walk_dir *d);
uintptr_t wt_walk_dir_tag(const struct wt_walk_dir *d);
/*
 * The repositories and worktrees below root (directories holding a .git
 * entry, root's own not counted; own submodule checkouts of modules, when
 * given, neither): how many, with the path of the first relative to root
 * appended to first when first is not NULL. A walk of directories only, on
 * wk. -1 with errno when root cannot be opened.
 */
long wt_walk_find_nested(struct wt_walker *wk, const char *root, const char *modules,
			 struct wt_buf *first);
/*
 * Disk usage of what is at path, as du counts it: blocks, each inode once,
 * not entering mounts or nested repositories, nor directories named skip
 * (NULL: none). -1 with errno when path cannot be read.
 */
long long wt_walk_usage(struct wt_walker *wk, const char *path, const char *skip);
/*
 * The one rule of what a removal frees, for every program that predicts it
 * (wt-prune -n, wt-du): a file's blocks are freed only when its last link
 * goes, so an inode counts only when all its links (st_nlink) are among the
 * names removed; a directory's blocks always count. A tally is given the
 * names of what would be removed, from any number of walks and threads.
 * wt_freed_add gives it one name of st (n 1), or takes one back (n -1: a
 * name that is not removed after all), and returns the bytes settled at
 * once (a directory, or a file with one link: n x its blocks), which the
 * caller adds up; wt_freed_links adds, at the end, the blocks of the inodes
 * with several links whose links were all given.
 */
struct wt_freed;
struct wt_freed *wt_freed_new(void);
void wt_freed_free(struct wt_freed *f);
long long wt_freed_add(struct wt_freed *f, const struct stat *st, int n);
long long wt_freed_links(struct wt_freed *f);
/*
 * The bytes of f's inodes with several links that seen holds already (a
 * tally of earlier trees); the others join seen. Over trees in order, what
 * is left of each tree's size counts each inode once, as du -c does.
 */
long long wt_freed_held(struct wt_freed *f, struct wt_freed *seen);
/*
 * Gives f every name of the tree at path (as wt_walk_usage walks it), n
 * each, and returns the bytes settled at once; *errnum is 0, or errno when
 * path cannot be read.
 */
long long wt_walk_freed_add(struct wt_walker *wk, struct wt_freed *f, const char *path,
			    int n, int *errnum);
/*
 * What one removal of the trees at paths[0..n) would free. -1 with errno
 * when one cannot be read.
 */
long long wt_walk_freed(struct wt_walker *wk, const char *const *paths, size_t n);
/*
 * Appends the entry name in directory d (NULL: the root itself) to b: the
 * full path (root's path, /, ...) or the path relative to the root.
 */
void wt_walk_path(const struct wt_walk_dir *d, const char *name, struct wt_buf *b);
void wt_walk_relpath(const struct wt_walk_dir *d, const char *name, struct wt_buf *b);
/*
 * The id of the mount that name inside dirfd (not followed; "" for dirfd
 * itself) is on: a bind mount of the same filesystem has the same device but
 * another mount id. 0, or -1 with errno. Where the kernel has no mount ids
 * (before 5.8) it is made from the device.
 */
int wt_mount_id(int dirfd, const char *name, uint64_t *id);
/*
 * lstat of name inside dirfd ("" for dirfd itself) and its mount id, with
 * one statx call. 0, or -1 with errno.
 */
int wt_stat_mount(int dirfd, const char *name, struct stat *st, uint64_t *mnt);

/* artifact.c: the one table of recreatable artifacts */
/*
 * The table is built in, then extended by the configuration file's
 * "artifact = NAME MARKER..." lines (read on first use; a bad line exits 2
 * naming the file and line). wt-du(1) and wt-prune(1) list it.
 *
 * The kind of artifact that the directory name inside the open directory
 * dirfd is (parent: dirfd's own name, for .yarn/cache and android/build), or
 * NULL. Kinds need their marker: node_modules only beside a package.json,
 * build and dist beside a build file, vendor beside composer.json with an
 * autoload.php inside, venv only with a pyvenv.cfg inside. Whether such a
 * directory is recreatable is wt_artifact_entry's or wt_artifact_path's to
 * say.
 */
const char *wt_artifact_dir(int dirfd, const char *parent, const char *name);
/* The kind of a loose file that needs no marker ("pyc", "class", "eslintcache"), else NULL. */
const char *wt_artifact_file(const char *name);
/* The kind of the file name in the directory dirfd (named parent), markers looked for. */
const char *wt_artifact_file_at(int dirfd, const char *parent, const char *name);
/* At most this many kinds, built-in and configured: one bit each of a mask. */
#define WT_ARTIFACT_KINDS_MAX 63
/* Every kind's name, NULL-terminated, the built-in ones first. */
const char *const *wt_artifact_kinds(void);
int wt_artifact_kind_valid(const char *kind);
/* A mask of kinds from "a,b,c" (never negative); -1 with *bad naming an unknown kind. */
long long wt_artifact_mask(const char *list, const char **bad);
/* 1 when kind is in mask; every kind is in the mask -1. */
int wt_artifact_in_mask(const char *kind, long long mask);
/* recreate.c: the one rule of what is recreatable */
/*
 * The one rule of what is recreatable, for every program that measures,
 * prunes, archives or removes: an artifact of the table that git ignores and
 * in which git tracks nothing. One wt_artifacts per worktree (top: its top
 * directory); repo and idx, when not NULL, are borrowed and must be the
 * worktree's own (git_repository_open of top), else they are opened from top
 * on the first question, so a worktree without candidates costs no git
 * (unless wt_artifacts_start starts git's process before). What git
 * ignores is asked of git itself, one git check-ignore per worktree.
 * Safe to ask from several threads at once (they take turns on git).
 */
struct wt_artifacts;
struct git_repository;
struct git_index;
/* The caller looks for repositories inside artifacts itself (its own walk, or later). */
#define WT_ART_OWN_NESTED 1
struct wt_artifacts *wt_artifacts_new(const char *top, struct git_repository *repo,
				      struct git_index *idx, int flags);
void wt_artifacts_free(struct wt_artifacts *a);
/*
 * A caller that will ask (a removal) may create its wt_artifacts before it
 * opens the worktree's repository: wt_artifacts_start starts git's process
 * now, to come up while the caller works, and wt_artifacts_lend gives the
 * repository and index once open (before the first question).
 */
void wt_artifacts_start(struct wt_artifacts *a);
void wt_artifacts_lend(struct wt_artifacts *a, struct git_repository *repo,
		       struct git_index *idx);
/* top's admin directory (wt_git_admin_dir), when the caller has read it: not read again. */
void wt_artifacts_admin(struct wt_artifacts *a, const char *admin);
/*
 * The kind of the walk entry e (a walk rooted at the worktree's top) when it
 * is a recreatable artifact: a directory or a link in its place, or a loose
 * compiled file. NULL otherwise, and always when git cannot be read. A
 * directory holding another repository or worktree anywhere below is not
 * recreatable: it is walked to know, unless WT_ART_OWN_NESTED, where the
 * caller must treat such an artifact so itself (wt-du hears of it in its
 * walk, wt-prune looks once the artifact is in the trash).
 */
struct wt_walk_ent;
const char *wt_artifact_entry(struct wt_artifacts *a, const struct wt_walk_ent *e);
/*
 * 1 when the path rel (relative to the top open at topfd, as git status
 * names an ignored path) is recreatable: it, or a directory above it, is a
 * recreatable artifact. Components are opened without following links.
 */
int wt_artifact_path(struct wt_artifacts *a, int topfd, const char *rel);
/*
 * A linked worktree given no repo shares one repository object with the
 * other worktrees of its repository, opened once and kept between
 * wt_artifacts, with git's answers by the .gitignore files they were made
 * of (it answers as the worktree's own: its index, the common
 * configuration; a repository with extensions.worktreeConfig or an
 * includeIf is not shared, and none is remembered for an excludes file
 * named by a relative path). This frees the ones kept, at the end of a run.
 */
void wt_artifacts_release_shared(void);

/* sha256.c: SHA-256 (FIPS 180-4), streaming */
#define WT_SHA256_LEN 32
#define WT_SHA256_HEXLEN 64
struct wt_sha256 {
	uint32_t h[8];
	uint64_t len;               /* bytes so far */
	unsigned char buf[64];
	size_t n;                   /* bytes in buf */
};
void wt_sha256_init(struct wt_sha256 *s);
void wt_sha256_update(struct wt_sha256 *s, const void *data, size_t len);
/* The sum of what was given; s must be initialised again to be reused. */
void wt_sha256_final(struct wt_sha256 *s, unsigned char out[WT_SHA256_LEN]);
/* The sum of len bytes at data, at once. */
void wt_sha256(const void *data, size_t len, unsigned char out[WT_SHA256_LEN]);
/* The sum in lowercase hex, NUL-terminated. */
void wt_sha256_hex(const unsigned char sum[WT_SHA256_LEN], char hex[WT_SHA256_HEXLEN + 1]);

/* archive.c: wt's archive format (wt-archive, wt-restore) */
/*
 * An archive is a tar (zstd or gzip) whose first entry is the manifest, then
 * git's per-worktree state under WT_GIT_PREFIX, then the worktree's entries,
 * all in the manifest's order. Paths are relative to the worktree's top.
 * Format 2 gives every file a SHA-256 besides its crc32; format 1 (read,
 * no longer written) has only the crc32.
 */
#define WT_MANIFEST_NAME ".wt-manifest.json"
#define WT_MANIFEST_FORMAT "wt-archive/2"
#define WT_MANIFEST_FORMAT_1 "wt-archive/1"
#define WT_MANIFEST_MAX (512 << 20)
#define WT_GIT_DIR ".wt-git"
#define WT_GIT_PREFIX WT_GIT_DIR "/"
/*
 * The git state files an archive can carry: the names of wt_archive_git_names
 * (index, HEAD, logs/HEAD), never configuration or hooks.
 */
#define WT_GIT_STATE_MAX 3
/* The read buffer of a file being archived. */
#define WT_ARCHIVE_BUFSZ (256 * 1024)
enum { WT_ITEM_FILE, WT_ITEM_DIR, WT_ITEM_SYMLINK };
struct wt_item {
	char *path;         /* relative to the worktree's top */
	int type;           /* WT_ITEM_* */
	unsigned mode;      /* permission bits */
	long long size;     /* files */
	uint32_t crc;       /* files: zlib's crc32 of the content */
	unsigned char sha[WT_SHA256_LEN];   /* files of format 2: SHA-256 of the content */
	char *target;       /* symbolic links */
};
struct wt_manifest {
	struct wt_rec doc;  /* the manifest's JSON */
	int version;        /* 2, or 1: files have no SHA-256, only crc32 */
	char *id, *path, *repo, *head, *branch, *upstream, *name;
	struct wt_item *items;  /* git's state first (ngit of them), then the worktree's */
	size_t nitems, ngit;
	char **skipped;         /* what was left out (recreatable artifacts, sockets) */
	size_t nskipped;
};
struct archive;
struct archive_entry;
/* The git state names an archive may carry (WT_GIT_STATE_MAX), NULL-terminated. */
const char *const *wt_archive_git_names(void);
/* 1 when p is relative, with no empty, "." or ".." component. */
int wt_archive_path_ok(const char *p);
/*
 * Parses and checks a manifest (format 2 or 1): every path safe and listed
 * once, not reserved, its parent a directory listed before it (so no entry
 * reaches through a symbolic link); git's state only by its names, each once
 * (so ngit <= WT_GIT_STATE_MAX; any other WT_GIT_PREFIX entry is refused);
 * every file of format 2 with its SHA-256. Returns 0, or -1 with *why static.
 */
int wt_manifest_parse(struct wt_manifest *m, const char *text, size_t n,
		      const char **why);
void wt_manifest_release(struct wt_manifest *m);
/*
 * 1 when data (len bytes) is the content it lists: size, and SHA-256 (format
 * 2) or crc32 (format 1).
 */
int wt_item_data_ok(const struct wt_manifest *m, const struct wt_item *it,
		    const void *data, size_t len);
/*
 * Checks the worktree entries of m as they are on disk below the directory
 * open at top, in m's order, each opened beneath top without following a
 * link: type, mode, link target, size and content (SHA-256, or crc32 for
 * format 1), every file and directory fsynced. What a restore reads back
 * before the archive goes. Returns 0, or -1 with why (appended) saying what
 * differs.
 */
int wt_manifest_check_tree(const struct wt_manifest *m, int top, struct wt_buf *why);
/* Checks an entry's header (path, type, mode, size, link target) against it. */
int wt_manifest_check_entry(const struct wt_item *it, struct archive_entry *e,
			    const char **why);
/* A libarchive reader of the archive at fd (from its start); NULL on error. */
struct archive *wt_archive_read_fd(int fd);
/*
 * Reads the first entry as the manifest into m (and its text into *text, a
 * new string, when text is not NULL). Returns 0, or -1 with *why a new string.
 */
int wt_archive_read_manifest(struct archive *a, struct wt_manifest *m,
			     char **text, size_t *len, char **why);
/*
 * Reads the whole archive at fd back, decompressing it, and checks every
 * entry against the manifest in order: path, type, mode, size, crc32, no entry
 * missing or extra; and, when expect is not NULL, that the manifest is exactly
 * expect. Returns 0, or -1 with *why a new string (free it).
 */
int wt_archive_verify(int fd, const char *expect, size_t nexpect, char **why);
/* What a manifest says of the worktree besides its entries (all borrowed). */
struct wt_manifest_of {
	const char *id, *name, *path, *repo, *head;
	const char *branch;         /* NULL: detached */
	const char *upstream;       /* NULL: none */
	const char *ref;            /* the protection ref */
	const char *record;         /* the input record's JSON */
	size_t record_len;
	time_t archived_at;
	int artifacts_kept;
};
struct wt_snapshot;
struct wt_git_state;
/*
 * Appends the manifest of the archive of s and g to out: one JSON object,
 * in lines (each entry on its own), then a newline. Names that are not
 * UTF-8 are given in hex (path_hex, target_hex).
 */
void wt_manifest_build(struct wt_buf *out, const struct wt_manifest_of *w,
		       const struct wt_git_state *g, const struct wt_snapshot *s);
/* 1 when git's state g is what the manifest m holds (names, sizes, crc32). */
int wt_manifest_has_git_state(const struct wt_manifest *m, const struct wt_git_state *g);
/*
 * 1 when every entry of s is in m as it is there (type, size, crc32, link
 * target), is a directory, or lies in what m left out; else 0 with *at the
 * first entry that is not (borrowed from s).
 */
int wt_manifest_covers(const struct wt_manifest *m, const struct wt_snapshot *s,
		       const char **at);
/*
 * The record an archive describes, from its manifest (r cleared first): id,
 * path, repo, branch, head, status archived, archived, archive (path),
 * archived_at and archive_ref. 0, or -1 when it is no readable wt archive.
 */
int wt_archive_record(const char *path, struct wt_rec *r);
/* snapshot.c: a worktree as an archive holds it, to write it and to compare */
#include <sys/stat.h>
/* An entry of the worktree, as the walk saw it. */
struct wt_snap_ent {
	char *path;                 /* relative to the top */
	struct stat st;             /* its lstat */
	uint32_t crc;               /* files: zlib's crc32 (0 with WT_SNAP_STAT) */
	unsigned char sha[WT_SHA256_LEN];   /* files: SHA-256 (with WT_SNAP_SHA256) */
	char *target;               /* symbolic links */
};
/* Something left out: a recreatable artifact (kind from the table) or a socket or pipe ("special"). */
struct wt_snap_skip {
	char *path;
	const char *kind;
};
struct wt_snapshot {
	struct wt_snap_ent *v;      /* by path (bytes): a directory before what it holds */
	size_t n;
	struct wt_snap_skip *s;     /* by path */
	size_t ns;
	unsigned long long bytes;   /* content bytes of the files */
	struct wt_buf err;          /* why the walk failed */
};
#define WT_SNAP_STAT 1              /* no crc: only to see whether anything changed */
#define WT_SNAP_SHA256 2            /* a SHA-256 of every file too (for a manifest) */
struct wt_walker;
struct wt_artifacts;
/*
 * Reads the file open at fd to its end through buf (bufsz bytes): its
 * crc32 into *crc and its SHA-256 into sha, each when not NULL, and its
 * size into *total. 0, or -1 on a read error (errno).
 */
int wt_sums_fd(int fd, char *buf, size_t bufsz, uint32_t *crc, unsigned char *sha,
	       off_t *total);
/*
 * Walks the worktree at top on wk's threads: every entry but the top's .git,
 * with its crc32 (and SHA-256 with WT_SNAP_SHA256) when a file; recreatable
 * artifacts (when arts is not NULL) and sockets and pipes left out. The top
 * must be the directory dev/ino (as verified); a top-level WT_MANIFEST_NAME
 * or WT_GIT_DIR is refused (but with WT_SNAP_STAT), and so is another
 * repository or worktree anywhere inside. Returns
 * 0, or -1 with s->err saying why. Release s either way. With like (a
 * snapshot taken before), what like left out is left out, and git is not
 * asked (the tree may have moved where git cannot see it); with modules
 * (the admin directory's modules/, resolved), the worktree's own submodule
 * checkouts are part of the tree.
 */
int wt_snapshot_take(struct wt_snapshot *s, struct wt_walker *wk, const char *top,
		     dev_t dev, ino_t ino, struct wt_artifacts *arts, int flags,
		     const struct wt_snapshot *like, const char *modules);
void wt_snapshot_release(struct wt_snapshot *s);
/*
 * 1 when b (taken later) has the same entries as a with the same inode,
 * type, size, times and link targets, and as many left out; else 0 with *at
 * the first entry that differs (borrowed).
 */
int wt_snapshot_same(const struct wt_snapshot *a, const struct wt_snapshot *b,
		     const char **at);
/* git's per-worktree state that an archive carries, read from the admin entry. */
struct wt_git_file {
	const char *name;           /* its name in the archive (wt_archive_git_names) */
	char *data;
	size_t len;
	uint32_t crc;
	unsigned char sha[WT_SHA256_LEN];
};
struct wt_git_state {
	struct wt_git_file f[WT_GIT_STATE_MAX];
	size_t n;
};
/* Reads the files of wt_archive_git_names that exist in admin. */
void wt_git_state_read(struct wt_git_state *g, const char *admin);
void wt_git_state_release(struct wt_git_state *g);
/* 1 when a and b hold the same files with the same sizes and crc32. */
int wt_git_state_same(const struct wt_git_state *a, const struct wt_git_state *b);

/* archwrite.c: an archive written into the archive directory, verified, then named */
#define WT_ARCHIVE_TMP_PREFIX ".wt-tmp."
/* 1 when libarchive can write zstd (see wt_compression_pick). */
int wt_archive_can_zstd(void);
/* What an archive is written from (all borrowed). */
struct wt_archive_src {
	const char *manifest;       /* wt_manifest_build's text */
	size_t manifest_len;
	const struct wt_git_state *git;
	const struct wt_snapshot *snap;
	const char *top;            /* the worktree: entries are opened beneath it */
	time_t mtime;               /* of the manifest's and git's entries */
	/* A test hook, or NULL: called at "writing" (halfway), "written", "verified". */
	void (*pause)(const char *step);
};
struct wt_compression;
/*
 * Writes the archive of src into dir, compressed as z says, under a
 * temporary name (WT_ARCHIVE_TMP_PREFIX PID.N.NAME, locked while written):
 * the manifest, git's state, then the snapshot's entries, each file opened
 * beneath the top without following links, checked to be the file walked
 * and copied at exactly the size walked. Then reads it back whole against
 * the manifest, syncs it, renames it to ID-YYYYMMDDTHHMMSSZ[.N]EXT replacing
 * nothing, and syncs dir. Returns 0 with *final its path (a new string), or
 * -1 with *why a new string and no temporary left.
 */
int wt_archive_make(const char *dir, const char *id, time_t now, const struct wt_compression *z,
		    const struct wt_archive_src *src, char **final, char **why);
/*
 * The one rule of a temporary archive left by a run that died: name (in the
 * directory open at dfd) has the temporary prefix, the pid in it is not a
 * live process, and no one holds it locked. Returns an fd of it holding its
 * lock (remove it, then close), or -1 when it is no such file.
 */
int wt_archive_tmp_dead(int dfd, const char *name);
/* Removes the temporaries of runs that died (wt_archive_tmp_dead), saying so. */
void wt_archive_clean(const char *dir);
/*
 * Opens rel below the directory open at top (flags: O_RDONLY, O_DIRECTORY,
 * O_PATH...) following no symbolic link, also not a last one, and not
 * leaving the filesystem. An fd, or -1 with errno.
 */
int wt_open_beneath(int top, const char *rel, int flags);
struct wt_config;
/* The archive directory as configured (archive_dir, else $WT_HOME/archives): a new string. */
char *wt_archive_dir(const struct wt_config *cfg);
/*
 * 1 when the file path, resolved, is inside the directory dir, resolved
 * (*resolved then the file's resolved path, a new string); else 0.
 */
int wt_archive_in_dir(const char *dir, const char *path, char **resolved);

/* safety.c: the safety contract's checks (DESIGN.md) */
struct wt_target {
	char *path;     /* the worktree's top, resolved */
	char *admin;    /* git's admin entry: <common>/worktrees/<name> */
	char *common;   /* the repository's common git directory */
	char *name;     /* the admin entry's name */
	dev_t dev;      /* the top directory as verified */
	ino_t ino;
};
/*
 * Verifies that path is a linked worktree of its repository and so may be
 * changed: absolute, not a symbolic link, not / or $HOME, its .git a file
 * naming <common>/worktrees/<name> whose gitdir points back at path/.git (else
 * a foreign checkout), and common equal to repo when repo is not NULL. Main
 * worktrees and bare or separate repositories are refused. Returns 0 with t
 * filled (release it), or -1 with *why a static message saying which rule.
 */
int wt_target_verify(struct wt_target *t, const char *path, const char *repo,
		     const char **why);
void wt_target_release(struct wt_target *t);
/*
 * The rule a failed wt_target_verify broke, from its *why, for error
 * records: symlink, foreign, main, home, missing or not_linked.
 */
const char *wt_target_rule(const char *why);
/* 1 when git's lock is on (reason, a new string or NULL, when asked). */
int wt_target_locked(const struct wt_target *t, char **reason);
/*
 * 1 when a filesystem is mounted somewhere below path (path resolved, no
 * trailing slash), 0 when none, -1 when the mount table cannot be read.
 * Bind mounts of the same filesystem count: the kernel's mount table
 * (/proc/self/mountinfo) is read, the one reader of it. *first, when first
 * is not NULL and one is found, is its mount point (a new string).
 */
int wt_path_has_mounts(const char *path, char **first);
/*
 * The admin entries of the repository whose common directory is common
 * that are the worktree at path, as git worktree prune and repair find
 * them: their gitdir names exactly path/.git (path's trailing slashes
 * aside) and their commondir leads back to common. Returns how many (1
 * is the answer; 0 none, more: git's entries disagree), with *admin and
 * *name (new strings, when not NULL) set only when there is exactly one.
 */
long wt_admin_of_path(const char *common, const char *path, char **admin, char **name);
/* A process whose current directory is path or inside it, or 0; not one this process started. */
pid_t wt_path_in_use(const char *path);

/* rmtree.c: the one removal of trees */
/*
 * Every entry point below is one engine with one set of rules. Entries are
 * removed with unlinkat relative to their directory's descriptor; symbolic
 * links are removed, never followed; a directory on another device or mount
 * (a mount point, a bind mount of the same filesystem included) than the
 * directory the removal starts in is never entered: it is counted in skipped
 * and the call fails with EXDEV; nor is a directory below the names given
 * that holds a .git entry (another repository or worktree, never removed
 * with its parent): counted in skipped, the call fails with EBUSY. bytes
 * counts blocks freed: a file that has
 * other links frees nothing, so of a file's links in the tree the last one
 * counts. What was removed is added to rs; the return is 0, or -1 with errno
 * of the first failure when anything stayed. WT_TEST_PAUSE_AFTER=N in the
 * environment stops the process for good after N files of one call (tests).
 */
struct wt_rm_stats {
	unsigned long long files, dirs, bytes, skipped;
};
/* Removes name inside dirfd and everything below it, in the caller's thread. */
int wt_rmtree_at(int dirfd, const char *name, struct wt_rm_stats *rs);
/*
 * The same for a verified worktree's top, failing with ESTALE when the
 * directory there is no longer the one verified; the removal stays on the
 * top's own device and mount. Its .git entry is removed last, so an
 * interrupted removal leaves a worktree that can still be verified. The
 * worktree's own submodule checkouts (wt_git_own_submodule) go with it.
 */
int wt_rmtree_verified(const struct wt_target *t, struct wt_rm_stats *rs);
/*
 * Removes names[0..n) inside dirfd and everything below with jobs workers
 * (the caller's thread and jobs - 1 more) that share directories; the worker
 * that removes the last entry of a directory removes the directory.
 */
int wt_rmtree_parallel(int dirfd, const char *const *names, size_t n, int jobs,
		       struct wt_rm_stats *rs);

/* aside.c: a worktree moved aside before it goes */
/*
 * Check, then remove, leaves a window in which new work can be written; a
 * removal closes it by renaming the worktree aside first (the same
 * directory, so the same filesystem, and nothing under the old path for
 * anyone to write into), checking the moved tree, and only then deleting it.
 */
#define WT_ASIDE_PREFIX ".wt-"
/* Written in git's admin entry of the worktree while it is aside: the path it is at. */
#define WT_ASIDE_MARKER "wt-aside"
/*
 * Renames the verified worktree t's top to the hidden name beside it
 * <parent>/.wt-TAG.PID.NAME (NAME cut to fit), replacing nothing; the
 * directory must be t's (device and inode) before and after the rename.
 * <admin>/wt-aside names the new path first (synced), so a run that dies
 * leaves the way back in git's admin entry as well as beside the old path.
 * Returns 0 with *aside the new path (a new string), or -1 with errno
 * (ESTALE: the directory is not t's) and the worktree where it was.
 */
int wt_aside_move(const struct wt_target *t, const char *tag, char **aside);
/*
 * Renames the worktree at aside (wt_aside_move's) back to t's path,
 * replacing nothing (EEXIST when something was made there meanwhile: the
 * worktree then stays at aside), and removes the marker. 0 or -1 with errno.
 */
int wt_aside_back(const struct wt_target *t, const char *aside);

/* trash.c: a worktree's trash */
/* The trash's name in git's admin entry of a worktree. */
#define WT_TRASH_NAME "wt-trash"
/*
 * The trash of a verified worktree, where wt-prune renames artifacts so the
 * worktree is clean at once: <admin>/wt-trash (git's admin entry of the
 * worktree). A new string.
 */
char *wt_trash_path(const struct wt_target *t);
/*
 * Opens t's trash (creating it when create), locked with flock for this run.
 * Returns the fd, or -1 (errno EXDEV when it is on another filesystem than
 * the worktree, where a rename cannot reach).
 */
int wt_trash_open(const struct wt_target *t, int create);
/* Removes everything in the trash open at fd with wt_rmtree_parallel. */
int wt_trash_empty(int fd, int jobs, struct wt_rm_stats *rs);

/* gitdir.c: git's own files, read without libgit2 */
/*
 * The worktree's git admin directory (for a linked worktree,
 * <common>/worktrees/<name>; for the main one, the git dir), from the .git
 * entry at path. A new string, or NULL.
 */
char *wt_git_admin_dir(const char *path);
/* The same with path's directory open at dirfd: its .git is looked up there. */
char *wt_git_admin_dir_at(int dirfd, const char *path);
/*
 * The environment for a git run on a path of ours: this process's, less
 * the variables that would send git to another repository or configuration
 * (GIT_DIR, GIT_WORK_TREE, GIT_INDEX_FILE, GIT_CONFIG_PARAMETERS...), as
 * git clears them itself, and those that change how git reads paths or
 * when it answers (GIT_LITERAL_PATHSPECS..., GIT_FLUSH). Built once; not
 * to be freed.
 */
char *const *wt_git_env(void);
/*
 * The git operation waiting in the worktree whose admin directory is admin
 * (merge, rebase, cherry-pick, revert, bisect: its files there), or NULL.
 * Such state is work an archive cannot carry and a removal would lose.
 */
const char *wt_git_in_progress(const char *admin);
/*
 * 1 when the directory open at fd is a checkout of a submodule of the
 * worktree whose submodule repositories are in modules (its admin
 * directory's modules/, resolved here; it need not exist): its .git file
 * names a directory there.
 * Such a checkout is part of the worktree, not another repository in it.
 */
int wt_git_own_submodule(int fd, const char *modules);
/*
 * The commit id (hex) that the ref name, "HEAD" or "refs/...", holds for the
 * worktree whose git admin directory is admin: symbolic refs followed, the
 * loose ref else packed-refs, per-worktree refs from admin and the others
 * from the common directory. A new string, or NULL when it does not resolve
 * (an unborn branch, no such ref, a ref store other than files).
 */
char *wt_git_ref_id(const char *admin, const char *name);
/*
 * wt_git_ref_id(admin, "HEAD"), reading HEAD once: *head is set to its text
 * ("ref: refs/heads/x", or an id), a new string, or NULL when it cannot be read.
 */
char *wt_git_head_id(const char *admin, char **head);
/*
 * The common git directory of a linked worktree whose admin directory is
 * admin (its commondir file, resolved against admin). A new string, or NULL
 * when admin has no commondir: it is a repository's own git directory.
 */
char *wt_git_common_dir(const char *admin);

/* protect.c: whether a protection ref still protects any work */
/*
 * The refs that keep commits from gc for work that left its worktree and
 * that a repair may delete: "removed" for refs/wt/removed/ID (wt-rm -f's),
 * "backup" for refs/wt/backup/ID (wt-sync's); NULL for any other name
 * (refs/wt/archived/ is an archive's, which lives as long as the archive).
 */
const char *wt_protect_ref_kind(const char *name);
struct git_repository;
struct git_oid;
/*
 * 1 when the commit the ref name holds (*oid) is reachable from a ref that
 * is not of those kinds (a branch, a tag, a remote-tracking branch, an
 * archive's ref, the stash; a symbolic ref is of the kind of the ref it
 * ends at, so one naming a protection ref vouches for nothing): every
 * commit it protects is safe elsewhere,
 * and *by (when not NULL) is that ref's name, a new string. 0 when no such
 * ref reaches it: it is the only keeper of work, never to be deleted. -1
 * when the ref cannot be read.
 */
int wt_protect_ref_redundant(struct git_repository *repo, const char *name,
			     struct git_oid *oid, char **by);
/* Deletes the ref name only while it still holds oid. 0 or -1. */
int wt_protect_ref_delete(struct git_repository *repo, const char *name,
			  const struct git_oid *oid);

/* git.c: helpers around libgit2 (a program using none links no libgit2) */
struct git_repository;
struct git_worktree;
/* libgit2 initialised once per process. */
void wt_git_init(void);
/*
 * The same in a thread of its own, for a program that has other work first:
 * libgit2's start (its TLS library reads the system's certificates) takes
 * milliseconds. A wt_git_init waits for it, and joins the thread: a program
 * that calls this one calls wt_git_init before it uses libgit2 and before
 * it exits.
 */
void wt_git_init_soon(void);
/* libgit2's last error message, never NULL. */
const char *wt_git_errmsg(void);
/*
 * Appends one record per worktree of repo (main first, then linked ones by
 * name) to fn: id, path, repo, branch, head, locked, prunable, main.
 */
int wt_git_list_worktrees(struct git_repository *repo, wt_rec_fn fn, void *arg);
/*
 * 1 when git's index of the worktree tracks a file at or under relpath
 * (relative to the worktree's top, no trailing slash), else 0.
 */
struct git_index;
int wt_git_tracks_under(struct git_index *idx, const char *relpath);
/*
 * Work git's status does not show: files of the worktree repository repo
 * whose index entry (in idx) is marked skip-worktree or assume-unchanged and
 * whose content on disk differs from the index. Returns their count, with
 * *first (a new string, when first is not NULL) the first one's path.
 */
long wt_git_hidden_changes(struct git_repository *repo, struct git_index *idx,
			   char **first);
/*
 * Submodule commits that only this worktree holds: a linked worktree's
 * submodules keep their repositories in its admin directory
 * (<admin>/modules/...), which goes with it. Returns how many of them have
 * a branch or HEAD not reachable from their own remote-tracking refs, with
 * *first (a new string, when first is not NULL) the first one's name.
 */
long wt_git_modules_unpushed(const char *admin, char **first);
/* Sets branch, head from the worktree at path (opened with libgit2). */
int wt_git_fill_head(struct wt_rec *r, struct git_repository *wtrepo);

/* merged.c: is a branch's work already in the base branch? */
struct git_oid;
enum { WT_MERGED_UNKNOWN = -1, WT_MERGED_NO = 0, WT_MERGED_YES = 1 };
/*
 * The base branch of repo: opt (a branch or a remote-tracking branch, by
 * its short or full name) when not NULL, else the default branch: the local
 * branch that origin/HEAD names, origin/HEAD's target, main, master. Branches
 * are the repository's, the same from every worktree. Returns 0 with
 * *refname (a new string, the caller frees it) and *oid, or -1 when none.
 */
/*
 * 1 when name can name a base: a branch or remote-tracking branch name, not
 * HEAD or a revision (HEAD^, main~2, @{u}), which each worktree would
 * resolve its own way. Programs check -b with it before any worktree.
 */
int wt_git_base_name_ok(const char *name);
int wt_git_base(struct git_repository *repo, const char *opt, char **refname,
		struct git_oid *oid);
/*
 * Why a branch is or is not merged, or why it is not known. The names are
 * the merged_reason field of wt-record(5).
 */
enum wt_merged_reason {
	WT_MR_ANCESTOR,         /* merged: the tip is in the base's history */
	WT_MR_TREE,             /* merged: a base commit has the tip's tree */
	WT_MR_CHERRY,           /* merged: every commit's patch is on the base */
	WT_MR_SQUASH,           /* merged: every changed path is as the base has it */
	WT_MR_NOT_MERGED,
	WT_MR_BASE,             /* unknown: the base branch itself */
	WT_MR_NO_COMMIT,        /* unknown: nothing checked out (unborn) */
	WT_MR_NO_BASE,          /* unknown: no base branch found */
	WT_MR_UNREADABLE,
	WT_MR_NO_FORK,
	WT_MR_TOO_LONG,
};
const char *wt_merged_reason_name(enum wt_merged_reason why);
/*
 * Whether the work of the commit tip is in base, cheapest test first: tip is
 * an ancestor of base; a base commit since the fork has tip's tree; every
 * commit of the branch has a patch-id found on the base (cherry); every path
 * the branch changed is identical in base (squash). Returns WT_MERGED_YES,
 * _NO or _UNKNOWN with *reason saying which rule, or why it is not known.
 */
int wt_git_merged(struct git_repository *repo, const struct git_oid *tip,
		  const struct git_oid *base, enum wt_merged_reason *reason);
/*
 * The merged check of a worktree, the one wt-ls -g, wt-rm and every later
 * program make: the worktree repository repo's HEAD against base_opt (NULL:
 * the default base). An unborn HEAD, no base, or HEAD on the base branch
 * itself is WT_MERGED_UNKNOWN with its reason. *base_ref, when asked, is the
 * base's ref name (a new string, or NULL).
 */
int wt_git_head_merged(struct git_repository *repo, const char *base_opt,
		       enum wt_merged_reason *reason, char **base_ref);
/* Sets merged (true, false, or null when unknown) and merged_reason on r. */
void wt_rec_set_merged(struct wt_rec *r, int merged, enum wt_merged_reason reason);
/* wt_git_head_merged's answer set on r. */
void wt_git_set_merged(struct wt_rec *r, struct git_repository *repo,
		       const char *base_opt);

/* remote.c: fetching a remote as git would, with credentials, retries and a timeout */
/*
 * One fetch of one remote of a repository (its common directory): the
 * remote's configured refspecs, as `git fetch REMOTE` does. Credentials as
 * git finds them, each way tried once: the ssh agent, then ~/.ssh/id_ed25519,
 * id_ecdsa, id_rsa; for http(s) `git credential fill` (the user's credential
 * helpers; GIT_TERMINAL_PROMPT=0, so never a prompt), approved when they
 * worked. A fetch that makes no progress for o->timeout seconds is
 * interrupted. A transient failure (network, the remote's end, a timeout, a
 * ref lock held) is tried again up to o->retries times, after o->delay
 * seconds doubled each time, with a jitter of a quarter either way; refused
 * credentials, a certificate or a missing remote are not.
 */
struct wt_fetch {
	const char *common, *remote;    /* in: borrowed */
	long attempts;                  /* out: fetches made */
	size_t bytes;                   /* out: received bytes of the last */
	int transient;                  /* out: the last failure was transient */
	char msg[320];                  /* out: why it failed */
};
struct wt_fetch_opts {
	long retries;
	double delay, timeout;
	/* Called before each wait for a retry (n from 1), to say so; may be NULL. */
	void (*on_retry)(const struct wt_fetch *f, long n, double delay, void *arg);
	void *arg;
};
/* 0, or -1 with f->msg. Thread-safe: each call opens the repository itself. */
int wt_fetch(struct wt_fetch *f, const struct wt_fetch_opts *o);
/* Installs the handler wt_fetch's timeout needs (done by wt_fetch too). */
void wt_fetch_signals(void);
/* Appends the URL of remote name of the repository at common. 0 or -1. */
int wt_remote_url(const char *common, const char *name, struct wt_buf *url);

/* move.c: a worktree's branch moved to another commit with its files, crash-safe */
struct git_signature;
/*
 * The identity git would write a commit with, who "AUTHOR" or "COMMITTER":
 * GIT_<WHO>_NAME, _EMAIL and _DATE from the environment, else user.name and
 * user.email of repo's configuration and now. 0, or -1 with libgit2's error
 * set (no identity).
 */
int wt_git_ident(struct git_signature **out, struct git_repository *repo, const char *who);
/*
 * 1 when a status entry (status, path) is a file a sparse checkout left
 * out: absent from disk, its index entry skip-worktree. No change.
 */
int wt_git_sparse_absent(struct git_index *idx, unsigned status, const char *path);
/*
 * The path a status entry is about (its new name after a rename), or NULL;
 * for files that include <git2.h> (git_status_entry has no struct tag).
 */
#ifdef INCLUDE_git_status_h__
const char *wt_git_status_path(const git_status_entry *e);
#endif
/*
 * The work of a worktree that is not committed, the one count of it:
 * modified (staged or not, deleted, renamed, type changes; not what a
 * sparse checkout leaves out), untracked files (not ignored), and hidden
 * changes (wt_git_hidden_changes). first is the first modified path. 0 or -1.
 * flags: WT_CHANGES_TRACKED.
 */
struct wt_changes {
	long modified, untracked, hidden;
	char *first;
};
/* Only the changes to tracked files (untracked stays 0): no walk of untracked trees. */
#define WT_CHANGES_TRACKED 1
int wt_git_changes(struct git_repository *repo, int flags, struct wt_changes *c);
void wt_changes_release(struct wt_changes *c);
/*
 * A move of branch ref of a worktree from one commit to another, with its
 * index and files. While it runs the admin directory holds WT_MOVE_MARKER
 * ("REF FROM TO [STASH]"), written and synced before the first file
 * changes, removed after the branch moved: a killed run leaves the way back.
 */
#define WT_MOVE_MARKER "wt-sync"
#define WT_MOVE_CONFLICTS_MAX 32
#define WT_OID_HEX 41                      /* a commit id in hex, NUL-terminated */
struct wt_move {
	char ref[1024];
	char from[WT_OID_HEX], to[WT_OID_HEX];
	char stash[WT_OID_HEX];            /* changes stashed before, when has_stash */
	int has_stash;
};
struct wt_move_result {
	char msg[1536];
	char *conflicts[WT_MOVE_CONFLICTS_MAX];   /* files in the way */
	size_t nconflicts;
};
/*
 * Checks the files out (safe: a file in the way, untracked or changed,
 * stops it before anything is written, named in res->conflicts; so does a
 * filesystem without room for the new files' blocks), then
 * moves the branch (only when it is still at m->from), with why in the
 * reflog. On a failure after files changed, when every change is its own,
 * resets to m->from; when another writer moved the branch meanwhile, puts
 * only its paths back as the branch's commit has them, the branch left where
 * that writer put it. Otherwise the marker stays. 0, or -1 with res->msg.
 * Release res either way.
 */
int wt_git_move(struct git_repository *repo, const char *admin, const struct wt_move *m,
		const char *why, struct wt_move_result *res);
void wt_move_result_release(struct wt_move_result *res);
/* 1 with *m when a move's marker is in admin, 0 when none, -1 when unreadable. */
int wt_git_move_pending(const char *admin, struct wt_move *m);
/*
 * Undoes the move a killed run left (its marker in admin): the branch, the
 * index and the files back at m->from, when every change in the worktree
 * is the move's own (a path the two commits differ in, holding what one of
 * them holds); otherwise nothing is changed. Returns 1 with *m (its stash
 * is the caller's to reapply), 0 when there was nothing to undo, -1 with
 * msg (work was made since, or git failed: a person must look).
 */
int wt_git_move_recover(struct git_repository *repo, const char *admin, struct wt_move *m,
			char *msg, size_t msgsz);
/*
 * The lock of one sync of the worktree whose admin directory is admin, for
 * every process that changes or judges its branch and its backup: a flock
 * on the admin directory itself (nothing is left behind). Returns the fd
 * holding it (close to release), or -1 with errno (EWOULDBLOCK: a sync
 * runs). A marker (wt_git_move_pending) found while holding it is a dead
 * run's.
 */
int wt_git_sync_lock(const char *admin);
/* git reset --hard to: HEAD's branch, the index and the files. 0 or -1. */
struct git_oid;
int wt_git_reset_hard(struct git_repository *repo, const struct git_oid *to);


#endif
