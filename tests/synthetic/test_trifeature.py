"""trifeature: labels from attributes, the train bias, exact tables, and visible attributes.

Both protocols: ``"single"`` (one biased train split) and ``"paper"`` (held-out test triples,
R/U and S training groups, shortcut labels).
"""

import dataclasses
import hashlib

import numpy as np
import pytest
from scipy.ndimage import uniform_filter
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

from synthetic import MultimodalDataset, TaskConfig, get_task, make_dataset
from synthetic.dataset import split_sizes
from synthetic.render import BACKGROUND, draw_poses
from synthetic.trifeature import (
    PAPER_GROUPS,
    SYNERGY_PAIRS,
    heldout_triples,
    pair_joint,
    quadrant,
    sample_allowed_attributes,
    synergy_label,
    train_synergy_rate,
)

# 8 px: cheap to draw; the latents are the point
TINY = TaskConfig(n_samples=8000, image_size=8, trifeature_protocol="single")
PAPER = TaskConfig(n_samples=400, image_size=16)  # the default protocol, "paper"


def test_bijection_is_a_permutation() -> None:
    assert sorted(SYNERGY_PAIRS.tolist()) == list(range(10))


@pytest.fixture(scope="module")
def tiny():
    return make_dataset("trifeature", TINY, seed=0)


def test_labels_are_the_stated_functions_of_the_attributes(tiny) -> None:
    for split in (tiny.train, tiny.val, tiny.test):
        f = split.factors
        assert set(f) == {"shape", "texture1", "colour1", "texture2", "colour2"}
        assert np.array_equal(split.labels["R"], f["shape"])
        assert np.array_equal(split.labels["U1"], f["texture1"])
        assert np.array_equal(split.labels["U2"], f["texture2"])
        paired = SYNERGY_PAIRS[f["texture1"]] == f["colour2"]
        assert np.array_equal(split.labels["S"], paired.astype(np.int64))
        assert np.array_equal(split.latent_codes["R"][0], f["shape"])
        assert np.array_equal(split.latent_codes["R"][1], f["shape"])
        assert np.array_equal(split.latent_codes["U1"][1], f["colour2"])
        assert np.array_equal(split.latent_codes["U2"][0], f["texture1"])
        assert np.array_equal(split.latent_codes["U2"][1], f["texture2"])
        assert np.array_equal(split.latent_codes["S"][0], f["texture1"])
        assert np.array_equal(split.latent_codes["S"][1], f["colour2"])


def test_train_is_biased_towards_the_bijection_and_test_is_balanced(tiny) -> None:
    n_train, n_test = len(tiny.train), len(tiny.test)
    assert abs(tiny.train.labels["S"].mean() - 0.9) < 5 * np.sqrt(0.09 / n_train)
    for split in (tiny.val, tiny.test):
        assert abs(split.labels["S"].mean() - 0.5) < 5 * np.sqrt(0.25 / n_test)
    for split in (tiny.train, tiny.test):  # the other attributes stay uniform
        for key in ("shape", "texture1", "colour1", "texture2", "colour2"):
            freq = np.bincount(split.factors[key], minlength=10) / len(split)
            assert np.all(np.abs(freq - 0.1) < 5 * np.sqrt(0.09 / len(split)))
    fully = make_dataset(
        "trifeature",
        TaskConfig(
            n_samples=400,
            image_size=8,
            trifeature_train_synergy_rate=1.0,
            trifeature_protocol="single",
        ),
    )
    assert np.all(fully.train.labels["S"] == 1)  # CoMM's fully biased training set
    assert 0 < fully.test.labels["S"].mean() < 1


def test_probes_are_fitted_on_the_unbiased_val_split(tiny) -> None:
    assert tiny.probe_split == "val"
    assert make_dataset("xor", TaskConfig(n_samples=100)).probe_split == "train"


