"""The Python activity worker: polls its own task queue (SLUICE_PYTHON_TASK_QUEUE, default `sluice-python`)
on the Temporal cluster at TEMPORAL_ADDRESS and trains the models of the Python trainer plug-ins (LightGBM,
XGBoost, …: sluice_python.trainers) into the shared artifact store (SLUICE_ARTIFACTS). Workflows stay in
TypeScript and route the train step here when the spec's trainer runs in Python.

    python -m sluice_python.worker
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import os
import resource
import signal
import threading
import time
from datetime import timedelta
from types import ModuleType
from typing import Any, Callable

from temporalio import activity
from temporalio.client import Client
from temporalio.exceptions import ApplicationError, CancelledError
from temporalio.worker import Worker

from .artifacts import open_store
from .codec import CodecKeyError, codec_keys_from, data_converter
from .status_report import RunningActivities, report_status
from .trainers import sink_of, trainer_of
from .training import WORKER_IDENTITY, Cancelled, Hooks, TrainingError, train
from .tuning import suggest, trial

TASK_QUEUE = os.environ.get("SLUICE_PYTHON_TASK_QUEUE", "sluice-python")
#: The search sampler's queue is the trainer queue's name with this suffix (`sluice-python-sampler`).
SAMPLER_QUEUE_SUFFIX = "-sampler"
#: The Python sinks' queue (`sluice-python-sinks`): a publish never waits behind a training.
SINKS_QUEUE_SUFFIX = "-sinks"
STORE = open_store()


class KeepAlive:
    """Heartbeats from a thread of its own while training runs, repeating the newest progress: reading the
    feature set and binning it can outlast a short heartbeat timeout before the first round reports."""

    def __init__(self, timeout: timedelta | None) -> None:
        self.every = max(0.5, (timeout or timedelta(seconds=30)).total_seconds() / 3)
        self.details: dict[str, Any] | None = None
        self.done = threading.Event()
        # The activity's context (heartbeat, cancellation) in the keep-alive thread too.
        self.thread = threading.Thread(target=contextvars.copy_context().run, args=(self.run,), daemon=True)

    def beat(self, details: dict[str, Any]) -> None:
        self.details = details
        activity.heartbeat(details)

    def run(self) -> None:
        while not self.done.wait(self.every):
            activity.heartbeat(*([self.details] if self.details else []))

    def __enter__(self) -> "KeepAlive":
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.done.set()
        self.thread.join()


def with_trainer(request: dict[str, Any], what: str, run: Callable[[ModuleType, Hooks], dict[str, Any]]) -> dict[str, Any]:
    """Runs `run` with the spec's trainer module and hooks that heartbeat from a thread of their own, mapping
    Sluice's errors to non-retryable failures and a cancellation to Temporal's."""
    info = activity.info()
    name = request["loaded"]["spec"]["trainer"]["type"]
    try:
        plugin = trainer_of(name)
    except LookupError as err:
        raise ApplicationError(str(err), type="SluiceSpecError", non_retryable=True) from err
    beats = KeepAlive(info.heartbeat_timeout)
    hooks = Hooks(heartbeat=beats.beat, cancelled=activity.is_cancelled, log=activity.logger.info, saved=STORE.save)
    if info.attempt > 1:
        activity.logger.info(f"retrying {name} {what}; it continues from its newest checkpoint")
    try:
        with beats:
            return run(plugin, hooks)
    except TrainingError as err:
        raise ApplicationError(str(err), type="SluiceDataError", non_retryable=True) from err
    except Cancelled as err:
        # Temporal's own CancelledError, so the attempt completes as cancelled (not as a failure to retry).
        raise CancelledError(str(err)) from err


def train_step(request: dict[str, Any]) -> dict[str, Any]:
    """The train step of the spec's Python trainer: same input and output as the TypeScript `train`."""
    return with_trainer(request, "training", lambda plugin, hooks: train(STORE, request, plugin, hooks))


@activity.defn(name="trainPython")
def train_python_activity(request: dict[str, Any]) -> dict[str, Any]:
    """The train step of every Python trainer plug-in."""
    return train_step(request)


@activity.defn(name="trainLightgbm")
def train_lightgbm_activity(request: dict[str, Any]) -> dict[str, Any]:
    """The same, under the name runs recorded before trainer plug-ins schedule LightGBM training by."""
    return train_step(request)


@activity.defn(name="suggestTrial")
def suggest_trial_activity(request: dict[str, Any]) -> dict[str, Any]:
    """The next configuration of a `tune:` search, from the trials so far (the workflow owns the study)."""
    try:
        return suggest(STORE, request)
    except ValueError as err:
        raise ApplicationError(f"tune.space: {err}", type="SluiceSpecError", non_retryable=True) from err


@activity.defn(name="tuneTrial")
def tune_trial_activity(request: dict[str, Any]) -> dict[str, Any]:
    """One trial of a `tune:` search: a fit on the training window's fit rows, scored on its holdout days."""
    return with_trainer(request, "trial", lambda plugin, hooks: trial(STORE, request, plugin, hooks))


