/* timeutil.c: RFC 3339 times, parsed leniently and written in UTC. */
#include <ctype.h>
#include <err.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "wt.h"

/*
 * n digits (2 or 4) at *p. Inline, so that each call's loop is unrolled:
 * a loop whose count changes from call to call is a branch that the
 * processor guesses wrong.
 */
static inline __attribute__((always_inline)) int
digits(const char **p, int n, int *v)
{
	unsigned c;
	int x = 0;

	while (n--) {
		/* Not isdigit: its table is the locale's, and 0-9 are digits in all. */
		if ((c = (unsigned char)**p - '0') > 9)
			return -1;
		x = x * 10 + (int)c;
		(*p)++;
	}
	*v = x;
	return 0;
}

/* timegm would take 2026-02-30 for March 2nd: a day must exist in its month. */
static int
days_in(int y, int mo)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (mo == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))
		return 29;
	return days[mo - 1];
}

/*
 * Days since 1970-01-01 of a date of the proleptic Gregorian calendar, and
 * back (Howard Hinnant's algorithms): timegm's arithmetic, without its time
 * zone machinery.
 */
static long long
days_from_civil(long long y, int m, int d)
{
	long long era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (unsigned)((153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1);
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (long long)doe - 719468;
}

static void
civil_from_days(long long z, long long *y, int *m, int *d)
{
	long long era;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (long long)yoe + era * 400 + (*m <= 2);
}

int
wt_time_parse(const char *s, int flags, time_t *t)
{
	struct tm tm;
	int y, mo, d, h = 0, mi = 0, sec = 0, oh, om, sign;
	long off = 0;
	int local = 0;
	const char *p = s;

	if (!s)
		return -1;
	memset(&tm, 0, sizeof(tm));
	if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) ||
	    *p++ != '-' || digits(&p, 2, &d))
		return -1;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		p++;
		if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi))
			return -1;
		if (*p == ':') {
			p++;
			if (digits(&p, 2, &sec))
				return -1;
		}
		if (*p == '.' || *p == ',') {
			p++;
			if (!isdigit((unsigned char)*p))
				return -1;
			while (isdigit((unsigned char)*p))
				p++;
		}
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
		local = flags & WT_TIME_LOCALZ;
	} else if (*p == '+' || *p == '-') {
		sign = *p++ == '-' ? -1 : 1;
		if (digits(&p, 2, &oh))
			return -1;
		if (*p == ':')
			p++;
		if (digits(&p, 2, &om) || oh > 23 || om > 59)
			return -1;
		off = sign * (oh * 3600L + om * 60L);
	} else if (*p == '\0' && (flags & WT_TIME_LOCALZ)) {
		local = 1;
	}
	if (*p != '\0')
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > days_in(y, mo) || h > 23 || mi > 59 ||
	    sec > 60)
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	if (local) {
		tm.tm_isdst = -1;
		*t = mktime(&tm);
	} else {
		/* timegm's arithmetic without its time zone machinery. */
		*t = (time_t)(days_from_civil(y, mo, d) * 86400 + h * 3600L + mi * 60L +
			      sec - off);
	}
	return 0;
}

/* Writes v (0-99) as two digits at p; returns the byte after them. */
static inline char *
two(char *p, unsigned v)
{
	p[0] = (char)('0' + v / 10);
	p[1] = (char)('0' + v % 10);
	return p + 2;
}

char *
wt_time_fmt(time_t t, char *buf)
{
	struct tm tm;
	long long y, days = (long long)(t / 86400), secs = (long long)(t % 86400);
	unsigned yy, hms;
	int m, d;
	char *p = buf;

	if (secs < 0) {
		secs += 86400;
		days--;
	}
	civil_from_days(days, &y, &m, &d);
	if (y < 1000 || y > 9999) {
		/* Let strftime decide how such years look. */
		gmtime_r(&t, &tm);
		strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
		return buf;
	}
	/* In 32-bit unsigned parts, which divide by constants cheaply. */
	yy = (unsigned)y;
	hms = (unsigned)secs;
	p = two(p, yy / 100);
	p = two(p, yy % 100);
	*p++ = '-';
	p = two(p, (unsigned)m);
	*p++ = '-';
	p = two(p, (unsigned)d);
	*p++ = 'T';
	p = two(p, hms / 3600);
	*p++ = ':';
	p = two(p, hms / 60 % 60);
	*p++ = ':';
	p = two(p, hms % 60);
	*p++ = 'Z';
	*p = '\0';
	return buf;
}

time_t
wt_now(void)
{
	const char *e = getenv("WT_NOW");
	char *end;
	time_t t;
	long long v;

	if (e && *e) {
		if (wt_time_parse(e, 0, &t) == 0)
			return t;
		errno = 0;
		v = strtoll(e, &end, 10);
		if (*end == '\0' && !errno)
			return (time_t)v;
		/* Falling back to the real now would unpin a test without a word. */
		errx(WT_EXIT_FATAL, "bad value for WT_NOW: '%s'", e);
	}
	return time(NULL);
}