def test_synergy_table_matches_the_test_split_and_hides_s_from_each_image(tiny) -> None:
    table = tiny.latent_joint("S")
    assert table.shape == (10, 10, 2) and table.sum() == pytest.approx(1.0)
    p_s = table.sum(axis=(0, 1))
    assert np.allclose(table.sum(axis=1), table.sum(axis=(1, 2))[:, None] * p_s)  # T1 indep. S
    assert np.allclose(table.sum(axis=0), table.sum(axis=(0, 2))[:, None] * p_s)  # C2 indep. S
    config = TaskConfig(n_samples=30_000, image_size=8, trifeature_protocol="single")
    split = make_dataset("trifeature", config, seed=1).test
    n = len(split)
    for label in ("S", "U1"):  # the exact tables match the empirical frequencies of the codes
        table = tiny.latent_joint(label)
        counts = np.zeros_like(table)
        np.add.at(counts, (*split.latent_codes[label], split.labels[label]), 1.0)
        assert np.all(np.abs(counts / n - table) <= 5 * np.sqrt(table * (1 - table) / n) + 1e-9)


def test_component_tables(tiny) -> None:
    r, u1, u2 = (tiny.latent_joint(k) for k in ("R", "U1", "U2"))
    assert r[3, 3, 3] == pytest.approx(0.1) and r[3, 4].sum() == 0.0
    partner, other = SYNERGY_PAIRS[2], (SYNERGY_PAIRS[2] + 1) % 10  # codes (texture 1, colour 2)
    assert u1[2, partner, 2] == pytest.approx(0.05) and u1[2, other, 2] == pytest.approx(0.5 / 90)
    assert u1[2, partner, 7] == 0.0
    assert u2[2, 7, 7] == pytest.approx(0.01) and u2[2, 7, 2] == 0.0
    assert all(t.sum() == pytest.approx(1.0) for t in (r, u1, u2))


def _spectrum(images: np.ndarray, blur: int) -> np.ndarray:
    """Translation-invariant features: log power spectrum of the (blurred) foreground map."""
    foreground = np.abs(images - BACKGROUND[None, :, None, None]).sum(axis=1)
    if blur > 1:
        foreground = uniform_filter(foreground, size=(1, blur, blur))
    power = np.abs(np.fft.fft2(foreground)) ** 2
    return np.log1p(power[:, :, :17]).reshape(len(images), -1)  # the other half is redundant


def test_shapes_textures_and_colours_are_distinguishable_at_32_px() -> None:
    ds = make_dataset(
        "trifeature", TaskConfig(n_samples=4000, trifeature_protocol="single"), seed=2
    )
    x = np.concatenate([ds.train.x1, ds.val.x1, ds.test.x1])
    f = {
        k: np.concatenate([s.factors[k] for s in (ds.train, ds.val, ds.test)])
        for k in ds.train.factors
    }
    assert x.shape == (4000, 3, 32, 32) and x.dtype == np.float32
    assert x.min() >= 0.0 and x.max() <= 1.0
    foreground = np.abs(x - BACKGROUND[None, :, None, None]).sum(axis=1, keepdims=True) > 0.05
    mean_colour = (x * foreground).sum(axis=(2, 3)) / foreground.sum(axis=(2, 3))
    features = {
        "colour1": mean_colour,
        "texture1": _spectrum(x, blur=1),
        "shape": _spectrum(x, blur=5),  # blurring washes the texture out: the silhouette stays
    }
    floors = {"colour1": 0.95, "texture1": 0.8, "shape": 0.75}  # chance is 0.1
    for key, feats in features.items():
        model = LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto")
        model.fit(feats[:3000], f[key][:3000])
        assert model.score(feats[3000:], f[key][3000:]) > floors[key], key


# ---------------------------------------------------------------------------------------------
# Protocol "single" is the earlier behaviour, byte for byte.


