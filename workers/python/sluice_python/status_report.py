"""What this worker reports to the provisioner that started it (`sluice workers`), in the file
SLUICE_WORKER_STATUS_FILE names: the activities in flight and since when none has been, as the TypeScript
worker's workers/status-file.ts writes it."""

from __future__ import annotations

import asyncio
import json
import os
import time
from typing import Any

from temporalio.worker import ActivityInboundInterceptor, ExecuteActivityInput, Interceptor


class RunningActivities(Interceptor):
    """Counts the activities in flight on every worker it is given to."""

    def __init__(self) -> None:
        self.running = 0
        self.idle_since: float | None = time.time()

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _Counting(next, self)


class _Counting(ActivityInboundInterceptor):
    def __init__(self, next: ActivityInboundInterceptor, counter: RunningActivities) -> None:
        super().__init__(next)
        self.counter = counter

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        self.counter.running += 1
        self.counter.idle_since = None
        try:
            return await super().execute_activity(input)
        finally:
            self.counter.running -= 1
            if self.counter.running == 0:
                self.counter.idle_since = time.time()


async def report_status(counter: RunningActivities, file: str, every: float = 1.0) -> None:
    """Replaces `file` with the counter's report every `every` seconds (written aside, then renamed)."""
    while True:
        report = {"pid": os.getpid(), "running": counter.running, "at": int(time.time() * 1000)}
        if counter.idle_since is not None:
            report["idleSince"] = int(counter.idle_since * 1000)
        try:
            with open(f"{file}.tmp", "w") as out:
                json.dump(report, out)
            os.replace(f"{file}.tmp", file)
        except OSError:
            pass  # the provisioner's folder is gone; the worker works on
        await asyncio.sleep(every)
