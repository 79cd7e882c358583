"""Tables and figures from a results file: what a reader looks at after a run.

Everything here reads the validated ``results.csv`` / ``curves.csv`` / ``dynamics.csv`` of a run
folder, so a report can be redrawn at any time (``synergy-lab report DIR``) without retraining.
Every number shown carries its interval and the count behind it: across seeds the mean ± sd and
the 95 % t-interval of the mean; between methods the mean difference paired by seed, its 95 %
t-interval and whether it excludes 0 (:mod:`synergy_lab.measure`). One fixed colour per method
in every figure (:func:`method_colour`).
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from synergy_lab.measure import paired_difference, seed_summary  # noqa: E402
from synergy_lab.pid import PID  # noqa: E402
from synergy_lab.results import (  # noqa: E402
    ResultsFileError,
    atomic_write_text,
    read_curves,
    read_dynamics,
    read_results,
)

FIGURES: tuple[str, ...] = ("accuracy.png", "usable.png", "pid.png", "curves.png", "dynamics.png")
REFERENCE_NOTE = (
    "`supervised` is a *reference*, not an upper bound: the same network trained with the labels "
    "of one label on the split the probes are fitted on."
)
# One colour per method in every figure (tab10 order); unknown methods get the next free ones.
_PALETTE: dict[str, str] = {
    "random": "#7f7f7f",
    "supervised": "#000000",
    "clip": "#d62728",
    "crossself": "#ff7f0e",
    "factorcl": "#8c564b",
    "comm": "#1f77b4",
    "infmasking": "#2ca02c",
    "coral": "#9467bd",
}
_SPARE = ("#e377c2", "#bcbd22", "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#c5b0d5")
METRICS: dict[str, str] = {
    "probe_accuracy": "accuracy",
    "balanced_accuracy": "balanced accuracy",
    "usable_bits": "usable bits",
}


def method_colour(method: str) -> str:
    """The fixed colour of ``method`` (the same in every figure of every run)."""
    if method in _PALETTE:
        return _PALETTE[method]
    return _SPARE[sum(map(ord, method)) % len(_SPARE)]


def method_display(method: str) -> str:
    """How a method is named in legends: the supervised bound is called a reference."""
    return "supervised (reference)" if method == "supervised" else method


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
    """Methods x labels table of linear-probe test accuracy, 'mean ± std' over seeds."""
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
    """The soft, null-corrected PID when the file has it, else the hard-prediction PID."""
    column = "pid_soft_synergy_corrected"
    return "pid_soft_{}_corrected" if frame[column].notna().any() else "pid_{}"


def synergy_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Per method and label: the model-level PID (bits), mean ± sd over seeds.

    The soft-prediction PID corrected by its permutation null where results.csv has it, else
    (older files) the PID of the hard predictions. The ground truth is :func:`ground_truth_table`.
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
            rows.append(row)
    return pd.DataFrame(rows)


def pairwise_table(
    frame: pd.DataFrame, label: str, column: str = "probe_accuracy", digits: int = 3
) -> pd.DataFrame:
    """Every pair of methods on ``label``: mean of (A - B) over shared seeds, 95 % t-interval.

    Columns: A, B, seeds, mean diff, 95% interval, excludes 0 ("yes" / "no"; "—" below 2 seeds).
    """
    if label not in set(frame["label"]):
        raise ValueError(f"label {label!r} is not in the results; labels: {_ordered(frame.label)}")
    if column not in frame.columns:
        raise ValueError(f"no column {column!r} in the results")
    methods = _ordered(frame["method"])
    rows = []
    for a, b in combinations(methods, 2):
        diff = paired_difference(
            _per_seed(frame, a, label, column).to_dict(),
            _per_seed(frame, b, label, column).to_dict(),
        )
        enough = diff.n >= 2
        rows.append(
            {
                "A": a,
                "B": b,
                "seeds": diff.n,
                "mean diff (A - B)": f"{diff.mean:+.{digits}f}" if diff.n else "—",
                "95% interval": (
                    f"[{diff.low:+.{digits}f}, {diff.high:+.{digits}f}]" if enough else "—"
                ),
                "excludes 0": ("yes" if diff.excludes_zero else "no") if enough else "—",
            }
        )
    return pd.DataFrame(rows)


def _heading(frame: pd.DataFrame, title: str) -> str:
    task = ", ".join(_ordered(frame["task"]))
    return title or f"{task}: {', '.join(_ordered(frame['method']))}"


def markdown_summary(frame: pd.DataFrame, title: str = "") -> str:
    """The run's tables as markdown: what was measured, on how many samples and seeds."""
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
        "## Linear-probe test accuracy",
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
        if frame["captured"].notna().any():
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
            "PID of p(code 1, code 2, y) built from the probe's soft predictions, minus the mean"
            " PID of 20+ shuffles of the predictions (the chance level at this n). It says which"
            " kind of information about the latent codes the predictions carry, not how much of"
            " the label the representation captured (that is usable bits)."
            if soft
            else "PID of the empirical table (code 1, code 2, predicted label), uncorrected."
        ),
        "",
        to_markdown(synergy_table(frame), index=False),
        "",
        "## Pairwise comparisons (paired by seed)",
        "",
        "Mean difference A - B over the seeds both methods ran, its 95 % t-interval, and whether",
        "it excludes 0. With few seeds the intervals are wide; see benchmarks/calibration.py for",
        "how often this flags a difference that is not there and finds one that is.",
        "",
    ]
    metrics = ["probe_accuracy"] + (["usable_bits"] if has_new else [])
    for label in _ordered(frame["label"]):
        for metric in metrics:
            lines += [
                f"### {label}: {METRICS[metric]}",
                "",
                to_markdown(pairwise_table(frame, label, metric), index=False),
                "",
            ]
    return "\n".join(lines)


