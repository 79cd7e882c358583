"""Speed work must not change what is trained: loss curves equal those of commit ff04e56.

``tests/data/loss_curves_ff04e56.json`` holds, per trainable method, the per-step loss and logged
parts of a tiny fixed-seed CPU run made with the code of ff04e56 (before the step-speed changes:
``nn.MultiheadAttention``, separate loss passes, a host sync per logged part). Regenerate it only
from that commit: ``python tests/test_loss_curve_reference.py`` writes the file.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest

from synergy_lab.methods import METHODS
from synergy_lab.methods.supervised import SupervisedSettings
from synergy_lab.models import ModelConfig
from synergy_lab.train import TrainConfig, train
from synthetic import MultimodalDataset, from_arrays

REFERENCE = Path(__file__).parent / "data" / "loss_curves_ff04e56.json"
MODEL = ModelConfig(dim=16, heads=4, vector_tokens=4, encoder_hidden=16, projection_dim=8)
CONFIG = TrainConfig(budget="fixed", epochs=3, batch_size=32, progress=False, device="cpu", seed=5)
TRAINED = [name for name, cls in METHODS.items() if cls.trainable]


def dataset() -> MultimodalDataset:
    """96 xor-like samples (76 train: 2 steps per epoch at batch 32, 6 steps)."""
    rng = np.random.default_rng(7)
    n = 96
    r, s1, s2 = (rng.integers(0, 2, n) for _ in range(3))
    x1 = np.stack([r, s1, r * s1, s1 - r], 1) + 0.1 * rng.normal(size=(n, 4))
    x2 = np.stack([r, s2, r + s2], 1) + 0.1 * rng.normal(size=(n, 3))
    return from_arrays(x1, x2, {"R": r, "S": s1 ^ s2}, val_fraction=0.1, test_fraction=0.1)


#: ff04e56's settings where today's defaults differ: its supervised reference learned S alone.
SETTINGS = {"supervised": SupervisedSettings(label="S")}


def curve(method: str) -> list[dict[str, float]]:
    return train(method, dataset(), CONFIG, MODEL, SETTINGS.get(method)).loss_curve


@pytest.mark.parametrize("method", TRAINED)
def test_loss_curve_matches_the_reference_commit(method: str) -> None:
    expected = json.loads(REFERENCE.read_text())[method]
    got = curve(method)
    assert len(got) == len(expected) == 6
    for step, (row, ref) in enumerate(zip(got, expected, strict=True)):
        assert row.keys() == ref.keys(), f"step {step}"
        for key, value in ref.items():
            assert math.isclose(row[key], value, rel_tol=1e-4, abs_tol=1e-5), (step, key)


if __name__ == "__main__":
    if len(sys.argv) > 1:
        raise SystemExit("usage: python tests/test_loss_curve_reference.py (from ff04e56)")
    import torch

    torch.set_num_threads(1)
    REFERENCE.parent.mkdir(exist_ok=True)
    REFERENCE.write_text(json.dumps({m: curve(m) for m in TRAINED}, indent=1) + "\n")
    print(f"wrote {REFERENCE}")
