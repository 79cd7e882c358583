"""Markdown tables of a run's results: per-method metrics over seeds, the PID, pairwise tests.

Every number shown carries its interval and the count behind it: across seeds the mean ± sd and
the 95 % t-interval of the mean; between methods the mean difference paired by seed, its 95 %
t-interval and whether it excludes 0 (both from :mod:`synergy_lab.measure.seeds`). Input is a
results frame as :func:`synergy_lab.results.read_results` returns it (one row per task, method,
seed and label); fractions are in [0, 1], information in bits.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations

import numpy as np
import pandas as pd

from synergy_lab.measure import (
    ReferenceGate,
    holm_paired_differences,
    reference_gate,
    seed_summary,
)
from synergy_lab.pid import PID

REFERENCE_NOTE = (
    "`supervised` is a *reference*, not an upper bound: the same network trained with the labels "
    "of one label on the split the probes are fitted on."
)
METRICS: dict[str, str] = {
    "probe_accuracy": "accuracy",
    "balanced_accuracy": "balanced accuracy",
    "usable_bits": "usable bits",
}


def _ordered(values: pd.Series) -> list[str]:
    """Distinct values in order of first appearance (the order the run used)."""
    return list(dict.fromkeys(values.tolist()))


def _per_seed(frame: pd.DataFrame, method: str, label: str, column: str) -> pd.Series:
    cell = frame[(frame.method == method) & (frame.label == label)]
    return cell.groupby("seed")[column].mean()


def _mean_std(values: pd.Series, digits: int = 3) -> str:
    if values.isna().all():
        return "—"
    if len(values.dropna()) < 2:
        return f"{values.mean():.{digits}f}"
    return f"{values.mean():.{digits}f} ± {values.std(ddof=1):.{digits}f}"


#: Metrics that are fractions: their t-intervals are clipped to [0, 1] where shown.
FRACTION_METRICS = frozenset({"probe_accuracy", "balanced_accuracy"})


def _mean_sd_interval(values: pd.Series, digits: int = 3, fraction: bool = False) -> str:
    """'mean ± sd [low, high]' over seeds (t-interval of the mean, clipped to [0, 1] for a
    ``fraction``); 'mean' alone for one seed."""
    summary = seed_summary(values.to_numpy())
    if summary.n == 0:
        return "—"
    if summary.n < 2:
        return f"{summary.mean:.{digits}f} (1 seed)"
    low, high = summary.low, summary.high
    if fraction:
        low, high = max(low, 0.0), min(high, 1.0)
    return (
        f"{summary.mean:.{digits}f} ± {summary.sd:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"
    )


def to_markdown(table: pd.DataFrame, index: bool = True) -> str:
    """A pipe table (GitHub markdown) without the optional ``tabulate`` dependency."""
    frame = table.reset_index() if index else table
    header = [str(c) for c in frame.columns]
    rows = [[str(v) for v in row] for row in frame.itertuples(index=False)]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def accuracy_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Methods x labels table of probe test accuracy, 'mean ± std' over seeds."""
    methods, labels = _ordered(frame["method"]), _ordered(frame["label"])
    cells = {
        label: [
            _mean_std(frame[(frame.method == m) & (frame.label == label)]["probe_accuracy"])
            for m in methods
        ]
        for label in labels
    }
    table = pd.DataFrame(cells, index=methods)
    table["seeds"] = [frame[frame.method == m]["seed"].nunique() for m in methods]
    table["train s"] = [
        f"{frame[frame.method == m].groupby('seed')['train_seconds'].first().mean():.1f}"
        for m in methods
    ]
    table.index.name = "method"
    return table


def metric_table(frame: pd.DataFrame, column: str, digits: int = 3) -> pd.DataFrame:
    """Methods x labels: 'mean ± sd [95 % t-interval of the mean]' of ``column`` over seeds."""
    methods, labels = _ordered(frame["method"]), _ordered(frame["label"])
    cells = {
        label: [
            _mean_sd_interval(
                _per_seed(frame, m, label, column), digits, fraction=column in FRACTION_METRICS
            )
            for m in methods
        ]
        for label in labels
    }
    table = pd.DataFrame(cells, index=methods)
    table["seeds"] = [frame[frame.method == m]["seed"].nunique() for m in methods]
    table.index.name = "method"
    return table


