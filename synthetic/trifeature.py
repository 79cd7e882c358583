"""``trifeature``: bimodal Trifeatures image pairs with shared, private and synergistic parts.

Built like the bimodal Trifeatures benchmark of CoMM (Dufumier et al., ICLR 2025, "What to
align in multimodal contrastive learning?") from the Trifeatures stimuli of Hermann & Lampinen
(NeurIPS 2020): each modality is one image (shape, texture, colour; 10 values each), drawn by
:mod:`synthetic.render`.

- Both images show the same shape: label ``R`` = shape (10 classes, redundant).
- Each image has its own texture: ``U1`` = texture of image 1, ``U2`` = texture of image 2.
- A fixed random bijection pairs each texture t with one colour ``SYNERGY_PAIRS[t]``; label
  ``S`` = 1 iff (texture of image 1, colour of image 2) is one of those 10 pairs. Neither image
  alone says anything about S: given texture 1 alone, or colour 2 alone, S keeps its prior.
- Colour of image 1 is free (a nuisance), as are rotations and positions.

The bias. CoMM trains on pairs restricted to the bijection, so (texture 1, colour 2) co-occur
and a method can learn their link without labels. Here the train split draws the pair from the
bijection with probability ``trifeature_train_synergy_rate`` (0.9 by default; 1.0 is CoMM's
fully biased set, where S is constant on train) and otherwise uniformly among the 9 other
colours. Val and test are drawn the same way with ``trifeature_eval_synergy_rate`` (0.5: S is
balanced, chance = 50%). ``latent_joint`` describes the val / test distribution; the train
split's codes follow the biased rate instead. Probes are therefore fitted on the unbiased val
split (``probe_split="val"``): fitted on train, a probe for S sees 90% positives and a probe for
U1 learns to read texture 1 off the colour of image 2, which is right 90% of the time on train
but only 50% on test.

Latent codes, per label: for each image, the part of its attributes that carries information
about the label (so tables stay 10 x 10 x k). ``R``: (shape 1, shape 2) = (shape, shape);
``U1``: (texture 1, colour 2), since through the bijection colour 2 says something about
texture 1; ``U2``: (texture 1, texture 2), image 1 saying nothing about texture 2; ``S``:
(texture 1, colour 2). Exact PIDs at the eval rate 0.5: R -> log2(10) = 3.32 bits of
redundancy; U2 -> 3.32 bits unique to image 2; U1 -> 0.74 bits of redundancy (what colour 2
tells about texture 1) and 2.58 bits unique to image 1; S -> h(rate) bits of pure synergy (1
bit at 0.5). U2 is the clean measure of uniqueness.
"""

from __future__ import annotations

import numpy as np

from synthetic.base import Task, check_seed, child_rngs
from synthetic.config import TaskConfig
from synthetic.dataset import SPLITS, MultimodalDataset, Split, split_indices
from synthetic.render import draw_poses, render

N_VALUES = 10  # shapes, textures and colours each
BIJECTION_SEED = 2025  # fixed: the texture -> colour pairing is part of the task definition
SYNERGY_PAIRS: np.ndarray = np.random.default_rng(BIJECTION_SEED).permutation(N_VALUES)
SYNERGY_PAIRS.setflags(write=False)
FACTORS = ("shape", "texture1", "colour1", "texture2", "colour2")


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


class TrifeatureTask(Task):
    """Pairs of Trifeatures images: shared shape, private textures, synergistic texture/colour."""

    name = "trifeature"
    description = (
        "Trifeatures image pairs: shared shape R, own texture U1/U2, S = (texture1, colour2) "
        "in a fixed bijection (train biased towards it)"
    )
    kind = "image"
    labels = ("R", "U1", "U2", "S")

    def num_classes_for(self, config: TaskConfig) -> dict[str, int]:
        return {"R": N_VALUES, "U1": N_VALUES, "U2": N_VALUES, "S": 2}

    def _latent_joint(self, label: str, config: TaskConfig) -> np.ndarray:
        rate = config.trifeature_eval_synergy_rate
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

    def generate(self, config: TaskConfig | None = None, seed: int = 0) -> MultimodalDataset:
        config = config if config is not None else TaskConfig()
        seed = check_seed(seed)
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
        rates[indices["train"]] = config.trifeature_train_synergy_rate
        factors = sample_attributes(rates, rngs["latents"])
        poses1 = draw_poses(factors["shape"], rngs["poses1"])
        poses2 = draw_poses(factors["shape"], rngs["poses2"])
        splits = {}
        for split, index in indices.items():
            f = {key: value[index] for key, value in factors.items()}
            x1 = render(
                f["shape"], f["texture1"], f["colour1"], poses1.take(index), config.image_size
            )
            x2 = render(
                f["shape"], f["texture2"], f["colour2"], poses2.take(index), config.image_size
            )
            shapes_codes = (f["shape"], f["shape"].copy())
            texture_codes = (f["texture1"], f["texture2"])
            pair_codes = (f["texture1"], f["colour2"])
            splits[split] = Split(
                x1=x1,
                x2=x2,
                labels={
                    "R": f["shape"].copy(),
                    "U1": f["texture1"].copy(),
                    "U2": f["texture2"].copy(),
                    "S": synergy_label(f["texture1"], f["colour2"]),
                },
                latent_codes={
                    "R": shapes_codes,
                    "U1": pair_codes,
                    "U2": texture_codes,
                    "S": pair_codes,
                },
                factors=f,
            )
        return MultimodalDataset(
            name=self.name,
            kind=self.kind,
            train=splits["train"],
            val=splits["val"],
            test=splits["test"],
            num_classes=self.num_classes_for(config),
            description=self.description,
            latent_joint_fn=lambda label: self.latent_joint(label, config),
            probe_split="val",
        )


TRIFEATURE = TrifeatureTask()
