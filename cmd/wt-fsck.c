/* wt-fsck: checks the registry against the filesystem and git, and repairs it. */
#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <archive.h>
#include <git2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wt.h"

static const char usage_text[] =
	"usage: wt-fsck [-nv] [-r registry] [--repair | --restore-backup | --rebuild dir ... | --import [file]]\n"
	"       wt-fsck -h | --help | --version\n"
	"  -n                 print what would change, change nothing\n"
	"  -r registry        check this registry\n"
	"  -v                 list records a repair marked as error, too\n"
	"      --repair       repair what was found\n"
	"      --restore-backup   restore a registry that does not parse from its .bak\n"
	"      --rebuild dir ...   rebuild a lost registry from worktrees and archives\n"
	"      --import [file]   import a MoAI-ADK registry\n"
	"  -h, --help         print this usage and exit\n"
	"      --version      print the version and exit\n";

enum { OPT_REPAIR = 0x200, OPT_RESTORE, OPT_REBUILD, OPT_IMPORT };

static struct wt_config cfg;
static struct wt_registry reg;
static struct wt_batch *batch;
static int repair, dry, verbose, replayed;
static long problems, unrepaired;
static char *archdir;

/* The registry's records, in memory: ids, paths and repositories are compared across them. */
struct ent {
	struct wt_rec r;
	char *id, *path, *repo, *archive;
	char *admin;            /* git's admin entry the record's worktree has, once known */
	int loser;              /* of a duplicate id: renamed */
};
static struct ent *ents;
static size_t nents;
/* The registry's lines that are no record: number and bytes, as a drop names them. */
struct badline {
	long lineno;
	char *text;
	size_t len;
	int toolong;
};
static struct badline *badlines;
static size_t nbad;

/* Admin entries (resolved) that a record accounts for: not orphans. */
static char **claimed;
static size_t nclaimed;

static void
claim(const char *admin)
{
	char *r = admin ? realpath(admin, NULL) : NULL;

	if (!r)
		return;
	claimed = wt_xrealloc(claimed, (nclaimed + 1) * sizeof(*claimed));
	claimed[nclaimed++] = r;
}

static int
is_claimed(const char *admin)
{
	char *r = realpath(admin, NULL);
	size_t i;
	int hit = 0;

	for (i = 0; r && !hit && i < nclaimed; i++)
		hit = strcmp(claimed[i], r) == 0;
	free(r);
	return hit;
}

/*
 * One problem record per finding, on stdout. fixed: -1 when no repair was
 * asked (or -n), 1 repaired, 0 the repair failed.
 */
static void
problem_would(const char *kind, const char *id, const char *path, const char *detail,
	      const char *how, int fixed, struct wt_obj *would)
{
	struct wt_obj o, w;
	size_t n;
	const char *t;

	wt_obj_init(&o);
	wt_obj_str(&o, "problem", kind);
	if (id)
		wt_obj_str(&o, "id", id);
	if (path)
		wt_obj_str(&o, "path", path);
	wt_obj_str(&o, "detail", detail);
	wt_obj_str(&o, "repair", how);
	if (dry && would) {
		t = wt_obj_text(would, &n);
		wt_obj_raw(&o, "would", t, n);
	} else if (dry && (repair || fixed >= 0)) {
		wt_would_init(&w, "repair");
		t = wt_obj_text(&w, &n);
		wt_obj_raw(&o, "would", t, n);
		wt_obj_release(&w);
	} else if (fixed >= 0) {
		wt_obj_bool(&o, "repaired", fixed);
	}
	t = wt_obj_text(&o, &n);
	fwrite(t, 1, n, stdout);
	putchar('\n');
	wt_obj_release(&o);
	problems++;
	if (fixed != 1)
		unrepaired++;
}

static void
problem(const char *kind, const char *id, const char *path, const char *detail,
	const char *how, int fixed)
{
	problem_would(kind, id, path, detail, how, fixed, NULL);
}

/*
 * A repair by a drop of a registry line is done only if the line is still
 * there at the commit, under the lock: another writer may have moved it
 * since. Its problem waits for the commit to say.
 */
struct pending {
	char *kind, *id, *path, *detail, *how;
	long lineno;
};
static struct pending *pend;
static size_t npend;

static void
problem_drop(const char *kind, const char *id, const char *path, const char *detail,
	     const char *how, int fixed, long lineno)
{
	struct pending *p;

	if (fixed != 1) {
		problem(kind, id, path, detail, how, fixed);
		return;
	}
	pend = wt_xrealloc(pend, (npend + 1) * sizeof(*pend));
	p = &pend[npend++];
	p->kind = wt_xstrdup(kind);
	p->id = id ? wt_xstrdup(id) : NULL;
	p->path = path ? wt_xstrdup(path) : NULL;
	p->detail = wt_xstrdup(detail);
	p->how = wt_xstrdup(how);
	p->lineno = lineno;
}

/* The problems of the drops, once the commit said which were done (committed: it succeeded). */
static void
flush_drops(int committed)
{
	const long *kept;
	size_t i, k, n = committed ? wt_batch_kept_drops(&kept) : 0;
	int done;

	for (i = 0; i < npend; i++) {
		for (done = committed, k = 0; done && k < n; k++)
			done = kept[k] != pend[i].lineno;
		problem(pend[i].kind, pend[i].id, pend[i].path, pend[i].detail, pend[i].how, done);
		free(pend[i].kind);
		free(pend[i].id);
		free(pend[i].path);
		free(pend[i].detail);
		free(pend[i].how);
	}
	free(pend);
	pend = NULL;
	npend = 0;
}

/* What a finding's repair does now: 1 to act, 0 to report only. */
static int
acting(void)
{
	return repair && !dry;
}

/* The status a repair gives a record it cannot mend: error, with the reason (never a deletion). */
static int
mark_error(const char *id, const char *reason)
{
	struct wt_obj f;
	char ts[32];
	int ret;

	wt_obj_init(&f);
	wt_obj_str(&f, "status", "error");
	wt_obj_str(&f, "status_reason", reason);
	wt_obj_str(&f, "status_at", wt_time_fmt(wt_now(), ts));
	ret = wt_batch_set(batch, id, wt_obj_text(&f, NULL));
	wt_obj_release(&f);
	return ret;
}

static int
set_field(const char *id, const char *key, const char *value)
{
	struct wt_obj f;
	int ret;

	wt_obj_init(&f);
	wt_obj_str(&f, key, value);
	ret = wt_batch_set(batch, id, wt_obj_text(&f, NULL));
	wt_obj_release(&f);
	return ret;
}

/* The record's repair: error status with the reason, or report only. */
static void
error_problem(const char *kind, const struct ent *e, const char *detail)
{
	int fixed = -1;

	if (acting())
		fixed = mark_error(e->id, detail) == 0;
	problem(kind, e->id, e->path, detail, "mark the record status error with the reason",
		fixed);
}

