/* registry.c: the registry read as a stream, MoAI-ADK files, and the index. */
#include <sys/resource.h>

#include "wt.h"
#include "tap.h"

static struct wt_config cfg;

/* Appends each record's text and a newline to the wt_buf arg. */
static int
collect(struct wt_rec *r, void *arg)
{
	struct wt_buf *b = arg;

	wt_buf_add(b, r->line, r->len);
	wt_buf_addc(b, '\n');
	return 0;
}

/* The ids of the records, space-separated, in a new string. */
static int
collect_id(struct wt_rec *r, void *arg)
{
	struct wt_buf *b = arg;
	char *id = wt_rec_str(r, "id");

	if (b->len)
		wt_buf_addc(b, ' ');
	wt_buf_adds(b, id ? id : "?");
	free(id);
	return 0;
}

static char *
each(const struct wt_registry *reg)
{
	struct wt_buf b = WT_BUF_INIT;

	if (wt_registry_each(reg, collect, &b) < 0)
		wt_buf_adds(&b, "UNREADABLE");
	return wt_buf_detach(&b);
}

static char *
ids_by_status(const struct wt_registry *reg, const char *status, int *used)
{
	struct wt_buf b = WT_BUF_INIT;

	if (wt_registry_each_status(reg, status, collect_id, &b, used) < 0)
		wt_buf_adds(&b, "UNREADABLE");
	return wt_buf_detach(&b);
}

/* Opens the registry at path (NULL: resolved as the programs do). */
static int
open_reg(struct wt_registry *reg, const char *path)
{
	int rc;

	wt_config_load(&cfg);
	rc = wt_registry_open(reg, &cfg, path);
	wt_config_release(&cfg);
	return rc;
}

static void
test_open(void)
{
	struct wt_registry reg;
	char *s;

	setenv("WT_HOME", tpath("home"), 1);
	is_int(open_reg(&reg, NULL), 0, "no registry yet: 0");
	is_str(reg.path, tpath("home/registry.ndjson"), "the default is $WT_HOME/registry.ndjson");
	is_str(reg.dir, tpath("home"), "its directory");
	s = wt_registry_file(&reg, "idx");
	is_str(s, tpath("home/registry.idx"), "the index sits beside it as registry.idx");
	free(s);
	wt_registry_release(&reg);

	write_str(tpath("cfgfile"), "registry = /from/config.ndjson\n");
	setenv("WT_CONFIG", tpath("cfgfile"), 1);
	open_reg(&reg, NULL);
	is_str(reg.path, "/from/config.ndjson", "the config file's registry key");
	wt_registry_release(&reg);
	setenv("WT_REGISTRY", "/from/env.ndjson", 1);
	open_reg(&reg, NULL);
	is_str(reg.path, "/from/env.ndjson", "WT_REGISTRY overrides the config file");
	wt_registry_release(&reg);
	write_str(tpath("mine.ndjson"), "");
	is_int(open_reg(&reg, tpath("mine.ndjson")), 1, "-r names an existing file: 1");
	is_str(reg.path, tpath("mine.ndjson"), "-r overrides WT_REGISTRY");
	s = wt_registry_file(&reg, "idx");
	is_str(s, tpath("mine.ndjson.idx"), "another name gets the suffix: mine.ndjson.idx");
	free(s);
	wt_registry_release(&reg);
	unsetenv("WT_REGISTRY");
	unsetenv("WT_CONFIG");
	mkdir(tpath("adir"), 0755);
	is_int(open_reg(&reg, tpath("adir")), -1, "a directory is unreadable: -1");
	wt_registry_release(&reg);
}

