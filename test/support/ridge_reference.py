"""scikit-learn's Ridge on a Sluice feature set, for the linear regression trainer's test.

    python ridge_reference.py <artifact root> <model folder> <l2>

Reads the model's feature set (its metadata names it and the features), standardizes the training rows as Sluice
does (population standard deviation), fits `Ridge(alpha = l2 × training rows)` and scores the validation rows.
Prints JSON: the validation RMSE, and the largest difference between its predictions and the Sluice model's (ONNX
Runtime on the same rows).
"""

import json
import sys

import numpy as np
import onnx
import onnxruntime as ort
import pyarrow.parquet as pq
from sklearn.linear_model import Ridge
from sklearn.preprocessing import StandardScaler

root, model, l2 = sys.argv[1], sys.argv[2], float(sys.argv[3])
metadata = {p.key: p.value for p in onnx.load(f"{model}/model.onnx").metadata_props}
names, label = json.loads(metadata["sluice.feature_names"]), metadata["sluice.label"]
folder = f"{root}/features/{metadata['sluice.features_fingerprint']}"


def rows(split):
    table = pq.read_table(f"{folder}/{split}.parquet")
    return np.column_stack([table.column(n).to_numpy() for n in names]).astype(np.float64), table.column(label).to_numpy().astype(np.float64)


x, y = rows("train")
vx, vy = rows("validate")
scaler = StandardScaler().fit(x)
ridge = Ridge(alpha=l2 * len(y)).fit(scaler.transform(x), y)
theirs = ridge.predict(scaler.transform(vx))
session = ort.InferenceSession(f"{model}/model.onnx", providers=["CPUExecutionProvider"])
ours = session.run(["prediction"], {session.get_inputs()[0].name: vx.astype(np.float32)})[0].astype(np.float64)
print(json.dumps({"rmse": float(np.sqrt(np.mean((theirs - vy) ** 2))), "maxDifference": float(np.max(np.abs(ours - theirs)))}))
