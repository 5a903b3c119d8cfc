/* batch.c: batched registry writes: semantics, crashes, locks, parallel writers. */
#include <pthread.h>
#include <sys/time.h>

#include "wt.h"
#include "tap.h"

static struct wt_registry reg;

/* A fresh registry in the scratch directory's home/, holding text (NULL: none). */
static void
fresh(const char *home, const char *text)
{
	struct wt_config c;

	wt_registry_release(&reg);
	setenv("WT_HOME", tpath(home), 1);
	wt_config_load(&c);
	wt_registry_open(&reg, &c, NULL);
	wt_config_release(&c);
	if (text) {
		mkdir(reg.dir, 0700);
		write_str(reg.path, text);
	}
}

static char *
file(const char *name)
{
	char *p = wt_registry_file(&reg, name), *s = read_file(p, NULL);

	free(p);
	return s;
}

static char *
content(void)
{
	return read_file(reg.path, NULL);
}

static struct wt_rec *
rec(const char *text)
{
	static struct wt_rec r = WT_REC_INIT;

	if (wt_rec_parse(&r, text, strlen(text), NULL) < 0) {
		printf("# bad record %s\n", text);
		exit(2);
	}
	return &r;
}

static const char seed[] =
	"{\"id\":\"a\",\"path\":\"/a\",\"status\":\"active\", \"x-u\" : [1, {\"k\":\"\\u00e9\"}] ,\"n\":1.50}\n"
	"{\"id\":\"b\",\"path\":\"/b\",\"status\":\"active\",\"gone\":1}\n"
	"{\"id\":\"d\",\"path\":\"/d\"}\n";

static void
test_semantics(void)
{
	struct wt_batch *b;
	char *got, *s;
	int n;

	fresh("sem", seed);
	b = wt_batch_open(&reg);
	ok(b != NULL, "open a batch");
	n = !wt_batch_set(b, "a", "{\"status\":\"merged\",\"new\":{\"z\":true}}") +
	    !wt_batch_set_del(b, "b", "{\"status\":\"stale\"}",
			      (const char *const[]){ "gone", "absent", NULL }) +
	    !wt_batch_set(b, "c", "{\"status\":\"x\"}") +
	    !wt_batch_put(b, rec("{\"id\":\"c\",\"path\":\"/c\"}")) +
	    !wt_batch_put(b, rec("{\"id\":\"0\",\"path\":\"/0\"}")) +
	    !wt_batch_put(b, rec("{\"id\":\"z\",\"path\":\"/z\", \"keep\" : \"me\"}")) +
	    !wt_batch_del(b, "d");
	is_int(n, 7, "seven patches journaled");
	s = file("journal");
	ok(s && strlen(s) > 0 && s[strlen(s) - 1] == '\n', "the journal holds them before the commit");
	free(s);
	got = content();
	is_str(got, seed, "and the registry is untouched until the commit");
	free(got);
	is_int(wt_batch_commit(b, 5), 7, "commit applies 7 patches");
	got = content();
	is_str(got,
	       "{\"id\":\"0\",\"path\":\"/0\"}\n"
	       "{\"id\":\"a\",\"path\":\"/a\",\"status\":\"merged\", \"x-u\" : [1, {\"k\":\"\\u00e9\"}] ,\"n\":1.50,\"new\":{\"z\":true}}\n"
	       "{\"id\":\"b\",\"path\":\"/b\",\"status\":\"stale\"}\n"
	       "{\"id\":\"c\",\"path\":\"/c\"}\n"
	       "{\"id\":\"z\",\"path\":\"/z\", \"keep\" : \"me\"}\n",
	       "set replaces and appends fields, del removes one, set of an absent id does "
	       "nothing, put inserts in id order, del removes; other bytes kept");
	free(got);
	got = file("bak");
	is_str(got, seed, "registry.ndjson.bak keeps the previous generation");
	free(got);
	s = wt_registry_file(&reg, "bak");
	is_str(s, tpath("sem/registry.ndjson.bak"), "by that name");
	free(s);
	got = file("journal");
	is_str(got, "", "the journal is empty after the commit");
	free(got);
	ok(wt_registry_index_valid(&reg), "and the index matches the new registry");

	b = wt_batch_open(&reg);
	wt_batch_set(b, "a", "{\"v\":1}");
	wt_batch_set(b, "a", "{\"v\":2}");
	wt_batch_del(b, "a");
	wt_batch_set(b, "a", "{\"lost\":1}");
	wt_batch_put(b, rec("{\"id\":\"a\",\"p\":1}"));
	wt_batch_set(b, "a", "{\"q\":2}");
	wt_batch_put(b, rec("{\"id\":\"b\",\"whole\":true}"));
	wt_batch_del(b, "c");
	wt_batch_set(b, "c", "{\"back\":1}");
	wt_batch_del(b, "nobody");
	is_int(wt_batch_commit(b, 5), 10, "a second commit of 10 patches");
	got = content();
	is_str(got,
	       "{\"id\":\"0\",\"path\":\"/0\"}\n"
	       "{\"id\":\"a\",\"p\":1,\"q\":2}\n"
	       "{\"id\":\"b\",\"whole\":true}\n"
	       "{\"id\":\"z\",\"path\":\"/z\", \"keep\" : \"me\"}\n",
	       "patches of one id apply in order; put replaces the whole record; set after "
	       "del does not bring it back; del of an absent id is nothing");
	free(got);
	got = file("bak");
	ok(got && strncmp(got, "{\"id\":\"0\",\"path\":\"/0\"}\n{\"id\":\"a\",\"path\":\"/a\",\"status\":\"merged\"", 60) == 0,
	   ".bak is now the first commit's registry");
	free(got);

	b = wt_batch_open(&reg);
	errno = 0;
	ok(wt_batch_set(b, "a", "{\"x\":") < 0 && errno == EINVAL, "set with invalid JSON: EINVAL");
	ok(wt_batch_set(b, "a", "[1]") < 0, "set with an array: refused");
	ok(wt_batch_put(b, rec("{\"path\":\"/no-id\"}")) < 0, "put without an id: refused");
	is_int(wt_batch_commit(b, 5), 0, "a commit with nothing journaled applies nothing");
	got = content();
	ok(got && strncmp(got, "{\"id\":\"0\"", 9) == 0, "and leaves the registry");
	free(got);
}