def _digest(ds: MultimodalDataset) -> str:
    """sha256 over every array of every split (dtype, shape and bytes, in a fixed order)."""
    h = hashlib.sha256()
    for split in (ds.train, ds.val, ds.test):
        arrays = [split.x1, split.x2]
        arrays += [split.labels[k] for k in sorted(split.labels)]
        arrays += [c for k in sorted(split.latent_codes) for c in split.latent_codes[k]]
        arrays += [split.factors[k] for k in sorted(split.factors)]
        for array in arrays:
            array = np.ascontiguousarray(array)
            h.update(str(array.dtype).encode())
            h.update(str(array.shape).encode())
            h.update(array.tobytes())
    return h.hexdigest()


# Obtained by running _digest on make_dataset("trifeature", TaskConfig(n_samples=200,
# image_size=16, **kwargs), seed=3) at commit 6ee728a, before the "paper" protocol existed
# (then the only behaviour, with trifeature_train_synergy_rate defaulting to 0.9), drawn by the
# renderer now called "v1" (issue 22 made "v2" the default).
SINGLE_DIGESTS = {
    None: "af2b4c159003bfaebbc1f92d67f5ce943de0a37e4008e67e97792dc70c8f9380",
    1.0: "8cf2a0dccf3dcfe09494e439b7e89d0ec0844587d86fd63c239012823e512497",
}


@pytest.mark.parametrize("rate", [None, 1.0])
def test_single_protocol_is_unchanged(rate: float | None) -> None:
    config = TaskConfig(
        n_samples=200,
        image_size=16,
        trifeature_protocol="single",
        trifeature_train_synergy_rate=rate,
        trifeature_render="v1",
    )
    ds = make_dataset("trifeature", config, seed=3)
    assert _digest(ds) == SINGLE_DIGESTS[rate]
    assert ds.label_names == ("R", "U1", "U2", "S") and ds.training_groups == ()
    with pytest.raises(ValueError, match="'colour1' is not in dataset"):
        ds.latent_joint("colour1")
    with pytest.raises(ValueError, match="'colour1'.*only under trifeature_protocol='paper'"):
        get_task("trifeature").latent_joint("colour1", config)


def test_train_synergy_rate_resolves_none_per_protocol() -> None:
    assert train_synergy_rate(TaskConfig(trifeature_protocol="single")) == 0.9
    assert train_synergy_rate(TaskConfig()) == 1.0
    assert train_synergy_rate(TaskConfig(trifeature_train_synergy_rate=0.7)) == 0.7


# ---------------------------------------------------------------------------------------------
# Protocol "paper".


@pytest.fixture(scope="module")
def paper() -> MultimodalDataset:
    return make_dataset("trifeature", PAPER, seed=0)


def _group_splits(ds: MultimodalDataset) -> dict[str, object]:
    groups = {f"train[{g.name}]": g.train for g in ds.training_groups}
    return {"train": ds.train, "val": ds.val, "test": ds.test, **groups}


def test_paper_labels_codes_and_groups(paper) -> None:
    assert paper.label_names == ("R", "U1", "U2", "S", "colour1", "colour2", "position1")
    assert paper.num_classes["position1"] == 4 and paper.probe_split == "val"
    assert [(g.name, g.labels) for g in paper.training_groups] == list(PAPER_GROUPS.items())
    n_train, n_val, n_test = split_sizes(400, PAPER.val_fraction, PAPER.test_fraction)
    assert (len(paper.val), len(paper.test)) == (n_val, n_test)
    assert all(len(g.train) == n_train for g in paper.training_groups)
    assert paper.train is paper.training_groups[0].train  # the RU group's split
    for name, split in _group_splits(paper).items():
        f, codes = split.factors, split.latent_codes
        assert split.x1.shape == (len(split), 3, 16, 16), name
        expected = {
            "R": (f["shape"], f["shape"], f["shape"]),
            "U1": (f["texture1"], f["colour2"], f["texture1"]),
            "U2": (f["texture1"], f["texture2"], f["texture2"]),
            "S": (f["texture1"], f["colour2"], synergy_label(f["texture1"], f["colour2"])),
            "colour1": (f["colour1"], f["colour2"], f["colour1"]),
            "colour2": (f["texture1"], f["colour2"], f["colour2"]),
            "position1": (f["position1"], f["position2"], f["position1"]),
        }
        for label, (code1, code2, y) in expected.items():
            assert np.array_equal(codes[label][0], code1), (name, label)
            assert np.array_equal(codes[label][1], code2), (name, label)
            assert np.array_equal(split.labels[label], y), (name, label)
        assert set(np.unique(f["position1"])) <= {0, 1, 2, 3}


