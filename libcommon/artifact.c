/* artifact.c: the one table of recreatable artifacts: kinds, names, markers. */
#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wt.h"

/*
 * An entry is an artifact of kind when its name matches (a name may be a
 * glob: cmake-build-*, *.pyc), its parent directory's name matches parent
 * (when given), and one of the markers exists beside it (in the same
 * directory; a marker may be a glob, *.csproj, or a path,
 * ProjectSettings/ProjectVersion.txt) and, when given, the marker inside it.
 * Markers are what make the artifact recreatable: node_modules is only
 * node_modules next to a package.json. The caller still checks that git
 * tracks nothing inside. One rule a line: tests/0470-kinds.t reads this
 * table and checks that wt-du(1) and wt-prune(1) list it.
 */
#define MARKS 16
enum { T_DIR = 1, T_FILE = 2, T_ANY = 3 };

struct rule {
	const char *kind;
	const char *name;
	const char *parent;         /* required name of the parent directory */
	const char *beside[MARKS];  /* any of these next to it; none = no need */
	const char *inside;         /* this inside it */
	int type;                   /* what it may be: T_DIR, T_FILE or both */
};

/* A rule of the table in use, with how its name matches. */
struct live {
	struct rule r;
	int mode;
	size_t len;
};

#define BUILD_FILES { "package.json", "Makefile", "CMakeLists.txt", "setup.py", "pyproject.toml", "build.gradle", "build.gradle.kts", "meson.build", "Cargo.toml", "pom.xml", "pubspec.yaml" }
#define GRADLE_FILES { "build.gradle", "build.gradle.kts", "settings.gradle", "settings.gradle.kts", "gradlew" }
#define TEST_FILES { "package.json", "setup.py", "pyproject.toml", ".coveragerc", "tox.ini", "jest.config.js" }
#define DOTNET_FILES { "*.csproj", "*.fsproj", "*.vbproj" }
#define UNITY_FILES { "ProjectSettings/ProjectVersion.txt" }