/* null is a value; del removes; a journal from before del still removes its nulls. */
static void
test_null(void)
{
	struct wt_batch *b;
	char *got, *j, *old;

	fresh("null", "{\"id\":\"a\",\"branch\":\"x\",\"k\":1,\"gone\":2}\n"
		      "{\"id\":\"b\",\"branch\":\"y\",\"old\":1}\n");
	b = wt_batch_open(&reg);
	ok(wt_batch_set_del(b, "a", "{\"branch\":null}", (const char *const[]){ "gone", NULL }) == 0,
	   "set_del journals");
	got = file("journal");
	ok(got && strstr(got, "\"del\":[\"gone\"]"), "the patch names what it removes");
	free(got);
	wt_batch_abandon(b);
	/* A line as the code before del wrote it: its null removed the field. */
	j = wt_registry_file(&reg, "journal");
	got = read_file(j, NULL);
	old = wt_xmalloc(strlen(got) + 128);
	strcpy(old, got);
	strcat(old, "{\"op\":\"set\",\"id\":\"b\",\"fields\":{\"old\":null,\"branch\":\"z\"}}\n");
	write_str(j, old);
	free(old);
	free(got);
	free(j);
	b = wt_batch_open(&reg);
	ok(wt_batch_set(b, "b", "{\"n\":null}") == 0, "set with a null journals");
	is_int(wt_batch_commit(b, 5), 3, "commit applies the three");
	got = content();
	is_str(got, "{\"id\":\"a\",\"branch\":null,\"k\":1}\n"
		    "{\"id\":\"b\",\"branch\":\"z\",\"n\":null}\n",
	       "null is set as null, del removes, an old journal's null still removes");
	free(got);
}

