# Timing helpers of the reading benchmarks (sourced): each command run three times, the best
# wall time and the largest peak memory printed, with the start of its output.

RUNS=${RUNS:-3}

run() { # label, command...
  local label=$1; shift
  local best="" most=0 secs kib
  for _ in $(seq "$RUNS"); do
    /usr/bin/time -o /tmp/bench-time -f "%e %M" "$@" > /tmp/bench-out 2>/dev/null || true
    read -r secs kib < <(tail -1 /tmp/bench-time)
    if [ -z "$best" ] || awk "BEGIN{exit !($secs < $best)}"; then best=$secs; fi
    [ "$kib" -gt "$most" ] && most=$kib
  done
  printf '%-4s %-14s %7ss %8s KiB  -> %s\n' "${label%%:*}" "${label#*:}" "$best" "$most" "$(head -c 70 /tmp/bench-out | tr '\n' ' ')"
}

cat > /tmp/bench-duck.py <<'PY'
import duckdb, sys, time
d, q, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
cols = ("{timestamp:'VARCHAR', event:'STRUCT(name VARCHAR, category VARCHAR, outcome VARCHAR)', "
        "actor:'STRUCT(id VARCHAR)', tenant:'STRUCT(id VARCHAR)', client:'STRUCT(ip VARCHAR)', "
        "request:'STRUCT(id VARCHAR)', message:'VARCHAR'}")
con = duckdb.connect(); con.execute("SET threads TO 2")
best = None
for _ in range(runs):
    start = time.time()
    rows = con.execute(q.replace("SRC", f"read_ndjson('{d}/*.jsonl', columns={cols})")).fetchall()
    took = time.time() - start
    best = took if best is None else min(best, took)
# The query alone, without starting Python and DuckDB: printed first.
print(f"query alone {best:.2f}s", rows[:2])
PY

duck() { # label, dir, query: the query alone best of RUNS, in one process; its peak memory
  local label=$1
  /usr/bin/time -o /tmp/bench-time -f "%e %M" python3 /tmp/bench-duck.py "$2" "$3" "$RUNS" > /tmp/bench-out 2>&1 || true
  read -r secs kib < <(tail -1 /tmp/bench-time)
  printf '%-4s %-14s %7ss %8s KiB  -> %s\n' "${label%%:*}" "${label#*:}" "$secs" "$kib" "$(head -c 90 /tmp/bench-out | tr '\n' ' ')"
}
