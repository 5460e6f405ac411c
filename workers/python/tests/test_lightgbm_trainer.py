"""The LightGBM trainer on real flights rows: deterministic, resumable, exported to ONNX that scores like
LightGBM itself, with Sluice's metadata, and bad input refused."""

from __future__ import annotations

import json
import os
from pathlib import Path

import duckdb
import lightgbm as lgb
import xgboost as xgb
import numpy as np
import onnx
import onnxruntime as ort
import pyarrow.parquet as pq
import pytest

from sluice_python import training
from sluice_python.artifacts import ArtifactStore
from sluice_python.trainers import trainer_of
from sluice_python.training import Hooks, TrainingError, train
from sluice_python.object_store import S3Objects

FLIGHTS = Path(__file__).resolve().parents[3] / "node_modules" / "vega-datasets" / "data" / "flights-3m.parquet"

@pytest.fixture(autouse=True)
def checkpoint_every_ten_rounds(monkeypatch: pytest.MonkeyPatch) -> None:
    """A checkpoint every 10 rounds, whatever it costs: the kill tests here die after a given checkpoint, and which
    ones the cost policy skips depends on the machine's load (tests/test_checkpoint.py tests the policy itself)."""
    monkeypatch.setattr(training, "CHECKPOINT_SHARE", float("inf"))


def dying_after_checkpoint(rounds: int, beats: list[dict], when=lambda details: True) -> Hooks:
    """Hooks of an attempt that dies at its first heartbeat (matching `when`) after a checkpoint of `rounds`
    rounds or more; `beats[-1]["checkpoint"]` is then the round the next attempt resumes after."""

    def die(details: dict) -> None:
        beats.append(details)
        if when(details) and details.get("checkpoint", 0) >= rounds:
            raise RuntimeError("worker killed")

    return Hooks(heartbeat=die)


def train_lightgbm(store, request, hooks=None):
    """The Python train step with the LightGBM plug-in, as the worker runs it."""
    return train(store, request, trainer_of("lightgbm"), hooks)


NAMES = ["hour_of_day", "log_distance", "day_of_week", "origin_lat"]


def flights_feature_set(root: Path, fingerprint: str, label: str, label_sql: str) -> tuple[ArtifactStore, dict]:
    """A small feature set in the layout the TypeScript features step writes: two weeks of January flights for
    training, three days for validation, NAMES as features and `label_sql` as `label`."""
    folder = root / "features" / fingerprint
    folder.mkdir(parents=True)
    for split, (start, end) in {"train": ("2001-01-01", "2001-01-14"), "validate": ("2001-01-15", "2001-01-17")}.items():
        duckdb.sql(
            f"""COPY (SELECT date, origin,
                    CAST(hour(date) + minute(date) / 60.0 AS FLOAT) AS hour_of_day, CAST(ln(distance) AS FLOAT) AS log_distance,
                    CAST(isodow(date) AS FLOAT) AS day_of_week, CAST(length(origin) + ascii(origin) AS FLOAT) AS origin_lat,
                    CAST({label_sql} AS FLOAT) AS {label}
                FROM read_parquet('{FLIGHTS}') WHERE date >= DATE '{start}' AND date < DATE '{end}' + INTERVAL 1 DAY ORDER BY date)
                TO '{folder / (split + ".parquet")}' (FORMAT parquet)"""
        )
    ref = lambda split: {"uri": f"artifact:features/{fingerprint}/{split}.parquet", "fingerprint": fingerprint, "rows": 0, "bytes": 1, "columns": []}
    features = {
        "fingerprint": fingerprint,
        "train": ref("train"),
        "validate": ref("validate"),
        "featureColumns": [{"name": n, "type": "FLOAT"} for n in NAMES],
        "keys": ["date", "origin"],
        "label": label,
    }
    return ArtifactStore(str(root)), features


@pytest.fixture(scope="module")
def feature_set(tmp_path_factory: pytest.TempPathFactory) -> tuple[ArtifactStore, dict]:
    """Whether a flight left more than 15 minutes late, as the label."""
    return flights_feature_set(tmp_path_factory.mktemp("artifacts"), "f1", "delayed", "delay > 15")


def request(features: dict, **trainer) -> dict:
    spec = {
        "name": "gbdt-test",
        "extract": {"time_column": "date"},
        "split": {"train": {"from": "2001-01-01", "to": "2001-01-14"}, "validate": {"from": "2001-01-15", "to": "2001-01-17"}},
        "trainer": {"type": "lightgbm", "trees": 60, "leaves": 15, "learning_rate": 0.1, "early_stopping_rounds": 100, "seed": 3, "threads": 2, **trainer},
    }
    return {"loaded": {"file": "spec.yaml", "baseDir": ".", "hash": "h", "spec": spec}, "features": features}


