#!/bin/sh
# Refreshes vendor/graphiql/ from the npm registry: the pinned releases
# below, packed by npm (which checks each tarball against the registry's
# integrity hash), and only the files the GraphiQL page serves.
# Usage: vendor/graphiql/update.sh   (from anywhere; needs npm and tar)
set -eu

GRAPHIQL=4.1.2
REACT=18.3.1

here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
npm pack --silent "graphiql@$GRAPHIQL" "react@$REACT" "react-dom@$REACT" >/dev/null
for p in "graphiql-$GRAPHIQL" "react-$REACT" "react-dom-$REACT"; do
    mkdir "${p%-*}"
    tar xzf "$p.tgz" -C "${p%-*}" --strip-components=1
done

cp graphiql/graphiql.min.js graphiql/graphiql.min.css "$here/"
cp graphiql/LICENSE "$here/LICENSE.graphiql"
cp react/umd/react.production.min.js "$here/"
cp react/LICENSE "$here/LICENSE.react"
cp react-dom/umd/react-dom.production.min.js "$here/"
cp react-dom/LICENSE "$here/LICENSE.react-dom"
printf 'graphiql %s\nreact %s\nreact-dom %s\n' "$GRAPHIQL" "$REACT" "$REACT" > "$here/VERSIONS"
(cd "$here" && sha256sum graphiql.min.js graphiql.min.css react.production.min.js react-dom.production.min.js > SHA256SUMS)
echo "vendor/graphiql: graphiql $GRAPHIQL, react and react-dom $REACT"