# ---------------------------------------------------------------------- figures


def _interval(values: pd.Series) -> tuple[float, float, float]:
    """(mean, low, high) over seeds: the t-interval of the mean; NaN bounds below 2 seeds."""
    summary = seed_summary(values.to_numpy())
    if summary.n >= 2:
        return summary.mean, summary.low, summary.high
    return summary.mean, float("nan"), float("nan")


def _legend_outside(ax: plt.Axes, **kwargs: object) -> None:
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), **kwargs)


def _bar_panel(
    ax: plt.Axes,
    frame: pd.DataFrame,
    column: str,
    labels: Sequence[str],
    methods: Sequence[str],
    bounds: tuple[float, float] | None,
) -> None:
    """Grouped bars per label, one per method, with the interval of the mean over seeds."""
    width = 0.8 / max(1, len(methods))
    for j, method in enumerate(methods):
        xs, means, lows, highs = [], [], [], []
        for i, label in enumerate(labels):
            per_seed = _per_seed(frame, method, label, column)
            mean, low, high = _interval(per_seed)
            if per_seed.size == 1:  # one seed: the cell's bootstrap interval, if recorded
                cell = frame[(frame.method == method) & (frame.label == label)].iloc[0]
                prefix = "accuracy" if column == "probe_accuracy" else column
                low = float(cell.get(f"{prefix}_low", np.nan))
                high = float(cell.get(f"{prefix}_high", np.nan))
            if bounds is not None:
                low, high = max(low, bounds[0]), min(high, bounds[1])
            xs.append(i - 0.4 + width * (j + 0.5))
            means.append(mean)
            lows.append(mean - low if np.isfinite(low) else 0.0)
            highs.append(high - mean if np.isfinite(high) else 0.0)
        ax.bar(
            xs,
            means,
            width,
            color=method_colour(method),
            label=method_display(method),
            yerr=np.array([np.maximum(lows, 0), np.maximum(highs, 0)]),
            capsize=2,
            error_kw={"lw": 0.8},
        )
    ax.set_xticks(range(len(labels)), labels)


def _count_note(frame: pd.DataFrame) -> str:
    seeds = frame["seed"].nunique()
    n_test = frame["n_test"].dropna()
    n = f"n = {int(n_test.iloc[0])} test samples" if len(n_test) else "n not recorded"
    bar = "95% t-interval of the mean" if seeds >= 2 else "95% bootstrap interval"
    return f"{seeds} seed(s), {n}; bars: {bar}"


