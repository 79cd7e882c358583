"""Calibration of the pairwise comparison (``synergy-lab compare``, summary.md's pairwise section).

Simulates comparisons of two methods over seeds with a known answer. Each seed draws, per
method, a true accuracy theta ~ Normal(mu + delta_method, sd_seed^2) (seed-to-seed training
noise) and an observed test accuracy Binomial(n_test, theta) / n_test (finite test set). The
comparison is :func:`synergy_lab.measure.paired_difference` (mean of per-seed differences,
95 % t-interval); it *flags* a difference when the interval excludes 0.

* null (delta = 0, two identical methods, different seeds): the flag rate must be <= 10 %;
* planted difference (delta = 0.05, 5 accuracy points): how often it is flagged at 3 seeds,
  and how that grows with seeds.

Prints the rates with their binomial standard errors and draws ``reports/figures/calibration.png``.

    python benchmarks/calibration.py [--sims 2000] [--sd 0.02] [--n-test 1500] [--no-figure]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from synergy_lab.measure import paired_difference

FIGURE = Path(__file__).resolve().parent.parent / "reports" / "figures" / "calibration.png"


def flag_rate(
    delta: float, seeds: int, sims: int, sd: float, n_test: int, mu: float, rng: np.random.Generator
) -> float:
    """Fraction of ``sims`` simulated comparisons whose 95 % interval excludes 0."""
    flags = 0
    for _ in range(sims):
        theta_a = np.clip(rng.normal(mu + delta, sd, seeds), 0, 1)
        theta_b = np.clip(rng.normal(mu, sd, seeds), 0, 1)
        a = rng.binomial(n_test, theta_a) / n_test
        b = rng.binomial(n_test, theta_b) / n_test
        flags += paired_difference(dict(enumerate(a)), dict(enumerate(b))).excludes_zero
    return flags / sims


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sims", type=int, default=2000)
    parser.add_argument("--sd", type=float, default=0.02, help="seed-to-seed sd of accuracy")
    parser.add_argument("--n-test", type=int, default=1500)
    parser.add_argument("--mu", type=float, default=0.9)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-figure", action="store_true")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    seeds_grid = (2, 3, 5, 10)
    deltas = (0.0, 0.02, 0.05)
    print(
        f"{args.sims} simulated comparisons per cell; seed sd {args.sd}, n_test {args.n_test}, "
        f"accuracy {args.mu}; flagged = 95 % paired t-interval excludes 0"
    )
    rates: dict[float, list[float]] = {}
    for delta in deltas:
        rates[delta] = [
            flag_rate(delta, k, args.sims, args.sd, args.n_test, args.mu, rng) for k in seeds_grid
        ]
        cells = ", ".join(
            f"{k} seeds {r:.3f} ± {np.sqrt(r * (1 - r) / args.sims):.3f}"
            for k, r in zip(seeds_grid, rates[delta], strict=True)
        )
        kind = "null (false flags)" if delta == 0 else f"delta {delta:.2f} (detected)"
        print(f"{kind:>22}: {cells}")
    if args.no_figure:
        return
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.6, 3.6))
    for delta, colour in zip(deltas, ("#7f7f7f", "#1f77b4", "#2ca02c"), strict=True):
        r = np.array(rates[delta])
        se = np.sqrt(r * (1 - r) / args.sims)
        label = "null: false-flag rate" if delta == 0 else f"planted {delta:.2f}: detection rate"
        ax.errorbar(seeds_grid, r, yerr=1.96 * se, marker="o", color=colour, label=label, capsize=2)
    ax.axhline(0.10, color="r", ls=":", lw=1, label="10 % (null target)")
    ax.axhline(0.05, color="k", ls=":", lw=0.8, label="5 % (nominal)")
    ax.set(xlabel="seeds per method", ylabel="fraction flagged", ylim=(0, 1.02), xticks=seeds_grid)
    ax.set_title(
        f"Paired t-interval: {args.sims} sims per point, seed sd {args.sd}, n = {args.n_test}",
        fontsize=9,
    )
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    FIGURE.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(FIGURE, dpi=110, bbox_inches="tight")
    print(f"wrote {FIGURE}")


if __name__ == "__main__":
    main()
