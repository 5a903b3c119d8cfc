/* pool.c: the worker pool: input order kept, drops, error counts, memory fallback. */
#include <poll.h>
#include <pthread.h>

#include "wt.h"
#include "tap.h"

enum { N = 300 };

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static long calls;
static int delay_us = 2000;

static int
num(const struct wt_rec *r, const char *key)
{
	double v = -1;

	wt_rec_num(r, key, &v);
	return (int)v;
}

/* Waits a pseudo-random time of its own per record, so workers finish out of order. */
static void
nap(int i)
{
	unsigned seed = (unsigned)i * 2654435761u;

	if (delay_us)
		usleep((useconds_t)(rand_r(&seed) % delay_us));
}

static int
work_mark(struct wt_rec *r, int worker, void *arg)
{
	int i = num(r, "i");

	(void)arg;
	nap(i);
	pthread_mutex_lock(&mu);
	calls++;
	pthread_mutex_unlock(&mu);
	wt_rec_set_int(r, "w", worker);
	return 0;
}

static int
work_drop(struct wt_rec *r, int worker, void *arg)
{
	work_mark(r, worker, arg);
	return num(r, "i") % 3 == 0;
}

static int
work_error(struct wt_rec *r, int worker, void *arg)
{
	work_mark(r, worker, arg);
	if (num(r, "i") % 5 == 0)
		wt_rec_error(r, WT_E_BASE, NULL, "record %d failed", num(r, "i"));
	return 0;
}

static int
want_even(const struct wt_rec *r, void *arg)
{
	(void)arg;
	return num(r, "i") % 2 == 0;
}

/* A reader over n records {"i":k}; record k is an error record when k % every == 1. */
static struct wt_reader *
input(int n, int every, FILE **keep)
{
	FILE *f = tmpfile();
	int i;

	for (i = 0; i < n; i++)
		if (every && i % every == 1)
			fprintf(f, "{\"i\":%d,\"error\":{\"kind\":\"WorktreeError\",\"message\":\"x\"}}\n", i);
		else
			fprintf(f, "{\"i\":%d}\n", i);
	fflush(f);
	lseek(fileno(f), 0, SEEK_SET);
	*keep = f;
	return wt_reader_new(fileno(f), 0);
}

struct result {
	char seq[8 * N];     /* "0 1 2 ..." of the records written */
	int maxw;            /* the highest worker id seen */
	int marked;          /* records that carry "w" */
	int count, ascending; /* records written; 1 when their i only grew */
	long errors;
};

static void
run(int jobs, wt_want_fn want, wt_work_fn fn, int n, int every, struct result *res)
{
	struct wt_reader *rd;
	struct wt_rec r = WT_REC_INIT;
	FILE *in, *out = tmpfile();
	int rc, len = 0, prev = -1;

	calls = 0;
	rd = input(n, every, &in);
	stderr_begin();
	res->errors = wt_pool_run(rd, jobs, want, fn, NULL, out);
	free(stderr_end());
	wt_reader_free(rd);
	fclose(in);
	fflush(out);
	lseek(fileno(out), 0, SEEK_SET);
	rd = wt_reader_new(fileno(out), 0);
	res->maxw = -1;
	res->marked = 0;
	res->seq[0] = '\0';
	res->count = 0;
	res->ascending = 1;
	while ((rc = wt_reader_next(rd, &r)) > 0) {
		if (res->count++ && num(&r, "i") <= prev)
			res->ascending = 0;
		prev = num(&r, "i");
		if (len < (int)sizeof(res->seq) - 16)
			len += snprintf(res->seq + len, sizeof(res->seq) - (size_t)len, "%s%d",
					len ? " " : "", num(&r, "i"));
		if (wt_rec_find(&r, "w") >= 0) {
			res->marked++;
			if (num(&r, "w") > res->maxw)
				res->maxw = num(&r, "w");
		}
	}
	wt_reader_free(rd);
	wt_rec_release(&r);
	fclose(out);
}

/* "0 1 2 ... n-1" without the numbers skip says to leave out. */
static char *
expect(int n, int (*leave_out)(int))
{
	struct wt_buf b = WT_BUF_INIT;
	int i;

	for (i = 0; i < n; i++)
		if (!leave_out || !leave_out(i))
			wt_buf_addf(&b, "%s%d", b.len ? " " : "", i);
	return wt_buf_detach(&b);
}

static int
third(int i)
{
	return i % 3 == 0;
}

static void
test_order(void)
{
	static struct result res;
	char *want = expect(N, NULL);
	int jobs;

	for (jobs = 1; jobs <= 8; jobs++) {
		run(jobs, NULL, work_mark, N, 0, &res);
		is_str(res.seq, want, "jobs %d: %d records out in input order", jobs, N);
		ok(res.marked == N && calls == N && res.maxw < jobs && res.errors == 0,
		   "jobs %d: each worked once, by workers 0..%d (%d marked, %ld calls, max %d)",
		   jobs, jobs - 1, res.marked, calls, res.maxw);
	}
	run(4, NULL, work_mark, N, 0, &res);
	ok(res.maxw > 0, "with 4 jobs and slow records more than one worker took part (max %d)",
	   res.maxw);
	free(want);

	delay_us = 0;
	{
		static struct result big;

		run(8, NULL, work_mark, 20000, 0, &big);
		ok(big.count == 20000 && big.ascending && big.marked == 20000 && calls == 20000,
		   "20000 fast records on 8 workers: each out once, in order (%d, %d)",
		   big.count, big.ascending);
	}
	delay_us = 2000;
}

