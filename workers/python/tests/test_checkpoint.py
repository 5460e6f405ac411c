"""A boosting fit's checkpoint: written every few rounds while it is cheap, never more than its share of the fit,
and read back with the early stopping's losses."""

from __future__ import annotations

import json
import time

import numpy as np

from sluice_python.artifacts import ArtifactStore
from sluice_python.training import CHECKPOINT_ROUNDS, CHECKPOINT_SHARE, Checkpoint, EarlyStopping, Hooks, Job


def job_with(store: ArtifactStore, beats: list[dict]) -> Job:
    rows = np.zeros((4, 1), dtype=np.float32)
    return Job(rows, rows[:, 0], ["a"], np.arange(3), np.arange(3, 4), {}, "f", [], Hooks(heartbeat=beats.append), store)


def test_a_costly_checkpoint_is_written_less_often_and_the_heartbeats_say_which_round_it_kept(tmp_path):
    beats: list[dict] = []
    stopping = EarlyStopping(None)
    checkpoint = Checkpoint(tmp_path / "model.checkpoint.json", job_with(ArtifactStore(str(tmp_path)), beats), stopping, 400)
    written: list[float] = []

    def model() -> str:  # a model whose text takes as long to write as 10 rounds take to train
        started = time.perf_counter()
        time.sleep(0.02)
        written.append(time.perf_counter() - started)
        return "the model"

    started = time.perf_counter()
    for done in range(1, 401):
        time.sleep(0.002)
        assert checkpoint.reached(done, model, 1.0 / done) is False  # no patience: never stops
    elapsed = time.perf_counter() - started

    assert len(beats) == 400 // CHECKPOINT_ROUNDS  # a heartbeat every 10 rounds, written or not
    assert 1 <= len(written) < len(beats) / 4
    assert sum(written[1:]) <= CHECKPOINT_SHARE * elapsed + written[0]
    kept = [beat["checkpoint"] for beat in beats]
    assert kept[0] == CHECKPOINT_ROUNDS and kept == sorted(kept) and all(k % CHECKPOINT_ROUNDS == 0 for k in kept)
    saved = json.loads((tmp_path / "model.checkpoint.json").read_text())
    assert saved["rounds"] == kept[-1] and saved["model"] == "the model"
    assert len(saved["holdoutLosses"]) == kept[-1]

    # The next attempt reads the model back, and the losses of its rounds into its early stopping.
    again = EarlyStopping(5)
    resumed = Checkpoint(tmp_path / "model.checkpoint.json", job_with(ArtifactStore(str(tmp_path)), []), again, 400)
    assert resumed.load() == "the model" and resumed.rounds == kept[-1]
    assert again.losses == [1.0 / done for done in range(1, kept[-1] + 1)] and again.best == kept[-1]
