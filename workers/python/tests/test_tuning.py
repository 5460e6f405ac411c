"""The search's Python side on real flights rows: the sampler rebuilt from the workflow's trials asks the same
next trial for the same history, a trial is scored on the holdout days and reused when asked again, and the
median pruner stops a trial whose holdout loss trails the finished trials'."""

from __future__ import annotations

import json
import tempfile

import numpy as np
from sklearn.metrics import roc_auc_score

from sluice_python.artifacts import ArtifactStore
from sluice_python.trainers import trainer_of
from sluice_python.training import Hooks, holdout_split, matrix
from sluice_python.tuning import auc, suggest, trial
from test_lightgbm_trainer import NAMES, band_set, feature_set, request  # noqa: F401 - the fixtures are used by name

import pyarrow.parquet as pq

SPACE = {"learning_rate": {"float": [0.01, 0.3], "log": True}, "leaves": {"int": [7, 127], "log": True}, "max_bin": {"choice": [63, 255]}}


def ask(finished: list, running: list | None = None, sampler: str = "tpe", store: ArtifactStore | None = None) -> dict:
    request = {"space": SPACE, "sampler": sampler, "seed": 11, "metric": "auc", "finished": finished, "running": running or []}
    return suggest(store or ArtifactStore(tempfile.mkdtemp()), request)["params"]


def stored_curve(store: ArtifactStore, name: str, loss: float) -> str:
    """A finished trial's record with a holdout loss of `loss` at every checkpoint, as a trial writes it; its address."""
    uri = f"artifact:trials/{name}/trial.json"
    path = store.path_of(uri)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"state": "complete", "intermediate": [[step, loss] for step in range(10, 70, 10)]}))
    return uri


def test_the_same_history_asks_the_same_trial_inside_the_space():
    finished = [{"params": ask([]), "state": "complete", "value": 0.7}]
    first, again = ask(finished), ask(finished)
    assert first == again
    assert 0.01 <= first["learning_rate"] <= 0.3 and isinstance(first["leaves"], int) and 7 <= first["leaves"] <= 127 and first["max_bin"] in (63, 255)
    # A trial still running is part of the history: the next one is another configuration.
    assert ask(finished, running=[first]) != first
    # Past the random start-up trials TPE models the space; still deterministic.
    store = ArtifactStore(tempfile.mkdtemp())
    many = [{"params": ask([], sampler="random") | {"learning_rate": 0.01 * (i + 1)}, "state": "complete" if i % 3 else "pruned", "value": 0.6 + i / 100, "uri": stored_curve(store, f"t{i}", 0.5)} for i in range(8)]
    assert ask(many, store=store) == ask(many, store=store)


def test_auc_is_the_rank_statistic_with_ties():
    rng = np.random.default_rng(3)
    y = (rng.random(5000) < 0.3).astype(np.float32)
    scores = np.round(rng.random(5000) + y * 0.3, 2)  # many ties
    assert abs(auc(y, scores) - roc_auc_score(y, scores)) < 1e-12


def test_a_trial_is_scored_on_the_holdout_days_and_reused(feature_set):  # noqa: F811
    store, features = feature_set
    req = request(features) | {"params": {"learning_rate": 0.2, "leaves": 31}, "metric": "auc"}
    first = trial(store, req, trainer_of("lightgbm"), Hooks())
    record = first["trial"]
    assert not first["reused"] and record["state"] == "complete"
    assert 0 < record["bestIteration"] <= 60 and "intermediate" not in record
    assert json.loads(store.path_of(record["uri"]).read_text())["intermediate"][0][0] == 10
    # The value is the AUC on the training window's last days of the model early stopping chose.
    table = pq.read_table(store.path_of(features["train"]["uri"]))
    _, holdout_rows = holdout_split(table, "date", 0.1)
    x, y = matrix(table, NAMES, "delayed", "LightGBM")
    assert 0.55 < record["value"] < 1 and record["holdout"]["auc"] == record["value"]
    assert len(holdout_rows) < len(y) / 5
    again = trial(store, req, trainer_of("lightgbm"), Hooks())
    assert again["reused"] and again["trial"]["value"] == record["value"]


def test_a_multiclass_trial_is_scored_by_its_holdout_log_loss(band_set):  # noqa: F811
    store, features = band_set
    req = request(features, trees=40, early_stopping_rounds=10) | {"metric": "log_loss"}
    req["loaded"]["spec"]["task"] = "multiclass"
    records = [trial(store, req | {"params": {"learning_rate": rate, "leaves": 15}}, trainer_of("lightgbm"), Hooks())["trial"] for rate in (0.05, 0.3)]
    table = pq.read_table(store.path_of(features["train"]["uri"]))
    _, holdout_rows = holdout_split(table, "date", 0.1)
    _, y = matrix(table, NAMES, "band", "LightGBM")
    held = y[holdout_rows].astype(np.int64)
    # Below the class shares' log loss on those days (the best constant guess), and only the log loss is reported.
    shares = np.bincount(held, minlength=3) / len(held)
    constant = float(-np.mean(np.log(shares[held])))
    for record in records:
        assert record["state"] == "complete" and set(record["holdout"]) == {"logLoss"} and record["value"] == record["holdout"]["logLoss"]
        assert 0 < record["value"] < constant
    assert records[0]["value"] != records[1]["value"]


def test_median_pruning_stops_a_trial_that_trails_the_finished_ones(feature_set):  # noqa: F811
    store, features = feature_set
    low = [stored_curve(store, f"low{i}", 0.01) for i in range(5)]
    high = [stored_curve(store, f"high{i}", 10.0) for i in range(5)]
    base = request(features) | {"params": {"learning_rate": 0.05, "leaves": 15}, "metric": "auc"}
    trailing = trial(store, base | {"pruning": {"finished": low}}, trainer_of("lightgbm"), Hooks())["trial"]
    assert trailing["state"] == "pruned" and trailing["reason"].startswith("pruned at round 20: holdout loss ")
    assert trailing["iterations"] == 20 and "intermediate" not in trailing
    assert [step for step, _ in json.loads(store.path_of(trailing["uri"]).read_text())["intermediate"]] == [10, 20]
    leading = trial(store, base | {"pruning": {"finished": high}}, trainer_of("lightgbm"), Hooks())["trial"]
    assert leading["state"] == "complete" and leading["value"] > 0.55
    # Too few finished trials to compare with: no pruning.
    few = trial(store, base | {"pruning": {"finished": low[:4]}}, trainer_of("lightgbm"), Hooks())["trial"]
    assert few["state"] == "complete"
