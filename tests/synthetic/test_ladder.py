"""The synergy ladder: exact tables per rung, samples vs tables, pure synergy, seeds, bad input."""

import dataclasses

import numpy as np
import pytest

from synergy_lab.pid import PID, broja_pid
from synergy_lab.pid.information import table_informations
from synthetic import TaskConfig, get_task, make_dataset
from synthetic.base import parity
from synthetic.ladder import AXES, RUNGS, full_latent_joint, rung_of, rung_pid_bits, rung_settings

LADDER = get_task("ladder")


def _config(rung: str, n: int = 200) -> TaskConfig:
    return TaskConfig(n_samples=n, **rung_settings(rung))


def _all(ds):
    splits = (ds.train, ds.val, ds.test)
    factors = {k: np.concatenate([s.factors[k] for s in splits]) for k in ds.train.factors}
    labels = {k: np.concatenate([s.labels[k] for s in splits]) for k in ds.train.labels}
    codes = {
        k: tuple(np.concatenate([s.latent_codes[k][i] for s in splits]) for i in (0, 1))
        for k in ds.train.latent_codes
    }
    return factors, labels, codes


def _informations(table: np.ndarray) -> tuple[float, float, float]:
    info = table_informations(table)
    return float(info[0]), float(info[1]), float(info[2])


@pytest.mark.parametrize("rung", sorted(RUNGS))
def test_every_rung_table_is_a_distribution_with_its_designed_pid(rung: str) -> None:
    config = _config(rung)
    assert set(LADDER.num_classes_for(config)) == set(LADDER.labels_for(config))
    for label, classes in LADDER.num_classes_for(config).items():
        table = LADDER.latent_joint(label, config)
        assert table.ndim == 3 and table.shape[2] == classes and np.all(table >= 0)
        assert table.sum() == pytest.approx(1.0, abs=1e-12)
        pid = broja_pid(table)
        expected = rung_pid_bits(label, config)
        assert tuple(expected) == PID.PARTS  # synthetic spells the names itself (numpy only)
        for atom, value in expected.items():
            assert getattr(pid, atom) == pytest.approx(value, abs=1e-6), (label, atom)
        if label.startswith("S"):
            # pure synergy: neither modality's code alone says anything; synergy = H(S)
            p_y = table.sum(axis=(0, 1))
            h_s = float(-(p_y * np.log2(p_y)).sum())
            i1, i2, _ = _informations(table)
            assert i1 == pytest.approx(0.0, abs=1e-12) and i2 == pytest.approx(0.0, abs=1e-12)
            assert pid.synergy == pytest.approx(h_s, abs=1e-6)


def test_order_axis_values() -> None:
    bits = {r: rung_pid_bits("S", _config(r))["synergy"] for r in RUNGS if r.startswith("order")}
    assert bits == pytest.approx({f"order-m{m}": np.log2(m) for m in (2, 3, 4, 6, 8)}, abs=1e-12)
    # a k-bit parity splits ceil(k/2) bits to modality 1 and floor(k/2) to modality 2
    assert LADDER.latent_joint("S", _config("parity-k5")).shape == (8, 4, 2)


@pytest.mark.parametrize("rung", ["order-m2", "order-m3", "parity-k3", "spread-2", "dominance-2"])
def test_per_label_codes_lose_no_pid_against_whole_latent_states(rung: str) -> None:
    """Each modality's whole latent state (every group it sees) gives the same PID as the
    per-label codes, and S carries nothing about either whole state alone."""
    config = _config(rung)
    for label in LADDER.labels_for(config):
        full = full_latent_joint(label, config)
        assert full.sum() == pytest.approx(1.0, abs=1e-12)
        small, big = broja_pid(LADDER.latent_joint(label, config)), broja_pid(full)
        for atom in PID.PARTS:
            assert getattr(big, atom) == pytest.approx(getattr(small, atom), abs=1e-5)
        if label == "S":
            i1, i2, i12 = _informations(full)
            assert abs(i1) < 1e-12 and abs(i2) < 1e-12 and i12 > 0.9


def _check_against_samples(table: np.ndarray, code1, code2, y) -> None:
    n = y.shape[0]
    counts = np.zeros_like(table)
    np.add.at(counts, (code1, code2, y), 1.0)
    tolerance = 5 * np.sqrt(table * (1 - table) / n) + 1e-9
    assert np.all(np.abs(table - counts / n) <= tolerance)
    assert np.all(table[code1, code2, y] > 0)  # nothing drawn off the table's support


