"""Old run folders still load, resume and re-evaluate: one test per legacy rule, and the folders.

``tests/fixtures/run-flat-method`` was written by commit ff04e56 (one flat ``[method]`` record
hashed into every cell) from its ``run.toml``; the committed folders under ``reports/`` were
written by several older versions.
"""

import dataclasses
import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

import synergy_lab.runs.cells as cells
from synergy_lab.config import RunConfig, config_from_record, read_toml, run_config
from synergy_lab.evaluate import ProbeConfig
from synergy_lab.methods.infmasking import InfMaskingSettings
from synergy_lab.models import ModelConfig
from synergy_lab.runs import RunFolderError, legacy, reevaluate, run_cells
from synergy_lab.runs.cells import CellSpec, settings_of
from synergy_lab.runs.folder import cell_state, plan_cells
from synergy_lab.runs.sweep import expand_grid
from synergy_lab.train import TrainedModel

FIXTURE = Path(__file__).parents[1] / "fixtures" / "run-flat-method"
REPORTS = Path(__file__).parents[2] / "reports"
#: MethodConfig's 14 fields at their defaults, as every cell before per-method settings hashed.
OLD_FLAT_DEFAULTS = {
    "temperature": 0.1,
    "mask_ratio": 0.7,
    "num_masks": 4,
    "mask_lambda": 1.0,
    "mask_ramp": 0.5,
    "gaussian_closed_form": True,
    "mask_weight": 1.0,
    "critic_steps": 1,
    "critic_lr": 1e-3,
    "supervised_label": "S",
    "coral_mask_ratio": 0.75,
    "coral_ortho_weight": 10.0,
    "coral_unique_weight": 1.0,
    "coral_shared_weight": 1.0,
}


def _no_training(monkeypatch) -> None:
    monkeypatch.setattr(cells, "train", lambda *a, **k: pytest.fail("a finished cell retrained"))


def _copy(folder: Path, target: Path, weights: bool = True) -> Path:
    """The folder's files (without weights/representations unless ``weights``) under target."""
    patterns = ("*.json", "*.csv", "*.npz", "*.pt") if weights else ("*.json", "*.csv")
    for pattern in patterns:
        for path in folder.rglob(pattern):
            if "eval-" in path.parts[-2]:
                continue
            out = target / path.relative_to(folder)
            out.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, out)
    return target


#: What the fixture's defaults were that today's are not: a fixed budget, no calibrated probe, a
#: supervised reference of label S alone.
OLD_DEFAULTS = {
    "train": {"budget": "fixed"},
    "probe": {"calibrate": False},
    "method": {"supervised": {"label": "S"}},
}


def test_the_old_flat_method_folder_resumes_from_its_own_toml(tmp_path: Path, monkeypatch):
    _no_training(monkeypatch)
    folder = _copy(FIXTURE, tmp_path / "run")
    notes: list[str] = []
    toml = read_toml(FIXTURE / "run.toml")
    today = run_config(file=toml, say=notes.append)
    assert any("[method] mask_ratio" in n and "[method.infmasking] mask_ratio" in n for n in notes)
    with pytest.raises(RunFolderError, match="label = 'S' in the folder, 'all' now"):
        run_cells(today, folder)  # today's defaults are other settings: said, nothing retrained
    config = run_config(file=toml, options=OLD_DEFAULTS)
    outcome = run_cells(config, folder)
    before = pd.read_csv(FIXTURE / "results.csv")
    assert len(outcome.results) == len(before) == 4 * 4
    pd.testing.assert_frame_equal(
        outcome.results[["method", "label", "probe_accuracy"]].reset_index(drop=True),
        before[["method", "label", "probe_accuracy"]],
    )