def plot_accuracy(frame: pd.DataFrame, path: Path) -> None:
    """Bars: probe accuracy per label per method with intervals in [0, 1] and the chance line."""
    labels, methods = _ordered(frame["label"]), _ordered(frame["method"])
    fig, ax = plt.subplots(figsize=(3.2 + 1.2 * len(labels), 3.8))
    _bar_panel(ax, frame, "probe_accuracy", labels, methods, (0.0, 1.0))
    chance = frame.groupby("label")["chance_accuracy"].mean()
    chance_label = "chance (constant predictor)"
    if chance.isna().all():  # older files: 2^-H(Y) from the ground truth (exact if balanced)
        total = frame.groupby("label")[[f"gt_{p}" for p in PID.PARTS]].mean().sum(axis=1)
        chance = 2.0 ** -total.where(total > 0)
        chance_label = "chance ≈ 2^-H(Y) (ground truth)"
    for i, label in enumerate(labels):
        value = chance.get(label, np.nan)
        if np.isfinite(value):
            ax.hlines(value, i - 0.45, i + 0.45, colors="k", linestyles=":", lw=1.0)
    ax.plot([], [], "k:", lw=1.0, label=chance_label)
    ax.set(ylim=(0, 1.02), ylabel="linear-probe test accuracy", xlabel="label")
    ax.set_title(f"Task {', '.join(_ordered(frame['task']))}: accuracy ({_count_note(frame)})")
    ax.title.set_fontsize(9)
    _legend_outside(ax, title="method")
    fig.tight_layout()
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)


def plot_usable(frame: pd.DataFrame, path: Path) -> None:
    """Bars: usable bits per label per method with intervals, beside I(X1, X2; Y) where known."""
    labels, methods = _ordered(frame["label"]), _ordered(frame["method"])
    fig, ax = plt.subplots(figsize=(3.2 + 1.2 * len(labels), 3.8))
    _bar_panel(ax, frame, "usable_bits", labels, methods, None)
    total = frame.groupby("label")[[f"gt_{p}" for p in PID.PARTS]].mean().sum(axis=1, min_count=4)
    for i, label in enumerate(labels):
        value = total.get(label, np.nan)
        if np.isfinite(value):
            ax.hlines(value, i - 0.45, i + 0.45, colors="k", linestyles="--", lw=1.0)
    ax.plot([], [], "k--", lw=1.0, label="I(X1, X2; Y) (ground truth)")
    ax.axhline(0, color="k", lw=0.6)
    ax.set(ylabel="usable information (bits)", xlabel="label")
    ax.set_title(f"Task {', '.join(_ordered(frame['task']))}: usable bits ({_count_note(frame)})")
    ax.title.set_fontsize(9)
    _legend_outside(ax, title="method")
    fig.tight_layout()
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)


def plot_pid(frame: pd.DataFrame, path: Path) -> None:
    """One panel per label: each PID part per method with its interval, ground truth as marks."""
    labels, methods = _ordered(frame["label"]), _ordered(frame["method"])
    pattern = _pid_prefix(frame)
    long = frame.copy()
    ncols = min(len(labels), 2 if len(labels) == 4 else 3)
    nrows = -(-len(labels) // ncols)
    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=(ncols * (1.6 + 0.45 * len(methods)) + 1.8, nrows * 3.2),
        squeeze=False,
    )
    for ax in axes.flat[len(labels) :]:
        ax.axis("off")
    for ax, label in zip(axes.flat, labels, strict=False):
        sub = long[long.label == label]
        parts = pd.DataFrame(
            {
                "method": sub["method"],
                "seed": sub["seed"],
                **{p: sub[pattern.format(p)] for p in PID.PARTS},
            }
        )
        melted = parts.melt(["method", "seed"], var_name="label", value_name="bits")
        melted["n_test"] = np.nan
        _bar_panel(ax, melted, "bits", list(PID.PARTS), methods, None)
        truth = sub[[f"gt_{p}" for p in PID.PARTS]].mean().to_numpy()
        if np.isfinite(truth).all():
            for i, value in enumerate(truth):
                ax.hlines(value, i - 0.45, i + 0.45, colors="k", linestyles="--", lw=1.0)
        ax.axhline(0, color="k", lw=0.6)
        ax.set_title(f"label {label}", fontsize=9)
        ax.tick_params(axis="x", labelsize=8)
        ax.set_ylabel("bits")
    axes[0][-1].plot([], [], "k--", lw=1.0, label="ground truth")
    _legend_outside(axes[0][-1], title="method")
    kind = "soft predictions, null-corrected" if pattern != "pid_{}" else "hard predictions"
    fig.suptitle(f"Model-level PID ({kind}); {_count_note(frame)}", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)


_SEED_STYLES = ("-", "--", ":", "-.")