/* ---- the registry file ---- */

static int
load_cb(struct wt_rec *r, void *arg)
{
	struct ent *e;

	(void)arg;
	/* Lines that are no record are the bad line walk's (load). */
	if (wt_rec_has_error(r))
		return 0;
	ents = wt_xrealloc(ents, (nents + 1) * sizeof(*ents));
	e = &ents[nents++];
	memset(e, 0, sizeof(*e));
	wt_rec_copy(&e->r, r);
	e->id = wt_rec_str(r, "id");
	e->path = wt_rec_str(r, "path");
	e->repo = wt_rec_str(r, "repo");
	e->archive = wt_rec_str(r, "archive");
	return 0;
}

static void
ents_release(void)
{
	size_t i;

	for (i = 0; i < nents; i++) {
		wt_rec_release(&ents[i].r);
		free(ents[i].id);
		free(ents[i].path);
		free(ents[i].repo);
		free(ents[i].archive);
		free(ents[i].admin);
	}
	free(ents);
	ents = NULL;
	nents = 0;
	for (i = 0; i < nbad; i++)
		free(badlines[i].text);
	free(badlines);
	badlines = NULL;
	nbad = 0;
}

static int
badline_cb(long lineno, const char *line, size_t n, int toolong, void *arg)
{
	struct badline *b;

	(void)arg;
	badlines = wt_xrealloc(badlines, (nbad + 1) * sizeof(*badlines));
	b = &badlines[nbad++];
	b->lineno = lineno;
	b->text = wt_xstrndup(line, n);
	b->len = n;
	b->toolong = toolong;
	return 0;
}

/*
 * The registry's records, and its lines that are no record as a commit
 * sees them (batch.c decides what is a record, for both).
 */
static void
load(void)
{
	ents_release();
	if (access(reg.path, F_OK) == 0 && (wt_registry_each(&reg, load_cb, NULL) < 0 ||
					    wt_registry_each_bad_line(&reg, badline_cb, NULL) < 0))
		err(WT_EXIT_FATAL, "cannot read '%s'", reg.path);
}

/* Counts the lines of a registry file (its .bak) that are no record; -1 when it cannot be read. */
static int
bad_cb(long lineno, const char *line, size_t n, int toolong, void *arg)
{
	long *nb = arg;

	(void)lineno, (void)line, (void)n, (void)toolong;
	++*nb;
	return 0;
}

static long
bad_lines_of(const char *path)
{
	struct wt_registry b;
	long n = 0;

	memset(&b, 0, sizeof(b));
	b.path = (char *)path;
	if (access(path, F_OK) < 0)
		return -1;
	if (wt_registry_each_bad_line(&b, bad_cb, &n) < 0)
		return -1;
	return n;
}

static int
find_ent(const char *id)
{
	size_t i;

	for (i = 0; i < nents; i++)
		if (ents[i].id && strcmp(ents[i].id, id) == 0)
			return (int)i;
	return -1;
}

/* An id no record has: base, else base~2, base~3... A new string. */
static char *
fresh_id(const char *base)
{
	struct wt_buf b = WT_BUF_INIT;
	int k;

	wt_buf_adds(&b, base);
	for (k = 2; find_ent(b.s) >= 0; k++) {
		wt_buf_reset(&b);
		wt_buf_addf(&b, "%s~%d", base, k);
	}
	return wt_buf_detach(&b);
}

static int
is_error(const struct ent *e)
{
	int t = wt_rec_find(&e->r, "status");

	return t >= 0 && wt_rec_tokeq(&e->r, t, "error");
}

/* Duplicate ids: the record that is the worktree keeps the id, the others get new ones. */
static int
is_worktree(const struct ent *e)
{
	struct wt_target t;
	const char *why;
	int ok;

	if (wt_rec_is_archived(&e->r))
		return e->archive && access(e->archive, F_OK) == 0;
	ok = wt_target_verify(&t, e->path, e->repo, &why) == 0;
	if (ok)
		wt_target_release(&t);
	return ok;
}

/*
 * A loser of a duplicate id goes in under its new id, and its old line goes
 * by a drop (a patch by id would reach the winner's line): the winner's line
 * stays as it is, and the id's patches are its own.
 */
static int
rename_loser(struct ent *e, const char *nid, const char *reason)
{
	if (wt_batch_drop_line(batch, e->r.lineno, e->r.line, e->r.len) < 0)
		return -1;
	wt_rec_set_str(&e->r, "id", nid);
	/* A loser that is the worktree at its path too is a true record under its new id. */
	if (reason) {
		wt_rec_set_str(&e->r, "status", "error");
		wt_rec_set_str(&e->r, "status_reason", reason);
	}
	return wt_batch_put(batch, &e->r);
}

static void
check_ids(void)
{
	struct wt_buf d = WT_BUF_INIT;
	size_t i, j, win;
	char *nid;
	int fixed, both;

	for (i = 0; i < nents; i++) {
		if (!ents[i].id || ents[i].loser)
			continue;
		for (j = i + 1, win = i; j < nents; j++)
			if (ents[j].id && !ents[j].loser && strcmp(ents[j].id, ents[i].id) == 0 &&
			    win == i && !is_worktree(&ents[i]) && is_worktree(&ents[j]))
				win = j;
		for (j = i; j < nents; j++) {
			if (j == win || !ents[j].id || ents[j].loser ||
			    strcmp(ents[j].id, ents[win].id) != 0)
				continue;
			ents[j].loser = 1;
			nid = fresh_id(ents[j].id);
			both = is_worktree(&ents[j]);
			wt_buf_reset(&d);
			wt_buf_addf(&d, "id '%s' is also the record of '%s'; this one does not "
				    "match the worktree", ents[j].id, ents[win].path ? ents[win].path : "");
			fixed = -1;
			if (acting()) {
				fixed = rename_loser(&ents[j], nid, both ? NULL : d.s) == 0;
				free(ents[j].id);
				ents[j].id = wt_xstrdup(nid);
			}
			wt_buf_reset(&d);
			wt_buf_addf(&d, "id '%s' is also the record of '%s'", ents[win].id,
				    ents[win].path ? ents[win].path : "");
			problem_drop("duplicate_id", ents[win].id, ents[j].path, d.s, both ?
				     "give this record, of a worktree too, a new unique id" :
				     "give this record a new unique id and status error", fixed,
				     ents[j].r.lineno);
			free(nid);
		}
	}
	wt_buf_release(&d);
}

