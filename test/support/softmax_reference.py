"""scikit-learn's multinomial LogisticRegression on a Sluice feature set, for the softmax trainer's test.

    python softmax_reference.py <artifact root> <model folder> <l2>

Reads the model's feature set (its metadata names it, the features and the classes), standardizes the training rows
as Sluice does (population standard deviation) and fits `LogisticRegression(C = 1 / (l2 × training rows))` with
lbfgs, which minimizes the same penalized loss as the trainer with `early_stopping: false`. Prints JSON: its validation log loss, and the largest difference
between its probabilities and the Sluice model's (ONNX Runtime on the same rows).
"""

import json
import sys

import numpy as np
import onnx
import onnxruntime as ort
import pyarrow.parquet as pq
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.preprocessing import StandardScaler

root, model, l2 = sys.argv[1], sys.argv[2], float(sys.argv[3])
metadata = {p.key: p.value for p in onnx.load(f"{model}/model.onnx").metadata_props}
names, label, classes = json.loads(metadata["sluice.feature_names"]), metadata["sluice.label"], json.loads(metadata["sluice.classes"])
folder = f"{root}/features/{metadata['sluice.features_fingerprint']}"


def rows(split):
    table = pq.read_table(f"{folder}/{split}.parquet")
    return np.column_stack([table.column(n).to_numpy() for n in names]).astype(np.float64), table.column(label).to_numpy().astype(np.int64)


x, y = rows("train")
vx, vy = rows("validate")
scaler = StandardScaler().fit(x)
reference = LogisticRegression(C=1 / (l2 * len(y)), solver="lbfgs", tol=1e-10, max_iter=10_000).fit(scaler.transform(x), y)
theirs = reference.predict_proba(scaler.transform(vx))
session = ort.InferenceSession(f"{model}/model.onnx", providers=["CPUExecutionProvider"])
ours = session.run(["probabilities"], {session.get_inputs()[0].name: vx.astype(np.float32)})[0].astype(np.float64)
print(json.dumps({"logLoss": float(log_loss(vy, theirs, labels=list(range(len(classes))))), "maxDifference": float(np.max(np.abs(ours - theirs)))}))
