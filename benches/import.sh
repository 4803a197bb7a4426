#!/usr/bin/env bash
# Import benchmark (issue: Foundation): the national bundle into SQLite and
# PostgreSQL, release build, wall time and peak RSS, and the floor of a plain
# `psql \copy` of the same CSVs into bare tables.
#
#   benches/import.sh [RUNS]        (default 3 runs each; prints medians)
#   MAILLAGE_BIN=/path/to/maillage benches/import.sh 3   (another build)
#
# Each run measures, in this order and back to back (so that they share
# the machine's load): the SQLite import, the PostgreSQL import into a
# fresh database, the re-import of the same bundle into it (every row
# compared, none written), and the floor. The ratio that matters,
# PostgreSQL import / floor, is taken within each run; the load average
# before each run is printed with it.
#
# Needs ../shared/tools/gen-bundle (python3) and PostgreSQL at 127.0.0.1:5432.
# The bundle is generated once into $BENCH_DIR (default /tmp/maillage-bench).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${1:-3}"
BENCH_DIR="${BENCH_DIR:-/tmp/maillage-bench}"
NAT="$BENCH_DIR/national"
PG="postgres://postgres@127.0.0.1:5432"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/maillage-target}"
mkdir -p "$BENCH_DIR"

if [ ! -f "$NAT/relations.csv" ]; then
  echo "generating the national bundle into $NAT"
  python3 ../shared/tools/gen-bundle --size national --seed 1 --out "$NAT"
fi
rows=$(cat "$NAT"/*.csv | wc -l)
echo "national bundle: $rows lines in $(ls "$NAT"/*.csv | wc -l) files, $(du -sh "$NAT" | cut -f1)"

# MAILLAGE_BIN=path runs another build (to compare before and after).
if [ -n "${MAILLAGE_BIN:-}" ]; then
  BIN=$MAILLAGE_BIN
else
  cargo build --release --quiet
  BIN="$CARGO_TARGET_DIR/release/maillage"
fi

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# run LABEL CMD...: runs CMD under /usr/bin/time -v, records wall seconds and peak RSS (MB)
LAST_WALL=0
run() {
  local label=$1; shift
  local log="$BENCH_DIR/time.log"
  /usr/bin/time -v "$@" >/dev/null 2>"$log" || { cat "$log"; exit 1; }
  local wall rss
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,t,":"); s=0; for(i=1;i<=n;i++) s=s*60+t[i]; print s}' "$log")
  rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2/1024}' "$log")
  echo "$label wall=${wall}s rss=${rss}MB"
  echo "$wall $rss" >>"$BENCH_DIR/$label.runs"
  LAST_WALL=$wall
}

summarise() {
  local label=$1
  local w r all
  w=$(cut -d' ' -f1 "$BENCH_DIR/$label.runs" | median)
  r=$(cut -d' ' -f2 "$BENCH_DIR/$label.runs" | median)
  all=$(cut -d' ' -f1 "$BENCH_DIR/$label.runs" | paste -sd/ | sed 's|/| / |g')
  echo "| $label | $RUNS | ${w} s | ${r} MB | $all |"
}

rm -f "$BENCH_DIR"/*.runs
for i in $(seq "$RUNS"); do
  echo "run $i: load average $(cut -d' ' -f1-3 /proc/loadavg)"
  # SQLite: a fresh file each run.
  rm -f "$BENCH_DIR"/nat.db*
  run sqlite-import "$BIN" --database-url "sqlite://$BENCH_DIR/nat.db" import "$NAT"

  # PostgreSQL: a fresh database each run, migrated before the clock starts.
  psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS maillage_bench WITH (FORCE)" -c "CREATE DATABASE maillage_bench"
  "$BIN" --database-url "$PG/maillage_bench" migrate 2>/dev/null
  run postgres-import "$BIN" --database-url "$PG/maillage_bench" import "$NAT"
  pg_wall=$LAST_WALL
  # The same bundle again, into the filled database: the merge path.
  run postgres-reimport "$BIN" --database-url "$PG/maillage_bench" import "$NAT"

  # The floor: \copy of the same CSVs into bare tables (no keys, no checks).
  psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS maillage_copy WITH (FORCE)" -c "CREATE DATABASE maillage_copy"
  {
    for f in "$NAT"/*.csv; do
      t=$(basename "$f" .csv)
      cols=$(head -1 "$f" | tr -d '\r' | sed 's/,/ text, /g; s/$/ text/')
      echo "CREATE TABLE $t ($cols);"
      echo "\\copy $t FROM '$f' WITH (FORMAT csv, HEADER true)"
    done
  } >"$BENCH_DIR/copy.sql"
  run postgres-copy-floor psql -q "$PG/maillage_copy" -v ON_ERROR_STOP=1 -f "$BENCH_DIR/copy.sql"
  ratio=$(awk -v a="$pg_wall" -v b="$LAST_WALL" 'BEGIN {printf "%.1f", a / b}')
  echo "run $i: PostgreSQL import / floor = $ratio"
  echo "$ratio" >>"$BENCH_DIR/ratio.runs"
done

echo
echo "| what | runs | median wall | median peak RSS | runs (wall, s) |"
echo "| --- | --- | --- | --- | --- |"
summarise sqlite-import
summarise postgres-import
summarise postgres-reimport
summarise postgres-copy-floor
echo
echo "PostgreSQL import / floor, per run: $(paste -sd/ "$BENCH_DIR/ratio.runs" | sed 's|/| / |g'); median $(median <"$BENCH_DIR/ratio.runs")"
