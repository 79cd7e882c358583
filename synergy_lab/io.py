"""Readers for users' own files: one place for what each command accepts and how it is checked.

Which reader serves which command:

* ``synergy-lab pid FILE``: :func:`read_pid_table`, a table p[x1, x2, y] from a ``.npy`` array,
  a ``.csv`` with columns x1, x2, y, p, or a ``.csv`` of discrete samples x1, x2, y.
* ``synergy-lab analyze DATA``: :func:`read_user_data`, a ``.npz`` / ``.csv`` / ``.parquet`` of
  two modalities with integer labels and real-valued targets (:class:`UserData`).
* ``synergy-lab run --data DATA``: :func:`synthetic.readers.from_npz`, re-exported here. It and
  the ``.npz`` checks used by :func:`read_user_data` (``load_npz_arrays``, ``check_features``,
  ``check_label``) live in :mod:`synthetic.readers` so that ``synthetic`` stays numpy-only and
  usable without ``synergy_lab``; this module calls them rather than repeating them.

Every reader raises one ``ValueError`` line naming the problem (a missing file, array or
column, mismatched lengths, NaN, labels that are not integers); the CLI prints it as its error.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from synthetic.readers import (
    NPZ_RESERVED,
    check_features,
    check_label,
    from_multibench_affect,
    from_npz,
    load_npz_arrays,
)

# ---------------------------------------------------------------------- pid: probability tables


def read_pid_table(path: str | Path, normalize: bool) -> np.ndarray:
    """A probability table p[x1, x2, y] (3-D array) from a .npy array or a .csv with columns
    x1,x2,y,p, or the empirical table of a .csv of discrete samples with columns x1,x2,y (read
    by name). Unless ``normalize``, a finite nonnegative 3-D table must sum to 1."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"no file at {path}")
    if path.suffix == ".npy":
        try:
            table = np.load(path, allow_pickle=False)
        except ValueError:
            raise ValueError(
                f"{path} is not a .npy table of numbers (it holds Python objects or is not "
                "a .npy file at all)"
            ) from None
        except OSError as error:
            raise ValueError(f"{path} is not a readable .npy file ({error})") from None
    elif path.suffix == ".csv":
        table = _csv_table(path)
    else:
        raise ValueError(f"{path}: expected a .npy table or a .csv file")
    if not np.issubdtype(table.dtype, np.number) or table.dtype == np.bool_:
        raise ValueError(f"{path} holds {table.dtype} values, not probabilities")
    if table.ndim == 3 and np.all(np.isfinite(table)) and np.all(table >= 0) and not normalize:
        total = float(table.sum())
        if abs(total - 1.0) > 1e-9:
            raise ValueError(
                f"{path}: the table sums to {total:.12g}, not 1; add --normalize to rescale it"
            )
    return table


def _csv_table(path: Path) -> np.ndarray:
    """The table of a .csv read by column name: p summed per (x1, x2, y), or sample counts / n."""
    try:
        frame = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise ValueError(f"{path} is not a readable CSV file ({error})") from None
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    names = ["x1", "x2", "y"]
    missing = [c for c in names if c not in frame.columns]
    if missing:
        raise ValueError(
            f"{path}: needs columns named x1, x2, y (and p for a probability table); "
            f"missing {', '.join(missing)}; found {', '.join(frame.columns) or 'none'}"
        )
    extra = sorted(set(frame.columns) - {*names, "p"})
    if extra:
        raise ValueError(f"{path}: unexpected column {extra[0]!r}; expected x1, x2, y and p")
    if frame[[*names, *(["p"] if "p" in frame.columns else [])]].isna().any().any():
        raise ValueError(f"{path} has empty cells")
    if frame.empty:
        raise ValueError(f"{path} holds no rows")
    codes = [pd.factorize(frame[c], sort=True)[0] for c in names]
    shape = tuple(int(c.max()) + 1 for c in codes)
    if "p" not in frame.columns:
        table = np.zeros(shape)
        np.add.at(table, (codes[0], codes[1], codes[2]), 1.0)
        return table / table.sum()
    p = pd.to_numeric(frame["p"], errors="coerce").to_numpy()
    if np.isnan(p).any():
        raise ValueError(f"{path}: column p holds non-numbers")
    table = np.zeros(shape)
    np.add.at(table, (codes[0], codes[1], codes[2]), p)
    return table


# ---------------------------------------------------------------------- analyze: user datasets


@dataclass(frozen=True)
class UserData:
    """A user's dataset: modalities (n, d1), (n, d2), int labels and real-valued targets
    (each (n,) or (n, k))."""

    x1: np.ndarray
    x2: np.ndarray
    labels: dict[str, np.ndarray]
    targets: dict[str, np.ndarray]

    @property
    def n(self) -> int:
        return int(self.x1.shape[0])