static void
check_paths(void)
{
	struct wt_buf d = WT_BUF_INIT;
	size_t i, j;

	for (i = 0; i < nents; i++) {
		/* A line with no id is a bad_line, dropped: no patch can name it. */
		if (!ents[i].id || is_error(&ents[i]) || ents[i].loser)
			continue;
		if (!ents[i].path || ents[i].path[0] != '/') {
			error_problem("relative_path", &ents[i], ents[i].path ?
				      "the path is not absolute" : "the record has no path");
			continue;
		}
		for (j = 0; j < i; j++)
			if (ents[j].id && ents[j].path && strcmp(ents[i].path, ents[j].path) == 0 &&
			    !is_error(&ents[j]) && !wt_rec_is_archived(&ents[i].r) &&
			    !wt_rec_is_archived(&ents[j].r)) {
				/* The record that is not the worktree's loses; else the later one. */
				size_t lo = is_worktree(&ents[i]) && !is_worktree(&ents[j]) ? j : i;

				wt_buf_reset(&d);
				wt_buf_addf(&d, "the path is also the record '%s''s",
					    ents[lo == i ? j : i].id);
				error_problem("duplicate_path", &ents[lo], d.s);
				ents[lo].loser = 1;
				break;
			}
	}
	wt_buf_release(&d);
}

/* A known state, no problem: listed with -v. */
static void
known_state(const char *kind, const char *id, const char *path, const char *detail)
{
	struct wt_obj o;

	if (!verbose)
		return;
	wt_obj_init(&o);
	wt_obj_str(&o, "known", kind);
	if (id)
		wt_obj_str(&o, "id", id);
	if (path)
		wt_obj_str(&o, "path", path);
	wt_obj_str(&o, "detail", detail);
	fputs(wt_obj_text(&o, NULL), stdout);
	putchar('\n');
	wt_obj_release(&o);
}

/* The line's repair: a drop of exactly it (its number and bytes), in this run's one commit. */
static void
bad_line(const struct badline *b)
{
	struct wt_buf d = WT_BUF_INIT;
	int fixed = -1;

	wt_buf_addf(&d, "registry line %ld is not a record", b->lineno);
	if (b->toolong) {
		wt_buf_addf(&d, " (over %d MiB)", 64);
		problem("bad_line", NULL, reg.path, d.s, "none: too long to name; cut it by hand",
			acting() ? 0 : -1);
	} else {
		/* What goes is said, not dropped silently; the .bak keeps it whole. */
		wt_buf_addf(&d, ": '%.*s%s'", (int)(b->len > 80 ? 80 : b->len), b->text,
			    b->len > 80 ? "..." : "");
		if (acting())
			fixed = wt_batch_drop_line(batch, b->lineno, b->text, b->len) == 0;
		problem_drop("bad_line", NULL, reg.path, d.s,
			     "drop exactly this line (its number and bytes) from the registry; "
			     "the commit keeps the registry as it was as the .bak", fixed, b->lineno);
	}
	wt_buf_release(&d);
}

static void
check_file(void)
{
	struct wt_buf d = WT_BUF_INIT;
	char *bak = wt_registry_file(&reg, "bak");
	long nb = bad_lines_of(bak);
	size_t i;

	for (i = 0; i < nbad; i++)
		bad_line(&badlines[i]);
	if (nb <= 0)
		goto out;
	wt_buf_addf(&d, "%ld line%s of the backup %s not a record", nb, nb > 1 ? "s" : "",
		    nb > 1 ? "are" : "is");
	/*
	 * A backup that does not parse matters when the registry needs it: while
	 * the registry parses, it is the generation before (also the one a
	 * repair's drops left) and the next write replaces it.
	 */
	if (!nbad) {
		known_state("backup", NULL, bak, d.s);
		goto out;
	}
	wt_buf_adds(&d, ", and the registry does not parse either: --restore-backup cannot help");
	problem("bad_backup", NULL, bak, d.s, "replaced, by the commit that drops the "
		"registry's bad lines, with the registry as it was", acting() ? 1 : -1);
out:
	free(bak);
	wt_buf_release(&d);
}

static void
leftover(int what, const char *path, void *arg)
{
	int fixed = -1;

	(void)arg;
	switch (what) {
	case WT_LEFT_JOURNAL:
		/* Replayed first (see main): what the journal holds now is this run's. */
		if (replayed)
			break;
		if (acting())
			fixed = wt_registry_replay(&reg, cfg.lock_timeout) >= 0;
		problem("journal", NULL, path, "a journal holds patches not in the registry",
			"replay the journal into the registry", fixed);
		break;
	case WT_LEFT_INDEX:
		if (acting())
			fixed = wt_registry_reindex(&reg, cfg.lock_timeout) == 0;
		problem("stale_index", NULL, path, "the index does not match the registry's "
			"generation", "rewrite the index", fixed);
		break;
	case WT_LEFT_TMP:
		if (acting())
			fixed = unlink(path) == 0;
		problem("registry_tmp", NULL, path, "a temporary registry of a run that died",
			"remove it", fixed);
		break;
	}
}

/* Temporary archives of runs that died, in the archive directory (archwrite.c's rule). */
static void
check_archive_tmp(void)
{
	struct wt_buf p = WT_BUF_INIT;
	struct dirent *de;
	int fd, fixed;
	DIR *d = opendir(archdir);

	if (!d)
		return;
	while ((de = readdir(d))) {
		if ((fd = wt_archive_tmp_dead(dirfd(d), de->d_name)) < 0)
			continue;
		wt_buf_reset(&p);
		wt_buf_addf(&p, "%s/%s", archdir, de->d_name);
		/* Removed while its lock is held: no run can have taken it up since. */
		fixed = acting() ? unlinkat(dirfd(d), de->d_name, 0) == 0 : -1;
		close(fd);
		problem("archive_tmp", NULL, p.s, "a partial archive of a run that died",
			"remove it", fixed);
	}
	closedir(d);
	wt_buf_release(&p);
}

/*
 * A creation wt-add left half done when it was killed: its intent file,
 * whose lock no live run holds. The repair is wt-add's own undo.
 */
static int
partial_one(struct wt_intent *in, void *arg)
{
	struct wt_buf why = WT_BUF_INIT, d = WT_BUF_INIT;
	int rc = -1;

	(void)arg;
	wt_buf_addf(&d, "a creation by wt-add that was killed at step '%s'", in->step);
	if (acting()) {
		rc = wt_intent_undo(in, &reg, cfg.lock_timeout, NULL, &why);
		if (rc != 0 && why.len)
			wt_buf_addf(&d, "; not undone: %s", why.s);
	}
	/* What is still there is this creation's, no orphan to register. */
	if (rc != 0 && in->repo && in->name) {
		struct wt_buf admin = WT_BUF_INIT;

		wt_buf_addf(&admin, "%s/worktrees/%s", in->repo, in->name);
		claim(admin.s);
		wt_buf_release(&admin);
	}
	problem("partial_creation", in->id, in->path, d.s,
		"undo what it made (directory, admin entry, branch, record), as wt-add does "
		"on a failure; never a worktree holding work", acting() ? rc == 0 : -1);
	wt_buf_release(&why);
	wt_buf_release(&d);
	return 0;
}

static void
check_partial(void)
{
	wt_intent_each_dead(&reg, partial_one, NULL);
}