static void
test_each(void)
{
	struct wt_registry reg;
	struct wt_buf want = WT_BUF_INIT;
	char *got;
	const char *text =
		"{\"id\":\"a\",\"path\":\"/a\", \"x\" : [1,{\"y\":\"\\u00e9\"}] ,\"z\":1.50}\n"
		"\n"
		"{\"id\":\"b\",\"path\":\"/b\"}\r\n"
		"{\"id\":\"c\",\"path\":\n"
		"{\"id\":\"d\",\"path\":\"/d\"}";

	write_str(tpath("each.ndjson"), text);
	open_reg(&reg, tpath("each.ndjson"));
	ok(!reg.moai, "an NDJSON registry is not taken for a MoAI file");
	stderr_begin();
	got = each(&reg);
	free(stderr_end());
	wt_buf_addf(&want,
		    "{\"id\":\"a\",\"path\":\"/a\", \"x\" : [1,{\"y\":\"\\u00e9\"}] ,\"z\":1.50}\n"
		    "{\"id\":\"b\",\"path\":\"/b\"}\n"
		    "{\"error\":{\"kind\":\"RegistryError\",\"message\":\"registry line 4: "
		    "unexpected end\",\"tool\":\"unit\",\"context\":{\"registry_path\":\"%s\","
		    "\"operation\":\"read\",\"line\":4}}}\n"
		    "{\"id\":\"d\",\"path\":\"/d\"}\n",
		    tpath("each.ndjson"));
	is_str(got, want.s,
	       "records stream byte for byte; a bad line is a RegistryError naming its line");
	free(got);
	wt_buf_release(&want);
	wt_registry_release(&reg);
}

static int
stop_after_two(struct wt_rec *r, void *arg)
{
	(void)r;
	return ++*(int *)arg == 2;
}

/* Bytes this process has read so far (rchar in /proc/self/io), or -1. */
static long long
rchar(void)
{
	FILE *f = fopen("/proc/self/io", "r");
	long long v = -1;
	char line[128];

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "rchar: %lld", &v) == 1)
			break;
	fclose(f);
	return v;
}

struct first {
	long long start, at_first;
	long n;
};

static int
note_first(struct wt_rec *r, void *arg)
{
	struct first *f = arg;

	(void)r;
	if (f->n++ == 0)
		f->at_first = rchar() - f->start;
	return 0;
}

static void
test_streaming(void)
{
	struct wt_registry reg;
	struct first f = { 0, 0, 0 };
	struct rusage ru;
	long before;
	FILE *out = fopen(tpath("big.ndjson"), "w");
	int i, n = 0;

	for (i = 0; i < 100000; i++)
		fprintf(out, "{\"id\":\"w%06d\",\"path\":\"/srv/w/%06d\",\"status\":\"active\","
			     "\"last_accessed\":\"2026-01-01T00:00:00Z\",\"pad\":\"%040d\"}\n",
			i, i, i);
	fclose(out);
	open_reg(&reg, tpath("big.ndjson"));
	wt_registry_each(&reg, stop_after_two, &n);
	is_int(n, 2, "a callback returning nonzero stops the stream");

	getrusage(RUSAGE_SELF, &ru);
	before = ru.ru_maxrss;
	f.start = rchar();
	wt_registry_each(&reg, note_first, &f);
	getrusage(RUSAGE_SELF, &ru);
	is_int(f.n, 100000, "100000 records streamed");
	if (f.start < 0)
		skip(1, "no /proc/self/io");
	else
		ok(f.at_first < 1024 * 1024,
		   "the first record came out after reading %lld bytes of a 14 MB file",
		   f.at_first);
	ok(ru.ru_maxrss - before < 8 * 1024,
	   "reading the whole file grew the peak RSS by %ld KiB (under 8 MiB)",
	   ru.ru_maxrss - before);
	wt_registry_release(&reg);
}

static void
test_long_first_record(void)
{
	struct wt_registry reg;
	struct wt_buf b = WT_BUF_INIT;
	char *got;
	int i;

	wt_buf_adds(&b, "{\"id\":\"A\",\"path\":\"/a\",\"notes\":\"");
	for (i = 0; i < 5000; i++)
		wt_buf_addc(&b, 'n');
	wt_buf_adds(&b, "\"}\n{\"id\":\"B\",\"path\":\"/b\"}\n");
	write_str(tpath("long.ndjson"), b.s);
	open_reg(&reg, tpath("long.ndjson"));
	ok(!reg.moai, "an NDJSON registry whose first record is over 4 KiB is still NDJSON");
	stderr_begin();
	got = each(&reg);
	free(stderr_end());
	is_str(got, b.s, "and reads back byte for byte");
	free(got);
	wt_registry_release(&reg);
	wt_buf_release(&b);
}

