/* tap.h: a tiny TAP producer for the C unit tests of libcommon. */
#ifndef TAP_H
#define TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_n, tap_failed, tap_planned = -1;

/* The plan may come first (plan(n)) or last (done_testing()). */
static inline void
plan(int n)
{
	tap_planned = n;
	printf("1..%d\n", n);
	fflush(stdout);
}

static inline void
diag(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static inline int
tap_vok(int cond, const char *file, int line, const char *fmt, va_list ap)
{
	tap_n++;
	printf("%sok %d - ", cond ? "" : "not ", tap_n);
	vprintf(fmt, ap);
	printf("\n");
	if (!cond) {
		tap_failed++;
		printf("#   failed at %s:%d\n", file, line);
	}
	/* Tests fork: nothing may sit in the buffer when they do. */
	fflush(stdout);
	return cond;
}

static inline int
tap_ok(int cond, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = tap_vok(cond, file, line, fmt, ap);
	va_end(ap);
	return r;
}

/* Prints a byte string for a diagnostic, escaping what a terminal would eat. */
static inline void
tap_show(const char *what, const char *s, size_t n)
{
	size_t i;

	printf("#   %8s: ", what);
	if (!s) {
		printf("NULL\n");
		return;
	}
	putchar('\'');
	for (i = 0; i < n && i < 600; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\\')
			printf("\\\\");
		else if (c < 0x20 || c == 0x7f)
			printf("\\x%02x", c);
		else
			putchar(c);
	}
	printf(i < n ? "'... (%zu bytes)\n" : "'\n", n);
}

static inline int
tap_is_mem(const char *got, size_t gn, const char *want, size_t wn,
	   const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	int eq = (!got && !want) ||
		 (got && want && gn == wn && memcmp(got, want, gn) == 0), r;

	va_start(ap, fmt);
	r = tap_vok(eq, file, line, fmt, ap);
	va_end(ap);
	if (!eq) {
		tap_show("got", got, gn);
		tap_show("expected", want, wn);
		fflush(stdout);
	}
	return r;
}

static inline int
tap_is_long(long long got, long long want, const char *file, int line,
	    const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = tap_vok(got == want, file, line, fmt, ap);
	va_end(ap);
	if (got != want) {
		printf("#        got: %lld\n#   expected: %lld\n", got, want);
		fflush(stdout);
	}
	return r;
}

static inline size_t
tap_len(const char *s)
{
	return s ? strlen(s) : 0;
}

#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
/* is_str compares C strings (either may be NULL); is_mem counted bytes. */
#define is_str(got, want, ...)                                                 \
	tap_is_mem((got), tap_len(got), (want), tap_len(want), __FILE__,       \
		   __LINE__, __VA_ARGS__)
#define is_mem(got, gn, want, wn, ...)                                         \
	tap_is_mem((got), (gn), (want), (wn), __FILE__, __LINE__, __VA_ARGS__)
#define is_int(got, want, ...)                                                 \
	tap_is_long((long long)(got), (long long)(want), __FILE__, __LINE__,   \
		    __VA_ARGS__)

static inline void
skip(int n, const char *why)
{
	while (n-- > 0)
		printf("ok %d # skip %s\n", ++tap_n, why);
	fflush(stdout);
}

/* Ends the run: prints the plan when none was given; the exit status. */
static inline int
done_testing(void)
{
	if (tap_planned < 0)
		printf("1..%d\n", tap_n);
	else if (tap_planned != tap_n)
		printf("# planned %d tests but ran %d\n", tap_planned, tap_n);
	fflush(stdout);
	return tap_failed || (tap_planned >= 0 && tap_planned != tap_n);
}

/*
 * Helpers the tests share: a scratch directory removed at exit (by the
 * process that made it, not by a forked child that exits), small files, the
 * stderr of a stretch of code, and a function run in a child process.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char tap_tmp[4096];
static pid_t tap_tmp_owner;

/*
 * rm -rf, not nftw: nftw names every entry by its full path, and the walk
 * test's trees go deeper than PATH_MAX. --one-file-system: a mount a test
 * left behind is not emptied.
 */
static void
tap_tmp_clean(void)
{
	char *argv[] = { "rm", "-rf", "--one-file-system", "--", tap_tmp, NULL };
	pid_t pid;

	if (!tap_tmp[0] || getpid() != tap_tmp_owner)
		return;
	if ((pid = fork()) == 0) {
		execvp("rm", argv);
		_exit(127);
	}
	if (pid > 0)
		waitpid(pid, NULL, 0);
}

/* The test's scratch directory. */
static inline const char *
scratch(void)
{
	const char *t = getenv("TMPDIR");

	if (tap_tmp[0])
		return tap_tmp;
	snprintf(tap_tmp, sizeof(tap_tmp), "%s/wt-unit.XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(tap_tmp)) {
		perror("mkdtemp");
		exit(2);
	}
	tap_tmp_owner = getpid();
	atexit(tap_tmp_clean);
	return tap_tmp;
}

/* A path in the scratch directory, in a static buffer per call site's slot. */
static inline char *
tpath(const char *name)
{
	static char buf[8][4096];
	static int k;
	char *p = buf[k++ & 7];

	if ((size_t)snprintf(p, 4096, "%s/%s", scratch(), name) >= 4096) {
		fprintf(stderr, "path too long: %s\n", name);
		exit(2);
	}
	return p;
}

static inline void
write_file(const char *path, const void *s, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0 || write(fd, s, n) != (ssize_t)n || close(fd) < 0) {
		perror(path);
		exit(2);
	}
}

