"""Bimodal datasets whose redundant, unique and synergistic parts are known by construction.

Tasks (``TASKS``, ``get_task``, ``make_dataset``): ``xor``, ``and``, ``or`` (gates of one bit
per modality beside shared and private bits), ``mix`` (a tunable blend of all four PID atoms),
``ladder`` (synergy that gets harder rung by rung: order, dominance, spread, richness) and
``trifeature`` (bimodal Trifeatures image pairs). Every label comes with its exact
ground-truth table p(code1, code2, label). numpy only: importing this package never imports
torch.
"""

from synthetic.base import Task
from synthetic.config import TaskConfig
from synthetic.dataset import MultimodalDataset, Split, TrainingGroup, from_arrays
from synthetic.readers import from_multibench_affect, from_npz, read_multibench_affect, read_npz
from synthetic.registry import TASKS, get_task, make_dataset

__all__ = [
    "TASKS",
    "MultimodalDataset",
    "Split",
    "Task",
    "TaskConfig",
    "TrainingGroup",
    "from_arrays",
    "from_multibench_affect",
    "from_npz",
    "get_task",
    "make_dataset",
    "read_multibench_affect",
    "read_npz",
]