def with_sink(request: dict[str, Any], run: Callable[[ModuleType], Any]) -> Any:
    """Runs `run` with the spec's Python sink module; a publish that cannot succeed as asked fails non-retryably."""
    name = request["loaded"]["spec"]["inference"]["sink"]["type"]
    try:
        plugin = sink_of(name)
    except LookupError as err:
        raise ApplicationError(str(err), type="SluiceSpecError", non_retryable=True) from err
    try:
        return run(plugin)
    except plugin.PublishError as err:
        raise ApplicationError(str(err), type="SluiceDataError", non_retryable=True) from err


@activity.defn(name="publishScoresPython")
def publish_scores_activity(request: dict[str, Any]) -> dict[str, Any]:
    """The publish step of a sink that runs here: the run's staged scores, published atomically."""
    started, cpu_started = time.perf_counter(), time.process_time()
    result = with_sink(request, lambda sink: sink.publish(STORE, request))
    cost = {"wallSeconds": time.perf_counter() - started, "cpuSeconds": time.process_time() - cpu_started, "peakRssBytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, "rowsIn": result["rows"], "rowsOut": result["rows"], "bytesIn": 0, "bytesOut": 0, "worker": WORKER_IDENTITY}
    return {**result, "cost": cost}


@activity.defn(name="publishedDaysPython")
def published_days_activity(request: dict[str, Any]) -> list[str]:
    """The days such a sink holds (for backfill)."""
    return with_sink(request, lambda sink: sink.published_days(STORE, request))


@activity.defn(name="sinkHistoryPython")
def sink_history_activity(request: dict[str, Any]) -> dict[str, Any]:
    """Every snapshot of such a sink's table, and the files none references (`sluice sink history`)."""
    return with_sink(request, lambda sink: sink.history(STORE, request))


async def main() -> None:
    try:
        # Payloads encrypted as the TypeScript workers encrypt them, when codec keys are configured.
        converter = data_converter(codec_keys_from())
    except CodecKeyError as err:
        raise SystemExit(f"sluice python worker: {err}") from None
    client = await Client.connect(os.environ.get("TEMPORAL_ADDRESS", "localhost:7233"), namespace=os.environ.get("TEMPORAL_NAMESPACE", "default"), data_converter=converter)
    # Training runs in threads so the worker keeps polling and heartbeating meanwhile; SLUICE_PYTHON_SLOTS at a
    # time per process (1 by default, since the libraries use every core they are given).
    slots = int(os.environ.get("SLUICE_PYTHON_SLOTS", "1"))
    with concurrent.futures.ThreadPoolExecutor(max_workers=slots + 1) as executor, concurrent.futures.ThreadPoolExecutor(max_workers=4) as sampling:
        # Started by `sluice workers`: report what runs, so the provisioner stops only idle workers.
        status_file = os.environ.get("SLUICE_WORKER_STATUS_FILE")
        running = RunningActivities()
        interceptors = [running] if status_file else []
        # A stopping worker lets its activities finish for this long, then cancels them (they end with their checkpoint).
        drain = timedelta(seconds=int(os.environ.get("SLUICE_WORKER_DRAIN_SECONDS") or 0))
        trainer = Worker(client, task_queue=TASK_QUEUE, activities=[train_python_activity, train_lightgbm_activity, tune_trial_activity], activity_executor=executor, max_concurrent_activities=slots, interceptors=interceptors, graceful_shutdown_timeout=drain)
        # The search's sampler answers in milliseconds on a queue of its own, never behind a trial that trains for minutes.
        sampler = Worker(client, task_queue=f"{TASK_QUEUE}{SAMPLER_QUEUE_SUFFIX}", activities=[suggest_trial_activity], activity_executor=sampling, max_concurrent_activities=2, interceptors=interceptors, graceful_shutdown_timeout=drain)
        sinks = Worker(client, task_queue=f"{TASK_QUEUE}{SINKS_QUEUE_SUFFIX}", activities=[publish_scores_activity, published_days_activity, sink_history_activity], activity_executor=sampling, max_concurrent_activities=2, interceptors=interceptors, graceful_shutdown_timeout=drain)
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            asyncio.get_running_loop().add_signal_handler(sig, stop.set)
        print(f'sluice python worker polling task queues "{TASK_QUEUE}", "{TASK_QUEUE}{SAMPLER_QUEUE_SUFFIX}" and "{TASK_QUEUE}{SINKS_QUEUE_SUFFIX}" on {client.service_client.config.target_host}; artifacts in {STORE.location}', flush=True)
        reports = asyncio.create_task(report_status(running, status_file)) if status_file else None
        async with trainer, sampler, sinks:
            await stop.wait()
        if reports:
            reports.cancel()


if __name__ == "__main__":
    asyncio.run(main())
