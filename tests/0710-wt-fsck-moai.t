#!/bin/sh
# wt-fsck --import: a MoAI-ADK registry, written in local time with a Z, imported with the right instants.
. "$(dirname "$0")/lib.sh"
plan 5

mkrepo "$T/proj"
M="$HOME/.moai/worktrees/proj"
mkdir -p "$M"
# What MoAI-ADK writes: datetime.now().isoformat() + "Z", local time in New York.
cat > "$M/.moai-worktree-registry.json" <<JSON
{
  "SPEC-1": {
    "spec_id": "SPEC-1",
    "path": "$M/SPEC-1",
    "branch": "feature/SPEC-1",
    "created_at": "2026-01-06T10:00:00.123456Z",
    "last_accessed": "2026-07-01T09:30:00Z",
    "status": "active",
    "project_name": "proj"
  }
}
JSON
check_same "wt-ls -r reads the stamps as New York time" \
	'"2026-01-06T15:00:00Z 2026-07-01T13:30:00Z"' \
	"$(TZ=America/New_York wt-ls -r "$M/.moai-worktree-registry.json" | jq -c '"\(.created_at) \(.last_accessed)"')"
# A journal a killed run left: a dry run leaves it for the next real one.
mkdir -p "$WT_HOME"
printf '{"op":"put","record":{"id":"j","path":"/j"}}\n' > "$WT_HOME/registry.journal"
(cd "$T/proj" && TZ=America/New_York wt-fsck -n --import > "$T/n")
check_same "-n --import imports nothing, replays nothing, exit 0" "0 no 1" \
	"$? $(test -e "$WT_HOME/registry.ndjson" && echo yes || echo no) $(wc -l < "$WT_HOME/registry.journal" | tr -d ' ')"
rm -f "$WT_HOME/registry.journal"
check_same "-n --import: a would object per record, the record as it would go in" \
	'{"action":"import","id":"SPEC-1","created_at":"2026-01-06T15:00:00Z","path":"'"$M"'/SPEC-1"}' \
	"$(jq -c '.would | {action, id, created_at: .record.created_at, path: .record.path}' "$T/n")"
(cd "$T/proj" && TZ=America/New_York wt-fsck --import > "$T/out")
check_same "--import with no file finds ~/.moai/worktrees/PROJECT and exits 0" 0 $?
check_same "the record has the right instants" \
	'{"id":"SPEC-1","created_at":"2026-01-06T15:00:00Z","last_accessed":"2026-07-01T13:30:00Z","project":"proj"}' \
	"$(wt-ls -i SPEC-1 | jq -c '{id, created_at, last_accessed, project}')"
done_testing
