"""``synergy-lab analyze``: user files in, pid.csv / pid.png out; bad files rejected cleanly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from synergy_lab.analyze import AnalyzeConfig, analyze_file
from synergy_lab.cli import app

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
    # Percentile interval of a plug-in estimate: it may sit just beside the point (bias).
    assert s.synergy_lo <= s.synergy_hi and s.synergy_hi - s.synergy_lo < 0.05
    assert s.synergy_lo - 0.01 <= s.synergy <= s.synergy_hi + 0.01
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