/* ---- each record ---- */

/* The branch git's admin entry says (NULL: detached) and its head; new strings. */
static void
git_head(const char *admin, char **branch, char **head)
{
	struct wt_buf b = WT_BUF_INIT;
	char *s;

	wt_buf_addf(&b, "%s/HEAD", admin);
	s = wt_read_small(b.s, 4096);
	*branch = s && strncmp(s, "ref: refs/heads/", 16) == 0 ? wt_xstrdup(s + 16) : NULL;
	*head = wt_git_ref_id(admin, "HEAD");
	free(s);
	wt_buf_release(&b);
}

static void
check_head(const struct ent *e, const char *admin)
{
	struct wt_buf d = WT_BUF_INIT;
	struct wt_obj f;
	char *branch, *head, *rb = wt_rec_str(&e->r, "branch"), *rh = wt_rec_str(&e->r, "head");
	int t = wt_rec_find(&e->r, "branch"), fixed = -1, diff = 0;

	git_head(admin, &branch, &head);
	wt_obj_init(&f);
	if (t >= 0 && !(branch ? rb && strcmp(rb, branch) == 0 : wt_rec_is_null(&e->r, "branch"))) {
		wt_buf_addf(&d, "the branch is %s, the record says %s", branch ? branch : "detached",
			    rb ? rb : "detached");
		wt_obj_str(&f, "branch", branch);
		diff = 1;
	}
	if (rh && head && strcmp(rh, head) != 0) {
		wt_buf_addf(&d, "%sHEAD is %.12s, the record says %.12s", diff ? "; " : "",
			    head, rh);
		wt_obj_str(&f, "head", head);
		diff = 1;
	}
	if (diff) {
		if (acting())
			fixed = wt_batch_set(batch, e->id, wt_obj_text(&f, NULL)) == 0;
		problem("head", e->id, e->path, d.s, "update the record's branch and head", fixed);
	}
	wt_obj_release(&f);
	free(branch);
	free(head);
	free(rb);
	free(rh);
	wt_buf_release(&d);
}

/*
 * Where a worktree went whose admin entry still names its old path: a
 * directory beside the old one, or beside another record's, whose .git
 * names that admin entry. A new string, or NULL; *other is a second one
 * (a new string) when two directories name it: a copy of the worktree
 * beside it, and which one is the worktree cannot be told.
 */
static char *
find_moved(const char *oldpath, const char *admin, char **other)
{
	struct wt_buf b = WT_BUF_INIT;
	struct dirent *de;
	char *parent, *found = NULL, *s;
	size_t i;
	DIR *d;

	*other = NULL;
	for (i = 0; !*other && i <= nents; i++) {
		parent = wt_xstrdup(i == nents ? oldpath : ents[i].path ? ents[i].path : "");
		if (!(s = strrchr(parent, '/')) || s == parent || (i < nents && !*parent)) {
			free(parent);
			continue;
		}
		*s = '\0';
		if ((d = opendir(parent))) {
			while (!*other && (de = readdir(d))) {
				if (de->d_name[0] == '.' && (!de->d_name[1] || de->d_name[1] == '.'))
					continue;
				wt_buf_reset(&b);
				wt_buf_addf(&b, "%s/%s", parent, de->d_name);
				if (!wt_worktree_names_admin(b.s, admin) ||
				    (found && strcmp(found, b.s) == 0))
					continue;
				if (found)
					*other = wt_buf_detach(&b);
				else
					found = wt_buf_detach(&b);
			}
			closedir(d);
		}
		free(parent);
	}
	wt_buf_release(&b);
	return found;
}

/*
 * 1 when id is base with the suffix ~N that fresh_id gives a taken id: a
 * second archive of one id that --rebuild or an orphan_archive repair
 * registered is still that id's archive.
 */
static int
renamed_from(const char *id, const char *base)
{
	size_t n = strlen(base);

	if (strncmp(id, base, n) != 0 || id[n] != '~' || !id[n + 1])
		return 0;
	for (id += n + 1; *id; id++)
		if (*id < '0' || *id > '9')
			return 0;
	return 1;
}

/* An archived record: its archive verifies against its manifest, its ref holds. */
static void
check_archived(struct ent *e)
{
	struct wt_buf d = WT_BUF_INIT;
	struct wt_manifest m;
	struct archive *a = NULL;
	char *why = NULL, *ref = wt_rec_str(&e->r, "archive_ref"), *id = NULL, *ok;
	int fd, fixed;

	memset(&m, 0, sizeof(m));
	if (!e->archive) {
		error_problem("archive_missing", e, "the record is archived but names no archive");
		goto out;
	}
	claim(e->archive);
	if ((fd = open(e->archive, O_RDONLY | O_CLOEXEC)) < 0) {
		wt_buf_addf(&d, "cannot open the archive '%s': %s", e->archive, strerror(errno));
		error_problem("archive_missing", e, d.s);
		goto out;
	}
	if (wt_archive_verify(fd, NULL, 0, &why) < 0 || !(a = wt_archive_read_fd(fd)) ||
	    wt_archive_read_manifest(a, &m, NULL, NULL, &why) < 0) {
		wt_buf_addf(&d, "the archive '%s' does not verify: %s", e->archive,
			    why ? why : "unreadable");
		error_problem("archive_corrupt", e, d.s);
		close(fd);
		goto out;
	}
	close(fd);
	if (m.id && strcmp(m.id, e->id) != 0 && !renamed_from(e->id, m.id)) {
		wt_buf_addf(&d, "the archive '%s' is of '%s'", e->archive, m.id);
		error_problem("archive_corrupt", e, d.s);
		goto out;
	}
	if (ref && e->repo) {
		if ((ok = wt_git_ref_id(e->repo, ref))) {
			free(ok);
			goto out;
		}
		fixed = -1;
		if (acting()) {
			git_repository *repo = NULL;
			git_reference *gr = NULL;
			git_oid oid;

			fixed = m.head && git_repository_open(&repo, e->repo) == 0 &&
				git_oid_fromstr(&oid, m.head) == 0 &&
				git_reference_create(&gr, repo, ref, &oid, 0,
						     "wt-fsck: the archive's protection ref") == 0;
			git_reference_free(gr);
			git_repository_free(repo);
		}
		wt_buf_addf(&d, "the protection ref %s is gone", ref);
		problem("archive_ref", e->id, e->path, d.s,
			"point the ref at the archive manifest's head again", fixed);
	}
out:
	if (a)
		archive_read_free(a);
	wt_manifest_release(&m);
	free(why);
	free(ref);
	free(id);
	wt_buf_release(&d);
}