def plot_curves(curves: pd.DataFrame, path: Path) -> None:
    """Training loss (nats) per method: one colour per method, one line style per seed.

    Runs with training groups (parts ``<group>/loss``) get one panel per group's model.
    """
    is_total = (curves.part == "loss") | curves.part.str.endswith("/loss")
    total = curves[is_total].assign(group=curves.part[is_total].str.rpartition("/")[0])
    groups = sorted(total["group"].unique().tolist()) or [""]
    fig, axes = plt.subplots(1, len(groups), figsize=(6.5 + 3.5 * (len(groups) - 1), 3.6))
    axes = np.atleast_1d(axes)
    if total.empty:
        axes[0].text(0.5, 0.5, "no loss curves (untrained baselines only)", ha="center")
    seeds = sorted(total["seed"].unique().tolist())
    for ax, name in zip(axes, groups, strict=True):
        for (method, seed), group in total[total.group == name].groupby(
            ["method", "seed"], sort=False
        ):
            style = _SEED_STYLES[seeds.index(seed) % len(_SEED_STYLES)]
            ax.plot(group["step"], group["value"], style, color=method_colour(str(method)), lw=0.8)
        ax.set(ylabel="training loss (nats)", xlabel="step")
        if name:
            ax.set_title(f"model of group {name}", fontsize=9)
    if not total.empty:
        for method in _ordered(total["method"]):
            axes[-1].plot([], [], color=method_colour(method), label=method_display(method))
        for i, seed in enumerate(seeds):
            axes[-1].plot(
                [], [], _SEED_STYLES[i % len(_SEED_STYLES)], color="k", label=f"seed {seed}"
            )
        _legend_outside(axes[-1])
    fig.suptitle("Training loss per step (each method's own objective)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)


def plot_dynamics(dynamics: pd.DataFrame, path: Path) -> None:
    """Probe accuracy (top) and usable bits (bottom) over epochs: a panel per label, a line per
    method (mean over seeds), the band spanning the seeds' lowest and highest value."""
    labels, methods = _ordered(dynamics["label"]), _ordered(dynamics["method"])
    fig, axes = plt.subplots(
        2, len(labels), figsize=(2.6 * len(labels) + 1.8, 5.2), squeeze=False, sharex=True
    )
    for col, label in enumerate(labels):
        for row, (column, name) in enumerate((("accuracy", "accuracy"), ("usable_bits", "bits"))):
            ax = axes[row][col]
            for method in methods:
                sub = dynamics[(dynamics.label == label) & (dynamics.method == method)]
                stats = sub.groupby("epoch")[column].agg(["mean", "min", "max"])
                colour = method_colour(method)
                ax.plot(stats.index, stats["mean"], color=colour, label=method_display(method))
                ax.fill_between(stats.index, stats["min"], stats["max"], color=colour, alpha=0.2)
            if row == 0:
                ax.set_title(f"label {label}", fontsize=9)
                ax.set_ylim(0, 1.02)
            else:
                ax.set_xlabel("epoch")
            if col == 0:
                ax.set_ylabel(f"probe {name}" if row == 0 else "usable bits")
    seeds = dynamics["seed"].nunique()
    fig.suptitle(f"Probes during training ({seeds} seed(s); band: min-max over seeds)", fontsize=9)
    _legend_outside(axes[0][-1], title="method")
    fig.tight_layout()
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)


def read_runs(run_dirs: Sequence[Path]) -> pd.DataFrame:
    """The results of one or more run folders as one table (one task; no repeated cells)."""
    if not run_dirs:
        raise ValueError("give at least one run folder")
    frames = [read_results(Path(d) / "results.csv") for d in run_dirs]
    frame = pd.concat(frames, ignore_index=True)
    tasks = _ordered(frame["task"])
    if len(tasks) > 1:
        raise ValueError(f"the run folders hold different tasks ({', '.join(tasks)})")
    if frame.duplicated(["method", "seed", "label"]).any():
        first = frame[frame.duplicated(["method", "seed", "label"])].iloc[0]
        raise ResultsFileError(
            f"method {first['method']!r} seed {first['seed']} appears in more than one run folder"
        )
    return frame


def compare_runs(
    run_dirs: Sequence[Path], label: str, column: str = "probe_accuracy"
) -> pd.DataFrame:
    """:func:`pairwise_table` for one label over the merged results of ``run_dirs``."""
    return pairwise_table(read_runs(run_dirs), label, column)


