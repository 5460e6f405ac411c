"""Reference: scikit-learn's Ridge or multinomial LogisticRegression (lbfgs) on a Sluice feature set.

Reads the train and validation Parquet files the features step wrote, standardizes with StandardScaler (fit on
train), fits the model with the same penalty as Sluice's trainer (Ridge `alpha` = l2 × rows; LogisticRegression
`C` = 1 / (l2 × rows)), and prints one JSON object: the validation metric (RMSE, or log loss) and the wall time of
loading and of fitting.

    python sklearn_linear.py ridge|softmax TRAIN.parquet VALIDATE.parquet LABEL COLUMNS L2

COLUMNS is a JSON list of [name, SQL] pairs: the design matrix's columns as Sluice's linear trainers read them (a
numeric feature as itself, a category's indicator as `origin_airport = 3`).
"""
import json
import sys
import time

import numpy as np
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import log_loss
from sklearn.preprocessing import StandardScaler

from feature_files import load_design


def main():
    kind, train_path, validate_path, label, columns, l2 = sys.argv[1:]
    features, l2 = json.loads(columns), float(l2)
    started = time.perf_counter()
    x_train, y_train = load_design(train_path, features, label)
    x_valid, y_valid = load_design(validate_path, features, label)
    loaded = time.perf_counter()
    scaler = StandardScaler().fit(x_train)
    n = len(y_train)
    if kind == "ridge":
        model = Ridge(alpha=l2 * n).fit(scaler.transform(x_train), y_train)
        fitted = time.perf_counter()
        metric, iterations = float(np.sqrt(np.mean((model.predict(scaler.transform(x_valid)) - y_valid) ** 2))), 1
    else:
        model = LogisticRegression(C=1 / (l2 * n)).fit(scaler.transform(x_train), y_train.astype(np.int64))
        fitted = time.perf_counter()
        metric = float(log_loss(y_valid.astype(np.int64), model.predict_proba(scaler.transform(x_valid)), labels=model.classes_))
        iterations = int(model.n_iter_[0])
    print(json.dumps({"metric": metric, "load_seconds": loaded - started, "fit_seconds": fitted - loaded, "iterations": iterations, "rows": n}))


if __name__ == "__main__":
    main()