/* Kinds are listed in the order of their first rule; new kinds go last. */
static const struct rule builtin[] = {
	{ "node_modules", "node_modules", NULL, { "package.json" }, NULL, T_DIR },
	{ "build", "build", NULL, BUILD_FILES, NULL, T_DIR },
	{ "dist", "dist", NULL, BUILD_FILES, NULL, T_DIR },
	{ "target", "target", NULL, { "Cargo.toml", "pom.xml", "build.sbt" }, NULL, T_DIR },
	{ "gradle", ".gradle", NULL, GRADLE_FILES, NULL, T_DIR },
	{ "cache", ".cache", NULL, { NULL }, NULL, T_DIR },
	{ "pycache", "__pycache__", NULL, { NULL }, NULL, T_DIR },
	{ "pytest_cache", ".pytest_cache", NULL, { NULL }, NULL, T_DIR },
	{ "mypy_cache", ".mypy_cache", NULL, { NULL }, NULL, T_DIR },
	{ "ruff_cache", ".ruff_cache", NULL, { NULL }, NULL, T_DIR },
	{ "tox", ".tox", NULL, { NULL }, NULL, T_DIR },
	{ "venv", ".venv", NULL, { NULL }, "pyvenv.cfg", T_DIR },
	{ "venv", "venv", NULL, { NULL }, "pyvenv.cfg", T_DIR },
	{ "npm", ".npm", NULL, { NULL }, NULL, T_DIR },
	{ "yarn_cache", "cache", ".yarn", { NULL }, NULL, T_DIR },
	{ "next", ".next", NULL, { "package.json" }, NULL, T_DIR },
	{ "turbo", ".turbo", NULL, { NULL }, NULL, T_DIR },
	{ "parcel_cache", ".parcel-cache", NULL, { NULL }, NULL, T_DIR },
	{ "coverage", "coverage", NULL, TEST_FILES, NULL, T_DIR },
	{ "ide_index", "caches", ".idea", { NULL }, NULL, T_DIR },
	{ "ide_index", "index", ".idea", { NULL }, NULL, T_DIR },
	{ "ide_index", ".ccls-cache", NULL, { NULL }, NULL, T_DIR },
	{ "ide_index", ".metals", NULL, { NULL }, NULL, T_DIR },
	{ "ide_index", ".bloop", NULL, { NULL }, NULL, T_DIR },
	{ "pyc", "*.pyc", NULL, { NULL }, NULL, T_FILE },
	{ "class", "*.class", NULL, { NULL }, NULL, T_FILE },
	{ "dist", "distribution", NULL, { "package.json" }, NULL, T_DIR },
	{ "build", "build", "android", GRADLE_FILES, NULL, T_DIR },
	{ "target", "target", "project", { "build.properties", "*.sbt" }, NULL, T_DIR },
	{ "angular", ".angular", NULL, { "angular.json", "package.json" }, NULL, T_DIR },
	{ "expo", ".expo", NULL, { "package.json" }, NULL, T_DIR },
	{ "pods", "Pods", NULL, { "Podfile" }, NULL, T_DIR },
	{ "stack", ".stack-work", NULL, { "stack.yaml" }, NULL, T_DIR },
	{ "cabal", "dist-newstyle", NULL, { "cabal.project", "*.cabal" }, NULL, T_DIR },
	{ "cmake", "cmake-build-*", NULL, { "CMakeLists.txt" }, NULL, T_DIR },
	{ "jupyter", ".ipynb_checkpoints", NULL, { "*.ipynb" }, NULL, T_DIR },
	{ "nox", ".nox", NULL, { "noxfile.py" }, NULL, T_DIR },
	{ "pypackages", "__pypackages__", NULL, { "pyproject.toml" }, NULL, T_DIR },
	{ "pixi", ".pixi", NULL, { "pixi.toml", "pyproject.toml" }, NULL, T_DIR },
	{ "dart", ".dart_tool", NULL, { "pubspec.yaml" }, NULL, T_DIR },
	{ "elixir", "_build", NULL, { "mix.exs" }, NULL, T_DIR },
	{ "elixir", "deps", NULL, { "mix.lock" }, NULL, T_DIR },
	{ "elixir", ".elixir_ls", NULL, { "mix.exs" }, NULL, T_DIR },
	{ "swift", ".build", NULL, { "Package.swift" }, NULL, T_DIR },
	{ "swift", ".swiftpm", NULL, { "Package.swift" }, NULL, T_DIR },
	{ "zig", "zig-cache", NULL, { "build.zig" }, NULL, T_DIR },
	{ "zig", ".zig-cache", NULL, { "build.zig" }, NULL, T_DIR },
	{ "zig", "zig-out", NULL, { "build.zig" }, NULL, T_DIR },
	{ "godot", ".godot", NULL, { "project.godot" }, NULL, T_DIR },
	{ "dotnet", "obj", NULL, DOTNET_FILES, NULL, T_DIR },
	{ "dotnet", "bin", NULL, DOTNET_FILES, NULL, T_DIR },
	{ "terraform", ".terraform", NULL, { "*.tf", ".terraform.lock.hcl" }, NULL, T_DIR },
	{ "pnpm_store", ".pnpm-store", NULL, { NULL }, NULL, T_DIR },
	{ "nuxt", ".nuxt", NULL, { "package.json" }, NULL, T_DIR },
	{ "svelte_kit", ".svelte-kit", NULL, { "package.json" }, NULL, T_DIR },
	{ "vite", ".vite", NULL, { NULL }, NULL, T_DIR },
	{ "nx", ".nx", NULL, { NULL }, NULL, T_DIR },
	{ "eslintcache", ".eslintcache", NULL, { NULL }, NULL, T_ANY },
	{ "rollup_cache", ".rollup.cache", NULL, { NULL }, NULL, T_DIR },
	{ "storybook", "storybook-static", NULL, { "package.json" }, NULL, T_DIR },
	{ "nyc_output", ".nyc_output", NULL, { NULL }, NULL, T_DIR },
	{ "docusaurus", ".docusaurus", NULL, { "package.json" }, NULL, T_DIR },
	{ "swc", ".swc", NULL, { NULL }, NULL, T_DIR },
	{ "vendor", "vendor", NULL, { "composer.json" }, "autoload.php", T_DIR },
	{ "vendor", "vendor", NULL, { "go.mod" }, "modules.txt", T_DIR },
	{ "out", "out", NULL, { "*.iml", ".idea" }, "production", T_DIR },
	{ "out", "out", NULL, { "next.config.js", "next.config.mjs", "next.config.ts" }, NULL, T_DIR },
	{ "unity", "Library", NULL, UNITY_FILES, NULL, T_DIR },
	{ "unity", "Temp", NULL, UNITY_FILES, NULL, T_DIR },
	{ "unity", "Obj", NULL, UNITY_FILES, NULL, T_DIR },
	{ "unity", "Build", NULL, UNITY_FILES, NULL, T_DIR },
};

