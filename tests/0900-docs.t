#!/bin/sh
# The pages say only what is so: every program and page they name exists, every
# configuration key the code knows is in wt(7)'s table, and the reverse.
. "$(dirname "$0")/lib.sh"
plan 12
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

# Programs and pages named: .Xr NAME SECTION in the pages, NAME(1) in the README.
named=$( (grep -ohE '^\.Xr wt[-a-z]* [157]' man/* | awk '{print $2 "." $3}';
	  grep -ohE '\bwt(-[a-z]+)?\([157]\)' README.md man/* | sed 's/(/./; s/)//') | sort -u)
missing=""
for n in $named; do
	[ -f "man/$n" ] || missing="$missing $n"
done
check_same "every page a page or the README names exists" "" "$missing"
missing=""
for n in $named; do
	case $n in *.1) p=${n%.1}; [ -f "cmd/$p.c" ] || missing="$missing $p" ;; esac
done
check_same "every program a page or the README names exists" "" "$missing"
missing=""
for p in cmd/*.c; do
	p=$(basename "$p" .c)
	[ -f "man/$p.1" ] || missing="$missing $p"
done
check_same "every program has its page" "" "$missing"
# The programs still to come are not named as if they were there.
missing=""
for p in wt-sync wt-fsck wt-add wt-report wt-gc; do
	[ -f "cmd/$p.c" ] && continue
	grep -lw -- "$p" README.md man/* > /dev/null 2>&1 && missing="$missing $p"
done
check_same "no page names a program that does not exist yet" "" "$missing"
# The keys: config.c's table against wt(7)'s.
code=$(sed -n 's/^[[:space:]]*{ "\([a-z_]*\)", K_[A-Z]*,.*/\1/p' libcommon/config.c | sort)
doc=$(sed -n 's/^\.It Cm \([a-z_]*\) Ta .*/\1/p' man/wt.7 | sort)
check "config.c's table has keys (the pattern still matches)" test -n "$code"
check_same "every key config.c reads is in wt(7)'s table, and no other" "$code" "$doc"

# The artifacts: artifact.c's table against the one wt-du(1) and wt-prune(1) list.
# The table in artifact.c, a rule a line: kind|path|type|markers, markers sorted.
phrases='s/a build file/@BUILD_FILES/g; s/a Gradle file/@GRADLE_FILES/g; s/a test set-up/@TEST_FILES/g; s/a \.NET project/@DOTNET_FILES/g; s/a Unity project/@UNITY_FILES/g'
code_rules() {
	sed -n '/^static const struct rule builtin\[\] = {/,/^};/p' libcommon/artifact.c |
	sed -nE 's/^	\{ "([^"]*)", "([^"]*)", (NULL|"[^"]*"), (\{[^}]*\}|[A-Z_]+), (NULL|"[^"]*"), T_([A-Z]+) \},$/\1|\2|\3|\4|\5|\6/p' |
	awk -F'|' '{
		path = $2; if ($3 != "NULL") { p = $3; gsub(/"/, "", p); path = p "/" $2 }
		m = ""
		if ($4 ~ /^[A-Z_]+$/) m = "b:@" $4
		else { s = $4; gsub(/[{}",]/, " ", s); n = split(s, w, " ")
			for (i = 1; i <= n; i++) if (w[i] != "NULL") m = m " b:" w[i] }
		if ($5 != "NULL") { s = $5; gsub(/"/, "", s); m = m " i:" s }
		print $1 "|" path "|" tolower($6) "|" m
	}' | canon
}
# A line's markers sorted, so that order in a row is free.
canon() {
	awk -F'|' '{ n = split($4, w, " "); s = ""
		for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (w[j] < w[i]) { t = w[i]; w[i] = w[j]; w[j] = t }
		for (i = 1; i <= n; i++) s = s (i > 1 ? " " : "") w[i]
		print $1 "|" $2 "|" $3 "|" s }' | sort
}
# The table of a page: .It Cm KIND Ta Pa NAME , NAME [No files] Ta WHEN.
page_rules() {
	sed -n '/^\.Bl -column "parcel_cache"/,/^\.El/p' "$1" | grep '^\.It Cm ' | sed "$phrases" |
	awk -F' Ta ' '{
		split($1, k, " "); kind = k[3]
		type = "dir"; names = $2
		if (names ~ / No files$/) { type = "file"; sub(/ No files$/, "", names) }
		if (names ~ / No file or directory$/) { type = "any"; sub(/ No file or directory$/, "", names) }
		sub(/^Pa /, "", names); gsub(/ , /, " ", names)
		n = split($3, w, " "); m = ""; mode = ""
		for (i = 1; i <= n; i++) {
			if (w[i] == "beside") mode = "b:"
			else if (w[i] == "with") mode = "i:"
			else if (w[i] ~ /^(Pa|No|or|,|inside|always)$/) continue
			else m = m " " mode w[i]
		}
		c = split(names, p, " ")
		for (i = 1; i <= c; i++) print kind "|" p[i] "|" type "|" m
	}' | canon
}
code_sets() {
	sed -nE 's/^#define ([A-Z]+_FILES) \{(.*)\}$/\1|\2/p' libcommon/artifact.c |
	awk -F'|' '{ s = $2; gsub(/[",]/, " ", s); print $1 "|||" s }' | canon
}
page_sets() {
	sed -n '/^The sets of files:/,/^\.El/p' "$1" | sed "$phrases" |
	awk '/^\.It @/ { set = substr($2, 2); next }
	     /^\.Pa / && set { s = $0; sub(/^\.Pa /, "", s); gsub(/ , /, " ", s); print set "|||" s; set = "" }' | canon
}
rules=$(code_rules)
check_same "every rule of artifact.c's table is read (the pattern still matches)" \
	"$(sed -n '/^static const struct rule builtin\[\] = {/,/^};/p' libcommon/artifact.c | grep -c '^	{ "')" \
	"$(printf '%s\n' "$rules" | grep -c .)"
for page in man/wt-du.1 man/wt-prune.1; do
	check_same "$page lists artifact.c's table: kinds, names, markers" "$rules" "$(page_rules "$page")"
	check_same "$page's sets of files are artifact.c's" "$(code_sets)" "$(page_sets "$page")"
done

# Every field wt-record(5) names is a column wt-fmt knows, also when no
# record of its input has it. Words the page marks that are values, or
# members named inside an object's braces, are not fields.
values='^(active|merged|stale|error|archived|up-to-date|fast-forward|rebased|diverged|conflict|skipped|reflink|copy|index|reflog|files|last_accessed|how|result|remove|prune|archive|restore|sync|create|adopt|main|locked|in_use|git_running|detached|unborn|no_upstream|dirty|duplicate|sync_running|read|journal|commit)$'
known=$(sed -n '/^static const char \*const known\[\] = {/,/NULL/p' cmd/wt-fmt.c | grep -o '"[a-z_.]*"' | tr -d '"' | sort -u)
fields=$( { sed -n 's/^\.It Cm \([a-z_]*\) Ta .*/\1/p' man/wt-record.5
	sed -n '/^Programs add their own fields/,/^\.El/p' man/wt-record.5 | grep '^\.Cm ' |
		sed 's/^\.Cm //; s/ Ns .*//' | tr ' ' '\n' | grep -E '^[a-z_]+$'; } | grep -Ev "$values" | sort -u)
check_same "every field of wt-record(5) is a column wt-fmt knows" "" \
	"$(comm -13 "$(printf '%s\n' "$known" > "$T/known"; echo "$T/known")" "$(printf '%s\n' "$fields" > "$T/fields"; echo "$T/fields")")"
done_testing
