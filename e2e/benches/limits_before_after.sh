#!/usr/bin/env bash
# The cost of the reading limits, deadlines and case rule (issue 23), run by hand: the
# `security-log` of a commit before them (BEFORE, default 3b294a6) and of the working tree, in
# release, asked the same questions alternately over one generated log, page cache warm.
#
#   bash e2e/benches/limits_before_after.sh [DIR] [RECORDS] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=${1:-/tmp/security-log-bench}
records=${2:-1400000}
rounds=${3:-3}
before=${BEFORE:-3b294a6}
work=$(mktemp -d)
trap 'git worktree remove --force "$work/old" 2>/dev/null || true; rm -rf "$work"' EXIT
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}

git worktree add -q "$work/old" "$before"
(cd "$work/old" && cargo build -q --release --features cli --bin security-log)
cp "$CARGO_TARGET_DIR/release/security-log" "$work/sl-before"
cargo build -q --release --example generate_log
cargo build -q --release -p security-log
cp "$CARGO_TARGET_DIR/release/security-log" "$work/sl-after"
[ -d "$dir" ] || "$CARGO_TARGET_DIR/release/examples/generate_log" "$dir" --records "$records" --rotate-mb 128 > /dev/null
cat "$dir"/*.jsonl > /dev/null

from=$("$work/sl-after" query "$dir" --oldest-first -n 1 --format jsonl 2>/dev/null | sed 's/.*"timestamp":"\([0-9-]*\)T.*/\1/')
from=$(date -u -d "$from + 10 days" +%F); to=$(date -u -d "$from + 3 days" +%F)
many=$(python3 -c 'print(" or ".join(f"user ~ \"u{n}x\"" for n in range(200)))')
q() { # label, binary, arguments...
  local label=$1 bin=$2; shift 2
  /usr/bin/time -o "$work/time" -f "%e" "$bin" "$@" > /dev/null 2>&1 || true
  printf '%s %s %s\n' "$label" "$(basename "$bin")" "$(tail -1 "$work/time")"
}
for _ in $(seq "$rounds"); do
  for bin in "$work/sl-before" "$work/sl-after"; do
    q a "$bin" query "$dir" --count -q 'event = authentication.failed and user = user-23'
    q b "$bin" query "$dir" --count -q "time >= $from and time < $to and category = data"
    q c "$bin" query "$dir" --count -q 'message ~ "USER-23 FAILED"'
    q d "$bin" stats "$dir" --by event --format json
    q e "$bin" query "$dir" --limit 50 --format jsonl -q 'event = user.role_changed'
    q f "$bin" query "$dir" --count -q "$many"
  done
done
