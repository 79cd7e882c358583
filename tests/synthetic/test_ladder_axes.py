"""The ladder's registry and axes: one name per distinct rung (aliases draw the same data), the
matched axes move one thing, the rungs of committed cells keep their settings, and each axis's
difficulty (the supervised reference's S accuracy at a fixed budget) moves as the axis says."""

import dataclasses
import itertools
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from synergy_lab.config import config_from_record
from synergy_lab.models import ModelConfig
from synergy_lab.models.fusion import VECTOR_ENCODERS, ChunkedVectorEncoder
from synergy_lab.runs.cells import CellSpec
from synthetic import TaskConfig, make_dataset
from synthetic.ladder import (
    ALIASES,
    AXES,
    RUNGS,
    canonical_rung,
    matched_blocks,
    rung_of,
    rung_settings,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures"))
from ladder_reference import Budget, mean_accuracy  # noqa: E402

REPORTS = Path(__file__).resolve().parents[2] / "reports"
LADDER_FIELDS = [f.name for f in dataclasses.fields(TaskConfig) if f.name.startswith("ladder_")]


def _task(name: str, n: int = 400, **changes) -> TaskConfig:
    return TaskConfig(n_samples=n, **{**rung_settings(name), **changes})


def _arrays(config: TaskConfig) -> list[np.ndarray]:
    ds = make_dataset("ladder", config, seed=0)
    return [ds.train.x1, ds.train.x2, *(ds.train.labels[k] for k in sorted(ds.train.labels))]


def _same_data(a: TaskConfig, b: TaskConfig) -> bool:
    xa, xb = _arrays(a), _arrays(b)
    return len(xa) == len(xb) and all(
        p.shape == q.shape and np.array_equal(p, q) for p, q in zip(xa, xb, strict=True)
    )


def test_every_registry_name_is_a_distinct_rung_and_every_alias_its_rungs_data() -> None:
    for a, b in itertools.combinations(RUNGS, 2):
        assert not _same_data(_task(a), _task(b)), (a, b)
    for alias, target in ALIASES.items():
        assert canonical_rung(alias) == target and _task(alias) == _task(target)
    # parity-k2's old settings (S the parity of 2 bits) draw exactly order-m2's data
    assert _same_data(TaskConfig(n_samples=400, ladder_parity_bits=2), _task("order-m2"))
    assert canonical_rung("order-m4") == "order-m4"
    with pytest.raises(ValueError, match="unknown ladder rung 'x'.*aliases: parity-k2 = order"):
        canonical_rung("x")


def test_every_axis_names_its_rungs_encoder_reason_and_direction() -> None:
    on_axes = {canonical_rung(r) for axis in AXES.values() for r in axis.rungs}
    assert on_axes | {"richness-multi"} == set(RUNGS)  # every rung but one sits on an axis
    for axis in AXES.values():
        assert axis.encoder in VECTOR_ENCODERS and axis.encoder_reason.startswith(axis.encoder)
        assert axis.reference in ("falls", "flat", "rises") and len(axis.rungs) >= 3
        blocks = {len(rung_of(_task(r)).blocks[0]) for r in axis.rungs}
        # the chunked encoder exactly where a rung has more than one block
        assert (axis.encoder == "chunks") == (blocks != {1}), axis.name
    assert [name for name, axis in AXES.items() if axis.exploratory] == ["dominance", "spread"]


def test_spread_matched_moves_only_the_spread() -> None:
    rungs = AXES["spread-matched"].rungs
    configs = [_task(r) for r in rungs]
    for spread, config in enumerate(configs, start=1):
        others = {f: getattr(config, f) for f in LADDER_FIELDS if f != "ladder_spread"}
        assert others == {f: getattr(configs[0], f) for f in others}  # only ladder_spread moves
        rung = rung_of(config)
        assert rung.states_per_modality == 4096
        for blocks in rung.blocks:
            assert [len(b) for b in blocks] == [3, 3, 3, 3]  # every block's network reads 3 bits
            holding = [any(g.startswith("s") for g, _ in b) for b in blocks]
            assert holding == [True] * spread + [False] * (4 - spread)
    # each block's 8 features are exactly one token's chunk of the chunked encoder
    widths = [len(p) for p in np.array_split(np.arange(configs[0].dim), 4)]
    assert ChunkedVectorEncoder(configs[0].dim, ModelConfig()).sizes == widths == [8] * 4
    # noiseless: the first block's features take one value per value of its 3 bits, 8 in all
    ds = make_dataset("ladder", dataclasses.replace(configs[2], noise=0.0, n_samples=3000), seed=1)
    assert np.unique(ds.train.x1[:, :8], axis=0).shape[0] == 8


def test_dominance_matched_moves_only_the_shared_bits() -> None:
    rungs = [rung_of(_task(r)) for r in AXES["dominance-matched"].rungs]
    assert [r.sizes["r"] for r in rungs] == [2, 4, 16]
    assert {r.states_per_modality for r in rungs} == {64}  # held: the matched control
    tables = [make_dataset("ladder", _task(r), seed=0).latent_joint("S") for r in ["richness-64"]]
    for name in AXES["dominance-matched"].rungs:
        assert np.array_equal(
            make_dataset("ladder", _task(name), seed=0).latent_joint("S"), tables[0]
        )
    # the first dominance axis raised the states with the shared bits: the confound it had
    old = [rung_of(_task(r)).states_per_modality for r in AXES["dominance"].rungs]
    assert old == [8, 16, 64, 1024]


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"ladder_blocks": 4, "ladder_spread": 1}, "3 latent bits do not split into 4 equal"),
        ({"ladder_modulus": 4, "ladder_blocks": 4, "ladder_spread": 1}, "do not fit; raise"),
        ({"ladder_modulus": 4, "ladder_blocks": 4, "ladder_spread": 3}, "exceeds its 2 syn"),
    ],
)
def test_impossible_matched_layouts_are_rejected(settings, message) -> None:
    with pytest.raises(ValueError, match=f"matched spread layout of modality 1: .*{message}"):
        rung_of(TaskConfig(**settings))


