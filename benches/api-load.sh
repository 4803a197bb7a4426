#!/usr/bin/env bash
# Load benchmark of the GraphQL API (issue: The GraphQL API, Benchmark): the
# department bundle on PostgreSQL and on SQLite, release build, seven
# operations (benches/ops/*.graphql) at concurrency 32 after a warm-up, with
# req/s, p50, p99 and the server's peak RSS; on PostgreSQL, the ceiling of
# hand-written SQL returning the same rows (benches/sql/*.sql, `pgbench -f`
# at the same concurrency), and PostGraphile v5 as a peer (issue 18): the
# same rows copied into its own schema `pgl` (benches/postgraphile/load.sql),
# each operation asked of it in its own words (benches/postgraphile/ops/),
# loaded the same way right after maillage in the same run, its answer
# checked to hold the same values as maillage's (a mismatch fails the run).
#
#   benches/api-load.sh [RUNS]        (default 3 runs; prints medians)
#
# Environment: DURATION (seconds of load per operation and run, default 10),
# WARMUP (seconds, default 3), ENGINES (default "postgres sqlite"), PORT
# (default 18080), BENCH_DIR (default /tmp/maillage-api-bench), MAILLAGE_BIN
# (a binary to measure instead of building the release one: before/after),
# PGDB (the PostgreSQL database created and dropped, default maillage_api_bench),
# OPS (a subset, e.g. "a d"; default all), PEERS ("postgraphile" or "none";
# default postgraphile when benches/postgraphile/node_modules is installed),
# PGL_PORT (default PORT+1), PGL_WORKERS (PostGraphile's Node processes,
# default one per core), SEARCH_E and SEARCH_F (the searches of (e) and (f)).
#
# Needs: oha (`cargo install oha --locked`), jq, curl, sqlite3, psql and pgbench
# (PostgreSQL at 127.0.0.1:5432, trust auth, with the pg_trgm extension of
# postgresql-contrib), ../shared/tools/gen-bundle; for the peer,
# `npm ci` in benches/postgraphile (PostGraphile 5 and Node 22 from npm,
# pinned by its package-lock.json).
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
read -r -a OPS <<<"${OPS:-a b c d e f g}"
CEILINGS=(a c d e f g)
# (e) in creation order, (f) by name; maillage is given the words as a
# person types them (its search key drops case and accents), PostGraphile
# the words of the same key, one `includes` each.
SEARCH_E="${SEARCH_E:-centre}"
SEARCH_F="${SEARCH_F:-Maison Quartier}"

# The peer: PostGraphile v5 beside maillage on PostgreSQL.
PGL_DIR=benches/postgraphile
PGL_NODE="$PGL_DIR/node_modules/node/bin/node"
PGL_PORT="${PGL_PORT:-$((PORT + 1))}"
PGL_URL="http://127.0.0.1:$PGL_PORT/graphql"
# One Node process per core (node:cluster), as PostGraphile is deployed:
# Node runs JavaScript on one core.
PGL_WORKERS="${PGL_WORKERS:-$(nproc)}"
if [ -z "${PEERS+set}" ]; then
  if [[ " $ENGINES " == *" postgres "* ]] && [ -x "$PGL_NODE" ]; then
    PEERS=postgraphile
  else
    PEERS=none
    if [[ " $ENGINES " == *" postgres "* ]]; then
      echo "PostGraphile is not installed: (cd $PGL_DIR && npm ci) to measure it beside maillage; skipped"
    fi
  fi
fi
PGL=
if [[ " $PEERS " == *" postgraphile "* ]]; then
  [ -x "$PGL_NODE" ] || { echo "PEERS=postgraphile needs (cd $PGL_DIR && npm ci)"; exit 1; }
  PGL=1
fi

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
if [ -n "$PGL" ]; then
  echo "PostGraphile $(jq -r .version "$PGL_DIR/node_modules/postgraphile/package.json")," \
    "connection filter $(jq -r .version "$PGL_DIR/node_modules/postgraphile-plugin-connection-filter/package.json")," \
    "Node $("$PGL_NODE" --version), $PGL_WORKERS process(es), pool of $C connections"
fi

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

