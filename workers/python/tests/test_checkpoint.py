"""A boosting fit's checkpoint: written every few rounds while it is cheap, never more than its share of the fit,
and read back with the early stopping's losses."""

from __future__ import annotations

import json
import numpy as np

from sluice_python.artifacts import ArtifactStore
from sluice_python.training import CHECKPOINT_ROUNDS, CHECKPOINT_SHARE, Checkpoint, EarlyStopping, Hooks, Job


def job_with(store: ArtifactStore, beats: list[dict]) -> Job:
    rows = np.zeros((4, 1), dtype=np.float32)
    return Job(rows, rows[:, 0], ["a"], np.arange(3), np.arange(3, 4), {}, "f", [], Hooks(heartbeat=beats.append), store)


class Clock:
    """The checkpoint's clock, advanced by the test: wall time under a loaded machine would make it a timing test."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_costly_checkpoint_is_written_less_often_and_the_heartbeats_say_which_round_it_kept(tmp_path):
    beats: list[dict] = []
    clock = Clock()
    stopping = EarlyStopping(None)
    checkpoint = Checkpoint(tmp_path / "model.checkpoint.json", job_with(ArtifactStore(str(tmp_path)), beats), stopping, 800, clock)
    written: list[int] = []

    def model() -> str:  # a model whose text takes as long to write as 10 rounds take to train
        clock.now += 10  # whole time units, so the sums are exact
        written.append(len(beats) + 1)
        return "the model"

    for done in range(1, 801):
        clock.now += 1
        assert checkpoint.reached(done, model, 1.0 / done) is False  # no patience: never stops

    assert len(beats) == 800 // CHECKPOINT_ROUNDS  # a heartbeat every 10 rounds, written or not
    # Written at the first heartbeat; each next one once the fit has run 20 times the last write's cost (10 / 5 %):
    # 200 units, i.e. 20 heartbeats, the writes' own time counting as the fit's.
    assert CHECKPOINT_SHARE == 0.05 and written == [1, 21, 41, 61]
    assert 10 * (len(written) - 1) <= CHECKPOINT_SHARE * clock.now
    kept = [beat["checkpoint"] for beat in beats]
    assert kept[-1] == 610 and kept[0] == CHECKPOINT_ROUNDS and kept == sorted(kept) and all(k % CHECKPOINT_ROUNDS == 0 for k in kept)
    saved = json.loads((tmp_path / "model.checkpoint.json").read_text())
    assert saved["rounds"] == kept[-1] and saved["model"] == "the model"
    assert len(saved["holdoutLosses"]) == kept[-1]

    # The next attempt reads the model back, and the losses of its rounds into its early stopping.
    again = EarlyStopping(5)
    resumed = Checkpoint(tmp_path / "model.checkpoint.json", job_with(ArtifactStore(str(tmp_path)), []), again, 800)
    assert resumed.load() == "the model" and resumed.rounds == kept[-1]
    assert again.losses == [1.0 / done for done in range(1, kept[-1] + 1)] and again.best == kept[-1]