def test_the_old_folder_reevaluates_unchanged_and_its_weights_load(tmp_path: Path):
    folder = _copy(FIXTURE, tmp_path / "run")
    probe = ProbeConfig(l2_grid=(1e-3,), max_iter=30, calibrate=False)
    again = reevaluate(folder, probe)
    before = pd.read_csv(FIXTURE / "results.csv")
    # the probes are refitted (30 L-BFGS steps in float32): another CPU's vector unit (AVX2,
    # AVX-512) moves the last digits, so the bits agree to 1e-3 (seen: 4e-5), not to 1e-6
    tolerance = {"probe_accuracy": 1e-4, "usable_bits": 1e-3, "gt_synergy": 1e-9}
    for column, close in tolerance.items():
        expected = pytest.approx(before[column].to_numpy(), abs=close)
        assert again[column].to_numpy() == expected, column
    model = TrainedModel.load(folder / "cells" / "infmasking-seed0.pt")
    assert model.method_config == InfMaskingSettings(mask_ratio=0.5, num_masks=2)


def _finished(folder: Path) -> bool:
    """A folder whose planned cells all have files (not a grid still running in the background)."""
    plan = folder / "plan.json"
    if not plan.is_file():
        return True  # written before plans were recorded: every committed one of those finished
    done = {path.stem for path in (folder / "cells").glob("*.json")}
    return set(json.loads(plan.read_text())["cells"]) <= done


def _committed_folders(finished: bool = True) -> list[Path]:
    """Committed run folders whose planned cells are all there (or, ``finished=False``, not)."""
    folders = [p.parent for p in REPORTS.rglob("config.json") if (p.parent / "cells").is_dir()]
    return sorted(folder for folder in folders if _finished(folder) == finished)


@pytest.mark.slow
def test_every_committed_run_folder_resumes_without_training(tmp_path: Path, monkeypatch):
    _no_training(monkeypatch)
    folders = _committed_folders()
    assert len(folders) >= 15  # the ladder's rungs, the other tasks, the trifeature tables
    for number, folder in enumerate(folders):
        record = json.loads((folder / "config.json").read_text())
        config = config_from_record(record["config"])
        copy = _copy(folder, tmp_path / str(number), weights=False)
        scored_on = record.get("settings", {}).get("scored_on", "test")  # select/ of --select
        outcome = run_cells(config, copy, grid=record.get("grid") or {}, scored_on=scored_on)
        cells_count = len(list((folder / "cells").glob("*.json")))
        keys = ["method", "seed", *(record.get("grid") or {})]
        assert outcome.results[keys].drop_duplicates().shape[0] == cells_count


@pytest.mark.slow
def test_the_cells_of_unfinished_committed_grids_still_read_as_finished():
    """Grids that run across sessions (or were stopped part-way) are left out above, since a
    resume would train their missing cells; the cells they hold must still be "done" to
    today's code, or the next resume retrains them (hours each)."""
    folders = _committed_folders(finished=False)
    assert folders  # the trifeature tables stopped part-way and the v3 grid
    for folder in folders:
        record = json.loads((folder / "config.json").read_text())
        paths = sorted((folder / "cells").glob("*.json"))
        # config.json holds the seeds of the process that last wrote it; the cells' keys
        # (CellSpec.key, "<method>-seed<N>...") name them all without reading the large files
        seeds = tuple(sorted({int(re.search(r"-seed(\d+)", path.stem)[1]) for path in paths}))
        config = dataclasses.replace(config_from_record(record["config"]), seeds=seeds)
        scored_on = record.get("settings", {}).get("scored_on", "test")
        points = expand_grid(config, record.get("grid") or {})
        specs = {spec.key: spec for spec in plan_cells(points, None, None, scored_on)}
        for path in paths:
            assert cell_state(specs[path.stem], folder) == "done", f"{folder.name}: {path.stem}"


# ---- one test per rule ------------------------------------------------------------------------


def test_rule_1_a_setting_added_later_is_left_out_at_its_old_value():
    config = RunConfig()
    assert "vector_encoder" not in settings_of(config, "clip")["model"]
    chunked = dataclasses.replace(config, model=ModelConfig(vector_encoder="chunks"))
    assert settings_of(chunked, "clip")["model"]["vector_encoder"] == "chunks"


