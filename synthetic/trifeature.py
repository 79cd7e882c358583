"""``trifeature``: bimodal Trifeatures image pairs with shared, private and synergistic parts.

Built like the bimodal Trifeatures benchmark of CoMM (Dufumier et al., ICLR 2025, "What to
align in multimodal contrastive learning?") and InfMasking, from the Trifeatures stimuli of
Hermann & Lampinen (NeurIPS 2020): each modality is one image, a (shape, texture, colour)
triple out of 10 x 10 x 10, drawn by :mod:`synthetic.render`.

- Both images show the same shape: label ``R`` = shape (10 classes, redundant).
- Each image has its own texture: ``U1`` = texture of image 1, ``U2`` = texture of image 2.
- A fixed random bijection pairs each texture t with one colour ``SYNERGY_PAIRS[t]``; label
  ``S`` = 1 iff (texture of image 1, colour of image 2) is one of those 10 pairs. Neither image
  alone says anything about S: given texture 1 alone, or colour 2 alone, S keeps its prior.
- Colour of image 1 is free (a nuisance), as are rotations and positions.

A pair is drawn from p0: shape, colour 1 and texture 2 uniform, (texture 1, colour 2) in the
bijection with probability ``rate`` and otherwise uniform among the 9 other colours.

Protocol ``"paper"`` (``TaskConfig.trifeature_protocol``, the default), as in the papers' code:

- A fixed random ``trifeature_heldout_fraction`` (20%) of the 1000 triples is held out
  (:func:`heldout_triples`, seeded by ``HELDOUT_SEED``). ``test`` pairs use held-out triples
  only (both images); ``val`` and both training sets use the other 80% only. Each split is p0
  conditioned on that (pairs are redrawn until both triples are allowed).
- Two training sets, each as large as the train split of :func:`split_sizes`, as
  ``MultimodalDataset.training_groups``: ``"RU"`` (labels R, U1, U2) on unbiased pairs at rate
  1/10, where colour 2 is independent of texture 1 under p0 (restricted to kept triples,
  the two share 4e-5 bits through the shape; P(S = 1) = 0.0997), and ``"S"`` (label S and
  the shortcut labels) at :func:`train_synergy_rate` (1.0: S = 1 on every training pair, so
  that a method can link texture 1 to colour 2 without labels). ``dataset.train`` is the RU
  set.
- Shortcut labels, probed on the S model: ``colour1``, ``colour2`` (10 classes each) and
  ``position1`` (quadrant 0..3 of image 1's shape centre, uniform and independent of all
  else). Do they let the S model tell pairs apart without the texture/colour link?
- ``val`` (probe fitting, ``probe_split="val"``) and ``test`` are at
  ``trifeature_eval_synergy_rate`` (0.5; P(S = 1) = 0.4992 on val, 0.4869 on test).
  ``latent_joint`` describes ``test`` exactly (:func:`paper_test_joint`); val is the same law
  on kept triples (:func:`pair_joint`).
- ``trifeature_eval = "per-group"`` (the default) evaluates each group as the papers do: R,
  U1 and U2 on unbiased pairs (their ``biased=False`` sets: rate 1/10, where colour 2 says
  nothing about texture 1) with a val and a test split of their own (same sizes, kept and
  held-out triples), S and the shortcuts on the eval-rate val / test above; each group's
  ``latent_joint`` is that of its own test split. A supervised reference of R/U trains on the
  R/U training pairs (unbiased); the S training pairs all have S = 1, so the reference of S
  trains on pairs of its own (``trifeature_reference = "unbiased"``, the default: as many as a
  training set, drawn like val, on kept triples) or on val (``"val"``, folders written before:
  1,500 pairs, which its probes are also fitted on). Usable bits of a group are read against
  the exact class marginal of its test law: the held-out test triples shift the class
  frequencies of colour 1 and colour 2 away from val's, and the constant predictor fitted on
  val would add that shift to the bits (``captured`` above 1).
  ``"shared"`` (folders written before) evaluates every label on the eval-rate splits.

Protocol ``"single"`` (the earlier behaviour, unchanged): one model for every label, trained
on a train split drawn at ``train_synergy_rate`` (0.9 by default; 1.0 is CoMM's fully biased
set, where S is constant on train), val / test at the eval rate, no triple held out, labels R,
U1, U2, S only. Probes are fitted on the unbiased val split: fitted on a biased train, a probe
for S sees 90% positives and a probe for U1 learns to read texture 1 off colour 2.

Latent codes, per label: for each image, the part of its attributes that carries information
about the label (so tables stay small). ``R``: (shape 1, shape 2) = (shape, shape); ``U1``:
(texture 1, colour 2), since through the bijection colour 2 says something about texture 1;
``U2``: (texture 1, texture 2); ``S``: (texture 1, colour 2); ``colour1``: (colour 1,
colour 2); ``colour2``: (texture 1, colour 2); ``position1``: (quadrant 1, quadrant 2).

Exact BROJA PIDs (bits; R, U1, U2, S) at the eval rate 0.5. ``"single"``: R -> 3.32 bits
(log2 10) of redundancy; U1 -> 0.74 redundancy + 2.58 unique to image 1; U2 -> 3.32 unique to
image 2; S -> h(rate) bits of pure synergy (1 bit at 0.5). ``"paper"`` at the default held-out
fraction 0.2: conditioning on held-out triples couples the shape with each image's texture
and colour, and through the shared shape the two images' attributes with each other, so S is
no longer exactly pure synergy for these codes and the other labels shift a little:

=========  ======  ======  ======  ======
label        R       U1      U2      S
=========  ======  ======  ======  ======
R          3.2450  0       0       0
U1         0.6801  2.6098  0       0
U2         0.0844  0       3.2252  0
S          0.0065  0.0083  0       0.9847
colour1    0.0615  3.2241  0       0
colour2    0.6801  0       2.5887  0
position1  0       2.0000  0       0
=========  ======  ======  ======  ======

Under ``trifeature_eval = "per-group"`` R, U1 and U2 are read on the unbiased R/U test split
(rate 1/10): R 3.2515 redundant; U1 0.0109 redundant + 3.3022 unique to image 1 (colour 2
no longer reveals texture 1); U2 0.0288 redundant + 3.2843 unique to image 2.
"""