static const char moai_file[] =
	"{\n"
	"  \"SPEC-001\": {\n"
	"    \"spec_id\": \"SPEC-001\",\n"
	"    \"path\": \"/w/SPEC-001\",\n"
	"    \"branch\": \"feature/SPEC-001\",\n"
	"    \"created_at\": \"2026-01-06T10:00:00.123456Z\",\n"
	"    \"last_accessed\": \"2026-01-07T11:30:00Z\",\n"
	"    \"status\": \"active\",\n"
	"    \"project_name\": \"demo\",\n"
	"    \"x_note\": {\"k\": [1, 2]}\n"
	"  },\n"
	"  \"SPEC-002\": [\n"
	"    {\n"
	"      \"spec_id\": \"SPEC-002\",\n"
	"      \"path\": \"/w/alpha/SPEC-002\",\n"
	"      \"branch\": \"feature/SPEC-002\",\n"
	"      \"created_at\": \"2026-02-01T09:00:00Z\",\n"
	"      \"last_accessed\": \"2026-02-02T09:00:00Z\",\n"
	"      \"status\": \"merged\",\n"
	"      \"project_name\": \"alpha\"\n"
	"    },\n"
	"    {\n"
	"      \"spec_id\": \"SPEC-002\",\n"
	"      \"path\": \"/w/beta/SPEC-002\",\n"
	"      \"branch\": null,\n"
	"      \"created_at\": \"2026-07-01T09:00:00Z\",\n"
	"      \"last_accessed\": \"not a time\",\n"
	"      \"status\": \"stale\",\n"
	"      \"project_name\": \"beta\"\n"
	"    }\n"
	"  ],\n"
	"  \"SPEC-003\": [\n"
	"    {\"spec_id\": \"SPEC-003\", \"path\": \"/w/SPEC-003\", \"status\": \"active\"}\n"
	"  ],\n"
	"  \"SPEC-000\": {\"path\": \"/w/zero\", \"status\": \"paused\"}\n"
	"}\n";

/* The records of moai_file read with TZ=EST5EDT: local times with a Z made UTC. */
static const char moai_records[] =
	"{\"id\":\"SPEC-000\",\"path\":\"/w/zero\",\"status\":\"paused\"}\n"
	"{\"id\":\"SPEC-001\",\"path\":\"/w/SPEC-001\",\"branch\":\"feature/SPEC-001\","
	"\"created_at\":\"2026-01-06T15:00:00Z\",\"last_accessed\":\"2026-01-07T16:30:00Z\","
	"\"status\":\"active\",\"project\":\"demo\",\"x_note\":{\"k\": [1, 2]}}\n"
	"{\"id\":\"SPEC-002@alpha\",\"path\":\"/w/alpha/SPEC-002\",\"branch\":\"feature/SPEC-002\","
	"\"created_at\":\"2026-02-01T14:00:00Z\",\"last_accessed\":\"2026-02-02T14:00:00Z\","
	"\"status\":\"merged\",\"project\":\"alpha\"}\n"
	"{\"id\":\"SPEC-002@beta\",\"path\":\"/w/beta/SPEC-002\",\"branch\":null,"
	"\"created_at\":\"2026-07-01T13:00:00Z\",\"last_accessed\":\"not a time\","
	"\"status\":\"stale\",\"project\":\"beta\"}\n"
	"{\"id\":\"SPEC-003\",\"path\":\"/w/SPEC-003\",\"status\":\"active\"}\n";

