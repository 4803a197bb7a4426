#!/usr/bin/env bash
# A steady normal load alone, then beside eight clients sending the worst
# hostile queries the limits admit (issue "Identity and size", Targets): the
# normal load's req/s and p99 in both, and the server's memory over idle.
#
#   benches/hostile-load.sh [RUNS]        (default 3 runs; prints medians)
#
# The demo on SQLite (nothing to generate), the release build, default limits
# (as a production server has them) but no rate limit (a flood would be
# throttled first: here the limits alone are measured), anonymous clients.
# Environment: DURATION (seconds of each load, default 10), PORT (default
# 18090), BENCH_DIR (default /tmp/maillage-hostile-bench), MAILLAGE_BIN (a
# binary to measure instead of building the release one), NORMAL_C
# (concurrency of the normal load, default 8), HOSTILE_C (default 8).
# Needs: oha (`cargo install oha --locked`), jq, curl.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${1:-3}"
DURATION="${DURATION:-10}"
PORT="${PORT:-18090}"
BENCH_DIR="${BENCH_DIR:-/tmp/maillage-hostile-bench}"
NORMAL_C="${NORMAL_C:-8}"
HOSTILE_C="${HOSTILE_C:-8}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/maillage-target}"
URL="http://127.0.0.1:$PORT/graphql"
for tool in oha jq curl; do
  command -v "$tool" >/dev/null || { echo "$tool is missing"; exit 1; }
done
mkdir -p "$BENCH_DIR"
if [ -n "${MAILLAGE_BIN:-}" ]; then
  BIN=$MAILLAGE_BIN
else
  cargo build --release --quiet
  BIN="$CARGO_TARGET_DIR/release/maillage"
fi

# The normal load: operation (a) of the API benchmark, as an anonymous reader.
jq -cn --rawfile q benches/ops/a-partners-by-name.graphql '{query: $q}' >"$BENCH_DIR/normal.json"

# Hostile candidates, each within the anonymous limits (5 000 tokens, 1 000
# fields, cost 50 000, depth 16): the slowest one admitted is sent.
ids=$(printf 'id %.0s' $(seq 990))
aliases=$(for i in $(seq 0 49); do printf 'a%d: partners(first: 100) { nodes { id name kind siret website email phone description } } ' "$i"; done)
jq -cn --arg q "{ partners(first: 1) { nodes { $ids } } }" '{query: $q}' >"$BENCH_DIR/h-fields.json"
jq -cn --arg q "{ $aliases }" '{query: $q}' >"$BENCH_DIR/h-aliases.json"
jq -cn --arg q '{ partners(first: 100) { nodes { name networks(first: 10) { edges { node { name members(first: 45) { edges { node { name kind } } } } } } } } }' \
  '{query: $q}' >"$BENCH_DIR/h-nested.json"

SERVER_PID=
stop_server() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then kill -INT "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; fi
  SERVER_PID=
}
trap stop_server EXIT
start_server() {
  rm -f "$BENCH_DIR"/demo.db*
  RUST_LOG=warn timeout -s INT 3600 "$BIN" --database-url "sqlite://$BENCH_DIR/demo.db" serve --demo \
    --listen "127.0.0.1:$PORT" --rate-limit 0 --rate-limit-anonymous 0 >"$BENCH_DIR/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
}
rss() { awk '/VmRSS/ {printf "%.0f", $2/1024}' "/proc/$(pgrep -P "$SERVER_PID")/status"; }
hwm() { awk '/VmHWM/ {printf "%.0f", $2/1024}' "/proc/$(pgrep -P "$SERVER_PID")/status"; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
normal() {
  oha -c "$NORMAL_C" -m POST -H 'content-type: application/json' -D "$BENCH_DIR/normal.json" --no-tui \
    -z "${DURATION}s" -w --output-format json "$URL" >"$BENCH_DIR/$1.json"
  jq -r '"\(.summary.requestsPerSec) \(.latencyPercentiles.p99 * 1000)"' "$BENCH_DIR/$1.json"
}

start_server
# The slowest admitted candidate (each must answer data, not errors).
WORST= ; WORST_T=0
for h in fields aliases nested; do
  answer=$(curl -s "$URL" -H 'content-type: application/json' --data-binary @"$BENCH_DIR/h-$h.json")
  if jq -e '.errors' <<<"$answer" >/dev/null; then echo "candidate $h refused: $(jq -c '.errors[0].message' <<<"$answer")"; continue; fi
  t=$(curl -s -o /dev/null -w '%{time_total}' "$URL" -H 'content-type: application/json' --data-binary @"$BENCH_DIR/h-$h.json")
  echo "candidate $h: admitted, $(awk -v t="$t" 'BEGIN {printf "%.1f", t * 1000}') ms alone, $(wc -c <"$BENCH_DIR/h-$h.json") bytes"
  if awk -v a="$t" -v b="$WORST_T" 'BEGIN {exit !(a > b)}'; then WORST=$h; WORST_T=$t; fi
done
echo "hostile query: $WORST"
stop_server

: >"$BENCH_DIR/runs"
for run in $(seq "$RUNS"); do
  start_server
  curl -s "$URL" -H 'content-type: application/json' --data-binary @"$BENCH_DIR/normal.json" >/dev/null
  oha -c "$NORMAL_C" -m POST -H 'content-type: application/json' -D "$BENCH_DIR/normal.json" --no-tui -z 2s "$URL" >/dev/null
  idle=$(rss)
  read -r rps_alone p99_alone < <(normal alone)
  # The flood runs as long as the normal load beside it, and a little more.
  oha -c "$HOSTILE_C" -m POST -H 'content-type: application/json' -D "$BENCH_DIR/h-$WORST.json" --no-tui \
    -z "$((DURATION + 2))s" --output-format json "$URL" >"$BENCH_DIR/hostile.json" &
  flood=$!
  sleep 1
  read -r rps_mixed p99_mixed < <(normal mixed)
  wait "$flood"
  peak=$(hwm)
  hostile_rps=$(jq '.summary.requestsPerSec' "$BENCH_DIR/hostile.json")
  echo "$rps_alone $p99_alone $rps_mixed $p99_mixed $idle $peak $hostile_rps" >>"$BENCH_DIR/runs"
  printf 'run %s: alone %.0f req/s p99 %.1f ms | with the flood %.0f req/s p99 %.1f ms (flood %.1f req/s) | RSS idle %s MB, peak %s MB\n' \
    "$run" "$rps_alone" "$p99_alone" "$rps_mixed" "$p99_mixed" "$hostile_rps" "$idle" "$peak"
  stop_server
done
col() { awk -v c="$1" '{print $c}' "$BENCH_DIR/runs" | median; }
echo "medians of $RUNS runs: alone $(col 1) req/s p99 $(col 2) ms; with the flood $(col 3) req/s p99 $(col 4) ms; RSS idle $(col 5) MB, peak $(col 6) MB"
awk '{r = $3 / $1; p = $4 / $2; m = $6 - $5; print r, p, m}' "$BENCH_DIR/runs" >"$BENCH_DIR/ratios"
echo "req/s kept: $(awk '{print $1}' "$BENCH_DIR/ratios" | median) (target >= 0.70); p99 ratio: $(awk '{print $2}' "$BENCH_DIR/ratios" | median) (target <= 2); memory over idle: $(awk '{print $3}' "$BENCH_DIR/ratios" | median) MB (target <= 200)"
