/* pool.c: work on records in parallel, output in input order. */
#include <err.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wt.h"

enum { FREE, QUEUED, WORKING, DONE, DROP };

struct slot {
	struct wt_rec rec;
	int state;
};

struct wt_pool {
	pthread_mutex_t mu;
	pthread_cond_t work, space;
	struct slot *ring;
	size_t win, head, tail, next;
	int eof, active, jobs;
	long pushed;
	wt_want_fn want;
	wt_work_fn fn;
	void *arg;
	FILE *out;
	long errors;
	pthread_t *th;
	struct worker *ws;
};

struct worker {
	struct wt_pool *p;
	int id;
};

static char outbuf[64 * 1024];
static int outbuf_set;

/* Reads MemAvailable from /proc/meminfo in bytes; -1 when unknown. */
static long long
mem_available(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[256];
	long long kb = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %lld kB", &kb) == 1)
			break;
	fclose(f);
	return kb < 0 ? -1 : kb * 1024;
}

int
wt_pool_jobs_for_memory(int jobs)
{
	const char *e = getenv("WT_MEMORY_LOW");
	long long low = e && *e ? wt_parse_size(e) : 256LL << 20;
	long long avail = mem_available();

	if (low < 0)
		errx(WT_EXIT_FATAL, "bad WT_MEMORY_LOW: '%s'", e);
	if (avail < 0 || low <= 0 || jobs <= 1)
		return jobs;
	if (avail < low)
		return 1;
	if (avail < 2 * low)
		return jobs > 2 ? jobs / 2 : 1;
	return jobs;
}

/* Writes every finished record at the head of the window, in order. */
static void
flush_locked(struct wt_pool *p)
{
	struct slot *s;
	int moved = 0;

	while (p->head < p->tail &&
	       (s = &p->ring[p->head % p->win])->state >= DONE) {
		if (s->state == DONE && wt_rec_has_error(&s->rec))
			p->errors++;
		if (s->state == DONE)
			wt_rec_write(&s->rec, p->out);
		s->state = FREE;
		p->head++;
		moved = 1;
	}
	if (moved) {
		/* Records leave as they finish, not when the next input arrives. */
		fflush(p->out);
		pthread_cond_broadcast(&p->space);
	}
}

static void *
work(void *a)
{
	struct worker *w = a;
	struct wt_pool *p = w->p;
	struct slot *s;
	int drop;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		/*
		 * A worker past the active count waits even at the end of input,
		 * so that under memory pressure fewer run to the very end; it
		 * leaves when nothing is left to take.
		 */
		while (p->next == p->tail ? !p->eof : w->id >= p->active)
			pthread_cond_wait(&p->work, &p->mu);
		if (p->next == p->tail)
			break;
		s = &p->ring[p->next++ % p->win];
		/* The last record taken: the waiting workers may go. */
		if (p->eof && p->next == p->tail)
			pthread_cond_broadcast(&p->work);
		if (s->state != QUEUED)
			continue;
		s->state = WORKING;
		pthread_mutex_unlock(&p->mu);
		drop = p->fn(&s->rec, w->id, p->arg);
		pthread_mutex_lock(&p->mu);
		s->state = drop ? DROP : DONE;
		flush_locked(p);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

struct wt_pool *
wt_pool_new(int jobs, wt_want_fn want, wt_work_fn fn, void *arg, FILE *out)
{
	struct wt_pool *p = wt_xmalloc(sizeof(*p));
	int j;

	memset(p, 0, sizeof(*p));
	p->want = want;
	p->fn = fn;
	p->arg = arg;
	p->out = out;
	p->jobs = jobs < 1 ? 1 : jobs;
	/*
	 * Into a pipe or a file, stdout's records go out in writes of 64 KiB
	 * (a pipe's size) rather than stdio's 4 KiB; glibc ignores the size
	 * unless it is given the buffer. Nothing has been written yet. A
	 * terminal keeps its line buffering.
	 */
	if (out == stdout && !outbuf_set && !isatty(STDOUT_FILENO)) {
		outbuf_set = 1;
		setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));
	}
	if (p->jobs == 1)
		return p;
	p->active = wt_pool_jobs_for_memory(p->jobs);
	if (p->active < p->jobs)
		warnx("low memory: %d worker%s", p->active, p->active > 1 ? "s" : "");
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->space, NULL);
	p->win = (size_t)p->jobs * 16;
	p->ring = calloc(p->win, sizeof(*p->ring));
	if (!p->ring)
		err(WT_EXIT_FATAL, "calloc");
	p->th = wt_xmalloc(sizeof(*p->th) * (size_t)p->jobs);
	p->ws = wt_xmalloc(sizeof(*p->ws) * (size_t)p->jobs);
	for (j = 0; j < p->jobs; j++) {
		p->ws[j].p = p;
		p->ws[j].id = j;
		if (pthread_create(&p->th[j], NULL, work, &p->ws[j]) != 0)
			err(WT_EXIT_FATAL, "pthread_create");
	}
	return p;
}

