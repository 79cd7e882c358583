"""The results file of a run: one row per (task, method, seed, label), read and written safely.

Columns: :data:`REQUIRED_RESULT_COLUMNS` (every results file has them) and
:data:`OPTIONAL_RESULT_COLUMNS` (usable bits, intervals, soft PID; NaN when an older file lacks
them). ``dynamics.csv`` holds probe scores over training epochs (:data:`DYNAMICS_COLUMNS`).

``results.csv`` is what scripts read, so it is validated on the way in (a half-written or edited
file gets one clear error naming the problem) and written atomically on the way out
(:mod:`synergy_lab.files`), so an interrupted run never loses finished rows.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd

from synergy_lab.pid import PID

REQUIRED_RESULT_COLUMNS: tuple[str, ...] = (
    "task",
    "method",
    "seed",
    "label",
    "probe_accuracy",
    "pid_redundancy",
    "pid_unique1",
    "pid_unique2",
    "pid_synergy",
    "gt_redundancy",
    "gt_unique1",
    "gt_unique2",
    "gt_synergy",
    "train_seconds",
)
# Added later (issue 11): optional on read, filled with NaN for run folders written before them.
# Accuracies are fractions, *_bits and pid_* are bits; *_low/*_high are 95 % bootstrap bounds
# over test samples (pid_soft_*_low/high: the permutation-null range of the legacy corrected
# part, raw - null mean, which can be negative and is not reported as a part).
OPTIONAL_RESULT_COLUMNS: tuple[str, ...] = (
    "balanced_accuracy",
    "accuracy_low",
    "accuracy_high",
    "balanced_accuracy_low",
    "balanced_accuracy_high",
    "usable_bits",
    "usable_bits_low",
    "usable_bits_high",
    "captured",
    "n_test",
    "chance_accuracy",
    *(f"pid_soft_{p}" for p in PID.PARTS),
    *(f"pid_soft_{p}_corrected" for p in PID.PARTS),
    *(f"pid_soft_{p}_low" for p in PID.PARTS),
    *(f"pid_soft_{p}_high" for p in PID.PARTS),
    # added with the converged budget (issue 27): H(Y), the soft PID's permutation test, and
    # how each cell's training ended
    "label_entropy",
    *(f"pid_soft_{p}_null_mean" for p in PID.PARTS),
    *(f"pid_soft_{p}_null_q95" for p in PID.PARTS),
    *(f"pid_soft_{p}_p" for p in PID.PARTS),
    "steps",
    "stop_reason",
    "trained_on",
)
RESULT_COLUMNS: tuple[str, ...] = REQUIRED_RESULT_COLUMNS + OPTIONAL_RESULT_COLUMNS
DYNAMICS_COLUMNS: tuple[str, ...] = (
    "method",
    "seed",
    "epoch",
    "label",
    "accuracy",
    "usable_bits",
)
CURVE_COLUMNS: tuple[str, ...] = ("method", "seed", "step", "part", "value")
_TEXT_COLUMNS = {"task", "method", "label", "part"}
_OPTIONAL_TEXT_COLUMNS = {"stop_reason", "trained_on"}
_INT_COLUMNS = {"seed", "step", "epoch"}


class ResultsFileError(ValueError):
    """A results file that cannot be read as this toolkit wrote it."""


def _check_row_lengths(path: Path, text: str) -> None:
    """Every line has as many fields as the header: a cut-off last row is caught here."""
    rows = csv.reader(io.StringIO(text))
    header = next(rows, None)
    if not header:
        raise ResultsFileError(f"{path} is empty")
    for line, row in enumerate(rows, start=2):
        if row and len(row) != len(header):
            raise ResultsFileError(
                f"{path} line {line} has {len(row)} fields, the header {len(header)} "
                "(a half-written or edited file?)"
            )


def _read_table(
    path: Path, columns: tuple[str, ...], optional: tuple[str, ...] = ()
) -> pd.DataFrame:
    try:
        text = path.read_text(encoding="utf-8")
        _check_row_lengths(path, text)
        frame = pd.read_csv(io.StringIO(text))
    except (
        pd.errors.ParserError,
        pd.errors.EmptyDataError,
        UnicodeDecodeError,
        csv.Error,
    ) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ResultsFileError(f"{path} is not a readable CSV file ({first})") from None
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ResultsFileError(f"{path} lacks the columns {', '.join(missing)}")
    for column in optional:
        if column not in frame.columns:
            frame[column] = np.nan
    for column in (*columns, *optional):
        if column in _OPTIONAL_TEXT_COLUMNS:  # empty where it does not apply (or older files)
            frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
            continue
        if column in _TEXT_COLUMNS:
            if frame[column].isna().any():
                raise ResultsFileError(f"{path} has empty cells in column {column!r}")
            frame[column] = frame[column].astype(str)
            continue
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = values.isna() & frame[column].notna()
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0]) + 2  # 1-based, after the header
            raise ResultsFileError(
                f"{path} line {row}: column {column!r} holds {frame[column][bad].iloc[0]!r}, "
                "not a number"
            )
        if column in _INT_COLUMNS:
            if values.isna().any() or not np.all(values == np.round(values)):
                raise ResultsFileError(f"{path}: column {column!r} must hold integers")
            values = values.astype(np.int64)
        frame[column] = values
    return frame


def grid_columns(frame: pd.DataFrame) -> list[str]:
    """The grid keys of a sweep's results: the columns named ``section.field``."""
    return [c for c in frame.columns if "." in str(c)]


def read_results(path: Path) -> pd.DataFrame:
    """Read and validate a ``results.csv``; raises :class:`ResultsFileError` with one line."""
    path = Path(path)
    if not path.is_file():
        raise ResultsFileError(f"no results file at {path}")
    frame = _read_table(path, REQUIRED_RESULT_COLUMNS, OPTIONAL_RESULT_COLUMNS)
    extra = [c for c in frame.columns if c not in RESULT_COLUMNS]
    frame = frame[[*RESULT_COLUMNS, *extra]]
    duplicated = frame.duplicated(["task", "method", "seed", "label", *grid_columns(frame)])
    if duplicated.any():
        first = frame[duplicated].iloc[0]
        raise ResultsFileError(
            f"{path} has duplicate rows for method {first['method']!r}, seed {first['seed']}, "
            f"label {first['label']!r}"
        )
    blank = frame["probe_accuracy"].isna().to_numpy()
    if blank.any():
        line = int(np.flatnonzero(blank)[0]) + 2  # 1-based, after the header
        raise ResultsFileError(f"{path} line {line}: the probe_accuracy cell is empty")
    for column in ("probe_accuracy", "balanced_accuracy", "accuracy_low", "accuracy_high"):
        if not frame[column].dropna().between(0, 1).all():
            raise ResultsFileError(f"{path}: {column} must lie in [0, 1]")
    return frame


def read_dynamics(path: Path) -> pd.DataFrame:
    """Read and validate a ``dynamics.csv`` (probe accuracy and usable bits per epoch)."""
    return _read_table(Path(path), DYNAMICS_COLUMNS)


def read_curves(path: Path) -> pd.DataFrame:
    """Read and validate a ``curves.csv`` (training loss parts per logged step)."""
    return _read_table(Path(path), CURVE_COLUMNS)