def ground_truth_table(frame: pd.DataFrame) -> pd.DataFrame:
    """The exact PID (bits) of each label, stated once per label; empty if unknown."""
    rows = []
    for label in _ordered(frame["label"]):
        values = frame[frame.label == label][[f"gt_{p}" for p in PID.PARTS]].mean()
        if values.isna().all():
            continue
        row: dict[str, object] = {"label": label}
        row.update({p: f"{values[f'gt_{p}']:.3f}" for p in PID.PARTS})
        row["I(X1,X2;Y)"] = f"{values.sum():.3f}"
        rows.append(row)
    return pd.DataFrame(rows)


def _pid_prefix(frame: pd.DataFrame) -> str:
    """The soft-prediction PID's raw parts (bits, >= 0) when the file has them, else the
    hard-prediction PID. (The null-subtracted parts of older files are never shown: they can be
    negative, an impossible value for a PID part.)"""
    column = "pid_soft_synergy"
    has_soft = column in frame.columns and frame[column].notna().any()
    return "pid_soft_{}" if has_soft else "pid_{}"


def synergy_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Per method and label: the model-level PID (bits), mean ± sd over seeds.

    The soft-prediction PID's raw parts where results.csv has them, each followed by how many
    seeds' permutation test put it above chance ("[3/3]": p <= 0.05 in 3 of 3 seeds) where the
    file has the p-values; else (older files) the PID of the hard predictions. The ground
    truth is :func:`ground_truth_table`.
    """
    pattern = _pid_prefix(frame)
    rows = []
    for method in _ordered(frame["method"]):
        for label in _ordered(frame["label"]):
            cell = frame[(frame.method == method) & (frame.label == label)]
            if cell.empty:
                continue
            row = {"method": method, "label": label}
            for part in PID.PARTS:
                row[part] = _mean_std(cell[pattern.format(part)])
                p_column = f"pid_soft_{part}_p"
                if pattern == "pid_soft_{}" and p_column in cell and cell[p_column].notna().any():
                    p_values = cell[p_column].dropna()
                    row[part] += f" [{int((p_values <= 0.05).sum())}/{len(p_values)}]"
            rows.append(row)
    return pd.DataFrame(rows)


#: Seeds below which the summary says a difference of a few points cannot be detected: with 3
#: seeds a paired comparison finds a 5-point accuracy difference only about 38 % of the time
#: (benchmarks/calibration.py, reports/figures/calibration.png).
FEW_SEEDS = 5


def pairwise_tables(
    frame: pd.DataFrame,
    labels: list[str],
    column: str = "probe_accuracy",
    digits: int = 3,
    pairs: Sequence[tuple[str, str]] | None = None,
) -> tuple[dict[str, pd.DataFrame], int]:
    """Every pair of methods on each of ``labels``, Holm-adjusted over that whole family.

    The family is every pair x every label given (m comparisons with >= 2 seeds, returned with
    the tables); ``pairs`` (A, B) narrows it to the comparisons named, e.g. each variant against
    one default, fixed before the results are read. Per pair: mean of (A - B) over shared seeds,
    its interval at the level Holm's
    step-down gives it (so it excludes 0 exactly when the Holm-adjusted p < 0.05), that p, and
    whether it excludes 0 ("—" below 2 seeds; "spread 0 over n seeds: not estimable" when every
    seed's difference is the same: a zero-width interval from a few seeds says nothing).
    """
    for label in labels:
        if label not in set(frame["label"]):
            raise ValueError(
                f"label {label!r} is not in the results; labels: {_ordered(frame.label)}"
            )
    if column not in frame.columns:
        raise ValueError(f"no column {column!r} in the results")
    methods = _ordered(frame["method"])
    if pairs is None:
        pairs = list(combinations(methods, 2))
    for a, b in pairs:
        missing = [m for m in (a, b) if m not in methods]
        if missing or a == b:
            what = f"method {missing[0]!r} is not in the results" if missing else "A equals B"
            raise ValueError(f"pair ({a!r}, {b!r}): {what}; methods: {', '.join(methods)}")
    tests = [(label, a, b) for label in labels for a, b in pairs]
    family = {
        f"{label}|{a}|{b}": (
            _per_seed(frame, a, label, column).to_dict(),
            _per_seed(frame, b, label, column).to_dict(),
        )
        for label, a, b in tests
    }
    if len(family) < len(tests):
        raise ValueError("a pair is named twice")
    tested = holm_paired_differences(family)
    size = sum(1 for c in tested.values() if c.n >= 2)
    tables: dict[str, list[dict[str, object]]] = {label: [] for label in labels}
    for label, a, b in tests:
        diff = tested[f"{label}|{a}|{b}"]
        enough = diff.n >= 2
        flat = enough and diff.sd <= 1e-12 * max(1.0, abs(diff.mean))
        verdict = ("yes" if diff.excludes_zero else "no") if enough else "—"
        tables[label].append(
            {
                "A": a,
                "B": b,
                "seeds": diff.n,
                "mean diff (A - B)": f"{diff.mean:+.{digits}f}" if diff.n else "—",
                "Holm interval": (
                    f"[{diff.low:+.{digits}f}, {diff.high:+.{digits}f}]"
                    if enough and not flat
                    else "—"
                ),
                "p (Holm)": f"{diff.p_holm:.3g}" if enough and not flat else "—",
                "excludes 0": (f"spread 0 over {diff.n} seeds: not estimable" if flat else verdict),
            }
        )
    return {label: pd.DataFrame(rows) for label, rows in tables.items()}, size


def pairwise_table(
    frame: pd.DataFrame, label: str, column: str = "probe_accuracy", digits: int = 3
) -> pd.DataFrame:
    """Every pair of methods on ``label`` (the family: those pairs), see :func:`pairwise_tables`."""
    return pairwise_tables(frame, [label], column, digits)[0][label]


def reference_gates(frame: pd.DataFrame) -> dict[str, ReferenceGate]:
    """Per label the supervised reference was trained on (every label for ``label = "all"``):
    did it learn it (its accuracy's t-interval over seeds above chance)? Empty without a
    reference, or in files that predate the ``trained_on`` column."""
    if "trained_on" not in frame.columns:
        return {}
    trained_on = (frame.label == frame.trained_on) | (frame.trained_on == "all")
    reference = frame[(frame.method == "supervised") & trained_on]
    gates = {}
    for label, rows in reference.groupby("label", sort=False):
        accuracies = rows.groupby("seed")["probe_accuracy"].mean().to_numpy()
        chance = float(rows["chance_accuracy"].mean())
        if len(accuracies) >= 2 and np.isfinite(chance):
            gates[str(label)] = reference_gate(chance, seed_accuracies=accuracies)
        elif len(accuracies) == 1 and {"accuracy_low", "accuracy_high"} <= set(rows.columns):
            interval = (float(rows["accuracy_low"].iloc[0]), float(rows["accuracy_high"].iloc[0]))
            gates[str(label)] = reference_gate(chance, interval=interval)
    return gates


def training_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Per method: optimiser steps per model (mean, range over cells) and how training ended."""
    if "steps" not in frame.columns or not frame["steps"].notna().any():
        return pd.DataFrame()
    cells = frame.drop_duplicates(["method", "seed", "steps", "stop_reason"])
    rows = []
    for method in _ordered(cells["method"]):
        part = cells[cells.method == method]
        steps = part["steps"].dropna()
        reasons = part["stop_reason"].fillna("?").value_counts()
        rows.append(
            {
                "method": method,
                "models": len(part),
                "steps, mean (range)": (
                    f"{steps.mean():.0f} ({steps.min():.0f}-{steps.max():.0f})"
                    if len(steps)
                    else "—"
                ),
                "ended": ", ".join(f"{reason} {count}" for reason, count in reasons.items()),
            }
        )
    return pd.DataFrame(rows)


def _heading(frame: pd.DataFrame, title: str) -> str:
    task = ", ".join(_ordered(frame["task"]))
    return title or f"{task}: {', '.join(_ordered(frame['method']))}"


def probe_title(kind: str) -> str:
    """How a probe kind is named in headings and axes: 'linear' -> 'Linear-probe'."""
    return {"linear": "Linear-probe", "mlp": "MLP-probe"}.get(kind, f"{kind}-probe")


#: Bits by which a label's I(X1, X2; Y) must fall short of H(Y) for `captured` to be shown.
CAPTURED_TOLERANCE = 0.01


def label_entropy(frame: pd.DataFrame) -> pd.Series:
    """Per label, H(Y) (bits): the ``label_entropy`` column where results.csv records it (the
    test labels' entropy); in older files the larger of the ground truth's I(X1, X2; Y) and
    -log2(chance accuracy), both lower bounds of H(Y) (exact for a label that (X1, X2) determine
    and for a balanced label). NaN if neither."""
    if "label_entropy" in frame.columns and frame["label_entropy"].notna().all():
        return frame.groupby("label", sort=False)["label_entropy"].mean()
    truth = frame.groupby("label", sort=False)[[f"gt_{p}" for p in PID.PARTS]].mean()
    total = truth.sum(axis=1, min_count=len(PID.PARTS))
    chance = frame.groupby("label", sort=False)["chance_accuracy"].mean()
    balanced = -np.log2(chance.where(chance > 0))
    return pd.concat([total, balanced], axis=1).max(axis=1)


def captured_says_more(frame: pd.DataFrame) -> bool:
    """Whether `captured` (usable bits / I(X1, X2; Y)) differs from usable bits / H(Y): some
    label's I(X1, X2; Y) is more than :data:`CAPTURED_TOLERANCE` bits below H(Y)."""
    if not frame["captured"].notna().any():
        return False
    truth = frame.groupby("label", sort=False)[[f"gt_{p}" for p in PID.PARTS]].mean()
    total = truth.sum(axis=1, min_count=len(PID.PARTS))
    gap = label_entropy(frame) - total
    return bool((gap > CAPTURED_TOLERANCE).any())


def markdown_summary(frame: pd.DataFrame, title: str = "", probe: str = "linear") -> str:
    """The run's tables as markdown: what was measured, on how many samples and seeds.

    ``probe`` is the probe kind the accuracies come from (linear or mlp; see folders.probe_kind).
    """
    seeds = sorted(frame["seed"].unique().tolist())
    n_test = frame["n_test"].dropna()
    size = f"n = {int(n_test.iloc[0])} test samples per cell" if len(n_test) else "n not recorded"
    has_new = frame["usable_bits"].notna().any()
    lines = [f"# {_heading(frame, title)}", ""]
    lines += [
        f"Task: `{', '.join(_ordered(frame['task']))}`; {size}; {len(seeds)} seed(s) "
        f"({', '.join(map(str, seeds))}). Cells read 'mean ± sd [95 % t-interval of the mean]' "
        "over seeds (accuracy intervals clipped to [0, 1]); per-cell 95 % bootstrap intervals "
        "over test samples are in results.csv "
        "(`*_low`, `*_high`). "
        + REFERENCE_NOTE
        + ("" if has_new else " (Runs written before that change trained it on the train split.)"),
        "",
        f"## {probe_title(probe)} test accuracy",
        "",
        to_markdown(metric_table(frame, "probe_accuracy")),
        "",
    ]
    if has_new:
        lines += [
            "## Balanced accuracy",
            "",
            to_markdown(metric_table(frame, "balanced_accuracy")),
            "",
            "## Usable information (bits)",
            "",
            "The probe's predictive information H(Y) - CE_test (Xu et al., ICLR 2020): 0 for a",
            "representation the probe cannot use. `captured` = usable bits / I(X1, X2; Y).",
            "",
            to_markdown(metric_table(frame, "usable_bits")),
            "",
        ]
        if captured_says_more(frame):  # where I(X1, X2; Y) = H(Y) it repeats usable bits
            lines += ["Captured fraction:", "", to_markdown(metric_table(frame, "captured")), ""]
    else:
        lines += ["(This results file predates usable bits and intervals; rerun to get them.)", ""]
    truth = ground_truth_table(frame)
    if not truth.empty:
        lines += ["## Ground-truth PID of each label (bits)", "", to_markdown(truth, False), ""]
    soft = _pid_prefix(frame) != "pid_{}"
    lines += [
        "## Model-level PID (bits, mean ± sd over seeds)",
        "",
        (
            "PID of p(code 1, code 2, y) built from the probe's soft predictions (raw parts,"
            " never negative), each tested against 20+ shuffles of the predictions: [k/n] is in"
            " how many of n seeds the part lies above its permutation null (one-sided p <= 0.05)."
            " It says which kind of information about the latent codes the predictions carry,"
            " not how much of the label the representation captured (that is usable bits)."
            if soft
            else "PID of the empirical table (code 1, code 2, predicted label), uncorrected."
        ),
        "",
        to_markdown(synergy_table(frame), index=False),
        "",
    ]
    lines += _training_lines(frame)
    lines += _comparison_lines(frame, ["probe_accuracy"] + (["usable_bits"] if has_new else []))
    return "\n".join(lines)


def _training_lines(frame: pd.DataFrame) -> list[str]:
    """The training section: steps per model and how training ended, cap flags."""
    table = training_table(frame)
    if table.empty:
        return []
    lines = ["## Training", "", to_markdown(table, index=False), ""]
    capped = sorted(set(frame.loc[frame["stop_reason"] == "cap", "method"]))
    if capped:
        lines += [
            f"Still learning at the cap: {', '.join(capped)} (the converged budget's max_epochs "
            "ended their training before the held-out loss stopped improving).",
            "",
        ]
    return lines


def _comparison_lines(frame: pd.DataFrame, metrics: list[str]) -> list[str]:
    """Pairwise comparisons, Holm-adjusted over every pair x label of each metric's table, with
    the reference gate: a label the reference did not learn gets no ranking."""
    labels = _ordered(frame["label"])
    gates = reference_gates(frame)
    blocked = [label for label in labels if label in gates and not gates[label].learned]
    ranked = [label for label in labels if label not in blocked]
    n_seeds = int(frame.groupby("method")["seed"].nunique().min())
    lines = ["## Pairwise comparisons (paired by seed)", ""]
    for label in blocked:
        gate = gates[label]
        lines += [
            f"**{label} is not learned at this budget**: the supervised reference's accuracy "
            f"[{gate.low:.3f}, {gate.high:.3f}] holds chance ({gate.chance:.3f}), so no method "
            "is ranked on it.",
            "",
        ]
    if not gates:
        lines += ["No supervised reference trained on a label here: rankings are not gated.", ""]
    if n_seeds < FEW_SEEDS:
        lines += [
            f"With {n_seeds} seed(s) a difference of a few points cannot be detected (with 3 "
            "seeds a 5-point accuracy difference is found about 38 % of the time: "
            f"benchmarks/calibration.py); use {FEW_SEEDS} or more seeds to compare methods.",
            "",
        ]
    for metric in metrics:
        if not ranked:
            break
        tables, size = pairwise_tables(frame, ranked, metric)
        lines += [
            f"Mean difference A - B of {METRICS[metric]} over the seeds both methods ran; "
            f"Holm-adjusted over the family of every pair x label of this metric ({size} "
            "comparisons): its interval excludes 0 exactly when the adjusted p < 0.05.",
            "",
        ]
        for label in ranked:
            lines += [f"### {label}: {METRICS[metric]}", "", to_markdown(tables[label], False), ""]
    return lines
