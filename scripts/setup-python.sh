#!/usr/bin/env bash
# A project-local Python for the Python activity worker (LightGBM, onnxmltools, Temporal's Python SDK) and
# for the reference implementations the tests and benchmarks compare against (scikit-learn's
# LogisticRegression, a plain DuckDB + ONNX Runtime script). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.tools/venv
# The worker's own pins are in workers/python/requirements.txt; these are the tests' and benchmarks' references
# (FLAML and pandas: the tuning benchmark's AutoML peer; lleaves: the GBDT benchmark's compiled-trees peer, with
# llvmlite 0.44, since lleaves 1.3 calls the legacy pass manager that llvmlite 0.50 no longer has).
packages=(duckdb==2.0.1 packaging pytest==9.2.0 flaml==2.8.0 pandas==3.1.1 lleaves==1.3.0 llvmlite==0.44.0)
# The batch-scoring benchmark also runs its Python peer on the DuckDB engine version the Node package
# embeds (npm's @duckdb/node-api lags PyPI's duckdb), so the data paths are compared on equal engines.
same_engine=.tools/pydeps-duckdb-node
node_duckdb=$(node -p "require('@duckdb/node-bindings/package.json').version.split('-')[0]" 2>/dev/null || echo 1.5.6)
# Installed once per set of pins: the stamp names a hash of the requirements and this list.
stamp="$venv/.sluice-$( (cat workers/python/requirements.txt; echo "${packages[*]}") | sha256sum | cut -c1-16)"
if [ -f "$stamp" ] && [ -f "$same_engine/.version-$node_duckdb" ]; then
  exit 0
fi
if ! command -v python3 >/dev/null; then
  echo "sluice setup: python3 is needed for the Python worker and the reference tests; install Python 3.9+ and retry" >&2
  exit 1
fi
echo "sluice setup: installing the Python worker's requirements and ${packages[*]} into $venv"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r workers/python/requirements.txt "${packages[@]}"
rm -rf "$same_engine"
"$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps --target "$same_engine" "duckdb==$node_duckdb"
touch "$same_engine/.version-$node_duckdb"
rm -f "$venv"/.sluice-*
touch "$stamp"
