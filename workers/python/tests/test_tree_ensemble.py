"""A LightGBM booster exported as one ONNX-ML TreeEnsemble scores like LightGBM itself: numerical splits with and
without NaN seen in training, categorical splits with a category never seen (NaN) or a code past the dictionary,
and a tree of one leaf."""

import lightgbm as lgb
import numpy as np
import onnxruntime as ort
import pytest

from sluice_python.tree_ensemble import Unsupported, lightgbm_to_onnx


def data(rows: int = 20_000, categories: int = 60):
    rng = np.random.default_rng(3)
    code = rng.integers(0, categories, rows).astype(np.float32)
    x = np.column_stack([code, rng.normal(size=(rows, 3)).astype(np.float32)])
    effect = rng.normal(size=categories)
    y = (effect[code.astype(int)] + x[:, 1] + rng.normal(size=rows) > 0).astype(np.float32)
    x[::29, 2] = np.nan  # a numeric feature with NaN in training: its splits send NaN the default way
    return x, y


def scored(booster: lgb.Booster, x: np.ndarray, output: str = "probability") -> np.ndarray:
    session = ort.InferenceSession(lightgbm_to_onnx(booster, x.shape[1]).SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run([output], {"input": x})[0]


def test_scores_like_lightgbm_with_categorical_splits_and_missing_values():
    x, y = data()
    booster = lgb.train({"objective": "binary", "num_leaves": 31, "verbose": -1, "num_threads": 1, "seed": 1}, lgb.Dataset(x, y, categorical_feature=[0]), 40)
    assert any(node.get("decision_type") == "==" for node in walk(booster.dump_model()))
    probe = x.copy()
    probe[::7, 0] = np.nan  # a category training never saw
    probe[::11, 0] = 500  # a code past the dictionary (the rarer categories' shared code)
    probe[::13, 3] = np.nan  # NaN where training had none: compared as 0
    assert np.max(np.abs(scored(booster, probe) - booster.predict(probe))) <= 1e-6


@pytest.mark.parametrize("objective", ["regression", "huber", "poisson"])
def test_a_regression_booster_predicts_its_number(objective):
    x, y = data()
    target = 3 * y + np.abs(x[:, 1])  # ≥ 0, for poisson
    booster = lgb.train({"objective": objective, "num_leaves": 31, "verbose": -1, "num_threads": 1, "seed": 1}, lgb.Dataset(x, target, categorical_feature=[0]), 40)
    ours = scored(booster, x, "prediction")
    assert ours.shape == (len(x),)
    # float32 output: within a few units in the last place of numbers up to ~10
    assert np.max(np.abs(ours - booster.predict(x)) / np.maximum(1, np.abs(booster.predict(x)))) <= 1e-6


def test_a_tree_of_one_leaf_and_a_booster_it_cannot_state():
    x, y = data(2_000)
    stump = lgb.train({"objective": "binary", "num_leaves": 2, "min_data_in_leaf": 5_000, "verbose": -1, "num_threads": 1}, lgb.Dataset(x, y), 3)
    assert all("leaf_value" in t["tree_structure"] for t in stump.dump_model()["tree_info"])
    assert np.max(np.abs(scored(stump, x) - stump.predict(x))) <= 1e-6
    zero = lgb.train({"objective": "binary", "zero_as_missing": True, "verbose": -1, "num_threads": 1}, lgb.Dataset(x, y), 5)
    with pytest.raises(Unsupported, match="missing_type Zero"):
        lightgbm_to_onnx(zero, x.shape[1])


def walk(dump: dict):
    stack = [t["tree_structure"] for t in dump["tree_info"]]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(node[k] for k in ("left_child", "right_child") if k in node)