static void
test_moai(void)
{
	struct wt_registry reg;
	struct wt_rec r = WT_REC_INIT;
	char *got, *s;
	int used = -1;

	setenv("TZ", "EST5EDT,M3.2.0,M11.1.0", 1);
	tzset();
	write_str(tpath(".moai-worktree-registry.json"), moai_file);
	is_int(open_reg(&reg, tpath(".moai-worktree-registry.json")), 1, "a MoAI file opens");
	ok(reg.moai, "and is detected as one");
	got = each(&reg);
	is_str(got, moai_records,
	       "entries and lists of entries become records sorted by id: spec_id is id, "
	       "project_name is project, local times with a Z are UTC, other fields carried");
	free(got);

	is_int(wt_registry_find(&reg, "SPEC-002@beta", &r, &used), 1,
	       "find in a MoAI file by the id it was given");
	s = wt_rec_str(&r, "path");
	is_str(s, "/w/beta/SPEC-002", "the right entry");
	free(s);
	is_int(used, 0, "by a scan: a MoAI file has no index");
	got = ids_by_status(&reg, "active", &used);
	is_str(got, "SPEC-001 SPEC-003", "status query on a MoAI file");
	free(got);
	wt_registry_release(&reg);

	write_str(tpath("compact.json"),
		  "{\"S-1\":{\"spec_id\":\"S-1\",\"path\":\"/w/1\","
		  "\"created_at\":\"2026-01-06T10:00:00Z\"}}");
	open_reg(&reg, tpath("compact.json"));
	got = each(&reg);
	ok(reg.moai, "a MoAI file on one line is detected too");
	is_str(got, "{\"id\":\"S-1\",\"path\":\"/w/1\",\"created_at\":\"2026-01-06T15:00:00Z\"}\n",
	       "and read");
	free(got);
	wt_registry_release(&reg);

	/* Ids are unique in a registry: repeats are numbered in file order. */
	write_str(tpath("dups.json"),
		  "{\n"
		  "  \"SPEC-012\": {\"path\": \"/x\"},\n"
		  "  \"SPEC-010\": [{\"path\": \"/w/a\"}, {\"path\": \"/w/b\"}],\n"
		  "  \"SPEC-011\": [{\"path\": \"/p1\", \"project_name\": \"p\"},\n"
		  "               {\"path\": \"/p2\", \"project_name\": \"p\"}],\n"
		  "  \"SPEC-013\": {\"spec_id\": \"SPEC-012\", \"path\": \"/y\"},\n"
		  "  \"SPEC-014\": {\"spec_id\": \"SPEC-012\", \"path\": \"/z\"},\n"
		  "  \"version\": 2\n"
		  "}\n");
	open_reg(&reg, tpath("dups.json"));
	got = each(&reg);
	is_str(got,
	       "{\"id\":\"SPEC-010#1\",\"path\":\"/w/a\"}\n"
	       "{\"id\":\"SPEC-010#2\",\"path\":\"/w/b\"}\n"
	       "{\"id\":\"SPEC-011@p\",\"path\":\"/p1\",\"project\":\"p\"}\n"
	       "{\"id\":\"SPEC-011@p#2\",\"path\":\"/p2\",\"project\":\"p\"}\n"
	       "{\"id\":\"SPEC-012\",\"path\":\"/x\"}\n"
	       "{\"id\":\"SPEC-012#2\",\"path\":\"/y\"}\n"
	       "{\"id\":\"SPEC-012#3\",\"path\":\"/z\"}\n",
	       "entries of a list without a project are numbered; repeated ids get #2, #3 "
	       "in the order of the file; a value that is no entry is skipped");
	free(got);
	wt_registry_release(&reg);

	write_str(tpath("broken.json"), "{\n  \"S-1\": {\"path\": \n");
	open_reg(&reg, tpath("broken.json"));
	stderr_begin();
	got = each(&reg);
	free(stderr_end());
	ok(reg.moai && has(got, "\"kind\":\"RegistryError\"") && has(got, "MoAI registry"),
	   "a broken MoAI file is one RegistryError record");
	free(got);
	wt_registry_release(&reg);
	wt_rec_release(&r);
}

static int
put_each(struct wt_rec *r, void *arg)
{
	return wt_batch_put(arg, r) < 0;
}