/* A worktree's trash that holds what a run that died left. */
static void
check_trash(const struct wt_target *t, const char *id)
{
	struct wt_rm_stats rs;
	struct dirent *de;
	char *path = wt_trash_path(t);
	int fd, fixed = -1, n = 0;
	DIR *d;

	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		goto out;
	/* wt-prune holds it locked while it runs: then it is no leftover. */
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd);
		goto out;
	}
	if ((d = fdopendir(fcntl(fd, F_DUPFD_CLOEXEC, 0)))) {
		while ((de = readdir(d)))
			n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
		closedir(d);
	}
	close(fd);
	if (!n)
		goto out;
	if (acting() && (fd = wt_trash_open(t, 0)) >= 0) {
		memset(&rs, 0, sizeof(rs));
		fixed = wt_trash_empty(fd, cfg.jobs, &rs) == 0;
		close(fd);
	}
	problem("trash", id, path, "the trash holds what a run that died left", "empty it",
		fixed);
out:
	free(path);
}

/* A record whose directory is gone: moved (git's entry still names it and it is found), prunable, or missing. */
static void
check_gone(struct ent *e)
{
	struct wt_buf d = WT_BUF_INIT;
	char *admin, *moved, *other;
	int fixed = -1;

	if (!e->repo || wt_admin_of_path(e->repo, e->path, &admin, NULL) != 1) {
		error_problem("missing", e, "the directory is gone and not archived");
		return;
	}
	claim(admin);
	if (!(moved = find_moved(e->path, admin, &other))) {
		error_problem("prunable", e, "the directory is gone and not archived; git's "
			      "admin entry still names it");
		free(admin);
		return;
	}
	if (other) {
		/* A guess would point git at a copy: the worktree's work would go on in the wrong one. */
		wt_buf_addf(&d, "the worktree moved, and two directories name its admin entry: "
			    "'%s' and '%s'", moved, other);
		error_problem("moved", e, d.s);
		free(other);
		free(admin);
		free(moved);
		wt_buf_release(&d);
		return;
	}
	if (acting())
		fixed = wt_worktree_repair_pointer(admin, moved, e->repo) == 0 &&
			set_field(e->id, "path", moved) == 0;
	wt_buf_addf(&d, "the worktree moved to '%s'", moved);
	problem("moved", e->id, e->path, d.s, "repair git's two pointers, as git worktree "
		"repair does, and update the path", fixed);
	free(admin);
	free(moved);
	wt_buf_release(&d);
}

/*
 * A record whose directory is there, its .git naming an admin entry of the
 * record's repository whose gitdir names a path that is gone: moved here,
 * only git's pointer is stale. 1 when that was it (reported), else 0.
 */
static int
check_pointer(struct ent *e)
{
	struct wt_buf d = WT_BUF_INIT;
	char *gitfile, *admin = NULL, *back = NULL, *r = NULL;
	struct stat st;
	size_t n;
	int fixed = -1, hit = 0;

	wt_buf_addf(&d, "%s/.git", e->path);
	gitfile = wt_read_small(d.s, 4096);
	if (!gitfile || strncmp(gitfile, "gitdir: ", 8) != 0 || !e->repo ||
	    !(admin = realpath(gitfile + 8, NULL)))
		goto out;
	wt_buf_reset(&d);
	wt_buf_addf(&d, "%s/gitdir", admin);
	back = wt_read_small(d.s, 4096);
	if (!back || lstat(back, &st) == 0 || errno != ENOENT ||
	    !wt_worktree_names_admin(e->path, admin) || !(r = realpath(e->repo, NULL)))
		goto out;
	n = strlen(r);
	if (strncmp(admin, r, n) != 0 || strncmp(admin + n, "/worktrees/", 11) != 0)
		goto out;
	claim(admin);
	if (acting())
		fixed = wt_worktree_repair_pointer(admin, e->path, e->repo) == 0;
	wt_buf_reset(&d);
	wt_buf_addf(&d, "git's admin entry names '%s', which is gone", back);
	problem("pointer", e->id, e->path, d.s, "point git's admin entry back at the "
		"worktree, as git worktree repair does", fixed);
	hit = 1;
out:
	free(gitfile);
	free(admin);
	free(back);
	free(r);
	wt_buf_release(&d);
	return hit;
}

static void
check_worktree(struct ent *e)
{
	struct wt_target t;
	const char *why;
	struct stat st;

	if (wt_target_verify(&t, e->path, e->repo, &why) == 0) {
		claim(t.admin);
		check_head(e, t.admin);
		check_trash(&t, e->id);
		wt_target_release(&t);
	} else if (lstat(e->path, &st) < 0) {
		check_gone(e);
	} else if (!check_pointer(e)) {
		if (strcmp(wt_target_rule(why), "foreign") == 0)
			error_problem("foreign", e, why);
		else if (strstr(why, "admin directory is missing"))
			error_problem("admin_missing", e, why);
		else
			error_problem("not_linked", e, why);
	}
}

/* Records a repair marked: a known state, listed with -v. */
static void
known(const struct ent *e)
{
	char *why = wt_rec_str(&e->r, "status_reason");

	known_state("error", e->id, e->path, why ? why : "status error");
	free(why);
}

static void
check_record(struct ent *e)
{
	int t = wt_rec_find(&e->r, "status");

	if (!e->id || !e->path || e->path[0] != '/')
		return;
	if (t >= 0 && wt_rec_tokeq(&e->r, t, "error")) {
		known(e);
		return;
	}
	if (wt_rec_is_archived(&e->r))
		check_archived(e);
	else
		check_worktree(e);
}

/* ---- orphans ---- */

struct orphans {
	char **repos;
	size_t nrepos;
};

static void
add_repo(struct orphans *o, const char *repo)
{
	char *r = realpath(repo, NULL);
	size_t i;

	if (!r)
		return;
	for (i = 0; i < o->nrepos; i++)
		if (strcmp(o->repos[i], r) == 0) {
			free(r);
			return;
		}
	o->repos = wt_xrealloc(o->repos, (o->nrepos + 1) * sizeof(*o->repos));
	o->repos[o->nrepos++] = r;
}

/* created_at of a worktree: when git made its admin entry. */
static void
set_created(struct wt_rec *r, const char *admin)
{
	struct wt_buf b = WT_BUF_INIT;
	struct stat st;

	wt_buf_addf(&b, "%s/commondir", admin);
	if (stat(b.s, &st) == 0)
		wt_rec_set_time(r, "created_at", st.st_mtime);
	wt_buf_release(&b);
}

/* Registers r (an orphan) under an id no record has. */
static int
register_rec(struct wt_rec *r)
{
	char *id = wt_rec_str(r, "id"), *nid;
	int ret = 0;

	nid = fresh_id(id ? id : "worktree");
	wt_rec_set_str(r, "id", nid);
	/* A dry run takes the id too, so it says the ids the run would give. */
	if (!dry)
		ret = wt_batch_put(batch, r);
	/* Later orphans must not take its id. */
	if (ret == 0)
		load_cb(r, NULL);
	free(id);
	free(nid);
	return ret;
}

