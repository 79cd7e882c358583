"""Measure R, U and S of a user's own dataset: estimated PID of every label, with intervals.

``analyze_file(path, out_dir, config)`` reads ``.npz`` (arrays ``x1``, ``x2``, one array per
label), CSV or Parquet (columns ``x1_*``, ``x2_*``, every other column a label), read and checked
by :func:`synergy_lab.io.read_user_data`, estimates the BROJA PID (bits) of each label with
respect to (X1, X2), and writes ``pid.csv`` and ``pid.png`` atomically. Estimators:

* ``cluster``: k-means clusters of each modality (scikit-learn, optional PCA), plug-in table,
  exact solver (:func:`synergy_lab.pid.cluster_pid`). Interval: rows resampled, clusters kept.
* ``batch``: Liang et al.'s BATCH estimator (:mod:`synergy_lab.pid.batch`). Interval: minibatches
  of held-out rows resampled, classifiers kept (so it leaves out classifier-training variance).
* ``gaussian``: the Gaussian BROJA-type PID for targets named continuous (real-valued); it
  applies only to those. A target may be a vector (an ``.npz`` array (n, k), or CSV columns
  ``name_*``), e.g. a label given as an embedding or a second representation. For a 1-d target
  it is the closed form (:func:`synergy_lab.pid.gaussian_mmi_pid`, which then equals BROJA,
  Barrett 2015); for a vector target the solved definition of Venkatesh et al. (NeurIPS 2023),
  :func:`synergy_lab.pid.gaussian_broja_pid`. Interval: rows resampled.

The ``definition`` column names what each row measures: ``broja`` (cluster, batch),
``gaussian-broja=mmi`` (1-d target, closed form) or ``gaussian-broja`` (vector target, solved).

Intervals (``bootstrap`` resamples, 95 % by default) are the bootstrap percentile interval moved
by the bootstrap bias (median of the resamples minus the estimate), so each always contains its
estimate: a plug-in estimate of resampled rows sits beside the estimate of the rows themselves
(resampling repeats rows, which inflates plug-in information), and the plain percentile interval
can miss its own point. Bounds are clipped to [0, H(Y)] (no PID part is negative or exceeds
H(Y)), never so far that they exclude the estimate.

Each integer label's plug-in entropy H(Y) (bits) is in ``label_entropy``; a ``total`` (the
estimate of I(X1, X2; Y)) above it is estimation error and is flagged in ``total_above_entropy``
and by a note line under the printed table (:func:`format_notes`).

The cluster estimator refuses a k that is too large for the rows: each plug-in I(Y; cluster) is
biased upward by about (k - 1)(|Y| - 1) / (2 n ln 2) bits (Miller, 1955), and on an XOR label
that excess appears as redundancy taken out of synergy (1,000 rows: R 0.068 and S 0.916 at
k = 100; R 0.35, S 0.62 at k = 400; R 1.0, S 0 at k = 1,000). Above
:data:`MAX_CLUSTER_BIAS` bits (k = 70 at 1,000 rows of a binary label) it stops with the largest
k the rows allow (:func:`max_clusters`).
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from synergy_lab.files import atomic_write_bytes, atomic_write_csv
from synergy_lab.io import UserData, read_user_data
from synergy_lab.pid import (
    PID,
    ClusterConfig,
    cluster_labels,
    gaussian_broja_pid_from_samples,
    gaussian_mmi_pid_from_samples,
    pid_from_samples,
)

ESTIMATORS: tuple[str, ...] = ("cluster", "batch", "gaussian")
#: The columns of each estimate (bits): the four PID parts and their sum.
ATOMS: tuple[str, ...] = (*PID.PARTS, "total")
PID_COLUMNS: tuple[str, ...] = (
    "label",
    "estimator",
    "n",
    *(f"{a}{s}" for a in ATOMS for s in ("", "_lo", "_hi")),
    "bootstrap",
    "seconds",
    "definition",
    "label_entropy",
    "total_above_entropy",
)
#: Largest first-order plug-in bias (bits) of one I(Y; cluster) term the cluster estimator accepts.
MAX_CLUSTER_BIAS = 0.05


#: A Gaussian PID of samples (x1, x2, y) in bits.
Estimate = Callable[[np.ndarray, np.ndarray, np.ndarray], PID]


@dataclass(frozen=True)
class AnalyzeConfig:
    """What ``synergy-lab analyze`` estimates and how (default: cluster and BATCH, 20 resamples)."""

    estimators: tuple[str, ...] = ("cluster", "batch")
    continuous: tuple[str, ...] = ()  # real-valued targets, scalar or vector (Gaussian PID only)
    bootstrap: int = 20  # resamples per estimate for the interval (0: no interval)
    level: float = 0.95  # interval coverage
    clusters: int = 10  # k per modality of the cluster estimator
    pca_components: int = 0  # cluster estimator: PCA components (0: none)
    batch_device: str = "auto"  # BATCH estimator: auto, cpu or cuda
    batch_max_batches: int = 0  # BATCH: coupling minibatches averaged (0: all held-out rows)
    seed: int = 0

    def __post_init__(self) -> None:
        unknown = [e for e in self.estimators if e not in ESTIMATORS]
        if unknown or not self.estimators:
            raise ValueError(
                f"unknown estimator {unknown[0] if unknown else '(none)'!r}; "
                f"valid: {', '.join(ESTIMATORS)}"
            )
        if self.bootstrap < 0:
            raise ValueError(f"bootstrap must be >= 0; got {self.bootstrap}")
        if not 0 < self.level < 1:
            raise ValueError(f"level must be in (0, 1); got {self.level}")
        if self.clusters < 2:
            raise ValueError(f"clusters must be >= 2; got {self.clusters}")


def cluster_bias_bits(k: int, n: int, classes: int) -> float:
    """First-order upward bias (bits) of a plug-in I(Y; C) from n rows, k clusters, |Y| classes:
    (k - 1)(|Y| - 1) / (2 n ln 2) (Miller, 1955)."""
    return (min(k, n) - 1) * (classes - 1) / (2 * n * np.log(2))


def max_clusters(n: int, classes: int, bias: float = MAX_CLUSTER_BIAS) -> int:
    """The largest k whose :func:`cluster_bias_bits` is at most ``bias`` bits (n rows)."""
    if classes < 2:
        return n
    return int(np.floor(1 + bias * 2 * n * np.log(2) / (classes - 1) + 1e-9))


def check_analysis(data: UserData, config: AnalyzeConfig) -> None:
    """Refuse, before any work, a cluster k the rows cannot support (see the module docstring)."""
    if "cluster" not in config.estimators:
        return
    for label, y in data.labels.items():
        classes = len(np.unique(y))
        bias = cluster_bias_bits(config.clusters, data.n, classes)
        if bias > MAX_CLUSTER_BIAS:
            most = max_clusters(data.n, classes)
            advice = f"use --clusters {most} or fewer" if most >= 2 else "give more rows"
            raise ValueError(
                f"--clusters {config.clusters} is too many for {data.n} rows of label {label!r} "
                f"({classes} classes): plug-in bias (k-1)(|Y|-1)/(2 n ln 2) = {bias:.3f} bits "
                f"> {MAX_CLUSTER_BIAS} would turn synergy into redundancy; {advice}"
            )


def entropy_bits(y: np.ndarray) -> float:
    """Plug-in entropy H(Y) (bits) of integer labels y (n,)."""
    p = np.bincount(y) / len(y)
    p = p[p > 0]
    return float(-(p * np.log2(p)).sum())


def _interval(
    point: np.ndarray, samples: np.ndarray, level: float
) -> tuple[np.ndarray, np.ndarray]:
    """Bias-moved percentile interval (bits) of ``point`` (atoms,) from ``samples`` (draws, atoms):
    the percentiles minus (median - point), which always contain the point; lower bound >= 0."""
    tail = 100 * (1 - level) / 2
    low, median, high = np.percentile(samples, [tail, 50, 100 - tail], axis=0)
    shift = point - median
    return np.maximum(low + shift, np.minimum(point, 0.0)), high + shift


def _as_row(
    label: str,
    estimator: str,
    n: int,
    point: PID,
    boot: np.ndarray | None,
    level: float,
    seconds: float,
    definition: str = "broja",
    entropy: float = float("nan"),
) -> dict[str, object]:
    values = np.array([getattr(point, a) for a in ATOMS])
    row: dict[str, object] = {"label": label, "estimator": estimator, "n": n}
    if boot is not None and len(boot):
        lo, hi = _interval(values, boot, level)
    else:
        lo, hi = (values * np.nan,) * 2
    if np.isfinite(entropy):  # no part can exceed H(Y); an estimate above it stays (flagged)
        hi = np.minimum(hi, np.maximum(entropy, values))
    for k, atom in enumerate(ATOMS):
        row[atom] = float(values[k])
        row[f"{atom}_lo"] = float(lo[k])
        row[f"{atom}_hi"] = float(hi[k])
    row["bootstrap"] = 0 if boot is None else len(boot)
    row["seconds"] = seconds
    row["definition"] = definition
    row["label_entropy"] = entropy
    row["total_above_entropy"] = bool(values[-1] > entropy + 1e-9)
    return row


def _pid_vector(pid: PID) -> np.ndarray:
    return np.array([getattr(pid, a) for a in ATOMS])


def _bootstrap_rows(
    n: int, draws: int, rng: np.random.Generator, fn: Callable[[np.ndarray], PID]
) -> np.ndarray:
    return np.array([_pid_vector(fn(rng.integers(0, n, n))) for _ in range(draws)])


def analyze_data(
    data: UserData, config: AnalyzeConfig, tick: Callable[[str], None] | None = None
) -> pd.DataFrame:
    """One row per (label, estimator): the PID in bits, its interval, the count n and seconds.

    ``n`` is the number of rows behind the estimate (for BATCH: the held-out rows the coupling
    and the information terms are computed on; the classifiers were fitted on the others).

    ``tick`` is told the name of each estimate as it starts (for a progress bar).
    """
    check_analysis(data, config)
    note = tick or (lambda text: None)
    rng = np.random.default_rng(config.seed)
    rows: list[dict[str, object]] = []
    n = data.n
    if "cluster" in config.estimators and data.labels:
        note("cluster: k-means")
        start = time.perf_counter()
        cfg = ClusterConfig(
            n_clusters1=config.clusters,
            n_clusters2=config.clusters,
            pca_components=config.pca_components,
            seed=config.seed,
        )
        c1 = cluster_labels(data.x1, config.clusters, cfg, stream=1)
        c2 = cluster_labels(data.x2, config.clusters, cfg, stream=2)
        shared = time.perf_counter() - start
        for label, y in data.labels.items():
            note(f"cluster: {label}")
            start = time.perf_counter()
            shape = (config.clusters, config.clusters, int(y.max()) + 1)
            point = pid_from_samples(c1, c2, y, shape)
            boot = np.array(
                [
                    _pid_vector(pid_from_samples(c1[i], c2[i], y[i], shape))
                    for i in (rng.integers(0, n, n) for _ in range(config.bootstrap))
                ]
            )
            seconds = shared + time.perf_counter() - start
            entropy = entropy_bits(y)
            rows.append(
                _as_row(label, "cluster", n, point, boot, config.level, seconds, entropy=entropy)
            )
    if "batch" in config.estimators and data.labels:
        from synergy_lab.pid.batch import (
            BatchConfig,
            batch_probabilities,
            minibatch_atoms,
            pid_from_atoms,
        )

        bcfg = BatchConfig(
            device=config.batch_device, seed=config.seed, max_batches=config.batch_max_batches
        )
        for label, y in data.labels.items():
            note(f"batch: {label}")
            start = time.perf_counter()
            probs = batch_probabilities(data.x1, data.x2, y, bcfg)
            atoms, sizes = minibatch_atoms(*probs, bcfg)
            point = pid_from_atoms(atoms, sizes)
            boot = np.array(
                [
                    _pid_vector(pid_from_atoms(atoms[i], sizes[i]))
                    for i in (
                        rng.integers(0, len(sizes), len(sizes)) for _ in range(config.bootstrap)
                    )
                ]
            )
            held = int(sizes.sum())
            seconds = time.perf_counter() - start
            entropy = entropy_bits(y)
            rows.append(
                _as_row(label, "batch", held, point, boot, config.level, seconds, entropy=entropy)
            )
    if "gaussian" in config.estimators:
        for label, target in data.targets.items():
            note(f"gaussian: {label}")
            start = time.perf_counter()

            vector = target.ndim == 2 and target.shape[1] > 1
            estimate = gaussian_broja_pid_from_samples if vector else gaussian_mmi_pid_from_samples

            def gauss(
                index: np.ndarray, target: np.ndarray = target, fn: Estimate = estimate
            ) -> PID:
                return fn(data.x1[index], data.x2[index], target[index])

            point = gauss(np.arange(n))
            boot = _bootstrap_rows(n, config.bootstrap, rng, gauss)
            seconds = time.perf_counter() - start
            definition = "gaussian-broja" if vector else "gaussian-broja=mmi"
            rows.append(
                _as_row(label, "gaussian", n, point, boot, config.level, seconds, definition)
            )
    if not rows:
        raise ValueError(
            "nothing to estimate: integer labels need the cluster or batch estimator, "
            "continuous targets the gaussian one"
        )
    return pd.DataFrame(rows, columns=list(PID_COLUMNS))


def pid_figure_png(frame: pd.DataFrame) -> bytes:
    """PNG bytes of stacked bars (R, U1, U2, S) per label and estimator, with each atom's
    interval drawn at the top of its segment and the count n under each bar."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colours = {
        "redundancy": "#4c72b0",
        "unique1": "#55a868",
        "unique2": "#8fd18f",
        "synergy": "#c44e52",
    }
    fig, ax = plt.subplots(figsize=(max(4.0, 0.9 * len(frame) + 1.5), 3.8))
    names = []
    for x, row in enumerate(frame.itertuples(index=False)):
        base = 0.0
        for atom, colour in colours.items():
            value = max(float(getattr(row, atom)), 0.0)
            ax.bar(x, value, bottom=base, color=colour, width=0.7, label=atom if x == 0 else None)
            lo, hi = getattr(row, f"{atom}_lo"), getattr(row, f"{atom}_hi")
            if np.isfinite(lo) and np.isfinite(hi):
                top = base + value
                ax.errorbar(
                    x + 0.22,
                    top,
                    yerr=[[max(value - lo, 0)], [max(hi - value, 0)]],
                    color="black",
                    lw=0.8,
                    capsize=2,
                )
            base += value
        names.append(f"{row.label}\n{row.estimator}\nn={row.n}")
    ax.set_xticks(range(len(frame)), names, fontsize=7)
    ax.set_ylabel("bits")
    ax.set_title(
        "PID per label and estimator (bars: atoms; whiskers: bootstrap intervals)", fontsize=9
    )
    ax.legend(fontsize=7, ncol=4, loc="upper left", bbox_to_anchor=(0, -0.28))
    ax.grid(True, axis="y", lw=0.3)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


