"""Registry, make_dataset contract and determinism for every task."""

import subprocess
import sys

import numpy as np
import pytest

import synthetic
from synthetic import TASKS, TaskConfig, get_task, make_dataset

SMALL = TaskConfig(n_samples=240, image_size=16)


def test_registry_names_and_unknown_task_message() -> None:
    assert sorted(TASKS) == ["and", "ladder", "mix", "or", "trifeature", "xor"]
    with pytest.raises(ValueError) as info:
        get_task("foo")
    assert (
        str(info.value) == "unknown task 'foo'; valid tasks: and, ladder, mix, or, trifeature, xor"
    )
    with pytest.raises(ValueError, match="valid tasks"):
        make_dataset("XOR")


@pytest.mark.parametrize("name", sorted(TASKS))
def test_task_metadata(name: str) -> None:
    task = get_task(name)
    assert task.name == name
    assert task.description and "\n" not in task.description
    assert task.kind in ("vector", "image")
    assert task.labels[:4] == ("R", "U1", "U2", "S")
    assert tuple(task.num_classes) == task.labels
    assert all(k >= 2 for k in task.num_classes.values())


@pytest.mark.parametrize("name", sorted(TASKS))
def test_dataset_contract(name: str) -> None:
    ds = make_dataset(name, SMALL, seed=3)
    task = get_task(name)
    assert ds.name == name and ds.kind == task.kind
    assert len(ds.train) + len(ds.val) + len(ds.test) == SMALL.n_samples
    assert (len(ds.val), len(ds.test)) == (36, 36)
    assert ds.has_latents
    assert ds.num_classes == task.num_classes_for(SMALL)
    expected_shape = (SMALL.dim,) if task.kind == "vector" else (3, 16, 16)
    assert ds.input_shapes == (expected_shape, expected_shape)
    for split in (ds.train, ds.val, ds.test):
        assert split.x1.dtype == np.float32 and split.x2.dtype == np.float32
        assert np.all(np.isfinite(split.x1)) and np.all(np.isfinite(split.x2))
        for label, k in ds.num_classes.items():
            y = split.labels[label]
            assert y.shape == (len(split),) and y.min() >= 0 and y.max() < k
            table = ds.latent_joint(label)
            code1, code2 = split.latent_codes[label]
            assert code1.min() >= 0 and code1.max() < table.shape[0]
            assert code2.min() >= 0 and code2.max() < table.shape[1]
            # every observed (code1, code2, label) has positive ground-truth probability
            assert np.all(table[code1, code2, y] > 0)
    for label in task.labels:
        assert np.allclose(ds.latent_joint(label), task.latent_joint(label, SMALL))


def _arrays(ds: synthetic.MultimodalDataset) -> list[np.ndarray]:
    out = []
    for split in (ds.train, ds.val, ds.test):
        out += [split.x1, split.x2, *split.labels.values(), *split.factors.values()]
        out += [c for pair in split.latent_codes.values() for c in pair]
    return out


@pytest.mark.parametrize("name", sorted(TASKS))
def test_same_seed_same_data_other_seed_other_data(name: str) -> None:
    first, again, other = (make_dataset(name, SMALL, seed=s) for s in (5, 5, 6))
    for a, b in zip(_arrays(first), _arrays(again), strict=True):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    assert not np.array_equal(first.train.x1, other.train.x1)
    assert not np.array_equal(first.train.labels["S"], other.train.labels["S"])


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="seed"):
        make_dataset("xor", SMALL, seed=-1)
    with pytest.raises(ValueError, match="'Q'"):
        get_task("xor").latent_joint("Q")
    with pytest.raises(ValueError, match="'Y'"):
        make_dataset("xor", SMALL).latent_joint("Y")
    assert get_task("mix").latent_joint("Y").shape == (64, 64, 16)


def test_import_and_generation_do_not_need_torch() -> None:
    code = (
        "import sys, synthetic; "
        "synthetic.make_dataset('xor', synthetic.TaskConfig(n_samples=50)); "
        "synthetic.make_dataset('trifeature', synthetic.TaskConfig(n_samples=20, image_size=8)); "
        "assert 'torch' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
