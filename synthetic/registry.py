"""The registry of synthetic tasks by name, and the one-call entry point ``make_dataset``."""

from __future__ import annotations

from synthetic.base import Task
from synthetic.config import TaskConfig
from synthetic.dataset import MultimodalDataset
from synthetic.ladder import LADDER
from synthetic.mix import MIX
from synthetic.trifeature import TRIFEATURE
from synthetic.vector import AND, OR, XOR

_ALL = (AND, LADDER, MIX, OR, TRIFEATURE, XOR)
TASKS: dict[str, Task] = {task.name: task for task in sorted(_ALL, key=lambda t: t.name)}


def get_task(name: str) -> Task:
    """The task registered as ``name``; a ValueError listing the valid names otherwise."""
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}; valid tasks: {', '.join(sorted(TASKS))}")
    return TASKS[name]


def make_dataset(name: str, config: TaskConfig | None = None, seed: int = 0) -> MultimodalDataset:
    """Draw task ``name`` with ``config`` (defaults: ``TaskConfig()``); same seed, same arrays.

    Example:
        >>> ds = make_dataset("xor", TaskConfig(n_samples=100))
        >>> ds.train.x1.shape[1], ds.latent_joint("S").shape
        (32, (8, 8, 2))
    """
    return get_task(name).generate(config, seed)
