"""The Python trainer plug-ins: every `<type>.py` beside a trainer descriptor in activities/train/trainers/
(SLUICE_TRAINERS_DIR in an image that lays them out elsewhere). A module declares TRAINER (the spec's
`trainer.type`), VERSION (bumped when its output for the same inputs changes), LIBRARY (the name errors give
the library) and `fit(job) -> Fitted` (sluice_python.training)."""

from __future__ import annotations

import importlib.util
import os
import sys
import threading
from pathlib import Path
from types import ModuleType

TRAINERS_DIR = Path(os.environ.get("SLUICE_TRAINERS_DIR") or Path(__file__).resolve().parents[3] / "activities" / "train" / "trainers")

_found: dict[str, ModuleType] | None = None
# Activities run in threads (SLUICE_PYTHON_SLOTS at a time): the modules are loaded by one of them, once.
_loading = threading.Lock()


def trainers() -> dict[str, ModuleType]:
    """Every trainer module, by its TRAINER name, loaded once."""
    global _found
    with _loading:
        if _found is None:
            found: dict[str, ModuleType] = {}
            for file in sorted(TRAINERS_DIR.glob("*.py")):
                spec = importlib.util.spec_from_file_location(f"sluice_trainers.{file.stem}", file)
                if spec is None or spec.loader is None:
                    continue
                module = importlib.util.module_from_spec(spec)
                # Registered before it runs, as an import would: its dataclasses look their module up there.
                sys.modules[spec.name] = module
                spec.loader.exec_module(module)
                if isinstance(getattr(module, "TRAINER", None), str) and callable(getattr(module, "fit", None)):
                    found[module.TRAINER] = module
            _found = found
    return _found


def trainer_of(name: str) -> ModuleType:
    """The module of `trainer.type` = name, or LookupError naming the ones there are."""
    found = trainers()
    if name not in found:
        raise LookupError(f"trainer.type: {name} has no Python implementation in {TRAINERS_DIR} (found: {', '.join(sorted(found)) or 'none'})")
    return found[name]