def test_rule_1_a_method_setting_added_later_is_left_out_at_its_old_value(monkeypatch):
    monkeypatch.setitem(legacy.METHOD_LEGACY_VALUES, "infmasking", {"mask_weight": 1.0})
    config = RunConfig()
    assert "mask_weight" not in settings_of(config, "infmasking")["method"]
    assert "mask_weight" not in settings_of(config)["method"]["infmasking"]
    changed = config.with_method("infmasking", mask_weight=0.5)
    assert settings_of(changed, "infmasking")["method"]["mask_weight"] == 0.5
    assert settings_of(config, "comm") == settings_of(changed, "comm")


def test_rule_2_trifeature_settings_are_recorded_at_their_legacy_values_elsewhere():
    config = run_config(options={"task": {"trifeature_protocol": "paper"}})
    assert "trifeature_protocol" not in settings_of(config, "clip")["task_config"]
    trifeature = run_config(preset="cpu")
    assert settings_of(trifeature, "clip")["task_config"]["trifeature_protocol"] == "paper"


def test_rule_3_the_flat_method_record_is_rebuilt_for_old_cells():
    # the flat-record versions' reference trained on S (the default before "all", rule 7)
    old = legacy.legacy_settings(RunConfig().with_method("supervised", label="S"))
    assert old is not None and old["method"] == OLD_FLAT_DEFAULTS
    changed = RunConfig().with_method("infmasking", mask_ratio=0.5)
    assert legacy.legacy_settings(changed)["method"]["mask_ratio"] == 0.5
    # two temperatures: no version with one flat record could have made such a cell
    split = RunConfig().with_method("clip", temperature=0.3)
    assert legacy.legacy_settings(split) is None
    spec = CellSpec(task="xor", method="comm", seed=0, config=split)
    assert spec.legacy_hash is None and spec.hash


def test_rule_3_an_old_config_json_is_read_per_method():
    recorded = json.loads((FIXTURE / "config.json").read_text())["settings"]
    upgraded = legacy.upgrade_folder_settings(recorded)
    assert upgraded["settings"]["method"]["infmasking"]["num_masks"] == 2
    assert upgraded["settings"]["method"]["supervised"] == {"label": "S"}
    assert legacy.upgrade_folder_settings(upgraded) == upgraded  # today's record: unchanged


def test_rule_9_trifeature_eval_shared_is_left_out_and_old_records_read_as_shared():
    shared = run_config(preset="cpu", options={"task": {"trifeature_eval": "shared"}})
    assert "trifeature_eval" not in settings_of(shared, "clip")["task_config"]
    per_group = run_config(preset="cpu")
    assert settings_of(per_group, "clip")["task_config"]["trifeature_eval"] == "per-group"
    assert "trifeature_eval" not in settings_of(RunConfig(), "clip")["task_config"]  # xor
    record = json.loads(json.dumps(dataclasses.asdict(per_group), default=str))
    del record["task_config"]["trifeature_eval"]  # as a cell written before the setting
    assert config_from_record(record).task_config.trifeature_eval == "shared"


def test_rule_10_the_s_reference_on_val_is_left_out_and_old_records_read_as_val():
    unbiased = run_config(preset="cpu")
    assert settings_of(unbiased, "clip")["task_config"]["trifeature_reference"] == "unbiased"
    on_val = run_config(preset="cpu", options={"task": {"trifeature_reference": "val"}})
    assert "trifeature_reference" not in settings_of(on_val, "clip")["task_config"]
    # where it changes nothing it is recorded as before: shared evaluation, another task
    shared = run_config(preset="cpu", options={"task": {"trifeature_eval": "shared"}})
    assert "trifeature_reference" not in settings_of(shared, "clip")["task_config"]
    assert "trifeature_reference" not in settings_of(RunConfig(), "clip")["task_config"]
    record = json.loads(json.dumps(dataclasses.asdict(unbiased), default=str))
    del record["task_config"]["trifeature_reference"]  # as a cell written before the setting
    assert config_from_record(record).task_config.trifeature_reference == "val"


