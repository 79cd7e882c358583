"""How a vector modality is observed: its latent bits through a fixed random tanh network.

Bits b in {0, 1}^k become signs 2b - 1, then features W2 tanh(W1 z + b1) (k -> hidden -> dim).
The network is drawn once per dataset from its seed. Each feature is standardised exactly over
the 2^k equiprobable latent codes (all vector tasks draw fair independent bits), Gaussian noise
of std ``noise`` is added, and the sum is divided by sqrt(1 + noise^2), so every observed feature
has mean 0 and variance 1 and ``noise`` is a noise-to-signal ratio of standard deviations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synthetic.base import int_to_bits

DEFAULT_GAIN = 2.0  # std of the first layer's pre-activations: tanh is clearly nonlinear


@dataclass(frozen=True)
class RandomMap:
    """A fixed random 2-layer tanh network (k -> hidden -> dim) with exact standardisation."""

    w1: np.ndarray  # (k, hidden)
    b1: np.ndarray  # (hidden,)
    w2: np.ndarray  # (hidden, dim)
    shift: np.ndarray  # (dim,) mean of the raw features over all 2^k codes
    scale: np.ndarray  # (dim,) their standard deviation

    def raw(self, signs: np.ndarray) -> np.ndarray:
        """(n, k) signs in {-1, +1} -> (n, dim) features before standardisation."""
        return np.tanh(signs @ self.w1 + self.b1) @ self.w2

    def signal(self, signs: np.ndarray) -> np.ndarray:
        """(n, k) signs -> (n, dim) noiseless features, mean 0 and std 1 over all codes."""
        return (self.raw(signs) - self.shift) / self.scale


def draw_random_map(
    n_inputs: int, hidden: int, dim: int, rng: np.random.Generator, gain: float = DEFAULT_GAIN
) -> RandomMap:
    """A random network for ``n_inputs`` bits, standardised over all 2**n_inputs codes."""
    if n_inputs < 1 or n_inputs > 16:
        raise ValueError(f"n_inputs must be in [1, 16]; got {n_inputs}")
    w1 = rng.normal(0.0, gain / np.sqrt(n_inputs), size=(n_inputs, hidden))
    b1 = rng.normal(0.0, 0.5, size=hidden)
    w2 = rng.normal(0.0, 1.0 / np.sqrt(hidden), size=(hidden, dim))
    codes = 2.0 * int_to_bits(np.arange(2**n_inputs), n_inputs) - 1.0
    unscaled = RandomMap(w1, b1, w2, np.zeros(dim), np.ones(dim))
    features = unscaled.raw(codes)
    std = features.std(axis=0)
    return RandomMap(w1, b1, w2, features.mean(axis=0), np.where(std > 1e-8, std, 1.0))


def observe(
    bits: np.ndarray, random_map: RandomMap, noise: float, rng: np.random.Generator
) -> np.ndarray:
    """(n, k) latent bits -> (n, dim) float32 observation: standardised signal plus noise."""
    signal = random_map.signal(2.0 * np.asarray(bits, dtype=np.float64) - 1.0)
    noisy = signal + noise * rng.standard_normal(signal.shape)
    return (noisy / np.sqrt(1.0 + noise**2)).astype(np.float32)
