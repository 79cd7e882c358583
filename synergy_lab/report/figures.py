"""Figures of a run's results (PNG): bars per label and method, the PID, curves, sweeps.

Bars and error bars are the mean over seeds and its 95 % t-interval
(:func:`synergy_lab.measure.seed_summary`); with one seed, the cell's 95 % bootstrap interval
over test samples where results.csv records it. One fixed colour per method in every figure
(:func:`method_colour`). Accuracies are fractions, usable information and the PID in bits.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from synergy_lab.files import atomic_write_with  # noqa: E402
from synergy_lab.measure import seed_summary  # noqa: E402
from synergy_lab.pid import PID  # noqa: E402
from synergy_lab.report.tables import (  # noqa: E402
    FRACTION_METRICS,
    _ordered,
    _per_seed,
    _pid_prefix,
    label_entropy,
    probe_title,
)
from synergy_lab.results import grid_columns  # noqa: E402


def save_figure(fig: plt.Figure, path: Path, **options: Any) -> None:
    """Write ``fig`` as a PNG through the one atomic writer (a reader never sees half a file)."""
    atomic_write_with(Path(path), lambda handle: fig.savefig(handle, format="png", **options))


FIGURES: tuple[str, ...] = (
    "accuracy.png",
    "usable.png",
    "pid.png",
    "curves.png",
    "heldout.png",
    "dynamics.png",
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


def method_colour(method: str) -> str:
    """The fixed colour of ``method`` (the same in every figure of every run)."""
    if method in _PALETTE:
        return _PALETTE[method]
    return _SPARE[sum(map(ord, method)) % len(_SPARE)]


def method_display(method: str) -> str:
    """How a method is named in legends: the supervised bound is called a reference."""
    return "supervised (reference)" if method == "supervised" else method


def _interval(values: pd.Series) -> tuple[float, float, float]:
    """(mean, low, high) over seeds: the 95 % t-interval of the mean; NaN bounds below 2 seeds."""
    summary = seed_summary(values.to_numpy())
    return summary.mean, summary.low, summary.high


def _mean_halfwidth(values: pd.Series) -> tuple[float, float, int]:
    """Mean, half-width of its 95 % t-interval (NaN below 2 values) and the count."""
    summary = seed_summary(values.to_numpy())
    return summary.mean, summary.high - summary.mean, summary.n


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


def plot_accuracy(frame: pd.DataFrame, path: Path, probe: str = "linear") -> None:
    """Bars: probe accuracy per label per method with intervals in [0, 1] and the chance line;
    ``probe`` (linear or mlp) names the probe on the axis."""
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
    ax.set(ylim=(0, 1.02), ylabel=f"{probe_title(probe).lower()} test accuracy", xlabel="label")
    ax.set_title(f"Task {', '.join(_ordered(frame['task']))}: accuracy ({_count_note(frame)})")
    ax.title.set_fontsize(9)
    _legend_outside(ax, title="method")
    fig.tight_layout()
    save_figure(fig, path, dpi=120, bbox_inches="tight")
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
    save_figure(fig, path, dpi=120, bbox_inches="tight")
    plt.close(fig)


def plot_pid(frame: pd.DataFrame, path: Path) -> None:
    """One panel per label: each PID part per method with its interval, ground truth as marks.

    Every panel shares one y-axis, 0 to the largest label's H(Y) (bits, from
    :func:`~synergy_lab.report.tables.label_entropy`), and intervals are clipped to [0, H(Y)] of
    their label (no PID part can leave it), as the title says.
    """
    labels, methods = _ordered(frame["label"]), _ordered(frame["method"])
    pattern = _pid_prefix(frame)
    long = frame.copy()
    entropy = label_entropy(frame)  # H(Y) bits per label (lower bound; see tables)
    top = float(entropy.max()) if entropy.notna().any() else float("nan")
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
        bound = entropy.get(label, np.nan)
        clip = (0.0, float(bound)) if np.isfinite(bound) else (0.0, np.inf)
        _bar_panel(ax, melted, "bits", list(PID.PARTS), methods, clip)
        truth = sub[[f"gt_{p}" for p in PID.PARTS]].mean().to_numpy()
        if np.isfinite(truth).all():
            for i, value in enumerate(truth):
                ax.hlines(value, i - 0.45, i + 0.45, colors="k", linestyles="--", lw=1.0)
        ax.axhline(0, color="k", lw=0.6)
        ax.set_title(f"label {label}", fontsize=9)
        ax.tick_params(axis="x", labelsize=8)
        ax.set_ylabel("bits")
        if np.isfinite(top):
            ax.set_ylim(0, 1.05 * top)
    axes[0][-1].plot([], [], "k--", lw=1.0, label="ground truth")
    _legend_outside(axes[0][-1], title="method")
    kind = "soft predictions, null-corrected" if pattern != "pid_{}" else "hard predictions"
    scale = (
        f"\ny from 0 to the largest H(Y) = {top:.2f} bits in every panel; intervals clipped to "
        "[0, H(Y)] of their label"
        if np.isfinite(top)
        else ""
    )
    fig.suptitle(f"Model-level PID ({kind}); {_count_note(frame)}{scale}", fontsize=9)
    fig.tight_layout()
    save_figure(fig, path, dpi=120, bbox_inches="tight")
    plt.close(fig)


# One line style per seed, distinct for the first eight seeds (then they repeat).
_SEED_STYLES: tuple[Any, ...] = (
    "-",
    "--",
    ":",
    "-.",
    (0, (6, 2, 1, 2, 1, 2)),
    (0, (1, 4)),
    (0, (10, 3)),
    (0, (3, 2, 3, 6)),
)


def _plot_part_per_group(
    curves: pd.DataFrame,
    part: str,
    path: Path,
    ylabel: str,
    title: str,
    mark_end: bool,
    empty: str,
    log: bool = False,
) -> None:
    """One panel per training group's model; a line per method (colour) and seed (style) of
    the curve part ``part`` (``<group>/<part>`` with groups, ``part`` without); ``empty`` is
    the note drawn when the run has no such curve."""
    is_part = (curves.part == part) | curves.part.str.endswith("/" + part)
    rows = curves[is_part]
    rows = rows.assign(group=rows["part"].map(lambda name: str(name).rpartition("/")[0]))
    groups = sorted(rows["group"].unique().tolist()) or [""]
    fig, axes = plt.subplots(1, len(groups), figsize=(6.5 + 3.5 * (len(groups) - 1), 3.6))
    axes = np.atleast_1d(axes)
    if rows.empty:
        axes[0].text(0.5, 0.5, empty, ha="center")
    seeds = sorted(rows["seed"].unique().tolist())
    for ax, name in zip(axes, groups, strict=True):
        panel = rows[rows.group == name]
        for (method, seed), line in panel.groupby(["method", "seed"], sort=False):
            line = line.sort_values("step")
            style = _SEED_STYLES[seeds.index(seed) % len(_SEED_STYLES)]
            colour = method_colour(str(method))
            ax.plot(line["step"], line["value"], linestyle=style, color=colour, lw=0.8)
            if mark_end:
                ax.plot(line["step"].iloc[-1], line["value"].iloc[-1], "o", color=colour, ms=3)
        ax.set(ylabel=ylabel, xlabel="step")
        if log and not panel.empty:  # symmetric log where a loss is <= 0 (FactorCL's bounds)
            if (panel["value"] > 0).all():
                ax.set_yscale("log")
            else:
                ax.set_yscale("symlog", linthresh=0.1)
        if name:
            ax.set_title(f"model of group {name}", fontsize=9)
    if not rows.empty:
        for method in _ordered(rows["method"]):
            axes[-1].plot([], [], color=method_colour(method), label=method_display(method))
        for i, seed in enumerate(seeds):
            style = _SEED_STYLES[i % len(_SEED_STYLES)]
            axes[-1].plot([], [], linestyle=style, color="k", label=f"seed {seed}")
        _legend_outside(axes[-1])
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    save_figure(fig, path, dpi=120, bbox_inches="tight")
    plt.close(fig)


def plot_curves(curves: pd.DataFrame, path: Path) -> None:
    """Training loss (nats) per method: one colour per method, one line style per seed.

    Runs with training groups (parts ``<group>/loss``) get one panel per group's model.
    """
    _plot_part_per_group(
        curves,
        "loss",
        path,
        "training loss (nats)",
        "Training loss per step (each method's own objective)",
        mark_end=False,
        empty="no loss curves (untrained baselines only)",
    )


def plot_heldout(curves: pd.DataFrame, path: Path) -> None:
    """The held-out loss (nats) at each check of the converged budget (parts ``val_loss``),
    a line per method and seed, its last check marked: where and at what loss each model's
    training stopped (the converged rule or the cap; its cooldown included). Log scale (a
    symmetric one, linear within +-0.1, in a panel with a loss <= 0): the methods' objectives
    differ by orders of magnitude, and a slow late fall must stay visible."""
    _plot_part_per_group(
        curves,
        "val_loss",
        path,
        "held-out loss (nats)",
        "Held-out loss at the converged budget's checks (each method's own objective);"
        " o = the model's last check",
        mark_end=True,
        empty="no held-out checks (a fixed budget, or untrained baselines only)",
        log=True,
    )


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
    save_figure(fig, path, dpi=120, bbox_inches="tight")
    plt.close(fig)


def _grid_limits(frame: pd.DataFrame, metric: str, reach: list[float]) -> tuple[float, float]:
    """One y-range per metric for every label's panel: accuracies from chance (or the lowest
    interval) to 1, bits from 0 to the largest H(Y); so a 0.001 difference looks like one."""
    values = [v for v in reach if np.isfinite(v)]
    low, high = (min(values), max(values)) if values else (0.0, 1.0)
    if metric in FRACTION_METRICS:
        chance = frame["chance_accuracy"].min() if "chance_accuracy" in frame else np.nan
        floor = min(low, float(chance)) if np.isfinite(chance) else min(low, 0.0)
        return max(0.0, floor - 0.02), 1.02
    if metric == "usable_bits":
        entropy = label_entropy(frame)
        ceiling = float(entropy.max()) if entropy.notna().any() else high
        return min(0.0, low), 1.05 * max(ceiling, high, 1e-9)
    span = max(high - low, 0.1 * max(abs(high), abs(low), 1e-9))
    middle = (high + low) / 2
    return middle - 0.6 * span, middle + 0.6 * span


def plot_grid(frame: pd.DataFrame, key: str, path: Path, metrics: list[str] | None = None) -> None:
    """Each metric against grid key ``key``: one line per method (and per value of the other
    grid keys), mean over seeds with its 95% t-interval; one panel per metric and label, a common
    y-range per metric (:func:`_grid_limits`)."""
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
    reach: dict[int, list[float]] = {row: [] for row in range(len(metrics))}  # lows and highs
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
                spans = [0.0 if h != h else h for h in halves]
                reach[row] += [m - h for m, h in zip(means, spans, strict=True)]
                reach[row] += [m + h for m, h in zip(means, spans, strict=True)]
                axes[row, col].errorbar(
                    xs, means, yerr=[0 if h != h else h for h in halves], marker="o",
                    capsize=3, label=name if (row, col) == (0, 0) else None,
                )  # fmt: skip
                axes[row, col].set(title=f"{label}" if row == 0 else "", ylabel=metric)
    for row, metric in enumerate(metrics):
        limits = _grid_limits(frame, metric, reach[row])
        for ax in axes[row]:
            ax.set_ylim(*limits)
    for ax in axes[-1]:
        ax.set_xlabel(key)
        if not numeric:
            ax.set_xticks(list(position.values()), [str(v) for v in values])
    n_text = ", ".join(str(n) for n in sorted(counts))
    fig.suptitle(f"mean over seeds, bars: 95% t-interval (n = {n_text} seeds per point)")
    fig.legend(loc="lower center", ncol=4, fontsize="small", bbox_to_anchor=(0.5, -0.02))
    fig.tight_layout(rect=(0, 0.06, 1, 0.97))
    save_figure(fig, path, dpi=110)
    plt.close(fig)
