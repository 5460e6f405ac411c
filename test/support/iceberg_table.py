"""Reads a Sluice Iceberg sink back with pyiceberg, as any reader of the table would.

    python iceberg_table.py <artifact root> <namespace.table>

Prints JSON: the current rows per day (and the model versions and runs in them), the table's partition fields, and
its snapshots oldest first (operation, the run and model version in their summary, rows added)."""

import json
import sys
from collections import Counter
from pathlib import Path

from pyiceberg.catalog.sql import SqlCatalog

root, name = sys.argv[1], sys.argv[2]
table = SqlCatalog("sluice", uri=f"sqlite:///{Path(root) / 'iceberg' / 'catalog.db'}").load_table(name)
rows = table.scan(selected_fields=("day", "model_version", "run_id")).to_arrow().to_pylist()
print(
    json.dumps(
        {
            "rowsByDay": dict(sorted(Counter(str(r["day"]) for r in rows).items())),
            "runsByDay": {day: sorted({r["run_id"] for r in rows if str(r["day"]) == day}) for day in sorted({str(r["day"]) for r in rows})},
            "partitionFields": [f.name for f in table.spec().fields],
            "snapshots": [{"operation": s.summary.operation.value, "runId": s.summary.get("sluice.run_id"), "modelVersion": s.summary.get("sluice.model_version"), "added": int(s.summary.get("added-records") or 0)} for s in table.snapshots()],
        }
    )
)