def format_table(frame: pd.DataFrame) -> str:
    """The table printed by ``analyze``: each atom as 'value [lo, hi]' in bits."""
    lines = [
        f"{'label':<10} {'estimator':<9} {'n':>7}  "
        + "  ".join(f"{a:<20}" for a in ("R", "U1", "U2", "S"))
        + "  definition"
    ]
    for row in frame.itertuples(index=False):
        cells = []
        for atom in PID.PARTS:
            value, lo, hi = (getattr(row, atom + s) for s in ("", "_lo", "_hi"))
            cells.append(f"{value:.3f} [{lo:.3f}, {hi:.3f}]".ljust(20))
        lines.append(
            f"{row.label:<10} {row.estimator:<9} {row.n:>7}  "
            + "  ".join(cells)
            + f"  {row.definition}"
        )
    return "\n".join(lines)


def format_notes(frame: pd.DataFrame) -> list[str]:
    """One note line per estimate whose total (I(X1, X2; Y), bits) exceeds the label's H(Y)."""
    return [
        f"note: {row.label} {row.estimator}: total {row.total:.4f} "
        f"[{row.total_lo:.4f}, {row.total_hi:.4f}] bits exceeds H(Y) = {row.label_entropy:.4f} "
        "bits; I(X1, X2; Y) <= H(Y), so the excess is estimation error"
        for row in frame.itertuples(index=False)
        if row.total_above_entropy
    ]


