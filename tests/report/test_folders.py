"""``synergy_lab.report.folders``: reports written from run folders, old folders, merged runs."""

import json
from pathlib import Path

import pandas as pd
import pytest

from synergy_lab.files import atomic_write_csv
from synergy_lab.report import compare_runs, read_variants, write_report
from synergy_lab.results import CURVE_COLUMNS, DYNAMICS_COLUMNS, REQUIRED_RESULT_COLUMNS

REPO = Path(__file__).resolve().parents[2]


def test_old_results_folder_still_reports(tmp_path: Path):
    old = REPO / "reports" / "trifeature-32px" / "results.csv"
    frame = pd.read_csv(old)
    assert list(frame.columns) == list(REQUIRED_RESULT_COLUMNS)  # written before issue 11
    atomic_write_csv(tmp_path / "results.csv", frame)
    written = write_report(tmp_path)
    assert {p.name for p in written} == {"summary.md", "accuracy.png", "pid.png"}
    assert "predates usable bits" in (tmp_path / "summary.md").read_text()


def test_compare_merges_run_folders(tmp_path: Path, results_frame):
    frame = results_frame(methods=("clip", "comm"), seeds=(0, 1, 2))
    for name, seeds in (("a", (0, 1)), ("b", (2,))):
        (tmp_path / name).mkdir()
        atomic_write_csv(tmp_path / name / "results.csv", frame[frame.seed.isin(seeds)])
    table = compare_runs([tmp_path / "a", tmp_path / "b"], "S")
    assert table.iloc[0]["seeds"] == 3
    with pytest.raises(ValueError, match="more than one run folder"):
        compare_runs([tmp_path / "a", tmp_path / "a"], "S")


def test_write_report_makes_summary_and_figures(tmp_path: Path, results_frame):
    atomic_write_csv(tmp_path / "results.csv", results_frame())
    curves = pd.DataFrame(
        [("comm", s, step, "loss", 3.0 - 0.1 * step) for s in (0, 1) for step in range(5)],
        columns=list(CURVE_COLUMNS),
    )
    atomic_write_csv(tmp_path / "curves.csv", curves)
    dynamics = pd.DataFrame(
        [
            (m, s, e, label, 0.5 + 0.04 * e, 0.1 * e)
            for m in ("comm", "clip")
            for s in (0, 1)
            for e in range(4)
            for label in ("R", "S")
        ],
        columns=list(DYNAMICS_COLUMNS),
    )
    atomic_write_csv(tmp_path / "dynamics.csv", dynamics)
    written = write_report(tmp_path)
    assert {p.name for p in written} == {
        "summary.md",
        "accuracy.png",
        "usable.png",
        "pid.png",
        "curves.png",
        "dynamics.png",
    }
    for path in written:
        assert path.stat().st_size > 0
        if path.suffix == ".png":
            assert path.read_bytes()[:4] == b"\x89PNG"


def test_write_report_rejects_an_empty_results_file(tmp_path: Path, results_frame):
    atomic_write_csv(tmp_path / "results.csv", results_frame().iloc[:0])
    with pytest.raises(ValueError, match="no rows"):
        write_report(tmp_path)


@pytest.mark.parametrize(
    ("name", "record"),
    [
        ("probe.json", {"probe": {"kind": "mlp"}}),
        ("config.json", {"config": {"probe": {"kind": "mlp"}}}),
    ],
)
def test_report_names_the_probe_of_the_folder(
    tmp_path: Path, results_frame, monkeypatch, name, record
):
    import json

    import synergy_lab.report.figures as figures

    atomic_write_csv(tmp_path / "results.csv", results_frame(seeds=(0,)))
    (tmp_path / name).write_text(json.dumps(record))
    labels: list[str] = []
    real = figures.plt.Axes.set_ylabel
    monkeypatch.setattr(
        figures.plt.Axes,
        "set_ylabel",
        lambda ax, text, **k: labels.append(text) or real(ax, text, **k),
    )
    real_set = figures.plt.Axes.set
    monkeypatch.setattr(
        figures.plt.Axes,
        "set",
        lambda ax, **k: labels.append(k.get("ylabel", "")) or real_set(ax, **k),
    )
    write_report(tmp_path)
    summary = (tmp_path / "summary.md").read_text()
    assert "## MLP-probe test accuracy" in summary and "Linear-probe" not in summary
    assert "mlp-probe test accuracy" in labels and "linear-probe test accuracy" not in labels


