"""A LightGBM booster (binary, multiclass, or a regression: `regression`, `huber`, `poisson`) as one ONNX-ML
`TreeEnsemble` (ai.onnx.ml opset 5), categorical splits included.

onnxmltools converts a categorical split ("origin in {3, 17, 40, …}") into a chain of equality tests, one node per
category, so a model with airport splits is many times deeper than LightGBM's own: on the flights features
(LightGBM, 300 trees, 63 leaves, origin and destination categorical) ONNX Runtime scored 3M rows in 66.8 s with
it against LightGBM's 20.4 s. `TreeEnsemble` has set-membership splits (BRANCH_MEMBER): one node per split, as in
LightGBM, and the same model scores in 27.0 s (`npm run bench`, bench/gbdt.ts). The splits and leaves are kept in double precision (the features are cast to double inside the graph), so
every comparison is the one LightGBM makes.

LightGBM's decisions, as `TreeEnsemble` takes them:
- a numerical split `x <= threshold` with `missing_type` NaN sends NaN the default way (`default_left`); with
  `missing_type` None, NaN is compared as 0. `missing_type` Zero (zero_as_missing) has no single-node form: such a
  booster raises Unsupported, and the caller falls back to onnxmltools.
- a categorical split sends the listed categories left, anything else (NaN, negative, unlisted) right.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

BRANCH_LEQ, BRANCH_MEMBER = 0, 6
SUM, NONE = 1, 0


class Unsupported(Exception):
    """The booster has a split TreeEnsemble cannot state in one node."""


#: What each objective's raw score becomes: the output's name and the ONNX node (None: the score itself).
OUTPUTS = {
    "binary": ("probability", "Sigmoid"),
    "multiclass": ("probabilities", "Softmax"),
    "regression": ("prediction", None),
    "huber": ("prediction", None),
    "poisson": ("prediction", "Exp"),
}


def lightgbm_to_onnx(booster: Any, width: int) -> onnx.ModelProto:
    """The booster as `input` [batch, width] float → `probability` [batch] (a binary booster's positive class),
    `probabilities` [batch, classes] (a multiclass booster's: the softmax of each class's trees, which LightGBM
    boosts in turn, tree i for class i mod classes) or `prediction` [batch] (a regression's number: the raw score, or
    its exponential for `poisson`)."""
    dump = booster.dump_model()
    objective = dump.get("objective", "").split()[0] if dump.get("objective") else ""
    targets = int(dump.get("num_class", 1))
    if objective not in OUTPUTS or (targets != 1) != (objective == "multiclass"):
        raise Unsupported(f"objective {dump.get('objective')}")
    output, transform = OUTPUTS[objective]
    nodes: dict[str, list[Any]] = {k: [] for k in ("feature", "split", "mode", "true", "true_leaf", "false", "false_leaf", "missing_true")}
    members: list[float] = []
    leaves: list[float] = []
    roots: list[int] = []

    targets_of_leaves: list[int] = []
    target = 0  # the class of the tree being added

    def leaf(value: float) -> tuple[int, int]:
        leaves.append(float(value))
        targets_of_leaves.append(target)
        return len(leaves) - 1, 1

    def add(node: dict[str, Any]) -> tuple[int, int]:
        """Appends `node` (a split) and its subtrees; returns (its index, 0: not a leaf)."""
        at = len(nodes["feature"])
        for column in nodes.values():
            column.append(0)
        nodes["feature"][at] = int(node["split_feature"])
        if node["decision_type"] == "==":
            categories = [float(c) for c in str(node["threshold"]).split("||")]
            members.extend(categories + [math.nan])
            nodes["mode"][at], nodes["split"][at], nodes["missing_true"][at] = BRANCH_MEMBER, 0.0, 0
        elif node["decision_type"] == "<=":
            threshold = float(node["threshold"])
            missing = node.get("missing_type", "None")
            if missing == "NaN":
                goes_left = bool(node["default_left"])
            elif missing == "None":
                goes_left = 0.0 <= threshold
            else:
                raise Unsupported(f"a split with missing_type {missing}")
            nodes["mode"][at], nodes["split"][at], nodes["missing_true"][at] = BRANCH_LEQ, threshold, int(goes_left)
        else:
            raise Unsupported(f"decision_type {node['decision_type']}")
        nodes["true"][at], nodes["true_leaf"][at] = child(node["left_child"])
        nodes["false"][at], nodes["false_leaf"][at] = child(node["right_child"])
        return at, 0

    def child(node: dict[str, Any]) -> tuple[int, int]:
        return leaf(node["leaf_value"]) if "leaf_value" in node else add(node)

    for index, tree in enumerate(dump["tree_info"]):
        target = index % targets
        structure = tree["tree_structure"]
        if "leaf_value" in structure:
            # A tree of one leaf: a split whose two ways lead to it.
            add({"split_feature": 0, "decision_type": "<=", "threshold": 0.0, "missing_type": "None", "left_child": structure, "right_child": {"leaf_value": 0.0}})
            nodes["false"][-1] = nodes["true"][-1]
            leaves.pop()
            targets_of_leaves.pop()
            roots.append(len(nodes["feature"]) - 1)
        else:
            roots.append(add(structure)[0])

    ensemble = helper.make_node(
        "TreeEnsemble",
        ["features_double"],
        ["raw_score"],
        domain="ai.onnx.ml",
        n_targets=targets,
        aggregate_function=SUM,
        # The sigmoid is a node of its own: ONNX Runtime 1.32 leaves TreeEnsemble's LOGISTIC post-transform unapplied.
        post_transform=NONE,
        tree_roots=roots,
        nodes_featureids=nodes["feature"],
        nodes_splits=numpy_helper.from_array(np.asarray(nodes["split"], dtype=np.float64)),
        nodes_modes=numpy_helper.from_array(np.asarray(nodes["mode"], dtype=np.uint8)),
        nodes_truenodeids=nodes["true"],
        nodes_trueleafs=nodes["true_leaf"],
        nodes_falsenodeids=nodes["false"],
        nodes_falseleafs=nodes["false_leaf"],
        nodes_missing_value_tracks_true=nodes["missing_true"],
        **({"membership_values": numpy_helper.from_array(np.asarray(members, dtype=np.float64))} if members else {}),
        leaf_targetids=targets_of_leaves,
        leaf_weights=numpy_helper.from_array(np.asarray(leaves, dtype=np.float64)),
    )
    graph = helper.make_graph(
        [
            helper.make_node("Cast", ["input"], ["features_double"], to=TensorProto.DOUBLE),
            ensemble,
            helper.make_node(transform or "Identity", ["raw_score"], ["output_double"], **({"axis": 1} if transform == "Softmax" else {})),
            helper.make_node("Cast", ["output_double"], ["output_column"], to=TensorProto.FLOAT),
            helper.make_node("Reshape", ["output_column", "shape"], [output]),
        ],
        "sluice_lightgbm",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [None, width])],
        [helper.make_tensor_value_info(output, TensorProto.FLOAT, [None] if targets == 1 else [None, targets])],
        [numpy_helper.from_array(np.asarray([-1] if targets == 1 else [-1, targets], dtype=np.int64), "shape")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21), helper.make_opsetid("ai.onnx.ml", 5)], producer_name="sluice")
    model.ir_version = 10
    onnx.checker.check_model(model)
    return model