/*
 * The id an unregistered worktree gets: the MoAI SPEC ID its directory's name
 * or its branch carries, else the name git gave its admin entry (name, as
 * wt-ls gives it): the directory's name when it was made, which a move does
 * not change. A new string.
 */
static char *
orphan_id(const char *path, const char *branch, const char *name)
{
	const char *base = strrchr(path, '/');
	char *id;

	base = base ? base + 1 : path;
	if ((id = wt_spec_id(base)) || (id = wt_spec_id(branch)))
		return id;
	return wt_xstrdup(name && *name ? name : *base ? base : "worktree");
}

/* The record of t, a verified worktree git lists (r: wt_git_list_worktrees's) that no record has. */
static void
orphan_record(const struct wt_rec *r, const struct wt_target *t, struct wt_rec *nr)
{
	char *branch = wt_rec_str(r, "branch"), *head = wt_rec_str(r, "head"), *id, *p, *dir;
	char *name = wt_rec_str(r, "id");

	wt_rec_clear(nr);
	id = orphan_id(t->path, branch, name);
	free(name);
	wt_rec_set_str(nr, "id", id);
	wt_rec_set_str(nr, "path", t->path);
	wt_rec_set_str(nr, "repo", t->common);
	if (branch)
		wt_rec_set_str(nr, "branch", branch);
	else
		wt_rec_set_null(nr, "branch");
	if (head)
		wt_rec_set_str(nr, "head", head);
	wt_rec_set_str(nr, "status", "active");
	set_created(nr, t->admin);
	/* The project: the directory of a repository whose common directory is its .git. */
	if ((p = strrchr(t->common, '/')) && strcmp(p, "/.git") == 0) {
		dir = wt_xstrndup(t->common, (size_t)(p - t->common));
		if ((p = strrchr(dir, '/')))
			wt_rec_set_str(nr, "project", p + 1);
		free(dir);
	}
	free(id);
	free(branch);
	free(head);
}

static int
orphan_wt(struct wt_rec *r, void *arg)
{
	struct wt_target t;
	const char *why;
	char *path = wt_rec_str(r, "path"), *repo = wt_rec_str(r, "repo");
	int m = 0, fixed = -1;
	struct wt_rec nr = WT_REC_INIT;

	(void)arg;
	if ((wt_rec_bool(r, "main", &m) == 0 && m) ||
	    wt_target_verify(&t, path, repo, &why) < 0)
		goto out;
	if (is_claimed(t.admin)) {
		wt_target_release(&t);
		goto out;
	}
	claim(t.admin);
	if (acting()) {
		orphan_record(r, &t, &nr);
		fixed = register_rec(&nr) == 0;
	}
	problem("orphan_worktree", NULL, t.path, "a linked worktree of a registered "
		"repository that no record lists", "register it", fixed);
	wt_target_release(&t);
out:
	wt_rec_release(&nr);
	free(path);
	free(repo);
	return 0;
}

static int
is_archive_name(const char *s)
{
	static const char *const ext[] = { ".tar.zst", ".tar.gz", ".tar" };
	size_t i, n = strlen(s), k;

	for (i = 0; i < 3; i++)
		if (n > (k = strlen(ext[i])) && strcmp(s + n - k, ext[i]) == 0)
			return 1;
	return 0;
}

static void
check_orphans(struct orphans *o)
{
	struct wt_buf p = WT_BUF_INIT;
	struct wt_rec r = WT_REC_INIT;
	struct dirent *de;
	git_repository *repo;
	size_t i;
	int fixed;
	DIR *d;

	for (i = 0; i < nents; i++)
		if (ents[i].repo)
			add_repo(o, ents[i].repo);
	for (i = 0; i < o->nrepos; i++) {
		if (git_repository_open(&repo, o->repos[i]) < 0)
			continue;
		wt_git_list_worktrees(repo, orphan_wt, NULL);
		git_repository_free(repo);
	}
	if (!(d = opendir(archdir)))
		goto out;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || !is_archive_name(de->d_name))
			continue;
		wt_buf_reset(&p);
		wt_buf_addf(&p, "%s/%s", archdir, de->d_name);
		if (is_claimed(p.s))
			continue;
		claim(p.s);
		fixed = -1;
		if (acting())
			fixed = wt_archive_record(p.s, &r) == 0 && register_rec(&r) == 0;
		problem("orphan_archive", NULL, p.s, "an archive that no record lists",
			"register it as an archived record from its manifest", fixed);
	}
	closedir(d);
out:
	wt_rec_release(&r);
	wt_buf_release(&p);
}

/* ---- protection refs ---- */

/*
 * wt-sync's lock of the worktree of record id, when it has one: held, a
 * sync is running and its backup is in use; *busy then says why. The fd
 * of the lock (held to the end of the decision), or -1 with *busy NULL
 * when the record has no worktree to lock.
 */
static int
sync_lock(const char *id, const char **busy)
{
	struct wt_target t;
	struct wt_move m;
	const char *why;
	int k = find_ent(id), fd = -1;

	*busy = NULL;
	if (k < 0 || !ents[k].path || wt_target_verify(&t, ents[k].path, ents[k].repo, &why) < 0)
		return -1;
	if ((fd = wt_git_sync_lock(t.admin)) < 0 && errno == EWOULDBLOCK) {
		*busy = "a wt-sync is syncing its worktree";
	} else if (fd >= 0 && wt_git_move_pending(t.admin, &m) != 0) {
		/* A killed sync's way back is the backup: wt-sync recovers with it. */
		*busy = "an interrupted sync's marker names it; wt-sync recovers with it";
	}
	wt_target_release(&t);
	return fd;
}

/* One refs/wt/removed/ or refs/wt/backup/ ref of repo: deleted only when every commit it holds is elsewhere. */
static void
check_protect_ref(git_repository *repo, const char *common, const char *name)
{
	struct wt_buf d = WT_BUF_INIT;
	const char *kind = wt_protect_ref_kind(name), *id, *busy = NULL;
	char *by = NULL, hex[WT_OID_HEX];
	git_oid oid;
	int lock = -1, rc, k, fixed = -1;

	id = name + strlen(strcmp(kind, "removed") == 0 ? "refs/wt/removed/" : "refs/wt/backup/");
	k = find_ent(id);
	if (strcmp(kind, "backup") == 0)
		lock = sync_lock(id, &busy);
	if ((rc = wt_protect_ref_redundant(repo, name, &oid, &by)) < 0)
		goto out;
	git_oid_tostr(hex, sizeof(hex), &oid);
	wt_buf_addf(&d, "%s holds %.12s", name, hex);
	if (k < 0)
		wt_buf_addf(&d, "; no record is '%s'", id);
	if (busy) {
		wt_buf_addf(&d, "; kept: %s", busy);
		known_state("protect_ref", k >= 0 ? id : NULL, common, d.s);
		goto out;
	}
	if (!rc) {
		/* The only keeper of work: never deleted, never a problem. */
		wt_buf_adds(&d, ", which no branch or other ref reaches: it keeps that work");
		known_state("protect_ref", k >= 0 ? id : NULL, common, d.s);
		goto out;
	}
	wt_buf_addf(&d, ", which %s reaches: its work is safe there", by);
	if (acting())
		fixed = wt_protect_ref_delete(repo, name, &oid) == 0;
	problem("protect_ref", k >= 0 ? id : NULL, common, d.s,
		"delete the ref, only while it still holds that commit", fixed);
out:
	if (lock >= 0)
		close(lock);
	free(by);
	wt_buf_release(&d);
}

