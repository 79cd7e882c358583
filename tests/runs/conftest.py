"""Tiny run settings shared by the tests of synergy_lab.runs."""

import pytest

from synergy_lab.config import RunConfig
from synergy_lab.evaluate import ProbeConfig
from synergy_lab.models import ModelConfig
from synergy_lab.train import TrainConfig
from synthetic import TaskConfig


def tiny_config(methods=("clip",), seeds=(0,), epochs=1, **kwargs) -> RunConfig:
    """xor with 600 samples, one epoch, a small model and a quick probe."""
    return RunConfig(
        task="xor",
        methods=methods,
        seeds=seeds,
        baselines=False,
        task_config=TaskConfig(n_samples=600),
        model=ModelConfig(dim=16, encoder_hidden=32, projection_dim=16),
        train=TrainConfig(
            budget="fixed", epochs=epochs, batch_size=128, progress=False, device="cpu"
        ),
        probe=ProbeConfig(l2_grid=(1e-3,), max_iter=30),
        **kwargs,
    )


@pytest.fixture
def tiny():
    return tiny_config
