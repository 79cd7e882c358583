"""``synergy_lab.report.figures``: fixed colours, one panel per training group, t-intervals."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from synergy_lab.report import method_colour


def test_palette_is_fixed_per_method():
    assert method_colour("clip") == method_colour("clip") != method_colour("comm")
    assert method_colour("some-new-method") == method_colour("some-new-method")


def test_curves_of_training_groups_get_a_panel_each(tmp_path):
    from synergy_lab.report import plot_curves

    rows = [
        {"method": "clip", "seed": seed, "step": step, "part": f"{group}/{part}", "value": 1.0}
        for seed in (0, 1)
        for group in ("RU", "S")
        for part in ("loss", "nce")
        for step in range(3)
    ]
    path = tmp_path / "curves.png"
    captured = {}
    import matplotlib.pyplot as plt

    real = plt.subplots

    def spy(*args, **kwargs):
        fig, axes = real(*args, **kwargs)
        captured["axes"] = axes
        return fig, axes

    import synergy_lab.report.figures as figures

    figures.plt.subplots = spy  # type: ignore[assignment]
    try:
        plot_curves(pd.DataFrame(rows), path)
    finally:
        figures.plt.subplots = real  # type: ignore[assignment]
    assert path.is_file()
    titles = [ax.get_title() for ax in captured["axes"]]
    assert titles == ["model of group RU", "model of group S"]
    assert all(len(ax.lines) >= 2 for ax in captured["axes"])  # a line per seed in each


def test_bars_and_grid_points_use_the_t_interval_of_the_mean():
    """The figures' intervals are measure.seed_summary's: mean +- t(0.975, n - 1) sd / sqrt(n)."""
    from synergy_lab.report.figures import _interval, _mean_halfwidth

    values = pd.Series([0.2, 0.4, 0.9, np.nan])  # NaN dropped: n = 3
    half = stats.t.ppf(0.975, 2) * np.std([0.2, 0.4, 0.9], ddof=1) / np.sqrt(3)
    mean, width, n = _mean_halfwidth(values)
    assert (mean, n) == (pytest.approx(0.5), 3) and width == pytest.approx(half, rel=1e-12)
    assert _interval(values) == pytest.approx((0.5, 0.5 - half, 0.5 + half), rel=1e-12)
    one = _mean_halfwidth(pd.Series([0.7]))
    assert one[0] == 0.7 and np.isnan(one[1]) and one[2] == 1
    assert np.isnan(_interval(pd.Series([0.7]))[1:]).all()