def test_for_group_gives_the_groups_labels_and_train_split(paper) -> None:
    ru, s = paper.training_groups
    for group in (ru, s):
        view = paper.for_group(group)
        assert view.label_names == group.labels
        assert view.train is group.train and view.test is group.test and view.val is group.val
        assert view.training_groups == () and view.has_latents
    assert np.all(s.train.labels["S"] == 1)  # the S group trains on fully biased pairs
    # S is evaluated on the eval-rate splits, R/U on its own unbiased ones
    assert s.test is paper.test and s.val is paper.val
    assert ru.test is not paper.test and ru.val is not paper.val
    assert (ru.reference_split, s.reference_split) == ("train", "val")
    assert paper.for_group(ru).reference_split == "train"


def test_the_s_reference_trains_on_unbiased_pairs_of_its_own(paper) -> None:
    ru, s = paper.training_groups
    assert ru.reference is None and s.reference is not None
    assert len(s.reference) == len(s.train)  # as many pairs as a training set
    f = s.reference.factors  # drawn like val: kept triples, S at the eval rate
    heldout = heldout_triples(PAPER.trifeature_heldout_fraction)
    assert not heldout[f["shape"], f["texture1"], f["colour1"]].any()
    assert not heldout[f["shape"], f["texture2"], f["colour2"]].any()
    rate = s.reference.labels["S"].mean()
    assert abs(rate - 0.5) < 5 * np.sqrt(0.25 / len(s.reference))
    reference = paper.for_group(s, reference=True)
    assert reference.train is s.reference and reference.reference_split == "train"
    assert reference.test is s.test and reference.val is s.val  # evaluated as the methods are
    assert paper.for_group(ru, reference=True).train is ru.train  # R/U's train is unbiased
    assert paper.for_group(s).train is s.train  # the methods still train on biased pairs
    # drawn last, so every other split is what the setting "val" (folders before) draws
    on_val = make_dataset(
        "trifeature", dataclasses.replace(PAPER, trifeature_reference="val"), seed=0
    )
    assert on_val.training_groups[1].reference is None
    assert on_val.for_group(on_val.training_groups[1], reference=True).reference_split == "val"
    for a, b in zip(_group_splits(paper).values(), _group_splits(on_val).values(), strict=True):
        assert np.array_equal(a.x1, b.x1) and np.array_equal(a.x2, b.x2)


def test_shared_evaluation_keeps_every_group_on_the_eval_rate_splits() -> None:
    shared = make_dataset(
        "trifeature", TaskConfig(n_samples=400, image_size=8, trifeature_eval="shared"), seed=0
    )
    for group in shared.training_groups:
        view = shared.for_group(group)
        assert not group.own_evaluation and view.reference_split is None
        assert view.test is shared.test and view.val is shared.val
    # the per-group splits are drawn after the others, so these are the same pairs
    per_group = make_dataset("trifeature", TaskConfig(n_samples=400, image_size=8), seed=0)
    for name in ("train", "val", "test"):
        assert np.array_equal(shared.split(name).x1, per_group.split(name).x1), name


