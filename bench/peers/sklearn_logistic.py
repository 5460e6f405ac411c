"""Reference: scikit-learn's LogisticRegression (default lbfgs solver) on a Sluice feature set.

Reads the train and validation Parquet files the features step wrote, standardizes with
StandardScaler (fit on train), fits LogisticRegression() with its defaults, and prints one JSON
object: validation AUC and log loss, and the wall time of loading and of fitting.

    python sklearn_logistic.py TRAIN.parquet VALIDATE.parquet LABEL COLUMNS

COLUMNS is a JSON list of [name, SQL] pairs: the design matrix's columns as Sluice's logistic trainer reads
them (a numeric feature as itself, a category's indicator as `origin_airport = 3`).
"""
import json
import sys
import time

from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss, roc_auc_score
from sklearn.preprocessing import StandardScaler

from feature_files import load_design


def main():
    train_path, validate_path, label, columns = sys.argv[1:]
    features = json.loads(columns)
    started = time.perf_counter()
    x_train, y_train = load_design(train_path, features, label)
    x_valid, y_valid = load_design(validate_path, features, label)
    loaded = time.perf_counter()
    scaler = StandardScaler().fit(x_train)
    model = LogisticRegression().fit(scaler.transform(x_train), y_train)
    fitted = time.perf_counter()
    scores = model.predict_proba(scaler.transform(x_valid))[:, 1]
    print(json.dumps({
        "auc": roc_auc_score(y_valid, scores),
        "log_loss": log_loss(y_valid, scores),
        "load_seconds": loaded - started,
        "fit_seconds": fitted - loaded,
        "iterations": int(model.n_iter_[0]),
        "rows": int(x_train.shape[0]),
        "features": len(features),
    }))


if __name__ == "__main__":
    main()