from __future__ import annotations

from functools import lru_cache, partial

import numpy as np

from synthetic.base import Task, check_seed, child_rngs
from synthetic.config import TaskConfig
from synthetic.dataset import (
    SPLITS,
    MultimodalDataset,
    Split,
    TrainingGroup,
    split_indices,
    split_sizes,
)
from synthetic.render import Poses, draw_poses, render

N_VALUES = 10  # shapes, textures and colours each
BIJECTION_SEED = 2025  # fixed: the texture -> colour pairing is part of the task definition
SYNERGY_PAIRS: np.ndarray = np.random.default_rng(BIJECTION_SEED).permutation(N_VALUES)
SYNERGY_PAIRS.setflags(write=False)
FACTORS = ("shape", "texture1", "colour1", "texture2", "colour2")
HELDOUT_SEED = 2020  # fixed: which triples are held out for test is part of the task definition
SINGLE_TRAIN_SYNERGY_RATE = 0.9  # "single": default bias of the one training split
PAPER_S_TRAIN_SYNERGY_RATE = 1.0  # "paper": the S group trains on fully biased pairs (CoMM)
# "paper": the R/U group trains on unbiased pairs. At rate 1/10 the bijection partner is drawn
# as often as each of the 9 other colours, so colour 2 is uniform whatever texture 1 is.
INDEPENDENT_SYNERGY_RATE = 1.0 / N_VALUES
SHORTCUT_LABELS = ("colour1", "colour2", "position1")  # "paper" only
PAPER_GROUPS: dict[str, tuple[str, ...]] = {
    "RU": ("R", "U1", "U2"),
    # shortcuts are probed on the S model (trained on biased pairs): does it tell pairs apart
    # by the colours or the position instead of by texture 1 and colour 2 together?
    "S": ("S", *SHORTCUT_LABELS),
}
N_QUADRANTS = 4  # position1 / position2: quadrant of the shape centre


