"""The one room for configuration: sections, one checker, defaults < preset < quick < file <
options, every RunConfig field settable from a file, a record read back as the same config."""

import dataclasses
import json

import pytest

from synergy_lab.config import (
    SECTIONS,
    RunConfig,
    assignments_document,
    config_from_record,
    parse_assignment,
    run_config,
)
from synergy_lab.methods import METHODS
from synergy_lab.methods.comm import CoMMSettings
from synergy_lab.methods.infmasking import InfMaskingSettings


def test_layers_rise_defaults_preset_quick_file_options():
    assert run_config() == RunConfig()
    preset = run_config(preset="cpu")
    assert preset.model.image_grid == 6 and preset.method["infmasking"].num_masks == 6
    quick = run_config(preset="cpu", quick=True)
    assert quick.task_config.n_samples == 1000 and quick.methods == ("infmasking", "clip")
    assert quick.model.image_grid == 6  # the preset's, untouched by --quick
    file = {
        "run": {"seeds": 4},
        "task": {"n_samples": 600},
        "method": {"comm": {"temperature": 0.2}},
    }
    filed = run_config(preset="cpu", quick=True, file=file)
    assert filed.task_config.n_samples == 600 and filed.seeds == (0, 1, 2, 3)
    assert filed.method["comm"].temperature == 0.2 and filed.method["clip"].temperature == 0.1
    options = {"task": {"n_samples": 800}, "method": {"temperature": 0.3}}
    final = run_config(preset="cpu", quick=True, file=file, options=options)
    assert final.task_config.n_samples == 800
    assert {final.method[m].temperature for m in ("clip", "comm", "infmasking", "coral")} == {0.3}
    assert final.method["infmasking"].num_masks == 6  # the preset's, options did not touch it


def test_every_run_config_field_can_be_set_from_a_file():
    document = {
        "run": {
            "task": "and",
            "methods": "comm, clip",
            "seeds": [3, 5],
            "baselines": False,
            "pid_clusters": 4,
            "probe_every": 2,
            "null_shuffles": 30,
            "bootstrap": 200,
            "groups": ["S"],
        },
        **{section: {} for section in SECTIONS},
        "method": {name: {} for name in METHODS},
    }
    document["train"] = {"comm": {"lr": 3e-3}}  # [train.<name>]: RunConfig.method_train
    config = run_config(file=document)
    assert config.method_train == {"comm": {"lr": 3e-3}}
    assert config.task == "and" and config.methods == ("comm", "clip") and config.seeds == (3, 5)
    assert (config.baselines, config.pid_clusters, config.probe_every) == (False, 4, 2)
    assert (config.null_shuffles, config.bootstrap, config.groups) == (30, 200, ("S",))
    fields = {f.name for f in dataclasses.fields(RunConfig)}
    sections = {f for f, _ in SECTIONS.values()}
    assert fields == set(document["run"]) | sections | {"method", "method_train"}


def test_the_old_flat_method_keys_still_work_with_one_deprecation_line_each():
    notes: list[str] = []
    config = run_config(file={"method": {"mask_ratio": 0.5, "temperature": 0.2}}, say=notes.append)
    assert config.method["infmasking"].mask_ratio == 0.5
    assert config.method["coral"].mask_ratio == 0.75  # coral's field of that name is its own
    assert {config.method[m].temperature for m in ("clip", "crossself", "coral")} == {0.2}
    assert len(notes) == 2 and all("deprecated" in n for n in notes)
    assert "[method.infmasking] mask_ratio" in notes[0]


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"method": {"infmasking": {"mask_ratio": "high"}}}, "[method.infmasking] mask_ratio must"),
        ({"method": {"infmasking": {"nope": 1}}}, "unknown setting 'nope' in [method.infmasking]"),
        ({"method": {"nobody": {"x": 1}}}, "unknown method 'nobody'"),
        ({"method": {"mask_ratio": 1.5}}, "InfMaskingSettings.mask_ratio must be in (0, 1)"),
        ({"method": {"nope": 1}}, "unknown setting 'nope' in [method]"),
        ({"colour": {}}, "unknown section [colour]"),
        ({"run": {"seeds": 0}}, "[run] seeds must be a positive integer"),
        ({"run": {"bogus": 1}}, "unknown setting 'bogus' in [run]"),
        ({"train": {"epochs": 2.5}}, "[train] epochs must be an integer; got 2.5"),
    ],
)
def test_bad_settings_are_one_line_naming_the_setting(document, message):
    with pytest.raises(ValueError) as error:
        run_config(file=document)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_a_preset_for_another_task_and_a_rung_off_the_ladder_are_refused():
    with pytest.raises(ValueError, match="is for task 'trifeature'"):
        run_config(preset="cpu", options={"run": {"task": "xor"}})
    with pytest.raises(ValueError, match="--rung applies to --task ladder only"):
        run_config(rung="order-m4")
    ladder = run_config(rung="order-m4", options={"run": {"task": "ladder"}})
    assert ladder.task_config.ladder_modulus == 4


def test_set_assignments_reach_any_setting_by_name():
    assert parse_assignment("method.infmasking.mask_lambda=0.5") == (
        ["method", "infmasking", "mask_lambda"],
        0.5,
    )
    assert parse_assignment("task.name=hello") == (["task", "name"], "hello")
    document = assignments_document(
        ["method.infmasking.mask_lambda=0.5", "train.lr=3e-4", "probe.l2_grid=[1e-3, 1e-2]"]
    )
    config = run_config(options=document)
    assert config.method["infmasking"].mask_lambda == 0.5 and config.train.lr == 3e-4
    assert config.probe.l2_grid == (1e-3, 1e-2)
    with pytest.raises(ValueError, match="SECTION.FIELD=VALUE"):
        parse_assignment("lr 3e-4")


def test_a_recorded_config_reads_back_as_the_same_config_old_flat_records_too():
    config = run_config(preset="cpu").with_method("comm", temperature=0.3)
    record = json.loads(json.dumps(dataclasses.asdict(config)))
    assert config_from_record(record) == config
    old = {**record, "method": {"mask_ratio": 0.5, "num_masks": 2, "supervised_label": "R"}}
    read = config_from_record(old)
    assert read.method["infmasking"] == InfMaskingSettings(mask_ratio=0.5, num_masks=2)
    assert read.method["supervised"].label == "R" and read.method["comm"] == CoMMSettings()


def test_a_method_setting_lives_in_the_methods_own_file_only():
    import inspect

    import synergy_lab.config as config_module
    import synergy_lab.runs.cells as cells_module

    for module in (config_module, cells_module):
        source = inspect.getsource(module)
        assert "mask_lambda" not in source and "critic_lr" not in source
