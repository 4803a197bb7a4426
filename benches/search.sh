#!/usr/bin/env bash
# Text search at concurrency 1 (BENCHMARKS.md, "Indexed search"): for each
# database and query, serves it with BIN, warms up, then times REQUESTS
# requests one after the other with curl (`time_total`) and prints p50 and
# p99 in milliseconds; RUNS runs each (a fresh server per run).
#
#   benches/search.sh BIN DATABASE_URL... (e.g. sqlite:///tmp/n.db postgres://…/db)
#
# The databases must hold the national bundle already (`gen-bundle --size
# national --seed 1`, imported with `maillage import`; never committed);
# PostgreSQL ones are `VACUUM ANALYZE`d first.
# Environment: REQUESTS (200), WARMUP (20), RUNS (3), PORT (18090), and
# QUERIES, a space-separated list of the names below (all by default).
set -euo pipefail

BIN=${1:?usage: benches/search.sh BIN DATABASE_URL...}
shift
REQUESTS=${REQUESTS:-200}
WARMUP=${WARMUP:-20}
RUNS=${RUNS:-3}
PORT=${PORT:-18090}
URL="http://127.0.0.1:$PORT/graphql"

declare -A Q=(
  # The issue's: a sorted page of a frequent word (5 % of the partners).
  [name]='{ partners(first: 20, orderBy: [{field: NAME}], filter: {search: "centre"}) { nodes { id name } } }'
  [name-total]='{ partners(first: 20, orderBy: [{field: NAME}], filter: {search: "centre"}) { totalCount nodes { id name } } }'
  [created]='{ partners(first: 20, filter: {search: "centre"}) { nodes { id name } } }'
  [rare]='{ partners(first: 20, orderBy: [{field: NAME}], filter: {search: "hayange"}) { nodes { id name } } }'
  [two-words]='{ partners(first: 20, orderBy: [{field: NAME}], filter: {search: "centre social"}) { totalCount nodes { id name } } }'
  [relevance]='{ partners(first: 20, orderBy: [{field: RELEVANCE}], filter: {search: "centre"}) { nodes { id name } } }'
  [actions]='{ actions(first: 20, orderBy: [{field: TITLE}], filter: {search: "jeunes"}) { totalCount nodes { id title } } }'
)
QUERIES=${QUERIES:-name name-total created rare two-words relevance actions}

pid=
stop() { [[ -n $pid ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; pid=; }
trap stop EXIT

for db in "$@"; do
  # Statistics, as autovacuum would have them (and benches/api-load.sh does).
  if [[ $db == postgres* ]]; then psql -q "${db%%\?*}" -c "VACUUM ANALYZE"; fi
  key=$("$BIN" --database-url "$db" keys create --role coordinator --name search-bench 2>/dev/null)
  for name in $QUERIES; do
    body=$(jq -cn --arg q "${Q[$name]}" '{query: $q}')
    for run in $(seq "$RUNS"); do
      RUST_LOG=warn "$BIN" --database-url "$db" serve --listen "127.0.0.1:$PORT" --no-demo --rate-limit 0 >/tmp/search-bench-server.log 2>&1 &
      pid=$!
      for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
      answer=$(curl -sf "$URL" -H 'content-type: application/json' -H "x-api-key: $key" --data-binary "$body")
      grep -q '"errors"' <<<"$answer" && { echo "$name: $answer" >&2; exit 1; }
      for _ in $(seq "$WARMUP"); do
        curl -sf -o /dev/null "$URL" -H 'content-type: application/json' -H "x-api-key: $key" --data-binary "$body"
      done
      for _ in $(seq "$REQUESTS"); do
        curl -sf -o /dev/null -w '%{time_total}\n' "$URL" -H 'content-type: application/json' -H "x-api-key: $key" --data-binary "$body"
      done | sort -n | awk -v db="${db%%\?*}" -v q="$name" -v run="$run" \
        '{ t[NR] = $1 * 1000 } END { printf "%s\t%s\trun %d\tp50 %.2f ms\tp99 %.2f ms\n", db, q, run, t[int(NR * 0.5)], t[int(NR * 0.99)] }'
      stop
    done
  done
done
