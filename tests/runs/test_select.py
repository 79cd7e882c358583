"""``--select lr``: the choice reads no test-split number, its scores are recorded, it resumes,
and a method's chosen rate is part of its cells' settings (and only of its own)."""

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import synergy_lab.runs.cells as cells
import synthetic
from synergy_lab.config import RunConfig, SelectConfig, config_from_record, run_config
from synergy_lab.report import write_report
from synergy_lab.runs import SelectionError, run_selected, selection_cost
from synergy_lab.runs.cells import CellSpec, read_cell
from synergy_lab.runs.select import (
    FIRST_SEED,
    SELECT_FOLDER,
    choose,
    selection_config,
    with_selection,
)
from synergy_lab.train import TrainConfig


def _config(**select) -> RunConfig:
    """A few seconds a training: quick xor (1,000 samples, 50 fixed steps), CLIP alone."""
    return run_config(
        quick=True,
        options={
            "run": {"methods": ["clip"], "seeds": 1, "baselines": False},
            "train": {"progress": False},
            "select": {"what": "lr", "lrs": [1e-4, 3e-3], "seeds": 1, **select},
        },
    )


def _corrupt_test(monkeypatch) -> None:
    """Every drawn dataset's test split made useless: NaN inputs, labels shuffled."""
    make = synthetic.make_dataset

    def corrupted(name, config=None, seed=0):
        data = make(name, config, seed)
        rng = np.random.default_rng(1)
        test = dataclasses.replace(
            data.test,
            x1=np.full_like(data.test.x1, np.nan),
            x2=np.full_like(data.test.x2, np.nan),
            labels={k: rng.permutation(v) for k, v in data.test.labels.items()},
        )
        return dataclasses.replace(data, test=test)

    monkeypatch.setattr(synthetic, "make_dataset", corrupted)


def test_the_choice_reads_no_test_split_number(tmp_path: Path, monkeypatch):
    config = _config()
    clean = run_selected(config, tmp_path / "clean")
    clean_scores = pd.read_csv(clean.out_dir / "selection.csv")
    _corrupt_test(monkeypatch)
    # the selection cells alone: the run's own cells would read the corrupted test split
    from synergy_lab.runs.select import select_lr

    corrupted = select_lr(config, tmp_path / "corrupted")
    pd.testing.assert_frame_equal(
        corrupted.scores, clean_scores.drop(columns="chosen"), check_dtype=False
    )
    assert corrupted.chosen == json.loads((clean.out_dir / "selection.json").read_text())["chosen"]
    assert corrupted.scores.val_accuracy.notna().all()  # no NaN test input reached a score


def test_the_view_scores_validation_rows_never_test_rows():
    data = synthetic.make_dataset("xor", synthetic.TaskConfig(n_samples=600), seed=0)
    view = data.for_selection()
    assert np.array_equal(view.test.x1, data.val.x1)  # probes fit on train, scored on val
    assert np.array_equal(view.train.x1, data.train.x1)
    on_val = dataclasses.replace(data, probe_split="val").for_selection()  # trifeature's case
    fitted, scored = on_val.val.x1, on_val.test.x1
    assert len(fitted) + len(scored) == len(data.val) and len(scored) == round(0.3 * len(data.val))
    rows = {r.tobytes() for r in data.val.x1}
    assert all(r.tobytes() in rows for r in (*fitted, *scored))  # val rows only, none of test
    assert not {r.tobytes() for r in fitted} & {r.tobytes() for r in scored}


def test_the_scores_and_the_choice_are_recorded_and_the_seeds_train_at_it(tmp_path: Path):
    lines: list[str] = []
    config = _config()
    outcome = run_selected(config, tmp_path / "run", on_cell=lines.append)
    assert "= 2 extra trainings" in lines[0]  # said before anything trains
    assert selection_cost(config) == 2
    scores = pd.read_csv(outcome.out_dir / "selection.csv")
    assert list(scores.columns) == [
        "method", "lr", "seed", "val_accuracy", "val_usable_bits", "n_val", "chosen"
    ]  # fmt: skip
    assert sorted(scores.lr) == [1e-4, 3e-3] and set(scores.seed) == {FIRST_SEED}
    assert (scores.n_val == 150).all()  # xor's val split at 1,000 samples (15 %)
    # the recorded score is the selection cell's validation accuracy of S
    cells_dir = tmp_path / "run" / SELECT_FOLDER / "cells"
    cell = read_cell(cells_dir / "clip-seed10000-train.lr=0.003.json")
    s_row = cell.tables["results"].set_index("label").loc["S"]
    assert scores.set_index("lr").loc[3e-3, "val_accuracy"] == pytest.approx(s_row.probe_accuracy)
    record = json.loads((outcome.out_dir / "selection.json").read_text())
    best = scores.loc[scores.val_accuracy.idxmax(), "lr"]
    assert record["chosen"] == {"clip": best} and record["trainings"] == 2
    assert scores.chosen.tolist() == (scores.lr == best).tolist()
    # the run's seed trained at the chosen rate, and its cell hashes it
    main = read_cell(outcome.out_dir / "cells" / "clip-seed0.json")
    assert main.settings["settings"]["train"]["lr"] == best
    assert config_from_record(main.config).train_of("clip").lr == best
    write_report(outcome.out_dir)
    summary = (outcome.out_dir / "summary.md").read_text()
    assert "## Selection (learning rate)" in summary and "never the test split" in summary