def _read_table(path: Path) -> pd.DataFrame:
    if path.suffix == ".csv":
        try:
            return pd.read_csv(path)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
            raise ValueError(f"{path} is not a readable CSV file ({error})") from None
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise ValueError(
            "reading Parquet needs pyarrow: pip install 'synergy-lab[parquet]' (or save as .csv)"
        ) from None
    try:
        return pd.read_parquet(path)
    except (OSError, ValueError) as error:
        raise ValueError(f"{path} is not a readable Parquet file ({error})") from None


def read_user_data(path: str | Path, continuous: Iterable[str] = ()) -> UserData:
    """Load and check ``.npz`` / ``.csv`` / ``.parquet`` data (see the module docstring).

    ``continuous`` names real-valued targets; every other label must hold integer classes.
    One ValueError line names any problem (missing arrays or columns, mismatched lengths, NaN,
    labels that are not integers).
    """
    path = Path(path)
    wanted = set(continuous)
    if not path.is_file():
        raise ValueError(f"no file at {path}")
    if path.suffix == ".npz":
        arrays = load_npz_arrays(path)
        x1 = check_features("x1", arrays["x1"])
        x2 = check_features("x2", arrays["x2"], x1.shape[0])
        x1 = x1.reshape(x1.shape[0], -1)
        x2 = x2.reshape(x2.shape[0], -1)
        raw_labels = {k: v for k, v in arrays.items() if k not in NPZ_RESERVED}
    elif path.suffix in (".csv", ".parquet", ".pq"):
        frame = _read_table(path)
        cols1 = [c for c in frame.columns if str(c).startswith("x1_")]
        cols2 = [c for c in frame.columns if str(c).startswith("x2_")]
        for name, cols in (("x1_", cols1), ("x2_", cols2)):
            if not cols:
                raise ValueError(f"{path} has no {name}* columns (modality {name[:2]})")
        for column in frame.columns:
            if frame[column].isna().any():
                raise ValueError(f"{path}: column {column!r} has empty or NaN cells")
        numeric = frame[cols1 + cols2].apply(pd.to_numeric, errors="coerce")
        bad = [c for c in numeric.columns if numeric[c].isna().any()]
        if bad:
            raise ValueError(f"{path}: column {bad[0]!r} holds non-numbers")
        x1 = check_features("x1", numeric[cols1].to_numpy())
        x2 = check_features("x2", numeric[cols2].to_numpy(), x1.shape[0])
        grouped: dict[str, np.ndarray] = {}
        for name in sorted(wanted - {str(c) for c in frame.columns}):
            cols = [c for c in frame.columns if str(c).startswith(f"{name}_")]
            if cols:  # a vector target spread over columns name_0, name_1, ...
                values = frame[cols].apply(pd.to_numeric, errors="coerce").to_numpy()
                if np.isnan(values).any():
                    raise ValueError(f"{path}: target {name!r} columns hold non-numbers")
                grouped[name] = values
        taken = {c for c in frame.columns if any(str(c).startswith(f"{g}_") for g in grouped)}
        raw_labels = {
            str(c): frame[c].to_numpy() for c in frame.columns if c not in cols1 + cols2 + [*taken]
        }
        raw_labels.update(grouped)
        if not raw_labels:
            raise ValueError(f"{path} has no label column (columns other than x1_*, x2_*)")
    else:
        raise ValueError(f"{path}: expected a .npz, .csv or .parquet file")
    missing = sorted(wanted - set(raw_labels))
    if missing:
        raise ValueError(f"continuous target {missing[0]!r} is not in {path}")
    n = x1.shape[0]
    labels: dict[str, np.ndarray] = {}
    targets: dict[str, np.ndarray] = {}
    for name, values in raw_labels.items():
        if name in wanted:
            target = np.asarray(values)
            if target.ndim not in (1, 2) or target.shape[0] != n or target.size == 0:
                raise ValueError(f"target {name!r} must be (n,) or (n, k) with {n} rows")
            if not np.issubdtype(target.dtype, np.number):
                raise ValueError(f"target {name!r} must be numeric; got dtype {target.dtype}")
            if not np.all(np.isfinite(target)):
                raise ValueError(f"target {name!r} contains NaN or infinite values")
            targets[name] = target.astype(np.float64)
        else:
            try:
                checked = check_label(name, values, n)
            except ValueError as error:
                if "non-integer" in str(error):
                    raise ValueError(
                        f"{error} (name real-valued targets with --continuous {name})"
                    ) from None
                raise
            labels[name] = np.unique(checked, return_inverse=True)[1].astype(np.int64)
    if n < 20:
        raise ValueError(f"{path} holds {n} rows; the estimators need at least 20")
    return UserData(x1=x1, x2=x2, labels=labels, targets=targets)


__all__ = [
    "UserData",
    "from_multibench_affect",
    "from_npz",
    "read_pid_table",
    "read_user_data",
]
