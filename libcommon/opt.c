/* opt.c: the options every program has: -h, --help and --version. */
#include <stdlib.h>

#include "wt.h"

/* The Makefile passes the suite's version; a build without it still says something. */
#ifndef WT_VERSION
#define WT_VERSION "unknown"
#endif

const char wt_version[] = WT_VERSION;

void
wt_usage(const char *text)
{
	fputs(text, stderr);
	exit(WT_EXIT_FATAL);
}

void
wt_opt_other(int c, const char *usage)
{
	switch (c) {
	case 'h':
		/* Asked for: the answer is output, and the run a success. */
		fputs(usage, stdout);
		break;
	case WT_OPT_VERSION:
		printf("%s %s\n", wt_progname, wt_version);
		break;
	default:
		/* getopt has said what was wrong with the option. */
		wt_usage(usage);
	}
	wt_flush_stdout();
	exit(WT_EXIT_OK);
}