def write_report(run_dir: Path, title: str = "") -> list[Path]:
    """(Re)write ``summary.md`` and the PNG figures of a run folder from its CSV files."""
    run_dir = Path(run_dir)
    frame = read_results(run_dir / "results.csv")
    if frame.empty:
        raise ValueError(f"{run_dir / 'results.csv'} holds no rows yet")
    written = [run_dir / "summary.md", run_dir / "accuracy.png", run_dir / "pid.png"]
    atomic_write_text(written[0], markdown_summary(frame, title))
    plot_accuracy(frame, written[1])
    plot_pid(frame, written[2])
    if frame["usable_bits"].notna().any():
        plot_usable(frame, run_dir / "usable.png")
        written.append(run_dir / "usable.png")
    curves_path = run_dir / "curves.csv"
    if curves_path.is_file():
        plot_curves(read_curves(curves_path), run_dir / "curves.png")
        written.append(run_dir / "curves.png")
    dynamics_path = run_dir / "dynamics.csv"
    if dynamics_path.is_file():
        plot_dynamics(read_dynamics(dynamics_path), run_dir / "dynamics.png")
        written.append(run_dir / "dynamics.png")
    return written


def grid_columns(frame: pd.DataFrame) -> list[str]:
    """The grid keys of a sweep's results: the columns named ``section.field``."""
    return [c for c in frame.columns if "." in str(c)]


def _mean_halfwidth(values: pd.Series) -> tuple[float, float, int]:
    """Mean, half-width of its 95% t-interval (NaN below 2 values) and the count."""
    from scipy import stats

    values = values.dropna()
    n = len(values)
    if n < 2:
        return (float(values.mean()) if n else float("nan")), float("nan"), n
    half = stats.t.ppf(0.975, n - 1) * values.std(ddof=1) / n**0.5
    return float(values.mean()), float(half), n


def plot_grid(frame: pd.DataFrame, key: str, path: Path, metrics: list[str] | None = None) -> None:
    """Each metric against grid key ``key``: one line per method (and per value of the other
    grid keys), mean over seeds with its 95% t-interval; one panel per metric and label."""
    keys = grid_columns(frame)
    if metrics is None:  # the headline metrics a run has (older folders: accuracy alone)
        metrics = [
            c
            for c in ("probe_accuracy", "usable_bits")
            if c in frame.columns and frame[c].notna().any()
        ]
    labels = _ordered(frame["label"])
    others = [k for k in keys if k != key]
    values = _ordered(frame[key])
    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
    position = {v: (float(v) if numeric else float(i)) for i, v in enumerate(values)}
    fig, axes = plt.subplots(
        len(metrics), len(labels), figsize=(3.2 * len(labels), 2.6 * len(metrics)),
        squeeze=False, sharex=True,
    )  # fmt: skip
    counts: set[int] = set()
    for (method, *rest), group in frame.groupby(["method", *others], sort=False):
        name = str(method) + "".join(f", {k}={v}" for k, v in zip(others, rest, strict=True))
        for col, label in enumerate(labels):
            rows = group[group["label"] == label]
            for row, metric in enumerate(metrics):
                points = [(position[v], *_mean_halfwidth(g[metric])) for v, g in rows.groupby(key)]
                if not points:
                    continue
                points.sort()
                xs, means, halves, ns = zip(*points, strict=True)
                counts.update(ns)
                axes[row, col].errorbar(
                    xs, means, yerr=[0 if h != h else h for h in halves], marker="o",
                    capsize=3, label=name if (row, col) == (0, 0) else None,
                )  # fmt: skip
                axes[row, col].set(title=f"{label}" if row == 0 else "", ylabel=metric)
    for ax in axes[-1]:
        ax.set_xlabel(key)
        if not numeric:
            ax.set_xticks(list(position.values()), [str(v) for v in values])
    n_text = ", ".join(str(n) for n in sorted(counts))
    fig.suptitle(f"mean over seeds, bars: 95% t-interval (n = {n_text} seeds per point)")
    fig.legend(loc="lower center", ncol=4, fontsize="small", bbox_to_anchor=(0.5, -0.02))
    fig.tight_layout(rect=(0, 0.06, 1, 0.97))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_grid_figures(run_dir: Path) -> list[Path]:
    """``grid-<key>.png`` for every grid key of a sweep's results (none for a plain run)."""
    run_dir = Path(run_dir)
    frame = read_results(run_dir / "results.csv")
    written = []
    for key in grid_columns(frame):
        path = run_dir / f"grid-{key}.png"
        plot_grid(frame, key, path)
        written.append(path)
    return written
