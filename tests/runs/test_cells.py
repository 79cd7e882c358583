"""Cell files: one per finished cell, hashed settings, merge, resume, refusal, corruption, -9."""

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

import synergy_lab.runs.cells as cells
from synergy_lab.results import RESULT_COLUMNS, read_results
from synergy_lab.runs import RunFolderError, folder_status, read_cell, run_cells, run_experiment
from synergy_lab.train import TrainedModel


def _record_training(monkeypatch) -> list[tuple[str, object, str]]:
    """Every model a cell trains, as (method, the dataset it was given, the split it trained
    on), training still done by the real trainer."""
    calls: list[tuple[str, object, str]] = []
    real = cells.train

    def recording(method, data, *args, **kwargs):
        calls.append((method, data, kwargs["train_config"].split))
        return real(method, data, *args, **kwargs)

    monkeypatch.setattr(cells, "train", recording)
    return calls


def test_each_cell_is_a_file_with_its_hash_and_results_are_merged(tmp_path, tiny, monkeypatch):
    calls = _record_training(monkeypatch)
    config = tiny(methods=("random", "clip"), seeds=(0, 1))
    frame = run_experiment(config, tmp_path)
    files = sorted(p.name for p in (tmp_path / "cells").glob("*.json"))
    assert files == ["clip-seed0.json", "clip-seed1.json", "random-seed0.json", "random-seed1.json"]
    record = read_cell(tmp_path / "cells" / "clip-seed1.json")
    assert len(record.hash) == 16 and record.seed == 1
    machine = json.loads((tmp_path / "cells" / "clip-seed1.json").read_text())["machine"]
    assert machine["torch"] == torch.__version__  # where it was made: the last digits move
    assert machine["cpu_capability"] == torch.backends.cpu.get_cpu_capability()
    assert (tmp_path / "cells" / "clip-seed1.pt").is_file()
    merged = read_results(tmp_path / "results.csv")
    assert len(merged) == len(frame) == 4 * 4  # 4 cells x 4 labels of xor
    assert list(merged.columns[:3]) == ["task", "method", "seed"]
    assert list(merged.columns) == list(RESULT_COLUMNS)
    assert list(merged.drop_duplicates(["method", "seed"])[["method", "seed"]].itertuples(
        index=False, name=None
    )) == [("random", 0), ("clip", 0), ("random", 1), ("clip", 1)]  # fmt: skip
    curves = pd.read_csv(tmp_path / "curves.csv")
    assert set(curves["method"]) == {"clip"}  # random logs no training steps
    assert [m for m, _, _ in calls] == ["random", "clip", "random", "clip"]

    calls.clear()
    again = run_experiment(config, tmp_path)
    assert calls == []  # every cell file exists with the same hash: nothing retrains
    pd.testing.assert_frame_equal(again, frame)

    # the saved weights and representations are the model's
    trained = TrainedModel.load(tmp_path / "cells" / "clip-seed0.pt")
    with np.load(tmp_path / "cells" / "clip-seed0.npz") as saved:
        z_test = saved["z_test"]
    import synthetic

    data = synthetic.make_dataset("xor", config.task_config, seed=0)
    assert np.allclose(trained.represent(data.test.x1, data.test.x2), z_test, atol=1e-5)


def test_other_settings_are_refused_by_name_unless_a_new_folder_is_asked(tmp_path, tiny):
    out = tmp_path / "run"
    run_experiment(tiny(methods=("random",)), out)
    with pytest.raises(RunFolderError, match=r"train\.epochs = 1 in the folder, 2 now"):
        run_experiment(tiny(methods=("random",), epochs=2), out)
    with pytest.raises(RunFolderError, match=r"task\.noise = 0\.5 in the folder, 0\.7 now"):
        config = tiny(methods=("random",))
        import dataclasses

        run_experiment(
            dataclasses.replace(
                config, task_config=dataclasses.replace(config.task_config, noise=0.7)
            ),
            out,
        )
    outcome = run_cells(tiny(methods=("random",), epochs=2), out, new_folder=True)
    assert outcome.out_dir == tmp_path / "run-2"
    assert (tmp_path / "run-2" / "cells" / "random-seed0.json").is_file()
    # more methods or seeds are not other settings: the folder grows
    run_experiment(tiny(methods=("random", "clip"), seeds=(0, 1)), out)
    assert len(list((out / "cells").glob("*.json"))) == 4


