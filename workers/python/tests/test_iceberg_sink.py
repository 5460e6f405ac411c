"""The iceberg sink on a real pyiceberg SQL catalog (SQLite) and table: one snapshot per publish that replaces
exactly its days, a reprocessed day replaced, a retried run published once, conflicting commits retried (two
publishes of different days both land; of the same day, exactly one), and a publish killed before its commit."""

from __future__ import annotations

import datetime
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyiceberg.catalog.sql import SqlCatalog

from sluice_python.artifacts import ArtifactStore
from sluice_python.object_store import S3Objects
from sluice_python.trainers import sink_of

iceberg = sink_of("iceberg")


@pytest.fixture
def store(tmp_path: Path) -> ArtifactStore:
    return ArtifactStore(str(tmp_path / "artifacts"))


def stage(store: ArtifactStore, run: str, rows: dict[str, list[tuple[str, float]]]) -> str:
    """Staged scores of a run in the layout scoring shards write: `shard-0/slice-k/day=D/data_0.parquet`."""
    for k, (day, scored) in enumerate(sorted(rows.items())):
        folder = store.path_of(f"artifact:inference/{run}/shard-0/slice-{k}/day={day}")
        folder.mkdir(parents=True)
        table = pa.table({"flight": [f for f, _ in scored], "score": pa.array([s for _, s in scored], pa.float32()), "model_version": pa.array([int(run[-1])] * len(scored), pa.int32()), "run_id": [run] * len(scored)})
        pq.write_table(table, folder / "data_0.parquet")
    return f"artifact:inference/{run}"


def request(tmp_path: Path, run: str, staging: str, rows: int, days: list[str] | None = None) -> dict:
    sink = {"type": "iceberg", "path": "scores", "namespace": "sluice", "table": "flight_scores"}
    spec = {"name": "flights", "split": {"train": {"from": "2001-01-01", "to": "2001-01-10"}, "validate": {"from": "2001-01-11", "to": "2001-01-12"}}, "inference": {"sink": sink}}
    loaded = {"file": "spec.yaml", "baseDir": ".", "hash": "h", "spec": spec, "sink": {"type": "iceberg", "runtime": "python", "local": str(tmp_path / "sinks" / "scores")}}
    return {"loaded": loaded, "staging": staging, "runId": run, "modelVersion": int(run[-1]), "expectedRows": rows, **({"days": days} if days else {}), "modelUri": f"artifact:models/m{run[-1]}/model.onnx"}


def table(store: ArtifactStore):
    return SqlCatalog("sluice", uri=f"sqlite:///{Path(store.root) / 'iceberg' / 'catalog.db'}").load_table("sluice.flight_scores")


def contents(store: ArtifactStore) -> list[tuple[str, str, str]]:
    rows = table(store).scan().to_arrow().to_pylist()
    return sorted((str(r["day"]), r["flight"], r["run_id"]) for r in rows)


def test_publishes_one_snapshot_per_run_replacing_exactly_its_days(store, tmp_path):
    first = request(tmp_path, "run1", stage(store, "run1", {"2001-01-01": [("a", 0.1), ("b", 0.2)], "2001-01-02": [("c", 0.3)]}), 3)
    assert iceberg.publish(store, first) == {"sink": "iceberg", "location": f"sluice.flight_scores at {(tmp_path / 'sinks' / 'scores').as_uri()}", "days": 2, "rows": 3, "commitAttempts": 1}
    assert contents(store) == [("2001-01-01", "a", "run1"), ("2001-01-01", "b", "run1"), ("2001-01-02", "c", "run1")]
    assert [f.name for f in table(store).spec().fields] == ["day"]
    # A reprocessed day: run 2 replaces 2001-01-02 and adds 2001-01-03; 2001-01-01 keeps run 1's rows.
    second = request(tmp_path, "run2", stage(store, "run2", {"2001-01-02": [("d", 0.4)], "2001-01-03": [("e", 0.5)]}), 2)
    iceberg.publish(store, second)
    assert contents(store) == [("2001-01-01", "a", "run1"), ("2001-01-01", "b", "run1"), ("2001-01-02", "d", "run2"), ("2001-01-03", "e", "run2")]
    # A retried attempt of run 2 (its commit had landed) publishes nothing again.
    iceberg.publish(store, second)
    history = iceberg.history(store, second)
    assert [(s["operation"], s["runId"], s["modelVersion"], s["rows"], s["days"]) for s in history["snapshots"]] == [("append", "run1", 1, 3, 2), ("overwrite", "run2", 2, 2, 2)]
    assert history["snapshots"][-1]["current"] and history["snapshots"][-1]["modelUri"] == "artifact:models/m2/model.onnx"
    assert history["orphans"] == []
    assert iceberg.published_days(store, {**second, "filter": {}}) == ["2001-01-01", "2001-01-02", "2001-01-03"]
    assert iceberg.published_days(store, {**second, "filter": {"modelVersion": 1}}) == ["2001-01-01"]
    # Time travel: the table as run 1 left it.
    before = table(store).scan(snapshot_id=int(history["snapshots"][0]["snapshotId"])).to_arrow().to_pylist()
    assert sorted(r["flight"] for r in before) == ["a", "b", "c"]


