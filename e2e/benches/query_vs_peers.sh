#!/usr/bin/env bash
# Reading benchmark, run by hand (not in CI): the same five questions asked of `security-log`,
# rg (a literal search: the scan-speed floor), jq and DuckDB's read_ndjson with explicit
# columns, over one log from the generator, page cache warm. Prints seconds and peak memory.
#
#   bash e2e/benches/query_vs_peers.sh [DIR] [RECORDS]
#
# Needs rg and jq (Debian: ripgrep, jq) and DuckDB (PyPI: duckdb). RECORDS=1450000 makes
# about 1.2 GiB.
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=${1:-/tmp/security-log-bench}
records=${2:-1450000}

cargo build -q --release --example generate_log
cargo build -q --release -p security-log
[ -d "$dir" ] || target/release/examples/generate_log "$dir" --records "$records" --rotate-mb 128
sl=target/release/security-log
cat "$dir"/*.jsonl > /dev/null
echo "log: $(du -sh "$dir" | cut -f1), $(cat "$dir"/*.jsonl | wc -l) records"

# A window of three days inside the log, for (b).
from=$($sl query "$dir" --oldest-first --limit 1 --format jsonl 2>/dev/null | sed 's/.*"timestamp":"\([0-9-]*\)T.*/\1/')
from=$(date -u -d "$from + 10 days" +%F)
to=$(date -u -d "$from + 3 days" +%F)

run() { # label, command...
  local label=$1; shift
  /usr/bin/time -o /tmp/bench-time -f "%e %M" "$@" > /tmp/bench-out 2>/dev/null || true
  read -r secs kib < <(tail -1 /tmp/bench-time)
  printf '%-4s %-14s %7ss %8s KiB  -> %s\n' "${label%%:*}" "${label#*:}" "$secs" "$kib" "$(head -c 70 /tmp/bench-out | tr '\n' ' ')"
}

cat > /tmp/bench-duck.py <<'PY'
import duckdb, sys, time
d, q = sys.argv[1], sys.argv[2]
cols = "{timestamp:'VARCHAR', event:'STRUCT(name VARCHAR, category VARCHAR)', actor:'STRUCT(id VARCHAR)', message:'VARCHAR'}"
con = duckdb.connect(); con.execute("SET threads TO 2")
start = time.time()
rows = con.execute(q.replace("SRC", f"read_ndjson('{d}/*.jsonl', columns={cols})")).fetchall()
# The query alone, without starting Python and DuckDB: printed first.
print(f"query alone {time.time() - start:.2f}s", rows[:2])
PY

echo "(a) one event name and one actor"
run "a:security-log" $sl query "$dir" --count -q 'event = authentication.failed and user = user-23'
run "a:rg" rg -c -F '"actor":{"id":"user-23"' "$dir"
[ "${SKIP_JQ:-}" ] || run "a:jq" sh -c "cat $dir/*.jsonl | jq -c 'select(.event.name == \"authentication.failed\" and .actor.id == \"user-23\")' | wc -l"
run "a:duckdb" python3 /tmp/bench-duck.py "$dir" "select count(*) from SRC where event.name = 'authentication.failed' and actor.id = 'user-23'"

echo "(b) a time range and a category"
run "b:security-log" $sl query "$dir" --count -q "time >= $from and time < $to and category = data"
run "b:duckdb" python3 /tmp/bench-duck.py "$dir" "select count(*) from SRC where timestamp >= '$from' and timestamp < '$to' and event.category = 'data'"

echo "(c) a case-insensitive text match on the message"
run "c:security-log" $sl query "$dir" --count -q 'message ~ "USER-23 FAILED"'
run "c:rg" rg -c -i -F 'user-23 failed' "$dir"
run "c:duckdb" python3 /tmp/bench-duck.py "$dir" "select count(*) from SRC where message ilike '%user-23 failed%'"

echo "(d) counts by event name"
run "d:security-log" $sl stats "$dir" --by event --format json
run "d:duckdb" python3 /tmp/bench-duck.py "$dir" "select event.name, count(*) from SRC group by 1 order by 2 desc"

echo "(e) the newest 50 records of one event"
run "e:security-log" $sl query "$dir" --limit 50 --event user.role_changed --format jsonl
run "e:duckdb" python3 /tmp/bench-duck.py "$dir" "select * from SRC where event.name = 'user.role_changed' order by timestamp desc limit 50"
