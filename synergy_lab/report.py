"""Tables and figures from a results file: what a reader looks at after a run.

Everything here reads the validated ``results.csv`` / ``curves.csv`` of a run folder, so a report
can be redrawn at any time (``synergy-lab report DIR``) without retraining.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from synergy_lab.results import (  # noqa: E402
    atomic_write_text,
    read_curves,
    read_results,
)

PID_PARTS: tuple[str, ...] = ("redundancy", "unique1", "unique2", "synergy")
FIGURES: tuple[str, ...] = ("accuracy.png", "pid.png", "curves.png")


def _ordered(values: pd.Series) -> list[str]:
    """Distinct values in order of first appearance (the order the run used)."""
    return list(dict.fromkeys(values.tolist()))


def _mean_std(values: pd.Series, digits: int = 3) -> str:
    if values.isna().all():
        return "—"
    if len(values.dropna()) < 2:
        return f"{values.mean():.{digits}f}"
    return f"{values.mean():.{digits}f} ± {values.std(ddof=1):.{digits}f}"


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


def synergy_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Per method and label: the PID (bits) of the probe's predictions next to the ground truth."""
    rows = []
    for method in _ordered(frame["method"]):
        for label in _ordered(frame["label"]):
            cell = frame[(frame.method == method) & (frame.label == label)]
            if cell.empty:
                continue
            row = {"method": method, "label": label}
            for part in PID_PARTS:
                row[part] = _mean_std(cell[f"pid_{part}"])
                row[f"true {part}"] = _mean_std(cell[f"gt_{part}"])
            rows.append(row)
    return pd.DataFrame(rows)


def markdown_summary(frame: pd.DataFrame, title: str = "") -> str:
    """The run's tables as markdown: probe accuracy per label, then model-level PID in bits."""
    task = ", ".join(_ordered(frame["task"]))
    lines = [f"# {title or 'synergy-lab results'}", "", f"Task: `{task}`.", ""]
    lines += [
        "## Linear-probe test accuracy (mean ± std over seeds)",
        "",
        to_markdown(accuracy_table(frame)),
        "",
        "## Model-level PID of the probe's predictions (bits)",
        "",
        "PID of the empirical table (latent of modality 1, latent of modality 2, predicted label)",
        "next to the exact PID of the true label: the share of each kind of information that the",
        "representation makes usable.",
        "",
        to_markdown(synergy_table(frame), index=False),
        "",
    ]
    return "\n".join(lines)


def plot_accuracy(frame: pd.DataFrame, path: Path) -> None:
    """Bar chart: probe accuracy per label per method, error bars = std over seeds."""
    fig, ax = plt.subplots(figsize=(3.0 + 1.2 * frame["label"].nunique(), 3.6))
    sns.barplot(
        data=frame,
        x="label",
        y="probe_accuracy",
        hue="method",
        errorbar="sd",
        ax=ax,
        order=_ordered(frame["label"]),
        hue_order=_ordered(frame["method"]),
    )
    ax.set(ylim=(0, 1.02), ylabel="linear-probe test accuracy", xlabel="label")
    ax.legend(title="method", fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.set_title(f"Task {', '.join(_ordered(frame['task']))}: accuracy per label")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_pid(frame: pd.DataFrame, path: Path) -> None:
    """Stacked bars per label: the PID of each method's predictions beside the ground truth."""
    labels = _ordered(frame["label"])
    methods = _ordered(frame["method"])
    colours = dict(zip(PID_PARTS, sns.color_palette("Set2", len(PID_PARTS)), strict=True))
    ncols = min(len(labels), 2 if len(labels) == 4 else 3)
    nrows = -(-len(labels) // ncols)
    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=(ncols * (1.2 + 0.55 * (len(methods) + 1)), nrows * 3.4),
        squeeze=False,
    )
    for ax in axes.flat[len(labels) :]:
        ax.axis("off")
    for ax, label in zip(axes.flat, labels, strict=False):
        cell = frame[frame.label == label]
        bars = {"ground truth": cell[[f"gt_{p}" for p in PID_PARTS]].mean().to_numpy()}
        for method in methods:
            bars[method] = (
                cell[cell.method == method][[f"pid_{p}" for p in PID_PARTS]].mean().to_numpy()
            )
        bottom = [0.0] * len(bars)
        for i, part in enumerate(PID_PARTS):
            heights = [float(v[i]) for v in bars.values()]
            ax.bar(list(bars), heights, bottom=bottom, color=colours[part], label=part)
            bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
        ax.set_title(f"label {label}")
        ax.tick_params(axis="x", rotation=60, labelsize=8)
        ax.set_ylabel("bits")
    axes[0][0].legend(fontsize=7)
    fig.suptitle("PID of probe predictions vs ground truth")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_curves(curves: pd.DataFrame, path: Path) -> None:
    """Training loss (the 'loss' part) per method, one line per seed."""
    total = curves[curves.part == "loss"]
    fig, ax = plt.subplots(figsize=(6, 3.6))
    if total.empty:
        ax.text(0.5, 0.5, "no loss curves (untrained baselines only)", ha="center")
    else:
        sns.lineplot(
            data=total,
            x="step",
            y="value",
            hue="method",
            units="seed",
            estimator=None,
            ax=ax,
            lw=0.8,
        )
        ax.set(ylabel="training loss (nats)", xlabel="step")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


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
    curves_path = run_dir / "curves.csv"
    if curves_path.is_file():
        plot_curves(read_curves(curves_path), run_dir / "curves.png")
        written.append(run_dir / "curves.png")
    return written


def grid_columns(frame: pd.DataFrame) -> list[str]:
    """The grid keys of a sweep's results: the columns named ``section.field``."""
    return [c for c in frame.columns if "." in str(c)]


def _interval(values: pd.Series) -> tuple[float, float, int]:
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
    if metrics is None:
        skip = {"seed", "train_seconds", *keys}
        metrics = [
            c
            for c in frame.columns
            if c not in skip
            and not str(c).startswith("gt_")
            and pd.api.types.is_numeric_dtype(frame[c])
            and frame[c].notna().any()
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
                points = [(position[v], *_interval(g[metric])) for v, g in rows.groupby(key)]
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