@pytest.mark.parametrize("rung", ["order-m6", "parity-k4", "dominance-8", "richness-multi"])
def test_tables_match_sample_frequencies_and_labels_are_their_functions(rung: str) -> None:
    config = _config(rung, n=12_000)
    ds = make_dataset("ladder", config, seed=3)
    f, y, codes = _all(ds)
    rung_info = rung_of(config)
    assert set(y) == set(LADDER.labels_for(config))
    assert np.array_equal(y["U1"], f["u1"]) and np.array_equal(y["U2"], f["u2"])
    assert np.array_equal(y["R"], f["r"] & (LADDER.num_classes_for(config)["R"] - 1))
    if rung_info.modulus:
        assert np.array_equal(y["S"], (f["s1"] + f["s2"]) % rung_info.modulus)
    else:
        assert np.array_equal(y["S"], parity(f["s1"]) ^ parity(f["s2"]))
    for label in y:
        _check_against_samples(ds.latent_joint(label), *codes[label], y[label])
    # S's marginal in the samples matches its table: uniform over its classes
    s_classes = LADDER.num_classes_for(config)["S"]
    freq = np.bincount(y["S"], minlength=s_classes) / y["S"].size
    assert np.allclose(freq, 1 / s_classes, atol=5 * np.sqrt(1 / s_classes / y["S"].size))


def test_observations_are_standardised_and_spread_blocks_separate_latents() -> None:
    config = dataclasses.replace(_config("spread-3", n=6000), noise=0.0)
    ds = make_dataset("ladder", config, seed=0)
    f, _, _ = _all(ds)
    x1 = np.concatenate([ds.train.x1, ds.val.x1, ds.test.x1])
    assert x1.shape == (6000, config.dim) and x1.dtype == np.float32
    assert np.allclose(x1.mean(axis=0), 0.0, atol=0.06)
    assert np.allclose(x1.std(axis=0), 1.0, atol=0.06)
    blocks = rung_of(config).blocks[0]
    assert [sorted({g for g, _ in b}) for b in blocks] == [["r", "u1"], ["s1"], ["s1"]]
    # noiseless: block 1 (11 features) takes one value per value of s1's first bit only
    widths = [len(p) for p in np.array_split(np.arange(config.dim), 3)]
    block1 = x1[:, widths[0] : widths[0] + widths[1]]
    assert np.unique(block1, axis=0).shape[0] == 2
    first_bit = f["s1"] >> 1
    for bit in (0, 1):
        assert np.unique(block1[first_bit == bit], axis=0).shape[0] == 1


def test_richness_counts_latent_states() -> None:
    rungs = (*AXES["richness"].rungs, "richness-multi")
    states = {r: rung_of(_config(r)).states_per_modality for r in rungs}
    assert states == {
        "richness-8": 8,
        "richness-64": 64,
        "richness-512": 512,
        "richness-multi": 2 * 2 * 8 * 2**3,
    }
    assert LADDER.labels_for(_config("richness-multi")) == ("R", "U1", "U2", "S", "S2", "S3")


def test_seeded_reproducibility() -> None:
    config = _config("order-m4", n=300)
    a, b, c = (make_dataset("ladder", config, seed=s) for s in (7, 7, 8))
    for split in ("train", "val", "test"):
        sa, sb = a.split(split), b.split(split)
        assert np.array_equal(sa.x1, sb.x1) and np.array_equal(sa.x2, sb.x2)
        assert all(np.array_equal(sa.labels[k], sb.labels[k]) for k in sa.labels)
    assert not np.array_equal(a.train.x1, c.train.x1)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"ladder_modulus": 1}, "ladder_modulus must be an integer in"),
        ({"ladder_modulus": 17}, "ladder_modulus must be an integer in"),
        ({"ladder_parity_bits": 1}, "ladder_parity_bits must be 0"),
        ({"ladder_parity_bits": 9}, "ladder_parity_bits must be 0"),
        ({"ladder_parity_bits": 4, "ladder_modulus": 3}, "two kinds of S"),
        ({"ladder_bits_r": 0}, "ladder_bits_r must be"),
        ({"ladder_bits_r": 9}, "ladder_bits_r must be"),
        ({"ladder_bits_u": 4}, "ladder_bits_u must be"),
        ({"ladder_nuisance_bits": -1}, "ladder_nuisance_bits must be"),
        ({"ladder_synergy_labels": 4}, "ladder_synergy_labels must be"),
        ({"ladder_blocks": 0}, "ladder_blocks must be"),
        ({"ladder_blocks": 2.0}, "ladder_blocks must be"),
        ({"ladder_spread": -1}, "ladder_spread must be an integer in \\[0, 1\\]"),
        (
            {"ladder_blocks": 4, "ladder_spread": 5},
            "ladder_spread must be an integer in \\[0, 4\\]",
        ),
    ],
)
def test_bad_settings_are_rejected_with_one_clear_message(settings, message) -> None:
    with pytest.raises(ValueError, match=message):
        TaskConfig(**settings)


def test_impossible_rungs_are_rejected_when_drawn() -> None:
    with pytest.raises(ValueError, match="leaves a block of modality 1 empty"):
        make_dataset("ladder", TaskConfig(n_samples=100, ladder_blocks=3))
    too_rich = TaskConfig(n_samples=100, ladder_bits_r=8, ladder_nuisance_bits=9)
    with pytest.raises(ValueError, match="too rich: block 0 of modality 1 sees 19"):
        LADDER.latent_joint("S", too_rich)
    with pytest.raises(ValueError, match="unknown ladder rung 'order-m5'; valid rungs"):
        rung_settings("order-m5")
    with pytest.raises(ValueError, match="'S2' is not a label of task 'ladder'"):
        LADDER.latent_joint("S2", TaskConfig())
