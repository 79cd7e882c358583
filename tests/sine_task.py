"""A bimodal task written apart from the toolkit's generators, never tuned on: the held-out check
of the converged budget (issue 27).

Each modality hides two bits (a0, a1 in x1; b0, b1 in x2) and mixes them, with Gaussian noise,
through a random two-layer sine network into 16 features, so no feature reads a bit directly.
Labels: ``xor`` = a0 XOR b0 (1 bit, all synergy) and ``mod3`` = (2 a1 + a0 + 2 b1 + b0) mod 3
(the two modalities' 2-bit codes summed mod 3: synergy-dominated, 3 classes). The latent codes
(a = 2 a1 + a0, b = 2 b1 + b0) make the exact PID of each label available.
"""

from __future__ import annotations

import numpy as np

import synthetic


def _sine_network(bits: np.ndarray, features: int, rng: np.random.Generator) -> np.ndarray:
    """Random two-layer sine map of (n, k) bits (as +-1 plus noise) to (n, features)."""
    signal = 2.0 * bits - 1.0 + 0.3 * rng.normal(size=bits.shape)
    hidden = np.sin(
        signal @ rng.normal(scale=1.5, size=(bits.shape[1], 32)) + rng.uniform(0, 6, 32)
    )
    return np.sin(hidden @ rng.normal(scale=0.8, size=(32, features)))


def sine_task(n: int = 5000, seed: int = 0, features: int = 16) -> synthetic.MultimodalDataset:
    """The task as a dataset with latent codes (see the module docstring); seeded."""
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 2, size=(n, 2))
    b = rng.integers(0, 2, size=(n, 2))
    mixing = np.random.default_rng(10_000 + seed)  # each seed its own pair of networks
    x1 = _sine_network(a, features, mixing)
    x2 = _sine_network(b, features, mixing)
    code1, code2 = 2 * a[:, 1] + a[:, 0], 2 * b[:, 1] + b[:, 0]
    labels = {"xor": a[:, 0] ^ b[:, 0], "mod3": (code1 + code2) % 3}
    return synthetic.from_arrays(
        x1, x2, labels, latents1=code1, latents2=code2, name="sine", seed=seed
    )
