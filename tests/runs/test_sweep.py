"""Grids: every point x method x seed is a cell; bad values are rejected before training."""

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import synergy_lab.runs.cells as cells
from synergy_lab.cli import app
from synergy_lab.config import RunConfig
from synergy_lab.runs import expand_grid

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
    grid = {"method.infmasking.mask_ratio": [0.3, 0.5], "task.noise": [0.1]}
    points = expand_grid(RunConfig(), grid)
    assert [p for p, _ in points] == [
        {"method.infmasking.mask_ratio": 0.3, "task.noise": 0.1},
        {"method.infmasking.mask_ratio": 0.5, "task.noise": 0.1},
    ]
    last = points[1][1]
    assert last.method["infmasking"].mask_ratio == 0.5 and last.task_config.noise == 0.1
    assert last.method["coral"].mask_ratio == 0.75  # another method's field of the same name
    flat = expand_grid(RunConfig(), {"method.num_masks": [2]})[0][1]  # the old flat key
    assert flat.method["infmasking"].num_masks == 2
    shared = expand_grid(RunConfig(), {"method.temperature": [0.2]})[0][1]
    assert {shared.method[m].temperature for m in ("clip", "comm", "infmasking")} == {0.2}
    bad = [
        ({"method.infmasking.mask_ratio": [0.5, 1.5]}, "mask_ratio = 1.5 is rejected"),
        ({"method.infmasking.num_masks": [2.5]}, "num_masks = 2.5 has the wrong type"),
        ({"task.n_samples": [600, "many"]}, "task.n_samples = 'many' has the wrong type"),
        ({"method.nope": [1]}, "write method.<name>.<setting>"),
        ({"method.comm.nope": [1]}, r"\[method.comm\] has no setting 'nope'"),
        ({"method.nobody.x": [1]}, "no method 'nobody'"),
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

    from synergy_lab.cli import config_from_file
    from synergy_lab.runs.folder import plan_cells

    path = Path(__file__).parents[2] / "configs" / "masking_ablation.toml"
    document = tomllib.loads(path.read_text())
    points = expand_grid(config_from_file(document, path), document["grid"])
    assert len(points) == 9
    assert {c.method["infmasking"].mask_ratio for _, c in points} == {0.25, 0.5, 0.7}
    # InfMasking is trained at each of the 9 points; random, comm, supervised once per seed
    specs = plan_cells(points, None, None)
    counts = {m: sum(s.method == m for s in specs) for m in ("random", "comm", "infmasking")}
    assert counts == {"random": 3, "comm": 3, "infmasking": 27} and len(specs) == 36