def test_rule_4_an_empty_groups_is_left_out():
    assert "groups" not in settings_of(RunConfig(), "clip")
    assert settings_of(dataclasses.replace(RunConfig(), groups=("S",)), "clip")["groups"] == ["S"]


#: Committed supervised cells: one with a flat method record, one with per-method records.
SUPERVISED_CELLS = (
    REPORTS / "trifeature-cpu-preset" / "cells" / "supervised-seed0.json",
    REPORTS / "ladder-preregistered-v2" / "order-m4" / "cells" / "supervised-seed0.json",
)


def _without_label(method: dict) -> dict:
    """A recorded method record with the supervised label taken out (flat or per method)."""
    if "supervised_label" in method:
        return {k: v for k, v in method.items() if k != "supervised_label"}
    return {**method, "supervised": {}}


@pytest.mark.parametrize("path", SUPERVISED_CELLS, ids=lambda p: p.parts[-3])
def test_rule_7_a_record_without_a_supervised_label_reads_s(path: Path):
    assert RunConfig().settings_of("supervised").label == "all"  # today's default
    record = json.loads(path.read_text())

    def hashes(config_record: dict) -> tuple[str | None, ...]:
        config = config_from_record(config_record)
        assert config.settings_of("supervised").label == "S"
        spec = CellSpec(task=record["settings"]["task"], method="supervised", seed=0, config=config)
        return spec.hash, spec.legacy_hash

    assert record["hash"] in hashes(record["config"])  # it records S: its own hash
    unlabelled = {**record["config"], "method": _without_label(record["config"]["method"])}
    assert record["hash"] in hashes(unlabelled)  # no label: read as S, not as "all"
    assert legacy.supervised_label_rule({"supervised": {"label": "U1"}}) == {
        "supervised": {"label": "U1"}
    }


def test_rule_7_an_old_config_json_without_a_label_reads_s():
    recorded = json.loads((FIXTURE / "config.json").read_text())["settings"]
    flat = dict(recorded["settings"]["method"])
    del flat["supervised_label"]
    stripped = {**recorded, "settings": {**recorded["settings"], "method": flat}}
    upgraded = legacy.upgrade_folder_settings(stripped)
    assert upgraded["settings"]["method"]["supervised"] == {"label": "S"}


def test_a_cell_hashes_its_own_method_settings_only():
    base, other = RunConfig(), RunConfig().with_method("infmasking", mask_ratio=0.5)

    def key(config: RunConfig, method: str) -> str:
        return CellSpec(task="xor", method=method, seed=0, config=config).hash

    assert key(base, "comm") == key(other, "comm")
    assert key(base, "random") == key(other, "random")
    assert key(base, "infmasking") != key(other, "infmasking")


def test_rule_8_the_renderer_and_blur_units_of_issue_22_are_left_out_at_their_old_values():
    import synthetic

    trifeature = run_config(preset="cpu")  # paper augmentations: blur_prob 0.5
    today = settings_of(trifeature, "comm")
    assert today["task_config"]["trifeature_render"] == "v2"
    assert today["augment"]["blur_units"] == "side"
    old = dataclasses.replace(
        trifeature,
        task_config=dataclasses.replace(trifeature.task_config, trifeature_render="v1"),
        augment=dataclasses.replace(trifeature.augment, blur_units="px"),
    )
    recorded = settings_of(old, "comm")
    assert "trifeature_render" not in recorded["task_config"]
    assert "blur_units" not in recorded["augment"]
    # an old record, which has neither field, is read as what it was drawn and blurred with
    record = json.loads(json.dumps(dataclasses.asdict(trifeature))) | {"method": {}}
    del record["task_config"]["trifeature_render"], record["augment"]["blur_units"]
    back = config_from_record(record)
    assert back.task_config.trifeature_render == "v1" and back.augment.blur_units == "px"
    # the other tasks draw no images, and nothing is blurred at blur_prob 0: left out there
    xor = settings_of(RunConfig(), "clip")
    assert "trifeature_render" not in xor["task_config"] and "blur_units" not in xor["augment"]
    assert isinstance(synthetic.TaskConfig().trifeature_render, str)