def analysis_steps(data: UserData, config: AnalyzeConfig) -> int:
    """How many times :func:`analyze_data` calls ``tick`` (the total of a progress bar)."""
    labels, steps = len(data.labels), 0
    if labels and "cluster" in config.estimators:
        steps += 1 + labels
    if labels and "batch" in config.estimators:
        steps += labels
    if "gaussian" in config.estimators:
        steps += len(data.targets)
    return steps


def write_outputs(frame: pd.DataFrame, out_dir: Path) -> tuple[Path, Path]:
    """Write pid.csv and pid.png atomically (the figure is drawn before either file is written)."""
    png = pid_figure_png(frame)
    out_dir = Path(out_dir)
    atomic_write_csv(out_dir / "pid.csv", frame)
    atomic_write_bytes(out_dir / "pid.png", png)
    return out_dir / "pid.csv", out_dir / "pid.png"


def analyze_file(
    path: str | Path,
    out_dir: str | Path,
    config: AnalyzeConfig | None = None,
    tick: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """Read ``path``, estimate every label's PID, write pid.csv and pid.png into ``out_dir``."""
    cfg = config if config is not None else AnalyzeConfig()
    data = read_user_data(path, cfg.continuous)
    frame = analyze_data(data, cfg, tick)
    write_outputs(frame, Path(out_dir))
    return frame