static void
test_import(void)
{
	struct wt_registry moai, reg;
	struct wt_batch *b;
	struct wt_rec r = WT_REC_INIT;
	char *got, *s;
	int used = -1;

	open_reg(&moai, tpath(".moai-worktree-registry.json"));
	setenv("WT_HOME", tpath("import"), 1);
	open_reg(&reg, NULL);
	b = wt_batch_open(&reg);
	ok(b && wt_moai_each(moai.path, put_each, b) == 0, "the MoAI records go into a batch");
	is_int(wt_batch_commit(b, 5), 5, "and commit as 5 patches");
	got = each(&reg);
	is_str(got, moai_records, "the NDJSON registry reads back the same records, sorted");
	free(got);
	ok(wt_registry_index_valid(&reg), "the commit left a valid index");
	is_int(wt_registry_find(&reg, "SPEC-002@alpha", &r, &used), 1, "find an imported id");
	is_int(used, 1, "through the index");
	s = wt_rec_str(&r, "project");
	is_str(s, "alpha", "the right record");
	free(s);
	wt_registry_release(&reg);
	wt_registry_release(&moai);
	wt_rec_release(&r);
	setenv("TZ", "UTC", 1);
	tzset();
}

static const char *const statuses[] = { "active", "merged", "stale", "r\xc3\xa9\"x" };

/* A registry of n records written through a batch (so it has an index). */
static void
make_registry(struct wt_registry *reg, const char *home, int n)
{
	struct wt_batch *b;
	struct wt_rec r = WT_REC_INIT;
	char id[32];
	int i;

	setenv("WT_HOME", tpath(home), 1);
	open_reg(reg, NULL);
	b = wt_batch_open(reg);
	for (i = 0; i < n; i++) {
		snprintf(id, sizeof(id), "W-%05d", i);
		wt_rec_clear(&r);
		wt_rec_set_str(&r, "id", id);
		wt_rec_set_str(&r, "path", "/srv/w");
		wt_rec_set_str(&r, "status", statuses[i % 4]);
		wt_batch_put(b, &r);
	}
	wt_rec_clear(&r);
	wt_rec_set_str(&r, "id", "q\"uote\\d \xc3\xa9");
	wt_rec_set_str(&r, "path", "/srv/q");
	wt_batch_put(b, &r);
	wt_batch_commit(b, 5);
	wt_rec_release(&r);
}

/* The ids W-xxxxx with i % 4 == k among the first n, in order. */
static char *
expect_ids(int n, int k)
{
	struct wt_buf b = WT_BUF_INIT;
	int i;

	for (i = k; i < n; i += 4)
		wt_buf_addf(&b, "%sW-%05d", b.len ? " " : "", i);
	return wt_buf_detach(&b);
}

static void
test_index(void)
{
	struct wt_registry reg;
	struct wt_rec r = WT_REC_INIT;
	char id[32], *got, *want, *s;
	int i, used, found = 0, via = 0, right = 0;

	make_registry(&reg, "idx", 2000);
	ok(wt_registry_index_valid(&reg), "a committed registry has a valid index");
	for (i = 0; i < 2000; i++) {
		snprintf(id, sizeof(id), "W-%05d", i);
		used = 0;
		if (wt_registry_find(&reg, id, &r, &used) == 1)
			found++;
		via += used;
		s = wt_rec_str(&r, "id");
		right += s && strcmp(s, id) == 0;
		free(s);
	}
	ok(found == 2000 && via == 2000 && right == 2000,
	   "all 2000 ids found through the index, each the right record (%d, %d, %d)", found,
	   via, right);
	is_int(wt_registry_find(&reg, "W-99999", &r, &used), 0, "an absent id: 0");
	is_int(used, 1, "answered by the index");
	is_int(wt_registry_find(&reg, "q\"uote\\d \xc3\xa9", &r, &used), 1,
	       "an id with a quote, a backslash and non-ASCII is found");
	is_int(used, 1, "through the index");

	got = ids_by_status(&reg, "merged", &used);
	want = expect_ids(2000, 1);
	is_str(got, want, "status query: the merged records, in registry order");
	is_int(used, 1, "through the index");
	free(got);
	free(want);
	got = ids_by_status(&reg, statuses[3], &used);
	want = expect_ids(2000, 3);
	is_str(got, want, "a status with a quote and non-ASCII");
	ok(used == 1, "through the index");
	free(got);
	free(want);
	got = ids_by_status(&reg, "archived", &used);
	ok(strcmp(got, "") == 0 && used == 1, "a status no record has: nothing, from the index");
	free(got);
	wt_registry_release(&reg);
	wt_rec_release(&r);
}

