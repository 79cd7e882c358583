from pathlib import Path

import pandas as pd
import pytest

from synergy_lab.report import accuracy_table, markdown_summary, synergy_table, write_report
from synergy_lab.results import CURVE_COLUMNS, atomic_write_csv


def test_accuracy_table_mean_and_std(results_frame):
    frame = results_frame(methods=("comm",), seeds=(0, 1), labels=("S",))
    frame["probe_accuracy"] = [0.5, 0.7]
    frame["train_seconds"] = [10.0, 20.0]
    table = accuracy_table(frame)
    assert table.loc["comm", "S"] == "0.600 ± 0.141"
    assert table.loc["comm", "seeds"] == 2
    assert table.loc["comm", "train s"] == "15.0"


def test_synergy_table_pairs_model_and_ground_truth(results_frame):
    frame = results_frame(methods=("clip",), seeds=(0,), labels=("S",))
    frame["pid_synergy"] = [0.25]
    frame["gt_synergy"] = [1.0]
    row = synergy_table(frame).iloc[0]
    assert row["synergy"] == "0.250"
    assert row["true synergy"] == "1.000"


def test_markdown_lists_methods_in_run_order(results_frame):
    text = markdown_summary(results_frame(methods=("random", "infmasking", "supervised")))
    assert text.index("| random") < text.index("| infmasking") < text.index("| supervised")


def test_write_report_makes_summary_and_figures(tmp_path: Path, results_frame):
    atomic_write_csv(tmp_path / "results.csv", results_frame())
    curves = pd.DataFrame(
        [("comm", s, step, "loss", 3.0 - 0.1 * step) for s in (0, 1) for step in range(5)],
        columns=list(CURVE_COLUMNS),
    )
    atomic_write_csv(tmp_path / "curves.csv", curves)
    written = write_report(tmp_path)
    assert {p.name for p in written} == {"summary.md", "accuracy.png", "pid.png", "curves.png"}
    for path in written:
        assert path.stat().st_size > 0
        if path.suffix == ".png":
            assert path.read_bytes()[:4] == b"\x89PNG"


def test_write_report_rejects_an_empty_results_file(tmp_path: Path, results_frame):
    atomic_write_csv(tmp_path / "results.csv", results_frame().iloc[:0])
    with pytest.raises(ValueError, match="no rows"):
        write_report(tmp_path)