static void
swap(struct wt_rec *a, struct wt_rec *b)
{
	struct wt_rec t = *a;

	*a = *b;
	*b = t;
}

void
wt_pool_push(struct wt_pool *p, struct wt_rec *r)
{
	struct slot *s;
	int avail;

	if (p->jobs == 1) {
		if ((!p->want || p->want(r, p->arg)) && p->fn(r, 0, p->arg))
			return;
		if (wt_rec_has_error(r))
			p->errors++;
		wt_rec_write(r, p->out);
		return;
	}
	pthread_mutex_lock(&p->mu);
	while (p->tail - p->head >= p->win)
		pthread_cond_wait(&p->space, &p->mu);
	s = &p->ring[p->tail % p->win];
	swap(&s->rec, r);
	s->state = !p->want || p->want(&s->rec, p->arg) ? QUEUED : DONE;
	p->tail++;
	/* Under memory pressure, fewer workers take new records. */
	if ((++p->pushed & 63) == 0 &&
	    (avail = wt_pool_jobs_for_memory(p->jobs)) != p->active) {
		if (avail < p->active)
			warnx("low memory: %d worker%s", avail, avail > 1 ? "s" : "");
		p->active = avail;
	}
	if (s->state == QUEUED)
		pthread_cond_broadcast(&p->work);
	flush_locked(p);
	pthread_mutex_unlock(&p->mu);
}

long
wt_pool_finish(struct wt_pool *p)
{
	long errors;
	size_t i;
	int j;

	if (p->jobs > 1) {
		pthread_mutex_lock(&p->mu);
		p->eof = 1;
		pthread_cond_broadcast(&p->work);
		pthread_mutex_unlock(&p->mu);
		for (j = 0; j < p->jobs; j++)
			pthread_join(p->th[j], NULL);
		flush_locked(p);
		for (i = 0; i < p->win; i++)
			wt_rec_release(&p->ring[i].rec);
		free(p->ring);
		free(p->th);
		free(p->ws);
		pthread_mutex_destroy(&p->mu);
		pthread_cond_destroy(&p->work);
		pthread_cond_destroy(&p->space);
	}
	errors = p->errors;
	free(p);
	return errors;
}

long
wt_pool_run(struct wt_reader *rd, int jobs, wt_want_fn want, wt_work_fn fn,
	    void *arg, FILE *out)
{
	struct wt_pool *p = wt_pool_new(jobs, want, fn, arg, out);
	struct wt_rec r = WT_REC_INIT;
	int rc;

	wt_reader_flush_on_read(rd, out);
	while ((rc = wt_reader_next(rd, &r)) > 0)
		wt_pool_push(p, &r);
	if (rc < 0)
		err(WT_EXIT_FATAL, "read");
	wt_rec_release(&r);
	return wt_pool_finish(p);
}
