/* artifact.c: the one table of recreatable artifacts (wt-du, wt-prune, wt-archive). */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "wt.h"

/*
 * A directory is an artifact of kind when its name matches, its parent
 * directory's name matches parent (when given), and one of the markers exists
 * beside it (in the same directory) or inside it. Markers are what make the
 * artifact recreatable: node_modules is only node_modules next to a
 * package.json. The caller still checks that git tracks nothing inside.
 */
struct rule {
	const char *kind;
	const char *name;
	const char *parent;         /* required name of the parent directory */
	const char *beside[10];     /* any of these next to it; none = no need */
	const char *inside;         /* this inside it */
};

#define BUILD_MARKERS { "package.json", "Makefile", "CMakeLists.txt", "setup.py", \
	"pyproject.toml", "build.gradle", "build.gradle.kts", "meson.build", \
	"Cargo.toml", "pom.xml" }

static const struct rule rules[] = {
	{ "node_modules", "node_modules", NULL, { "package.json" }, NULL },
	{ "build", "build", NULL, BUILD_MARKERS, NULL },
	{ "dist", "dist", NULL, BUILD_MARKERS, NULL },
	{ "target", "target", NULL, { "Cargo.toml", "pom.xml" }, NULL },
	{ "gradle", ".gradle", NULL, { "build.gradle", "build.gradle.kts",
		"settings.gradle", "settings.gradle.kts", "gradlew" }, NULL },
	{ "cache", ".cache", NULL, { NULL }, NULL },
	{ "pycache", "__pycache__", NULL, { NULL }, NULL },
	{ "pytest_cache", ".pytest_cache", NULL, { NULL }, NULL },
	{ "mypy_cache", ".mypy_cache", NULL, { NULL }, NULL },
	{ "ruff_cache", ".ruff_cache", NULL, { NULL }, NULL },
	{ "tox", ".tox", NULL, { NULL }, NULL },
	{ "venv", ".venv", NULL, { NULL }, "pyvenv.cfg" },
	{ "venv", "venv", NULL, { NULL }, "pyvenv.cfg" },
	{ "npm", ".npm", NULL, { NULL }, NULL },
	{ "yarn_cache", "cache", ".yarn", { NULL }, NULL },
	{ "next", ".next", NULL, { "package.json" }, NULL },
	{ "turbo", ".turbo", NULL, { NULL }, NULL },
	{ "parcel_cache", ".parcel-cache", NULL, { NULL }, NULL },
	{ "coverage", "coverage", NULL, { "package.json", "setup.py", "pyproject.toml",
		".coveragerc", "tox.ini", "jest.config.js" }, NULL },
	{ "ide_index", "caches", ".idea", { NULL }, NULL },
	{ "ide_index", "index", ".idea", { NULL }, NULL },
	{ "ide_index", ".ccls-cache", NULL, { NULL }, NULL },
	{ "ide_index", ".metals", NULL, { NULL }, NULL },
	{ "ide_index", ".bloop", NULL, { NULL }, NULL },
};

static const char *const kinds[] = {
	"node_modules", "build", "dist", "target", "gradle", "cache", "pycache",
	"pytest_cache", "mypy_cache", "ruff_cache", "tox", "venv", "npm",
	"yarn_cache", "next", "turbo", "parcel_cache", "coverage", "ide_index",
	"pyc", "class", NULL
};

const char *const *
wt_artifact_kinds(void)
{
	return kinds;
}

int
wt_artifact_kind_valid(const char *kind)
{
	size_t i;

	for (i = 0; kinds[i]; i++)
		if (strcmp(kinds[i], kind) == 0)
			return 1;
	return 0;
}

const char *
wt_artifact_dir(int dirfd, const char *parent, const char *name)
{
	struct wt_buf b = WT_BUF_INIT;
	size_t i, k;
	int hit;

	for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		const struct rule *r = &rules[i];

		if (strcmp(r->name, name) != 0)
			continue;
		if (r->parent && (!parent || strcmp(r->parent, parent) != 0))
			continue;
		hit = !r->beside[0];
		for (k = 0; !hit && k < 10 && r->beside[k]; k++)
			hit = faccessat(dirfd, r->beside[k], F_OK, AT_SYMLINK_NOFOLLOW) == 0;
		if (hit && r->inside) {
			wt_buf_reset(&b);
			wt_buf_addf(&b, "%s/%s", name, r->inside);
			hit = faccessat(dirfd, b.s, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
		}
		if (hit) {
			wt_buf_release(&b);
			return r->kind;
		}
	}
	wt_buf_release(&b);
	return NULL;
}

const char *
wt_artifact_file(const char *name)
{
	size_t n = strlen(name);

	if (n > 4 && strcmp(name + n - 4, ".pyc") == 0)
		return "pyc";
	if (n > 6 && strcmp(name + n - 6, ".class") == 0)
		return "class";
	return NULL;
}

/* Parses "node_modules,pycache" into a mask over kinds; -1 on an unknown kind. */
long long
wt_artifact_mask(const char *list, const char **bad)
{
	struct wt_buf b = WT_BUF_INIT;
	const char *p = list, *e;
	long long mask = 0;
	size_t i;

	while (*p) {
		e = strchr(p, ',');
		wt_buf_reset(&b);
		wt_buf_add(&b, p, e ? (size_t)(e - p) : strlen(p));
		for (i = 0; kinds[i] && strcmp(kinds[i], b.s) != 0; i++)
			;
		if (!kinds[i]) {
			static char badbuf[64];

			snprintf(badbuf, sizeof(badbuf), "%s", b.s);
			*bad = badbuf;
			wt_buf_release(&b);
			return -1;
		}
		mask |= 1LL << i;
		p = e ? e + 1 : p + strlen(p);
	}
	wt_buf_release(&b);
	return mask;
}

int
wt_artifact_in_mask(const char *kind, long long mask)
{
	size_t i;

	for (i = 0; kinds[i]; i++)
		if (strcmp(kinds[i], kind) == 0)
			return (mask >> i) & 1;
	return 0;
}
