"""Compares scores a Sluice sink holds with LightGBM's own predictions for the same rows.

    python lightgbm_predictions.py <artifact root> <model folder> <sink glob> <day> <keys as JSON> [<column>]

The model folder holds `model.onnx` (whose metadata names its feature set) and LightGBM's `lightgbm.txt`;
the day's features are read from the feature set's validation split. Rows are matched on the keys (distinct rows: flights that share every key share every
feature too). The sink's column is `score` unless given (a regression's is `prediction`). Prints JSON: sink rows,
matched rows, and the largest absolute difference.
"""

import json
import sys

import duckdb
import lightgbm as lgb
import numpy as np
import onnx

root, model, sink, day, keys = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], json.loads(sys.argv[5])
column = sys.argv[6] if len(sys.argv) > 6 else "score"
metadata = {p.key: p.value for p in onnx.load(f"{model}/model.onnx").metadata_props}
features = f"{root}/features/{metadata['sluice.features_fingerprint']}/validate.parquet"
booster = lgb.Booster(model_file=f"{model}/lightgbm.txt")
names = booster.feature_name()
on = " AND ".join(f's."{k}" = f."{k}"' for k in keys)
rows = duckdb.sql(
    f"""SELECT DISTINCT s."{column}", {', '.join(f'f."{n}"' for n in names)}
        FROM read_parquet('{sink}') s JOIN read_parquet('{features}') f ON {on}
        WHERE CAST(f."{keys[0]}" AS DATE) = DATE '{day}'"""
).fetchnumpy()
ours = np.asarray(rows[column], dtype=np.float64)
theirs = booster.predict(np.column_stack([np.asarray(rows[n], dtype=np.float32) for n in names]))
sink_rows = duckdb.sql(f"SELECT count(*) FROM read_parquet('{sink}')").fetchall()[0][0]
print(json.dumps({"sinkRows": sink_rows, "matched": len(ours), "maxDifference": float(np.max(np.abs(ours - theirs))) if len(ours) else None}))