/* Overwrites len bytes at the first occurrence of what in the file, in place. */
/*
 * A second on from the file's mtime: an edit made later than the index, as a
 * person's would be, whatever the file system's timestamp granularity.
 */
static void
later(const char *path)
{
	struct stat st;
	struct timespec t[2];

	if (stat(path, &st) < 0) {
		printf("# cannot stat %s\n", path);
		exit(2);
	}
	t[0] = st.st_atim;
	t[1] = st.st_mtim;
	t[1].tv_sec++;
	if (utimensat(AT_FDCWD, path, t, 0) < 0) {
		printf("# cannot set the times of %s\n", path);
		exit(2);
	}
}

static void
edit_in_place(const char *path, const char *what, const char *with)
{
	char *s = read_file(path, NULL), *at = s ? strstr(s, what) : NULL;
	int fd = open(path, O_WRONLY);

	if (!at || fd < 0 ||
	    pwrite(fd, with, strlen(with), at - s) != (ssize_t)strlen(with)) {
		printf("# cannot edit %s\n", path);
		exit(2);
	}
	close(fd);
	free(s);
}

static void
test_stale_index(void)
{
	struct wt_registry reg;
	struct wt_rec r = WT_REC_INIT;
	char *got, *s;
	int used = -1;
	FILE *f;

	make_registry(&reg, "stale", 12);
	ok(wt_registry_index_valid(&reg), "fresh index");
	edit_in_place(reg.path, "\"id\":\"W-00000\",\"path\":\"/srv/w\",\"status\":\"active\"",
		      "\"id\":\"W-00000\",\"path\":\"/srv/w\",\"status\":\"merged\"");
	later(reg.path);
	ok(!wt_registry_index_valid(&reg), "edited by hand in place, same size: the index is stale");
	got = ids_by_status(&reg, "merged", &used);
	is_str(got, "W-00000 W-00001 W-00005 W-00009", "the status query sees the edit");
	is_int(used, 0, "by a scan, the stale index ignored");
	free(got);
	got = ids_by_status(&reg, "active", &used);
	is_str(got, "W-00004 W-00008", "and the record left the old status");
	free(got);

	f = fopen(reg.path, "a");
	fputs("{\"id\":\"Z-late\",\"path\":\"/z\",\"status\":\"active\"}\n", f);
	fclose(f);
	later(reg.path);
	ok(wt_registry_find(&reg, "Z-late", &r, &used) == 1 && used == 0,
	   "a record appended by hand is found, by a scan");

	s = read_file(reg.path, NULL);
	*strchr(s, '\n') = '\0';
	write_str(tpath("stale/new"), strchr(s, '\0') + 1);
	rename(tpath("stale/new"), reg.path);
	free(s);
	ok(wt_registry_find(&reg, "W-00000", &r, &used) == 0 && used == 0,
	   "a registry replaced by rename: the removed id is absent, by a scan");
	ok(wt_registry_find(&reg, "W-00011", &r, &used) == 1 && used == 0,
	   "and the others found");

	is_int(wt_registry_reindex(&reg, 5), 0, "reindex");
	ok(wt_registry_find(&reg, "Z-late", &r, &used) == 1 && used == 1,
	   "after reindexing, the index answers again");
	got = ids_by_status(&reg, "active", &used);
	ok(strcmp(got, "W-00004 W-00008 Z-late") == 0 && used == 1,
	   "status query from the new index (%s)", got);
	free(got);

	s = wt_registry_file(&reg, "idx");
	write_str(s, "garbage, not an index at all, but long enough for a header ..........."
		     "........................................................................");
	free(s);
	ok(!wt_registry_index_valid(&reg) && wt_registry_find(&reg, "Z-late", &r, &used) == 1 &&
	   used == 0, "a corrupt index is ignored");
	wt_registry_release(&reg);
	wt_rec_release(&r);
}