static void
test_odd(void)
{
	struct wt_batch *b;
	char *got;

	fresh("new/deeper", NULL);
	b = wt_batch_open(&reg);
	ok(b && wt_batch_put(b, rec("{\"id\":\"q\\\"uote\\\\\",\"path\":\"/\\u00e9\"}")) == 0 &&
	   wt_batch_set(b, "q\"uote\\", "{\"s\":1}") == 0 && wt_batch_commit(b, 5) == 2,
	   "the first write makes the directory and the registry");
	got = content();
	is_str(got, "{\"id\":\"q\\\"uote\\\\\",\"path\":\"/\\u00e9\",\"s\":1}\n",
	       "an id with a quote and a backslash: put, then set by its text");
	free(got);

	fresh("keep", "{\"id\":\"a\",\"path\":\"/a\"}\nnot a record\n{\"id\":\"c\",\"path\":\"/c\"}\n");
	b = wt_batch_open(&reg);
	wt_batch_set(b, "c", "{\"x\":1}");
	/* Another program changes the registry between our read and our commit. */
	write_str(reg.path, "{\"id\":\"a\",\"path\":\"/a\"}\nnot a record\n"
			    "{\"id\":\"b\",\"path\":\"/b\"}\n{\"id\":\"c\",\"path\":\"/c\"}\n");
	stderr_begin();
	wt_batch_commit(b, 5);
	free(stderr_end());
	got = content();
	is_str(got, "{\"id\":\"a\",\"path\":\"/a\"}\nnot a record\n{\"id\":\"b\",\"path\":\"/b\"}\n"
		    "{\"id\":\"c\",\"path\":\"/c\",\"x\":1}\n",
	       "patches apply to the registry as it is at commit time; a line that is no "
	       "record is kept as it is");
	free(got);
}

/* One writer of the parallel test: 50 rounds of a set on a shared id and a put. */
static void
writer(void *arg)
{
	int p = *(int *)arg, i;
	struct wt_batch *b;
	struct wt_rec r = WT_REC_INIT;
	char fields[64], id[32];

	for (i = 0; i < 50; i++) {
		if (!(b = wt_batch_open(&reg)))
			_exit(3);
		snprintf(fields, sizeof(fields), "{\"p%d_%02d\":%d}", p, i, i);
		snprintf(id, sizeof(id), "P%d-%02d", p, i);
		wt_rec_clear(&r);
		wt_rec_set_str(&r, "id", id);
		wt_rec_set_int(&r, "by", p);
		if (wt_batch_set(b, "shared", fields) < 0 || wt_batch_put(b, &r) < 0)
			_exit(4);
		/* Odd writers keep several patches in the journal before committing. */
		if ((p % 2 == 0 || i % 10 == 9) ? wt_batch_commit(b, 60) < 0 : (wt_batch_abandon(b), 0))
			_exit(5);
	}
	wt_rec_release(&r);
}

static void
test_parallel(void)
{
	struct wt_rec r = WT_REC_INIT;
	char name[32], *text, *line, *next, *s;
	pid_t pids[8];
	int p, st, fails = 0, fields = 0, puts = 0, sorted = 1, parsed = 1;
	char last[64] = "";

	fresh("par", "{\"id\":\"shared\",\"path\":\"/s\"}\n{\"id\":\"zz\",\"path\":\"/z\"}\n");
	fflush(stdout);
	for (p = 0; p < 8; p++)
		if ((pids[p] = fork()) == 0) {
			writer(&p);
			_exit(0);
		}
	for (p = 0; p < 8; p++) {
		waitpid(pids[p], &st, 0);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			fails++;
	}
	is_int(fails, 0, "8 writers of 50 rounds each all succeeded");
	text = content();
	for (line = text; line && *line; line = next) {
		next = strchr(line, '\n');
		*next++ = '\0';
		if (wt_rec_parse(&r, line, strlen(line), NULL) < 0) {
			parsed = 0;
			continue;
		}
		s = wt_rec_str(&r, "id");
		if (strcmp(last, s) >= 0)
			sorted = 0;
		snprintf(last, sizeof(last), "%s", s);
		if (s[0] == 'P')
			puts++;
		free(s);
	}
	ok(parsed && sorted, "the registry is whole and sorted by id");
	is_int(puts, 400, "all 400 records put by distinct writers are there");
	wt_registry_find(&reg, "shared", &r, NULL);
	for (p = 0; p < 8; p++)
		for (st = 0; st < 50; st++) {
			snprintf(name, sizeof(name), "p%d_%02d", p, st);
			fields += wt_rec_find(&r, name) >= 0;
		}
	is_int(fields, 400, "all 400 fields set on one shared id are there: no update lost");
	free(text);
	text = file("journal");
	is_str(text, "", "the journal is empty");
	free(text);
	ok(wt_registry_index_valid(&reg), "the index is valid");
	wt_rec_release(&r);
}

/* Journals two patches, then dies before committing. */
static void
crash(void *arg)
{
	struct wt_batch *b = wt_batch_open(&reg);

	(void)arg;
	if (!b || wt_batch_set(b, "a", "{\"killed\":true}") < 0 ||
	    wt_batch_put(b, rec("{\"id\":\"k\",\"path\":\"/k\"}")) < 0)
		_exit(3);
	kill(getpid(), SIGKILL);
}

