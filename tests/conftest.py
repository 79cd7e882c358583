"""Fixtures shared across the test tree, and one thread per test process.

The suite runs in two pytest-xdist workers on CI's two cores (README: ``pytest -n 2``). Its
tensors and matrices are tiny and gain nothing from intra-op threads, while two workers each
spinning two BLAS / OpenMP threads on two cores thrash. The limits are set before numpy and torch
load, and in the environment, so that processes the tests start (CLI runs, notebook kernels,
executors) inherit them; a value set by the caller is kept.
"""

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

from collections.abc import Callable  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from synergy_lab.results import RESULT_COLUMNS  # noqa: E402


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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked ``slow`` first (otherwise in collection order): with two xdist workers, a
    minutes-long test handed out last keeps one core busy while the other idles."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
