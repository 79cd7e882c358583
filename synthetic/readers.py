"""Readers for users' own data: ``.npz`` arrays and MultiBench's preprocessed affect pickles.

numpy only. Every reader checks what it loads and raises one ``ValueError`` line naming the
problem (a missing array, mismatched lengths, NaN, labels that are not integers).
"""

from __future__ import annotations

import pickle
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from synthetic.dataset import MultimodalDataset, Split, from_arrays

#: Arrays of an ``.npz`` file that are neither modality nor label.
NPZ_RESERVED: tuple[str, ...] = ("x1", "x2", "latents1", "latents2")


def check_label(name: str, values: np.ndarray, n: int) -> np.ndarray:
    """A label array (n,) of integer class indices as int64; one clear ValueError otherwise.

    Floats are accepted only when every value is a whole number (e.g. 0.0 / 1.0).
    """
    arr = np.asarray(values)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(f"label {name!r} must be 1-D (one class per row); got shape {arr.shape}")
    if arr.shape[0] != n:
        raise ValueError(f"label {name!r} has {arr.shape[0]} rows but x1 has {n}")
    if arr.dtype == np.bool_:
        return arr.astype(np.int64)
    if np.issubdtype(arr.dtype, np.floating):
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"label {name!r} contains NaN or infinite values")
        if not np.all(arr == np.round(arr)):
            raise ValueError(
                f"label {name!r} holds non-integer values (e.g. {arr[arr != np.round(arr)][0]:g}); "
                "labels must be integer class indices"
            )
    elif not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"label {name!r} must hold integer class indices; got dtype {arr.dtype}")
    arr = arr.astype(np.int64)
    if arr.min() < 0:
        raise ValueError(f"label {name!r} has negative class indices")
    return arr