def test_compare_says_zero_spread_is_not_estimable(tmp_path: Path, results_frame):
    from typer.testing import CliRunner

    from synergy_lab.cli import app

    frame = results_frame(methods=("clip", "comm"), seeds=(0, 1), labels=("S",))
    frame["probe_accuracy"] = [0.9, 0.8, 0.873, 0.773]  # clip - comm = +0.027 on both seeds
    atomic_write_csv(tmp_path / "results.csv", frame)
    result = CliRunner().invoke(app, ["compare", str(tmp_path), "--label", "S"])
    assert result.exit_code == 0, result.output
    row = result.output.splitlines()[-1]
    assert row == "| clip | comm | 2 | +0.027 | — | — | spread 0 over 2 seeds: not estimable |"


def test_read_variants_names_each_folders_method_by_its_variant(tmp_path: Path, results_frame):
    main = results_frame(methods=("comm", "infmasking"), seeds=(0, 1))
    variant = results_frame(methods=("infmasking",), seeds=(0, 1))
    for name, frame in (("main", main), ("rho", variant)):
        (tmp_path / name).mkdir()
        atomic_write_csv(tmp_path / name / "results.csv", frame)
    folders = {"default": tmp_path / "main", "rho 0.25": tmp_path / "rho"}
    merged = read_variants(folders, "infmasking")
    assert list(merged.method.unique()) == ["comm", "default", "rho 0.25"]
    assert len(merged) == len(main) + len(variant)
    with pytest.raises(ValueError, match="more than one variant folder"):
        read_variants({"a": tmp_path / "main", "b": tmp_path / "main"}, "infmasking")
    # folders that each hold CoMM too: others=False keeps only the variant's rows of each
    both = {"default": tmp_path / "main", "again": tmp_path / "main"}
    with pytest.raises(ValueError, match="more than one variant folder"):
        read_variants(both, "infmasking")  # CoMM's cells come from both folders
    only = read_variants(both, "infmasking", others=False)
    assert list(only.method.unique()) == ["default", "again"]
    assert len(only) == 2 * len(main[main.method == "infmasking"])
    with pytest.raises(ValueError, match="no 'clip' cells"):
        read_variants(folders, "clip")
    # folders whose seeds draw other data (other task settings) do not pair by seed
    for name, samples in (("main", 5000), ("rho", 1000)):
        record = {"config": {"task": "xor", "task_config": {"n_samples": samples}}}
        (tmp_path / name / "config.json").write_text(json.dumps(record))
    with pytest.raises(ValueError, match="other task settings"):
        read_variants(folders, "infmasking")


def test_read_variants_pairs_an_older_folder_with_a_newer_one_of_the_same_data(
    tmp_path: Path, results_frame
):
    """Committed records: rho-0.25's config.json predates ``trifeature_reference``, T-8's was
    rewritten after it (``"unbiased"``, which changes nothing for xor); they draw the same data
    and pair. A folder recorded with another sample size does not."""
    ablation = REPO / "reports" / "masking-ablation"
    old = json.loads((ablation / "rho-0.25" / "config.json").read_text())
    new = json.loads((ablation / "T-8" / "config.json").read_text())
    assert old["config"]["task_config"] != new["config"]["task_config"]
    frame = results_frame(methods=("infmasking",), seeds=(0, 1))
    folders = {}
    for name, record in (("rho", old), ("T", new)):
        (tmp_path / name).mkdir()
        atomic_write_csv(tmp_path / name / "results.csv", frame)
        (tmp_path / name / "config.json").write_text(json.dumps(record))
        folders[name] = tmp_path / name
    assert sorted(read_variants(folders, "infmasking").method.unique()) == ["T", "rho"]
    other = json.loads(json.dumps(new))
    other["settings"]["settings"]["task_config"]["n_samples"] = 1000
    (tmp_path / "T" / "config.json").write_text(json.dumps(other))
    with pytest.raises(ValueError, match="other task settings"):
        read_variants(folders, "infmasking")
