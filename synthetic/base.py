"""What every synthetic task is, plus the small pure helpers the tasks share.

A task draws a bimodal dataset whose labels are known functions of discrete latents, and
returns for each label its exact ground-truth table p(code1, code2, label), where code1 / code2
index the latent values each modality sees. The partial information decomposition of that table
(Williams & Beer, 2010; Bertschinger et al., 2014) is the ground truth a representation's
captured redundancy / uniqueness / synergy is compared against.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from synthetic.config import TaskConfig
from synthetic.dataset import MultimodalDataset, Split, split_indices

KINDS = ("vector", "image")


class Task(ABC):
    """A named synthetic task: labels, their ground-truth tables and a seeded generator.

    Subclasses set ``name``, ``description`` (one line), ``kind`` ("vector" or "image") and
    ``labels`` (the first four are "R", "U1", "U2", "S"), and implement ``num_classes_for``,
    ``_latent_joint`` and ``generate``.
    """

    name: str
    description: str
    kind: str
    labels: tuple[str, ...]

    @abstractmethod
    def num_classes_for(self, config: TaskConfig) -> dict[str, int]:
        """Number of classes of each label under ``config`` (label order = ``labels``)."""

    @property
    def num_classes(self) -> dict[str, int]:
        """Number of classes of each label under the default :class:`TaskConfig`."""
        return self.num_classes_for(TaskConfig())

    def latent_joint(self, label: str, config: TaskConfig | None = None) -> np.ndarray:
        """Exact p(code1, code2, label), shape (|code1|, |code2|, n_classes), summing to 1.

        ``config`` defaults to ``TaskConfig()``; only ``mix`` (bits, strengths) and
        ``trifeature`` (the evaluation synergy rate) tables depend on it.
        """
        self.check_label(label)
        return self._latent_joint(label, config if config is not None else TaskConfig())

    @abstractmethod
    def _latent_joint(self, label: str, config: TaskConfig) -> np.ndarray: ...

    @abstractmethod
    def generate(self, config: TaskConfig | None = None, seed: int = 0) -> MultimodalDataset:
        """Draw the dataset: train / val / test splits, deterministic given ``seed``."""

    def split_dataset(self, whole: Split, config: TaskConfig, seed: int) -> MultimodalDataset:
        """Cut all ``config.n_samples`` drawn samples into seeded train / val / test splits."""
        train, val, test = split_indices(
            len(whole), config.val_fraction, config.test_fraction, seed
        )
        return MultimodalDataset(
            name=self.name,
            kind=self.kind,
            train=whole.subset(train),
            val=whole.subset(val),
            test=whole.subset(test),
            num_classes=self.num_classes_for(config),
            description=self.description,
            latent_joint_fn=lambda label: self.latent_joint(label, config),
        )

    def check_label(self, label: str) -> None:
        if label not in self.labels:
            raise ValueError(
                f"label {label!r} is not a label of task {self.name!r}; "
                f"its labels: {', '.join(self.labels)}"
            )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, kind={self.kind!r})"


def check_seed(seed: int) -> int:
    """``seed`` as an int, or a ValueError naming it (numpy seeds must be >= 0)."""
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer; got {seed!r}")
    return int(seed)


def child_rngs(seed: int, names: tuple[str, ...]) -> dict[str, np.random.Generator]:
    """Independent generators, one per name, all derived from ``seed`` (stable across runs)."""
    children = np.random.SeedSequence(seed).spawn(len(names))
    return {name: np.random.default_rng(child) for name, child in zip(names, children, strict=True)}


def int_to_bits(values: np.ndarray, n_bits: int) -> np.ndarray:
    """(n,) ints in [0, 2**n_bits) -> (n, n_bits) array of 0/1, most significant bit first."""
    shifts = np.arange(n_bits - 1, -1, -1)
    return ((np.asarray(values, dtype=np.int64)[:, None] >> shifts) & 1).astype(np.int64)


def bits_to_int(bits: np.ndarray) -> np.ndarray:
    """(n, k) array of 0/1 -> (n,) ints, most significant bit first (inverse of int_to_bits)."""
    bits = np.asarray(bits, dtype=np.int64)
    weights = 1 << np.arange(bits.shape[1] - 1, -1, -1)
    return bits @ weights


def parity(values: np.ndarray) -> np.ndarray:
    """(n,) ints -> (n,) 0/1: the XOR of all bits of each value."""
    values = np.asarray(values, dtype=np.int64)
    out = np.zeros_like(values)
    rest = values.copy()
    while np.any(rest):
        out ^= rest & 1
        rest >>= 1
    return out


def one_hot(labels: np.ndarray, n_classes: int) -> np.ndarray:
    """(n,) ints -> (n, n_classes) float64 indicator rows."""
    out = np.zeros((labels.shape[0], n_classes))
    out[np.arange(labels.shape[0]), labels] = 1.0
    return out


def accumulate_joint(
    weights: np.ndarray,
    code1: np.ndarray,
    code2: np.ndarray,
    label_probs: np.ndarray,
    shape: tuple[int, int],
) -> np.ndarray:
    """Sum p(state) p(label | state) into a (|code1|, |code2|, n_classes) table.

    ``weights`` (m,) are the probabilities of m enumerated latent states, ``code1`` / ``code2``
    (m,) the code each modality sees in each state and ``label_probs`` (m, n_classes) the label
    distribution in each state (one-hot rows for deterministic labels).
    """
    table = np.zeros((shape[0], shape[1], label_probs.shape[1]))
    np.add.at(table, (code1, code2), weights[:, None] * label_probs)
    return table
