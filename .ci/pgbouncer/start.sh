#!/usr/bin/env bash
# Start a PgBouncer (>= 1.21, transaction pooling) in front of the local
# PostgreSQL, for CI and for the Rust tests. The one place its config lives.
#
# Usage:  PID=$(.ci/pgbouncer/start.sh PORT DIR)
#   PORT  TCP port to listen on, on 127.0.0.1 (pick a free one)
#   DIR   a directory for pgbouncer.ini, userlist.txt, pgbouncer.log and
#         pgbouncer.pid (created if missing). PgBouncer reads its files before
#         it drops root, so DIR may sit in a root-only temp dir; only a later
#         RELOAD/SIGHUP needs DIR reachable by the user it runs as.
# stdout: exactly one line, the PID, once PgBouncer accepts connections on PORT.
# Then connect with  postgres://postgres@127.0.0.1:PORT/<any database>
# Stop:   kill -QUIT "$PID"   (immediate shutdown; SIGTERM waits for every
#         client to disconnect, SIGINT for every server transaction to end).
#
# Environment:
#   PGBOUNCER_BIN        binary to use (default: whatever install.sh provides;
#                        install.sh builds one on first use, ~30 s)
#   PGBOUNCER_UPSTREAM   "host=... port=..." of PostgreSQL (default 127.0.0.1:5432)
#   PGBOUNCER_EXTRA_INI  extra lines for the [pgbouncer] section (later lines
#                        override earlier ones), e.g. "query_timeout = 5"
#
# As root (CI), PgBouncer refuses to run unless told to switch user: it is run
# with -u postgres (or -u nobody when there is no postgres user).
set -euo pipefail

if [ $# -ne 2 ]; then
    echo "usage: $0 PORT DIR" >&2
    exit 2
fi
port=$1
dir=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
upstream=${PGBOUNCER_UPSTREAM:-host=127.0.0.1 port=5432}

bin=${PGBOUNCER_BIN:-}
[ -n "$bin" ] || bin=$("$here/install.sh" | tail -n 1)

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

cat >"$dir/userlist.txt" <<'EOF'
"postgres" ""
EOF

cat >"$dir/pgbouncer.ini" <<EOF
[databases]
* = $upstream

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
; no unix socket: nothing to clash with, nothing to clean up
unix_socket_dir =
auth_type = trust
auth_file = $dir/userlist.txt
admin_users = postgres
stats_users = postgres
pool_mode = transaction
; sqlx uses protocol-level named prepared statements (needs >= 1.21)
max_prepared_statements = 200
; sqlx sends extra_float_digits=2 in its startup packet; PgBouncer rejects
; startup parameters it does not track unless they are listed here. "options"
; (sea-orm's statement_timeout goes there as "-c statement_timeout=N") is NOT
; listed: ignoring it would silently drop the timeout, so such a client is
; refused instead ("unsupported startup parameter in options: statement_timeout").
ignore_startup_parameters = extra_float_digits
max_client_conn = 500
default_pool_size = 20
log_connections = 0
log_disconnections = 0
${PGBOUNCER_EXTRA_INI:-}
EOF

user_args=()
if [ "$(id -u)" = 0 ]; then
    run_as=nobody
    if id postgres >/dev/null 2>&1; then run_as=postgres; fi
    user_args=(-u "$run_as")
    # Lets RELOAD / SIGHUP re-read the files (only if DIR's parents are
    # searchable by that user too; otherwise the old config stays in force).
    chown -R "$run_as" "$dir"
fi

log=$dir/pgbouncer.log
# Foreground process, backgrounded here: logs go to $log (opened by us, so the
# switched-to user needs no access to $dir), and $! is PgBouncer itself.
"$bin" "${user_args[@]}" "$dir/pgbouncer.ini" </dev/null >"$log" 2>&1 &
pid=$!

for _ in $(seq 100); do
    if ! kill -0 "$pid" 2>/dev/null; then
        echo "pgbouncer exited at startup; $log:" >&2
        tail -n 20 "$log" >&2
        exit 1
    fi
    # "process up" is logged once it listens (a probe of the port alone could
    # hit another program already on it, which PgBouncer would then die of).
    if grep -q 'process up' "$log" && (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        echo "$pid" >"$dir/pgbouncer.pid"
        echo "$pid"
        exit 0
    fi
    sleep 0.1
done
echo "pgbouncer (pid $pid) is not accepting connections on 127.0.0.1:$port after 10s; $log:" >&2
tail -n 20 "$log" >&2
kill -QUIT "$pid" 2>/dev/null || true
exit 1