/* The protection refs of the registry's repositories. */
static void
check_protect_refs(void)
{
	struct orphans o = { NULL, 0 };
	git_reference_iterator *it;
	git_repository *repo;
	char **names = NULL;
	size_t i, j, n;

	for (i = 0; i < nents; i++)
		if (ents[i].repo)
			add_repo(&o, ents[i].repo);
	for (i = 0; i < o.nrepos; i++) {
		if (git_repository_open_bare(&repo, o.repos[i]) < 0)
			continue;
		n = 0;
		/* Names first: a deletion while iterating would disturb the iterator. */
		if (git_reference_iterator_glob_new(&it, repo, "refs/wt/*") == 0) {
			git_reference *r;

			while (git_reference_next(&r, it) == 0) {
				if (wt_protect_ref_kind(git_reference_name(r))) {
					names = wt_xrealloc(names, (n + 1) * sizeof(*names));
					names[n++] = wt_xstrdup(git_reference_name(r));
				}
				git_reference_free(r);
			}
			git_reference_iterator_free(it);
		}
		for (j = 0; j < n; j++) {
			check_protect_ref(repo, o.repos[i], names[j]);
			free(names[j]);
		}
		git_repository_free(repo);
		free(o.repos[i]);
	}
	free(names);
	free(o.repos);
}

/* ---- actions ---- */

/* A record of the backup that the registry lost goes back in (a put), and is checked with the rest. */
static int
restore_cb(struct wt_rec *r, void *arg)
{
	long *n = arg;
	char *id;
	int lost;

	if (wt_rec_has_error(r) || !(id = wt_rec_str(r, "id")))
		return 0;
	lost = find_ent(id) < 0;
	free(id);
	if (!lost)
		return 0;
	if (!dry && wt_batch_put(batch, r) < 0) {
		warn("cannot journal a record of the backup");
		*n = -1;
		return 1;
	}
	/* Not a line of the registry: nothing of it may be dropped by its number. */
	r->lineno = 0;
	load_cb(r, NULL);
	(*n)++;
	return 0;
}

/*
 * --restore-backup: the registry does not parse; the records of its .bak that
 * it lost come back, and its bad lines go (check_file), in the run's commit.
 */
static void
restore_backup(void)
{
	struct wt_buf d = WT_BUF_INIT;
	char *bak = wt_registry_file(&reg, "bak");
	struct wt_registry b;
	long nb = bad_lines_of(bak), n = 0;

	if (!nbad) {
		warnx("'%s' parses: nothing to restore; repairing", reg.path);
		goto out;
	}
	if (nb != 0)
		errx(WT_EXIT_FATAL, "the backup '%s' %s: use --rebuild", bak,
		     nb < 0 ? "cannot be read" : "does not parse either");
	/* The registry's records that parse are newer; the backup gives the rest. */
	memset(&b, 0, sizeof(b));
	b.path = bak;
	if (wt_registry_each(&b, restore_cb, &n) < 0 || n < 0)
		errx(WT_EXIT_FATAL, "cannot restore '%s' from '%s'", reg.path, bak);
	wt_buf_addf(&d, "the registry does not parse; the backup has %ld record%s it lost",
		    n, n == 1 ? "" : "s");
	problem("bad_registry", NULL, reg.path, d.s,
		"restore the records of the backup that the registry lost", dry ? -1 : 1);
out:
	wt_buf_release(&d);
	free(bak);
}

