"""Vector tasks built from fair latent bits: the shared machinery and the xor / and / or tasks.

Latent groups of independent fair bits: ``r`` (seen by both modalities), ``u1`` (modality 1
only), ``u2`` (modality 2 only), ``s1`` (modality 1), ``s2`` (modality 2). Modality i observes its
bits (r, ui, si) through a fixed random tanh network (:mod:`synthetic.embedding`); its latent
code is the integer those bits spell, most significant first: code1 = (r, u1, s1), code2 =
(r, u2, s2). Every label is a function of the latents, so its exact table
p(code1, code2, label) follows by enumerating all latent states.

Gate tasks (one bit per group, codes in 0..7): R = r, U1 = u1, U2 = u2 and S = gate(s1, s2).
For XOR the PID of the tables is exact and simple: R -> 1 bit of redundancy, U1 / U2 -> 1 bit
unique, S -> 1 bit of synergy; for AND (and OR, by symmetry) the S label carries
I = 0.811 bits, which BROJA splits into R = 0.311 and S = 0.5 bits (Bertschinger et al., 2014).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable

import numpy as np

from synthetic.base import (
    Task,
    accumulate_joint,
    check_seed,
    child_rngs,
    int_to_bits,
    one_hot,
)
from synthetic.config import TaskConfig
from synthetic.dataset import MultimodalDataset, Split
from synthetic.embedding import draw_random_map, observe

GROUPS: tuple[str, ...] = ("r", "u1", "u2", "s1", "s2")
MODALITY_GROUPS: tuple[tuple[str, ...], tuple[str, ...]] = (("r", "u1", "s1"), ("r", "u2", "s2"))


def modality_code(
    factors: dict[str, np.ndarray], groups: tuple[str, ...], bits: dict[str, int]
) -> np.ndarray:
    """(n,) code a modality sees: the bits of its ``groups`` concatenated, MSB first."""
    code = np.zeros_like(factors[groups[0]])
    for group in groups:
        code = (code << bits[group]) | factors[group]
    return code


def modality_bits(
    factors: dict[str, np.ndarray], groups: tuple[str, ...], bits: dict[str, int]
) -> np.ndarray:
    """(n, k) 0/1 bits a modality observes: its groups' bits side by side, MSB first."""
    return np.concatenate([int_to_bits(factors[g], bits[g]) for g in groups], axis=1)


def enumerate_states(bits: dict[str, int]) -> dict[str, np.ndarray]:
    """Every joint value of the latent groups (all equiprobable), as (2^B,) int arrays."""
    total = sum(bits.values())
    flat = np.arange(2**total, dtype=np.int64)
    states: dict[str, np.ndarray] = {}
    shift = total
    for group in GROUPS:
        shift -= bits[group]
        states[group] = (flat >> shift) & ((1 << bits[group]) - 1)
    return states


class BitLatentTask(Task):
    """A vector task whose latents are the fair bit groups r, u1, u2, s1, s2.

    Subclasses say how many bits each group has (``group_bits``) and how labels follow from
    the latents (``label_values``, plus ``label_probs`` when a label has extra noise).
    """

    kind = "vector"

    @abstractmethod
    def group_bits(self, config: TaskConfig) -> dict[str, int]:
        """Number of fair bits of each latent group r, u1, u2, s1, s2."""

    @abstractmethod
    def label_values(
        self, factors: dict[str, np.ndarray], config: TaskConfig
    ) -> dict[str, np.ndarray]:
        """Every label as a function of the factors (latents plus any sampled label noise)."""

    def sample_label_noise(
        self, n: int, config: TaskConfig, rng: np.random.Generator
    ) -> dict[str, np.ndarray]:
        """Extra named factors a noisy label needs (none by default)."""
        return {}

    def label_probs(
        self, states: dict[str, np.ndarray], config: TaskConfig, label: str
    ) -> np.ndarray:
        """(m, n_classes) p(label | latent state) for the enumerated states; one-hot by default."""
        values = self.label_values(states, config)[label]
        return one_hot(values, self.num_classes_for(config)[label])

    def code_sizes(self, config: TaskConfig) -> tuple[int, int]:
        bits = self.group_bits(config)
        size1, size2 = (2 ** sum(bits[g] for g in groups) for groups in MODALITY_GROUPS)
        return size1, size2

    def _latent_joint(self, label: str, config: TaskConfig) -> np.ndarray:
        bits = self.group_bits(config)
        states = enumerate_states(bits)
        m = states["r"].shape[0]
        code1 = modality_code(states, MODALITY_GROUPS[0], bits)
        code2 = modality_code(states, MODALITY_GROUPS[1], bits)
        probs = self.label_probs(states, config, label)
        return accumulate_joint(np.full(m, 1.0 / m), code1, code2, probs, self.code_sizes(config))

    def generate(self, config: TaskConfig | None = None, seed: int = 0) -> MultimodalDataset:
        config = config if config is not None else TaskConfig()
        seed = check_seed(seed)
        rngs = child_rngs(seed, ("map1", "map2", "latents", "labels", "noise1", "noise2"))
        bits = self.group_bits(config)
        n = config.n_samples
        factors = {g: rngs["latents"].integers(0, 2 ** bits[g], size=n) for g in GROUPS}
        factors.update(self.sample_label_noise(n, config, rngs["labels"]))
        labels = self.label_values(factors, config)
        xs = []
        for i, groups in enumerate(MODALITY_GROUPS):
            observed = modality_bits(factors, groups, bits)
            net = draw_random_map(observed.shape[1], config.hidden, config.dim, rngs[f"map{i + 1}"])
            xs.append(observe(observed, net, config.noise, rngs[f"noise{i + 1}"]))
        codes = (
            modality_code(factors, MODALITY_GROUPS[0], bits),
            modality_code(factors, MODALITY_GROUPS[1], bits),
        )
        whole = Split(
            x1=xs[0],
            x2=xs[1],
            labels=labels,
            latent_codes={label: codes for label in self.labels},
            factors=factors,
        )
        return self.split_dataset(whole, config, seed)


class GateTask(BitLatentTask):
    """One bit per latent group; R = r, U1 = u1, U2 = u2 and S = gate(s1, s2)."""

    labels = ("R", "U1", "U2", "S")

    def __init__(
        self, name: str, gate: Callable[[np.ndarray, np.ndarray], np.ndarray], description: str
    ) -> None:
        self.name = name
        self.gate = gate
        self.description = description

    def group_bits(self, config: TaskConfig) -> dict[str, int]:
        return dict.fromkeys(GROUPS, 1)

    def num_classes_for(self, config: TaskConfig) -> dict[str, int]:
        return dict.fromkeys(self.labels, 2)

    def label_values(
        self, factors: dict[str, np.ndarray], config: TaskConfig
    ) -> dict[str, np.ndarray]:
        return {
            "R": factors["r"].copy(),
            "U1": factors["u1"].copy(),
            "U2": factors["u2"].copy(),
            "S": self.gate(factors["s1"], factors["s2"]).astype(np.int64),
        }


XOR = GateTask(
    "xor",
    np.bitwise_xor,
    "S = s1 XOR s2 (pure synergy, 1 bit) beside a shared bit R and a private bit per modality",
)
AND = GateTask(
    "and",
    np.bitwise_and,
    "S = s1 AND s2 (0.311 bit redundant + 0.5 bit synergistic) beside shared and private bits",
)
OR = GateTask(
    "or",
    np.bitwise_or,
    "S = s1 OR s2 (0.311 bit redundant + 0.5 bit synergistic) beside shared and private bits",
)
