"""FLAML AutoML (LightGBM only) on a Sluice feature set: a search of `time_budget` seconds tuned on the same holdout
days Sluice's trials are scored on, then the best configuration refit on every training day; its AUC and log loss
on the validation split. Usage: flaml_search.py train.parquet validate.parquet label time_column seconds
'categorical,columns' feature..."""
import json
import sys
import time

import numpy as np
import pandas as pd
from flaml import AutoML
from sklearn.metrics import log_loss, roc_auc_score

from feature_files import holdout, load

train_file, validate_file, label, time_column, seconds, categorical, *features = sys.argv[1:]
categorical = [c for c in categorical.split(",") if c]


def frame(x: np.ndarray) -> pd.DataFrame:
    """The matrix as a DataFrame whose categorical columns are pandas categories (FLAML's LightGBM splits on them natively)."""
    df = pd.DataFrame(x, columns=features)
    for name in categorical:
        df[name] = pd.Categorical(df[name].astype("Int64"))
    return df


started = time.perf_counter()
x, y, days = load(train_file, features, label, time_column)
xv, yv, _ = load(validate_file, features, label, time_column)
held = holdout(days, 0.1)
# One category set for every split, so the codes mean the same everywhere.
full = frame(np.vstack([x, xv]))
train_df, validate_df = full.iloc[: len(y)], full.iloc[len(y) :]
loaded = time.perf_counter() - started

automl = AutoML()
started = time.perf_counter()
automl.fit(
    X_train=train_df[~held], y_train=y[~held], X_val=train_df[held], y_val=y[held],
    task="classification", metric="roc_auc", estimator_list=["lgbm"], time_budget=float(seconds),
    eval_method="holdout", retrain_full=True, seed=7, n_jobs=-1, verbose=0,
)
wall = time.perf_counter() - started
p = automl.predict_proba(validate_df)[:, 1]
print(json.dumps({
    "auc": float(roc_auc_score(yv, p)), "log_loss": float(log_loss(yv, p)), "seconds": wall, "load_seconds": loaded,
    "best": {k: (v if isinstance(v, (int, float, str)) else str(v)) for k, v in (automl.best_config or {}).items()},
    "trials": len(automl.config_history), "best_holdout_auc": 1 - float(automl.best_loss),
}))