/* --rebuild: worktrees of the repositories under dirs, and the archives. */
static int
rebuild_find(const char *dir, struct orphans *o, int depth)
{
	struct wt_buf b = WT_BUF_INIT;
	struct dirent *de;
	struct stat st;
	char *s;
	DIR *d;

	wt_buf_addf(&b, "%s/.git", dir);
	if (lstat(b.s, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			add_repo(o, b.s);
		else if ((s = wt_git_admin_dir(dir))) {
			wt_buf_reset(&b);
			wt_buf_addf(&b, "%s/../..", s);
			add_repo(o, b.s);
			free(s);
		}
		wt_buf_release(&b);
		return 0;
	}
	wt_buf_reset(&b);
	wt_buf_addf(&b, "%s/HEAD", dir);
	if (lstat(b.s, &st) == 0 && S_ISREG(st.st_mode)) {
		wt_buf_reset(&b);
		wt_buf_addf(&b, "%s/objects", dir);
		if (lstat(b.s, &st) == 0 && S_ISDIR(st.st_mode)) {
			add_repo(o, dir);
			wt_buf_release(&b);
			return 0;
		}
	}
	if (depth < 4 && (d = opendir(dir))) {
		while ((de = readdir(d)))
			if (de->d_name[0] != '.' && de->d_type == DT_DIR &&
			    strcmp(de->d_name, "node_modules") != 0) {
				wt_buf_reset(&b);
				wt_buf_addf(&b, "%s/%s", dir, de->d_name);
				rebuild_find(b.s, o, depth + 1);
			}
		closedir(d);
	}
	wt_buf_release(&b);
	return 0;
}

static int
import_cb(struct wt_rec *r, void *arg)
{
	char *id = wt_rec_str(r, "id"), *path = wt_rec_str(r, "path"), *nid;
	struct wt_obj would;
	int k, fixed = -1;

	(void)arg;
	if (wt_rec_has_error(r)) {
		wt_rec_write(r, stdout);
		unrepaired++;
		goto out;
	}
	if (!id)
		goto out;
	k = find_ent(id);
	if (k >= 0 && ents[k].path && path && strcmp(ents[k].path, path) == 0)
		goto out;
	fixed = register_rec(r) == 0;
	if (dry) {
		/* What would change: the record as it would go in, under the id it would get. */
		wt_would_init(&would, "import");
		nid = wt_rec_str(r, "id");
		wt_obj_str(&would, "id", nid);
		wt_obj_raw(&would, "record", r->line, r->len);
		free(nid);
	}
	problem_would("import", id, path, k >= 0 ? "a MoAI-ADK record whose id the registry "
		      "has for another worktree" : "a MoAI-ADK record the registry does not have",
		      "register it (times converted from local time)", dry ? -1 : fixed,
		      dry ? &would : NULL);
	/* An import is asked for: what it did, or would do, is no problem left. */
	if (fixed == 1)
		unrepaired--;
	if (dry)
		wt_obj_release(&would);
out:
	free(id);
	free(path);
	return 0;
}

/* Records on stdin: each is checked as the registry's records are. */
static void
check_stdin(void)
{
	struct wt_reader *rd = wt_reader_new(0, 0);
	struct wt_rec r = WT_REC_INIT;
	int rc;

	while ((rc = wt_reader_next(rd, &r)) > 0) {
		if (wt_rec_has_error(&r)) {
			wt_rec_write(&r, stdout);
			unrepaired++;
			continue;
		}
		load_cb(&r, NULL);
		check_record(&ents[nents - 1]);
	}
	if (rc < 0)
		err(WT_EXIT_FATAL, "stdin");
	wt_reader_free(rd);
	wt_rec_release(&r);
}

/* The checks of the whole registry, in order: add one here. */
static void check_registry_file(void) { check_file(); }
static void check_leftovers(void) { wt_registry_leftovers(&reg, leftover, NULL); check_archive_tmp(); }
/* What the records account for (also those marked error) is no orphan. */
static void
check_claims(void)
{
	struct wt_target t;
	const char *why;
	size_t i;

	for (i = 0; i < nents; i++) {
		if (ents[i].archive)
			claim(ents[i].archive);
		if (ents[i].path && wt_target_verify(&t, ents[i].path, ents[i].repo, &why) == 0) {
			claim(t.admin);
			wt_target_release(&t);
		}
	}
}
static void
check_records(void)
{
	size_t i, n = nents;

	for (i = 0; i < n; i++)
		if (!ents[i].loser)
			check_record(&ents[i]);
}
static struct orphans orph;
static void check_orphans_all(void) { check_orphans(&orph); }

static const struct {
	const char *name;
	void (*fn)(void);
} checks[] = {
	{ "registry", check_registry_file },
	{ "leftovers", check_leftovers },
	{ "claims", check_claims },
	{ "ids", check_ids },
	{ "paths", check_paths },
	{ "records", check_records },
	{ "partial", check_partial },
	{ "orphans", check_orphans_all },
	{ "protect_refs", check_protect_refs },
};

/* --import [file]: a MoAI-ADK registry's records into the batch. */
static void
run_import(const char *name)
{
	char *file = name ? wt_xstrdup(name) : wt_moai_default();

	if (!file)
		errx(WT_EXIT_FATAL, "no MoAI-ADK registry found; name it");
	if (wt_moai_each(file, import_cb, NULL) < 0)
		err(WT_EXIT_FATAL, "cannot read '%s'", file);
	free(file);
}

/* The checks (and their repairs), after what an action does first. */
static void
run_checks(int argc, char **argv, int have, int restore, int rebuild, int fromstdin)
{
	size_t i;

	if (rebuild) {
		if (nents)
			errx(WT_EXIT_FATAL, "'%s' has records: use --repair, or --restore-backup",
			     reg.path);
		for (i = 0; i < (size_t)argc; i++)
			rebuild_find(argv[i], &orph, 0);
	}
	/*
	 * A journal a killed run left is replayed first (its own commit), so the
	 * checks see the registry with its patches, and the line numbers the
	 * repair's drops name are those of the registry its commit reads.
	 */
	if (acting() && have) {
		wt_registry_leftovers(&reg, leftover, NULL);
		replayed = 1;
		load();
	}
	if (restore)
		restore_backup();
	if (fromstdin) {
		check_stdin();
		return;
	}
	for (i = 0; i < sizeof(checks) / sizeof(checks[0]); i++)
		checks[i].fn();
}

static void
release_all(void)
{
	size_t i;

	for (i = 0; i < orph.nrepos; i++)
		free(orph.repos[i]);
	free(orph.repos);
	for (i = 0; i < nclaimed; i++)
		free(claimed[i]);
	free(claimed);
	ents_release();
	free(archdir);
	wt_registry_release(&reg);
	wt_config_release(&cfg);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "repair", no_argument, NULL, OPT_REPAIR },
		{ "restore-backup", no_argument, NULL, OPT_RESTORE },
		{ "rebuild", no_argument, NULL, OPT_REBUILD },
		{ "import", no_argument, NULL, OPT_IMPORT },
		WT_LONGOPTS_STD,
		{ NULL, 0, NULL, 0 },
	};
	const char *ropt = NULL;
	struct stat st;
	int c, restore = 0, rebuild = 0, import = 0, have, fromstdin, actions;

	wt_setprogname(argv[0]);
	while ((c = getopt_long(argc, argv, "hnr:v", longopts, NULL)) != -1)
		switch (c) {
		case 'n': dry = 1; break;
		case 'r': ropt = optarg; break;
		case 'v': verbose = 1; break;
		case OPT_REPAIR: repair = 1; break;
		case OPT_RESTORE: restore = 1; break;
		case OPT_REBUILD: rebuild = 1; break;
		case OPT_IMPORT: import = 1; break;
		default: wt_opt_other(c, usage_text);
		}
	argc -= optind;
	argv += optind;
	actions = repair + restore + rebuild + import;
	if (actions > 1 && !(actions == 2 && repair && restore))
		wt_usage(usage_text);
	if ((!rebuild && !import && argc) || (rebuild && !argc) || (import && argc > 1))
		wt_usage(usage_text);
	/* Every action ends with a repair. */
	if (restore || rebuild)
		repair = 1;

	wt_config_load(&cfg);
	if ((have = wt_registry_open(&reg, &cfg, ropt)) < 0)
		err(WT_EXIT_FATAL, "cannot read '%s'", reg.path);
	if (reg.moai)
		errx(WT_EXIT_FATAL, "'%s' is a MoAI-ADK registry: import it with "
		     "wt-fsck --import '%s'", reg.path, reg.path);
	if (!have && ropt && !rebuild && !import)
		errx(WT_EXIT_FATAL, "no registry at '%s'", reg.path);
	archdir = wt_archive_dir(&cfg);
	wt_git_init();
	batch = wt_batch_open(&reg);
	fromstdin = !rebuild && !import && fstat(0, &st) == 0 &&
		    (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode) ||
		     (S_ISREG(st.st_mode) && st.st_size > 0));

	load();
	if (import)
		run_import(argc ? argv[0] : NULL);
	else
		run_checks(argc, argv, have, restore, rebuild, fromstdin);
	if (wt_batch_failed(batch))
		unrepaired++;
	/* A check and a dry run write nothing: not even the journal a killed run left. */
	if (!acting() && !(import && !dry))
		wt_batch_abandon(batch);
	else if (wt_batch_commit(batch, cfg.lock_timeout) < 0) {
		flush_drops(0);
		errx(WT_EXIT_FATAL, "cannot update the registry '%s': its journal keeps "
		     "the repairs for the next run", reg.path);
	}
	flush_drops(1);
	wt_flush_stdout();
	release_all();
	return unrepaired > 0 ? WT_EXIT_RECORDS : WT_EXIT_OK;
}