def test_a_corrupt_cell_file_is_reported_and_retrained(tmp_path, tiny, monkeypatch):
    config = tiny(methods=("random", "clip"))
    run_experiment(config, tmp_path)
    (tmp_path / "cells" / "clip-seed0.json").write_text('{"format": 1, "tables": ')
    calls = _record_training(monkeypatch)
    lines: list[str] = []
    frame = run_experiment(config, tmp_path, on_cell=lines.append)
    assert [m for m, _, _ in calls] == ["clip"]
    assert any("clip-seed0.json is not a readable cell file" in line for line in lines)
    assert set(frame["method"]) == {"random", "clip"}
    read_cell(tmp_path / "cells" / "clip-seed0.json")  # rewritten whole


def _run_in_folder(out: str, methods: tuple[str, ...]) -> None:
    import torch

    torch.set_num_threads(1)
    from synergy_lab.config import RunConfig  # noqa: F401 (spawned: fresh imports)

    config = _tiny_from_child(methods)
    run_experiment(config, Path(out))


def _tiny_from_child(methods):
    from synergy_lab.config import RunConfig
    from synergy_lab.evaluate import ProbeConfig
    from synergy_lab.models import ModelConfig
    from synergy_lab.train import TrainConfig
    from synthetic import TaskConfig

    return RunConfig(
        methods=methods, seeds=(0,), baselines=False, task_config=TaskConfig(n_samples=600),
        model=ModelConfig(dim=16, encoder_hidden=32, projection_dim=16),
        train=TrainConfig(budget="fixed", epochs=1, batch_size=128, progress=False, device="cpu"),
        probe=ProbeConfig(l2_grid=(1e-3,), max_iter=30),
    )  # fmt: skip


def test_two_runs_writing_one_folder_at_once_lose_nothing(tmp_path):
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(target=_run_in_folder, args=(str(tmp_path), methods))
        for methods in (("random", "clip"), ("comm", "random"))
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=240)
        assert worker.exitcode == 0
    results = read_results(tmp_path / "results.csv")
    assert set(results["method"]) == {"random", "clip", "comm"}
    assert len(results) == 3 * 4  # no cell lost, none doubled
    assert not list(tmp_path.glob("**/.*.tmp"))