# start_pgl: PostGraphile in the background (stopping by itself after an
# hour at most), waiting until it answers.
start_pgl() {
  local probe='{"query":"{__typename}"}'
  if curl -s "$PGL_URL" -H 'content-type: application/json' -d "$probe" >/dev/null; then
    echo "something already listens on port $PGL_PORT: set PGL_PORT"; exit 1
  fi
  DATABASE_URL="$PG/$PGDB" PORT=$PGL_PORT POOL_SIZE=$C WORKERS=$PGL_WORKERS \
    timeout -s INT 3600 "$PGL_NODE" "$PGL_DIR/server.mjs" >"$BENCH_DIR/pgl.log" 2>&1 &
  local t=$!
  SERVER_TIMEOUT_PID=$t
  for _ in $(seq 300); do
    curl -sf "$PGL_URL" -H 'content-type: application/json' -d "$probe" >/dev/null && break
    sleep 0.1
  done
  curl -sf "$PGL_URL" -H 'content-type: application/json' -d "$probe" >/dev/null || { cat "$BENCH_DIR/pgl.log"; exit 1; }
  SERVER_PID=$(pgrep -P "$t")
}

# body OP: the JSON request of operation OP (its query file and variables).
body() {
  local op=$1 f vars
  f=$(ls benches/ops/"$op"-*.graphql)
  case $op in
    c) vars=$(jq -n --arg id "$BUSIEST_GID" '{id: $id}') ;;
    d) vars=$(jq -n --arg id "$PARTNER_GID" '{id: $id}') ;;
    e) vars=$(jq -n --arg s "$SEARCH_E" '{search: $s}') ;;
    f) vars=$(jq -n --arg s "$SEARCH_F" '{search: $s}') ;;
    g) vars=$(jq -n --arg r "$PARTNER_REF" '{ref: $r}') ;;
    *) vars='{}' ;;
  esac
  jq -cn --rawfile q "$f" --argjson v "$vars" '{query: $q, variables: $v}'
}

# words SEARCH: PostGraphile's filter for maillage's search: every word of
# the search key (lower case, no accents, letters and digits) as a substring
# of `name_search`, the column maillage matches too.
words() {
  local key
  key=$(printf '%s' "$1" | LC_ALL=C.UTF-8 iconv -f utf-8 -t ascii//TRANSLIT | tr '[:upper:]' '[:lower:]' | tr -cs 'a-z0-9' ' ')
  jq -cn --arg k "$key" '{and: [$k | splits(" ") | select(. != "") | {nameSearch: {includes: .}}]}'
}

# body_pgl OP: the same request in PostGraphile's words.
body_pgl() {
  local op=$1 f vars
  f=$(ls "$PGL_DIR"/ops/"$op"-*.graphql)
  case $op in
    c) vars=$(jq -n --argjson p "$BUSIEST_ID" '{partner: ($p | tostring)}') ;;
    d) vars=$(jq -n --arg id "$PGL_PARTNER_NODE_ID" '{id: $id}') ;;
    e) vars=$(jq -n --argjson f "$(words "$SEARCH_E")" '{filter: $f}') ;;
    f) vars=$(jq -n --argjson f "$(words "$SEARCH_F")" '{filter: $f}') ;;
    g) vars=$(jq -n --arg r "$PARTNER_REF" '{ref: $r}') ;;
    *) vars='{}' ;;
  esac
  jq -cn --rawfile q "$f" --argjson v "$vars" '{query: $q, variables: $v}'
}

# The values an answer holds, the same from both servers when they agree:
# names, refs-free text fields, counts, roles and distances, in the order the
# operation defines (sorted where it defines none: (c)'s BFS order is
# maillage's own); no ids (global ids differ), kinds in lower case
# (maillage's enums against PostGraphile's text columns).
NORM_COMMON='def lc: if type == "string" then ascii_downcase else . end;
  def terr: if . == null then null else [.name, (.kind | lc), .code] end;
  def partner_page: [.name, (.kind | lc), .siret, .email, .phone, .website,
    .contacts.totalCount, (.contacts.nodes | map([.fullName, .roleTitle, .email, .phone])),
    .territoriesServed.totalCount, (.territoriesServed.nodes | map(.territory // . | terr))];'
norm() {
  local who=$1 op=$2 file=$3 prog
  if [ "$who" = pgl ]; then
    case $op in
      a) prog='.data.allPartners | [.pageInfo.hasNextPage, (.nodes | map([.name, (.kind | lc), (.seat | terr)]))]' ;;
      b) prog='.data.allNetworks.nodes | map([.name, .members.totalCount, (.members.nodes | map([(.role | lc), .partner.name,
           (.partner.actions.nodes | map([(.role | lc), .action.title, (.action.theme | lc)]))]))])' ;;
      c) prog='.data.neighbourhood.nodes | map([.label, .distance]) | sort' ;;
      d) prog='.data.node | partner_page' ;;
      e | f) prog='.data.allPartners | [.pageInfo.hasNextPage, (.nodes | map([.name, (.kind | lc)]))]' ;;
      g) prog='.data.partnerByRef | partner_page' ;;
    esac
  else
    case $op in
      a) prog='.data.partners | [.pageInfo.hasNextPage, (.nodes | map([.name, (.kind | lc), (.seat | terr)]))]' ;;
      b) prog='.data.networks.nodes | map([.name, .members.totalCount, (.members.edges | map([(.role | lc), .node.name,
           (.node.actions.edges | map([(.role | lc), .node.title, (.node.theme | lc)]))]))])' ;;
      c) prog='.data.neighbourhood.nodes | map([.label, .distance]) | sort' ;;
      d) prog='.data.node | partner_page' ;;
      e | f) prog='.data.partners | [.pageInfo.hasNextPage, (.nodes | map([.name, (.kind | lc)]))]' ;;
      g) prog='.data.partner | partner_page' ;;
    esac
  fi
  jq -c "$NORM_COMMON $prog" "$file"
}

