"""The bimodal dataset type shared by every generator, trainer, probe and report.

A dataset holds train / validation / test splits. Each split carries the two observed
modalities ``x1`` and ``x2`` (float32, first axis = samples), integer labels by name, and, for
synthetic tasks, the discrete latent codes of each modality that a label's exact ground-truth
table ``latent_joint(label)`` is indexed by. User arrays are wrapped with :func:`from_arrays`.
numpy only: importing this module never imports torch.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

SPLITS: tuple[str, ...] = ("train", "val", "test")
GROUP_NAME = re.compile(r"[A-Za-z0-9_-]+")  # training group names: safe in file and folder names


@dataclass(frozen=True)
class Split:
    """One split: ``x1`` (n, ...), ``x2`` (n, ...), labels and latent codes, all of length n.

    ``latent_codes[label]`` is a pair of int arrays (code of modality 1, code of modality 2):
    the row and column indices of ``latent_joint(label)`` for each sample. Several labels may
    share the same arrays. ``factors`` are the raw named latent variables (e.g. ``r``, ``s1``).
    """

    x1: np.ndarray
    x2: np.ndarray
    labels: dict[str, np.ndarray]
    latent_codes: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    factors: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.x1.shape[0])

    def subset(self, index: np.ndarray) -> Split:
        """The samples at ``index`` (an int or bool array), as a new split."""
        return Split(
            x1=self.x1[index],
            x2=self.x2[index],
            labels={k: v[index] for k, v in self.labels.items()},
            latent_codes={k: (a[index], b[index]) for k, (a, b) in self.latent_codes.items()},
            factors={k: v[index] for k, v in self.factors.items()},
        )


@dataclass(frozen=True)
class TrainingGroup:
    """Labels whose representation is learned on a training split of their own (e.g. the
    Trifeatures protocol trains R/U on unbiased pairs and S on fully biased pairs).

    A group may also be evaluated on splits of its own (``val`` / ``test`` with the exact
    ``latent_joint_fn`` of its test split), drawn from the law its labels are defined on; then
    every model, the untrained network and the supervised reference too, is fitted per group.
    ``reference_split`` names the split a supervised reference of the group trains on: its own
    ``train`` where that is unbiased, else the probe split ``val``; ``reference``, where given,
    is a training split of the group's labels drawn like its test (unbiased) for the reference
    alone, so a group whose ``train`` is biased need not train its reference on the small
    probe split (:meth:`MultimodalDataset.for_group` with ``reference=True``).
    """

    name: str  # e.g. "RU", "S"; short, [A-Za-z0-9_-]
    labels: tuple[str, ...]
    train: Split
    val: Split | None = None  # the group's own probe-fit split (None: the dataset's)
    test: Split | None = None  # the group's own test split (None: the dataset's)
    latent_joint_fn: Callable[[str], np.ndarray] | None = None  # ground truth of its test split
    reference_split: str = "val"  # "train" or "val": where a supervised reference trains
    reference: Split | None = None  # unbiased pairs for the reference alone (None: reference_split)

    @property
    def own_evaluation(self) -> bool:
        """True when the group is probed and tested on splits of its own."""
        return self.test is not None


#: Share of the probe split scored by :meth:`MultimodalDataset.for_selection` when the probes
#: are fitted on ``val`` (trifeature): 30 % (450 rows of a 1,500-row val split) for the score,
#: 70 % left to fit the probes on.
SELECTION_HELD_OUT = 0.3


@dataclass(frozen=True)
class MultimodalDataset:
    """Train / val / test splits of a bimodal dataset plus what is known about its labels.

    ``kind`` is ``"vector"`` (x of shape (n, d)) or ``"image"`` (x of shape (n, 3, H, W), values
    in [0, 1]). ``num_classes[label]`` is the number of classes of each label (labels are ints
    in ``range(num_classes)``). ``latent_joint`` maps a label to its exact ground-truth table
    p(latent code of modality 1, latent code of modality 2, label); it is empty for user data.

    ``probe_split`` names the split probes are fitted on ("train" or "val"; never "test"). It is
    "val" for tasks whose training split is deliberately biased (``trifeature``): a probe should
    read the representation under the distribution it is tested on, not learn the bias.

    ``training_groups`` (empty for most tasks: one model learns every label on ``train``)
    partition the labels into groups that are each learned by a model of their own, trained on
    the group's own ``train`` split; val and test are shared unless a group brings its own.
    :meth:`for_group` gives the dataset one such model sees.
    """

    name: str
    kind: str
    train: Split
    val: Split
    test: Split
    num_classes: dict[str, int]
    description: str = ""
    latent_joint_fn: Callable[[str], np.ndarray] | None = None
    probe_split: str = "train"
    preprocessing: str = ""  # what was done to the user's arrays (e.g. standardised features)
    training_groups: tuple[TrainingGroup, ...] = ()
    reference_split: str | None = None  # where a supervised reference trains (None: probe_split)
    # the constant predictor of usable bits: "fit" (the probe split's class frequencies) or "law"
    # (the exact class marginal of the test split's law, where test and fit are drawn apart)
    usable_prior: str = "fit"

    def __post_init__(self) -> None:
        if self.probe_split not in ("train", "val"):
            raise ValueError(
                f"probe_split must be 'train' or 'val' (never 'test'); got {self.probe_split!r}"
            )
        if self.usable_prior not in ("fit", "law"):
            raise ValueError(f"usable_prior must be 'fit' or 'law'; got {self.usable_prior!r}")
        self._check_training_groups()

    def _check_training_groups(self) -> None:
        """Groups (if any) partition the labels, have distinct safe names and matching inputs."""
        owner: dict[str, str] = {}
        for group in self.training_groups:
            if group.reference_split not in ("train", "val"):
                raise ValueError(
                    f"training group {group.name!r}: reference_split must be 'train' or 'val' "
                    f"(never 'test'); got {group.reference_split!r}"
                )
            if not isinstance(group.name, str) or not GROUP_NAME.fullmatch(group.name):
                raise ValueError(
                    f"training group name {group.name!r} must be letters, digits, '_' or '-'"
                )
            if any(g.name == group.name for g in self.training_groups if g is not group):
                raise ValueError(f"training group name {group.name!r} is used twice")
            for label in group.labels:
                if label not in self.num_classes:
                    raise ValueError(
                        f"training group {group.name!r} names unknown label {label!r}; "
                        f"labels of {self.name!r}: {', '.join(self.num_classes)}"
                    )
                if label in owner:
                    raise ValueError(
                        f"label {label!r} is in two training groups: {owner[label]!r} and "
                        f"{group.name!r}"
                    )
                owner[label] = group.name
            shapes = (tuple(group.train.x1.shape[1:]), tuple(group.train.x2.shape[1:]))
            if shapes != self.input_shapes:
                raise ValueError(
                    f"training group {group.name!r} has inputs of shapes {shapes}; the dataset's "
                    f"train split has {self.input_shapes}"
                )
        missing = [label for label in self.num_classes if label not in owner]
        if self.training_groups and missing:
            raise ValueError(
                f"label(s) {', '.join(map(repr, missing))} are in no training group; every "
                "label must be in exactly one"
            )

    @property
    def label_names(self) -> tuple[str, ...]:
        return tuple(self.num_classes)

    @property
    def has_latents(self) -> bool:
        """True when every label has latent codes and an exact ground-truth table."""
        return self.latent_joint_fn is not None and all(
            label in self.train.latent_codes for label in self.num_classes
        )

    def split(self, name: str) -> Split:
        if name not in SPLITS:
            raise ValueError(f"unknown split {name!r}; valid splits: {', '.join(SPLITS)}")
        split: Split = getattr(self, name)
        return split

    def latent_joint(self, label: str) -> np.ndarray:
        """Exact p(code1, code2, label) of shape (|code1|, |code2|, num_classes[label])."""
        if label not in self.num_classes:
            raise ValueError(
                f"label {label!r} is not in dataset {self.name!r}; "
                f"its labels: {', '.join(self.num_classes)}"
            )
        if self.latent_joint_fn is None:
            raise ValueError(f"dataset {self.name!r} has no known ground-truth latent table")
        return self.latent_joint_fn(label)

    def for_selection(self, held_out: float = SELECTION_HELD_OUT) -> MultimodalDataset:
        """The dataset a choice of settings is made on (``--select lr``): validation rows in the
        test split's place, so nothing chosen on it has read a test sample.

        Probes are fitted on ``probe_split`` as usual. When that is ``train`` (every task but
        trifeature) the validation rows are the ``val`` split, which neither training (the
        supervised reference included, which trains on the probe split) nor the probes read.
        When it is ``val`` (trifeature: ``train`` is deliberately biased, so only ``val`` is
        drawn like ``test``) a fixed random ``held_out`` share of ``val`` is scored and the rest
        is the probe split, which the supervised reference then also trains on. The test split
        is dropped either way, a training group's own test split too (its own val is cut the
        same way).
        """
        if self.probe_split == "train":
            return dataclasses.replace(self, test=self.val)
        if not 0.0 < held_out < 1.0:
            raise ValueError(f"held_out must be a share in (0, 1); got {held_out}")
        val, test = _cut_for_selection(self.val, held_out)
        groups = []
        for group in self.training_groups:
            if group.own_evaluation:
                own = _cut_for_selection(group.val if group.val is not None else self.val, held_out)
                group = dataclasses.replace(group, val=own[0], test=own[1])
            groups.append(group)
        return dataclasses.replace(self, val=val, test=test, training_groups=tuple(groups))

    def for_group(self, group: TrainingGroup, reference: bool = False) -> MultimodalDataset:
        """The dataset the model of ``group`` sees: its own train split and only its labels.

        With ``reference`` (the supervised reference's model) a group that has reference pairs
        of its own (``group.reference``) gets them as its train split, to be trained on. A
        group evaluated on splits of its own reads usable bits against its test law's exact
        class marginal (``usable_prior = "law"``): its test pairs (held-out triples) are drawn
        apart from the probe split, whose class frequencies differ.
        """
        if group.name not in (g.name for g in self.training_groups):
            raise ValueError(
                f"{group.name!r} is not a training group of dataset {self.name!r}; its groups: "
                f"{', '.join(g.name for g in self.training_groups) or 'none'}"
            )
        own_pairs = group.reference if reference and group.own_evaluation else None
        reference_split = "train" if own_pairs is not None else group.reference_split
        own_law = group.own_evaluation and group.latent_joint_fn is not None
        return dataclasses.replace(
            self,
            train=own_pairs if own_pairs is not None else group.train,
            val=group.val if group.val is not None else self.val,
            test=group.test if group.test is not None else self.test,
            latent_joint_fn=group.latent_joint_fn or self.latent_joint_fn,
            reference_split=reference_split if group.own_evaluation else None,
            usable_prior="law" if own_law else self.usable_prior,
            num_classes={k: v for k, v in self.num_classes.items() if k in group.labels},
            training_groups=(),
        )

    @property
    def input_shapes(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """Shape of one sample of each modality, e.g. ((32,), (32,)) or ((3, 32, 32), ...)."""
        return tuple(self.train.x1.shape[1:]), tuple(self.train.x2.shape[1:])


def _cut_for_selection(val: Split, held_out: float) -> tuple[Split, Split]:
    """(rows probes are fitted on, rows scored) of a validation split: a fixed random
    ``held_out`` share is scored (:meth:`MultimodalDataset.for_selection`)."""
    order = np.random.default_rng(0).permutation(len(val))
    n_scored = max(1, int(round(held_out * len(val))))
    scored, fitted = np.sort(order[:n_scored]), np.sort(order[n_scored:])
    return val.subset(fitted), val.subset(scored)


def _check_array(name: str, array: np.ndarray, n: int | None) -> np.ndarray:
    array = np.asarray(array)
    if array.ndim == 0:
        raise ValueError(f"{name} must have a sample axis; got a scalar")
    if n is not None and array.shape[0] != n:
        raise ValueError(f"{name} has {array.shape[0]} samples but x1 has {n}")
    if np.issubdtype(array.dtype, np.floating) and not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return array


def _check_codes(name: str, value: np.ndarray, n: int) -> np.ndarray:
    """A 1-D array of n non-negative integer codes (int, bool or integral floats) as int64."""
    value = _check_array(name, value, n)
    if value.ndim != 1:
        raise ValueError(f"{name} must be 1-D; got shape {value.shape}")
    if np.issubdtype(value.dtype, np.floating):
        if not np.all(value == np.round(value)):
            raise ValueError(f"{name} must hold integers; it holds fractions")
    elif not np.issubdtype(value.dtype, np.integer) and value.dtype != np.bool_:
        raise ValueError(f"{name} must hold integers; got dtype {value.dtype}")
    value = value.astype(np.int64)
    if value.min() < 0:
        raise ValueError(f"{name} holds negative values (min {value.min()})")
    return value


def _check_labels(labels: Mapping[str, np.ndarray], n: int) -> dict[str, np.ndarray]:
    """Labels as int64 class indices 0..K-1 with 2 <= K <= n; anything else is rejected.

    Class indices are not re-indexed: a label whose largest index reaches the sample count
    (e.g. raw ids up to 1e7) is rejected rather than given that many mostly empty classes.
    """
    if not labels:
        raise ValueError("labels must hold at least one label array")
    checked: dict[str, np.ndarray] = {}
    for key, value in labels.items():
        name = f"labels[{key!r}]"
        value = _check_codes(name, value, n)
        if value.max() >= n:
            raise ValueError(
                f"{name} has class index {value.max()} but only {n} samples; class indices "
                "must run 0..K-1 (re-index them, e.g. np.unique(y, return_inverse=True)[1])"
            )
        classes = np.unique(value)
        if classes.size < 2:
            raise ValueError(
                f"{name} has a single class ({classes[0]}); a probe needs at least two"
            )
        checked[key] = value
    return checked


def _standardize(train: Split, splits: tuple[Split, Split, Split]) -> tuple[Split, Split, Split]:
    """Every split's vector features z-scored with the training split's mean and std (a
    constant feature keeps std 1), so that augmentation strengths mean the same on any data."""
    out = []
    stats = []
    for x in (train.x1, train.x2):
        mean = x.mean(axis=0, dtype=np.float64)
        std = x.std(axis=0, dtype=np.float64)
        stats.append((mean, np.where(std > 0, std, 1.0)))
    for split in splits:
        out.append(
            Split(
                x1=((split.x1 - stats[0][0]) / stats[0][1]).astype(np.float32),
                x2=((split.x2 - stats[1][0]) / stats[1][1]).astype(np.float32),
                labels=split.labels,
                latent_codes=split.latent_codes,
                factors=split.factors,
            )
        )
    return out[0], out[1], out[2]


def empirical_latent_joint(
    code1: np.ndarray, code2: np.ndarray, label: np.ndarray, shape: tuple[int, int, int]
) -> np.ndarray:
    """Empirical p(code1, code2, label) of shape ``shape``: counts over the samples / n."""
    table = np.zeros(shape)
    np.add.at(table, (code1, code2, label), 1.0)
    return table / table.sum()


def split_sizes(n: int, val_fraction: float, test_fraction: float) -> tuple[int, int, int]:
    """Sizes (train, val, test) of the partition :func:`split_indices` draws from ``n`` samples."""
    if not (0 <= val_fraction < 1 and 0 <= test_fraction < 1 and val_fraction + test_fraction < 1):
        raise ValueError("val_fraction and test_fraction must be in [0, 1) and sum to less than 1")
    n_val = int(round(n * val_fraction))
    n_test = int(round(n * test_fraction))
    if n - n_val - n_test < 1:
        raise ValueError(f"{n} samples leave no training data")
    return n - n_val - n_test, n_val, n_test


def split_indices(
    n: int, val_fraction: float, test_fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A seeded random partition of ``range(n)`` into train / val / test index arrays."""
    _, n_val, n_test = split_sizes(n, val_fraction, test_fraction)
    order = np.random.default_rng(seed).permutation(n)
    return order[n_val + n_test :], order[:n_val], order[n_val : n_val + n_test]


def from_arrays(
    x1: np.ndarray,
    x2: np.ndarray,
    labels: Mapping[str, np.ndarray],
    *,
    latents1: np.ndarray | None = None,
    latents2: np.ndarray | None = None,
    name: str = "custom",
    val_fraction: float = 0.15,
    test_fraction: float = 0.15,
    seed: int = 0,
    standardize: bool = True,
) -> MultimodalDataset:
    """Wrap a user's own arrays into a :class:`MultimodalDataset` with a seeded random split.

    ``x1`` (n, d1) or (n, 3, H, W) and ``x2`` likewise; ``labels`` maps names to class indices
    (n,) in 0..K-1 with at least two classes. ``standardize`` (default) z-scores vector features
    with the training split's per-feature mean and std, so that the vector augmentations
    (noise in units of one feature's std) are as strong as on the synthetic tasks; images are
    left as given. ``latents1`` / ``latents2`` are optional discrete codes (n,) of each
    modality (non-negative integers; re-indexed to 0..K-1 in sorted order). With them the
    dataset has latents: the ground-truth table of each label is the *empirical* joint of
    (code 1, code 2, label) over all n samples (not an exact law), and the model-level PID is
    the exact PID of (code 1, code 2, prediction) on test. Without them the cluster-based
    estimator stands in. Bad shapes, NaN, negative or fractional codes, a single-class label or
    class indices beyond the sample count raise ``ValueError`` naming the argument.

    Example:
        >>> ds = from_arrays(np.zeros((10, 4)), np.ones((10, 3)), {"y": np.arange(10) % 2})
        >>> len(ds.train) + len(ds.val) + len(ds.test)
        10
    """
    x1 = _check_array("x1", x1, None)
    n = int(x1.shape[0])
    if n < 3:
        raise ValueError(f"x1 must hold at least 3 samples; got {n}")
    x2 = _check_array("x2", x2, n)
    for key, arr in (("x1", x1), ("x2", x2)):
        if arr.ndim not in (2, 4):
            raise ValueError(
                f"{key} must be (n, d) vectors or (n, 3, H, W) images; got {arr.shape}"
            )
    if x1.ndim != x2.ndim:
        raise ValueError("x1 and x2 must both be vectors or both be images")
    checked = _check_labels(labels, n)
    codes: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    if (latents1 is None) != (latents2 is None):
        raise ValueError("give both latents1 and latents2, or neither")
    num_classes = {key: int(value.max()) + 1 for key, value in checked.items()}
    joint_fn = None
    if latents1 is not None and latents2 is not None:
        c1 = np.unique(_check_codes("latents1", latents1, n), return_inverse=True)[1]
        c2 = np.unique(_check_codes("latents2", latents2, n), return_inverse=True)[1]
        c1, c2 = c1.astype(np.int64).ravel(), c2.astype(np.int64).ravel()
        codes = {key: (c1, c2) for key in checked}
        tables = {
            key: empirical_latent_joint(
                c1, c2, value, (int(c1.max()) + 1, int(c2.max()) + 1, num_classes[key])
            )
            for key, value in checked.items()
        }
        joint_fn = tables.__getitem__
    whole = Split(
        x1=x1.astype(np.float32), x2=x2.astype(np.float32), labels=checked, latent_codes=codes
    )
    train, val, test = split_indices(n, val_fraction, test_fraction, seed)
    splits = (whole.subset(train), whole.subset(val), whole.subset(test))
    kind = "vector" if x1.ndim == 2 else "image"
    preprocessing = "none"
    if standardize and kind == "vector":
        splits = _standardize(splits[0], splits)
        preprocessing = "features standardised with the training split's mean and std"
    return MultimodalDataset(
        name=name,
        kind=kind,
        train=splits[0],
        val=splits[1],
        test=splits[2],
        num_classes=num_classes,
        description="user-provided arrays",
        latent_joint_fn=joint_fn,
        preprocessing=preprocessing,
    )