def test_a_run_killed_with_sigkill_is_completed_by_a_rerun(tmp_path):
    out = tmp_path / "run"
    child = textwrap.dedent(
        f"""
        import os, signal, sys
        import torch
        torch.set_num_threads(1)
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from test_cells import _tiny_from_child
        from synergy_lab.runs import run_experiment
        from synergy_lab.train import TrainedModel

        real_save = TrainedModel.save
        def save_then_die(self, handle):  # the weights go through the atomic writer's handle
            if self.method_name == "clip":
                handle.write(b"half a checkpoint")
                handle.flush()
                os.kill(os.getpid(), signal.SIGKILL)
            real_save(self, handle)
        TrainedModel.save = save_then_die
        run_experiment(_tiny_from_child(("random", "clip")), {str(out)!r})
        """
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    killed = subprocess.run([sys.executable, "-c", child], env=env, capture_output=True)
    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()[-2000:]
    assert (out / "cells" / "random-seed0.json").is_file()
    assert not (out / "cells" / "clip-seed0.json").exists()
    leftovers = list((out / "cells").glob(".*.tmp"))
    assert leftovers  # the killed writer's half checkpoint

    lines: list[str] = []
    frame = run_experiment(_tiny_from_child(("random", "clip")), out, on_cell=lines.append)
    assert set(frame["method"]) == {"random", "clip"}
    assert not list((out / "cells").glob(".*.tmp"))
    assert any("left by a writer that was killed" in line for line in lines)
    config = json.loads((out / "config.json").read_text())
    assert config["settings"]["task"] == "xor"


@pytest.mark.slow
def test_trifeature_protocol_trains_one_model_per_group_and_reevaluates_each(
    tmp_path, tiny, monkeypatch
):
    """Paper protocol: R/U labels read the model trained on unbiased pairs, S and the shortcut
    labels the one trained on fully biased pairs; the bounds stay one model each."""
    import dataclasses

    import synthetic
    from synergy_lab.evaluate import ProbeConfig
    from synergy_lab.runs import reevaluate
    from synthetic import TaskConfig

    calls = _record_training(monkeypatch)
    config = dataclasses.replace(
        tiny(methods=("clip",)),
        task="trifeature",
        baselines=True,
        task_config=TaskConfig(n_samples=400, image_size=16, trifeature_eval="shared"),
    )
    data = synthetic.make_dataset("trifeature", config.task_config, seed=0)
    groups = {g.name: g.labels for g in data.training_groups}
    frame = run_experiment(config, tmp_path)
    trained_on = [(m, d.label_names, int(d.train.labels["S"].sum())) for m, d, _ in calls]
    by_method = [(m, labels) for m, labels, _ in trained_on]
    assert by_method == [
        ("random", data.label_names),
        ("clip", groups["RU"]),
        ("clip", groups["S"]),
        ("supervised", data.label_names),
    ]
    s_group = [n for m, labels, n in trained_on if labels == groups["S"]][0]
    assert s_group == len(data.training_groups[1].train)  # S = 1 on every biased pair
    clip = frame[frame["method"] == "clip"]
    assert sorted(clip["label"]) == sorted(data.label_names)  # every label once
    cell = tmp_path / "cells"
    assert (cell / "clip-seed0--RU.pt").is_file() and (cell / "clip-seed0--S.pt").is_file()
    record = read_cell(cell / "clip-seed0.json")
    assert record.artefacts["groups"] == {g: {"labels": list(v)} for g, v in groups.items()}
    with np.load(cell / "clip-seed0.npz") as saved:
        assert set(saved.files) == {"z_fit--RU", "z_test--RU", "z_fit--S", "z_test--S"}
        z_test_s = saved["z_test--S"]
    model_s = TrainedModel.load(cell / "clip-seed0--S.pt")
    assert np.allclose(model_s.represent(data.test.x1, data.test.x2), z_test_s, atol=1e-5)
    curves = pd.read_csv(tmp_path / "curves.csv")
    clip_parts = set(curves.loc[curves["method"] == "clip", "part"])
    assert "RU/loss" in clip_parts and "S/loss" in clip_parts

    again = reevaluate(tmp_path, ProbeConfig(l2_grid=(1e-3,), max_iter=30))
    pd.testing.assert_series_equal(
        again.loc[again["method"] == "clip", "probe_accuracy"].reset_index(drop=True),
        clip["probe_accuracy"].reset_index(drop=True),
    )


@pytest.mark.slow
def test_per_group_evaluation_fits_every_model_per_group_on_its_own_splits(
    tmp_path, tiny, monkeypatch
):
    """trifeature_eval = "per-group": the untrained network and the reference are fitted per
    group too; R/U's reference trains on the unbiased R/U pairs, S's on eval-rate pairs of its
    own (or on the val split, the setting "val"); R/U labels are tested on the R/U group's own
    unbiased test split."""
    import dataclasses

    import synthetic
    from synthetic import TaskConfig

    calls = _record_training(monkeypatch)
    config = dataclasses.replace(
        tiny(methods=("clip",)),
        task="trifeature",
        baselines=True,
        task_config=TaskConfig(n_samples=400, image_size=16),
    )
    data = synthetic.make_dataset("trifeature", config.task_config, seed=0)
    ru, s = data.training_groups
    frame = run_experiment(config, tmp_path)
    trained_on = [(m, d.label_names, split, len(d.split(split))) for m, d, split in calls]
    assert trained_on == [
        ("random", ru.labels, "train", len(ru.train)),
        ("random", s.labels, "train", len(s.train)),
        ("clip", ru.labels, "train", len(ru.train)),
        ("clip", s.labels, "train", len(s.train)),
        ("supervised", ru.labels, "train", len(ru.train)),  # unbiased: R/U's own pairs
        ("supervised", s.labels, "train", len(s.reference)),  # S = 1 on every S training pair
    ]
    _, s_reference, split = calls[-1]
    assert np.array_equal(s_reference.split(split).x1, s.reference.x1)  # ... pairs of its own
    for method in ("random", "clip", "supervised"):
        rows = frame[frame["method"] == method]
        assert sorted(rows["label"]) == sorted(data.label_names), method
        assert (rows.loc[rows["label"] == "U1", "n_test"] == len(ru.test)).all()
    # U1's ground truth is that of the unbiased test split: almost no redundancy
    u1 = frame[(frame["method"] == "clip") & (frame["label"] == "U1")].iloc[0]
    assert u1["gt_redundancy"] < 0.02 and u1["gt_unique1"] > 3.2
    # the setting of the folders before: the S reference trains on val
    on_val = synthetic.make_dataset(
        "trifeature",
        dataclasses.replace(config.task_config, trifeature_reference="val"),
        seed=0,
    )
    (_, ru_part), (_, s_part) = cells.training_parts("supervised", on_val)
    assert (ru_part.reference_split, s_part.reference_split) == ("train", "val")
    assert s_part.train is on_val.training_groups[1].train


def test_settings_added_later_leave_older_folders_hash_unchanged(tiny):
    """A new setting at the value that does what older versions did is not recorded, and the
    trifeature-only settings are recorded at those values for other tasks."""
    import dataclasses

    from synergy_lab.models import ModelConfig
    from synthetic import TaskConfig

    xor = cells.settings_of(tiny())
    for name in ("image_encoder", "image_stages", "image_grid", "image_positions"):
        assert name not in xor["model"]
    assert "trifeature_protocol" not in xor["task_config"]
    assert "trifeature_heldout_fraction" not in xor["task_config"]
    assert "trifeature_eval" not in xor["task_config"]  # rule 9
    assert xor["task_config"]["trifeature_train_synergy_rate"] == 0.9  # as recorded before
    grid = dataclasses.replace(tiny(), model=ModelConfig(dim=16, image_grid=6))
    assert cells.settings_of(grid)["model"]["image_grid"] == 6  # a changed value is recorded
    paper = dataclasses.replace(tiny(), task="trifeature", task_config=TaskConfig())
    recorded = cells.settings_of(paper)["task_config"]
    assert recorded["trifeature_protocol"] == "paper"
    assert recorded["trifeature_train_synergy_rate"] is None  # the protocol's own rate
    assert recorded["trifeature_eval"] == "per-group"  # rule 9: only "shared" is left out
    shared = dataclasses.replace(paper, task_config=TaskConfig(trifeature_eval="shared"))
    assert "trifeature_eval" not in cells.settings_of(shared)["task_config"]
    single = dataclasses.replace(paper, task_config=TaskConfig(trifeature_protocol="single"))
    assert cells.settings_of(single)["task_config"]["trifeature_train_synergy_rate"] == 0.9


def test_groups_setting_trains_only_the_groups_named(tmp_path, tiny, monkeypatch):
    import dataclasses

    from synthetic import TaskConfig

    calls = _record_training(monkeypatch)
    config = dataclasses.replace(
        tiny(methods=("clip",)),
        task="trifeature",
        task_config=TaskConfig(n_samples=300, image_size=16),
        groups=("S",),
    )
    frame = run_experiment(config, tmp_path)
    assert [m for m, _, _ in calls] == ["clip"]
    assert sorted(frame["label"]) == ["S", "colour1", "colour2", "position1"]
    with pytest.raises(ValueError, match="training group 'SU' is not one of"):
        run_experiment(dataclasses.replace(config, groups=("SU",)), tmp_path / "other")


def test_the_step_warning_counts_the_converged_budgets_cap_not_its_epochs():
    import dataclasses as dc

    from synergy_lab.config import RunConfig
    from synergy_lab.runs.folder import fit_budget
    from synergy_lab.train import TrainConfig

    lines: list[str] = []
    converged = RunConfig(train=TrainConfig(epochs=1, max_epochs=100, batch_size=100))
    fit_budget(converged, 1000, set(), lines.append)
    assert lines == []  # 100 epochs x 10 batches at most: no warning, whatever epochs says
    fit_budget(dc.replace(converged, train=dc.replace(converged.train, max_epochs=2)), 1000,
               set(), lines.append)  # fmt: skip
    assert len(lines) == 1 and "20 optimiser steps" in lines[0] and "max_epochs" in lines[0]


class _Stopped(Exception):
    """The run stops between two epochs, just after the trainer wrote its state."""


def test_a_cell_stopped_mid_training_resumes_its_model_from_the_last_epoch(
    tmp_path, tiny, monkeypatch
):
    import synergy_lab.train as trainer

    config = tiny(methods=("clip",), epochs=3)  # 3 epochs of 3 steps
    whole = run_experiment(config, tmp_path / "whole")
    real, written = trainer.atomic_write_with, []

    def stop_after_the_second_epoch(path, write):
        real(path, write)
        written.append(path)
        if len(written) == 2:
            raise _Stopped

    monkeypatch.setattr(trainer, "atomic_write_with", stop_after_the_second_epoch)
    with pytest.raises(_Stopped):
        run_experiment(config, tmp_path / "stopped")
    monkeypatch.undo()
    state = written[-1]
    assert state.parent == tmp_path / "stopped" / "cells" / "resume" and state.is_file()
    assert not (tmp_path / "stopped" / "cells" / "clip-seed0.json").exists()
    # the status reads the state: 2 of the fixed budget's 3 epochs of 3 steps
    (training,) = folder_status(tmp_path / "stopped").training
    assert (training.key, training.group) == ("clip-seed0", "")
    assert (training.progress.step, training.progress.end) == (6, 9)
    assert training.progress.end_is_sure and training.progress.seconds > 0
    assert training.describe().startswith("clip-seed0: step 6 of 9 (67 %), ")

    calls, again = _record_training(monkeypatch), []
    monkeypatch.setattr(trainer, "atomic_write_with", lambda *a: again.append(a) or real(*a))
    resumed = run_experiment(config, tmp_path / "stopped")
    assert [m for m, _, _ in calls] == ["clip"]
    assert len(again) == 1  # only the third epoch was trained again
    assert not list(state.parent.iterdir())  # the state goes once the cell file is written
    curves = [pd.read_csv(tmp_path / d / "curves.csv") for d in ("whole", "stopped")]
    pd.testing.assert_frame_equal(*curves)  # the same steps, losses and lrs
    pd.testing.assert_frame_equal(
        resumed.drop(columns="train_seconds"), whole.drop(columns="train_seconds")
    )


def _two_model_config(tiny):
    """clip on a small Trifeatures task: one model per training group, R/U then S."""
    import dataclasses

    from synthetic import TaskConfig

    return dataclasses.replace(
        tiny(methods=("clip",)),
        task="trifeature",
        task_config=TaskConfig(n_samples=400, image_size=16, trifeature_eval="shared"),
    )


@pytest.mark.slow
def test_a_cell_stopped_between_its_models_trains_only_the_rest_even_in_another_checkout(
    tmp_path, tiny, monkeypatch
):
    """A cell's finished model leaves its results in cells/parts/ (committed with the cell
    files): a run stopped before the cell's next model, resumed in a copy that holds neither
    weights nor resume states, trains only that next model and gives the same numbers."""
    import shutil

    import synthetic

    config = _two_model_config(tiny)
    groups = {g.name: g.labels for g in synthetic.make_dataset(
        "trifeature", config.task_config, seed=0).training_groups}  # fmt: skip
    whole = run_experiment(config, tmp_path / "whole")

    real = cells.train

    def stop_before_the_s_model(method, data, *args, **kwargs):
        if data.label_names == groups["S"]:
            raise _Stopped
        return real(method, data, *args, **kwargs)

    monkeypatch.setattr(cells, "train", stop_before_the_s_model)
    with pytest.raises(_Stopped):
        run_experiment(config, tmp_path / "stopped")
    monkeypatch.undo()
    stopped = tmp_path / "stopped" / "cells"
    (part,) = (stopped / "parts").iterdir()
    assert part.name.startswith("clip-seed0-") and part.name.endswith("--RU.json")
    (kept,) = folder_status(tmp_path / "stopped").training
    assert (kept.key, kept.group, kept.kept) == ("clip-seed0", "RU", True)
    assert "results kept in cells/parts/" in kept.describe()

    # another checkout: the committed files travel (cell files, parts), weights and states don't
    clone = tmp_path / "clone"
    shutil.copytree(tmp_path / "stopped", clone, ignore=shutil.ignore_patterns("*.pt", "*.npz"))
    calls = _record_training(monkeypatch)
    resumed = run_experiment(config, clone)
    assert [d.label_names for _, d, _ in calls] == [groups["S"]]  # R/U is not trained again
    pd.testing.assert_frame_equal(
        resumed.drop(columns="train_seconds"), whole.drop(columns="train_seconds")
    )
    curves = [pd.read_csv(tmp_path / d / "curves.csv") for d in ("whole", "clone")]
    pd.testing.assert_frame_equal(*curves)
    record = read_cell(clone / "cells" / "clip-seed0.json")
    assert record.artefacts["kept_without_weights"] == ["RU"]
    assert record.artefacts["group_weights"] == {}  # a results-only cell, as committed ones are
    assert sorted(p.name for p in (clone / "cells").rglob("*.*")) == ["clip-seed0.json"]
    calls.clear()
    run_experiment(config, clone)
    assert calls == []  # finished: nothing retrains

    # the same checkout: the R/U model's finished state is here, so the cell keeps its
    # weights and representations; its results are still read from the part, not re-evaluated
    evaluated = []
    real_evaluate = cells.evaluate_representations
    monkeypatch.setattr(
        cells,
        "evaluate_representations",
        lambda *a, **k: evaluated.append(a[2].label_names) or real_evaluate(*a, **k),
    )
    here = run_experiment(config, tmp_path / "stopped")
    assert evaluated == [groups["S"]]
    pd.testing.assert_frame_equal(
        here.drop(columns="train_seconds"), whole.drop(columns="train_seconds")
    )
    with np.load(stopped / "clip-seed0.npz") as saved:
        assert set(saved.files) == {"z_fit--RU", "z_test--RU", "z_fit--S", "z_test--S"}
    assert not list((stopped / "parts").iterdir()) and not list((stopped / "resume").iterdir())


def test_a_part_file_of_other_settings_or_damaged_is_not_read(tmp_path, tiny):
    """read_part gives None (the model trains again) for another hash, group or a torn file."""
    import dataclasses

    config = tiny(methods=("clip",))
    spec = cells.CellSpec("xor", "clip", 0, config)
    rows = pd.DataFrame({"label": ["Y"], "probe_accuracy": [0.75]})
    curves = pd.DataFrame({"step": [1, 2], "part": ["RU/loss"] * 2, "value": [4.1, 4.0]})
    path = cells.group_part_path(spec.paths(tmp_path)["part"], "RU")
    path.parent.mkdir(parents=True)
    cells.write_part(path, spec, cells.KeptModel("RU", rows, curves, 12.5, 2))
    kept = cells.read_part(path, spec, "RU")
    assert kept is not None and (kept.train_seconds, kept.steps) == (12.5, 2)
    pd.testing.assert_frame_equal(kept.rows, rows)
    pd.testing.assert_frame_equal(kept.curves, curves)
    other = dataclasses.replace(spec, config=tiny(methods=("clip",), epochs=2))
    assert cells.read_part(path, other, "RU") is None
    assert cells.read_part(path, spec, "S") is None
    path.write_bytes(path.read_bytes()[:-20])
    assert cells.read_part(path, spec, "RU") is None
