"""Executors: a local process pool (--jobs) and SLURM arrays through submitit."""

import os
import time
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from synergy_lab.cli import app
from synergy_lab.runs import SlurmConfig, run_cells, run_experiment, threads_per_job
from synergy_lab.runs.executors import auto_jobs

NUMBERS = ["method", "seed", "label", "probe_accuracy", "pid_synergy", "pid_redundancy"]


def test_threads_per_job_never_oversubscribes():
    assert threads_per_job(1, cores=2) == 1
    assert threads_per_job(2, cores=2) == 1
    assert threads_per_job(4, cores=2) == 1  # at least one
    for jobs in (1, 2, 3, 8):
        assert jobs * threads_per_job(jobs, cores=8) <= 8
    with pytest.raises(ValueError):
        threads_per_job(0)


@pytest.mark.parametrize(
    ("cores", "load", "jobs"),
    [
        (2, 0.0, 2),
        (2, 0.4, 2),
        (2, 0.6, 1),
        (2, 1.0, 1),
        (2, 3.5, 1),
        (16, 2.2, 14),
        (16, 0.0, 16),
        (1, 0, 1),
    ],
)
def test_auto_jobs_uses_the_idle_cores_and_never_more_than_the_cores(cores, load, jobs):
    assert auto_jobs(cores, load) == jobs
    assert threads_per_job(auto_jobs(cores, load), cores) == 1


def test_auto_jobs_reads_this_machine_and_rejects_bad_readings():
    assert 1 <= auto_jobs() <= len(os.sched_getaffinity(0))
    with pytest.raises(ValueError, match="cores must be >= 1"):
        auto_jobs(0, 0.0)
    with pytest.raises(ValueError, match="load must be >= 0"):
        auto_jobs(2, float("nan"))


def test_two_jobs_give_the_numbers_of_one(tmp_path: Path, tiny):
    config = tiny(methods=("random", "clip"))
    serial = run_experiment(config, tmp_path / "serial")
    lines: list[str] = []
    outcome = run_cells(config, tmp_path / "pool", jobs=2, on_cell=lines.append)
    pd.testing.assert_frame_equal(outcome.results[NUMBERS], serial[NUMBERS])
    assert sum("seed 0:" in line for line in lines) == 2


def test_slurm_config_rejects_bad_resources():
    with pytest.raises(ValueError, match="cpus"):
        SlurmConfig(cpus=0)
    with pytest.raises(ValueError, match="cluster"):
        SlurmConfig(cluster="pbs")


def test_submitit_debug_executor_runs_the_cells(tmp_path: Path, tiny):
    pytest.importorskip("submitit")
    outcome = run_cells(
        tiny(methods=("random",)), tmp_path, slurm=SlurmConfig(cluster="debug", wait=True)
    )
    assert outcome.pending == [] and set(outcome.results["method"]) == {"random"}


def test_submitit_local_executor_two_cells_in_real_processes(tmp_path: Path, tiny):
    pytest.importorskip("submitit")
    config = tiny(methods=("random", "clip"))
    outcome = run_cells(config, tmp_path, slurm=SlurmConfig(cluster="local", time_min=5))
    assert sorted(outcome.pending) == ["clip-seed0", "random-seed0"]  # returned after submit
    assert len(outcome.job_ids) == 2
    deadline = time.monotonic() + 300
    cells = [tmp_path / "cells" / f"{key}.json" for key in outcome.pending]
    while not all(c.exists() for c in cells):  # the array's processes write them
        assert time.monotonic() < deadline, "the local array did not finish in 300 s"
        time.sleep(1)
    result = CliRunner().invoke(app, ["status", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "2 cells finished, 0 pending" in result.output
    merged = pd.read_csv(tmp_path / "results.csv")
    assert set(merged["method"]) == {"random", "clip"}
    # rerunning `run` in the folder collects instead of resubmitting
    again = run_cells(config, tmp_path, slurm=SlurmConfig(cluster="local"))
    assert again.pending == [] and again.job_ids == []
