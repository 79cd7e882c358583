"""``mix``: a tunable blend of redundancy, uniqueness and synergy in one composite label.

Latents are fair bits: ``bits_r`` shared bits r, ``bits_u`` private bits u1 (modality 1) and u2
(modality 2), ``bits_s`` bits s1 (modality 1) and s2 (modality 2). Codes: code1 = (r, u1, s1),
code2 = (r, u2, s2), at most 64 values each (``bits_r + bits_u + bits_s <= 6``).

Component labels, each a pure atom of the PID: R = r (``bits_r`` bits of redundancy), U1 = u1
and U2 = u2 (``bits_u`` bits of unique information each), S = s1 XOR s2 bitwise (``bits_s`` bits
of synergy).

Composite label Y (16 classes) = four bits, one per component: the parities of r, u1, u2 and
s1 XOR s2, each XOR-ed with its own independent flip that fires with probability
(1 - strength) / 2. Strength 1 copies the component bit into Y (1 bit of that atom), strength 0
makes the bit pure noise (0 bits): each bit carries 1 - h((1 - strength) / 2) bits, h the binary
entropy. With all strengths 1, Y carries 1 bit each of R, U1, U2 and S (4 bits in all); in
general its exact PID is :func:`composite_atoms` (the four independent bits' atoms add up;
checked against a generic BROJA solver in the tests).
The flips are stored in ``factors["y_flips"]`` (the 4-bit mask, same bit order as Y).
"""

from __future__ import annotations

import numpy as np

from synthetic.base import parity
from synthetic.config import TaskConfig
from synthetic.vector import BitLatentTask

COMPOSITE_CLASSES = 16  # Y = 8 * bit_r + 4 * bit_u1 + 2 * bit_u2 + bit_s


def flip_probabilities(config: TaskConfig) -> np.ndarray:
    """(4,) chance that the R, U1, U2, S bit of Y is flipped: (1 - strength) / 2."""
    strengths = np.array(
        [config.strength_r, config.strength_u1, config.strength_u2, config.strength_s]
    )
    return (1.0 - strengths) / 2.0


def composite_clean(factors: dict[str, np.ndarray]) -> np.ndarray:
    """(n,) Y before flips: parities of r, u1, u2 and s1 XOR s2 as one 4-bit int."""
    return (
        8 * parity(factors["r"])
        + 4 * parity(factors["u1"])
        + 2 * parity(factors["u2"])
        + parity(factors["s1"] ^ factors["s2"])
    )


def composite_probs(clean: np.ndarray, flip: np.ndarray) -> np.ndarray:
    """(n, 16) p(Y | state) when bit k of ``clean`` flips independently with chance flip[k]."""
    ys = np.arange(COMPOSITE_CLASSES)
    probs = np.ones((clean.shape[0], COMPOSITE_CLASSES))
    for k in range(4):
        shift = 3 - k
        differs = ((clean[:, None] >> shift) & 1) != ((ys[None, :] >> shift) & 1)
        probs *= np.where(differs, flip[k], 1.0 - flip[k])
    return probs


def binary_entropy(p: float) -> float:
    """h(p) = -p log2 p - (1 - p) log2 (1 - p), in bits."""
    return float(-sum(q * np.log2(q) for q in (p, 1.0 - p) if q > 0))


def composite_atoms(config: TaskConfig) -> dict[str, float]:
    """Exact BROJA PID of the composite label Y (bits): its four bits are independent, so the
    atoms add up, each bit giving 1 - h(flip) bits to its own atom (R, U1, U2 or S)."""
    flips = flip_probabilities(config)
    return {
        atom: 1.0 - binary_entropy(p) for atom, p in zip(("R", "U1", "U2", "S"), flips, strict=True)
    }


class MixTask(BitLatentTask):
    """Several bits per component and a composite label Y with a tunable strength per atom."""

    name = "mix"
    description = (
        "tunable mix: R, U1, U2, S labels of several bits each plus a composite label Y "
        "whose dependence on each is set by its strength"
    )
    labels = ("R", "U1", "U2", "S", "Y")

    def group_bits(self, config: TaskConfig) -> dict[str, int]:
        return {
            "r": config.bits_r,
            "u1": config.bits_u,
            "u2": config.bits_u,
            "s1": config.bits_s,
            "s2": config.bits_s,
        }

    def num_classes_for(self, config: TaskConfig) -> dict[str, int]:
        return {
            "R": 2**config.bits_r,
            "U1": 2**config.bits_u,
            "U2": 2**config.bits_u,
            "S": 2**config.bits_s,
            "Y": COMPOSITE_CLASSES,
        }

    def sample_label_noise(
        self, n: int, config: TaskConfig, rng: np.random.Generator
    ) -> dict[str, np.ndarray]:
        fired = rng.random((n, 4)) < flip_probabilities(config)
        return {"y_flips": fired.astype(np.int64) @ np.array([8, 4, 2, 1])}

    def label_values(
        self, factors: dict[str, np.ndarray], config: TaskConfig
    ) -> dict[str, np.ndarray]:
        clean = composite_clean(factors)
        flips = factors.get("y_flips", np.zeros_like(clean))
        return {
            "R": factors["r"].copy(),
            "U1": factors["u1"].copy(),
            "U2": factors["u2"].copy(),
            "S": factors["s1"] ^ factors["s2"],
            "Y": clean ^ flips,
        }

    def label_probs(
        self, states: dict[str, np.ndarray], config: TaskConfig, label: str
    ) -> np.ndarray:
        if label == "Y":
            return composite_probs(composite_clean(states), flip_probabilities(config))
        return super().label_probs(states, config, label)


MIX = MixTask()
