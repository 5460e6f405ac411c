"""A plain script doing what a Sluice search does, directly on the feature files: Optuna's TPE sampler (seeded,
5 random start-up trials, multivariate, constant liar) and median pruner (5 trials, 20 rounds) over the same
space, the same number of trials, each a LightGBM fit on the fit rows with early stopping on the holdout days and
its holdout log loss reported every 10 rounds (a Dataset per trial, since max_bin is searched). Prints the search's wall seconds and the best holdout AUC.
Usage: optuna_script.py train.parquet label time_column trials seed 'space json' 'trainer json' 'categorical,columns' feature..."""
import json
import sys
import time

import lightgbm as lgb
import numpy as np
import optuna
from sklearn.metrics import roc_auc_score

from feature_files import holdout, load

train_file, label, time_column, trials, seed, space, trainer, categorical, *features = sys.argv[1:]
space, trainer = json.loads(space), json.loads(trainer)
categorical = [features.index(c) for c in categorical.split(",") if c] or "auto"
optuna.logging.set_verbosity(optuna.logging.WARNING)

started = time.perf_counter()
x, y, days = load(train_file, features, label, time_column)
held = holdout(days, trainer.get("holdout", 0.1))
NAMES = {"leaves": "num_leaves", "l1": "lambda_l1", "l2": "lambda_l2"}


def suggest(trial):
    found = {}
    for name, r in space.items():
        if "float" in r:
            found[name] = trial.suggest_float(name, *r["float"], log=bool(r.get("log")))
        elif "int" in r:
            found[name] = trial.suggest_int(name, *r["int"], log=bool(r.get("log")))
        else:
            found[name] = trial.suggest_categorical(name, r["choice"])
    return found


def objective(trial):
    chosen = {**trainer, **suggest(trial)}
    params = {NAMES.get(k, k): v for k, v in chosen.items() if k not in ("type", "trees", "early_stopping_rounds", "holdout", "refit", "seed", "threads")}
    params.update(objective="binary", metric="binary_logloss", seed=chosen.get("seed", 7), deterministic=True, force_row_wise=True, verbose=-1, num_threads=chosen.get("threads", 0))

    def report(env):
        done = env.iteration + 1
        if done % 10 == 0:
            trial.report(env.evaluation_result_list[0][2], done)
            if trial.should_prune():
                raise optuna.TrialPruned()

    # A Dataset per trial: its bins depend on max_bin, which the search sets.
    fit_set = lgb.Dataset(x[~held], y[~held], feature_name=features, categorical_feature=categorical, params={"max_bin": params.get("max_bin", 255)})
    holdout_set = lgb.Dataset(x[held], y[held], reference=fit_set)
    booster = lgb.train(params, fit_set, num_boost_round=chosen["trees"], valid_sets=[holdout_set], valid_names=["holdout"],
                        callbacks=[lgb.early_stopping(chosen.get("early_stopping_rounds", 30), verbose=False), report])
    return float(roc_auc_score(y[held], booster.predict(x[held], num_iteration=booster.best_iteration or None)))


sampler = optuna.samplers.TPESampler(seed=int(seed), n_startup_trials=5, constant_liar=True, multivariate=True)
study = optuna.create_study(direction="maximize", sampler=sampler, pruner=optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=20))
study.optimize(objective, n_trials=int(trials))
print(json.dumps({"seconds": time.perf_counter() - started, "best_holdout_auc": study.best_value, "trials": len(study.trials),
                  "pruned": sum(t.state == optuna.trial.TrialState.PRUNED for t in study.trials)}))
