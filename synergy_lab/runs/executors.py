"""Where cells run: in this process, in a local process pool, or as a SLURM array via submitit.

Executors only call :func:`synergy_lab.runs.cells.run_cell`; they add no settings of their own
to what a cell computes.

Thread policy (``benchmarks/thread_policy.py``): the default models are small, and one torch
intra-op thread per cell beat two on the 2-core machine both quiet and under load (InfMasking
one xor epoch 3.0 s with 1 thread vs 14.5 s with 2, at load ~1-2), so each cell gets
``min(MAX_THREADS_PER_CELL, cores // jobs)`` threads, and ``jobs x threads <= cores``.
"""

from __future__ import annotations

import json
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from synergy_lab.files import atomic_write_json
from synergy_lab.runs.cells import CellSpec, run_cell, set_threads

MAX_THREADS_PER_CELL = 1
Report = Callable[[dict[str, Any]], None]


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover (macOS, Windows)
        return os.cpu_count() or 1


def threads_per_job(jobs: int, cores: int | None = None) -> int:
    """Torch threads per cell for ``jobs`` cells at once: jobs x threads <= cores, >= 1."""
    if jobs < 1:
        raise ValueError(f"jobs must be >= 1; got {jobs}")
    cores = cores or available_cores()
    return max(1, min(MAX_THREADS_PER_CELL, cores // jobs))


def auto_jobs(cores: int | None = None, load: float | None = None) -> int:
    """Cell workers for ``--jobs auto``: the idle cores, at least 1, never more than the cores.

    Idle = usable cores (``sched_getaffinity``) minus the 1-minute load average
    (``os.getloadavg``), rounded to the nearest (a quiet machine's background load of a few
    tenths still gets every core); each worker then gets one torch thread
    (:func:`threads_per_job`). ``cores`` and ``load`` override the readings (for tests).
    """
    cores = available_cores() if cores is None else cores
    if cores < 1:
        raise ValueError(f"cores must be >= 1; got {cores}")
    if load is None:
        try:
            load = os.getloadavg()[0]
        except (AttributeError, OSError):  # pragma: no cover (no load average: Windows)
            load = 0.0
    if not load >= 0:
        raise ValueError(f"load must be >= 0; got {load}")
    return max(1, min(cores, int(cores - load + 0.5)))


@contextmanager
def _torch_threads(threads: int) -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def run_serial(
    specs: Sequence[CellSpec],
    out_dir: Path,
    threads: int,
    report: Report,
    announce: Callable[[str], None] | None = None,
) -> None:
    """Cells one after another in this process; ``announce`` hears each step as it starts."""
    with _torch_threads(threads):
        for spec in specs:
            report(run_cell(spec, out_dir, announce=announce))


def run_pool(
    specs: Sequence[CellSpec], out_dir: Path, jobs: int, threads: int, report: Report
) -> None:
    """Cells in ``jobs`` worker processes (spawned: no forked torch state), ``threads`` each.

    Every worker merges the cell files under the folder lock when its cell ends. On the first
    failure, cells not yet started are cancelled and the error is raised once the running ones
    end (their cell files are kept).
    """
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        max_workers=jobs, mp_context=context, initializer=set_threads, initargs=(threads,)
    ) as pool:
        pending: set[Future[dict[str, Any]]] = {
            pool.submit(run_cell, spec, out_dir) for spec in specs
        }
        try:
            while pending:
                done, pending = wait(pending, return_when=FIRST_EXCEPTION)
                for future in done:
                    report(future.result())
        except BaseException:
            for future in pending:
                future.cancel()
            raise


@dataclass(frozen=True)
class SlurmConfig:
    """Resources of each cell's SLURM task (``[slurm]`` in the TOML, ``--slurm-*`` options).

    ``cluster`` is submitit's: "slurm", or "local" / "debug" to try the same path without a
    cluster. ``array_parallelism`` caps the tasks of the array that run at once.
    """

    partition: str | None = None
    time_min: int = 60  # wall-time limit of one cell, minutes
    gpus: int = 0  # GPUs per cell
    cpus: int = 1  # CPUs per cell (torch threads follow it)
    mem_gb: float = 4.0
    array_parallelism: int = 64
    cluster: str = "slurm"
    wait: bool = False  # block until every task has ended

    def __post_init__(self) -> None:
        if self.cluster not in ("slurm", "local", "debug"):
            raise ValueError(f"slurm cluster must be slurm, local or debug; got {self.cluster!r}")
        for name in ("time_min", "cpus", "array_parallelism"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"slurm {name} must be an integer >= 1; got {value!r}")
        if isinstance(self.gpus, bool) or not isinstance(self.gpus, int) or self.gpus < 0:
            raise ValueError(f"slurm gpus must be an integer >= 0; got {self.gpus!r}")
        if not self.mem_gb > 0:
            raise ValueError(f"slurm mem_gb must be > 0; got {self.mem_gb!r}")


def _submitit() -> Any:
    try:
        import submitit
    except ImportError:
        raise ValueError(
            'the slurm executor needs submitit: pip install "synergy-lab[slurm]"'
        ) from None
    return submitit


def _cell_task_class() -> type:
    """A submitit Checkpointable that runs one cell; preempted or timed-out tasks requeue."""
    submitit = _submitit()

    base: type = submitit.helpers.Checkpointable

    class CellTask(base):
        """Run one cell; on preemption/timeout submitit resubmits it (``checkpoint``)."""

        def __init__(self, out_dir: str, threads: int) -> None:
            self.out_dir = out_dir
            self.threads = threads

        def __call__(self, spec: CellSpec) -> dict[str, Any]:
            set_threads(self.threads)
            return run_cell(spec, Path(self.out_dir))

        def checkpoint(self, spec: CellSpec) -> Any:
            # a cell is short and restarts from scratch: requeue the same call
            return submitit.helpers.DelayedSubmission(CellTask(self.out_dir, self.threads), spec)

    return CellTask


def submit_slurm(
    specs: Sequence[CellSpec], out_dir: Path, slurm: SlurmConfig, report: Report
) -> list[str]:
    """One array job (``map_array``), one task per cell; returns the job ids.

    With ``slurm.wait`` it blocks until the tasks end and reports each; otherwise it returns at
    once and ``synergy-lab status RUN_DIR`` (or rerunning) collects finished cells later.
    """
    submitit = _submitit()
    out_dir = Path(out_dir)
    executor = submitit.AutoExecutor(folder=out_dir / "slurm", cluster=slurm.cluster)
    parameters: dict[str, Any] = {
        "timeout_min": slurm.time_min,
        "cpus_per_task": slurm.cpus,
        "mem_gb": slurm.mem_gb,
        "gpus_per_node": slurm.gpus,
        "slurm_array_parallelism": slurm.array_parallelism,
        "name": f"synergy-lab-{out_dir.name}",
    }
    if slurm.partition:
        parameters["slurm_partition"] = slurm.partition
    executor.update_parameters(**parameters)
    task = _cell_task_class()(str(out_dir.resolve()), min(slurm.cpus, 4))
    jobs = executor.map_array(task, list(specs))
    ids = [str(job.job_id) for job in jobs]
    record = {"job_ids": ids, "cells": [spec.key for spec in specs], "slurm": asdict(slurm)}
    atomic_write_json(out_dir / "slurm" / "jobs.json", record)
    if slurm.wait:
        for job in jobs:
            report(job.result())
    return ids


def read_job_ids(out_dir: Path) -> list[str]:
    path = Path(out_dir) / "slurm" / "jobs.json"
    if not path.is_file():
        return []
    try:
        return [str(i) for i in json.loads(path.read_text())["job_ids"]]
    except (ValueError, KeyError, TypeError):
        return []
