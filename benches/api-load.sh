#!/usr/bin/env bash
# Load benchmark of the GraphQL API (issue: The GraphQL API, Benchmark): the
# department bundle on PostgreSQL and on SQLite, release build, five
# operations (benches/ops/*.graphql) at concurrency 32 after a warm-up, with
# req/s, p50, p99 and the server's peak RSS; on PostgreSQL, the ceiling of
# hand-written SQL returning the same rows (benches/sql/*.sql, `pgbench -f`
# at the same concurrency).
#
#   benches/api-load.sh [RUNS]        (default 3 runs; prints medians)
#
# Environment: DURATION (seconds of load per operation and run, default 10),
# WARMUP (seconds, default 3), ENGINES (default "postgres sqlite"), PORT
# (default 18080), BENCH_DIR (default /tmp/maillage-api-bench), MAILLAGE_BIN
# (a binary to measure instead of building the release one: before/after),
# PGDB (the PostgreSQL database created and dropped, default maillage_api_bench).
#
# Needs: oha (`cargo install oha --locked`), jq, curl, sqlite3, psql and pgbench
# (PostgreSQL at 127.0.0.1:5432, trust auth), ../shared/tools/gen-bundle.
# The bundle is generated once into $BENCH_DIR/department (never committed);
# the PostgreSQL database `maillage_api_bench` is created and dropped here.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${1:-3}"
DURATION="${DURATION:-10}"
WARMUP="${WARMUP:-3}"
ENGINES="${ENGINES:-postgres sqlite}"
PORT="${PORT:-18080}"
BENCH_DIR="${BENCH_DIR:-/tmp/maillage-api-bench}"
DEPT="$BENCH_DIR/department"
PG="postgres://postgres@127.0.0.1:5432"
# Loopback needs no TLS; both the server and pgbench go without (libpq and
# sqlx would otherwise negotiate it, and it costs a tenth of a small request).
export PGSSLMODE=disable
PGDB="${PGDB:-maillage_api_bench}"
C=32
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/maillage-target}"
URL="http://127.0.0.1:$PORT/graphql"
# OPS="a d" runs a subset.
read -r -a OPS <<<"${OPS:-a b c d e}"
CEILINGS=(a c d e)

TOOLS=(oha jq curl psql pgbench)
# The SQLite run reads the partners it asks about with the sqlite3 shell.
if [[ " $ENGINES " == *" sqlite "* ]]; then TOOLS+=(sqlite3); fi
for tool in "${TOOLS[@]}"; do
  if ! command -v "$tool" >/dev/null; then
    case $tool in
      oha) echo "oha is missing: cargo install oha --locked   (crates.io; puts it in ~/.cargo/bin)" ;;
      jq | curl | sqlite3) echo "$tool is missing: apt-get install -y $tool" ;;
      *) echo "$tool is missing: apt-get install -y postgresql-client" ;;
    esac
    exit 1
  fi
done
mkdir -p "$BENCH_DIR/out"

if [ ! -f "$DEPT/relations.csv" ]; then
  echo "generating the department bundle into $DEPT"
  python3 ../shared/tools/gen-bundle --size department --seed 1 --out "$DEPT" >/dev/null
fi
echo "department bundle: $(cat "$DEPT"/*.csv | wc -l) lines, $(du -sh "$DEPT" | cut -f1)"

if [ -n "${MAILLAGE_BIN:-}" ]; then
  BIN=$MAILLAGE_BIN
else
  cargo build --release --quiet
  BIN="$CARGO_TARGET_DIR/release/maillage"
fi
echo "oha: $(oha --version)   pgbench: $(pgbench --version)   $(psql -Atc 'SHOW server_version' "$PG/postgres" | sed 's/^/PostgreSQL /')"

SERVER_PID=
SERVER_TIMEOUT_PID=
stop_server() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -INT "$SERVER_PID"
  fi
  if [ -n "$SERVER_TIMEOUT_PID" ]; then
    wait "$SERVER_TIMEOUT_PID" 2>/dev/null || true
  fi
  SERVER_PID=
  SERVER_TIMEOUT_PID=
}
cleanup() {
  stop_server
  psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS $PGDB WITH (FORCE)" 2>/dev/null || true
}
trap cleanup EXIT

# start_server DATABASE_URL: serves in the background (stopping by itself
# after an hour at most) and waits for /healthz.
start_server() {
  if curl -s "http://127.0.0.1:$PORT/healthz" >/dev/null; then
    echo "something already listens on port $PORT: set PORT"; exit 1
  fi
  # `timeout` runs the server as its child: the pid we watch is the server's.
  RUST_LOG=warn timeout -s INT 3600 "$BIN" --database-url "$1" serve --listen "127.0.0.1:$PORT" --no-demo --rate-limit 0 --max-cost 1000000000 --max-depth 64 \
    >"$BENCH_DIR/server.log" 2>&1 &
  local t=$!
  SERVER_TIMEOUT_PID=$t
  for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break
    sleep 0.1
  done
  curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null || { cat "$BENCH_DIR/server.log"; exit 1; }
  SERVER_PID=$(pgrep -P "$t")
}