def test_a_selected_run_resumes_without_training(tmp_path: Path, monkeypatch):
    config = _config()
    run_selected(config, tmp_path / "run")
    before = (tmp_path / "run" / "selection.csv").read_text()
    monkeypatch.setattr(cells, "train", lambda *a, **k: pytest.fail("a finished cell retrained"))
    outcome = run_selected(config, tmp_path / "run")
    assert (tmp_path / "run" / "selection.csv").read_text() == before
    assert len(outcome.results) == 4  # clip, seed 0, four labels


def test_the_choice_is_the_best_mean_first_rate_on_a_tie():
    scores = pd.DataFrame(
        {
            "method": ["a"] * 4 + ["b"] * 4,
            "lr": [1e-3, 1e-3, 3e-3, 3e-3] * 2,
            "seed": [0, 1] * 4,
            "val_accuracy": [0.9, 0.5, 0.7, 0.71, 0.6, 0.6, 0.6, 0.6],
        }
    )
    assert choose(scores, (1e-3, 3e-3)) == {"a": 3e-3, "b": 1e-3}  # means 0.70 < 0.705; a tie


def test_selection_seeds_stay_apart_from_the_run_and_the_label_must_exist(tmp_path: Path):
    config = dataclasses.replace(_config(), seeds=(0, FIRST_SEED))
    with pytest.raises(SelectionError, match="is a selection seed"):
        selection_config(config)
    sel = selection_config(_config())
    assert sel.seeds == (FIRST_SEED,) and sel.methods == ("clip",) and not sel.baselines
    own = dataclasses.replace(_config(), method_train={"clip": {"lr": 0.1, "batch_size": 64}})
    assert selection_config(own).method_train == {"clip": {"batch_size": 64}}  # the grid's lr
    with pytest.raises(SelectionError, match="not a label of the task; its labels: R, S, U1"):
        run_selected(_config(label="T"), tmp_path / "run")


def test_select_settings_are_checked():
    with pytest.raises(ValueError, match="what must be 'none' or 'lr'"):
        SelectConfig(what="wd")
    with pytest.raises(ValueError, match="lists a learning rate twice"):
        SelectConfig(lrs=(1e-3, 1e-3))
    assert selection_cost(RunConfig()) == 0
    assert selection_cost(run_config(options={"select": {"what": "lr"}})) == 3 * 4 * 2


# ---- per-method train settings ------------------------------------------------------------


def test_a_method_train_setting_is_layered_recorded_and_hashed_for_that_method_only():
    config = run_config(file={"train": {"lr": 1e-3, "infmasking": {"lr": 3e-3}}})
    assert config.train_of("infmasking").lr == 3e-3 and config.train_of("comm").lr == 1e-3
    again = config_from_record(dataclasses.asdict(config))
    assert again.method_train == {"infmasking": {"lr": 3e-3}}

    def key(c: RunConfig, method: str) -> str:
        return CellSpec(task="xor", method=method, seed=0, config=c).hash

    base = RunConfig()
    assert key(config, "comm") == key(base, "comm")  # CoMM trains as before
    assert key(config, "infmasking") != key(base, "infmasking")
    same = with_selection(base, {"comm": base.train.lr})  # a choice equal to the shared rate
    assert key(same, "comm") == key(base, "comm")
    # a per-method rate is not what the flat-record versions trained: no legacy match
    assert CellSpec(task="xor", method="infmasking", seed=0, config=config).legacy_hash is None


def test_bad_method_train_settings_are_one_line():
    with pytest.raises(ValueError, match=r"\[train.infmasking\] seed is not a per-method"):
        run_config(file={"train": {"infmasking": {"seed": 3}}})
    with pytest.raises(ValueError, match="unknown method 'nope'"):
        run_config(file={"train": {"nope": {"lr": 1e-3}}})
    with pytest.raises(ValueError, match=r"unknown setting 'lrr' in \[train.comm\]"):
        run_config(file={"train": {"comm": {"lrr": 1e-3}}})
    with pytest.raises(ValueError, match=r"\[train.comm\] lr must be a number"):
        run_config(file={"train": {"comm": {"lr": "fast"}}})
    assert TrainConfig().lr == run_config(file={"train": {"comm": {"lr": 3e-3}}}).train.lr
