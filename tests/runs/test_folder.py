"""``synergy_lab.runs.folder``: the status lines for models still training
(``ModelInTraining.describe``) and a committed folder checked against a config."""

import json
from pathlib import Path

import pytest

from synergy_lab.config import read_toml, run_config
from synergy_lab.runs import RunFolderError, settings_difference
from synergy_lab.runs.folder import ModelInTraining
from synergy_lab.train import TrainingProgress


def _line(step: int, end: int, sure: bool, seconds: float, checks=()) -> str:
    progress = TrainingProgress(step, end, sure, seconds, tuple(checks))
    return ModelInTraining("comm-seed3", "RU", progress).describe()


def test_a_converged_stable_phase_reads_as_at_most_its_cap_and_decay():
    line = _line(2_000, 11_760, False, 600.0, [(0, 4.2), (1_000, 3.0), (2_000, 3.1)])
    assert line == (
        "comm-seed3 RU: step 2,000 of at most 11,760 (17 %), 10 min so far at 0.30 s a step "
        "(mean), up to about 49 min to go; held-out loss 3.100 at step 2,000 "
        "(lowest 3.000 at 1,000)"
    )


def test_a_sure_end_has_no_at_most_and_hours_above_ninety_minutes():
    line = _line(1_000, 23_000, True, 3_600.0, [(1_000, 2.5)])
    assert "step 1,000 of 23,000 (4 %), 60 min so far at 3.60 s a step (mean), about 22.0 h" in line
    assert line.endswith("held-out loss 2.500 at step 1,000 (lowest so far)")


def test_a_finished_group_waits_for_the_others_and_no_step_has_no_rate():
    done = _line(11_760, 11_760, True, 9_000.0)
    assert done == (
        "comm-seed3 RU: trained (11,760 steps); its cell is written after its other groups"
    )
    assert _line(0, 500, True, 0.0) == "comm-seed3 RU: step 0 of 500 (0 %)"


def test_time_to_go_uses_each_methods_mean_cell_less_what_its_models_trained():
    from synergy_lab.runs import FolderStatus

    training = [  # comm-seed2 has trained its R/U model for 10 min and its S model for 5
        ModelInTraining("comm-seed2", "RU", TrainingProgress(50, 100, True, 600.0, ())),
        ModelInTraining("comm-seed2", "S", TrainingProgress(10, 100, True, 300.0, ())),
    ]
    state = FolderStatus(
        done=["comm-seed0", "comm-seed1", "random-seed0"],
        corrupt=[],
        pending=["comm-seed2", "comm-seed3", "random-seed1", "clip-seed0", "clip-seed1"],
        job_ids=[],
        rows=0,
        training=training,
        cell_seconds={"comm": [3000.0, 5000.0], "random": [1.0]},
    )
    seconds, covered, unmeasured = state.time_to_go()
    assert (seconds, covered, unmeasured) == (4000 - 900 + 4000 + 1, 3, ["clip"])
    assert state.describe_time_to_go() == (
        "to go, at the cell times measured here: about 2.0 h of one process for 3 pending "
        "cells; 2 more of methods with no finished cell yet (clip)"
    )
    assert FolderStatus([], [], [], [], 0).describe_time_to_go() is None


def test_settings_difference_reads_a_committed_folder_by_the_legacy_rules(tmp_path):
    """rho-0.25 was written before ``trifeature_reference`` existed; today's config of the same
    variant still makes its cells, and another variant is named by its first setting."""
    repo = Path(__file__).resolve().parents[2]
    variant_file = repo / "configs" / "masking_ablation_10seeds_variant.toml"

    def variant(**settings: object):
        options = {"train": {"infmasking": {"lr": 0.001}}, "method": {"infmasking": settings}}
        return run_config(file=read_toml(variant_file), file_name="variant", options=options)

    folder = repo / "reports" / "masking-ablation" / "rho-0.25"
    recorded = json.loads((folder / "config.json").read_text())["config"]["task_config"]
    assert "trifeature_reference" not in recorded  # an older version's record
    assert settings_difference(folder, variant(mask_ratio=0.25)) is None
    assert settings_difference(folder, variant(mask_ratio=0.5)) == (
        "method.infmasking.mask_ratio = 0.25 in the folder, 0.5 now"
    )
    with pytest.raises(RunFolderError, match="config.json is missing"):
        settings_difference(tmp_path, variant(mask_ratio=0.25))


def test_the_v3_config_file_still_describes_the_v3_grid():
    """reports/trifeature-preregistered-v3 is resumed, session after session, from its config
    file with whatever code is on main: the file must still give the folder's recorded settings
    and its plan of 40 cells (that the cells it holds still read as finished is checked with the
    other unfinished folders in test_legacy.py)."""
    from synergy_lab.runs.folder import plan_cells, planned_cells

    repo = Path(__file__).resolve().parents[2]
    config_file = repo / "configs" / "trifeature_preregistered_v3.toml"
    config = run_config(preset="cpu", file=read_toml(config_file), file_name=str(config_file))
    folder = repo / "reports" / "trifeature-preregistered-v3"
    assert settings_difference(folder, config) is None
    planned = [spec.key for spec in plan_cells([({}, config)], None, None)]
    assert len(planned) == 40
    assert set(planned) == set(planned_cells(folder))