def test_two_publishes_of_different_days_at_once_both_land_after_a_retried_commit(store, tmp_path, monkeypatch):
    mine = request(tmp_path, "run1", stage(store, "run1", {"2001-01-01": [("a", 0.1)]}), 1)
    theirs = request(tmp_path, "run2", stage(store, "run2", {"2001-01-02": [("b", 0.2)]}), 1)
    iceberg.publish(store, request(tmp_path, "run0", stage(store, "run0", {"2001-01-05": [("z", 0.9)]}), 1))  # the table exists
    # The other backfill commits while this one is between reading the table and committing.
    monkeypatch.setattr(iceberg, "before_commit", lambda attempt: (monkeypatch.setattr(iceberg, "before_commit", lambda _: None), iceberg.publish(store, theirs)) if attempt == 1 else None)
    assert iceberg.publish(store, mine)["commitAttempts"] == 2
    assert contents(store) == [("2001-01-01", "a", "run1"), ("2001-01-02", "b", "run2"), ("2001-01-05", "z", "run0")]


def test_two_publishes_of_the_same_day_leave_exactly_one_of_them(store, tmp_path, monkeypatch):
    mine = request(tmp_path, "run1", stage(store, "run1", {"2001-01-01": [("a", 0.1), ("b", 0.2)]}), 2)
    theirs = request(tmp_path, "run2", stage(store, "run2", {"2001-01-01": [("c", 0.3)]}), 1)
    iceberg.publish(store, request(tmp_path, "run0", stage(store, "run0", {"2001-01-01": [("z", 0.9)]}), 1))
    monkeypatch.setattr(iceberg, "before_commit", lambda attempt: (monkeypatch.setattr(iceberg, "before_commit", lambda _: None), iceberg.publish(store, theirs)) if attempt == 1 else None)
    assert iceberg.publish(store, mine)["commitAttempts"] == 2
    assert contents(store) == [("2001-01-01", "a", "run1"), ("2001-01-01", "b", "run1")]


def test_a_publish_killed_before_its_commit_changes_nothing_and_its_files_are_listed_as_orphans(store, tmp_path, monkeypatch):
    iceberg.publish(store, request(tmp_path, "run1", stage(store, "run1", {"2001-01-01": [("a", 0.1)]}), 1))
    killed = request(tmp_path, "run2", stage(store, "run2", {"2001-01-01": [("b", 0.2)], "2001-01-02": [("c", 0.3)]}), 2)

    def die(attempt: int) -> None:
        raise SystemExit("worker killed before its commit")

    monkeypatch.setattr(iceberg, "before_commit", die)
    with pytest.raises(SystemExit):
        iceberg.publish(store, killed)
    assert contents(store) == [("2001-01-01", "a", "run1")]
    history = iceberg.history(store, killed)
    assert len(history["snapshots"]) == 1
    assert len(history["orphans"]) == 2 and all("/sinks/scores/data/day=2001-01-0" in f for f in history["orphans"])
    # The retried attempt publishes (new files; the orphans stay listed for cleanup).
    monkeypatch.setattr(iceberg, "before_commit", lambda attempt: None)
    iceberg.publish(store, killed)
    assert contents(store) == [("2001-01-01", "b", "run2"), ("2001-01-02", "c", "run2")]


def test_refuses_staged_rows_that_do_not_add_up_and_a_table_kept_elsewhere(store, tmp_path):
    staged = stage(store, "run1", {"2001-01-01": [("a", 0.1)]})
    with pytest.raises(iceberg.PublishError, match=r"^staged 1 rows but the shards scored 2; not publishing$"):
        iceberg.publish(store, request(tmp_path, "run1", staged, 2))
    iceberg.publish(store, request(tmp_path, "run1", staged, 1))
    moved = request(tmp_path, "run3", stage(store, "run3", {"2001-01-01": [("a", 0.1)]}), 1)
    moved["loaded"]["sink"]["local"] = str(tmp_path / "elsewhere")
    with pytest.raises(iceberg.PublishError, match=r"^inference\.sink: the catalog's table sluice\.flight_scores is at .*/sinks/scores, not at the spec's path \(.*/elsewhere\); name another table, or point path at it$"):
        iceberg.publish(store, moved)
    assert datetime.date(2001, 1, 1)  # the day column is a date
    assert str(table(store).schema().find_field("day").field_type) == "date"


@pytest.mark.skipif(not os.environ.get("SLUICE_TEST_S3_BUCKET"), reason="needs the S3 server `npm test` starts (workers/python/pytest.test.ts runs this file there)")
def test_publishes_scores_staged_in_s3_by_workers_that_share_no_disk_with_it(tmp_path):
    remote = S3Objects(f"s3://{os.environ['SLUICE_TEST_S3_BUCKET']}/pytest-iceberg-{os.getpid()}")
    # The scoring workers staged their slices in S3 (their local copies are theirs); this worker has none.
    scorer = ArtifactStore(str(tmp_path / "scorer"), remote)
    staged = stage(scorer, "run1", {"2001-01-01": [("a", 0.1)], "2001-01-02": [("b", 0.2), ("c", 0.3)]})
    for file in sorted(scorer.path_of(staged).rglob("*.parquet")):
        remote.upload(file, scorer.relative(file))
    publisher = ArtifactStore(str(tmp_path / "publisher"), remote)
    assert iceberg.publish(publisher, request(tmp_path, "run1", staged, 3))["rows"] == 3
    assert contents(publisher) == [("2001-01-01", "a", "run1"), ("2001-01-02", "b", "run1"), ("2001-01-02", "c", "run1")]