static void
test_crash(void)
{
	struct wt_batch *b;
	char *got;
	int st;

	fresh("crash", "{\"id\":\"a\",\"path\":\"/a\"}\n{\"id\":\"x\",\"path\":\"/x\"}\n");
	st = run_child(crash, NULL, NULL);
	is_int(st, 128 + SIGKILL, "a writer killed with SIGKILL after its journal append");
	got = content();
	is_str(got, "{\"id\":\"a\",\"path\":\"/a\"}\n{\"id\":\"x\",\"path\":\"/x\"}\n",
	       "left the registry as it was");
	free(got);
	b = wt_batch_open(&reg);
	wt_batch_set(b, "x", "{\"after\":1}");
	is_int(wt_batch_commit(b, 5), 3, "the next writer applies its patch and the two left over");
	got = content();
	is_str(got, "{\"id\":\"a\",\"path\":\"/a\",\"killed\":true}\n{\"id\":\"k\",\"path\":\"/k\"}\n"
		    "{\"id\":\"x\",\"path\":\"/x\",\"after\":1}\n",
	       "nothing the killed writer journaled is lost");
	free(got);

	fresh("crash2", "{\"id\":\"a\",\"path\":\"/a\"}\n");
	run_child(crash, NULL, NULL);
	is_int(wt_registry_replay(&reg, 5), 2, "wt_registry_replay applies a leftover journal");
	got = content();
	is_str(got, "{\"id\":\"a\",\"path\":\"/a\",\"killed\":true}\n{\"id\":\"k\",\"path\":\"/k\"}\n",
	       "and the registry has both patches");
	free(got);
	is_int(wt_registry_replay(&reg, 5), 0, "a second replay finds nothing to do");
}

static void
test_torn(void)
{
	struct wt_batch *b;
	char *got, *err, *j;

	fresh("torn", "{\"id\":\"a\",\"path\":\"/a\"}\n");
	j = wt_registry_file(&reg, "journal");
	write_str(j, "{\"op\":\"set\",\"id\":\"a\",\"fields\":{\"ok\":1}}\n"
		     "{\"op\":\"set\",\"id\":\"a\",\"fields\":{\"torn\":tr");
	stderr_begin();
	is_int(wt_registry_replay(&reg, 5), 1, "a journal with a torn last line: the whole patch applies");
	err = stderr_end();
	got = content();
	is_str(got, "{\"id\":\"a\",\"path\":\"/a\",\"ok\":1}\n", "and the torn one is skipped");
	ok(has(err, "torn"), "with a warning (%s)", err);
	free(got);
	free(err);

	/* The writer that died mid-line left no newline: the next append must not join it. */
	write_str(j, "{\"op\":\"set\",\"id\":\"a\",\"fields\":{\"torn\":tr");
	b = wt_batch_open(&reg);
	wt_batch_set(b, "a", "{\"after\":2}");
	stderr_begin();
	wt_batch_commit(b, 5);
	free(stderr_end());
	got = content();
	is_str(got, "{\"id\":\"a\",\"path\":\"/a\",\"ok\":1,\"after\":2}\n",
	       "a patch journaled after a torn line is applied, not lost with it");
	free(got);
	free(j);
}

static int lock_go[2], lock_release[2];

static void
holder(void *arg)
{
	char c;
	int fd = wt_registry_lock(&reg, 5);

	(void)arg;
	if (fd < 0)
		_exit(3);
	if (write(lock_go[1], "x", 1) != 1)
		_exit(4);
	/* Hold the lock until the parent closes its end. */
	while (read(lock_release[0], &c, 1) > 0)
		;
}

static double
now_s(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (double)tv.tv_sec + tv.tv_usec / 1e6;
}