/* The table in use: the built-in rules, then the configuration's. */
static struct live *rules;
static size_t nrules, caprules;
/* The rules a directory, and those a file, may match: most walks meet files. */
static const struct live **fordir, **forfile;
static size_t nfordir, nforfile;
static const char *kinds[WT_ARTIFACT_KINDS_MAX + 1];
static size_t nkinds;
static pthread_once_t once = PTHREAD_ONCE_INIT;

#define STR_(x) #x
#define STR(x) STR_(x)

enum { M_EXACT, M_SUFFIX, M_PREFIX, M_GLOB };

static int
is_glob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

/* Most names are looked at by every walk: a plain name is a strcmp, a*, *a a memcmp. */
static void
set_mode(struct live *r)
{
	const char *s = r->r.name;
	size_t n = strlen(s);

	r->len = n;
	if (!is_glob(s))
		r->mode = M_EXACT;
	else if (s[0] == '*' && !is_glob(s + 1))
		r->mode = M_SUFFIX, r->len = n - 1;
	else if (n > 1 && s[n - 1] == '*' && strpbrk(s, "*?[") == s + n - 1)
		r->mode = M_PREFIX, r->len = n - 1;
	else
		r->mode = M_GLOB;
}

static int
name_match(const struct live *r, const char *name)
{
	size_t n;

	switch (r->mode) {
	case M_EXACT:
		return strcmp(r->r.name, name) == 0;
	case M_SUFFIX:
		n = strlen(name);
		return n > r->len && memcmp(name + n - r->len, r->r.name + 1, r->len) == 0;
	case M_PREFIX:
		return strncmp(name, r->r.name, r->len) == 0 && name[r->len];
	default:
		return fnmatch(r->r.name, name, FNM_PERIOD) == 0;
	}
}

static int
kind_index(const char *kind)
{
	size_t i;

	for (i = 0; i < nkinds; i++)
		if (strcmp(kinds[i], kind) == 0)
			return (int)i;
	return -1;
}

static void
add_rule(const struct rule *r)
{
	if (nrules == caprules) {
		caprules = caprules ? caprules * 2 : 128;
		rules = wt_xrealloc(rules, caprules * sizeof(*rules));
	}
	rules[nrules].r = *r;
	set_mode(&rules[nrules]);
	nrules++;
	if (kind_index(r->kind) < 0)
		kinds[nkinds++] = r->kind;
}

/*
 * "" when the word is a good name (name NULL) or a good marker of name, else
 * what is wrong with it. A marker that is "." or the artifact itself is
 * always there: no marker at all.
 */
static const char *
bad_word(const char *w, const char *name)
{
	const char *p;
	size_t n;
	char first[256];

	if (!name) {
		if (strchr(w, '/'))
			return "a name has no '/'";
		if (strchr(w, ','))
			return "a name has no ','";
		if (!strcmp(w, ".") || !strcmp(w, "..") || !strcmp(w, ".git"))
			return "not a name an artifact can have";
		if (!w[strspn(w, "*?[]")])
			return "a name needs more than wildcards";
		return "";
	}
	if (w[0] == '/')
		return "a marker is relative to the directory beside it";
	for (p = w; p; p = strchr(p, '/'), p = p ? p + 1 : NULL) {
		n = strcspn(p, "/");
		if (!n || (n == 1 && p[0] == '.') || (n == 2 && !strncmp(p, "..", 2)))
			return "a marker's path has no empty, '.' or '..' part";
	}
	n = strcspn(w, "/");
	snprintf(first, sizeof(first), "%.*s", (int)(n < sizeof(first) ? n : sizeof(first) - 1), w);
	if (fnmatch(first, name, FNM_PERIOD) == 0)
		return "a marker is not the artifact itself";
	return "";
}

/*
 * One "artifact = NAME MARKER..." line of the configuration: a directory
 * NAME is an artifact beside any of the markers. A NAME the table has
 * already (without a parent) is one more rule of its kind; any other NAME
 * is a new kind of its own name. Called once, from init, by config.c.
 */
