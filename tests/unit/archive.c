/* archive.c: the manifest parser's checks on paths, entries and hostile lists. */
#include <string.h>
#include <sys/stat.h>

#include "wt.h"
#include "tap.h"

#define HEAD "{\"format\":\"wt-archive/1\",\"id\":\"w\",\"name\":\"w\",\"head\":\"abc\",\"git\":[],\"files\":"
#define F(p) "{\"path\":\"" p "\",\"type\":\"file\",\"mode\":\"0644\",\"size\":1,\"crc32\":\"0000abcd\"}"
#define D(p) "{\"path\":\"" p "\",\"type\":\"dir\",\"mode\":\"0755\"}"
#define L(p, t) "{\"path\":\"" p "\",\"type\":\"symlink\",\"target\":\"" t "\"}"

/* Parses HEAD files "}" and returns NULL when accepted, else the reason. */
static const char *
parse(const char *files)
{
	struct wt_manifest m;
	struct wt_buf b = WT_BUF_INIT;
	const char *why = NULL;

	wt_buf_addf(&b, HEAD "%s}", files);
	if (wt_manifest_parse(&m, b.s, b.len, &why) == 0)
		wt_manifest_release(&m);
	else if (!why)
		why = "rejected without a reason";
	wt_buf_release(&b);
	return why;
}

static void
accepts(const char *files, const char *what)
{
	const char *why = parse(files);

	ok(!why, "accepts %s", what);
	if (why)
		diag("rejected: %s", why);
}

static void
refuses(const char *files, const char *what)
{
	const char *why = parse(files);

	ok(why != NULL, "refuses %s", what);
	if (!why)
		diag("accepted: %s", files);
}

/* A manifest built from a snapshot parses back to the same entries, names in hex included. */
static void
built(void)
{
	struct wt_snap_ent v[3];
	struct wt_snap_skip sk = { "node_modules", "node_modules" };
	struct wt_snapshot s;
	struct wt_git_state g;
	struct wt_manifest_of w;
	struct wt_manifest m;
	struct wt_buf b = WT_BUF_INIT;
	const char *why = NULL, *at = NULL;
	char raw[] = "raw\377name";

	memset(v, 0, sizeof(v));
	memset(&s, 0, sizeof(s));
	memset(&g, 0, sizeof(g));
	memset(&w, 0, sizeof(w));
	v[0].path = "d";
	v[0].st.st_mode = S_IFDIR | 0755;
	v[1].path = "d/f";
	v[1].st.st_mode = S_IFREG | 0600;
	v[1].st.st_size = 3;
	v[1].crc = 0x1234abcd;
	v[2].path = raw;
	v[2].st.st_mode = S_IFLNK | 0777;
	v[2].target = "d/f";
	s.v = v;
	s.n = 3;
	s.s = &sk;
	s.ns = 1;
	g.f[0].name = ".wt-git/index";
	g.f[0].len = 5;
	g.f[0].crc = 7;
	memset(g.f[0].sha, 0x5a, WT_SHA256_LEN);
	g.n = 1;
	memset(v[1].sha, 0xa5, WT_SHA256_LEN);
	w.id = "w";
	w.name = "w";
	w.path = "/x/w";
	w.repo = "/x/r/.git";
	w.head = "abc";
	w.ref = "refs/wt/archived/w";
	w.record = "{\"id\":\"w\"}";
	w.record_len = strlen(w.record);
	wt_manifest_build(&b, &w, &g, &s);
	if (ok(wt_manifest_parse(&m, b.s, b.len, &why) == 0, "a built manifest parses")) {
		is_int((long long)m.ngit, 1, "git's state");
		is_int((long long)m.nitems, 4, "and every entry");
		is_str(m.items[3].path, raw, "a name that is not UTF-8, through hex");
		is_int((long long)m.items[2].crc, 0x1234abcd, "the crc32");
		is_int((long long)m.items[2].mode, 0600, "the mode");
		ok(m.version == 2 && m.items[2].sha[0] == 0xa5 && m.items[2].sha[31] == 0xa5 &&
		   m.items[0].sha[0] == 0x5a, "format 2: the sha256 of files and git's state");
		ok(wt_item_data_ok(&m, &m.items[2], "abc", 3) == 0,
		   "data whose sha256 differs is not the item's");
		ok(wt_manifest_has_git_state(&m, &g), "its git state is g, sha256 and all");
		g.f[0].sha[5] ^= 1;
		ok(!wt_manifest_has_git_state(&m, &g), "not with another sha256");
		g.f[0].sha[5] ^= 1;
		ok(m.branch == NULL && m.nskipped == 1, "detached, one left out");
		ok(wt_manifest_has_git_state(&m, &g), "its git state is g");
		ok(wt_manifest_covers(&m, &s, &at), "it covers the snapshot");
		v[1].crc = 1;
		ok(!wt_manifest_covers(&m, &s, &at) && strcmp(at, "d/f") == 0,
		   "a changed file is not covered");
		wt_manifest_release(&m);
	} else {
		diag("%s", why);
	}
	ok(strchr(b.s, '\n') != b.s + b.len - 1, "the manifest is in lines");
	wt_buf_release(&b);
}

