"""``synergy_lab.report.figures``: fixed colours, one panel per training group, t-intervals."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from synergy_lab.pid import PID
from synergy_lab.report import method_colour


def test_palette_is_fixed_per_method():
    assert method_colour("clip") == method_colour("clip") != method_colour("comm")
    assert method_colour("some-new-method") == method_colour("some-new-method")


def _axes_of(monkeypatch, plot, frame, path):
    """Run ``plot`` and return the axes it drew on."""
    import matplotlib.pyplot as plt

    import synergy_lab.report.figures as figures

    captured = {}
    real = plt.subplots

    def spy(*args, **kwargs):
        fig, axes = real(*args, **kwargs)
        captured["axes"] = axes
        return fig, axes

    monkeypatch.setattr(figures.plt, "subplots", spy)
    plot(frame, path)
    return list(np.atleast_1d(captured["axes"]))


def test_curves_of_training_groups_get_a_panel_each(tmp_path, monkeypatch):
    from synergy_lab.report import plot_curves

    rows = [
        {"method": "clip", "seed": seed, "step": step, "part": f"{group}/{part}", "value": 1.0}
        for seed in (0, 1)
        for group in ("RU", "S")
        for part in ("loss", "nce")
        for step in range(3)
    ]
    path = tmp_path / "curves.png"
    axes = _axes_of(monkeypatch, plot_curves, pd.DataFrame(rows), path)
    assert path.is_file()
    titles = [ax.get_title() for ax in axes]
    assert titles == ["model of group RU", "model of group S"]
    assert all(len(ax.lines) >= 2 for ax in axes)  # a line per seed in each


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


def _spy_axes(monkeypatch) -> dict:
    import matplotlib.pyplot as plt

    import synergy_lab.report.figures as figures

    captured: dict = {}
    real = plt.subplots

    def spy(*args, **kwargs):
        fig, axes = real(*args, **kwargs)
        captured["fig"], captured["axes"] = fig, np.atleast_1d(axes).ravel()
        return fig, axes

    monkeypatch.setattr(figures.plt, "subplots", spy)
    monkeypatch.setattr(figures.plt, "close", lambda fig: None)
    return captured


def test_pid_panels_share_0_to_h_y_and_clip_intervals(tmp_path, results_frame, monkeypatch):
    from synergy_lab.report import plot_pid

    frame = results_frame(methods=("clip", "comm"), seeds=(0, 1), labels=("R", "S"))
    for part in PID.PARTS:
        frame[f"gt_{part}"] = 0.0
        frame[f"pid_soft_{part}_corrected"] = 0.01
    frame.loc[frame.label == "S", "gt_synergy"] = 1.0
    frame.loc[frame.label == "R", "gt_redundancy"] = 1.0
    frame["chance_accuracy"] = 0.5  # balanced binary labels: H(Y) = 1 bit
    # two seeds 0.1 and 0.9: the t-interval of the mean runs from -4.6 to 5.6 bits
    frame.loc[frame.label == "S", "pid_soft_synergy_corrected"] = [0.1, 0.9, 0.3, 0.35]
    captured = _spy_axes(monkeypatch)
    plot_pid(frame, tmp_path / "pid.png")
    axes = captured["axes"]
    assert [ax.get_ylim() for ax in axes] == [pytest.approx((0, 1.05))] * 2
    tops = [
        segment[:, 1].max()
        for ax in axes
        for collection in ax.collections
        for segment in getattr(collection, "get_segments", list)()
    ]
    assert tops and max(tops) == pytest.approx(1.0)  # clipped at H(Y)
    assert "intervals clipped to [0, H(Y)]" in captured["fig"]._suptitle.get_text()


def test_grid_accuracy_axis_runs_from_chance_to_one(tmp_path, results_frame, monkeypatch):
    from synergy_lab.report import plot_grid

    base = results_frame(methods=("comm",), seeds=(0, 1, 2), labels=("R", "S"))
    frame = pd.concat([base.assign(**{"task.noise": v}) for v in (0.25, 0.5)], ignore_index=True)
    frame["probe_accuracy"] = np.linspace(0.9731, 0.9738, len(frame))
    frame["usable_bits"] = np.nan
    frame["chance_accuracy"] = 0.5
    captured = _spy_axes(monkeypatch)
    plot_grid(frame, "task.noise", tmp_path / "grid.png")
    limits = [ax.get_ylim() for ax in captured["axes"]]
    assert limits == [pytest.approx((0.48, 1.02))] * 2  # one axis, not 0.9731-0.9738


def test_heldout_marks_where_each_model_stopped(tmp_path, monkeypatch):
    """A panel per group; per method and seed a line of the held-out checks and a marker on the
    last one, at that check's step and loss (seed 1's S model stops earlier)."""
    from synergy_lab.report import plot_heldout

    last = {("RU", 0): 500, ("RU", 1): 500, ("S", 0): 500, ("S", 1): 300}
    rows = [
        {
            "method": "supervised",
            "seed": seed,
            "step": step,
            "part": f"{group}/{part}",
            "value": 2.0 - step / 1000 + seed,
        }
        for (group, seed), end in last.items()
        for part in ("loss", "val_loss")
        for step in range(0, end + 1, 100)
    ]
    path = tmp_path / "heldout.png"
    axes = _axes_of(monkeypatch, plot_heldout, pd.DataFrame(rows), path)
    assert path.is_file()
    assert [ax.get_title() for ax in axes] == ["model of group RU", "model of group S"]
    for ax, group in zip(axes, ("RU", "S"), strict=True):
        drawn = [line for line in ax.lines if len(line.get_xdata()) > 0]
        markers = [line for line in drawn if line.get_marker() == "o"]
        curves = [line for line in drawn if line.get_marker() != "o"]
        assert len(curves) == 2 and len(markers) == 2
        ends = sorted((float(m.get_xdata()[0]), float(m.get_ydata()[0])) for m in markers)
        expected = sorted(
            (float(last[group, seed]), 2.0 - last[group, seed] / 1000 + seed) for seed in (0, 1)
        )
        assert np.allclose(ends, expected)
        lengths = [len(curve.get_xdata()) for curve in curves]
        assert lengths == [last[group, seed] // 100 + 1 for seed in (0, 1)]


def test_five_seeds_get_five_line_styles(tmp_path, monkeypatch):
    """The seed legend tells every seed of a 5-seed grid apart (a 4-style cycle did not)."""
    from synergy_lab.report import plot_curves

    rows = [
        {"method": "clip", "seed": seed, "step": step, "part": "loss", "value": 1.0}
        for seed in range(5)
        for step in range(3)
    ]
    axes = _axes_of(monkeypatch, plot_curves, pd.DataFrame(rows), tmp_path / "c.png")
    legend = {
        text.get_text(): handle
        for text, handle in zip(
            axes[-1].get_legend().get_texts(), axes[-1].get_legend().legend_handles, strict=True
        )
    }
    # get_linestyle() names every custom dash pattern "--": compare the patterns themselves.
    patterns = {str(legend[f"seed {seed}"]._unscaled_dash_pattern) for seed in range(5)}
    assert len(patterns) == 5


def test_heldout_without_checks_draws_a_note(tmp_path, monkeypatch):
    """A run under a fixed budget has no held-out checks: one panel that says so, no error."""
    from synergy_lab.report import plot_heldout

    rows = [
        {"method": "clip", "seed": 0, "step": s, "part": "RU/loss", "value": 1.0} for s in (0, 1)
    ]
    path = tmp_path / "heldout.png"
    axes = _axes_of(monkeypatch, plot_heldout, pd.DataFrame(rows), path)
    assert path.is_file()
    assert [text.get_text() for text in axes[0].texts] == [
        "no held-out checks (a fixed budget, or untrained baselines only)"
    ]


def test_heldout_keeps_negative_losses_on_a_symmetric_log_scale(tmp_path, monkeypatch):
    """FactorCL's held-out loss is negative: a plain log axis would drop it, so a panel with a
    loss <= 0 is drawn on a symmetric log scale; an all-positive panel stays on a log scale."""
    from synergy_lab.report import plot_heldout

    values = {("RU", "clip"): 4.0, ("RU", "factorcl"): -7.0, ("S", "clip"): 3.0}
    rows = [
        {"method": m, "seed": 0, "step": step, "part": f"{g}/val_loss", "value": v - step / 1000}
        for (g, m), v in values.items()
        for step in (0, 100, 200)
    ]
    axes = _axes_of(monkeypatch, plot_heldout, pd.DataFrame(rows), tmp_path / "h.png")
    assert [ax.get_yscale() for ax in axes] == ["symlog", "log"]
    lows = [min(line.get_ydata()) for line in axes[0].lines if len(line.get_xdata()) > 0]
    assert min(lows) == pytest.approx(-7.2)
