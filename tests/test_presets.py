"""Presets: what they set, and the ablation that switches each protocol choice back."""

import dataclasses

import pytest

from synergy_lab.presets import (
    ABLATION_METHODS,
    PRESETS,
    TABLE_METHODS,
    preset_run_config,
    preset_sections,
    protocol_ablation,
)


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_presets_build_the_papers_protocol(name):
    config = preset_run_config(name)
    assert config.task == "trifeature" and config.methods == TABLE_METHODS
    assert config.seeds == (0, 1, 2)
    assert config.task_config.trifeature_protocol == "paper"
    assert config.model.image_grid == 6 and config.model.image_positions == "sincos"
    infmasking = config.method["infmasking"]
    assert infmasking.num_masks == 6 and infmasking.mask_ramp == 1.0
    assert config.method["infmasking"].mask_ratio == 0.7
    assert config.augment.image_preset == "paper" and config.augment.crop_min_scale == 0.08
    assert config.train.batch_size == 64


def test_paper_preset_is_the_papers_sizes():
    config = preset_run_config("paper")
    assert config.task_config.image_size == 224 and config.model.image_encoder == "alexnet"
    assert (config.train.epochs, config.train.lr, config.train.cosine) == (100, 3e-4, False)
    assert config.train.max_grad_norm == 0.0


def test_preset_sections_are_copies_and_unknown_names_are_refused():
    sections = preset_sections("cpu")
    sections["train"]["epochs"] = 999
    assert PRESETS["cpu"]["train"]["epochs"] != 999
    with pytest.raises(ValueError, match="unknown preset 'gpu'; valid presets: paper, cpu, cpu-v1"):
        preset_sections("gpu")


def test_each_ablation_switches_exactly_one_choice_back():
    base = preset_run_config("cpu", seeds=(0,))
    variants = protocol_ablation(base)
    assert set(variants) == {"augment", "tokens", "views", "budget"}
    trimmed = dataclasses.replace(base, methods=ABLATION_METHODS, baselines=False, groups=("S",))
    changed = {
        name: [f.name for f in dataclasses.fields(trimmed)
               if getattr(variant, f.name) != getattr(trimmed, f.name)]
        for name, variant in variants.items()
    }  # fmt: skip
    assert changed == {
        "augment": ["augment"],
        "tokens": ["model"],
        "views": ["methods", "method"],
        "budget": ["train"],
    }
    assert variants["augment"].augment.crop_min_scale == 0.8
    assert variants["tokens"].model.image_grid == 4
    assert variants["tokens"].model.image_positions == "none"
    assert variants["views"].methods == ("infmasking",)
    views = variants["views"].method["infmasking"]
    assert (views.num_masks, views.mask_ramp) == (4, 0.5)
    assert variants["budget"].train.epochs == base.train.epochs // 2


def test_the_cpu_v1_preset_builds_the_committed_table_s_cells():
    """reports/trifeature-cpu-preset was run at the cpu preset before issue 22: ``cpu-v1``
    builds exactly its cells (same keys and hashes), so notebook 02 reads it without training."""
    import json
    from pathlib import Path

    from synergy_lab.runs.folder import plan_cells

    folder = Path(__file__).parents[1] / "reports" / "trifeature-cpu-preset" / "cells"
    committed = {
        record["key"]: record["hash"]
        for record in (json.loads(path.read_text()) for path in folder.glob("*.json"))
    }

    def planned(name: str) -> dict[str, tuple[str, str | None]]:
        specs = plan_cells([({}, preset_run_config(name))], None, None)
        return {spec.key: (spec.hash, spec.legacy_hash) for spec in specs}

    v1 = planned("cpu-v1")
    assert set(v1) == set(committed)
    assert all(committed[key] in hashes for key, hashes in v1.items())
    today = planned("cpu")
    assert all(committed.get(key) not in hashes for key, hashes in today.items())


def test_the_ramp_config_is_v3_for_infmasking_with_lambda_ramped_over_the_stable_phase():
    """configs/infmasking_ramp_over_budget.toml changes only InfMasking's schedules' horizon (its
    lambda ramp) from the v3 grid, keeping the lr warm-up at v3's steps."""
    from pathlib import Path

    from synergy_lab.config import read_toml, run_config
    from synergy_lab.runs.cells import settings_of

    configs = Path(__file__).parents[1] / "configs"

    def config(name: str):
        return run_config(preset="cpu", file=read_toml(configs / name), file_name=name)

    v3, ramp = (
        config("trifeature_preregistered_v3.toml"),
        config("infmasking_ramp_over_budget.toml"),
    )
    assert ramp.all_methods == ("infmasking",)
    old, new = v3.train_of("infmasking"), ramp.train_of("infmasking")
    changed = {
        f.name for f in dataclasses.fields(old) if getattr(old, f.name) != getattr(new, f.name)
    }
    assert changed == {"epochs", "warmup_fraction"}
    steps_per_epoch = 98  # v3's models: 11,760 steps = 1.2 x 100 epochs (stable phase + decay)
    assert new.epochs == new.max_epochs == 100  # the ramp ends where the final decay begins
    warmup = [round(c.warmup_fraction * c.epochs * steps_per_epoch) for c in (old, new)]
    assert warmup == [29, 29]
    # every other setting a cell hashes is v3's
    a, b = settings_of(v3, "infmasking"), settings_of(ramp, "infmasking")
    assert {k for k in a.keys() | b.keys() if a.get(k) != b.get(k)} == {"train"}
