#!/usr/bin/env bash
# A private PostgreSQL server on loopback for the Postgres sink (tests and local runs).
#   scripts/postgres.sh start DIR PORT   prints the connection string on its last line
#   scripts/postgres.sh stop DIR
# Uses Debian's postgresql binaries; as root, the server runs as the `postgres` user.
set -euo pipefail
command=${1:?usage: postgres.sh start DIR PORT | stop DIR}
dir=${2:?data folder}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [ -z "$bin" ]; then
  echo "PostgreSQL is not installed: apt-get install postgresql (the CI script does this)" >&2
  exit 3
fi
as_owner=()
if [ "$(id -u)" = 0 ]; then as_owner=(runuser -u postgres --); fi

case "$command" in
  start)
    port=${3:?port}
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    if [ ! -f "$dir/PG_VERSION" ]; then
      "${as_owner[@]}" "$bin/initdb" -D "$dir" -A trust -U postgres >/dev/null
    fi
    "${as_owner[@]}" "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1" start >/dev/null
    "${as_owner[@]}" "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'sluice'" | grep -q 1 ||
      "${as_owner[@]}" "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres sluice
    echo "postgres://postgres@127.0.0.1:$port/sluice"
    ;;
  stop)
    [ -f "$dir/postmaster.pid" ] && "${as_owner[@]}" "$bin/pg_ctl" -D "$dir" -m fast -w stop >/dev/null
    ;;
esac