static inline void
write_str(const char *path, const char *s)
{
	write_file(path, s, strlen(s));
}

/* The file's content, NUL-terminated, in a new string; NULL when unreadable. */
static inline char *
read_file(const char *path, size_t *len)
{
	char *s = NULL;
	size_t n = 0, cap = 0;
	ssize_t k;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return NULL;
	for (;;) {
		if (cap - n < 4096) {
			cap = cap ? cap * 2 : 8192;
			s = realloc(s, cap);
		}
		k = read(fd, s + n, cap - n - 1);
		if (k <= 0)
			break;
		n += (size_t)k;
	}
	close(fd);
	s[n] = '\0';
	if (len)
		*len = n;
	return s;
}

static int tap_saved_err = -1;

/* stderr goes to a file until stderr_end(), which returns what was written. */
static inline void
stderr_begin(void)
{
	int fd;

	fflush(stderr);
	tap_saved_err = dup(2);
	fd = open(tpath("stderr"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
	dup2(fd, 2);
	close(fd);
}

/* Trailing newlines go, so a message can be quoted in a description. */
static inline char *
chomp(char *s)
{
	size_t n = s ? strlen(s) : 0;

	while (n && s[n - 1] == '\n')
		s[--n] = '\0';
	return s;
}

static inline char *
stderr_end(void)
{
	fflush(stderr);
	dup2(tap_saved_err, 2);
	close(tap_saved_err);
	return chomp(read_file(tpath("stderr"), NULL));
}

/*
 * Runs fn(arg) in a child process (which exits 0 when fn returns, its
 * stdout thrown away) and returns its exit status, or 128 + the signal that ended it. The child's
 * stderr is returned in *err (a new string) when err is not NULL.
 */
static inline int
run_child(void (*fn)(void *), void *arg, char **err)
{
	char *path = tpath("child.err");
	pid_t pid;
	int st, fd;

	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) < 0) {
		perror("fork");
		exit(2);
	}
	if (pid == 0) {
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(fd, 2);
		close(fd);
		/* stdout is the TAP stream: the child's output goes nowhere. */
		if (!freopen("/dev/null", "w", stdout))
			_exit(125);
		fn(arg);
		fflush(NULL);
		_exit(0);
	}
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (err)
		*err = chomp(read_file(path, NULL));
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

extern char **environ;

/*
 * A pinned world: no WT_* variable from the caller's environment, HOME and
 * the XDG directories in the scratch directory, UTC, NO_COLOR unset.
 */
static inline void
clean_env(void)
{
	char name[256], **e;
	size_t n;

again:
	for (e = environ; *e; e++)
		if (strncmp(*e, "WT_", 3) == 0 && (n = strcspn(*e, "=")) < sizeof(name)) {
			memcpy(name, *e, n);
			name[n] = '\0';
			unsetenv(name);
			goto again;
		}
	unsetenv("NO_COLOR");
	unsetenv("XDG_CONFIG_HOME");
	unsetenv("XDG_STATE_HOME");
	setenv("HOME", scratch(), 1);
	setenv("TZ", "UTC", 1);
	tzset();
}

/* 1 when s contains sub. */
static inline int
has(const char *s, const char *sub)
{
	return s && strstr(s, sub) != NULL;
}

/* Runs a shell command made with printf's format; its exit status as system() gives it. */
static inline int
sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline int
sh(const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	fflush(stdout);
	return system(cmd);
}

#endif