def test_matched_blocks_fill_plain_bits_in_order() -> None:
    s_bits, plain = [("s1", 0), ("s1", 1)], [("r", 0), ("u1", 0)]
    assert matched_blocks(s_bits, plain, 2, 1, 1) == [s_bits, plain]
    assert matched_blocks(s_bits, plain, 2, 2, 1) == [[("s1", 0), ("r", 0)], [("s1", 1), ("u1", 0)]]


def _committed_ladder_folders() -> list[Path]:
    folders = sorted(p.parent for p in REPORTS.glob("ladder*/*/config.json"))
    return [f for f in folders if f.name in RUNGS or f.name in ALIASES]


def test_committed_ladder_cells_keep_their_rung_settings_and_hashes() -> None:
    """Every committed ladder folder named after a rung was drawn with that rung's settings
    today, and every cell's hash is the one today's code gives its recorded settings (so
    nothing retrains)."""
    folders = _committed_ladder_folders()
    assert len(folders) >= 20  # reports/ladder's 14 rungs, the two pre-registered grids' 3 each
    for folder in folders:
        recorded = json.loads((folder / "config.json").read_text())["config"]["task_config"]
        today = dataclasses.asdict(_task(folder.name))
        # folders written before ladder_spread existed lack it; newer ones record its value
        assert recorded.get("ladder_spread", 0) == today["ladder_spread"] == 0, folder
        fields = [f for f in LADDER_FIELDS if f in recorded or f != "ladder_spread"]
        assert {f: recorded[f] for f in recorded if f.startswith("ladder_")} == {
            f: today[f] for f in fields
        }, folder
        for path in sorted((folder / "cells").glob("*.json")):
            cell = json.loads(path.read_text())
            spec = CellSpec(
                task=cell["settings"]["task"],
                method=cell["settings"]["method"],
                seed=cell["settings"]["seed"],
                config=config_from_record(cell["config"]),
            )
            assert cell["hash"] in (spec.hash, spec.legacy_hash), path


# Per axis: the fixed budget its difficulty is measured at (small enough to take seconds, large
# enough that the reference is off its floor and ceiling there), the seeds, and the least change
# of the reference's mean S accuracy from the axis's first rung to its last that counts
# (measured: benchmarks/ladder_difficulty.py; the flat control must stay within FLAT).
DIFFICULTY = {  # measured on seeds 0-2 (first -> last rung mean), one torch thread
    "order": (Budget(2000, 10), (0, 1), 0.3),  # 1.000 -> 0.19 (m2 -> m8)
    "parity": (Budget(2000, 10), (0, 1), 0.3),  # 1.000 -> 0.52 (k2 -> k6, 5 seeds)
    "richness": (Budget(2000, 5), (0, 1), 0.2),  # 0.933 -> 0.570 (8 -> 512 states)
    "dominance": (Budget(2000, 5), (0, 1), 0.2),  # 0.933 -> 0.566: with the states (confound)
    "dominance-matched": (Budget(2000, 5), (0, 1, 2), 0.0),  # 0.709 -> 0.722: flat
    "spread": (Budget(2000, 10), (0, 1), 0.1),  # 0.590 -> 0.836: easier (its confound)
    "spread-matched": (Budget(2000, 60), (0, 1), 0.1),  # 0.403 -> 0.232
}
FLAT = 0.05  # largest change of the mean that still counts as flat (3 seeds)
SLOW_AXES = {"spread-matched"}  # 600 steps on the 4,096-state rungs: ~20 s on a busy CPU


def test_every_axis_has_a_difficulty_check() -> None:
    assert set(DIFFICULTY) == set(AXES)


@pytest.mark.parametrize(
    "axis",
    [pytest.param(a, marks=pytest.mark.slow) if a in SLOW_AXES else a for a in DIFFICULTY],
)
def test_the_reference_finds_each_axis_as_hard_as_it_claims(axis: str) -> None:
    budget, seeds, margin = DIFFICULTY[axis]
    info = AXES[axis]
    first, last = (
        mean_accuracy(r, seeds, budget, info.encoder) for r in info.rungs[:: len(info.rungs) - 1]
    )
    if info.reference == "falls":
        assert first - last > margin, (first, last)
    elif info.reference == "rises":
        assert last - first > margin, (first, last)
    else:
        assert abs(last - first) < FLAT, (first, last)
