/* gen-registry: a sorted registry of N realistic records for the benchmarks (not part of wt). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static uint64_t state = 0x9e3779b97f4a7c15ULL;

/* xorshift64*: fast, and the same registry for the same seed on every machine. */
static uint64_t
rnd(void)
{
	state ^= state >> 12;
	state ^= state << 25;
	state ^= state >> 27;
	return state * 0x2545f4914f6cdd1dULL;
}

static const char *stamp(time_t t, char *buf)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

int
main(int argc, char *argv[])
{
	static const char *const projects[] = {
		"api", "billing", "web", "search", "auth", "mobile", "etl", "infra",
		"docs", "payments", "notify", "analytics", "admin", "cli", "sdk-py",
		"sdk-go",
	};
	static const char hex[] = "0123456789abcdef";
	long n, i;
	time_t now, last, created;
	const char *status, *proj;
	char head[41], a[32], c[32];
	unsigned k;
	int j;

	if (argc != 3) {
		fprintf(stderr, "usage: gen-registry count now-epoch\n");
		return 2;
	}
	n = atol(argv[1]);
	now = (time_t)atoll(argv[2]);
	for (i = 0; i < n; i++) {
		k = (unsigned)(rnd() % 100);
		status = k < 40 ? "active" : k < 65 ? "merged" : k < 85 ? "stale" :
			 k < 90 ? "error" : "archived";
		proj = projects[rnd() % (sizeof(projects) / sizeof(projects[0]))];
		for (j = 0; j < 40; j++)
			head[j] = hex[rnd() & 15];
		head[40] = '\0';
		/* Last access spread evenly over two years; creation up to half a year before. */
		last = now - (time_t)(rnd() % (730L * 86400));
		created = last - (time_t)(rnd() % (180L * 86400));
		printf("{\"id\":\"SPEC-%07ld\",\"path\":\"/home/dev/wt/%s/SPEC-%07ld\","
		       "\"repo\":\"/home/dev/src/%s/.git\",", i, proj, i, proj);
		if (rnd() % 50 == 0)
			printf("\"branch\":null,");
		else
			printf("\"branch\":\"feature/spec-%07ld\",", i);
		printf("\"head\":\"%s\",\"status\":\"%s\",\"created_at\":\"%s\","
		       "\"last_accessed\":\"%s\",\"project\":\"%s\"}\n",
		       head, status, stamp(created, c), stamp(last, a), proj);
	}
	if (fflush(stdout) == EOF || ferror(stdout)) {
		perror("gen-registry: stdout");
		return 2;
	}
	return 0;
}
