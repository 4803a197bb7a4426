#!/usr/bin/env bash
# Graph benchmark (issue: Graph analytics): the national bundle imported into
# a fresh PostgreSQL database, then `examples/graph_bench.rs` (release build)
# measures the projection's build, neighbourhood and shortest-path latencies
# (concurrency 1 and 16) against recursive CTEs, a department map with its
# layout, betweenness on that department and PageRank over everything.
#
#   benches/graph.sh [PAIRS] [CTE_PAIRS]     (default 400 pairs, 20 for the CTEs)
#
# Needs ../shared/tools/gen-bundle (python3) and PostgreSQL at 127.0.0.1:5432.
set -euo pipefail
cd "$(dirname "$0")/.."
PAIRS="${1:-400}"
CTE_PAIRS="${2:-20}"
BENCH_DIR="${BENCH_DIR:-/tmp/graph-bench}"
NAT="$BENCH_DIR/national"
PG="postgres://postgres@127.0.0.1:5432"
DB="maillage_graph_bench"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/maillage-target}"
mkdir -p "$BENCH_DIR"
if [ ! -f "$NAT/relations.csv" ]; then
  python3 ../shared/tools/gen-bundle --size national --seed 1 --out "$NAT"
fi
cargo build --release --quiet --bin maillage --example graph_bench
BIN="$CARGO_TARGET_DIR/release"
if [ -z "${SKIP_IMPORT:-}" ]; then
  psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
  DATABASE_URL="$PG/$DB" "$BIN/maillage" import "$NAT" >/dev/null
fi
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
DATABASE_URL="$PG/$DB" /usr/bin/time -f "wall %e s, peak rss %M KB" "$BIN/examples/graph_bench" "$PAIRS" "$CTE_PAIRS"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
