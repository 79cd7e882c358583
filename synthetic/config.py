"""Settings of every synthetic task, in one typed frozen dataclass checked at construction.

Each task reads the fields it needs and ignores the rest: ``noise`` and ``hidden`` only matter
for the vector tasks, ``bits_*`` and ``strength_*`` only for ``mix``, ``image_size`` and the
``trifeature_*`` settings only for ``trifeature``, the ``ladder_*`` rung settings only for
``ladder``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

MAX_MIX_CODE_BITS = 6  # mix: latent bits per modality, so tables stay <= 64 x 64 x classes
MIN_SAMPLES = 20  # fewer leave val / test splits of one or two samples (no classes to probe)
MAX_LADDER_MODULUS = 16  # ladder: S = (s1 + s2) mod m, m in [2, 16]
MAX_LADDER_PARITY_BITS = 8  # ladder: S = parity of k bits split between the modalities, k <= 8
MAX_LADDER_BITS_R = 8  # ladder: shared bits (dominance up to 8 : 1 against a 1-bit S)
MAX_LADDER_BITS_U = 3  # ladder: private labelled bits per modality
MAX_LADDER_NUISANCE_BITS = 9  # ladder: private unlabelled bits per modality (richness)
MAX_LADDER_SYNERGY_LABELS = 3  # ladder: S, S2, S3
TRIFEATURE_PROTOCOLS = ("paper", "single")  # see synthetic/trifeature.py
TRIFEATURE_EVALS = ("per-group", "shared")  # paper protocol: where each group is evaluated
TRIFEATURE_REFERENCES = ("unbiased", "val")  # paper, per-group: where the S reference trains
TRIFEATURE_RENDERS = ("v2", "v1")  # see synthetic/render.py
LEGACY_TRIFEATURE_RENDER = "v1"  # what run folders written before issue 22 were drawn with
MAX_LADDER_BLOCK_BITS = 16  # ladder: latent bits one random network of a modality may see


@dataclass(frozen=True)
class TaskConfig:
    """How big, how noisy and how mixed a synthetic dataset is.

    Defaults: 10,000 samples split 7,000 / 1,500 / 1,500; vector tasks observe each modality as
    32 features (noise std 0.5 against unit signal std: a small MLP recovers every latent bit
    from its modality at ~100%), trifeature as 32 x 32 RGB images. Small enough that a small
    transformer trains on xor in about a minute on a 2-core CPU and that the 10k trifeature
    pairs are drawn in about a second (~250 MB of float32 images).
    """

    n_samples: int = 10_000  # total samples, before the train / val / test split
    dim: int = 32  # vector tasks: observed features per modality
    noise: float = 0.5  # vector tasks: std of additive Gaussian noise (signal has unit std)
    hidden: int = 64  # vector tasks: width of the fixed random tanh network
    image_size: int = 32  # trifeature: height and width of each image in pixels
    val_fraction: float = 0.15
    test_fraction: float = 0.15
    bits_r: int = 2  # mix: redundant bits r, seen by both modalities
    bits_u: int = 2  # mix: unique bits u1 (modality 1 only) and u2 (modality 2 only) each
    bits_s: int = 2  # mix: synergistic bits s1 (modality 1), s2 (modality 2); S = s1 XOR s2
    strength_r: float = 1.0  # mix: how strongly the composite label Y depends on R, in [0, 1]
    strength_u1: float = 1.0  # mix: ... on U1
    strength_u2: float = 1.0  # mix: ... on U2
    strength_s: float = 1.0  # mix: ... on S
    trifeature_protocol: str = "paper"  # "paper": CoMM's held-out triples and R/U vs S training
    # sets; "single": one model for all labels on one train split biased towards the bijection
    trifeature_heldout_fraction: float = 0.2  # paper: share of the 1000 triples kept for test
    # P((texture1, colour2) in the bijection) on train; None: the protocol's own (single: 0.9,
    # paper: 1.0 for the S group; the R/U group of paper always uses the independent rate 0.1)
    trifeature_train_synergy_rate: float | None = None
    trifeature_eval_synergy_rate: float = 0.5  # the same for val / test (and latent_joint)
    # paper: "per-group" evaluates R / U1 / U2 on unbiased pairs (the papers' biased=False, rate
    # 0.1) and S on its own split at the eval rate; "shared": every label on the eval-rate splits
    trifeature_eval: str = "per-group"
    # paper, per-group: where the S group's supervised reference trains: "unbiased" pairs of its
    # own (as many as a training set, at the eval rate) or "val" (the probe split; folders before)
    trifeature_reference: str = "unbiased"
    # how the images are drawn (synthetic/render.py): "v2" keeps textures readable at 32 px;
    # "v1" is the first renderer (texture period 5 px on a ~20 px shape), kept for old folders
    trifeature_render: str = "v2"
    ladder_modulus: int = 2  # ladder (order): S = (s1 + s2) mod m, m in [2, 16]
    ladder_parity_bits: int = 0  # ladder (order): k >= 2 makes S the parity of k bits instead
    ladder_bits_r: int = 1  # ladder (dominance): shared bits r, 1..8
    ladder_bits_u: int = 1  # ladder: private labelled bits u1, u2 per modality, 1..3
    ladder_nuisance_bits: int = 0  # ladder (richness): private unlabelled bits per modality, 0..9
    ladder_synergy_labels: int = 1  # ladder (richness): independent synergistic labels, 1..3
    ladder_blocks: int = 1  # ladder (spread): feature blocks per modality, each its own network
    # ladder (spread, matched): 0 = the first layout (block 0 the plain bits, the synergistic
    # bits round-robin over the others); s >= 1 = every block sees the same number of latent
    # bits and each modality's synergistic bits are dealt over s blocks (so only s moves)
    ladder_spread: int = 0
    # (the ladder's exact tables, axes and PIDs are described in synthetic/ladder.py)

    def __post_init__(self) -> None:
        for name in ("n_samples", "dim", "hidden", "bits_r", "bits_u", "bits_s"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"TaskConfig.{name} must be a positive integer; got {value!r}")
        if self.n_samples < MIN_SAMPLES:
            raise ValueError(
                f"TaskConfig.n_samples (--samples) must be at least {MIN_SAMPLES}; got "
                f"{self.n_samples}"
            )
        if isinstance(self.image_size, bool) or not isinstance(self.image_size, int):
            raise ValueError(f"TaskConfig.image_size must be an integer; got {self.image_size!r}")
        if self.image_size < 8:
            raise ValueError(f"TaskConfig.image_size must be >= 8 pixels; got {self.image_size}")
        if not (math.isfinite(self.noise) and self.noise >= 0):
            raise ValueError(f"TaskConfig.noise must be a finite number >= 0; got {self.noise}")
        for name in ("val_fraction", "test_fraction"):
            value = getattr(self, name)
            if not 0 <= value < 1:
                raise ValueError(f"TaskConfig.{name} must be in [0, 1); got {value}")
        if self.val_fraction + self.test_fraction >= 1:
            raise ValueError(
                "TaskConfig.val_fraction + TaskConfig.test_fraction must be < 1; got "
                f"{self.val_fraction} + {self.test_fraction}"
            )
        n_train = (
            self.n_samples
            - round(self.n_samples * self.val_fraction)
            - round(self.n_samples * self.test_fraction)
        )
        if n_train < 1:
            raise ValueError(f"TaskConfig.n_samples = {self.n_samples} leaves no training samples")
        code_bits = self.bits_r + self.bits_u + self.bits_s
        if code_bits > MAX_MIX_CODE_BITS:
            raise ValueError(
                "TaskConfig.bits_r + bits_u + bits_s must be <= "
                f"{MAX_MIX_CODE_BITS} (latent tables <= 64 x 64); got {code_bits}"
            )
        for name in ("strength_r", "strength_u1", "strength_u2", "strength_s"):
            value = getattr(self, name)
            if not 0 <= value <= 1:
                raise ValueError(f"TaskConfig.{name} must be in [0, 1]; got {value}")
        self._check_trifeature()
        self._check_ladder()

    def _check_trifeature(self) -> None:
        """The trifeature protocol, held-out fraction and synergy rates, each in its range."""
        if self.trifeature_protocol not in TRIFEATURE_PROTOCOLS:
            raise ValueError(
                "TaskConfig.trifeature_protocol must be one of "
                f"{', '.join(map(repr, TRIFEATURE_PROTOCOLS))}; got {self.trifeature_protocol!r}"
            )
        fraction = self.trifeature_heldout_fraction
        if (
            isinstance(fraction, bool)
            or not isinstance(fraction, int | float)
            or not 0 < fraction <= 0.5
        ):
            raise ValueError(
                f"TaskConfig.trifeature_heldout_fraction must be in (0, 0.5]; got {fraction!r}"
            )
        rate = self.trifeature_train_synergy_rate
        if rate is not None and (
            isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= 1
        ):
            raise ValueError(
                f"TaskConfig.trifeature_train_synergy_rate must be None or in [0, 1]; got {rate!r}"
            )
        if self.trifeature_eval not in TRIFEATURE_EVALS:
            raise ValueError(
                "TaskConfig.trifeature_eval must be one of "
                f"{', '.join(map(repr, TRIFEATURE_EVALS))}; got {self.trifeature_eval!r}"
            )
        if self.trifeature_reference not in TRIFEATURE_REFERENCES:
            raise ValueError(
                "TaskConfig.trifeature_reference must be one of "
                f"{', '.join(map(repr, TRIFEATURE_REFERENCES))}; got {self.trifeature_reference!r}"
            )
        if self.trifeature_render not in TRIFEATURE_RENDERS:
            raise ValueError(
                "TaskConfig.trifeature_render must be one of "
                f"{', '.join(TRIFEATURE_RENDERS)}; got {self.trifeature_render!r}"
            )
        if not 0 < self.trifeature_eval_synergy_rate < 1:
            raise ValueError(
                "TaskConfig.trifeature_eval_synergy_rate must be in (0, 1) so that both classes "
                f"occur; got {self.trifeature_eval_synergy_rate}"
            )

    def _check_ladder(self) -> None:
        """The ladder's rung parameters: each in its range, and the rung's blocks realisable."""
        ranges = {
            "ladder_modulus": (2, MAX_LADDER_MODULUS),
            "ladder_bits_r": (1, MAX_LADDER_BITS_R),
            "ladder_bits_u": (1, MAX_LADDER_BITS_U),
            "ladder_nuisance_bits": (0, MAX_LADDER_NUISANCE_BITS),
            "ladder_synergy_labels": (1, MAX_LADDER_SYNERGY_LABELS),
            "ladder_blocks": (1, self.dim),
            "ladder_spread": (0, self.ladder_blocks),
        }
        for name, (low, high) in ranges.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ValueError(
                    f"TaskConfig.{name} must be an integer in [{low}, {high}]; got {value!r}"
                )
        k = self.ladder_parity_bits
        if (
            isinstance(k, bool)
            or not isinstance(k, int)
            or not (k == 0 or 2 <= k <= MAX_LADDER_PARITY_BITS)
        ):
            raise ValueError(
                "TaskConfig.ladder_parity_bits must be 0 (off) or an integer in "
                f"[2, {MAX_LADDER_PARITY_BITS}]; got {k!r}"
            )
        if k and self.ladder_modulus != 2:
            raise ValueError(
                "TaskConfig.ladder_parity_bits and ladder_modulus are two kinds of S: set one; "
                f"got ladder_parity_bits={k} with ladder_modulus={self.ladder_modulus}"
            )