def scores(store: ArtifactStore, uri: str, x: np.ndarray) -> np.ndarray:
    """The model's positive-class probabilities: `probability` [N] (LightGBM's export), or column 1 of `probabilities` [N, 2]."""
    session = ort.InferenceSession(str(store.path_of(uri)), providers=["CPUExecutionProvider"])
    outputs = [o.name for o in session.get_outputs()]
    if "probability" in outputs:
        return session.run(["probability"], {"input": x})[0]
    return session.run(["probabilities"], {"input": x})[0][:, 1]


def validation(store: ArtifactStore, features: dict) -> tuple[np.ndarray, np.ndarray]:
    table = pq.read_table(store.path_of(features["validate"]["uri"]))
    return np.column_stack([table.column(n).to_numpy() for n in NAMES]).astype(np.float32), table.column(features["label"]).to_numpy()


def auc(y: np.ndarray, p: np.ndarray) -> float:
    order = np.argsort(p)
    ranks = np.empty(len(p))
    ranks[order] = np.arange(1, len(p) + 1)
    positives = y == 1
    return float((ranks[positives].sum() - positives.sum() * (positives.sum() + 1) / 2) / (positives.sum() * (~positives).sum()))


def test_trains_an_onnx_model_that_scores_like_lightgbm_with_sluice_metadata(feature_set):
    store, features = feature_set
    result = train_lightgbm(store, request(features))
    model = result["model"]
    assert result["reused"] is False
    assert model["featureNames"] == NAMES and model["training"]["iterations"] == 60
    x, y = validation(store, features)
    ours = scores(store, model["uri"], x)
    assert auc(y, ours) > 0.55  # four weak features on two weeks of January: better than chance, no more
    proto = onnx.load(str(store.path_of(model["uri"])))
    props = {p.key: p.value for p in proto.metadata_props}
    assert json.loads(props["sluice.feature_names"]) == NAMES
    assert props["sluice.features_fingerprint"] == "f1" and props["sluice.label"] == "delayed"
    assert not any(node.op_type == "ZipMap" for node in proto.graph.node)
    # The same model file, deterministic: a second run finds it by content address.
    assert train_lightgbm(store, request(features))["reused"] is True


def test_is_deterministic_for_a_seed_and_resumes_from_a_checkpoint_like_an_uninterrupted_run(feature_set, tmp_path):
    store, features = feature_set
    uninterrupted = train_lightgbm(store, request(features, seed=11))
    x, _ = validation(store, features)
    expected = scores(store, uninterrupted["model"]["uri"], x)

    # A fresh store holding the same features; the first attempt dies after its second checkpoint.
    fresh = ArtifactStore(str(tmp_path))
    (tmp_path / "features").symlink_to(store.root / "features")
    beats: list[dict] = []
    with pytest.raises(RuntimeError):
        train_lightgbm(fresh, request(features, seed=11), dying_after_checkpoint(20, beats))
    resumed = train_lightgbm(fresh, request(features, seed=11))
    assert resumed["model"]["training"]["resumedFrom"] == beats[-1]["checkpoint"] >= 20
    # The same trees: the model and the early stopping continue from the checkpoint.
    assert np.array_equal(scores(fresh, resumed["model"]["uri"], x), expected)


@pytest.mark.parametrize("trainer", ["lightgbm", "xgboost"])
def test_a_resumed_attempt_keeps_the_best_round_early_stopping_saw_before_the_kill(feature_set, tmp_path, trainer):
    """A high learning rate overfits within a few rounds: the best round comes before the kill, and the resumed
    attempt must keep it (the libraries' own early stopping forgets the rounds before a resume)."""
    store, features = feature_set
    settings = dict(trainer=trainer, seed=13, trees=100, learning_rate=0.8, leaves=63, max_depth=8, early_stopping_rounds=1000)
    settings = {k: v for k, v in settings.items() if k != ("max_depth" if trainer == "lightgbm" else "leaves")}
    run = lambda store, hooks=None: train(store, request(features, **{k: v for k, v in settings.items() if k != "trainer"}, type=trainer), trainer_of(trainer), hooks)
    uninterrupted = run(store)["model"]
    fresh = ArtifactStore(str(tmp_path))
    (tmp_path / "features").symlink_to(store.root / "features")

    beats: list[dict] = []
    with pytest.raises(RuntimeError):
        run(fresh, dying_after_checkpoint(40, beats))
    resumed = run(fresh)["model"]
    kept = beats[-1]["checkpoint"]
    assert resumed["training"]["resumedFrom"] == kept >= 40
    assert uninterrupted["training"]["iterations"] == resumed["training"]["iterations"] == 100
    assert uninterrupted["training"]["bestIteration"] < 40, "the setting must overfit before the kill"
    for key in ("bestIteration", "validationLoss", "trainLoss"):
        assert resumed["training"][key] == uninterrupted["training"][key], key
    x, _ = validation(store, features)
    assert np.array_equal(scores(fresh, resumed["uri"], x), scores(store, uninterrupted["uri"], x))