static void
test_index_bad_line(void)
{
	struct wt_registry reg;
	char *scan, *via;
	int used = -1;

	write_str(tpath("badline.ndjson"),
		  "{\"id\":\"a\",\"status\":\"active\"}\n{\"id\":\"b\",\"status\":\n"
		  "{\"id\":\"c\",\"status\":\"active\"}\n");
	open_reg(&reg, tpath("badline.ndjson"));
	stderr_begin();
	scan = ids_by_status(&reg, "active", &used);
	ok(used == 0 && strcmp(scan, "a ? c") == 0,
	   "a scan by status reports the unreadable line as an error record (%s)", scan);
	wt_registry_reindex(&reg, 5);
	via = ids_by_status(&reg, "active", &used);
	free(stderr_end());
	is_str(via, scan, "so does a status query once the registry has an index");
	free(scan);
	free(via);
	wt_registry_release(&reg);
}

/* "Is this the registry's record of this worktree?": id, path and repository. */
static void
test_record_of(void)
{
	struct wt_registry reg;
	struct wt_rec r = WT_REC_INIT;
	struct wt_buf text = WT_BUF_INIT;
	char *top = wt_xstrdup(tpath("ro-top")), *link = wt_xstrdup(tpath("ro-link"));
	char *regpath = wt_xstrdup(tpath("ro.ndjson"));

	mkdir(top, 0755);
	if (symlink(top, link) < 0)
		perror("symlink");
	wt_buf_addf(&text, "{\"id\":\"same\",\"path\":\"%s\",\"repo\":\"/r/.git\"}\n"
		    "{\"id\":\"linked\",\"path\":\"%s\"}\n"
		    "{\"id\":\"moved\",\"path\":\"/elsewhere\",\"repo\":\"/r/.git\"}\n"
		    "{\"id\":\"otherrepo\",\"path\":\"%s\",\"repo\":\"/q/.git\"}\n",
		    top, link, top);
	write_str(regpath, text.s);
	open_reg(&reg, regpath);
	is_int(wt_registry_record_of(&reg, "same", top, "/r/.git", &r), WT_REG_SAME,
	       "the record with the id, path and repository is the worktree's");
	is_int(wt_registry_record_of(&reg, "linked", top, "/r/.git", &r), WT_REG_SAME,
	       "a path that resolves to the top is too; no repo field is no conflict");
	is_int(wt_registry_record_of(&reg, "moved", top, "/r/.git", &r), WT_REG_OTHER,
	       "the same id at another path is another worktree");
	is_int(wt_registry_record_of(&reg, "otherrepo", top, "/r/.git", &r), WT_REG_OTHER,
	       "the same path in another repository is too");
	is_int(wt_registry_record_of(&reg, "absent", top, "/r/.git", &r), WT_REG_NONE,
	       "an id the registry lacks is none");
	is_int(wt_registry_record_of(&reg, NULL, top, "/r/.git", &r), WT_REG_NONE,
	       "no id is none");
	wt_registry_release(&reg);
	open_reg(&reg, tpath("ro-missing.ndjson"));
	is_int(wt_registry_record_of(&reg, "same", top, "/r/.git", &r), WT_REG_NONE,
	       "no registry file is none");
	wt_registry_release(&reg);
	wt_rec_release(&r);
	wt_buf_release(&text);
	free(top);
	free(link);
	free(regpath);
}

int
main(void)
{
	wt_setprogname("unit");
	clean_env();
	test_open();
	test_each();
	test_streaming();
	test_long_first_record();
	test_moai();
	test_import();
	test_index();
	test_stale_index();
	test_index_bad_line();
	test_record_of();
	return done_testing();
}
