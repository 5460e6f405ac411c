"""The Apache Iceberg sink (its descriptor is iceberg-sink.ts beside this file), on the Python worker: pyiceberg
through a SQL catalog (SQLite in the artifact root unless the spec or SLUICE_ICEBERG_CATALOG names another, such as
the compose PostgreSQL).

A publish is one commit, one OVERWRITE snapshot, that deletes the data files of exactly the run's days and adds the
run's: a reader sees the table before the commit or after it, never a mix. The table is partitioned by `day` (an
identity partition), so a day's rows are whole files of its own and a replaced day leaves nothing behind. The
snapshot's summary carries the run, the model version and the model. A commit that loses a race with another
writer's (pyiceberg's optimistic concurrency) is retried on the table as it now is, a bounded number of times: two
publishes of different days both land; two of the same day leave exactly one of them."""

from __future__ import annotations

import datetime
import os
import random
import time
import uuid
from pathlib import Path
from typing import Any, Callable
from urllib.parse import unquote

import pyarrow as pa
import pyarrow.parquet as pq

SINK = "iceberg"
#: Commits tried before a publish gives up (each after the table's newest state is read again).
MAX_COMMIT_ATTEMPTS = 8
#: The largest wait, in seconds, between two commit attempts (random below it, doubling from 50 ms).
MAX_COMMIT_WAIT = 2.0
#: Called with the attempt number just before each commit (tests make another writer commit there, or the worker die).
before_commit: Callable[[int], None] = lambda attempt: None


class PublishError(Exception):
    """A publish that cannot succeed as asked (no staged rows, a count that does not add up, a table elsewhere)."""


def catalog(store: Any, params: dict[str, Any]) -> Any:
    """The SQL catalog: the spec's `catalog`, else SLUICE_ICEBERG_CATALOG, else SQLite in the artifact root."""
    from pyiceberg.catalog.sql import SqlCatalog

    url = params.get("catalog") or os.environ.get("SLUICE_ICEBERG_CATALOG")
    if not url:
        folder = Path(store.root) / "iceberg"
        folder.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{folder / 'catalog.db'}"
    return SqlCatalog("sluice", uri=url)


def identifier(params: dict[str, Any]) -> str:
    return f"{params.get('namespace') or 'sluice'}.{params['table']}"


def open_table(store: Any, request: dict[str, Any], schema: pa.Schema | None) -> Any:
    """The spec's table, created (partitioned by day, at the spec's folder) when it does not exist and `schema` is given;
    None when it does not exist and no schema is. A table the catalog keeps at another folder is refused."""
    from pyiceberg.exceptions import NoSuchTableError, TableAlreadyExistsError

    loaded = request["loaded"]
    params = loaded["spec"]["inference"]["sink"]
    location = Path(loaded["sink"]["local"]).as_uri()
    found = catalog(store, params)
    name = identifier(params)
    try:
        table = found.load_table(name)
    except NoSuchTableError:
        if schema is None:
            return None
        found.create_namespace_if_not_exists(params.get("namespace") or "sluice")
        try:
            created = found.create_table(name, schema=schema, location=location)
            with created.update_spec() as spec:
                spec.add_identity("day")
            return found.load_table(name)
        except TableAlreadyExistsError:  # another publish created it first
            table = found.load_table(name)
    if table.location().rstrip("/") != location.rstrip("/"):
        raise PublishError(f"inference.sink: the catalog's table {name} is at {table.location()}, not at the spec's path ({location}); name another table, or point path at it")
    return table


def staged_rows(store: Any, request: dict[str, Any]) -> tuple[pa.Table, list[str]]:
    """The run's staged scores (`shard-*/slice-*/day=…/*.parquet`, never a slice still being written) as one table
    with `day` (a date) first, and the days to publish: those of the completed shards, or every staged one."""
    folder = store.fetch_folder(request["staging"])
    by_day: dict[str, list[Path]] = {}
    for file in sorted(folder.glob("shard-*/slice-*/day=*/*.parquet")):
        if file.parent.parent.name.endswith(".partial"):
            continue
        by_day.setdefault(file.parent.name[len("day="):], []).append(file)
    wanted = request.get("days")
    hashed = "hash" in request["loaded"]["spec"]["split"]  # a hash split's shards all stage its one snapshot partition
    days = sorted(d for d in by_day if hashed or not wanted or d in wanted)
    if not days:
        raise PublishError(f"nothing staged under {request['staging']}{f' for {len(wanted)} days' if wanted else ''}")
    parts = []
    for day in days:
        for file in by_day[day]:
            rows = pq.read_table(file)
            parts.append(rows.add_column(0, "day", pa.array([datetime.date.fromisoformat(day)] * rows.num_rows, pa.date32())))
    table = pa.concat_tables(parts, promote_options="default")
    if table.num_rows != request["expectedRows"]:
        raise PublishError(f"staged {table.num_rows} rows but the shards scored {request['expectedRows']}; not publishing")
    return table, days


