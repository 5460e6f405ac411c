#!/usr/bin/env bash
# A project-local Python for the reference implementations the tests and benchmarks compare against
# (scikit-learn's LogisticRegression, a plain DuckDB + ONNX Runtime script). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.tools/venv
packages=(scikit-learn==1.9.1 numpy==2.4.6 duckdb==2.0.1 pyarrow==26.0.1 onnxruntime==1.32.0 skl2onnx==1.19.1 onnx==1.23.2 packaging)
# The batch-scoring benchmark also runs its Python peer on the DuckDB engine version the Node package
# embeds (npm's @duckdb/node-api lags PyPI's duckdb), so the data paths are compared on equal engines.
same_engine=.tools/pydeps-duckdb-node
node_duckdb=$(node -p "require('@duckdb/node-bindings/package.json').version.split('-')[0]" 2>/dev/null || echo 1.5.6)
if "$venv/bin/python" -c 'import sklearn, numpy, duckdb, pyarrow, onnxruntime, skl2onnx' 2>/dev/null &&
  [ -f "$same_engine/.version-$node_duckdb" ]; then
  exit 0
fi
if ! command -v python3 >/dev/null; then
  echo "sluice setup: python3 is needed for the reference tests (scikit-learn); install Python 3.9+ and retry" >&2
  exit 1
fi
echo "sluice setup: creating $venv with ${packages[*]}"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check "${packages[@]}"
rm -rf "$same_engine"
"$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps --target "$same_engine" "duckdb==$node_duckdb"
touch "$same_engine/.version-$node_duckdb"
