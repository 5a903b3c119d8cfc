#!/bin/sh
# The kinds of artifact: every rule of artifact.c's table, with its marker, is
# counted by wt-du and pruned by wt-prune -n; without its marker it is not,
# and wt-rm keeps it as precious; kinds from the configuration file work end
# to end, and a bad 'artifact =' line is an error naming the file and line.
. "$(dirname "$0")/lib.sh"
plan 23
top=$(cd "$(dirname "$0")/.." && pwd)

# The table, a rule a line: kind|name|parent|a marker beside|inside|type, a
# set of markers by its first member, a glob made a name (* -> x).
sets=$(sed -nE 's/^#define ([A-Z]+_FILES) \{ "([^"]*)".*/\1 \2/p' "$top/libcommon/artifact.c")
rules=$(sed -n '/^static const struct rule builtin\[\] = {/,/^};/p' "$top/libcommon/artifact.c" |
	sed -nE 's/^	\{ "([^"]*)", "([^"]*)", (NULL|"[^"]*"), (\{[^}]*\}|[A-Z_]+), (NULL|"[^"]*"), T_([A-Z]+) \},$/\1|\2|\3|\4|\5|\6/p' |
	awk -F'|' -v sets="$sets" '
	BEGIN { n = split(sets, s, "\n"); for (i = 1; i <= n; i++) { split(s[i], w, " "); set[w[1]] = w[2] } }
	{
		m = $4
		if (m in set) m = set[m]
		else { sub(/^\{ */, "", m); sub(/[,} ].*/, "", m); gsub(/"/, "", m); if (m == "NULL") m = "" }
		p = $3; if (p == "NULL") p = ""; gsub(/"/, "", p)
		i = $5; if (i == "NULL") i = ""; gsub(/"/, "", i)
		name = $2; gsub(/\*/, "x", name); gsub(/\*/, "x", m)
		print $1 "|" name "|" p "|" m "|" i "|" $6
	}')
check "the table is read (the pattern still matches)" test "$(printf '%s\n' "$rules" | wc -l)" -gt 60

mkrepo "$T/r"
git -C "$T/r" worktree add -q "$T/w" -b w
cd "$T/w"
# Case i: c$i holds rule i's artifact with its markers; n$i the same name
# without them (for a rule that needs one). git ignores both.
i=0
: > .gitignore
: > "$T/want.kinds"
: > "$T/want.dirs"
files=0
printf '%s\n' "$rules" > "$T/rules"
while IFS='|' read -r kind name parent beside inside type; do
	i=$((i + 1))
	d=c$i${parent:+/$parent}
	mkdir -p "$d"
	[ -n "$beside" ] && mkdir -p "$(dirname "$d/$beside")" && echo marker > "$d/$beside"
	if [ "$type" = FILE ] || [ "$type" = ANY ]; then
		head -c $((1000 * i)) /dev/zero > "$d/$name"
		files=$((files + 1))
	else
		mkdir -p "$d/$name"
		head -c $((1000 * i)) /dev/zero > "$d/$name/blob"
		[ -n "$inside" ] && mkdir -p "$d/$name/$inside" && echo in > "$d/$name/$inside/x"
		echo "$d/$name" >> "$T/want.dirs"
	fi
	echo "$kind $(du -sB1 "$d/$name" | cut -f1)" >> "$T/want.kinds"
	echo "/$d/$name" >> .gitignore
	if [ -n "$beside$inside" ]; then
		nd=n$i${parent:+/$parent}
		mkdir -p "$nd/$name" && echo work > "$nd/$name/blob"
		echo "/$nd/$name" >> .gitignore
	fi
done < "$T/rules"
git add .gitignore && git commit -q -m ignores
cd "$T"

wrec() { printf '{"id":"w","path":"%s","repo":"%s"}\n' "$T/w" "$T/r/.git"; }
sumk() { awk '{ s[$1] += $2 } END { for (k in s) print k "=" s[k] }' | sort; }
du_out=$(wrec | wt-du -C)
check_same "wt-du counts every rule's artifact, with its marker, for its kind, and no other" \
	"$(sumk < "$T/want.kinds")" \
	"$(printf '%s\n' "$du_out" | jq -r '.artifacts | to_entries[] | "\(.key)=\(.value)"' | sort)"
wrec | wt-prune -n > "$T/prune"
check_same "wt-prune -n prunes every rule's directory, and none without its marker" \
	"$(sort "$T/want.dirs")" "$(jq -r '.would.pruned.dirs[]' < "$T/prune" | sort)"
check_same "and every rule's loose file" "$files" "$(jq -r '.would.pruned.files' < "$T/prune")"
check_same "wt-prune -n frees what wt-du counts" \
	"$(printf '%s\n' "$du_out" | jq -r .artifact_size)" "$(jq -r '.would.freed' < "$T/prune")"
# Kind by kind: -k selects each (a bit each of the mask).
bad=""
for k in $(cut -d' ' -f1 "$T/want.kinds" | sort -u); do
	got=$(wrec | wt-prune -n -k "$k" | jq -r '.would.freed')
	want=$(printf '%s\n' "$du_out" | jq -r --arg k "$k" '.artifacts[$k]')
	[ "$got" = "$want" ] || bad="$bad $k:$got/$want"
done
check_same "wt-prune -n -k KIND frees what wt-du counts for KIND, for every kind" "" "$bad"
check_same "a name without its marker is not touched (wt-prune -n names no n*/)" "" \
	"$(jq -r '.would.pruned.dirs[]' < "$T/prune" | grep '^n')"

# wt-rm: a worktree whose only ignored files are artifacts goes; an ignored
# vendor/ with no composer.json or go.mod is work.
cd "$T/r"
printf 'vendor/\ndistribution/\n.nyc_output/\n.hypothesis/\nbuild/\n' > .gitignore
git add .gitignore && git commit -q -m ignores && git push -q origin main
# add ID: a worktree on a new branch ID with one commit, merged; commit ID
# FILE...: those files committed in ID and merged too.
add() {
	git -C "$T/r" worktree add -q "$T/$1" -b "$1" && echo "$1" > "$T/$1/$1.txt" && commit "$1" "$1.txt"
}
commit() {
	_id=$1; shift
	(cd "$T/$_id" && git add -- "$@" && git commit -q -m "$*") && git -C "$T/r" merge -q --ff-only "$_id"
}
rm_rule() {
	_id=$1; shift
	ls_rec "$_id" | wt-rm "$@" > "$T/out" 2> "$T/err"
	echo "$? $(jq -r '.error.context.rule // .skipped.reason // "none"' < "$T/out")"
}
add ky && echo '{"name":"ky"}' > "$T/ky/package.json" && commit ky package.json
mkdir -p "$T/ky/distribution/source" "$T/ky/.nyc_output/processinfo" &&
	echo 'export{}' > "$T/ky/distribution/source/index.js" && echo '{}' > "$T/ky/.nyc_output/processinfo/x.json"
check_same "ky's distribution/ and nyc's .nyc_output/ are artifacts: wt-rm removes the worktree" \
	"0 none" "$(rm_rule ky)"
check "and it is gone" test ! -e "$T/ky"
add vd && mkdir -p "$T/vd/vendor/acme" && echo '<?php' > "$T/vd/vendor/acme/lib.php"
check_same "vendor/ without its marker is precious: wt-rm refuses" "1 precious" "$(rm_rule vd)"
echo '{}' > "$T/vd/composer.json" && commit vd composer.json
check_same "beside composer.json but with no autoload.php inside, still precious" "1 precious" "$(rm_rule vd -n)"
echo '<?php' > "$T/vd/vendor/autoload.php"
check_same "with both, it is an artifact: wt-rm -n would remove" "0 none" "$(rm_rule vd -n)"

# A kind of the configuration file's, end to end.
add uk && echo '[project]' > "$T/uk/pyproject.toml" && echo m > "$T/uk/SConstruct" &&
	commit uk pyproject.toml SConstruct
mkdir -p "$T/uk/.hypothesis/examples" "$T/uk/build" &&
	head -c 30000 /dev/zero > "$T/uk/.hypothesis/examples/e" && head -c 20000 /dev/zero > "$T/uk/build/o"
check_same "without the configuration, .hypothesis is precious" "1 precious" "$(rm_rule uk -n)"
printf '# mine\nartifact = .hypothesis pyproject.toml setup.cfg  # hypothesis\nartifact = build SConstruct\n' > "$T/cfg"
export WT_CONFIG="$T/cfg"
urec=$(ls_rec uk)
check_same "wt-du counts the new kind under its name, and build beside SConstruct as build" \
	"$(du -sB1 "$T/uk/.hypothesis" | cut -f1) $(du -sB1 "$T/uk/build" | cut -f1)" \
	"$(printf '%s\n' "$urec" | wt-du -C | jq -r '"\(.artifacts[".hypothesis"]) \(.artifacts.build)"')"
check_same "wt-prune -n -k .hypothesis prunes it alone" '[".hypothesis"]' \
	"$(printf '%s\n' "$urec" | wt-prune -n -k .hypothesis | jq -c '.would.pruned.dirs')"
check_same "wt-rm removes the worktree" "0 none" "$(rm_rule uk)"
unset WT_CONFIG

# Bad lines: exit 2, the file and line, what is wrong.
bad_line() {
	printf 'jobs = 2\nartifact = %s\n' "$1" > "$T/bad"
	WT_CONFIG="$T/bad" wt-ls -d "$T/r" > /dev/null 2> "$T/err"
	echo "$? $(cat "$T/err")"
}
check_same "a name with a slash" \
	"2 wt-ls: $T/bad:2: bad value for artifact: 'a/b x': a name has no '/'" "$(bad_line 'a/b x')"
check_same "no marker" \
	"2 wt-ls: $T/bad:2: bad value for artifact: '.foo': no marker: a name alone is not known to be recreatable" \
	"$(bad_line .foo)"
check_same "another kind's name" \
	"2 wt-ls: $T/bad:2: bad value for artifact: 'zig x.toml': a kind of that name is in the table already" \
	"$(bad_line 'zig x.toml')"
out=""
for v in '' '* Makefile' '.git x' 'a,b x' '.foo /etc/passwd' '.foo ../x' '.foo a/../../b' \
	'.foo .' '.foo ./' '.foo .foo' '.foo .f*/x' '.foo a//b'; do
	out="$out$(bad_line "$v" | cut -c1-2)"
done
check_same "no name, wildcards only, .git, a comma, an absolute marker, a .. in one, '.', the artifact itself: exit 2 each" \
	"2 2 2 2 2 2 2 2 2 2 2 2 " "$out"
printf 'artifact = .hypothesis\n' > "$T/bad"
msg=$(echo '{}' | WT_CONFIG="$T/bad" wt-prune -n -k .hypothesis 2>&1 > /dev/null)
check_same "wt-prune reads the table before its -k: the bad line, not an unknown kind" \
	"2 wt-prune: $T/bad:1: bad value for artifact: '.hypothesis': no marker: a name alone is not known to be recreatable" \
	"$? $msg"
# As many kinds as a mask has bits, and no more.
nk=$(cut -d'|' -f1 "$T/rules" | sort -u | wc -l)
room=$((63 - nk))
: > "$T/many"
j=0
while [ $j -lt $room ]; do j=$((j + 1)); echo "artifact = .k$j m" >> "$T/many"; done
WT_CONFIG="$T/many" wt-ls -d "$T/r" > /dev/null 2> "$T/err"
check_same "63 kinds in all are fine" "0" "$?"
echo "artifact = .k0 m" >> "$T/many"
WT_CONFIG="$T/many" wt-ls -d "$T/r" > /dev/null 2> "$T/err"
check_same "one more is an error naming its line" \
	"2 wt-ls: $T/many:$((room + 1)): bad value for artifact: '.k0 m': too many kinds (at most 63 in all)" \
	"$? $(cat "$T/err")"
done_testing
