#!/usr/bin/env bash
# Reading benchmark, run by hand (not in CI): the same questions asked of `security-log`, rg
# (a literal search: the scan-speed floor), jq and DuckDB's read_ndjson with explicit columns,
# over one log from the generator, page cache warm, best of three. Prints seconds and peak
# memory; for DuckDB also its query alone (timed inside Python).
#
#   bash e2e/benches/query_vs_peers.sh [DIR] [RECORDS]
#
# Needs rg and jq (Debian: ripgrep, jq) and DuckDB (PyPI: duckdb). RECORDS=1450000 makes
# about 1.2 GiB. SKIP_JQ=1 leaves jq out (it takes a minute).
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=${1:-/tmp/security-log-bench}
records=${2:-1450000}

cargo build -q --release --example generate_log
cargo build -q --release -p security-log
[ -d "$dir" ] || target/release/examples/generate_log "$dir" --records "$records" --rotate-mb 128
sl=target/release/security-log
source e2e/benches/support/peers.sh
cat "$dir"/*.jsonl > /dev/null
echo "log: $(du -shc "$dir"/*.jsonl | tail -1 | cut -f1), $(cat "$dir"/*.jsonl | wc -l) records"

# A window of three days inside the log, for (b).
from=$($sl query "$dir" --oldest-first --limit 1 --format jsonl 2>/dev/null | sed 's/.*"timestamp":"\([0-9-]*\)T.*/\1/')
from=$(date -u -d "$from + 10 days" +%F)
to=$(date -u -d "$from + 3 days" +%F)
# A /16 that holds some of the log's IPv4 clients, for (f).
net=$(grep -m1 -ho '"ip":"[0-9]*\.[0-9]*\.' "$dir"/security.jsonl | sed 's/"ip":"//')

echo "(a) one event name and one actor"
run "a:security-log" $sl query "$dir" --count -q 'event = authentication.failed and user = user-23'
run "a:rg" rg -c -F '"actor":{"id":"user-23"' "$dir"
[ "${SKIP_JQ:-}" ] || run "a:jq" sh -c "cat $dir/*.jsonl | jq -c 'select(.event.name == \"authentication.failed\" and .actor.id == \"user-23\")' | wc -l"
duck "a:duckdb" "$dir" "select count(*) from SRC where event.name = 'authentication.failed' and actor.id = 'user-23'"

echo "(b) a time range in the middle and a category"
run "b:security-log" $sl query "$dir" --count -q "time >= $from and time < $to and category = data"
duck "b:duckdb" "$dir" "select count(*) from SRC where timestamp >= '$from' and timestamp < '$to' and event.category = 'data'"

echo "(c) a case-insensitive text match on the message"
run "c:security-log" $sl query "$dir" --count -q 'message ~ "USER-23 FAILED"'
run "c:rg" rg -c -i -F 'user-23 failed' "$dir"
duck "c:duckdb" "$dir" "select count(*) from SRC where message ilike '%user-23 failed%'"

echo "(d) counts by event name"
run "d:security-log" $sl stats "$dir" --by event --format json
duck "d:duckdb" "$dir" "select event.name, count(*) from SRC group by 1 order by 2 desc"

echo "(e) the newest 50 records of one event"
run "e:security-log" $sl query "$dir" --limit 50 --event user.role_changed --format jsonl
duck "e:duckdb" "$dir" "select * from SRC where event.name = 'user.role_changed' order by timestamp desc limit 50"

echo "(f) an address range: ${net}0.0/16"
run "f:security-log" $sl query "$dir" --count -q "ip = ${net}0.0/16"
# DuckDB has no address type without its inet extension: the text prefix is the same /16.
duck "f:duckdb" "$dir" "select count(*) from SRC where starts_with(client.ip, '$net')"

echo "(g) counts by tenant and day"
run "g:security-log" $sl stats "$dir" --by tenant --every 1d --format json
duck "g:duckdb" "$dir" "select tenant.id, substr(timestamp, 1, 10), count(*) from SRC group by 1, 2"

echo "(h) a negation and a glob on the event"
run "h:security-log" $sl query "$dir" --count -q 'not outcome = success and event like "authentication.*"'
# `not outcome = success` holds for a record without an outcome: so does coalesce.
duck "h:duckdb" "$dir" "select count(*) from SRC where coalesce(event.outcome, '') <> 'success' and event.name like 'authentication.%'"
