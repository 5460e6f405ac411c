"""The Python plug-ins. Trainers: every `<type>.py` beside a trainer descriptor in activities/train/trainers/
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

PLUGINS = Path(__file__).resolve().parents[3] / "activities"
TRAINERS_DIR = Path(os.environ.get("SLUICE_TRAINERS_DIR") or PLUGINS / "train" / "trainers")
#: The Python sink plug-ins: every `<type>.py` beside a sink descriptor (SINK, publish, published_days, history).
SINKS_DIR = Path(os.environ.get("SLUICE_SINKS_DIR") or PLUGINS / "sinks")

_found: dict[str, dict[str, ModuleType]] = {}
# Activities run in threads (SLUICE_PYTHON_SLOTS at a time): the modules are loaded by one of them, once.
_loading = threading.Lock()


def plugins(folder: Path, kind: str, name: str, entry: str) -> dict[str, ModuleType]:
    """Every module of `folder` that declares `name` (its type) and the callable `entry`, by type, loaded once."""
    with _loading:
        if kind not in _found:
            found: dict[str, ModuleType] = {}
            for file in sorted(folder.glob("*.py")):
                spec = importlib.util.spec_from_file_location(f"sluice_{kind}.{file.stem}", file)
                if spec is None or spec.loader is None:
                    continue
                module = importlib.util.module_from_spec(spec)
                # Registered before it runs, as an import would: its dataclasses look their module up there.
                sys.modules[spec.name] = module
                spec.loader.exec_module(module)
                if isinstance(getattr(module, name, None), str) and callable(getattr(module, entry, None)):
                    found[getattr(module, name)] = module
            _found[kind] = found
    return _found[kind]


def trainers() -> dict[str, ModuleType]:
    """Every trainer module, by its TRAINER name."""
    return plugins(TRAINERS_DIR, "trainers", "TRAINER", "fit")


def sink_of(name: str) -> ModuleType:
    """The module of the Python sink `inference.sink.type` = name, or LookupError naming the ones there are."""
    found = plugins(SINKS_DIR, "sinks", "SINK", "publish")
    if name not in found:
        raise LookupError(f"inference.sink.type: {name} has no Python implementation in {SINKS_DIR} (found: {', '.join(sorted(found)) or 'none'})")
    return found[name]


def trainer_of(name: str) -> ModuleType:
    """The module of `trainer.type` = name, or LookupError naming the ones there are."""
    found = trainers()
    if name not in found:
        raise LookupError(f"trainer.type: {name} has no Python implementation in {TRAINERS_DIR} (found: {', '.join(sorted(found)) or 'none'})")
    return found[name]
