"""Compares scores a Sluice sink holds with LightGBM's own predictions for the same rows.

    python lightgbm_predictions.py <artifact root> <model folder> <sink glob> <day or from..to> <keys as JSON> [<column>]

The model folder holds `model.onnx` (whose metadata names its feature set) and LightGBM's `lightgbm.txt`;
the day's features are read from the feature set's validation split. Rows are matched on the keys (distinct rows: flights that share every key share every
feature too). The sink's column is `score` unless given (a regression's is `prediction`); a multiclass model's
sink has a probability column per class of the model's `sluice.classes` (`p_<class>`), each compared, and its
`predicted_class` must be the most probable class. Prints JSON: sink rows, matched rows, the largest absolute
difference, and (multiclass) the rows whose predicted class is not LightGBM's most probable one.
"""

import json
import re
import sys

import duckdb
import lightgbm as lgb
import numpy as np
import onnx

root, model, sink, day, keys = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], json.loads(sys.argv[5])
column = sys.argv[6] if len(sys.argv) > 6 else "score"
first, last = (day.split("..") + [day])[:2]
metadata = {p.key: p.value for p in onnx.load(f"{model}/model.onnx").metadata_props}
classes = json.loads(metadata.get("sluice.classes", "[]"))
columns = [f"p_{re.sub('[^a-z0-9_]+', '_', c.lower())}" for c in classes] or [column]
features = f"{root}/features/{metadata['sluice.features_fingerprint']}/validate.parquet"
booster = lgb.Booster(model_file=f"{model}/lightgbm.txt")
names = booster.feature_name()
on = " AND ".join(f's."{k}" = f."{k}"' for k in keys)
predicted = ', s."predicted_class"' if classes else ""
rows = duckdb.sql(
    f"""SELECT DISTINCT {', '.join(f's."{c}"' for c in columns)}{predicted}, {', '.join(f'f."{n}"' for n in names)}
        FROM read_parquet('{sink}') s JOIN read_parquet('{features}') f ON {on}
        WHERE CAST(f."{keys[0]}" AS DATE) BETWEEN DATE '{first}' AND DATE '{last}'"""
).fetchnumpy()
ours = np.column_stack([np.asarray(rows[c], dtype=np.float64) for c in columns])
theirs = np.asarray(booster.predict(np.column_stack([np.asarray(rows[n], dtype=np.float32) for n in names]))).reshape(len(ours), -1)
sink_rows = duckdb.sql(f"SELECT count(*) FROM read_parquet('{sink}')").fetchall()[0][0]
result = {"sinkRows": sink_rows, "matched": len(ours), "maxDifference": float(np.max(np.abs(ours - theirs))) if len(ours) else None}
if classes:
    result["wrongClass"] = int(np.sum(np.asarray(rows["predicted_class"]) != np.asarray(classes)[np.argmax(theirs, axis=1)]))
print(json.dumps(result))
