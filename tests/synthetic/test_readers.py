"""Adapters for users' data: .npz files and MultiBench's affect pickles (tiny fixtures)."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

import synthetic
from synthetic.readers import from_multibench_affect, read_multibench_affect, read_npz


def _arrays(n: int = 30) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {
        "x1": rng.standard_normal((n, 4)),
        "x2": rng.standard_normal((n, 3)),
        "y": rng.integers(0, 2, n),
        "z": (rng.integers(0, 3, n)).astype(np.float64),  # whole-number floats are fine
    }


def test_from_npz_round_trip(tmp_path: Path) -> None:
    arrays = _arrays()
    path = tmp_path / "mine.npz"
    np.savez(path, **arrays, latents1=np.arange(30) % 2, latents2=np.arange(30) % 3)
    x1, x2, labels = read_npz(path)
    np.testing.assert_allclose(x1, arrays["x1"].astype(np.float32))
    assert set(labels) == {"y", "z"} and labels["z"].dtype == np.int64
    ds = synthetic.from_npz(path, seed=1)
    assert ds.name == "mine" and ds.label_names == ("y", "z")
    assert len(ds.train) + len(ds.val) + len(ds.test) == 30
    assert "y" in ds.train.latent_codes  # latents1/2 became codes, not labels


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"x2": None}, "no array 'x2'"),
        ({"x2": np.zeros((29, 3))}, "29 rows"),
        ({"y": np.full(30, 0.5)}, "non-integer"),
        ({"y": np.arange(29)}, "29 rows"),
        ({"y": None, "z": None}, "no label array"),
        ({"x1": np.full((30, 4), np.nan)}, "NaN"),
        ({"y": -np.ones(30, int)}, "negative"),
    ],
)
def test_bad_npz_gets_one_clear_error(tmp_path: Path, change: dict, message: str) -> None:
    arrays = {**_arrays(), **change}
    path = tmp_path / "bad.npz"
    np.savez(path, **{k: v for k, v in arrays.items() if v is not None})
    with pytest.raises(ValueError, match=message):
        read_npz(path)


def test_unreadable_npz(tmp_path: Path) -> None:
    path = tmp_path / "junk.npz"
    path.write_text("not a zip")
    with pytest.raises(ValueError, match="not a readable .npz"):
        read_npz(path)
    with pytest.raises(ValueError, match="no file"):
        read_npz(tmp_path / "missing.npz")


def _affect_pickle(path: Path, float_labels: bool) -> None:
    """A tiny file in MultiBench's affect format: {train, valid, test} of dicts of arrays,
    modalities (n, time, features), labels (n, 1, 1) real-valued sentiment (MOSI) or ints."""
    rng = np.random.default_rng(0)
    data = {}
    for split, n in (("train", 8), ("valid", 4), ("test", 5)):
        vision = rng.standard_normal((n, 6, 5)).astype(np.float32)
        vision[0, 0, 0] = np.nan  # the real files hold some NaN features
        labels = rng.uniform(-3, 3, (n, 1, 1)) if float_labels else rng.integers(0, 2, (n, 1))
        data[split] = {
            "vision": vision,
            "audio": rng.standard_normal((n, 6, 3)),
            "text": rng.standard_normal((n, 6, 7)),
            "labels": labels,
            "id": np.arange(n),
        }
    with path.open("wb") as handle:
        pickle.dump(data, handle)


def test_multibench_affect_reader(tmp_path: Path) -> None:
    path = tmp_path / "mosi_raw.pkl"
    _affect_pickle(path, float_labels=True)
    splits = read_multibench_affect(path)
    x1, x2, labels = splits["train"]
    assert x1.shape == (8, 5) and x2.shape == (8, 7)  # averaged over time
    assert np.all(np.isfinite(x1))
    assert set(np.unique(labels["label"])) <= {0, 1}  # sentiment > 0
    with path.open("rb") as handle:
        raw = pickle.load(handle)
    np.testing.assert_array_equal(labels["label"], (raw["train"]["labels"][:, 0, 0] > 0))
    flat = read_multibench_affect(path, ("audio", "text"), pool="flatten")
    assert flat["test"][0].shape == (5, 18)
    ds = from_multibench_affect(path)
    assert (len(ds.train), len(ds.val), len(ds.test)) == (8, 4, 5)
    assert ds.num_classes == {"label": 2}


def test_multibench_int_labels_and_bad_files(tmp_path: Path) -> None:
    path = tmp_path / "sarcasm.pkl"
    _affect_pickle(path, float_labels=False)
    assert read_multibench_affect(path)["val"][2]["label"].shape == (4,)
    with pytest.raises(ValueError, match="no 'smell'"):
        read_multibench_affect(path, ("vision", "smell"))
    bad = tmp_path / "bad.pkl"
    with bad.open("wb") as handle:
        pickle.dump({"train": {}}, handle)
    with pytest.raises(ValueError, match="not a MultiBench"):
        read_multibench_affect(bad)
    bad.write_bytes(b"garbage")
    with pytest.raises(ValueError, match="not a readable pickle"):
        read_multibench_affect(bad)
