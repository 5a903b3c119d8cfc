#!/bin/sh
# The pages say only what is so: every program and page they name exists, every
# configuration key the code knows is in wt(7)'s table, and the reverse.
. "$(dirname "$0")/lib.sh"
plan 6
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
done_testing