@pytest.mark.parametrize("trainer", ["lightgbm", "xgboost"])
@pytest.mark.parametrize("ending", ["max-iterations", "early-stopped"])
def test_an_attempt_killed_after_its_last_checkpoint_is_finished_by_the_next_without_boosting(feature_set, tmp_path, trainer, ending):
    """The last checkpoint holds the whole fit (every round, or the round early stopping stopped at) and the worker
    dies before publishing the model: the next attempt has nothing left to boost (both libraries refuse 0 rounds)."""
    store, features = feature_set
    settings = dict(seed=13, trees=30, learning_rate=0.8, early_stopping_rounds=1000, type=trainer)
    run = lambda store, hooks=None, **more: train(store, request(features, **settings, **more), trainer_of(trainer), hooks)
    if ending == "early-stopped":  # a patience that ends the fit on a checkpoint round: 10 past the best, rounded up
        best = run(store)["model"]["training"]["bestIteration"]
        settings.update(trees=1000, early_stopping_rounds=(best // 10 + 2) * 10 - best)
    uninterrupted = run(store)["model"]
    last = uninterrupted["training"]["iterations"]
    assert last % 10 == 0 and uninterrupted["training"]["stopReason"] == ending

    fresh = ArtifactStore(str(tmp_path))
    (tmp_path / "features").symlink_to(store.root / "features")
    beats: list[dict] = []
    with pytest.raises(RuntimeError):
        run(fresh, dying_after_checkpoint(last, beats))
    resumed = run(fresh)["model"]
    assert beats[-1]["checkpoint"] == resumed["training"]["resumedFrom"] == last
    for key in ("iterations", "bestIteration", "validationLoss", "stopReason"):
        assert resumed["training"][key] == uninterrupted["training"][key], key
    x, _ = validation(store, features)
    assert np.array_equal(scores(fresh, resumed["uri"], x), scores(store, uninterrupted["uri"], x))


@pytest.fixture(scope="module")
def delay_set(tmp_path_factory: pytest.TempPathFactory) -> tuple[ArtifactStore, dict]:
    """The departure delay in minutes (capped at 180) as the label: a regression."""
    return flights_feature_set(tmp_path_factory.mktemp("regression"), "r1", "delay_minutes", "least(delay, 180)")


def regression(features: dict, **trainer) -> dict:
    req = request(features, **trainer)
    req["loaded"]["spec"]["task"] = "regression"
    return req


@pytest.fixture(scope="module")
def band_set(tmp_path_factory: pytest.TempPathFactory) -> tuple[ArtifactStore, dict]:
    """How late a flight left, in three bands (early or on time, up to an hour late, later), as a class code."""
    store, features = flights_feature_set(tmp_path_factory.mktemp("multiclass"), "m1", "band", "CASE WHEN delay <= 0 THEN 0 WHEN delay <= 60 THEN 1 ELSE 2 END")
    return store, {**features, "classes": [{"name": "on time", "rows": 0}, {"name": "late", "rows": 0}, {"name": "very late", "rows": 0}]}


def test_a_multiclass_model_exports_a_softmax_over_every_class_and_scores_like_lightgbm(band_set):
    store, features = band_set
    req = request(features, trees=40, early_stopping_rounds=10)
    req["loaded"]["spec"]["task"] = "multiclass"
    model = train_lightgbm(store, req)["model"]
    x, y = validation(store, features)
    session = ort.InferenceSession(str(store.path_of(model["uri"])), providers=["CPUExecutionProvider"])
    assert [o.name for o in session.get_outputs()] == ["probabilities"]
    ours = session.run(["probabilities"], {"input": x})[0]
    assert ours.shape == (len(y), 3)
    assert np.allclose(ours.sum(axis=1), 1, atol=1e-5)
    booster = lgb.Booster(model_file=str(store.path_of(model["uri"]).with_name("lightgbm.txt")))
    assert np.max(np.abs(ours - booster.predict(x))) <= 1e-5
    # Four weak features: the log loss beats a uniform guess (ln 3), no more.
    assert -np.mean(np.log(ours[np.arange(len(y)), y.astype(int)])) < np.log(3) - 0.1
    props = {p.key: p.value for p in onnx.load(str(store.path_of(model["uri"]))).metadata_props}
    assert json.loads(props["sluice.classes"]) == ["on time", "late", "very late"]


@pytest.mark.parametrize("objective", ["regression", "huber"])
def test_a_regression_predicts_minutes_that_fit_better_than_the_mean_and_scores_like_lightgbm(delay_set, objective):
    store, features = delay_set
    model = train_lightgbm(store, regression(features, objective=objective))["model"]
    session = ort.InferenceSession(str(store.path_of(model["uri"])), providers=["CPUExecutionProvider"])
    assert [o.name for o in session.get_outputs()] == ["prediction"]
    table = pq.read_table(store.path_of(features["validate"]["uri"]))
    x = np.column_stack([table.column(n).to_numpy() for n in NAMES]).astype(np.float32)
    y = table.column("delay_minutes").to_numpy().astype(np.float64)
    ours = session.run(["prediction"], {"input": x})[0].astype(np.float64)
    booster = lgb.Booster(model_file=str(store.path_of(model["uri"]).with_name("lightgbm.txt")))
    assert np.max(np.abs(ours - booster.predict(x))) <= 1e-4  # float32 minutes
    # Four weak features on two weeks of January: on the training rows, better than their mean (it learned).
    train = pq.read_table(store.path_of(features["train"]["uri"]))
    tx = np.column_stack([train.column(n).to_numpy() for n in NAMES]).astype(np.float32)
    ty = train.column("delay_minutes").to_numpy().astype(np.float64)
    rmse = lambda p, y: float(np.sqrt(np.mean((p - y) ** 2)))  # noqa: E731
    fitted = session.run(["prediction"], {"input": tx})[0].astype(np.float64)
    assert rmse(fitted, ty) < rmse(np.full(len(ty), ty.mean()), ty)
    print(f"{objective}: validation RMSE {rmse(ours, y):.3f}, the training mean's {rmse(np.full(len(y), ty.mean()), y):.3f}")


@pytest.mark.parametrize("objective", ["regression", "huber", "poisson"])
def test_an_xgboost_regression_fits_better_than_the_mean_and_scores_like_xgboost(delay_set, objective):
    store, features = delay_set
    req = regression(features, type="xgboost", objective=objective, trees=60, max_depth=4)
    req["loaded"]["spec"]["trainer"].pop("leaves")
    if objective == "poisson":  # counts: the delay past the scheduled time, never negative
        with pytest.raises(TrainingError, match=r"trainer.objective: poisson predicts counts, and \d+ training labels are negative"):
            train(store, req, trainer_of("xgboost"))
        return
    model = train(store, req, trainer_of("xgboost"))["model"]
    session = ort.InferenceSession(str(store.path_of(model["uri"])), providers=["CPUExecutionProvider"])
    train_rows = pq.read_table(store.path_of(features["train"]["uri"]))
    tx = np.column_stack([train_rows.column(n).to_numpy() for n in NAMES]).astype(np.float32)
    ty = train_rows.column("delay_minutes").to_numpy().astype(np.float64)
    fitted = session.run(None, {"input": tx})[-1].reshape(-1).astype(np.float64)
    booster = xgb.Booster(model_file=str(store.path_of(model["uri"]).with_name("xgboost.json")))
    assert np.max(np.abs(fitted - booster.predict(xgb.DMatrix(tx)))) <= 1e-4  # float32 minutes
    rmse = lambda p, y: float(np.sqrt(np.mean((p - y) ** 2)))  # noqa: E731
    assert rmse(fitted, ty) < rmse(np.full(len(ty), ty.mean()), ty)


def test_an_xgboost_multiclass_model_gives_every_class_s_probability_like_xgboost(band_set):
    store, features = band_set
    req = request(features, type="xgboost", trees=40, max_depth=4, early_stopping_rounds=10)
    req["loaded"]["spec"]["trainer"].pop("leaves")
    req["loaded"]["spec"]["task"] = "multiclass"
    model = train(store, req, trainer_of("xgboost"))["model"]
    x, y = validation(store, features)
    session = ort.InferenceSession(str(store.path_of(model["uri"])), providers=["CPUExecutionProvider"])
    ours = session.run(["probabilities"], {"input": x})[0]
    assert ours.shape == (len(y), 3) and np.allclose(ours.sum(axis=1), 1, atol=1e-5)
    booster = xgb.Booster(model_file=str(store.path_of(model["uri"]).with_name("xgboost.json")))
    assert np.max(np.abs(ours - booster.predict(xgb.DMatrix(x)))) <= 1e-5
    assert -np.mean(np.log(ours[np.arange(len(y)), y.astype(int)])) < np.log(3) - 0.1
    assert model["training"]["stopReason"] in ("early-stopped", "max-iterations")


def test_poisson_refuses_a_negative_label_saying_how_many(delay_set):
    store, features = delay_set
    with pytest.raises(TrainingError, match=r"^trainer.objective: poisson predicts counts, and \d+ training labels are negative \(the smallest: -\d+(\.\d+)?\); use regression or huber, or shift the label in label.sql$"):
        train_lightgbm(store, regression(features, objective="poisson"))


def test_refuses_a_feature_that_is_not_a_number(feature_set):
    store, features = feature_set
    broken = dict(features, featureColumns=[*features["featureColumns"], {"name": "origin", "type": "VARCHAR"}], fingerprint="f1-text")
    with pytest.raises(TrainingError, match=r"column `origin` is string; LightGBM needs numbers"):
        train_lightgbm(store, request(broken))


def test_refit_trains_the_chosen_rounds_on_the_whole_window_and_resumes_within_the_refit(feature_set, tmp_path):
    store, features = feature_set
    searched = train_lightgbm(store, request(features, seed=21, trees=40, early_stopping_rounds=5))["model"]["training"]
    fresh = ArtifactStore(str(tmp_path))
    (tmp_path / "features").symlink_to(store.root / "features")
    beats: list[dict] = []
    in_refit = lambda details: details["maxIterations"] == searched["bestIteration"]  # noqa: E731
    with pytest.raises(RuntimeError):
        train_lightgbm(fresh, request(features, seed=21, trees=40, early_stopping_rounds=5, refit=True), dying_after_checkpoint(10, beats, in_refit))
    refit = train_lightgbm(fresh, request(features, seed=21, trees=40, early_stopping_rounds=5, refit=True))["model"]
    assert refit["training"]["iterations"] == searched["bestIteration"] >= 10
    assert refit["training"]["refit"] is True and refit["training"]["resumedFrom"] == beats[-1]["checkpoint"] >= 10
    assert refit["training"]["refitSeconds"] > 0  # the refit's own time, reported
    booster = lgb.Booster(model_file=str(fresh.path_of(refit["uri"]).with_name("lightgbm.txt")))
    assert booster.current_iteration() == searched["bestIteration"]
    assert not list((tmp_path / "checkpoints").glob("*")), "checkpoints are removed once the model is published"


@pytest.mark.skipif(not os.environ.get("SLUICE_TEST_S3_BUCKET"), reason="needs the S3 server `npm test` starts (workers/python/pytest.test.ts runs this file there)")
def test_trains_through_s3_and_resumes_on_another_worker_that_shares_no_disk(feature_set, tmp_path):
    store, features = feature_set
    remote = S3Objects(f"s3://{os.environ['SLUICE_TEST_S3_BUCKET']}/pytest-{os.getpid()}")
    for split in ("train", "validate"):
        remote.upload(store.path_of(f"artifact:features/f1/{split}.parquet"), f"features/f1/{split}.parquet")

    # Worker A dies after its second checkpoint; worker B, with a cache of its own, resumes from the checkpoint in S3.
    beats: list[dict] = []
    with pytest.raises(RuntimeError):
        train_lightgbm(ArtifactStore(str(tmp_path / "a"), remote), request(features, seed=13), dying_after_checkpoint(20, beats))
    b = ArtifactStore(str(tmp_path / "b"), remote)
    resumed = train_lightgbm(b, request(features, seed=13))
    assert resumed["model"]["training"]["resumedFrom"] == beats[-1]["checkpoint"] >= 20
    assert remote.read_text(f"checkpoints/{resumed['model']['fingerprint']}.lgb.checkpoint.json") is None  # removed once the model exists

    # Worker C finds the model in S3 instead of training it again, and reads the same bytes.
    c = ArtifactStore(str(tmp_path / "c"), remote)
    again = train_lightgbm(c, request(features, seed=13))
    assert again["reused"] is True
    assert c.fetch(again["model"]["uri"]).read_bytes() == b.path_of(resumed["model"]["uri"]).read_bytes()
    with pytest.raises(FileNotFoundError, match=r"artifact:models/none/model.onnx is not in the artifact store at s3://"):
        c.fetch("artifact:models/none/model.onnx")