# body OP: the JSON request of operation OP (its query file and variables).
body() {
  local op=$1 f vars
  f=$(ls benches/ops/"$op"-*.graphql)
  case $op in
    c) vars=$(jq -n --arg id "$BUSIEST_GID" '{id: $id}') ;;
    d) vars=$(jq -n --arg id "$PARTNER_GID" '{id: $id}') ;;
    e) vars='{"search": "centre"}' ;;
    *) vars='{}' ;;
  esac
  jq -cn --rawfile q "$f" --argjson v "$vars" '{query: $q, variables: $v}'
}

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# load ENGINE OP RUN: warm-up, then DURATION seconds at concurrency 32;
# appends "rps p50_ms p99_ms rss_mb" to $BENCH_DIR/out/ENGINE-OP.runs.
load() {
  local engine=$1 op=$2 run=$3 req="$BENCH_DIR/out/$1-$2.json" out="$BENCH_DIR/out/$1-$2-$3.json"
  body "$op" >"$req"
  # The answer must be a success, never an error (that would be fast).
  curl -sf "$URL" -H 'content-type: application/json' -H "x-api-key: $KEY" --data-binary @"$req" >"$BENCH_DIR/out/$engine-$op.answer"
  if jq -e '.errors' "$BENCH_DIR/out/$engine-$op.answer" >/dev/null; then
    echo "$op on $engine answered errors:"; jq -c .errors "$BENCH_DIR/out/$engine-$op.answer"; exit 1
  fi
  local oha_args=(-c "$C" -m POST -H 'content-type: application/json' -H "x-api-key: $KEY" -D "$req" --no-tui)
  oha "${oha_args[@]}" -z "${WARMUP}s" "$URL" >/dev/null
  oha "${oha_args[@]}" -z "${DURATION}s" -w --output-format json "$URL" >"$out"
  local rss ok total
  rss=$(awk '/VmHWM/ {printf "%.0f", $2/1024}' "/proc/$SERVER_PID/status")
  ok=$(jq '.statusCodeDistribution["200"] // 0' "$out")
  total=$(jq '[.statusCodeDistribution[]] | add // 0' "$out")
  [ "$ok" = "$total" ] || echo "warning: $engine $op: $((total - ok)) of $total answers were not 200"
  jq -r --arg rss "$rss" '"\(.summary.requestsPerSec) \(.latencyPercentiles.p50 * 1000) \(.latencyPercentiles.p99 * 1000) \($rss)"' "$out" \
    >>"$BENCH_DIR/out/$engine-$op.runs"
  printf '%-8s %s run %s: %s req/s, p50 %s ms, p99 %s ms, RSS %s MB (answer %s bytes)\n' "$engine" "$op" "$run" \
    $(tail -1 "$BENCH_DIR/out/$engine-$op.runs" | awk '{printf "%.1f %.2f %.2f %s", $1, $2, $3, $4}') \
    "$(wc -c <"$BENCH_DIR/out/$engine-$op.answer")"
}

# ceiling OP RUN: the hand-written SQL of OP under pgbench, same concurrency.
ceiling() {
  local op=$1 run=$2 log="$BENCH_DIR/out/pgbench-$1-$2.log"
  pgbench -n -f benches/sql/"$op"-*.sql -c "$C" -j 2 -T "$DURATION" \
    -D pid="$PARTNER_ID" -D busiest="$BUSIEST_ID" "$PG/$PGDB" >"$log" 2>&1 || { cat "$log"; exit 1; }
  local tps
  tps=$(awk '/^tps = / {print $3}' "$log")
  echo "$tps" >>"$BENCH_DIR/out/sql-$op.runs"
  printf '%-8s %s run %s: %.1f scripts/s\n' sql "$op" "$run" "$tps"
  # The ratio taken in the same run.
  local rps
  rps=$(tail -1 "$BENCH_DIR/out/postgres-$op.runs" | cut -d' ' -f1)
  awk -v r="$rps" -v t="$tps" 'BEGIN {print r / t}' >>"$BENCH_DIR/out/ratio-$op.runs"
}