def test_ru_is_evaluated_on_unbiased_pairs_with_its_own_exact_tables(paper) -> None:
    ru = paper.training_groups[0]
    view = paper.for_group(ru)
    heldout = heldout_triples(PAPER.trifeature_heldout_fraction)
    for split, allowed in ((view.test, heldout), (view.val, ~heldout)):
        f = split.factors
        both = allowed[f["shape"], f["texture1"], f["colour1"]]
        both &= allowed[f["shape"], f["texture2"], f["colour2"]]
        assert both.all()
        assert len(split) == len(paper.split(split is view.test and "test" or "val"))
    # rate 1/10: colour 2 no longer reveals texture 1, so U1 is unique to image 1 and the
    # exact U1 table has (almost) no redundancy, unlike the eval-rate table of S's splits
    from synergy_lab.pid import broja_pid

    unbiased, biased = broja_pid(view.latent_joint("U1")), broja_pid(paper.latent_joint("U1"))
    assert unbiased.redundancy < 0.02 and biased.redundancy > 0.5  # 0.011 and 0.680 bits
    s_rate = synergy_label(view.test.factors["texture1"], view.test.factors["colour2"]).mean()
    assert abs(s_rate - 0.1) < 5 * np.sqrt(0.09 / len(view.test))


def test_ru_tables_match_the_sampled_unbiased_test_codes() -> None:
    n, task = 200_000, get_task("trifeature")
    f = sample_allowed_attributes(np.full(n, 0.1), heldout_triples(0.2), np.random.default_rng(9))
    samples = {
        "R": (f["shape"], f["shape"], f["shape"]),
        "U1": (f["texture1"], f["colour2"], f["texture1"]),
        "U2": (f["texture1"], f["texture2"], f["texture2"]),
    }
    for label, codes in samples.items():
        exact = task._paper_latent_joint(label, rate=0.1, fraction=0.2)
        _assert_within(_empirical(*codes, exact.shape), exact, n, label)


def test_paper_test_triples_are_held_out_and_the_rest_kept(paper) -> None:
    heldout = heldout_triples(PAPER.trifeature_heldout_fraction)
    assert heldout.shape == (10, 10, 10) and heldout.sum() == 200
    assert not heldout.flags.writeable
    for name, split in _group_splits(paper).items():
        f = split.factors
        image1 = heldout[f["shape"], f["texture1"], f["colour1"]]
        image2 = heldout[f["shape"], f["texture2"], f["colour2"]]
        if name == "test":
            assert image1.all() and image2.all()
        else:
            assert not image1.any() and not image2.any(), name
    assert 0 < paper.test.labels["S"].sum() < len(paper.test)  # both classes on test
    assert heldout_triples(0.15).sum() == 150
    assert np.all(heldout_triples(0.2)[heldout_triples(0.15)])  # nested by construction


def test_heldout_fraction_too_small_for_both_synergy_classes_is_rejected() -> None:
    with pytest.raises(ValueError, match="held-out fraction 0.01 leaves shape"):
        heldout_triples(0.01)
    with pytest.raises(ValueError, match="held-out fraction 0.01"):
        make_dataset("trifeature", TaskConfig(n_samples=40, trifeature_heldout_fraction=0.01))


def test_paper_is_deterministic_given_the_seed() -> None:
    config = TaskConfig(n_samples=60, image_size=8)
    first = make_dataset("trifeature", config, seed=5)
    again = make_dataset("trifeature", config, seed=5)
    other = make_dataset("trifeature", config, seed=6)
    for name, split in _group_splits(first).items():
        twin, different = _group_splits(again)[name], _group_splits(other)[name]
        assert np.array_equal(split.x1, twin.x1) and np.array_equal(split.x2, twin.x2)
        for key, value in split.factors.items():
            assert np.array_equal(value, twin.factors[key]), (name, key)
        assert not np.array_equal(split.x1, different.x1), name


def test_paper_tables_are_distributions_of_the_right_shape(paper) -> None:
    for label, k in paper.num_classes.items():
        table = paper.latent_joint(label)
        n_codes = 4 if label == "position1" else 10
        assert table.shape == (n_codes, n_codes, k), label
        assert np.all(table >= 0) and table.sum() == pytest.approx(1.0), label


