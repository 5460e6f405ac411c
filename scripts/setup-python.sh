#!/usr/bin/env bash
# A project-local Python for the reference implementations the tests and benchmarks compare against
# (scikit-learn's LogisticRegression, a plain DuckDB + ONNX Runtime script). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.tools/venv
packages=(scikit-learn==1.9.1 numpy==2.4.6 duckdb==2.0.1 pyarrow==26.0.1 onnxruntime skl2onnx==1.19.1 onnx==1.23.2 packaging)
if "$venv/bin/python" -c 'import sklearn, numpy, duckdb, pyarrow, onnxruntime, skl2onnx' 2>/dev/null; then
  exit 0
fi
if ! command -v python3 >/dev/null; then
  echo "sluice setup: python3 is needed for the reference tests (scikit-learn); install Python 3.9+ and retry" >&2
  exit 1
fi
echo "sluice setup: creating $venv with ${packages[*]}"
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check "${packages[@]}"