def publish(store: Any, request: dict[str, Any]) -> dict[str, Any]:
    """Publishes the run's staged scores as one snapshot that replaces their days; a retried attempt of a run whose
    snapshot is already committed publishes nothing again."""
    from pyiceberg.exceptions import CommitFailedException, ValidationException
    from pyiceberg.expressions import In
    from pyiceberg.io.pyarrow import _dataframe_to_data_files

    rows, days = staged_rows(store, request)
    table = open_table(store, request, rows.schema)
    result = {"sink": SINK, "location": f"{identifier(request['loaded']['spec']['inference']['sink'])} at {table.location()}", "days": len(days), "rows": rows.num_rows}
    if any(s.summary.get("sluice.run_id") == request["runId"] for s in table.snapshots()):
        return result  # this run's commit landed before its attempt was lost
    properties = {
        "sluice.run_id": request["runId"],
        "sluice.model_version": str(request["modelVersion"]),
        **({"sluice.model": request["modelUri"]} if request.get("modelUri") else {}),
        "sluice.days": ",".join(days),
    }
    # The run's data files are written once; each commit attempt states them against the table as it then is.
    # (pyiceberg's own append writes them the same way: `_dataframe_to_data_files`.)
    files = list(_dataframe_to_data_files(table_metadata=table.metadata, write_uuid=uuid.uuid4(), df=rows, io=table.io))
    wait = 0.05
    for attempt in range(1, MAX_COMMIT_ATTEMPTS + 1):
        before_commit(attempt)
        try:
            with table.transaction() as transaction:
                replaced = [task.file for task in table.scan(row_filter=In("day", days)).plan_files()]
                with transaction.update_snapshot(snapshot_properties=properties).overwrite() as overwrite:
                    for file in replaced:
                        overwrite.delete_data_file(file)
                    for file in files:
                        overwrite.append_data_file(file)
            return {**result, "commitAttempts": attempt}
        except (CommitFailedException, ValidationException):
            # Another writer committed first (pyiceberg's own retry found its files in the way): state the run's files again against the table as it now is.
            if attempt == MAX_COMMIT_ATTEMPTS:
                raise
            time.sleep(random.uniform(0, wait))
            wait = min(MAX_COMMIT_WAIT, wait * 2)
            table = open_table(store, request, rows.schema)
    raise AssertionError("unreachable")


def published_days(store: Any, request: dict[str, Any]) -> list[str]:
    """The days the table holds (`YYYY-MM-DD`, sorted), only those a model version scored when the filter names one."""
    table = open_table(store, request, None)
    if table is None or table.current_snapshot() is None:
        return []
    found = table.scan(selected_fields=("day", "model_version")).to_arrow()
    flt = request.get("filter") or {}
    days = {str(d) for d, v in zip(found.column("day").to_pylist(), found.column("model_version").to_pylist()) if flt.get("modelVersion") is None or v == flt["modelVersion"]}
    return sorted(d for d in days if (not flt.get("from") or d >= flt["from"]) and (not flt.get("to") or d <= flt["to"]))


def history(store: Any, request: dict[str, Any]) -> dict[str, Any]:
    """Every snapshot of the table, oldest first, with the run and model that wrote it; and the data files under the
    table's folder that no snapshot references (a publish killed before its commit leaves them; safe to delete)."""
    table = open_table(store, request, None)
    if table is None:
        return {"location": identifier(request["loaded"]["spec"]["inference"]["sink"]), "snapshots": [], "orphans": []}
    current = table.current_snapshot()
    snapshots = []
    referenced: set[str] = set()
    for snapshot in table.snapshots():
        summary = snapshot.summary
        snapshots.append(
            {
                "snapshotId": str(snapshot.snapshot_id),
                "committedAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(snapshot.timestamp_ms / 1000)),
                "operation": str(summary.operation.value),
                **({"runId": summary.get("sluice.run_id")} if summary.get("sluice.run_id") else {}),
                **({"modelVersion": int(summary.get("sluice.model_version"))} if summary.get("sluice.model_version") else {}),
                **({"modelUri": summary.get("sluice.model")} if summary.get("sluice.model") else {}),
                "rows": int(summary.get("added-records") or 0),
                "days": int(summary.get("changed-partition-count") or 0),
                "current": current is not None and snapshot.snapshot_id == current.snapshot_id,
            }
        )
        for manifest in snapshot.manifests(table.io):
            for entry in manifest.fetch_manifest_entry(table.io, discard_deleted=False):
                referenced.add(entry.data_file.file_path)
    data = Path(local_path(table.location())) / "data"
    on_disk = {str(f) for f in data.rglob("*.parquet")} if data.exists() else set()
    orphans = sorted(on_disk - {local_path(p) for p in referenced})
    return {"location": f"{identifier(request['loaded']['spec']['inference']['sink'])} at {table.location()}", "snapshots": snapshots, "orphans": orphans}


def local_path(uri: str) -> str:
    """The file path of a `file:` URI (percent-escapes decoded: pyiceberg writes `day=…` folders as `day%3D…`)."""
    return unquote(uri.removeprefix("file://"))
