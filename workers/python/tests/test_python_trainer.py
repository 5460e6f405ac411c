"""The `python` trainer: the spec's own training function on real flights rows, converted to ONNX that scores like
the estimator, resumed from its own checkpoint, its code part of the fingerprint, and every bad module refused."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from sluice_python.trainers import trainer_of
from sluice_python.training import Cancelled, Hooks, TrainingError, train
from tests.test_lightgbm_trainer import NAMES, auc, flights_feature_set, scores, validation

EXAMPLE = Path(__file__).resolve().parents[3] / "pipelines" / "trainers" / "hist_gbdt.py"


@pytest.fixture(scope="module")
def feature_set(tmp_path_factory: pytest.TempPathFactory):
    return flights_feature_set(tmp_path_factory.mktemp("artifacts"), "py1", "delayed", "delay > 15")


def code(path: Path) -> dict:
    return {"setting": "trainer.module", "path": str(path), "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}


def request(features: dict, module: Path, task: str = "binary", **trainer) -> dict:
    spec = {
        "name": "python-test",
        "task": task,
        "extract": {"time_column": "date"},
        "split": {"train": {"from": "2001-01-01", "to": "2001-01-14"}, "validate": {"from": "2001-01-15", "to": "2001-01-17"}},
        "trainer": {"type": "python", "module": module.name, "function": "train", "params": {"max_iter": 100, "chunk": 25, "seed": 3}, "holdout": 0.1, **trainer},
    }
    return {"loaded": {"file": "spec.yaml", "baseDir": ".", "hash": "h", "spec": spec, "code": code(module)}, "features": features}


def run(store, req, hooks=None):
    return train(store, req, trainer_of("python"), hooks)


def test_the_example_trains_an_onnx_model_that_scores_like_predict_proba_and_resumes_from_its_checkpoint(feature_set):
    store, features = feature_set
    result = run(store, request(features, EXAMPLE))
    model = result["model"]
    assert model["training"]["stopReason"] == "returned HistGradientBoostingClassifier"
    x, y = validation(store, features)
    assert auc(y, scores(store, model["uri"], x)) > 0.55
    assert run(store, request(features, EXAMPLE))["reused"] is True
    # An attempt that dies after its second checkpoint; the next resumes from it and trains the same model.
    beats: list[dict] = []

    def die(details: dict) -> None:
        beats.append(details)
        if len(beats) == 2:
            raise RuntimeError("worker killed")

    other = request(features, EXAMPLE, params={"max_iter": 100, "chunk": 25, "seed": 4, "patience": 10})
    with pytest.raises(RuntimeError, match="worker killed"):
        run(store, other, Hooks(heartbeat=die))
    resumed_beats: list[dict] = []
    resumed = run(store, other, Hooks(heartbeat=resumed_beats.append))
    assert [b["iteration"] for b in beats] == [25, 50]
    assert [b["iteration"] for b in resumed_beats] == [50, 75, 100]  # the first fit of the resumed attempt is round 75's
    assert [b.get("checkpoint") for b in resumed_beats] == [50, 75, 100]
    assert resumed["model"]["training"]["resumedFrom"] == 50
    # The same settings trained without a kill (a setting the function ignores makes it a model of its own).
    uninterrupted = run(store, request(features, EXAMPLE, params={"max_iter": 100, "chunk": 25, "seed": 4, "patience": 10, "note": "uninterrupted"}))
    np.testing.assert_array_equal(scores(store, resumed["model"]["uri"], x), scores(store, uninterrupted["model"]["uri"], x))


def test_changed_code_is_a_new_model(feature_set, tmp_path):
    store, features = feature_set
    module = tmp_path / "copy.py"
    module.write_text(EXAMPLE.read_text())
    first = run(store, request(features, module))
    module.write_text(EXAMPLE.read_text() + "\n# changed\n")
    second = run(store, request(features, module))
    assert second["reused"] is False and second["model"]["fingerprint"] != first["model"]["fingerprint"]


BAD = {
    "syntax": ("def train(data, params, context)\n    return None\n", r"^trainer\.module: bad\.py:1: expected ':': def train\(data, params, context\)$"),
    "no function": ("def fit(data, params, context):\n    pass\n\ndef helper():\n    pass\n", r"^trainer\.function: bad\.py has no function `train` \(its functions: fit, helper\)$"),
    "wrong signature": ("def train(x, y):\n    pass\n", r"^trainer\.function: train\(x, y\) cannot be called as train\(data, params, context\): write def train\(data, params, context\)$"),
    "raises": (
        "def helper(n):\n    return 1 / n\n\ndef train(data, params, context):\n    return helper(0)\n",
        r"^trainer\.function: train raised ZeroDivisionError: division by zero \(at bad\.py:2 in helper < bad\.py:5 in train < python\.py:\d+ in fit\); nothing was registered$",
    ),
    "unknown type": ("def train(data, params, context):\n    return {'weights': [1, 2]}\n", r"^trainer\.function: returned a dict, which gives no probabilities \(no predict_proba\); a binary pipeline needs a classifier"),
    "unknown model": (
        "class Model:\n    def predict_proba(self, x):\n        return x\n    def predict(self, x):\n        return x\n\ndef train(data, params, context):\n    return Model()\n",
        r"^trainer\.function: returned a sluice_user_trainers\.[0-9a-f]+\.Model, which no converter knows \(tried skl2onnx for scikit-learn, onnxmltools for LightGBM and XGBoost\); return a fitted model of one of them, or an onnx\.ModelProto$",
    ),
    "a regressor": (
        "from sklearn.linear_model import Ridge\n\ndef train(data, params, context):\n    return Ridge().fit(data.x, data.y)\n",
        r"^trainer\.function: returned a Ridge, which gives no probabilities \(no predict_proba\); a binary pipeline needs a classifier \(e\.g\. HistGradientBoostingClassifier\)$",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_refuses_a_bad_module_with_a_clear_message(feature_set, tmp_path, case):
    store, features = feature_set
    source, message = BAD[case]
    module = tmp_path / "bad.py"
    module.write_text(source)
    with pytest.raises(TrainingError, match=message):
        run(store, request(features, module))


def test_refuses_code_changed_since_the_spec_was_loaded(feature_set, tmp_path):
    store, features = feature_set
    module = tmp_path / "moving.py"
    module.write_text(EXAMPLE.read_text())
    req = request(features, module)
    module.write_text(EXAMPLE.read_text() + "\n")
    with pytest.raises(TrainingError, match=r"^trainer\.module: moving\.py changed since the spec was loaded; start the run again to train the new code$"):
        run(store, req)


def test_a_classifier_for_a_regression_is_refused_and_a_regressor_trains(tmp_path):
    store, features = flights_feature_set(tmp_path / "artifacts", "py2", "delay_minutes", "least(delay, 180)")
    module = tmp_path / "regress.py"
    module.write_text(
        "from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor\n\n"
        "def train(data, params, context):\n"
        "    if params.get('classifier'):\n"
        "        return HistGradientBoostingClassifier(max_iter=5).fit(data.x, data.y > 15)\n"
        "    return HistGradientBoostingRegressor(max_iter=40, random_state=1).fit(data.x, data.y)\n"
    )
    with pytest.raises(TrainingError, match=r"^trainer\.function: returned a HistGradientBoostingClassifier, a classifier; a regression pipeline needs a regressor"):
        run(store, request(features, module, task="regression", params={"classifier": True}))
    model = run(store, request(features, module, task="regression"))["model"]
    assert model["featureNames"] == NAMES


def test_cancellation_reaches_the_function(feature_set, tmp_path):
    store, features = feature_set
    module = tmp_path / "polite.py"
    module.write_text(
        "def train(data, params, context):\n"
        "    seen = context.cancelled()\n"
        "    context.heartbeat(1, 10)  # raises once the run is cancelled\n"
        "    raise AssertionError(f'went on after a cancelled heartbeat (cancelled() said {seen})')\n"
    )
    with pytest.raises(Cancelled, match=r"^cancelled after round 1$"):
        run(store, request(features, module), Hooks(cancelled=lambda: True))
