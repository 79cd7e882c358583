"""`evaluate RUN_DIR --probe mlp` re-probes the saved representations without retraining."""

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import synergy_lab.runs.cells as cells
from synergy_lab.cli import app
from synergy_lab.evaluate import ProbeConfig
from synergy_lab.runs import reevaluate, run_experiment


@pytest.mark.slow
def test_evaluate_reprobes_saved_representations_without_training(
    tmp_path: Path, tiny, monkeypatch
):
    config = tiny(methods=("random", "clip"))
    original = run_experiment(config, tmp_path)
    monkeypatch.setattr(cells, "train", lambda *a, **k: pytest.fail("retrained"))

    # the same probe on the saved representations gives the run's own numbers
    same = reevaluate(tmp_path, config.probe, out_dir=tmp_path / "same")
    columns = ["method", "seed", "label", "probe_accuracy", "pid_synergy"]
    pd.testing.assert_frame_equal(same[columns], original[columns])

    result = CliRunner().invoke(app, ["evaluate", str(tmp_path), "--probe", "mlp"])
    assert result.exit_code == 0, result.output
    mlp = pd.read_csv(tmp_path / "eval-mlp" / "results.csv")
    assert len(mlp) == len(original) and list(mlp.columns) == list(original.columns)
    assert (tmp_path / "eval-mlp" / "summary.md").is_file()
    assert (
        pd.read_json(tmp_path / "eval-mlp" / "probe.json", typ="series")["probe"]["kind"] == "mlp"
    )
    # xor's S label needs a nonlinear read-out of clip's features more than a linear one does
    assert not mlp["probe_accuracy"].equals(original["probe_accuracy"])


def test_evaluate_of_a_folder_without_cells_is_one_error_line(tmp_path: Path):
    result = CliRunner().invoke(app, ["evaluate", str(tmp_path)])
    assert result.exit_code == 2
    assert "no finished cells" in result.output and "Traceback" not in result.output
    with pytest.raises(ValueError, match="probe kind"):
        ProbeConfig(kind="forest")