static void
test_lock(void)
{
	struct wt_batch *b;
	double t;
	char *err, *got, c;
	pid_t pid;
	int st, rc;

	fresh("lock", "{\"id\":\"a\",\"path\":\"/a\"}\n");
	if (pipe(lock_go) < 0 || pipe(lock_release) < 0)
		exit(2);
	fflush(stdout);
	if ((pid = fork()) == 0) {
		close(lock_release[1]);
		holder(NULL);
		_exit(0);
	}
	close(lock_release[0]);
	if (read(lock_go[0], &c, 1) != 1)
		exit(2);

	b = wt_batch_open(&reg);
	wt_batch_set(b, "a", "{\"waited\":true}");
	stderr_begin();
	t = now_s();
	rc = wt_batch_commit(b, 0.3);
	t = now_s() - t;
	err = stderr_end();
	is_int(rc, -1, "commit while another process holds the lock fails");
	ok(t >= 0.29 && t < 2, "after the timeout, 0.3 s (took %.2f s)", t);
	ok(has(err, "cannot lock"), "saying so (%s)", err);
	free(err);
	got = file("journal");
	ok(got && has(got, "waited"), "the patch stays in the journal");
	free(got);
	stderr_begin();
	t = now_s();
	rc = wt_registry_lock(&reg, 0);
	t = now_s() - t;
	err = stderr_end();
	ok(rc < 0 && t < 0.1 && strcmp(err, "") == 0, "a try with timeout 0 fails at once, quietly");
	free(err);

	close(lock_release[1]);
	waitpid(pid, &st, 0);
	is_int(wt_registry_replay(&reg, 5), 1, "once the lock is free, a replay applies the patch");
	got = content();
	is_str(got, "{\"id\":\"a\",\"path\":\"/a\",\"waited\":true}\n", "the registry has it");
	free(got);
}

/* Pool workers share one batch: threads patching at once lose nothing. */
struct thread_arg {
	struct wt_batch *b;
	int t;
};

static void *
patcher(void *arg)
{
	struct thread_arg *a = arg;
	char fields[64];
	int i;

	for (i = 0; i < 100; i++) {
		snprintf(fields, sizeof(fields), "{\"t%d_%03d\":%d}", a->t, i, i);
		if (wt_batch_set(a->b, "shared", fields) < 0)
			return (void *)1;
	}
	return NULL;
}

static void
test_threads(void)
{
	struct wt_rec r = WT_REC_INIT;
	struct thread_arg args[4];
	pthread_t th[4];
	struct wt_batch *b;
	struct stat st;
	char name[32], *jpath, *text;
	void *res;
	int t, i, fails = 0, fields = 0;

	/* A batch that gets no patch writes nothing at all. */
	fresh("lazy", NULL);
	b = wt_batch_open(&reg);
	ok(b && stat(reg.dir, &st) < 0, "opening a batch makes no file, not even the directory");
	is_int(wt_batch_commit(b, 1), 0, "and committing it without patches is a no-op");
	ok(stat(reg.dir, &st) < 0, "still nothing on disk");
	is_int(wt_batch_commit(NULL, 1), 0, "no batch at all commits nothing");

	fresh("threads", "{\"id\":\"shared\",\"path\":\"/s\"}\n");
	b = wt_batch_open(&reg);
	for (t = 0; t < 4; t++) {
		args[t].b = b;
		args[t].t = t;
		pthread_create(&th[t], NULL, patcher, &args[t]);
	}
	for (t = 0; t < 4; t++) {
		pthread_join(th[t], &res);
		fails += res != NULL;
	}
	is_int(fails, 0, "4 threads journaled 100 patches each into one batch");
	ok(!wt_batch_failed(b), "the batch did not fail");
	jpath = wt_registry_file(&reg, "journal");
	text = read_file(jpath, NULL);
	for (i = 0, t = 0; text && text[i]; i++)
		t += text[i] == '\n';
	is_int(t, 400, "the journal holds 400 whole lines, none torn or joined");
	free(text);
	free(jpath);
	is_int(wt_batch_commit(b, 10), 400, "one commit applies all 400");
	wt_registry_find(&reg, "shared", &r, NULL);
	for (t = 0; t < 4; t++)
		for (i = 0; i < 100; i++) {
			snprintf(name, sizeof(name), "t%d_%03d", t, i);
			fields += wt_rec_find(&r, name) >= 0;
		}
	is_int(fields, 400, "every field is on the record");
	wt_rec_release(&r);

	/* A MoAI-ADK registry is read only. */
	reg.moai = 1;
	b = wt_batch_open(&reg);
	ok(wt_batch_set(b, "shared", "{\"x\":1}") < 0 && errno == EROFS && wt_batch_failed(b),
	   "a patch of a MoAI-ADK registry fails with EROFS and the batch says so");
	wt_batch_abandon(b);
	reg.moai = 0;
}

