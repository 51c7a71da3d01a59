#!/usr/bin/env bash
# Needle questions over a large log with the file sink's index, run by hand (not in CI): one
# actor over the whole history, one address, one request id, asked of `security-log` with the
# index, without it, and of DuckDB's read_ndjson with explicit columns; page cache warm where
# the log fits in memory, best of three.
#
#   bash e2e/benches/needles_at_scale.sh [DIR] [RECORDS]
#
# RECORDS=14500000 makes about 12 GiB (100,000 actors, most seldom seen, over a year). Needs
# DuckDB (PyPI: duckdb). Writing it takes a few minutes and the disk space.
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=${1:-/tmp/security-log-large}
records=${2:-14500000}

cargo build -q --release --example generate_log
cargo build -q --release -p security-log
[ -d "$dir" ] || /usr/bin/time -f "generated in %e s" target/release/examples/generate_log \
  "$dir" --records "$records" --rotate-mb 128 --actors 100000 --days 365 --index
sl=target/release/security-log
source e2e/benches/support/peers.sh
cat "$dir"/*.jsonl > /dev/null
echo "log: $(du -shc "$dir"/*.jsonl | tail -1 | cut -f1), $(ls "$dir"/*.jsonl | wc -l) files, index $(du -shc "$dir"/*.index | tail -1 | cut -f1)"

# Needles from the newest file: an actor of the long tail, its address, a request id.
line=$(grep -m1 -h '"actor":{"id":"user-9[0-9][0-9][0-9][0-9]"' "$dir"/security.jsonl)
actor=$(sed 's/.*"actor":{"id":"\([^"]*\)".*/\1/' <<<"$line")
ip=$(sed 's/.*"client":{"ip":"\([^"]*\)".*/\1/' <<<"$line")
request=$(grep -m1 -h -o '"request":{"id":"[^"]*"' "$dir"/security.2*.jsonl | head -1 | sed 's/.*"id":"//;s/"//')
echo "needles: actor $actor, address $ip, request $request"

for kind in actor address request; do
  case $kind in
    actor) q="user = $actor"; d="actor.id = '$actor'" ;;
    address) q="ip = $ip"; d="client.ip = '$ip'" ;;
    request) q="request.id = $request"; d="request.id = '$request'" ;;
  esac
  echo "($kind) $q"
  run "$kind:index" $sl query "$dir" --count -q "$q"
  run "$kind:page" $sl query "$dir" -q "$q" --limit 50 --format jsonl
  mkdir -p "$dir/.aside" && mv "$dir"/*.index "$dir/.aside/"
  RUNS=1 run "$kind:no index" $sl query "$dir" --count -q "$q"
  mv "$dir"/.aside/*.index "$dir/"
  duck "$kind:duckdb" "$dir" "select count(*) from SRC where $d"
done
echo "(index) security-log index over the whole log"
RUNS=1 run "index:write" $sl index "$dir"
