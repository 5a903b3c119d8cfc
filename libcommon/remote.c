/* remote.c: fetching a remote as git would, with credentials, retries and a timeout */
#include <errno.h>
#include <fcntl.h>
#include <git2.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "wt.h"

/* What the credential callback has tried for one fetch. */
struct creds {
	int agent, key, helper, user;
	char *helper_user, *helper_pass, *helper_url;
	char why[160];
};

/*
 * Runs git credential ACTION with input on its stdin and, for fill, reads
 * its answer into out. Never a prompt: wt's stdin carries records.
 */
static int
credential_helper(const char *action, const char *input, struct wt_buf *out)
{
	char *const *base = wt_git_env(), **env;
	char *argv[] = { "git", "credential", (char *)action, NULL };
	int in[2], res[2], status;
	pid_t pid;
	size_t len = strlen(input), i, k;
	char buf[4096];
	ssize_t n;

	/*
	 * The caller's GIT_DIR, GIT_CONFIG_PARAMETERS... would bring another
	 * repository's helpers, and approve tells every helper the password.
	 */
	for (i = 0; base[i]; i++)
		;
	env = wt_xmalloc((i + 2) * sizeof(*env));
	for (i = k = 0; base[i]; i++)
		if (strncmp(base[i], "GIT_TERMINAL_PROMPT=", 20) != 0)
			env[k++] = base[i];
	env[k++] = "GIT_TERMINAL_PROMPT=0";
	env[k] = NULL;
	if (pipe2(in, O_CLOEXEC) < 0) {
		free(env);
		return -1;
	}
	if (pipe2(res, O_CLOEXEC) < 0) {
		close(in[0]);
		close(in[1]);
		free(env);
		return -1;
	}
	fflush(stdout);
	if ((pid = fork()) < 0) {
		close(in[0]);
		close(in[1]);
		close(res[0]);
		close(res[1]);
		free(env);
		return -1;
	}
	if (pid == 0) {
		dup2(in[0], STDIN_FILENO);
		dup2(res[1], STDOUT_FILENO);
		execvpe("git", argv, env);
		_exit(127);
	}
	free(env);
	close(in[0]);
	close(res[1]);
	/* A helper reads the whole request before it answers: no deadlock. */
	signal(SIGPIPE, SIG_IGN);
	if (write(in[1], input, len) != (ssize_t)len)
		len = 0;
	close(in[1]);
	while ((n = read(res[0], buf, sizeof(buf))) > 0)
		if (out)
			wt_buf_add(out, buf, (size_t)n);
	close(res[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 && len ? 0 : -1;
}

/* The value of key= in git credential's answer, a new string or NULL. */
static char *
credential_value(const char *text, const char *key)
{
	size_t k = strlen(key);
	const char *p = text;

	while (p && *p) {
		const char *nl = strchr(p, '\n');

		if (strncmp(p, key, k) == 0 && p[k] == '=')
			return wt_xstrndup(p + k + 1, nl ? (size_t)(nl - p - k - 1) :
					   strlen(p + k + 1));
		p = nl ? nl + 1 : NULL;
	}
	return NULL;
}

static int
ssh_key(git_credential **out, const char *user, int i)
{
	static const char *const names[] = { "id_ed25519", "id_ecdsa", "id_rsa", NULL };
	const char *home = getenv("HOME");
	struct wt_buf priv = WT_BUF_INIT, pub = WT_BUF_INIT;
	int rc = 1;

	if (!home || !names[i])
		return -1;
	wt_buf_addf(&priv, "%s/.ssh/%s", home, names[i]);
	wt_buf_addf(&pub, "%s.pub", priv.s);
	if (access(priv.s, R_OK) == 0)
		rc = git_credential_ssh_key_new(out, user, access(pub.s, R_OK) == 0 ?
						pub.s : NULL, priv.s, NULL) < 0 ? -1 : 0;
	wt_buf_release(&priv);
	wt_buf_release(&pub);
	return rc;
}

/*
 * libgit2 asks again after each refusal: each way is tried once, then the
 * fetch fails with a message naming them, never waiting for a person.
 */
static int
credentials_cb(git_credential **out, const char *url, const char *user_from_url,
	       unsigned int allowed, void *payload)
{
	struct creds *c = payload;
	const char *user = user_from_url && *user_from_url ? user_from_url : NULL;

	if ((allowed & GIT_CREDENTIAL_USERNAME) && !c->user++)
		return git_credential_username_new(out, user ? user : getenv("USER") ?
						   getenv("USER") : "git");
	if (allowed & GIT_CREDENTIAL_SSH_KEY) {
		if (!user)
			user = "git";
		if (!c->agent++ && getenv("SSH_AUTH_SOCK") &&
		    git_credential_ssh_key_from_agent(out, user) == 0)
			return 0;
		while (c->key < 3) {
			int rc = ssh_key(out, user, c->key++);

			if (rc == 0)
				return 0;
		}
	}
	if ((allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) && !c->helper++) {
		struct wt_buf in = WT_BUF_INIT, ans = WT_BUF_INIT;
		int rc = -1;

		wt_buf_addf(&in, "url=%s\n", url);
		if (user)
			wt_buf_addf(&in, "username=%s\n", user);
		wt_buf_adds(&in, "\n");
		if (credential_helper("fill", in.s, &ans) == 0 && ans.s) {
			c->helper_user = credential_value(ans.s, "username");
			c->helper_pass = credential_value(ans.s, "password");
			if (c->helper_user && c->helper_pass) {
				c->helper_url = wt_xstrdup(url);
				rc = git_credential_userpass_plaintext_new(out, c->helper_user,
									   c->helper_pass);
			}
		}
		wt_buf_release(&in);
		wt_buf_release(&ans);
		if (rc == 0)
			return 0;
	}
	snprintf(c->why, sizeof(c->why), "authentication failed for '%s': %s", url,
		 c->helper || c->key || c->agent ? "the credentials found (ssh agent, "
		 "~/.ssh keys, git credential fill) were refused or there were none" :
		 "no credentials of a kind it accepts");
	git_error_set_str(GIT_ERROR_CALLBACK, c->why);
	return GIT_EAUTH;
}

/* A fetch in progress, watched for the timeout. */
struct watch {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t fetcher;
	struct timespec last;
	double timeout;
	int done, fired;
	size_t bytes;
	void *arg;                  /* the fetch's struct creds */
};

static void
now_mono(struct timespec *t)
{
	clock_gettime(CLOCK_MONOTONIC, t);
}

static double
since(const struct timespec *a)
{
	struct timespec t;

	now_mono(&t);
	return (double)(t.tv_sec - a->tv_sec) + (double)(t.tv_nsec - a->tv_nsec) / 1e9;
}

static void
alive(struct watch *w, size_t bytes)
{
	pthread_mutex_lock(&w->mu);
	now_mono(&w->last);
	if (bytes)
		w->bytes = bytes;
	pthread_mutex_unlock(&w->mu);
}

static int
transfer_cb(const git_indexer_progress *st, void *payload)
{
	struct watch *w = payload;

	alive(w, st->received_bytes);
	return w->fired ? -1 : 0;
}

static int
sideband_cb(const char *str, int len, void *payload)
{
	struct watch *w = payload;

	(void)str;
	(void)len;
	alive(w, 0);
	return w->fired ? -1 : 0;
}

/* An empty handler: the signal only interrupts the fetch's blocking read. */
static void
on_wake(int sig)
{
	(void)sig;
}

/*
 * The watchdog: when the fetch has made no progress for the timeout, it
 * interrupts the fetching thread's read (SIGURG, installed without
 * SA_RESTART), and keeps doing so until the fetch returns.
 */
static void *
watchdog(void *arg)
{
	struct watch *w = arg;
	struct timespec until;

	pthread_mutex_lock(&w->mu);
	while (!w->done) {
		double left = w->timeout - since(&w->last);

		if (left <= 0) {
			w->fired = 1;
			pthread_kill(w->fetcher, SIGURG);
			left = 0.2;
		}
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += (time_t)left;
		until.tv_nsec += (long)((left - floor(left)) * 1e9);
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&w->cv, &w->mu, &until);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/*
 * 1 when a failed fetch may succeed if tried again: the network, the
 * remote's end, a timeout, a lock held on a ref. Not refused credentials,
 * a certificate, a remote that is not configured.
 */
static int
transient(int rc, const git_error *e, int fired)
{
	if (fired || rc == GIT_ELOCKED)
		return 1;
	if (rc == GIT_EAUTH || rc == GIT_ECERTIFICATE || !e)
		return 0;
	return e->klass == GIT_ERROR_NET || e->klass == GIT_ERROR_OS ||
	       e->klass == GIT_ERROR_SSH || e->klass == GIT_ERROR_HTTP ||
	       e->klass == GIT_ERROR_ZLIB;
}

/* The credentials callback gets the watch; the watch carries the creds. */
static int
credentials_of_watch(git_credential **out, const char *url, const char *user,
		     unsigned int allowed, void *payload)
{
	struct watch *w = payload;

	alive(w, 0);
	return credentials_cb(out, url, user, allowed, w->arg);
}

static void
one_fetch(git_remote *remote, struct wt_fetch *f, const struct wt_fetch_opts *o,
	  int *rc, int *fired, char *msg, size_t msgsz)
{
	git_fetch_options fo;
	struct creds c;
	struct watch w;
	pthread_t dog;
	int have_dog;
	const git_error *e;

	git_fetch_options_init(&fo, GIT_FETCH_OPTIONS_VERSION);
	memset(&c, 0, sizeof(c));
	memset(&w, 0, sizeof(w));
	pthread_mutex_init(&w.mu, NULL);
	pthread_cond_init(&w.cv, NULL);
	w.fetcher = pthread_self();
	w.timeout = o->timeout > 0 ? o->timeout : 1e9;
	now_mono(&w.last);
	/* libgit2 gives every callback the one payload: the watch, which holds c. */
	w.arg = &c;
	fo.callbacks.credentials = credentials_of_watch;
	fo.callbacks.transfer_progress = transfer_cb;
	fo.callbacks.sideband_progress = sideband_cb;
	fo.callbacks.payload = &w;
	have_dog = pthread_create(&dog, NULL, watchdog, &w) == 0;
	*rc = git_remote_fetch(remote, NULL, &fo, "wt-sync: fetch");
	e = git_error_last();
	snprintf(msg, msgsz, "%s", *rc < 0 && e && e->message ? e->message : "unknown error");
	pthread_mutex_lock(&w.mu);
	w.done = 1;
	*fired = w.fired;
	pthread_cond_signal(&w.cv);
	pthread_mutex_unlock(&w.mu);
	if (have_dog)
		pthread_join(dog, NULL);
	if (*fired && *rc < 0)
		snprintf(msg, msgsz, "no progress for %g s: timed out", w.timeout);
	if (*rc == 0) {
		const git_indexer_progress *st = git_remote_stats(remote);

		f->bytes = st ? st->received_bytes : w.bytes;
		/* Stored credentials that worked: the helper may keep them. */
		if (c.helper_user && c.helper_pass) {
			struct wt_buf in = WT_BUF_INIT;

			wt_buf_addf(&in, "url=%s\nusername=%s\npassword=%s\n\n", c.helper_url,
				    c.helper_user, c.helper_pass);
			credential_helper("approve", in.s, NULL);
			wt_buf_release(&in);
		}
	}
	free(c.helper_user);
	free(c.helper_pass);
	free(c.helper_url);
	pthread_mutex_destroy(&w.mu);
	pthread_cond_destroy(&w.cv);
}

int
wt_fetch(struct wt_fetch *f, const struct wt_fetch_opts *o)
{
	git_repository *repo = NULL;
	git_remote *remote = NULL;
	int rc = -1, fired = 0;
	long attempt;

	wt_fetch_signals();
	f->attempts = 0;
	f->bytes = 0;
	f->msg[0] = 0;
	if (git_repository_open_bare(&repo, f->common) < 0 ||
	    git_remote_lookup(&remote, repo, f->remote) < 0) {
		snprintf(f->msg, sizeof(f->msg), "cannot use remote '%s' of '%s': %s",
			 f->remote, f->common, wt_git_errmsg());
		f->transient = 0;
		goto out;
	}
	for (attempt = 0;; attempt++) {
		double delay;

		f->attempts++;
		one_fetch(remote, f, o, &rc, &fired, f->msg, sizeof(f->msg));
		if (rc == 0)
			break;
		f->transient = transient(rc, git_error_last(), fired);
		if (!f->transient || attempt >= o->retries)
			break;
		delay = o->delay * pow(2, (double)attempt);
		/* Jitter, so that many runs that failed together do not retry together. */
		delay *= 0.75 + 0.5 * ((double)rand() / RAND_MAX);
		if (o->on_retry)
			o->on_retry(f, attempt + 1, delay, o->arg);
		if (delay > 0) {
			struct timespec ts = { (time_t)delay,
					       (long)((delay - floor(delay)) * 1e9) };

			while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
				;
		}
	}
out:
	git_remote_free(remote);
	git_repository_free(repo);
	return rc == 0 ? 0 : -1;
}

void
wt_fetch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_wake;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: the fetch's read returns EINTR and the fetch fails. */
	sigaction(SIGURG, &sa, NULL);
}

int
wt_remote_url(const char *common, const char *name, struct wt_buf *url)
{
	git_repository *repo = NULL;
	git_remote *remote = NULL;
	int rc = -1;

	if (git_repository_open_bare(&repo, common) == 0 &&
	    git_remote_lookup(&remote, repo, name) == 0 && git_remote_url(remote)) {
		wt_buf_adds(url, git_remote_url(remote));
		rc = 0;
	}
	git_remote_free(remote);
	git_repository_free(repo);
	return rc;
}
