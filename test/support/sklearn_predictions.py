"""Compares scores a Sluice sink holds with the `python` trainer's own model's predict_proba for the same rows.

    python sklearn_predictions.py <artifact root> <model folder> <sink glob> <from..to> <keys as JSON>

The model folder holds `model.onnx` (whose metadata names its feature set and features) and the model the training
function returned, `model.pkl`; the days' features are read from the feature set's validation split and matched to
the sink's rows on the keys. Prints JSON: sink rows, matched rows, and the largest absolute difference between the
sink's `score` and predict_proba's positive class."""

import json
import pickle
import sys

import duckdb
import numpy as np
import onnx

root, model, sink, days, keys = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], json.loads(sys.argv[5])
first, last = days.split("..")
metadata = {p.key: p.value for p in onnx.load(f"{model}/model.onnx").metadata_props}
names = json.loads(metadata["sluice.feature_names"])
features = f"{root}/features/{metadata['sluice.features_fingerprint']}/validate.parquet"
with open(f"{model}/model.pkl", "rb") as file:
    estimator = pickle.load(file)
on = " AND ".join(f's."{k}" = f."{k}"' for k in keys)
rows = duckdb.sql(
    f"""SELECT DISTINCT s.score, {', '.join(f'f."{n}"' for n in names)}
        FROM read_parquet('{sink}') s JOIN read_parquet('{features}') f ON {on}
        WHERE CAST(f."{keys[0]}" AS DATE) BETWEEN DATE '{first}' AND DATE '{last}'"""
).fetchnumpy()
ours = np.asarray(rows["score"], dtype=np.float64)
theirs = estimator.predict_proba(np.column_stack([np.asarray(rows[n], dtype=np.float32) for n in names]))[:, 1]
sink_rows = duckdb.sql(f"SELECT count(*) FROM read_parquet('{sink}')").fetchall()[0][0]
print(json.dumps({"sinkRows": sink_rows, "matched": len(ours), "maxDifference": float(np.max(np.abs(ours - theirs))) if len(ours) else None}))
