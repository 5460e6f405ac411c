"""The Python activity worker: polls its own task queue (SLUICE_PYTHON_TASK_QUEUE, default `sluice-python`)
on the Temporal cluster at TEMPORAL_ADDRESS and trains LightGBM models into the shared artifact store
(SLUICE_ARTIFACTS). Workflows stay in TypeScript and route the train step here by trainer type.

    python -m sluice_python.worker
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import signal
from typing import Any

from temporalio import activity
from temporalio.client import Client
from temporalio.exceptions import ApplicationError
from temporalio.worker import Worker

from .artifacts import ArtifactStore
from .lightgbm_trainer import Cancelled, Hooks, TrainingError, train_lightgbm

TASK_QUEUE = os.environ.get("SLUICE_PYTHON_TASK_QUEUE", "sluice-python")
STORE = ArtifactStore(os.environ.get("SLUICE_ARTIFACTS", ".sluice/artifacts"))


@activity.defn(name="trainLightgbm")
def train_lightgbm_activity(request: dict[str, Any]) -> dict[str, Any]:
    """The train step for `trainer: {type: lightgbm}`: same input and output as the TypeScript `train`."""
    info = activity.info()
    hooks = Hooks(heartbeat=lambda details: activity.heartbeat(details), cancelled=activity.is_cancelled, log=activity.logger.info)
    if info.attempt > 1:
        activity.logger.info("retrying LightGBM training; it continues from its newest checkpoint")
    try:
        return train_lightgbm(STORE, request, hooks)
    except TrainingError as err:
        raise ApplicationError(str(err), type="SluiceDataError", non_retryable=True) from err
    except Cancelled:
        raise


async def main() -> None:
    client = await Client.connect(os.environ.get("TEMPORAL_ADDRESS", "localhost:7233"), namespace=os.environ.get("TEMPORAL_NAMESPACE", "default"))
    # Training runs in threads so the worker keeps polling and heartbeating meanwhile; one at a time per
    # process, since LightGBM uses every core it is given.
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as executor:
        worker = Worker(client, task_queue=TASK_QUEUE, activities=[train_lightgbm_activity], activity_executor=executor, max_concurrent_activities=1)
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            asyncio.get_running_loop().add_signal_handler(sig, stop.set)
        print(f'sluice python worker polling task queue "{TASK_QUEUE}" on {client.service_client.config.target_host}; artifacts in {STORE.root}', flush=True)
        async with worker:
            await stop.wait()


if __name__ == "__main__":
    asyncio.run(main())
