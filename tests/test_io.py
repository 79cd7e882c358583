"""``synergy_lab.io``: the readers of users' files reject bad input with one clear line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from synergy_lab.io import read_pid_table, read_user_data

# ---- read_user_data (synergy-lab analyze) ----------------------------------------------------


def test_bad_csv_files(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("x1_a,x2_a,y\n1,2,0\n1,,1\n")
    with pytest.raises(ValueError, match="'x2_a' has empty"):
        read_user_data(path)
    path.write_text("x1_a,y\n1,0\n")
    with pytest.raises(ValueError, match="no x2_"):
        read_user_data(path)
    path.write_text("x1_a,x2_a,y\n1,abc,0\n")
    with pytest.raises(ValueError, match="non-numbers"):
        read_user_data(path)
    path.write_text("x1_a,x2_a,y\n" + "1,2,0.5\n" * 30)
    with pytest.raises(ValueError, match="non-integer"):
        read_user_data(path)
    other = tmp_path / "data.txt"
    other.write_text("x")
    with pytest.raises(ValueError, match="expected a .npz"):
        read_user_data(other)


def test_parquet_needs_pyarrow_or_reads(tmp_path: Path) -> None:
    frame = pd.DataFrame({"x1_a": np.arange(30.0), "x2_a": np.arange(30.0), "y": np.arange(30) % 2})
    path = tmp_path / "d.parquet"
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        path.write_bytes(b"PAR1")
        with pytest.raises(ValueError, match="pip install 'synergy-lab\\[parquet\\]'"):
            read_user_data(path)
        return
    frame.to_parquet(path)
    assert read_user_data(path).labels["y"].tolist() == (np.arange(30) % 2).tolist()


# ---- read_pid_table (synergy-lab pid) --------------------------------------------------------


def test_pid_table_of_samples_is_their_empirical_distribution(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    pd.DataFrame({"x1": [0, 0, 1, 1], "x2": [0, 1, 1, 1], "y": [1, 1, 0, 0]}).to_csv(
        path, index=False
    )
    table = read_pid_table(path, normalize=False)
    expected = np.zeros((2, 2, 2))
    expected[0, 0, 1] = expected[0, 1, 1] = 0.25
    expected[1, 1, 0] = 0.5
    np.testing.assert_array_equal(table, expected)


def test_pid_table_that_does_not_sum_to_one_needs_normalize(tmp_path: Path) -> None:
    np.save(tmp_path / "counts.npy", np.full((2, 2, 2), 2.0))
    with pytest.raises(ValueError, match="sums to 16, not 1; add --normalize"):
        read_pid_table(tmp_path / "counts.npy", normalize=False)
    assert read_pid_table(tmp_path / "counts.npy", normalize=True).sum() == 16.0
    with pytest.raises(ValueError, match="no file at"):
        read_pid_table(tmp_path / "missing.npy", normalize=False)
    (tmp_path / "t.txt").write_text("x")
    with pytest.raises(ValueError, match="expected a .npy table or a .csv file"):
        read_pid_table(tmp_path / "t.txt", normalize=False)