# pick DATABASE_URL: the partners the operations name (same on both engines).
pick() {
  local sql q
  # (c): the partner with the most memberships; (d): the partner with the
  # most contacts, then territories served (ties: the first created).
  q="SELECT p.id, p.ref FROM partners p JOIN memberships m ON m.partner_id = p.id
     GROUP BY p.id, p.ref ORDER BY COUNT(*) DESC, p.id LIMIT 1"
  sql="SELECT p.id FROM partners p
       ORDER BY (SELECT COUNT(*) FROM contacts c WHERE c.partner_id = p.id) DESC,
                (SELECT COUNT(*) FROM partner_territories t WHERE t.partner_id = p.id) DESC, p.id LIMIT 1"
  case $1 in
    postgres*)
      local url=${1%%\?*}
      read -r BUSIEST_ID BUSIEST_REF < <(psql -At -F ' ' "$url" -c "$q")
      PARTNER_ID=$(psql -At "$url" -c "$sql")
      ;;
    sqlite*)
      read -r BUSIEST_ID BUSIEST_REF < <(sqlite3 -separator ' ' "${1#sqlite://}" "$q;")
      PARTNER_ID=$(sqlite3 "${1#sqlite://}" "$sql;")
      ;;
  esac
  # The global id: base64url("Partner:ID"), unpadded (src/api/graphql/ids.rs).
  PARTNER_GID=$(printf 'Partner:%s' "$PARTNER_ID" | base64 -w0 | tr '+/' '-_' | tr -d '=')
  BUSIEST_GID=$(printf 'Partner:%s' "$BUSIEST_ID" | base64 -w0 | tr '+/' '-_' | tr -d '=')
  echo "busiest partner: $BUSIEST_REF (id $BUSIEST_ID); partner for (d): id $PARTNER_ID"
}

rm -f "$BENCH_DIR"/out/*.runs
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for engine in $ENGINES; do
  case $engine in
    postgres)
      psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS $PGDB WITH (FORCE)" -c "CREATE DATABASE $PGDB"
      DB="$PG/$PGDB?sslmode=disable"
      ;;
    sqlite)
      rm -f "$BENCH_DIR"/dept.db*
      DB="sqlite://$BENCH_DIR/dept.db"
      ;;
  esac
  "$BIN" --database-url "$DB" import "$DEPT" 2>&1 | tail -1
  # The operations are an analyst's: a coordinator key (anonymous readers
  # see public data only, under a lower cost limit); no rate limit, and no
  # cost limit (the server is started with --max-cost raised): (c) costs
  # more than the default 500 000 a staff key may spend, which is the point
  # of the limit, but here the engine is what is measured.
  KEY=$("$BIN" --database-url "$DB" keys create --role coordinator --name api-bench 2>/dev/null)
  if [ "$engine" = postgres ]; then psql -q "$PG/$PGDB" -c "VACUUM ANALYZE"; fi
  pick "$DB"
  for run in $(seq "$RUNS"); do
    echo "-- $engine, run $run (load average $(cut -d' ' -f1-3 /proc/loadavg))"
    for op in "${OPS[@]}"; do
      # A fresh server per operation: its peak RSS is this operation's (the
      # allocator keeps what a large answer made it map).
      start_server "$DB"
      load "$engine" "$op" "$run"
      stop_server
      if [ "$engine" = postgres ] && [[ " ${CEILINGS[*]} " == *" $op "* ]]; then
        ceiling "$op" "$run"
      fi
    done
  done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

echo
for engine in $ENGINES; do
  echo "### $engine (medians of $RUNS runs, concurrency $C, ${DURATION} s each)"
  echo
  if [ "$engine" = postgres ]; then
    echo "| op | req/s | p50 | p99 | peak RSS | SQL ceiling | ratio |"
    echo "| --- | --- | --- | --- | --- | --- | --- |"
  else
    echo "| op | req/s | p50 | p99 | peak RSS |"
    echo "| --- | --- | --- | --- | --- |"
  fi
  for op in "${OPS[@]}"; do
    f="$BENCH_DIR/out/$engine-$op.runs"
    line=$(printf '| (%s) | %.0f | %.1f ms | %.1f ms | %s MB |' "$op" \
      "$(cut -d' ' -f1 "$f" | median)" "$(cut -d' ' -f2 "$f" | median)" \
      "$(cut -d' ' -f3 "$f" | median)" "$(cut -d' ' -f4 "$f" | median)")
    if [ "$engine" = postgres ]; then
      if [ -f "$BENCH_DIR/out/sql-$op.runs" ]; then
        line+=$(printf ' %.0f | %.0f%% |' "$(median <"$BENCH_DIR/out/sql-$op.runs")" \
          "$(awk '{print $1 * 100}' "$BENCH_DIR/out/ratio-$op.runs" | median)")
      else
        line+=' — | — |'
      fi
    fi
    echo "$line"
  done
  echo
done