/* A registry that is a symbolic link is written through, never replaced. */
static void
test_symlink(void)
{
	struct wt_batch *b;
	struct stat st;
	char *text, *target = wt_xstrdup(tpath("elsewhere.ndjson"));

	fresh("link", NULL);
	mkdir(reg.dir, 0700);
	write_str(target, "{\"id\":\"a\",\"path\":\"/a\"}\n");
	if (symlink(target, reg.path) < 0)
		perror("symlink");
	b = wt_batch_open(&reg);
	wt_batch_set(b, "a", "{\"n\":1}");
	is_int(wt_batch_commit(b, 5), 1, "a patch of a linked registry commits");
	ok(lstat(reg.path, &st) == 0 && S_ISLNK(st.st_mode), "the registry is still the link");
	text = read_file(target, NULL);
	is_str(text, "{\"id\":\"a\",\"path\":\"/a\",\"n\":1}\n", "its target holds the change");
	free(text);
	ok(wt_registry_index_valid(&reg), "and the index describes it");
	unlink(target);
	b = wt_batch_open(&reg);
	wt_batch_set(b, "a", "{\"n\":2}");
	stderr_begin();
	is_int(wt_batch_commit(b, 5), -1, "a link to nothing is not written");
	text = stderr_end();
	ok(text && strstr(text, "symbolic link to nothing"), "and says why");
	free(text);
	ok(lstat(reg.path, &st) == 0 && S_ISLNK(st.st_mode) && stat(target, &st) < 0,
	   "the link stays, nothing made in its place");
	free(target);
}

/* A registry with two lines of one id (a damage wt-fsck reports): a patch loses neither. */
static void
test_duplicate(void)
{
	struct wt_batch *b;
	char *got;

	fresh("dup", "{\"id\":\"a\",\"path\":\"/a\"}\n{\"id\":\"a\",\"path\":\"/a2\"}\n"
		     "{\"id\":\"b\",\"path\":\"/b\"}\n");
	b = wt_batch_open(&reg);
	ok(wt_batch_set(b, "a", "{\"status\":\"stale\"}") == 0, "set on a duplicated id");
	ok(wt_batch_commit(b, 5) == 1, "committed");
	got = content();
	is_str(got, "{\"id\":\"a\",\"path\":\"/a\",\"status\":\"stale\"}\n"
		    "{\"id\":\"a\",\"path\":\"/a2\"}\n{\"id\":\"b\",\"path\":\"/b\"}\n",
	       "the first line patched, the second kept as it was");
	free(got);
}

/* wt_registry_each_bad_line's finds, collected. */
struct bad {
	long line[8];
	char *text[8];
	int n;
};

static int
bad_cb(long lineno, const char *line, size_t n, int toolong, void *arg)
{
	struct bad *b = arg;

	(void)toolong;
	if (b->n < 8) {
		b->line[b->n] = lineno;
		b->text[b->n++] = wt_xstrndup(line, n);
	}
	return 0;
}

static void
bad_release(struct bad *b)
{
	while (b->n > 0)
		free(b->text[--b->n]);
}

