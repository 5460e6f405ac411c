#!/usr/bin/env bash
# Installs whatever is missing for the demo (and, with --test, for the tests and benchmarks):
# npm packages, the temporal CLI in .tools/bin, and (tests only) a Python venv with the reference libraries.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x node_modules/.bin/tsx ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "sluice setup: installing npm packages"
  npm ci --no-audit --no-fund
fi

node_modules/.bin/tsx scripts/temporal-server.ts install

if [ "${1:-}" = "--test" ]; then
  bash scripts/setup-python.sh
  # The Postgres sink tests run a private PostgreSQL server from Debian's packages.
  if ! ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      echo "sluice setup: installing PostgreSQL (Debian package postgresql)"
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    else
      echo "sluice setup: PostgreSQL is not installed; the Postgres sink test needs it (apt-get install postgresql)" >&2
    fi
  fi
fi
