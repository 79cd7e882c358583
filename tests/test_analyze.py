"""``synergy-lab analyze``: user files in, pid.csv / pid.png out; bad files rejected cleanly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from synergy_lab.analyze import (
    ATOMS,
    AnalyzeConfig,
    _as_row,
    analyze_file,
    format_notes,
    max_clusters,
)
from synergy_lab.cli import app
from synergy_lab.pid import PID

runner = CliRunner()


def _xor_arrays(n: int = 600, seed: int = 0) -> dict[str, np.ndarray]:
    """x_i = (s_i, r) + small noise; labels S = s1 XOR s2 (1 bit synergy), R = r (1 bit shared)."""
    rng = np.random.default_rng(seed)
    s1, s2, r = (rng.integers(0, 2, n) for _ in range(3))
    noise = 0.05 * rng.standard_normal((n, 4))
    return {
        "x1": np.stack([s1, r], 1) + noise[:, :2],
        "x2": np.stack([s2, r], 1) + noise[:, 2:],
        "S": s1 ^ s2,
        "R": r,
    }


def test_npz_cluster_estimates_match_truth_with_intervals(tmp_path: Path) -> None:
    path = tmp_path / "xor.npz"
    np.savez(path, **_xor_arrays())
    config = AnalyzeConfig(estimators=("cluster",), clusters=4, bootstrap=10)
    frame = analyze_file(path, tmp_path / "out", config)
    s = frame.set_index("label").loc["S"]
    r = frame.set_index("label").loc["R"]
    assert s.synergy == pytest.approx(1.0, abs=0.02) and s.n == 600 and s.bootstrap == 10
    assert s.synergy_hi - s.synergy_lo < 0.05
    assert s.synergy_lo <= s.synergy <= s.synergy_hi
    assert r.redundancy == pytest.approx(1.0, abs=0.02) and r.synergy < 0.02
    written = pd.read_csv(tmp_path / "out" / "pid.csv")
    assert list(written.label) == ["S", "R"]
    assert (tmp_path / "out" / "pid.png").stat().st_size > 1000
    assert not list((tmp_path / "out").glob(".*tmp"))  # no temporary files left


def test_cli_analyze_csv_with_batch_and_gaussian(tmp_path: Path) -> None:
    arrays = _xor_arrays(500, 1)
    rng = np.random.default_rng(2)
    frame = pd.DataFrame(
        {
            "x1_a": arrays["x1"][:, 0],
            "x1_b": arrays["x1"][:, 1],
            "x2_a": arrays["x2"][:, 0],
            "x2_b": arrays["x2"][:, 1],
            "S": arrays["S"],
            "t": arrays["x1"][:, 0] + arrays["x2"][:, 0] + 0.5 * rng.standard_normal(500),
        }
    )
    path = tmp_path / "mine.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "out"
    result = runner.invoke(
        app,
        [
            "analyze", str(path), "--out", str(out), "--estimators", "batch,gaussian",
            "--continuous", "t", "--bootstrap", "5", "--device", "cpu", "--no-progress",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "pid.csv")
    assert list(zip(table.label, table.estimator, strict=True)) == [
        ("S", "batch"),
        ("t", "gaussian"),
    ]
    batch = table.iloc[0]
    assert batch.synergy > 0.7 and batch.n == 250  # held-out half
    gauss = table.iloc[1]
    assert gauss.synergy >= 0 and gauss.total > 0.5
    assert result.output.splitlines()[0].split()[:2] == ["label", "estimator"]
    assert "wrote" in result.output


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"x1": np.zeros((30, 2)), "y": np.zeros(30, int)}, "no array 'x2'"),
        ({"x1": np.zeros((30, 2)), "x2": np.zeros((29, 2)), "y": np.zeros(30, int)}, "29 rows"),
        ({"x1": np.full((30, 2), np.nan), "x2": np.zeros((30, 2)), "y": np.zeros(30, int)}, "NaN"),
        ({"x1": np.zeros((30, 2)), "x2": np.zeros((30, 2)), "y": np.linspace(0, 1, 30)}, "--cont"),
        ({"x1": np.zeros((30, 2)), "x2": np.zeros((30, 2))}, "no label"),
    ],
)
def test_bad_npz_one_line_exit_2_nothing_written(
    tmp_path: Path, arrays: dict, message: str
) -> None:
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    out = tmp_path / "out"
    out.mkdir()
    (out / "pid.csv").write_text("kept\n")  # an earlier result must survive
    result = runner.invoke(app, ["analyze", str(path), "--out", str(out), "--no-progress"])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0]
    assert sorted(p.name for p in out.iterdir()) == ["pid.csv"]
    assert (out / "pid.csv").read_text() == "kept\n"


def test_labels_are_recoded_and_config_checked() -> None:
    with pytest.raises(ValueError, match="unknown estimator 'magic'"):
        AnalyzeConfig(estimators=("magic",))
    with pytest.raises(ValueError, match="bootstrap"):
        AnalyzeConfig(bootstrap=-1)
    with pytest.raises(ValueError, match="level"):
        AnalyzeConfig(level=1.5)


def test_cli_run_with_user_data(tmp_path: Path) -> None:
    """``run --data`` trains on a user's .npz through synthetic.from_npz and run_experiment."""
    path = tmp_path / "mine.npz"
    np.savez(path, **_xor_arrays(300, 3))
    out = tmp_path / "run"
    result = runner.invoke(
        app,
        [
            "run", "--data", str(path), "--methods", "clip", "--seeds", "1", "--epochs", "1",
            "--no-baselines", "--device", "cpu", "--no-progress", "--out", str(out),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    results = pd.read_csv(out / "results.csv")
    assert set(results.task) == {"mine"} and set(results.label) == {"S", "R"}
    assert results.pid_synergy.notna().all()  # cluster-estimated model PID, no latents


def test_cli_run_with_bad_user_data(tmp_path: Path) -> None:
    path = tmp_path / "bad.npz"
    np.savez(path, x1=np.zeros((30, 2)), y=np.zeros(30, int))
    result = runner.invoke(app, ["run", "--data", str(path), "--out", str(tmp_path / "r")])
    assert result.exit_code == 2 and "no array 'x2'" in result.output
    assert not (tmp_path / "r").exists()


def test_vector_target_uses_the_gaussian_broja_definition(tmp_path: Path) -> None:
    # Y = (y1, y2) given as CSV columns emb_0, emb_1: X1 sees y1, X2 sees y2 (pure uniqueness).
    rng = np.random.default_rng(3)
    y = rng.standard_normal((20000, 2))
    x1 = y[:, :1] + 0.5 * rng.standard_normal((20000, 1))
    x2 = y[:, 1:] + 0.5 * rng.standard_normal((20000, 1))
    frame = pd.DataFrame({"x1_a": x1[:, 0], "x2_a": x2[:, 0], "emb_0": y[:, 0], "emb_1": y[:, 1]})
    path = tmp_path / "emb.csv"
    frame.to_csv(path, index=False)
    config = AnalyzeConfig(estimators=("gaussian",), continuous=("emb",), bootstrap=3)
    row = analyze_file(path, tmp_path / "out", config).iloc[0]
    single = 0.5 * np.log2(1 + 1 / 0.25)  # I(y1; x1) = I(y2; x2), SNR 4
    assert row.label == "emb" and row.definition == "gaussian-broja"
    assert row.unique1 == pytest.approx(single, abs=0.03)
    assert row.unique2 == pytest.approx(single, abs=0.03)
    assert abs(row.redundancy) < 0.01 and abs(row.synergy) < 0.01
    written = pd.read_csv(tmp_path / "out" / "pid.csv")
    assert written.definition.tolist() == ["gaussian-broja"]


def test_npz_vector_and_scalar_targets_say_their_definition(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    y = rng.standard_normal((500, 3))
    path = tmp_path / "t.npz"
    np.savez(
        path,
        x1=y[:, :2] + rng.standard_normal((500, 2)),
        x2=y[:, 1:] + rng.standard_normal((500, 2)),
        rep=y,
        t=y[:, 0],
    )
    config = AnalyzeConfig(estimators=("gaussian",), continuous=("rep", "t"), bootstrap=0)
    frame = analyze_file(path, tmp_path / "out", config).set_index("label")
    assert frame.loc["rep", "definition"] == "gaussian-broja"
    assert frame.loc["t", "definition"] == "gaussian-broja=mmi"


def _xor_bits(n: int = 1000, seed: int = 0) -> dict[str, np.ndarray]:
    """x1 = bit a + noise, x2 = bit b + noise (3 dims each, sd 0.3); S = a XOR b (1 bit synergy)."""
    rng = np.random.default_rng(seed)
    a, b = rng.integers(0, 2, n), rng.integers(0, 2, n)
    return {
        "x1": a[:, None] + 0.3 * rng.standard_normal((n, 3)),
        "x2": b[:, None] + 0.3 * rng.standard_normal((n, 3)),
        "S": a ^ b,
    }


def test_every_interval_holds_its_estimate(tmp_path: Path) -> None:
    # The plain percentile interval put R's redundancy 0.99997 outside [0.99255, 0.99987] here.
    path = tmp_path / "xor.npz"
    np.savez(path, **_xor_arrays())
    config = AnalyzeConfig(estimators=("cluster",), clusters=4, bootstrap=20)
    frame = analyze_file(path, tmp_path / "out", config)
    for row in frame.itertuples(index=False):
        for atom in ATOMS:
            value, lo, hi = (getattr(row, atom + s) for s in ("", "_lo", "_hi"))
            assert 0 <= lo <= value <= hi <= max(row.label_entropy, value), (row.label, atom)
    r = frame.set_index("label").loc["R"]
    assert r.redundancy_hi - r.redundancy_lo > 0.002  # still an interval, not a point
    assert not frame.total_above_entropy.any()


def test_total_above_entropy_is_flagged_with_one_note() -> None:
    point = PID(redundancy=0.0, unique1=0.0, unique2=0.0019, synergy=1.0, total=1.0019)
    # percentiles 1.00105, 1.002, 1.00295 moved by -0.0001; the top clipped to the estimate
    boot = np.array([[0.0, 0.0, 0.001, 1.0, 1.001], [0.0, 0.0, 0.003, 1.0, 1.003]])
    row = _as_row("S", "batch", 500, point, boot, 0.95, 1.0, entropy=1.0)
    assert row["total_above_entropy"] is True
    assert row["total_lo"] <= row["total"] == row["total_hi"]  # clipped to the estimate
    notes = format_notes(pd.DataFrame([row]))
    assert notes == [
        "note: S batch: total 1.0019 [1.0010, 1.0019] bits exceeds H(Y) = 1.0000 bits; "
        "I(X1, X2; Y) <= H(Y), so the excess is estimation error"
    ]
    below = _as_row("S", "batch", 500, PID(0.0, 0.0, 0.0, 0.99, 0.99), boot, 0.95, 1.0, entropy=1.0)
    assert below["total_above_entropy"] is False and not format_notes(pd.DataFrame([below]))


@pytest.mark.parametrize("k", [5000, 100])
def test_too_many_clusters_for_the_rows_is_refused(tmp_path: Path, k: int) -> None:
    # Measured on this XOR (1,000 rows): k = 100 gives R 0.068, S 0.916; 5000 gives R 1, S 0.
    path = tmp_path / "xor.npz"
    np.savez(path, **_xor_bits())
    out = tmp_path / "out"
    result = runner.invoke(
        app, ["analyze", str(path), "--out", str(out), "--estimators", "cluster",
              "--clusters", str(k)],
    )  # fmt: skip
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: --clusters {k} is too many")
    assert "1000 rows of label 'S'" in lines[0] and "use --clusters 70 or fewer" in lines[0]
    assert not out.exists()


def test_the_largest_allowed_k_keeps_xor_synergy(tmp_path: Path) -> None:
    assert max_clusters(1000, 2) == 70 and max_clusters(1000, 10) == 8
    path = tmp_path / "xor.npz"
    np.savez(path, **_xor_bits())
    config = AnalyzeConfig(estimators=("cluster",), clusters=50, bootstrap=0)
    s = analyze_file(path, tmp_path / "out", config).iloc[0]
    assert s.synergy > 0.94 and s.redundancy < 0.05


def test_progress_bar_only_once_there_is_work_and_with_a_total(tmp_path: Path) -> None:
    path = tmp_path / "xor.npz"
    np.savez(path, **_xor_arrays(200))
    result = runner.invoke(
        app, ["analyze", str(path), "--out", str(tmp_path / "o"), "--estimators", "cluster",
              "--clusters", "4", "--bootstrap", "2"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "0step [" not in result.output and "| 0/3 [" in result.output  # k-means, S, R
    bad = tmp_path / "bad.npz"
    np.savez(bad, x1=np.zeros((30, 2)), y=np.zeros(30, int))
    result = runner.invoke(app, ["analyze", str(bad), "--out", str(tmp_path / "b")])
    lines = result.output.strip().splitlines()  # no bar line before the error
    assert result.exit_code == 2 and len(lines) == 1 and lines[0].startswith("error: ")
