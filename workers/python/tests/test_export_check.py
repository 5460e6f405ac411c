"""The export check compares every row it is given at the plug-in's tolerance, and both LightGBM exports decide as
LightGBM does on the float32 values next to its thresholds."""

import lightgbm as lgb
import numpy as np
import pytest
from onnxmltools import convert_lightgbm
from onnxmltools.convert.common.data_types import FloatTensorType

from sluice_python.training import Fitted, TrainingError, check_export
from sluice_python.tree_ensemble import lightgbm_to_onnx


def booster_and_rows():
    rng = np.random.default_rng(5)
    # 200 values per feature, 3 float32 steps apart: LightGBM splits halfway between two of them, on a double that
    # float32 cannot hold.
    x = (1 + 3 * rng.integers(0, 200, size=(20_000, 3)) * 2.0**-23).astype(np.float32)
    y = (x[:, 0] + 0.5 * x[:, 1] + rng.normal(scale=0.1, size=len(x)) > 1.75).astype(np.float32)
    booster = lgb.train({"objective": "binary", "num_leaves": 31, "verbose": -1, "num_threads": 1, "seed": 1}, lgb.Dataset(x, y), 30)
    # For each split, the float32 just above the threshold: LightGBM sends it right; float32(threshold) rounds up
    # to it (or beyond) about half the time, and then a float32 comparison sends it left.
    probes = []
    stack = [t["tree_structure"] for t in booster.dump_model()["tree_info"]]
    while stack:
        node = stack.pop()
        if "split_feature" in node:
            row = x[len(probes) % len(x)].copy()
            row[node["split_feature"]] = np.nextafter(np.float32(node["threshold"]), np.float32(np.inf)) if np.float32(node["threshold"]) <= node["threshold"] else np.float32(node["threshold"])
            probes.append(row)
            stack += [node["left_child"], node["right_child"]]
    return booster, np.vstack([x, np.asarray(probes, dtype=np.float32)])


def test_one_row_past_the_tolerance_is_refused_wherever_it_is():
    booster, rows = booster_and_rows()
    model = lightgbm_to_onnx(booster, rows.shape[1])
    last = len(rows) - 1

    def off_by(delta):
        def predict(x):
            p = booster.predict(x)
            p[last] += delta
            return p
        return predict

    with pytest.raises(TrainingError, match=r"^trainer: the exported ONNX model scores up to 2\.\d\de-06 away from LightGBM's own predictions; nothing was registered$"):
        check_export(Fitted(model, {}, off_by(2e-6), tolerance=1e-6), rows, "LightGBM")
    check_export(Fitted(model, {}, off_by(5e-7), tolerance=1e-6), rows, "LightGBM")


def test_the_exports_score_the_rows_beside_each_threshold_as_lightgbm_does():
    """Both exports decide as LightGBM does on the float32 values just above every threshold (onnxmltools rounds a
    threshold down to the float32 below it; the TreeEnsemble keeps it in double precision)."""
    booster, rows = booster_and_rows()
    thresholds = []
    stack = [t["tree_structure"] for t in booster.dump_model()["tree_info"]]
    while stack:
        node = stack.pop()
        if "split_feature" in node:
            thresholds.append(node["threshold"])
            stack += [node["left_child"], node["right_child"]]
    # Every threshold lies between two float32 values: the probes sit on the upper one.
    assert all(float(np.float32(t)) != t for t in thresholds)
    float32 = convert_lightgbm(booster, initial_types=[("input", FloatTensorType([None, rows.shape[1]]))], zipmap=False)
    check_export(Fitted(float32, {}, booster.predict, tolerance=1e-6), rows, "LightGBM")
    check_export(Fitted(lightgbm_to_onnx(booster, rows.shape[1]), {}, booster.predict, tolerance=1e-6), rows, "LightGBM")
