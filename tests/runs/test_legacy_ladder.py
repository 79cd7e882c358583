"""Legacy rule 6: the ladder's matched spread layout (TaskConfig.ladder_spread) is left out of a
cell's record at 0, the layout every older folder was drawn with, and recorded otherwise."""

import dataclasses

from synergy_lab.config import RunConfig
from synergy_lab.runs import legacy
from synergy_lab.runs.cells import CellSpec, settings_of
from synthetic import TaskConfig


def test_rule_6_the_matched_spread_is_left_out_at_its_old_value() -> None:
    assert "ladder_spread" not in settings_of(RunConfig(), "clip")["task_config"]
    assert "ladder_spread" not in legacy.legacy_settings(RunConfig())["task_config"]
    matched = TaskConfig(ladder_modulus=8, ladder_blocks=4, ladder_nuisance_bits=7, ladder_spread=2)
    config = dataclasses.replace(RunConfig(task="ladder"), task_config=matched)
    assert settings_of(config, "comm")["task_config"]["ladder_spread"] == 2
    unmatched = dataclasses.replace(
        config, task_config=dataclasses.replace(matched, ladder_spread=0)
    )

    def key(c: RunConfig) -> str:
        return CellSpec(task="ladder", method="comm", seed=0, config=c).hash

    assert key(config) != key(unmatched)  # the layout changes the data, so it changes the hash


def test_rule_6_works_on_a_record_in_place() -> None:
    record = {"ladder_spread": 0, "ladder_blocks": 1}
    legacy.ladder_rule(record)
    assert record == {"ladder_blocks": 1}
    record = {"ladder_spread": 3}
    legacy.ladder_rule(record)
    assert record == {"ladder_spread": 3}
