"""Fixtures shared across the test tree."""

from collections.abc import Callable, Iterator

import numpy as np
import pandas as pd
import pytest
import torch

from synergy_lab.results import RESULT_COLUMNS


def _results_frame(methods=("comm", "clip"), seeds=(0, 1), labels=("R", "S")) -> pd.DataFrame:
    """A results table of the right shape with random values in [0, 1]."""
    rng = np.random.default_rng(0)
    rows = []
    for method in methods:
        for seed in seeds:
            for label in labels:
                row = {c: float(rng.uniform(0, 1)) for c in RESULT_COLUMNS}
                row.update(task="xor", method=method, seed=seed, label=label)
                row.update(steps=100, stop_reason="fixed", trained_on=None, label_entropy=np.nan)
                rows.append(row)
    return pd.DataFrame(rows, columns=list(RESULT_COLUMNS))


@pytest.fixture
def results_frame() -> Callable[..., pd.DataFrame]:
    return _results_frame


@pytest.fixture
def one_thread() -> Iterator[None]:
    """Tiny tensors gain nothing from intra-op threads, which thrash when the cores are shared.

    Test modules opt in with ``pytestmark = pytest.mark.usefixtures("one_thread")``.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