def check_features(name: str, values: np.ndarray, n: int | None = None) -> np.ndarray:
    """A modality (n, ...) of finite numbers as float32; one clear ValueError otherwise."""
    arr = np.asarray(values)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim < 2 or arr.shape[0] == 0:
        raise ValueError(f"{name} must be (n, d) with n >= 1; got shape {arr.shape}")
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
        raise ValueError(f"{name} must be numeric; got dtype {arr.dtype}")
    if n is not None and arr.shape[0] != n:
        raise ValueError(f"{name} has {arr.shape[0]} rows but x1 has {n}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr.astype(np.float32)


def load_npz_arrays(path: str | Path) -> dict[str, np.ndarray]:
    """Every array of an ``.npz`` by name (no pickles); one clear ValueError if unreadable."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"no file at {path}")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as error:
        raise ValueError(f"{path} is not a readable .npz file ({error})") from None
    for key in ("x1", "x2"):
        if key not in arrays:
            raise ValueError(
                f"{path} has no array {key!r} (found: {', '.join(sorted(arrays)) or 'none'})"
            )
    if not [key for key in arrays if key not in NPZ_RESERVED]:
        raise ValueError(f"{path} has no label array (arrays other than x1, x2)")
    return arrays


def read_npz(path: str | Path) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """(x1, x2, labels) of an ``.npz``: arrays ``x1``, ``x2`` and one int array per label.

    Arrays named ``latents1`` / ``latents2`` are not labels (see :func:`from_npz`).
    """
    arrays = load_npz_arrays(path)
    x1 = check_features("x1", arrays["x1"])
    n = x1.shape[0]
    x2 = check_features("x2", arrays["x2"], n)
    names = [key for key in arrays if key not in NPZ_RESERVED]
    labels = {key: check_label(key, arrays[key], n) for key in names}
    return x1, x2, labels


def from_npz(path: str | Path, **kwargs: Any) -> MultimodalDataset:
    """A :class:`MultimodalDataset` of an ``.npz`` (see :func:`read_npz`) via ``from_arrays``.

    Optional int arrays ``latents1`` / ``latents2`` become the latent codes; ``kwargs`` go to
    :func:`synthetic.from_arrays` (split fractions, seed, name; the name defaults to the stem).
    """
    x1, x2, labels = read_npz(path)
    with np.load(Path(path), allow_pickle=False) as archive:
        latents = {k: archive[k] for k in ("latents1", "latents2") if k in archive.files}
    kwargs.setdefault("name", Path(path).stem)
    return from_arrays(x1, x2, labels, **latents, **kwargs)


MULTIBENCH_SPLITS: dict[str, str] = {"train": "train", "val": "valid", "test": "test"}


def _pool(name: str, values: Any, pool: str) -> np.ndarray:
    arr = np.nan_to_num(np.asarray(values, dtype=np.float64))  # as MultiBench's loaders do
    if arr.ndim == 3 and pool == "mean":
        arr = arr.mean(axis=1)  # (n, time, features) -> (n, features)
    return check_features(name, arr.reshape(arr.shape[0], -1))


def read_multibench_affect(
    path: str | Path,
    modalities: tuple[str, str] = ("vision", "text"),
    pool: str = "mean",
) -> dict[str, tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]]:
    """Splits of a MultiBench affect pickle (MOSI, MOSEI, sarcasm, humor: ``*_raw.pkl``).

    The file is a pickled dict with keys ``train``, ``valid``, ``test``, each a dict of arrays
    ``vision``, ``audio``, ``text`` (n, time, features), ``labels`` and ``id`` (Liang et al.,
    MultiBench, NeurIPS 2021). Returns {"train" | "val" | "test": (x1, x2, {"label": y})}.
    Sequences are averaged over time (``pool="mean"``) or flattened (``"flatten"``); NaN
    features are set to 0 as MultiBench's loaders do. Real-valued sentiment labels (MOSI,
    MOSEI) become the binary label y > 0, as in Liang et al.'s PID estimates; integer labels
    are kept. Only open pickles you trust: unpickling can run code.
    """
    path = Path(path)
    if pool not in ("mean", "flatten"):
        raise ValueError(f"pool must be 'mean' or 'flatten'; got {pool!r}")
    if not path.is_file():
        raise ValueError(f"no file at {path}")
    try:
        with path.open("rb") as handle:
            data = pickle.load(handle)
    except (pickle.UnpicklingError, EOFError, AttributeError, ImportError, ValueError) as error:
        raise ValueError(f"{path} is not a readable pickle ({error})") from None
    if not isinstance(data, Mapping) or any(s not in data for s in MULTIBENCH_SPLITS.values()):
        raise ValueError(f"{path} is not a MultiBench affect pickle (needs train, valid, test)")
    out: dict[str, tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]] = {}
    for ours, theirs in MULTIBENCH_SPLITS.items():
        split = data[theirs]
        missing = [k for k in (*modalities, "labels") if k not in split]
        if missing:
            raise ValueError(f"{path}: split {theirs!r} has no {missing[0]!r} array")
        x1 = _pool(f"{theirs}/{modalities[0]}", split[modalities[0]], pool)
        x2 = _pool(f"{theirs}/{modalities[1]}", split[modalities[1]], pool)
        raw = np.asarray(split["labels"]).reshape(x1.shape[0], -1)[:, 0]
        if np.issubdtype(raw.dtype, np.floating) and not np.all(raw == np.round(raw)):
            raw = (raw > 0).astype(np.int64)
        if x2.shape[0] != x1.shape[0]:
            raise ValueError(f"{path}: split {theirs!r} has modalities of different lengths")
        out[ours] = (x1, x2, {"label": check_label("label", raw, x1.shape[0])})
    return out


def from_multibench_affect(
    path: str | Path, modalities: tuple[str, str] = ("vision", "text"), pool: str = "mean"
) -> MultimodalDataset:
    """A :class:`MultimodalDataset` keeping MultiBench's own train / valid / test split."""
    splits = read_multibench_affect(path, modalities, pool)
    made = {k: Split(x1=x1, x2=x2, labels=labels) for k, (x1, x2, labels) in splits.items()}
    classes = int(max(s.labels["label"].max() for s in made.values())) + 1
    return MultimodalDataset(
        name=Path(path).stem,
        kind="vector",
        train=made["train"],
        val=made["val"],
        test=made["test"],
        num_classes={"label": classes},
        description=f"MultiBench affect data ({modalities[0]}, {modalities[1]})",
    )
