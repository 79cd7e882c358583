"""The held-out sine task (tests/fixtures/sine_task.py): its labels' exact PID is as stated."""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "fixtures"))
from sine_task import sine_task  # noqa: E402

from synergy_lab.evaluate import ground_truth_pid  # noqa: E402


def test_the_sine_task_hides_its_bits_and_its_labels_are_synergistic():
    data = sine_task(n=4000, seed=1)
    assert data.input_shapes == ((16,), (16,)) and data.num_classes == {"xor": 2, "mod3": 3}
    xor = ground_truth_pid(data, "xor")
    assert xor.synergy == pytest.approx(1.0, abs=0.01) and xor.redundancy < 0.01
    mod3 = ground_truth_pid(data, "mod3")
    assert mod3.synergy > 0.8 * mod3.total and mod3.total > 1.4  # log2(3) = 1.585 at most
    # one modality alone says nothing of the XOR label: no x1 feature correlates with it
    xor_label = data.train.labels["xor"]
    corr = [abs(np.corrcoef(data.train.x1[:, j], xor_label)[0, 1]) for j in range(16)]
    assert max(corr) < 0.1