# same OP: maillage's and PostGraphile's answers to OP hold the same values,
# or the run stops here.
same() {
  local op=$1 m="$BENCH_DIR/out/postgres-$1.values" p="$BENCH_DIR/out/pgl-$1.values"
  norm maillage "$op" "$BENCH_DIR/out/postgres-$op.answer" >"$m"
  norm pgl "$op" "$BENCH_DIR/out/pgl-$op.answer" >"$p"
  if [ "$(jq -c 'if type == "array" then length else 1 end' "$m")" = 0 ]; then
    echo "($op) answered nothing on maillage: nothing to compare"; exit 1
  fi
  if ! cmp -s "$m" "$p"; then
    echo "MISMATCH: ($op) maillage and PostGraphile answered different values:"
    diff <(jq . "$m") <(jq . "$p") | head -40
    exit 1
  fi
}

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# load ENGINE OP RUN: warm-up, then DURATION seconds at concurrency 32;
# appends "rps p50_ms p99_ms rss_mb" to $BENCH_DIR/out/ENGINE-OP.runs.
# ENGINE "pgl" is PostGraphile (on PostgreSQL), asked in its own words.
load() {
  local engine=$1 op=$2 run=$3 req="$BENCH_DIR/out/$1-$2.json" out="$BENCH_DIR/out/$1-$2-$3.json"
  local url=$URL auth=(-H "x-api-key: $KEY")
  if [ "$engine" = pgl ]; then
    url=$PGL_URL auth=()
    body_pgl "$op" >"$req"
  else
    body "$op" >"$req"
  fi
  # The answer must be a success, never an error (that would be fast).
  curl -sf "$url" -H 'content-type: application/json' "${auth[@]}" --data-binary @"$req" >"$BENCH_DIR/out/$engine-$op.answer"
  if jq -e '.errors' "$BENCH_DIR/out/$engine-$op.answer" >/dev/null; then
    echo "$op on $engine answered errors:"; jq -c .errors "$BENCH_DIR/out/$engine-$op.answer"; exit 1
  fi
  local oha_args=(-c "$C" -m POST -H 'content-type: application/json' "${auth[@]}" -D "$req" --no-tui)
  oha "${oha_args[@]}" -z "${WARMUP}s" "$url" >/dev/null
  oha "${oha_args[@]}" -z "${DURATION}s" -w --output-format json "$url" >"$out"
  local rss=0 ok total pid
  # The server's peak RSS (PostGraphile's: all its processes').
  for pid in $SERVER_PID $(pgrep -P "$SERVER_PID" || true); do
    rss=$((rss + $(awk '/VmHWM/ {print $2}' "/proc/$pid/status")))
  done
  rss=$(awk -v k="$rss" 'BEGIN {printf "%.0f", k / 1024}')
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
    -D pid="$PARTNER_ID" -D busiest="$BUSIEST_ID" -D pref="'$PARTNER_REF'" "$PG/$PGDB" >"$log" 2>&1 || { cat "$log"; exit 1; }
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
  sql="SELECT p.id, p.ref FROM partners p
       ORDER BY (SELECT COUNT(*) FROM contacts c WHERE c.partner_id = p.id) DESC,
                (SELECT COUNT(*) FROM partner_territories t WHERE t.partner_id = p.id) DESC, p.id LIMIT 1"
  case $1 in
    postgres*)
      local url=${1%%\?*}
      read -r BUSIEST_ID BUSIEST_REF < <(psql -At -F ' ' "$url" -c "$q")
      read -r PARTNER_ID PARTNER_REF < <(psql -At -F ' ' "$url" -c "$sql")
      ;;
    sqlite*)
      read -r BUSIEST_ID BUSIEST_REF < <(sqlite3 -separator ' ' "${1#sqlite://}" "$q;")
      read -r PARTNER_ID PARTNER_REF < <(sqlite3 -separator ' ' "${1#sqlite://}" "$sql;")
      ;;
  esac
  # The global id: base64url("Partner:ID"), unpadded (src/api/graphql/ids.rs).
  PARTNER_GID=$(printf 'Partner:%s' "$PARTNER_ID" | base64 -w0 | tr '+/' '-_' | tr -d '=')
  BUSIEST_GID=$(printf 'Partner:%s' "$BUSIEST_ID" | base64 -w0 | tr '+/' '-_' | tr -d '=')
  echo "busiest partner: $BUSIEST_REF (id $BUSIEST_ID); partner for (d) and (g): $PARTNER_REF (id $PARTNER_ID)"
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
  if [ "$engine" = postgres ] && [ -n "$PGL" ]; then
    # PostGraphile's copy of the same rows, in its own schema.
    psql -q -v ON_ERROR_STOP=1 -f "$PGL_DIR/load.sql" "$PG/$PGDB"
    echo "PostGraphile's schema pgl: $(psql -At "$PG/$PGDB" -c "SELECT (SELECT COUNT(*) FROM pgl.partners) || ' partners, ' || (SELECT COUNT(*) FROM pgl.memberships) || ' memberships'")"
  fi
  if [ "$engine" = postgres ]; then psql -q "$PG/$PGDB" -c "VACUUM ANALYZE"; fi
  pick "$DB"
  PGL_PARTNER_NODE_ID=
  for run in $(seq "$RUNS"); do
    echo "-- $engine, run $run (load average $(cut -d' ' -f1-3 /proc/loadavg))"
    for op in "${OPS[@]}"; do
      # A fresh server per operation: its peak RSS is this operation's (the
      # allocator keeps what a large answer made it map).
      start_server "$DB"
      load "$engine" "$op" "$run"
      stop_server
      if [ "$engine" = postgres ] && [ -n "$PGL" ]; then
        # Then PostGraphile, fresh too, under the same load.
        start_pgl
        if [ -z "$PGL_PARTNER_NODE_ID" ]; then
          PGL_PARTNER_NODE_ID=$(jq -cn --arg r "$PARTNER_REF" '{query: "query($r: String!) { partnerByRef(ref: $r) { id } }", variables: {r: $r}}' |
            curl -sf "$PGL_URL" -H 'content-type: application/json' --data-binary @- | jq -er .data.partnerByRef.id)
        fi
        load pgl "$op" "$run"
        stop_server
        same "$op"
        # The ratios taken in the same run.
        paste -d' ' <(tail -1 "$BENCH_DIR/out/postgres-$op.runs") <(tail -1 "$BENCH_DIR/out/pgl-$op.runs") |
          awk '{print $1 / $5, $3 / $7}' >>"$BENCH_DIR/out/vs-pgl-$op.runs"
        printf '%-8s %s run %s: same values; maillage/PostGraphile %s req/s, p99 %s\n' vs "$op" "$run" \
          $(tail -1 "$BENCH_DIR/out/vs-pgl-$op.runs" | awk '{printf "%.2fx %.2fx", $1, $2}')
      fi
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
  if [ "$engine" = postgres ] && [ -n "$PGL" ]; then
    echo "| op | req/s | p50 | p99 | peak RSS | SQL ceiling | of SQL | PostGraphile req/s | PostGraphile p50 | PostGraphile p99 | PostGraphile RSS | maillage/PostGraphile req/s | p99 ratio | ≥ 2× and lower p99 |"
    echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
  elif [ "$engine" = postgres ]; then
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
      if [ -n "$PGL" ]; then
        # The ratios are medians of each run's (maillage / PostGraphile,
        # measured minutes apart), not ratios of the medians.
        p="$BENCH_DIR/out/pgl-$op.runs" v="$BENCH_DIR/out/vs-pgl-$op.runs"
        rr=$(cut -d' ' -f1 "$v" | median) pr=$(cut -d' ' -f2 "$v" | median)
        line+=$(printf ' %.0f | %.1f ms | %.1f ms | %s MB | %.2f× | %.2f | %s |' \
          "$(cut -d' ' -f1 "$p" | median)" "$(cut -d' ' -f2 "$p" | median)" "$(cut -d' ' -f3 "$p" | median)" \
          "$(cut -d' ' -f4 "$p" | median)" "$rr" "$pr" \
          "$(awk -v r="$rr" -v p="$pr" 'BEGIN {print (r >= 2 && p < 1) ? "yes" : "no"}')")
      fi
    fi
    echo "$line"
  done
  echo
done
