"""Reference: XGBoost as a plain script on a Sluice feature set, with Sluice's protocol.

    python xgboost_script.py TRAIN.parquet VALIDATE.parquet LABEL TIME_COLUMN PARAMS_JSON FEATURE [FEATURE ...]

Reads the train and validation Parquet files the features step wrote, holds out the last `holdout` share of
the training days for early stopping (as Sluice does), trains with the spec's settings (the hist method) and
prints one JSON object: the validation AUC and log loss, and the wall time of loading and of fitting.
PARAMS_JSON's `categorical` lists the categorical features' indices: XGBoost splits on them natively, one category
against the rest, as Sluice's trainer does.
"""
import json
import sys
import time

import xgboost as xgb
from sklearn.metrics import log_loss, roc_auc_score

from feature_files import holdout, load


def main(train_path, validate_path, label, time_column, params_json, *features):
    s = json.loads(params_json)
    started = time.perf_counter()
    x, y, days = load(train_path, features, label, time_column)
    x_valid, y_valid, _ = load(validate_path, features, label, time_column)
    held = holdout(days, s["holdout"])
    categorical = set(s.get("categorical", []))
    types = ["c" if i in categorical else "q" for i in range(len(features))]
    matrix = lambda rows, labels=None: xgb.DMatrix(rows, labels, feature_types=types, enable_categorical=bool(categorical))  # noqa: E731
    fit, holdout_rows = matrix(x[~held], y[~held]), matrix(x[held], y[held])
    loaded = time.perf_counter()
    params = {
        "objective": "binary:logistic", "eval_metric": "logloss", "tree_method": "hist", "max_depth": s["max_depth"], "eta": s["learning_rate"],
        "min_child_weight": s["min_child_weight"], "subsample": s["subsample"], "colsample_bytree": s["colsample_bytree"], "alpha": s["l1"],
        "lambda": s["l2"], "gamma": s["gamma"], "max_bin": s["max_bin"], "seed": s["seed"], "verbosity": 0, "max_cat_to_onehot": 1 << 20, **({"nthread": s["threads"]} if s["threads"] else {}),
    }
    booster = xgb.train(params, fit, s["trees"], evals=[(holdout_rows, "holdout")], early_stopping_rounds=s["early_stopping_rounds"], verbose_eval=False)
    fitted = time.perf_counter()
    best = int(booster.attr("best_iteration") or booster.num_boosted_rounds() - 1) + 1
    p = booster.predict(matrix(x_valid), iteration_range=(0, best))
    print(json.dumps({"auc": roc_auc_score(y_valid, p), "log_loss": log_loss(y_valid, p), "load_seconds": loaded - started, "fit_seconds": fitted - loaded, "iterations": best, "rows": len(y)}))


if __name__ == "__main__":
    main(*sys.argv[1:])
