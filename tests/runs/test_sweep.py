"""Grids: every point x method x seed is a cell; bad values are rejected before training."""

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import synergy_lab.runs.cells as cells
from synergy_lab.cli import app
from synergy_lab.experiment import RunConfig
from synergy_lab.runs import expand_grid

pytestmark = pytest.mark.usefixtures("one_thread")
runner = CliRunner()

TINY_TOML = """
[run]
task = "xor"
methods = ["clip"]
seeds = 1
baselines = false

[task]
n_samples = 600

[model]
dim = 16
encoder_hidden = 32
projection_dim = 16

[train]
epochs = 1
batch_size = 128
device = "cpu"

[probe]
l2_grid = [1e-3]
max_iter = 30
"""


def test_expand_grid_builds_every_point_and_rejects_bad_values():
    points = expand_grid(RunConfig(), {"method.mask_ratio": [0.3, 0.5], "task.noise": [0.1]})
    assert [p for p, _ in points] == [
        {"method.mask_ratio": 0.3, "task.noise": 0.1},
        {"method.mask_ratio": 0.5, "task.noise": 0.1},
    ]
    assert points[1][1].method.mask_ratio == 0.5 and points[1][1].task_config.noise == 0.1
    assert expand_grid(RunConfig(), {"method.num_masks": [2]})[0][1].method.num_masks == 2
    bad = [
        ({"method.mask_ratio": [0.5, 1.5]}, "method.mask_ratio = 1.5 is rejected"),
        ({"task.n_samples": [600, "many"]}, "task.n_samples = 'many' has the wrong type"),
        ({"method.nope": [1]}, r"\[method\] has no setting 'nope'"),
        ({"colour.x": [1]}, "is not section.field"),
        ({"train.lr": []}, "non-empty list"),
        ({"train.seed": [1, 2]}, "seeds are a run setting"),
        ({"run.task": ["xor", "nope"]}, "nope"),
    ]
    for grid, message in bad:
        with pytest.raises(ValueError, match=message):
            expand_grid(RunConfig(), grid)


def test_sweep_runs_each_point_as_cells_with_grid_columns_and_figures(tmp_path: Path, monkeypatch):
    file = tmp_path / "sweep.toml"
    file.write_text(TINY_TOML + '\n[grid]\n"train.lr" = [0.001, 0.003]\n')
    out = tmp_path / "run"
    result = runner.invoke(app, ["sweep", str(file), "--out", str(out)])
    assert result.exit_code == 0, result.output
    results = pd.read_csv(out / "results.csv")
    assert list(results.columns[:4]) == ["task", "method", "seed", "train.lr"]
    assert sorted(set(results["train.lr"])) == [0.001, 0.003]
    assert len(results) == 2 * 4  # 2 points x 1 method x 1 seed x 4 labels
    assert sorted(p.name for p in (out / "cells").glob("*.json")) == [
        "clip-seed0-train.lr=0.001.json",
        "clip-seed0-train.lr=0.003.json",
    ]
    assert (out / "grid-train.lr.png").is_file()
    curves = pd.read_csv(out / "curves.csv")
    assert set(curves["train.lr"]) == {0.001, 0.003}

    # rerun: nothing trains; another grid is another setting, named
    monkeypatch.setattr(cells, "train", lambda *a, **k: pytest.fail("retrained"))
    again = runner.invoke(app, ["sweep", str(file), "--out", str(out)])
    assert again.exit_code == 0, again.output
    file.write_text(TINY_TOML + '\n[grid]\n"train.lr" = [0.001, 0.01]\n')
    other = runner.invoke(app, ["sweep", str(file), "--out", str(out)])
    assert other.exit_code == 2
    assert "grid.train.lr" in other.output and "--new-folder" in other.output


def test_a_bad_grid_value_stops_the_sweep_before_anything_trains(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(cells, "train", lambda *a, **k: pytest.fail("trained"))
    file = tmp_path / "sweep.toml"
    file.write_text(TINY_TOML + '\n[grid]\n"train.lr" = [0.001, -1.0]\n')
    out = tmp_path / "run"
    result = runner.invoke(app, ["sweep", str(file), "--out", str(out)])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and "train.lr = -1.0 is rejected" in result.output
    assert not out.exists()


def test_the_committed_masking_ablation_sweep_is_valid():
    import tomllib

    from synergy_lab.cli import _config_from_file

    path = Path(__file__).parents[2] / "configs" / "masking_ablation.toml"
    document = tomllib.loads(path.read_text())
    points = expand_grid(_config_from_file(document, path), document["grid"])
    assert len(points) == 9
    assert {c.method.mask_ratio for _, c in points} == {0.25, 0.5, 0.7}