static void
test_drop_and_errors(void)
{
	static struct result res;
	char *want = expect(N, third);
	int jobs;

	for (jobs = 1; jobs <= 4; jobs += 3) {
		run(jobs, NULL, work_drop, N, 0, &res);
		is_str(res.seq, want, "jobs %d: records whose work returns nonzero are dropped", jobs);
	}
	free(want);

	want = expect(N, NULL);
	for (jobs = 1; jobs <= 4; jobs += 3) {
		run(jobs, NULL, work_error, N, 0, &res);
		is_int(res.errors, N / 5, "jobs %d: the count of records written with an error", jobs);
		is_str(res.seq, want, "jobs %d: error records stay in order", jobs);
		run(jobs, NULL, work_mark, N, 7, &res);
		is_int(res.errors, (N + 5) / 7, "jobs %d: error records from the input count too", jobs);
	}
	free(want);
}

static void
test_want(void)
{
	static struct result res;
	char *want = expect(N, NULL);
	int jobs;

	for (jobs = 1; jobs <= 4; jobs += 3) {
		run(jobs, want_even, work_mark, N, 0, &res);
		is_int(calls, N / 2, "jobs %d: work runs only on the records want() takes", jobs);
		is_int(res.marked, N / 2, "jobs %d: the others are not touched", jobs);
	}
	run(4, want_even, work_mark, N, 0, &res);
	is_str(res.seq, want, "records that need no work keep their place");
	free(want);
}

static void
test_push(void)
{
	struct wt_rec r = WT_REC_INIT;
	struct wt_pool *p;
	struct pollfd pfd;
	FILE *out;
	int fds[2], i, ready;
	char buf[4096];
	ssize_t n;
	long errors;

	if (pipe(fds) < 0)
		exit(2);
	out = fdopen(fds[1], "w");
	p = wt_pool_new(4, NULL, work_mark, NULL, out);
	wt_rec_parse(&r, "{\"i\":0}", 7, NULL);
	wt_pool_push(p, &r);
	pfd.fd = fds[0];
	pfd.events = POLLIN;
	ready = poll(&pfd, 1, 3000);
	n = ready > 0 ? read(fds[0], buf, sizeof(buf) - 1) : 0;
	buf[n > 0 ? n : 0] = '\0';
	chomp(buf);
	ok(ready > 0 && has(buf, "{\"i\":0,\"w\":"),
	   "a pushed record is written as soon as it is done, before any more input (%s)", buf);
	for (i = 1; i < 50; i++) {
		char t[32];

		snprintf(t, sizeof(t), "{\"i\":%d}", i);
		wt_rec_parse(&r, t, strlen(t), NULL);
		wt_pool_push(p, &r);
	}
	errors = wt_pool_finish(p);
	fclose(out);
	{
		struct wt_buf all = WT_BUF_INIT;
		char *want = expect(50, NULL), *s;
		struct wt_buf seq = WT_BUF_INIT;

		while ((n = read(fds[0], buf, sizeof(buf))) > 0)
			wt_buf_add(&all, buf, (size_t)n);
		wt_buf_addc(&seq, '0');
		for (s = all.s; s && (s = strstr(s, "{\"i\":")); s += 5)
			wt_buf_addf(&seq, " %d", atoi(s + 5));
		is_str(seq.s, want, "wt_pool_push and wt_pool_finish keep input order");
		is_int(errors, 0, "and count no errors");
		wt_buf_release(&all);
		wt_buf_release(&seq);
		free(want);
	}
	close(fds[0]);
	wt_rec_release(&r);
}

static void
test_memory(void)
{
	static struct result res;
	char *err;

	setenv("WT_MEMORY_LOW", "1000T", 1);
	is_int(wt_pool_jobs_for_memory(4), 1, "less memory available than WT_MEMORY_LOW: 1 job");
	setenv("WT_MEMORY_LOW", "1", 1);
	is_int(wt_pool_jobs_for_memory(4), 4, "plenty of memory: the jobs asked for");
	unsetenv("WT_MEMORY_LOW");
	is_int(wt_pool_jobs_for_memory(1), 1, "one job stays one");

	setenv("WT_MEMORY_LOW", "1000T", 1);
	stderr_begin();
	{
		struct wt_pool *p = wt_pool_new(4, NULL, work_mark, NULL, stdout);

		wt_pool_finish(p);
	}
	err = stderr_end();
	ok(has(err, "low memory: 1 worker"), "the pool says it runs fewer workers (%s)", err);
	free(err);
	run(4, NULL, work_mark, N, 0, &res);
	unsetenv("WT_MEMORY_LOW");
	ok(res.marked == N && res.maxw == 0,
	   "under memory pressure only one worker works, to the end of the input (max worker %d)",
	   res.maxw);
}

int
main(void)
{
	wt_setprogname("unit");
	clean_env();
	test_order();
	test_drop_and_errors();
	test_want();
	test_push();
	test_memory();
	return done_testing();
}
