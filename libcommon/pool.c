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

/*
 * Records go to the workers in batches, not one by one: the ring's slots from
 * tail on are the producer's own (fill of them filled), and are handed over
 * in one step of the lock when a batch is full or the input would block.
 * A worker takes a run of consecutive records at once, works on them without
 * the lock, and writes and flushes what is ready in order when the run ends.
 */
#define BATCH 128

struct wt_pool {
	pthread_mutex_t mu;
	pthread_cond_t work, space;
	struct slot *ring;
	size_t win, head, tail, next;
	size_t fill, room;             /* the producer's: filled past tail, known free */
	size_t batch;                  /* records handed over at once */
	int eof, active, jobs, waiting;
	long pushed;
	wt_want_fn want;
	wt_work_fn fn;
	wt_rec_fn written;             /* each record, in order, as it goes out */
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

/*
 * Writes every finished record at the head of the window, in order; returns
 * how many left. Flushing is the caller's choice.
 */
static size_t
write_ready(struct wt_pool *p)
{
	struct slot *s;
	size_t moved = 0;

	while (p->head < p->tail &&
	       (s = &p->ring[p->head % p->win])->state >= DONE) {
		if (s->state == DONE && p->written)
			p->written(&s->rec, p->arg);
		if (s->state == DONE && wt_rec_has_error(&s->rec))
			p->errors++;
		if (s->state == DONE)
			wt_rec_write(&s->rec, p->out);
		s->state = FREE;
		p->head++;
		moved++;
	}
	if (moved && p->waiting)
		pthread_cond_signal(&p->space);
	return moved;
}

/*
 * Hands the producer's filled slots to the workers; under the lock. Returns
 * 1 when a worker is to be woken, which the caller does after unlocking: a
 * worker woken under the lock would only wait for it.
 */
static int
hand_over(struct wt_pool *p)
{
	int avail, wake = 0;

	if (p->fill) {
		/* Under memory pressure, fewer workers take new records. */
		if ((p->pushed += (long)p->fill) >= 1024) {
			p->pushed = 0;
			if ((avail = wt_pool_jobs_for_memory(p->jobs)) != p->active) {
				if (avail < p->active)
					warnx("low memory: %d worker%s", avail,
					      avail > 1 ? "s" : "");
				p->active = avail;
				pthread_cond_broadcast(&p->work);
			}
		}
		p->tail += p->fill;
		p->fill = 0;
		/* One worker wakes; it wakes the next when it leaves work behind. */
		wake = p->next < p->tail;
	}
	p->room = p->win - (p->tail - p->head);
	write_ready(p);
	return wake;
}

static void
unlock_wake(struct wt_pool *p, int wake)
{
	pthread_mutex_unlock(&p->mu);
	if (wake)
		pthread_cond_signal(&p->work);
}

static void *
work(void *a)
{
	struct worker *w = a;
	struct wt_pool *p = w->p;
	char res[BATCH];   /* 0: no work; 1: done; 2: dropped */
	size_t first, n, i, avail;
	int wake;
	struct slot *s;

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
		/* A full batch, or a fair share of a short one. */
		avail = p->tail - p->next;
		n = avail >= BATCH ? BATCH : (avail + (size_t)p->active - 1) / (size_t)p->active;
		first = p->next;
		p->next += n;
		wake = p->next < p->tail;
		/* The last record taken: the waiting workers may go. */
		if (!wake && p->eof)
			pthread_cond_broadcast(&p->work);
		for (i = 0; i < n; i++) {
			s = &p->ring[(first + i) % p->win];
			if ((res[i] = s->state == QUEUED))
				s->state = WORKING;
		}
		unlock_wake(p, wake);
		for (i = 0; i < n; i++)
			if (res[i])
				res[i] = 1 + !!p->fn(&p->ring[(first + i) % p->win].rec, w->id, p->arg);
		pthread_mutex_lock(&p->mu);
		for (i = 0; i < n; i++)
			if (res[i])
				p->ring[(first + i) % p->win].state = res[i] == 2 ? DROP : DONE;
		/* A run ends: what is ready leaves now, not when the next input comes. */
		if (write_ready(p))
			fflush(p->out);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

/* The pool, handing over batch records at once. */
static struct wt_pool *
pool_new(int jobs, size_t batch, wt_want_fn want, wt_work_fn fn, void *arg, FILE *out)
{
	struct wt_pool *p = wt_xmalloc(sizeof(*p));
	int j;

	memset(p, 0, sizeof(*p));
	p->batch = batch;
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
	/* Room for a batch being filled while the workers have two each. */
	p->win = (size_t)p->jobs * (batch > 1 ? 2 * batch : 16);
	p->room = p->win;
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

struct wt_pool *
wt_pool_new(int jobs, wt_want_fn want, wt_work_fn fn, void *arg, FILE *out)
{
	/* Records pushed one by one leave one by one: nothing says more come soon. */
	return pool_new(jobs, 1, want, fn, arg, out);
}

void
wt_pool_push(struct wt_pool *p, struct wt_rec *r)
{
	struct slot *s;

	if (p->jobs == 1) {
		if ((!p->want || p->want(r, p->arg)) && p->fn(r, 0, p->arg))
			return;
		if (p->written)
			p->written(r, p->arg);
		if (wt_rec_has_error(r))
			p->errors++;
		wt_rec_write(r, p->out);
		return;
	}
	if (!p->room) {
		pthread_mutex_lock(&p->mu);
		if (hand_over(p))
			pthread_cond_signal(&p->work);
		while (p->tail - p->head >= p->win) {
			p->waiting = 1;
			pthread_cond_wait(&p->space, &p->mu);
		}
		p->waiting = 0;
		p->room = p->win - (p->tail - p->head);
		pthread_mutex_unlock(&p->mu);
	}
	/* Slots past tail are the producer's: no worker or writer looks there. */
	s = &p->ring[(p->tail + p->fill) % p->win];
	swap(&s->rec, r);
	s->state = !p->want || p->want(&s->rec, p->arg) ? QUEUED : DONE;
	p->fill++;
	p->room--;
	/*
	 * A full batch goes when the lock is free; while a worker holds it
	 * (writing), the batch grows instead of the producer waiting.
	 */
	if (p->fill >= p->batch && pthread_mutex_trylock(&p->mu) == 0)
		unlock_wake(p, hand_over(p));
}

/* Before the reader waits for input: what is filled goes to work, what is done goes out. */
static void
input_waits(void *arg)
{
	struct wt_pool *p = arg;

	int wake;

	pthread_mutex_lock(&p->mu);
	wake = hand_over(p);
	if (fflush(p->out) == EOF)
		err(WT_EXIT_FATAL, "write");
	unlock_wake(p, wake);
}

long
wt_pool_finish(struct wt_pool *p)
{
	long errors;
	size_t i;
	int j;

	if (p->jobs > 1) {
		pthread_mutex_lock(&p->mu);
		(void)hand_over(p);
		p->eof = 1;
		pthread_cond_broadcast(&p->work);
		pthread_mutex_unlock(&p->mu);
		for (j = 0; j < p->jobs; j++)
			pthread_join(p->th[j], NULL);
		if (write_ready(p))
			fflush(p->out);
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
	return wt_pool_run_written(rd, jobs, want, fn, NULL, arg, out);
}

long
wt_pool_run_written(struct wt_reader *rd, int jobs, wt_want_fn want, wt_work_fn fn,
		    wt_rec_fn written, void *arg, FILE *out)
{
	struct wt_pool *p = pool_new(jobs, BATCH, want, fn, arg, out);
	struct wt_rec r = WT_REC_INIT;
	int rc;

	p->written = written;
	/*
	 * Records stream: when no input is ready, what the pool holds goes on
	 * and out before the read waits (one worker: the reader flushes out).
	 */
	if (p->jobs > 1)
		wt_reader_on_wait(rd, input_waits, p);
	else
		wt_reader_flush_on_read(rd, out);
	while ((rc = wt_reader_next(rd, &r)) > 0)
		wt_pool_push(p, &r);
	if (rc < 0)
		err(WT_EXIT_FATAL, "read");
	wt_rec_release(&r);
	return wt_pool_finish(p);
}