def sample_attributes(rates: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Attributes of n pairs; pair i has (texture1, colour2) in the bijection w.p. rates[i]."""
    n = rates.shape[0]
    shape, texture1, colour1, texture2 = (rng.integers(0, N_VALUES, size=n) for _ in range(4))
    paired = rng.random(n) < rates
    partner = SYNERGY_PAIRS[texture1]
    other = (partner + 1 + rng.integers(0, N_VALUES - 1, size=n)) % N_VALUES  # any other colour
    colour2 = np.where(paired, partner, other)
    return {
        "shape": shape,
        "texture1": texture1,
        "colour1": colour1,
        "texture2": texture2,
        "colour2": colour2,
    }


def synergy_label(texture1: np.ndarray, colour2: np.ndarray) -> np.ndarray:
    """(n,) 1 where (texture of image 1, colour of image 2) is a pair of the bijection."""
    return (SYNERGY_PAIRS[texture1] == colour2).astype(np.int64)


def _pair_synergy() -> np.ndarray:
    """(10, 10) S of every (texture1, colour2): 1 on the pairs of the bijection."""
    return synergy_label(*np.indices((N_VALUES, N_VALUES)))


def pair_probabilities(rate: float) -> np.ndarray:
    """Exact p(texture1, colour2) (10, 10) when a pair is in the bijection w.p. ``rate``."""
    other = (1.0 - rate) / (N_VALUES * (N_VALUES - 1))
    return np.where(_pair_synergy() == 1, rate / N_VALUES, other)


def synergy_table(rate: float) -> np.ndarray:
    """Exact p(texture1, colour2, S) (10, 10, 2) when a pair is in the bijection w.p. ``rate``."""
    s = _pair_synergy()
    return pair_probabilities(rate)[:, :, None] * np.stack([1 - s, s], axis=-1)


def texture1_table(rate: float) -> np.ndarray:
    """Exact p(texture1, colour2, U1 = texture1) (10, 10, 10) at bijection rate ``rate``."""
    table = np.zeros((N_VALUES, N_VALUES, N_VALUES))
    values = np.arange(N_VALUES)
    table[values, :, values] = pair_probabilities(rate)
    return table


def train_synergy_rate(config: TaskConfig) -> float:
    """The bijection rate of the (S group's) training pairs: the config's, or the protocol's own.

    ``trifeature_train_synergy_rate = None`` means 0.9 under ``"single"`` and 1.0 (CoMM's fully
    biased pairs) for the S group of ``"paper"``; the R/U group of ``"paper"`` always trains at
    :data:`INDEPENDENT_SYNERGY_RATE`, whatever this says.
    """
    if config.trifeature_train_synergy_rate is not None:
        return float(config.trifeature_train_synergy_rate)
    if config.trifeature_protocol == "single":
        return SINGLE_TRAIN_SYNERGY_RATE
    return PAPER_S_TRAIN_SYNERGY_RATE


@lru_cache(maxsize=8)
def heldout_triples(fraction: float) -> np.ndarray:
    """(10, 10, 10) bool [shape, texture, colour]: the round(fraction * 1000) test-only triples.

    Drawn once with :data:`HELDOUT_SEED` (a smaller fraction holds out a subset of a larger
    one). Raises ValueError when some shape lacks held-out or kept triples for pairs (same
    shape) of both S = 1 and S = 0, since test (or train / val) could then not show both.
    """
    if not 0 < fraction <= 0.5:
        raise ValueError(f"trifeature held-out fraction must be in (0, 0.5]; got {fraction}")
    n_triples = N_VALUES**3
    order = np.random.default_rng(HELDOUT_SEED).permutation(n_triples)
    flat = np.zeros(n_triples, dtype=bool)
    flat[order[: round(fraction * n_triples)]] = True
    heldout = flat.reshape(N_VALUES, N_VALUES, N_VALUES)
    paired = _pair_synergy().astype(bool)[None]  # (1, texture1, colour2)
    sets: tuple[tuple[str, str, np.ndarray], ...] = (
        ("held-out", "larger", heldout),
        ("kept", "smaller", np.logical_not(heldout)),
    )
    for name, remedy, allowed in sets:
        has_texture = np.asarray(allowed.any(axis=2))  # (shape, texture): some colour allowed
        has_colour = np.asarray(allowed.any(axis=1))  # (shape, colour): some texture allowed
        pair_ok = has_texture[:, :, None] & has_colour[:, None, :]  # (shape, texture1, colour2)
        for value, mask in ((1, paired), (0, ~paired)):
            lacking = np.flatnonzero(~(pair_ok & mask).any(axis=(1, 2)))
            if lacking.size:
                raise ValueError(
                    f"trifeature held-out fraction {fraction} leaves shape {lacking[0]} with no "
                    f"{name} pair of S = {value}; use a {remedy} fraction"
                )
    heldout.setflags(write=False)
    return heldout


def allowed_pairs(factors: dict[str, np.ndarray], allowed: np.ndarray) -> np.ndarray:
    """(n,) bool: both images' (shape, texture, colour) triples are allowed by ``allowed``."""
    shape = factors["shape"]
    return (
        allowed[shape, factors["texture1"], factors["colour1"]]
        & allowed[shape, factors["texture2"], factors["colour2"]]
    )


def sample_allowed_attributes(
    rates: np.ndarray, allowed: np.ndarray, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """:func:`sample_attributes` conditioned on both triples of each pair being ``allowed``.

    Pairs with a triple outside ``allowed`` are redrawn (all at once) until none is left: each
    pair keeps its first accepted draw, an exact sample of p0 given acceptance.
    """
    factors = sample_attributes(rates, rng)
    pending = np.flatnonzero(~allowed_pairs(factors, allowed))
    while pending.size:
        redraw = sample_attributes(rates[pending], rng)
        for key, value in redraw.items():
            factors[key][pending] = value
        pending = pending[~allowed_pairs(redraw, allowed)]
    return factors


def quadrant(poses: Poses) -> np.ndarray:
    """(n,) quadrant 0..3 of each shape centre: 2 * (centre y > 0.5) + (centre x > 0.5).

    The centre is extent + u * (1 - 2 extent) with u uniform, so the quadrant is uniform over 4
    and independent of shape, rotation and everything else.
    """
    centre = poses.centre
    return (2 * (centre[:, 1] > 0.5) + (centre[:, 0] > 0.5)).astype(np.int64)


def pair_joint(rate: float, allowed: np.ndarray) -> np.ndarray:
    """Exact p(shape, texture1, colour1, texture2, colour2) (10,)*5 of pairs drawn from p0 at
    ``rate`` conditioned on both triples being ``allowed`` ((10, 10, 10) bool).

    p0: shape, colour 1 and texture 2 uniform, (texture 1, colour 2) from
    :func:`pair_probabilities`. The paper's test split is ``pair_joint(eval rate, HELDOUT)``.
    """
    weights = np.asarray(allowed, dtype=np.float64)
    joint = np.einsum("ac,sab,sdc->sabdc", pair_probabilities(rate), weights, weights)
    return joint / joint.sum()


def paper_test_joint(rate: float, fraction: float) -> np.ndarray:
    """Exact p(shape, texture1, colour1, texture2, colour2) of the paper's test pairs: p0 at
    ``rate`` restricted to pairs whose two triples are both held out."""
    return pair_joint(rate, heldout_triples(fraction))


def _deterministic_table(p_codes: np.ndarray, label_is_code: int) -> np.ndarray:
    """(n1, n2, n) table of p(code1, code2) with the label = code1 (0) or code2 (1)."""
    n1, n2 = p_codes.shape
    values1, values2 = np.indices((n1, n2))
    table = np.zeros((n1, n2, (n1, n2)[label_is_code]))
    table[values1, values2, (values1, values2)[label_is_code]] = p_codes
    return table


class TrifeatureTask(Task):
    """Pairs of Trifeatures images: shared shape, private textures, synergistic texture/colour."""

    name = "trifeature"
    description = (
        "Trifeatures image pairs: shared shape R, own texture U1/U2, S = (texture1, colour2) "
        "in a fixed bijection (paper protocol: held-out test triples, R/U and S trained apart)"
    )
    kind = "image"
    labels = ("R", "U1", "U2", "S", *SHORTCUT_LABELS)

    def num_classes_for(self, config: TaskConfig) -> dict[str, int]:
        classes = {"R": N_VALUES, "U1": N_VALUES, "U2": N_VALUES, "S": 2}
        if config.trifeature_protocol == "paper":
            classes.update(colour1=N_VALUES, colour2=N_VALUES, position1=N_QUADRANTS)
        return classes

    def _latent_joint(self, label: str, config: TaskConfig) -> np.ndarray:
        if label not in self.num_classes_for(config):
            raise ValueError(
                f"label {label!r} of task 'trifeature' exists only under "
                f"trifeature_protocol='paper'; got {config.trifeature_protocol!r}"
            )
        rate = config.trifeature_eval_synergy_rate
        if config.trifeature_protocol == "paper":
            return self._paper_latent_joint(label, rate, config.trifeature_heldout_fraction)
        if label == "S":  # codes (texture 1, colour 2)
            return synergy_table(rate)
        if label == "U1":  # codes (texture 1, colour 2), label = texture 1
            return texture1_table(rate)
        table = np.zeros((N_VALUES, N_VALUES, N_VALUES))
        values = np.arange(N_VALUES)
        if label == "R":  # codes (shape 1, shape 2), always equal
            table[values, values, values] = 1.0 / N_VALUES
        else:  # U2: codes (texture 1, texture 2), label = texture 2
            table[values[:, None], values[None, :], values[None, :]] = 1.0 / N_VALUES**2
        return table

    @staticmethod
    def _paper_latent_joint(label: str, rate: float, fraction: float) -> np.ndarray:
        """Exact tables of the paper protocol's test split (held-out triples, eval rate)."""
        if label == "position1":  # codes (quadrant 1, quadrant 2), uniform and independent
            return _deterministic_table(np.full((N_QUADRANTS, N_QUADRANTS), 1 / 16), 0)
        joint = paper_test_joint(rate, fraction)  # axes s, a = t1, b = c1, d = t2, c = c2
        if label == "R":  # codes (shape, shape)
            return _deterministic_table(np.diag(np.einsum("sabdc->s", joint)), 0)
        if label == "U2":  # codes (texture 1, texture 2)
            return _deterministic_table(np.einsum("sabdc->ad", joint), 1)
        if label == "colour1":  # codes (colour 1, colour 2)
            return _deterministic_table(np.einsum("sabdc->bc", joint), 0)
        pair = np.einsum("sabdc->ac", joint)  # codes (texture 1, colour 2) of U1, S, colour2
        if label == "U1":
            return _deterministic_table(pair, 0)
        if label == "colour2":
            return _deterministic_table(pair, 1)
        s = _pair_synergy()  # label == "S"
        return pair[:, :, None] * np.stack([1 - s, s], axis=-1)

    def generate(self, config: TaskConfig | None = None, seed: int = 0) -> MultimodalDataset:
        config = config if config is not None else TaskConfig()
        seed = check_seed(seed)
        if config.trifeature_protocol == "paper":
            return self._generate_paper(config, seed)
        return self._generate_single(config, seed)

    def _generate_paper(self, config: TaskConfig, seed: int) -> MultimodalDataset:
        """Val / test / R/U-train / S-train pairs, each drawn on its own (see the module doc)."""
        n_train, n_val, n_test = split_sizes(
            config.n_samples, config.val_fraction, config.test_fraction
        )
        heldout = heldout_triples(config.trifeature_heldout_fraction)
        eval_rate = config.trifeature_eval_synergy_rate
        plan = {  # split: (pairs, bijection rate, allowed triples)
            "val": (n_val, eval_rate, ~heldout),
            "test": (n_test, eval_rate, heldout),
            "RU": (n_train, INDEPENDENT_SYNERGY_RATE, ~heldout),
            "S": (n_train, train_synergy_rate(config), ~heldout),
        }
        per_group = config.trifeature_eval == "per-group"
        if per_group:  # R/U's own unbiased val / test (drawn last: the others stay as they were)
            plan["RU-val"] = (n_val, INDEPENDENT_SYNERGY_RATE, ~heldout)
            plan["RU-test"] = (n_test, INDEPENDENT_SYNERGY_RATE, heldout)
        s_reference = per_group and config.trifeature_reference == "unbiased"
        if s_reference:  # the S reference's own training pairs, drawn like val (last again)
            plan["S-ref"] = (n_train, eval_rate, ~heldout)
        parts = ("latents", "poses1", "poses2")
        size, version = config.image_size, config.trifeature_render
        rngs = child_rngs(seed, tuple(f"{name}/{part}" for name in plan for part in parts))
        splits: dict[str, Split] = {}
        for name, (n, rate, allowed) in plan.items():
            f = sample_allowed_attributes(np.full(n, rate), allowed, rngs[f"{name}/latents"])
            poses1 = draw_poses(f["shape"], rngs[f"{name}/poses1"], version)
            poses2 = draw_poses(f["shape"], rngs[f"{name}/poses2"], version)
            f["position1"], f["position2"] = quadrant(poses1), quadrant(poses2)
            splits[name] = _pair_split(
                f,
                render(f["shape"], f["texture1"], f["colour1"], poses1, size, version),
                render(f["shape"], f["texture2"], f["colour2"], poses2, size, version),
                shortcuts=True,
            )
        if not per_group:
            groups = tuple(
                TrainingGroup(name=name, labels=labels, train=splits[name])
                for name, labels in PAPER_GROUPS.items()
            )
            return self._dataset(config, splits, "RU", groups)
        fraction = config.trifeature_heldout_fraction
        own = {  # group: (val, test, bijection rate of both, where a reference trains)
            "RU": ("RU-val", "RU-test", INDEPENDENT_SYNERGY_RATE, "train"),
            "S": ("val", "test", eval_rate, "val"),  # its train split has S = 1 throughout
        }
        groups = tuple(
            TrainingGroup(
                name=name,
                labels=labels,
                train=splits[name],
                val=splits[own[name][0]],
                test=splits[own[name][1]],
                latent_joint_fn=partial(
                    self._paper_latent_joint, rate=own[name][2], fraction=fraction
                ),
                reference_split=own[name][3],
                reference=splits["S-ref"] if name == "S" and s_reference else None,
            )
            for name, labels in PAPER_GROUPS.items()
        )
        return self._dataset(config, splits, "RU", groups)

    def _generate_single(self, config: TaskConfig, seed: int) -> MultimodalDataset:
        """One split of n pairs cut into train (biased) / val / test (at the eval rate)."""
        n = config.n_samples
        rngs = child_rngs(seed, ("latents", "poses1", "poses2"))
        indices = dict(
            zip(
                SPLITS,
                split_indices(n, config.val_fraction, config.test_fraction, seed),
                strict=True,
            )
        )
        rates = np.full(n, config.trifeature_eval_synergy_rate)
        rates[indices["train"]] = train_synergy_rate(config)
        factors = sample_attributes(rates, rngs["latents"])
        size, version = config.image_size, config.trifeature_render
        poses1 = draw_poses(factors["shape"], rngs["poses1"], version)
        poses2 = draw_poses(factors["shape"], rngs["poses2"], version)
        splits = {}
        for split, index in indices.items():
            f = {key: value[index] for key, value in factors.items()}
            x1 = render(f["shape"], f["texture1"], f["colour1"], poses1.take(index), size, version)
            x2 = render(f["shape"], f["texture2"], f["colour2"], poses2.take(index), size, version)
            splits[split] = _pair_split(f, x1, x2, shortcuts=False)
        return self._dataset(config, splits, "train")

    def _dataset(
        self,
        config: TaskConfig,
        splits: dict[str, Split],
        train: str,
        groups: tuple[TrainingGroup, ...] = (),
    ) -> MultimodalDataset:
        """The dataset of either protocol: ``splits[train]`` as train, probes fitted on val."""
        return MultimodalDataset(
            name=self.name,
            kind=self.kind,
            train=splits[train],
            val=splits["val"],
            test=splits["test"],
            num_classes=self.num_classes_for(config),
            description=self.description,
            latent_joint_fn=lambda label: self.latent_joint(label, config),
            probe_split="val",
            training_groups=groups,
        )


def _pair_split(f: dict[str, np.ndarray], x1: np.ndarray, x2: np.ndarray, shortcuts: bool) -> Split:
    """A split of rendered pairs with its labels and latent codes (see the module doc); with
    ``shortcuts`` (paper protocol) also colour1, colour2 and position1."""
    pair_codes = (f["texture1"], f["colour2"])
    labels = {
        "R": f["shape"].copy(),
        "U1": f["texture1"].copy(),
        "U2": f["texture2"].copy(),
        "S": synergy_label(f["texture1"], f["colour2"]),
    }
    codes = {
        "R": (f["shape"], f["shape"].copy()),
        "U1": pair_codes,
        "U2": (f["texture1"], f["texture2"]),
        "S": pair_codes,
    }
    if shortcuts:
        labels.update(
            colour1=f["colour1"].copy(),
            colour2=f["colour2"].copy(),
            position1=f["position1"].copy(),
        )
        codes.update(
            colour1=(f["colour1"], f["colour2"]),
            colour2=pair_codes,
            position1=(f["position1"], f["position2"]),
        )
    return Split(x1=x1, x2=x2, labels=labels, latent_codes=codes, factors=f)


TRIFEATURE = TrifeatureTask()
