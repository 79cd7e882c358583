import os
from pathlib import Path

import pandas as pd
import pytest

from synergy_lab.files import atomic_write_bytes, atomic_write_csv, atomic_write_text
from synergy_lab.results import ResultsFileError, read_results


def test_round_trip(tmp_path: Path, results_frame):
    frame = results_frame()
    atomic_write_csv(tmp_path / "results.csv", frame)
    back = read_results(tmp_path / "results.csv")
    pd.testing.assert_frame_equal(back, frame, check_dtype=False)
    assert list(tmp_path.iterdir()) == [tmp_path / "results.csv"]  # no temporary files left


def test_atomic_write_keeps_old_file_when_writing_fails(tmp_path: Path, results_frame):
    path = tmp_path / "results.csv"
    atomic_write_text(path, "old")
    with pytest.raises(TypeError):  # fails inside the write: the temp file must go too
        atomic_write_bytes(path, 123)  # type: ignore[arg-type]
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["results.csv"]


def test_truncated_file_is_reported(tmp_path: Path, results_frame):
    path = tmp_path / "results.csv"
    atomic_write_csv(path, results_frame())
    text = path.read_text()
    path.write_text(text[: len(text) // 2])  # cut mid-row: a short last row
    with pytest.raises(ResultsFileError):
        read_results(path)


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda f: f.drop(columns=["pid_synergy"]), "lacks the columns pid_synergy"),
        (lambda f: f.assign(probe_accuracy=["oops"] + list(f.probe_accuracy[1:])), "not a number"),
        (lambda f: pd.concat([f, f.iloc[:1]]), "duplicate rows"),
        (lambda f: f.assign(seed=[0.5] * len(f)), "integers"),
        (lambda f: f.assign(probe_accuracy=[1.5] * len(f)), r"\[0, 1\]"),
    ],
)
def test_hand_edited_files_are_rejected(tmp_path: Path, results_frame, edit, match):
    path = tmp_path / "results.csv"
    edit(results_frame()).to_csv(path, index=False)
    with pytest.raises(ResultsFileError, match=match):
        read_results(path)


def test_missing_and_binary_files(tmp_path: Path, results_frame):
    with pytest.raises(ResultsFileError, match="no results file"):
        read_results(tmp_path / "results.csv")
    (tmp_path / "results.csv").write_bytes(b"\xff\xfe\x00garbage\x00")
    with pytest.raises(ResultsFileError):
        read_results(tmp_path / "results.csv")


def test_atomic_write_gives_ordinary_file_permissions(tmp_path: Path):
    path = tmp_path / "results.csv"
    atomic_write_text(path, "x\n")
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask
