#!/usr/bin/env bash
# Run a command against a throw-away PostgreSQL cluster on a free loopback port.
# Usage: scripts/with-postgres.sh COMMAND...   (exports BCRAO_TEST_DATABASE_URL)
set -euo pipefail

pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$pg_bin" ] || [ ! -x "$pg_bin/initdb" ]; then
  echo "with-postgres: PostgreSQL server binaries not found (apt-get install postgresql)" >&2
  exit 3
fi

dir=$(mktemp -d /tmp/bcrao-pg.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
as_pg=()
if [ "$(id -u)" = 0 ]; then
  chown postgres:postgres "$dir"
  as_pg=(runuser -u postgres --)
fi

cleanup() {
  "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT

"${as_pg[@]}" "$pg_bin/initdb" -D "$dir/data" -U postgres -A trust --no-sync >/dev/null
"${as_pg[@]}" "$pg_bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 30 \
  -o "-h 127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" start >/dev/null
"${as_pg[@]}" "$pg_bin/createdb" -h 127.0.0.1 -p "$port" -U postgres bcrao_test

export BCRAO_TEST_DATABASE_URL="postgresql+asyncpg://postgres@127.0.0.1:$port/bcrao_test"
export BCRAO_TEST_PG_BIN="$pg_bin" BCRAO_TEST_PG_DATA="$dir/data" BCRAO_TEST_PG_PORT="$port"
echo "with-postgres: PostgreSQL on 127.0.0.1:$port"
"$@"