static void
test_drop(void)
{
	struct wt_batch *b;
	struct bad bad;
	char *got, *s;
	int n;

	memset(&bad, 0, sizeof(bad));
	fresh("drop", "{\"id\":\"a\",\"path\":\"/a\"}\ngarbage one\r\n\n{\"path\":\"/no-id\"}\n"
		      "{\"id\":\"c\",\"path\":\"/c\"}\ngarbage one\n");
	ok(wt_registry_each_bad_line(&reg, bad_cb, &bad) == 0 && bad.n == 3 &&
	   bad.line[0] == 2 && bad.line[1] == 4 && bad.line[2] == 6 &&
	   strcmp(bad.text[0], "garbage one") == 0 && strcmp(bad.text[1], "{\"path\":\"/no-id\"}") == 0,
	   "the lines that are no record, by number (blank lines counted) and bytes (no CR)");
	b = wt_batch_open(&reg);
	n = !wt_batch_drop_line(b, bad.line[0], bad.text[0], strlen(bad.text[0])) +
	    !wt_batch_drop_line(b, bad.line[1], bad.text[1], strlen(bad.text[1])) +
	    !wt_batch_set(b, "c", "{\"x\":1}");
	is_int(n, 3, "two drops and a set journaled");
	is_int(wt_batch_drop_line(b, 0, "x", 1), -1, "a drop names a line from 1");
	s = file("journal");
	ok(s && strstr(s, "\"op\":\"drop\",\"line\":2,\"sha256\":\""), "a drop is journaled by line and sum");
	free(s);
	is_int(wt_batch_commit(b, 5), 3, "the commit applies the drops and the set");
	got = content();
	is_str(got, "{\"id\":\"a\",\"path\":\"/a\"}\n{\"id\":\"c\",\"path\":\"/c\",\"x\":1}\ngarbage one\n",
	       "exactly the lines named go; the same bytes at another line stay");
	free(got);
	got = file("bak");
	ok(got && strstr(got, "garbage one\r\n") && strstr(got, "no-id"), "the old file is the .bak");
	free(got);
	bad_release(&bad);

	/* The registry changed between the drop and the commit: nothing it names is there. */
	fresh("drop2", "bad\n{\"id\":\"a\",\"path\":\"/a\"}\nworse\n");
	b = wt_batch_open(&reg);
	wt_batch_drop_line(b, 1, "bad", 3);
	wt_batch_drop_line(b, 3, "worse", 5);
	write_str(reg.path, "{\"id\":\"0\",\"path\":\"/0\"}\nbad\nworse\n{\"id\":\"a\",\"path\":\"/a\"}\n");
	stderr_begin();
	wt_batch_commit(b, 5);
	s = stderr_end();
	got = content();
	is_str(got, "{\"id\":\"0\",\"path\":\"/0\"}\nbad\n{\"id\":\"a\",\"path\":\"/a\"}\n",
	       "a line that moved stays; one still at its number with its bytes goes");
	ok(s && strstr(s, "line 1 is not the line a drop named"), "the drop that found nothing says so");
	free(s);
	free(got);

	/* The second line of an id dropped, the first patched: one record left. */
	fresh("drop3", "{\"id\":\"a\",\"path\":\"/a\"}\n{\"id\":\"a\",\"path\":\"/elsewhere\"}\n");
	b = wt_batch_open(&reg);
	wt_batch_drop_line(b, 1, "{\"id\":\"a\",\"path\":\"/a\"}", 22);
	wt_batch_set(b, "a", "{\"kept\":true}");
	wt_batch_put(b, rec("{\"id\":\"a~2\",\"path\":\"/a\"}"));
	wt_batch_commit(b, 5);
	got = content();
	is_str(got, "{\"id\":\"a\",\"path\":\"/elsewhere\",\"kept\":true}\n{\"id\":\"a~2\",\"path\":\"/a\"}\n",
	       "a duplicate's first line dropped: the id's patches go to its other line");
	free(got);

	/* A journal a killed run left: drops, sets and a torn line replayed together. */
	fresh("drop4", "{\"id\":\"a\",\"path\":\"/a\"}\n{\"id\":\"a\",\"path\":\"/a2\"}\nnope\n");
	s = wt_registry_file(&reg, "journal");
	b = wt_batch_open(&reg);
	wt_batch_set(b, "a", "{\"j\":1}");
	wt_batch_drop_line(b, 3, "nope", 4);
	wt_batch_drop_line(b, 2, "{\"id\":\"a\",\"path\":\"/a2\"}", 23);
	wt_batch_put(b, rec("{\"id\":\"a~2\",\"path\":\"/a2\"}"));
	wt_batch_abandon(b);
	{
		FILE *f = fopen(s, "a");

		fputs("{\"op\":\"drop\",\"line\":1,\"sha", f);
		fclose(f);
	}
	stderr_begin();
	n = wt_registry_replay(&reg, 5);
	free(stderr_end());
	is_int(n, 4, "the replay applies the four whole patches, skips the torn one");
	got = content();
	is_str(got, "{\"id\":\"a\",\"path\":\"/a\",\"j\":1}\n{\"id\":\"a~2\",\"path\":\"/a2\"}\n",
	       "duplicate, garbage and journal together: every patch in, the lines named out");
	free(got);
	got = file("journal");
	is_str(got, "", "the journal is empty after");
	free(got);
	free(s);
}

int
main(void)
{
	wt_setprogname("unit");
	clean_env();
	test_semantics();
	test_null();
	test_odd();
	test_parallel();
	test_crash();
	test_torn();
	test_lock();
	test_threads();
	test_symlink();
	test_duplicate();
	test_drop();
	wt_registry_release(&reg);
	return done_testing();
}
