#!/usr/bin/env bash
# Trestle with real GraphQL clients: GraphiQL in headless Chromium and Apollo
# Client from Node, against one server on a fresh SQLite database.
#
#   .ci/clients/run.sh ./target/debug/trestle
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 <path to the trestle binary>" >&2; exit 2; }
trestle=$(realpath "$1")
cd "$(dirname "$0")"

# Chromium for the GraphiQL test.
if ! command -v chromium >/dev/null 2>&1; then
  echo "installing chromium"
  (apt-get install -y -qq chromium >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq chromium >/dev/null; })
fi
command -v chromium >/dev/null 2>&1 || { echo "chromium could not be installed" >&2; exit 1; }

dir=$(mktemp -d)
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$dir"
}
trap cleanup EXIT
fail() {
  echo "client tests: $1" >&2
  if [ -s "$dir/server.log" ]; then
    echo "--- server log" >&2
    cat "$dir/server.log" >&2
  fi
  exit 1
}

npm ci --no-audit --no-fund --loglevel=error >/dev/null || fail "npm ci failed"

export TRESTLE_DATABASE_URL="sqlite://$dir/t.db?mode=rwc"
"$trestle" migrate up >"$dir/migrate.log" 2>&1 || { cat "$dir/migrate.log" >&2; fail "trestle migrate up failed"; }

# A random port; another one if it is taken.
for _ in 1 2 3 4 5; do
  port=$((20000 + RANDOM % 20000))
  TRESTLE_LISTEN="127.0.0.1:$port" TRESTLE_LOG=warn TRESTLE_NOTIFICATION_SWEEP_SECS=0 \
    "$trestle" serve >"$dir/server.log" 2>&1 &
  server_pid=$!
  up=
  for _ in $(seq 100); do
    if curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then up=1; break; fi
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.2
  done
  [ -n "$up" ] && break
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=
  grep -qi "address.*in use" "$dir/server.log" || fail "the server did not start"
done
[ -n "$server_pid" ] || fail "no free port for the server"
url="http://127.0.0.1:$port"

email=clients@ci.trestle
password=$(head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 24)
TRESTLE_USER_PASSWORD="$password" "$trestle" user create --email "$email" --name "Client Tests" --role member \
  >"$dir/user.log" 2>&1 || { cat "$dir/user.log" >&2; fail "trestle user create failed"; }

status=0
export TRESTLE_URL="$url" TRESTLE_EMAIL="$email"
echo "-- Apollo Client: type check"
./node_modules/.bin/tsc --noEmit -p . || status=1
echo "-- Apollo Client (persisted queries, node(id:), graphql-ws, gzip, 401)"
TRESTLE_PASSWORD="$password" timeout 300 ./node_modules/.bin/tsx apollo.test.ts || status=1
# GraphiQL changes its user's password: it gets a user of its own.
TRESTLE_USER_PASSWORD="$password" "$trestle" user create --email "graphiql@ci.trestle" --name "GraphiQL Tests" --role member \
  >"$dir/user.log" 2>&1 || { cat "$dir/user.log" >&2; fail "trestle user create failed"; }
echo "-- GraphiQL in Chromium"
TRESTLE_EMAIL=graphiql@ci.trestle TRESTLE_PASSWORD="$password" timeout 300 node graphiql.test.mjs || status=1

[ "$status" -eq 0 ] || fail "failed"
echo "client tests passed"