def _empirical(code1: np.ndarray, code2: np.ndarray, y: np.ndarray, shape) -> np.ndarray:
    counts = np.zeros(shape)
    np.add.at(counts, (code1, code2, y), 1.0)
    return counts / len(y)


def _assert_within(empirical: np.ndarray, exact: np.ndarray, n: int, what: str) -> None:
    """Every cell within 5 standard errors of a multinomial frequency (binomial per cell)."""
    bound = 5 * np.sqrt(exact * (1 - exact) / n) + 1e-12
    worst = np.max(np.abs(empirical - exact) - bound)
    assert worst <= 0, f"{what}: a cell is {worst:.2e} beyond 5 standard errors"


def test_paper_tables_match_the_sampled_test_codes() -> None:
    """The attribute sampler (the one generate uses, no rendering) at n = 200k against the
    exact test tables of every label."""
    n, task = 200_000, get_task("trifeature")
    rng = np.random.default_rng(7)
    rates = np.full(n, PAPER.trifeature_eval_synergy_rate)
    f = sample_allowed_attributes(rates, heldout_triples(0.2), rng)
    position1 = quadrant(draw_poses(f["shape"], rng))
    position2 = quadrant(draw_poses(f["shape"], rng))
    s = synergy_label(f["texture1"], f["colour2"])
    samples = {
        "R": (f["shape"], f["shape"], f["shape"]),
        "U1": (f["texture1"], f["colour2"], f["texture1"]),
        "U2": (f["texture1"], f["texture2"], f["texture2"]),
        "S": (f["texture1"], f["colour2"], s),
        "colour1": (f["colour1"], f["colour2"], f["colour1"]),
        "colour2": (f["texture1"], f["colour2"], f["colour2"]),
        "position1": (position1, position2, position1),
    }
    assert set(samples) == set(task.num_classes_for(PAPER))
    for label, codes in samples.items():
        exact = task.latent_joint(label, PAPER)
        _assert_within(_empirical(*codes, exact.shape), exact, n, label)


def test_paper_training_pairs_are_unbiased_for_ru_and_fully_biased_for_s() -> None:
    n, kept = 200_000, ~heldout_triples(0.2)
    rng = np.random.default_rng(8)
    ru = sample_allowed_attributes(np.full(n, 0.1), kept, rng)
    pairs = np.zeros((10, 10))
    np.add.at(pairs, (ru["texture1"], ru["colour2"]), 1.0 / n)
    product = np.outer(pairs.sum(axis=1), pairs.sum(axis=0))
    _assert_within(pairs, product, n, "RU: p(texture1, colour2) = p(texture1) p(colour2)")
    exact = pair_joint(0.1, kept).sum(axis=(0, 2, 3))  # (texture1, colour2)
    exact_product = np.outer(exact.sum(axis=1), exact.sum(axis=0))
    mutual = np.sum(exact * np.log2(exact / exact_product))
    assert 0 <= mutual < 1e-3  # bits: independent up to what kept triples couple via shape
    assert abs(synergy_label(ru["texture1"], ru["colour2"]).mean() - 0.1) < 5 * np.sqrt(0.09 / n)
    s_pairs = sample_allowed_attributes(np.full(n, 1.0), kept, rng)
    assert np.all(synergy_label(s_pairs["texture1"], s_pairs["colour2"]) == 1)


def test_selection_never_scores_a_groups_own_test_split(paper) -> None:
    selection = paper.for_selection()
    for group, chosen in zip(paper.training_groups, selection.training_groups, strict=True):
        view = selection.for_group(chosen)
        assert group.val is not None and group.test is not None
        val_rows = {row.tobytes() for row in group.val.x1}
        test_rows = {row.tobytes() for row in group.test.x1}
        scored = {row.tobytes() for row in view.test.x1}
        assert scored <= val_rows and not scored & test_rows, group.name
        assert len(view.test) + len(view.val) == len(group.val), group.name
