"""Reference: LightGBM as a plain script on a Sluice feature set, and LightGBM's own predict.

    python lightgbm_script.py fit TRAIN.parquet VALIDATE.parquet LABEL TIME_COLUMN PARAMS_JSON FEATURE [FEATURE ...]
    python lightgbm_script.py predict MODEL.txt ROWS.f32 WIDTH THREADS

`fit` reads the train and validation Parquet files the features step wrote and trains with the given
settings (trees, leaves, learning_rate, min_data_in_leaf, early_stopping_rounds, holdout, seed, threads).
With `"all_rows": false` it follows Sluice's protocol (early stopping on the last `holdout` share of the
training days); with `true` it fits every training row for `trees` rounds. `categorical` lists the categorical
features' indices, split on natively as Sluice's trainer does. `objective` (default `binary`) may be `regression`,
`huber`, `poisson` or `multiclass` (with `num_class`; the label is the class code). Prints one JSON object: the
validation AUC and log loss (binary), RMSE (regression objectives) or log loss (multiclass), and the wall time of
loading and of fitting.

`predict` scores a raw float32 row-major matrix with a saved model (best of two runs) and prints the rows
and seconds.
"""
import json
import sys
import time

import lightgbm as lgb
import numpy as np
from sklearn.metrics import log_loss, roc_auc_score

from feature_files import holdout, load


def fit(train_path, validate_path, label, time_column, params_json, *features):
    settings = json.loads(params_json)
    started = time.perf_counter()
    x, y, days = load(train_path, features, label, time_column)
    x_valid, y_valid, _ = load(validate_path, features, label, time_column)
    loaded = time.perf_counter()
    objective = settings.get("objective", "binary")
    params = {
        "objective": objective, **({"num_class": settings["num_class"]} if objective == "multiclass" else {}), "num_leaves": settings["leaves"], "learning_rate": settings["learning_rate"],
        "min_data_in_leaf": settings["min_data_in_leaf"], "seed": settings["seed"], "num_threads": settings["threads"],
        "deterministic": True, "force_row_wise": True, "verbose": -1,
    }
    categorical = settings.get("categorical") or "auto"
    if settings["all_rows"]:
        booster = lgb.train(params, lgb.Dataset(x, y, categorical_feature=categorical), num_boost_round=settings["trees"])
    else:
        held = holdout(days, settings["holdout"])
        booster = lgb.train(
            params, lgb.Dataset(x[~held], y[~held], categorical_feature=categorical), num_boost_round=settings["trees"],
            valid_sets=[lgb.Dataset(x[held], y[held])], callbacks=[lgb.early_stopping(settings["early_stopping_rounds"], verbose=False)],
        )
    fitted = time.perf_counter()
    p = booster.predict(x_valid, num_iteration=booster.best_iteration or None)
    if objective == "binary":
        metrics = {"auc": roc_auc_score(y_valid, p), "log_loss": log_loss(y_valid, p)}
    elif objective == "multiclass":
        metrics = {"log_loss": log_loss(y_valid.astype(np.int64), p, labels=list(range(settings["num_class"])))}
    else:
        metrics = {"rmse": float(np.sqrt(np.mean((p - y_valid) ** 2)))}
    print(json.dumps({
        **metrics, "load_seconds": loaded - started,
        "fit_seconds": fitted - loaded, "iterations": booster.best_iteration or booster.current_iteration(), "rows": len(y),
    }))


def predict(model_path, rows_path, width, threads, out_path=None):
    """LightGBM's own predict on the rows (best of two); with `out_path`, its predictions written there as float64."""
    booster = lgb.Booster(model_file=model_path)
    x = np.fromfile(rows_path, dtype=np.float32).reshape(-1, int(width))
    seconds = []
    for _ in range(2):
        started = time.perf_counter()
        predictions = booster.predict(x, num_threads=int(threads))
        seconds.append(time.perf_counter() - started)
    if out_path:
        np.asarray(predictions, dtype=np.float64).tofile(out_path)
    print(json.dumps({"rows": len(x), "seconds": min(seconds)}))


if __name__ == "__main__":
    {"fit": fit, "predict": predict}[sys.argv[1]](*sys.argv[2:])