int
main(void)
{
	struct wt_manifest m;
	struct wt_buf b = WT_BUF_INIT;
	const char *why;

	wt_setprogname("unit");
	accepts("[" D("d") "," F("d/f") "," L("d/l", "../../etc") "," F("top") "]",
		"directories before their files, links pointing anywhere");
	accepts("[{\"path_hex\":\"726177ff\",\"type\":\"file\",\"mode\":\"0600\",\"size\":1,"
		"\"crc32\":\"00000001\"}]", "a name in hex that is not UTF-8");
	refuses("[" F("../evil") "]", "..");
	refuses("[" F("a/../../evil") "]", ".. inside a path");
	refuses("[" F("/etc/passwd") "]", "an absolute path");
	refuses("[" F("./a") "]", "a . component");
	refuses("[" F("a//b") "]", "an empty component");
	refuses("[" F("") "]", "an empty path");
	refuses("[" F("d/f") "]", "a file whose directory is not listed");
	refuses("[" F("f") "," D("f") "]", "a path listed twice");
	refuses("[" L("l", "/tmp") "," F("l/f") "]", "a file through a symbolic link");
	refuses("[" F("l") "," F("l/f") "]", "a file through a file");
	refuses("[" D("d") "," L("d/l", "/") "," D("d/l/x") "," F("d/l/x/f") "]",
		"a deeper path through a symbolic link");
	refuses("[" F(".git") "]", "a .git entry (it would redirect git)");
	refuses("[" D(".git") "," F(".git/config") "]", "a .git directory");
	refuses("[" F(".wt-manifest.json") "]", "the manifest's own name");
	refuses("[" F(".wt-git/index") "]", "git's state among the files");
	refuses("[{\"path_hex\":\"2e2e\",\"type\":\"file\",\"mode\":\"0644\",\"size\":1,"
		"\"crc32\":\"00000001\"}]", ".. written in hex");
	refuses("[{\"path_hex\":\"6100\",\"type\":\"file\",\"mode\":\"0644\",\"size\":1,"
		"\"crc32\":\"00000001\"}]", "a NUL byte in hex");
	refuses("[{\"path\":\"a\",\"type\":\"fifo\"}]", "an unknown type");
	refuses("[{\"path\":\"a\",\"type\":\"file\",\"mode\":\"0644\",\"size\":-1,"
		"\"crc32\":\"00000001\"}]", "a negative size");
	refuses("[{\"path\":\"a\",\"type\":\"file\",\"mode\":\"0644\",\"size\":1}]",
		"a file without crc32");
	refuses("[{\"path\":\"a\",\"type\":\"file\",\"mode\":\"99\",\"size\":1,"
		"\"crc32\":\"00000001\"}]", "a mode that is not octal");
	refuses("[{\"path\":\"a\",\"type\":\"symlink\"}]", "a link without a target");

	wt_buf_adds(&b, "{\"format\":\"wt-archive/1\",\"id\":\"w\",\"name\":\"../w\",\"head\":\"abc\","
		    "\"git\":[],\"files\":[]}");
	ok(wt_manifest_parse(&m, b.s, b.len, &why) < 0, "refuses a worktree name with ..");
	wt_buf_reset(&b);
	wt_buf_adds(&b, "{\"format\":\"wt-archive/1\",\"id\":\"w\",\"name\":\"w\",\"head\":\"abc\","
		    "\"git\":[" F(".wt-git/hooks/pre-commit") "],\"files\":[]}");
	ok(wt_manifest_parse(&m, b.s, b.len, &why) < 0, "refuses git state other than the known files");
	wt_buf_reset(&b);
	wt_buf_adds(&b, "{\"format\":\"other\",\"id\":\"w\",\"name\":\"w\",\"head\":\"abc\","
		    "\"git\":[],\"files\":[]}");
	ok(wt_manifest_parse(&m, b.s, b.len, &why) < 0, "refuses another format");
	wt_buf_reset(&b);
	wt_buf_adds(&b, HEAD "[" D("d") "," F("d/f") "],\"skipped\":[{\"path\":\"node_modules\","
		    "\"kind\":\"node_modules\"}]}");
	if (ok(wt_manifest_parse(&m, b.s, b.len, &why) == 0, "parses a whole manifest")) {
		is_int((long long)m.nitems, 2, "two entries");
		is_str(m.items[1].path, "d/f", "in order");
		is_int((long long)m.items[1].crc, 0xabcd, "crc32 read as hex");
		is_int((long long)m.nskipped, 1, "what was left out");
		wt_manifest_release(&m);
	}
	wt_buf_reset(&b);
	wt_buf_adds(&b, "{\"format\":\"wt-archive/1\",\"id\":\"w\",\"name\":\"w\",\"head\":\"abc\","
		    "\"git\":[" F(".wt-git/index") "," F(".wt-git/index") "],\"files\":[]}");
	ok(wt_manifest_parse(&m, b.s, b.len, &why) < 0,
	   "refuses git state listed twice (at most WT_GIT_STATE_MAX)");
	built();
	/* Format 2: every file has a sha256; format 1 files (HEAD's) have none. */
	wt_buf_reset(&b);
	wt_buf_adds(&b, "{\"format\":\"wt-archive/2\",\"id\":\"w\",\"name\":\"w\",\"head\":\"abc\","
		    "\"git\":[],\"files\":[" F("f") "]}");
	ok(wt_manifest_parse(&m, b.s, b.len, &why) < 0 && strstr(why, "sha256"),
	   "format 2 refuses a file without sha256");
	wt_buf_reset(&b);
	wt_buf_adds(&b, "{\"format\":\"wt-archive/2\",\"id\":\"w\",\"name\":\"w\",\"head\":\"abc\","
		    "\"git\":[],\"files\":[{\"path\":\"f\",\"type\":\"file\",\"mode\":\"0644\","
		    "\"size\":3,\"crc32\":\"352441c2\",\"sha256\":"
		    "\"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\"}]}");
	if (ok(wt_manifest_parse(&m, b.s, b.len, &why) == 0, "format 2 with its sha256 parses")) {
		ok(wt_item_data_ok(&m, &m.items[0], "abc", 3) && !wt_item_data_ok(&m, &m.items[0], "abd", 3),
		   "its data is checked by sha256");
		wt_manifest_release(&m);
	}
	if (ok(wt_manifest_parse(&m, HEAD "[" F("f") "]}", strlen(HEAD "[" F("f") "]}"), &why) == 0,
	       "format 1 parses without sha256")) {
		ok(m.version == 1 && wt_item_data_ok(&m, &m.items[0], "\x01", 1) == 0,
		   "its data is checked by crc32");
		wt_manifest_release(&m);
	}
	wt_buf_reset(&b);
	wt_buf_adds(&b, "{\"format\":\"wt-archive/1\",\"id\":\"w\",\"name\":\"w\",\"head\":\"abc\","
		    "\"git\":[" F(".wt-git/config.worktree") "],\"files\":[]}");
	ok(wt_manifest_parse(&m, b.s, b.len, &why) < 0, "refuses git's config.worktree");
	wt_buf_reset(&b);
	wt_buf_adds(&b, "{\"format\":\"wt-archive/1\",\"id\":\"w\",\"name\":\"w\",\"head\":\"abc\","
		    "\"git\":[" F(".wt-git/config") "],\"files\":[]}");
	ok(wt_manifest_parse(&m, b.s, b.len, &why) < 0, "refuses git's config");
	ok(wt_archive_git_names()[WT_GIT_STATE_MAX] == NULL &&
	   strcmp(wt_archive_git_names()[2], ".wt-git/logs/HEAD") == 0,
	   "the git state names: index, HEAD, logs/HEAD");
	wt_buf_release(&b);
	ok(wt_archive_path_ok("a/b.c") && !wt_archive_path_ok("a/") && !wt_archive_path_ok(".."),
	   "wt_archive_path_ok");
	return done_testing();
}
