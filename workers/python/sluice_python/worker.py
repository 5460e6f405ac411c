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
import signal
import threading
from datetime import timedelta
from types import ModuleType
from typing import Any, Callable

from temporalio import activity
from temporalio.client import Client
from temporalio.exceptions import ApplicationError, CancelledError
from temporalio.worker import Worker

from .artifacts import open_store
from .trainers import trainer_of
from .training import Cancelled, Hooks, TrainingError, train
from .tuning import suggest, trial

TASK_QUEUE = os.environ.get("SLUICE_PYTHON_TASK_QUEUE", "sluice-python")
#: The search sampler's queue is the trainer queue's name with this suffix (`sluice-python-sampler`).
SAMPLER_QUEUE_SUFFIX = "-sampler"
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


async def main() -> None:
    client = await Client.connect(os.environ.get("TEMPORAL_ADDRESS", "localhost:7233"), namespace=os.environ.get("TEMPORAL_NAMESPACE", "default"))
    # Training runs in threads so the worker keeps polling and heartbeating meanwhile; SLUICE_PYTHON_SLOTS at a
    # time per process (1 by default, since the libraries use every core they are given).
    slots = int(os.environ.get("SLUICE_PYTHON_SLOTS", "1"))
    with concurrent.futures.ThreadPoolExecutor(max_workers=slots + 1) as executor, concurrent.futures.ThreadPoolExecutor(max_workers=2) as sampling:
        trainer = Worker(client, task_queue=TASK_QUEUE, activities=[train_python_activity, train_lightgbm_activity, tune_trial_activity], activity_executor=executor, max_concurrent_activities=slots)
        # The search's sampler answers in milliseconds on a queue of its own, never behind a trial that trains for minutes.
        sampler = Worker(client, task_queue=f"{TASK_QUEUE}{SAMPLER_QUEUE_SUFFIX}", activities=[suggest_trial_activity], activity_executor=sampling, max_concurrent_activities=2)
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            asyncio.get_running_loop().add_signal_handler(sig, stop.set)
        print(f'sluice python worker polling task queues "{TASK_QUEUE}" and "{TASK_QUEUE}{SAMPLER_QUEUE_SUFFIX}" on {client.service_client.config.target_host}; artifacts in {STORE.location}', flush=True)
        async with trainer, sampler:
            await stop.wait()


if __name__ == "__main__":
    asyncio.run(main())