static void
user_rule(const char *value, const char *where)
{
	struct rule r = { 0 };
	char *copy = wt_xstrdup(value), *w, *save = NULL;
	const char *why = NULL;
	size_t i, nm = 0;

	r.type = T_DIR;
	for (w = strtok_r(copy, " \t", &save); w && !why; w = strtok_r(NULL, " \t", &save)) {
		if (*(why = bad_word(w, r.name)))
			break;
		why = NULL;
		if (!r.name)
			r.name = wt_xstrdup(w);
		else if (nm == MARKS - 1)
			why = "too many markers (at most 15)";
		else
			r.beside[nm++] = wt_xstrdup(w);
	}
	if (!why && !r.name)
		why = "no name";
	else if (!why && !nm)
		why = "no marker: a name alone is not known to be recreatable";
	for (i = 0; !why && i < nrules; i++)
		if (!rules[i].r.parent && !strcmp(rules[i].r.name, r.name)) {
			r.kind = rules[i].r.kind;
			r.type = rules[i].r.type;
			break;
		}
	if (!why && !r.kind) {
		if (kind_index(r.name) >= 0)
			why = "a kind of that name is in the table already";
		else if (nkinds == WT_ARTIFACT_KINDS_MAX)
			why = "too many kinds (at most " STR(WT_ARTIFACT_KINDS_MAX) " in all)";
		r.kind = r.name;
	}
	if (why)
		errx(WT_EXIT_FATAL, "%s: bad value for artifact: '%s': %s", where, value, why);
	add_rule(&r);
	free(copy);
}

static void
init(void)
{
	size_t i;

	for (i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++)
		add_rule(&builtin[i]);
	wt_config_artifacts(user_rule);
	kinds[nkinds] = NULL;
	fordir = wt_xmalloc((nrules + 1) * sizeof(*fordir));
	forfile = wt_xmalloc((nrules + 1) * sizeof(*forfile));
	for (i = 0; i < nrules; i++) {
		if (rules[i].r.type & T_DIR)
			fordir[nfordir++] = &rules[i];
		if (rules[i].r.type & T_FILE)
			forfile[nforfile++] = &rules[i];
	}
}

static void
ready(void)
{
	pthread_once(&once, init);
}

const char *const *
wt_artifact_kinds(void)
{
	ready();
	return kinds;
}

int
wt_artifact_kind_valid(const char *kind)
{
	ready();
	return kind_index(kind) >= 0;
}

/* 1 when something matching the marker m is in the directory dirfd. */
static int
has_marker(int dirfd, const char *m)
{
	struct live r = { .r.name = m };
	struct dirent *de;
	DIR *d;
	int fd, hit = 0;

	if (!is_glob(m))
		return faccessat(dirfd, m, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
	set_mode(&r);
	if ((fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return 0;
	if (!(d = fdopendir(fd))) {
		close(fd);
		return 0;
	}
	while (!hit && (de = readdir(d)))
		hit = name_match(&r, de->d_name);
	closedir(d);
	return hit;
}

/* The kind of the entry name in dirfd, of type T_DIR or T_FILE, or NULL. */
static const char *
match(int dirfd, const char *parent, const char *name, int type)
{
	struct wt_buf b = WT_BUF_INIT;
	const struct live **set;
	size_t i, k, n;
	int hit;

	ready();
	set = type == T_DIR ? fordir : forfile;
	n = type == T_DIR ? nfordir : nforfile;
	for (i = 0; i < n; i++) {
		const struct rule *r = &set[i]->r;

		if (!name_match(set[i], name))
			continue;
		if (r->parent && (!parent || strcmp(r->parent, parent) != 0))
			continue;
		hit = !r->beside[0];
		for (k = 0; !hit && k < MARKS && r->beside[k]; k++)
			hit = dirfd >= 0 && has_marker(dirfd, r->beside[k]);
		if (hit && r->inside) {
			wt_buf_reset(&b);
			wt_buf_addf(&b, "%s/%s", name, r->inside);
			hit = dirfd >= 0 && faccessat(dirfd, b.s, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
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
wt_artifact_dir(int dirfd, const char *parent, const char *name)
{
	return match(dirfd, parent, name, T_DIR);
}

const char *
wt_artifact_file_at(int dirfd, const char *parent, const char *name)
{
	return match(dirfd, parent, name, T_FILE);
}

const char *
wt_artifact_file(const char *name)
{
	return match(-1, NULL, name, T_FILE);
}

/* Parses "node_modules,pycache" into a mask over kinds; -1 on an unknown kind. */
long long
wt_artifact_mask(const char *list, const char **bad)
{
	struct wt_buf b = WT_BUF_INIT;
	const char *p = list, *e;
	long long mask = 0;
	int i;

	ready();
	while (*p) {
		e = strchr(p, ',');
		wt_buf_reset(&b);
		wt_buf_add(&b, p, e ? (size_t)(e - p) : strlen(p));
		if ((i = kind_index(b.s)) < 0) {
			static char badbuf[256];

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
	int i;

	ready();
	return (i = kind_index(kind)) >= 0 && ((mask >> i) & 1);
}

