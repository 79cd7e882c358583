"""Seconds of the Gaussian BROJA-type PID against the authors' Thin-PID, side by side.

    python benchmarks/gaussian_pid_speed.py [--thin-pid PATH] [--thin-timeout 300]

PATH (or the environment variable THIN_PID_PATH) is a folder from which ``import pid.thin_pid``
loads the Thin-PID code of Zhao et al. (NeurIPS 2025, arXiv 2510.04417; the flow-pid
repository), fetched and kept outside this project; without it only our solver is timed and
the script says so. For each size (dims of X1 x X2 x Y) it draws one covariance, Y white and
Xi = Ai Y + correlated noise, times ``solve_gaussian_broja`` and Thin-PID's
``exact_gauss_thin_pid`` (run in a child process, stopped after --thin-timeout seconds), and
prints the atoms' largest difference in bits and the signed difference of the union
information (positive: Thin-PID stopped above our certified minimum). Run with
OPENBLAS_NUM_THREADS=1 to compare one core each; it prints the load average, since timings on
a shared machine are only indicative.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

SIZES: tuple[tuple[int, int, int], ...] = ((10, 10, 5), (100, 60, 20), (1000, 600, 50))
ATOMS = ("redundancy", "unique1", "unique2", "synergy")


def benchmark_covariance(dims: tuple[int, int, int], seed: int = 0) -> np.ndarray:
    """Covariance of (X1, X2, Y): Y ~ N(0, I), (X1, X2) = A Y + C W with W white, A and C
    random (C = I + a random matrix scaled by 1/sqrt(d)), so the noises of X1 and X2 correlate."""
    d1, d2, dy = dims
    rng = np.random.default_rng(seed)
    d = d1 + d2
    a = rng.standard_normal((d, dy)) / np.sqrt(dy)
    c = np.eye(d) + rng.standard_normal((d, d)) / np.sqrt(d)
    top = a @ a.T + c @ c.T
    return np.block([[top, a], [a.T, np.eye(dy)]])


def thin_pid_atoms(path: str, dims: tuple[int, int, int], seed: int) -> dict[str, float]:
    """Thin-PID's atoms (bits) and seconds; its inputs are ordered (M, X, Y) = (Y, X1, X2)."""
    sys.path.insert(0, path)
    from pid.thin_pid import exact_gauss_thin_pid  # type: ignore[import-not-found]

    d1, d2, dy = dims
    cov = benchmark_covariance(dims, seed)
    order = np.r_[d1 + d2 : d1 + d2 + dy, 0 : d1 + d2]
    start = time.perf_counter()
    out = exact_gauss_thin_pid(cov[np.ix_(order, order)], dy, d1, d2)
    seconds = time.perf_counter() - start
    uix, uiy, ri, si = (float(v) for v in out[5:9])
    atoms = {"redundancy": ri, "unique1": uix, "unique2": uiy, "synergy": si}
    return {**atoms, "union": float(out[3]), "seconds": seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--thin-pid", default=os.environ.get("THIN_PID_PATH", ""))
    parser.add_argument("--thin-timeout", type=float, default=300.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--child", nargs=3, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(thin_pid_atoms(args.thin_pid, tuple(args.child), args.seed)))
        return

    from synergy_lab.pid import solve_gaussian_broja

    thin = args.thin_pid
    if not thin or not (Path(thin) / "pid" / "thin_pid.py").is_file():
        print(f"Thin-PID code absent (--thin-pid / THIN_PID_PATH = {thin!r}): ours only.")
        thin = ""
    print(f"load average before: {os.getloadavg()}, cpus: {os.cpu_count()}, ")
    print(f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}")
    print(
        f"{'dims':<14} {'ours s':>8} {'gap bits':>9} {'thin s':>8} {'max |diff| bits':>16} "
        f"{'thin-ours I_cup':>16}"
    )
    for dims in SIZES:
        cov = benchmark_covariance(dims, args.seed)
        start = time.perf_counter()
        ours = solve_gaussian_broja(cov, dims)
        seconds = time.perf_counter() - start
        thin_cell, diff_cell, union_cell = "-", "-", "-"
        if thin:
            command = [sys.executable, __file__, "--thin-pid", thin, "--child", *map(str, dims)]
            try:
                done = subprocess.run(
                    command, capture_output=True, text=True, timeout=args.thin_timeout
                )
                if done.returncode != 0:
                    thin_cell = "failed"
                    print(done.stderr.strip().splitlines()[-1])
                else:
                    theirs = json.loads(done.stdout.strip().splitlines()[-1])
                    diff = max(abs(theirs[a] - getattr(ours.pid, a)) for a in ATOMS)
                    thin_cell, diff_cell = f"{theirs['seconds']:.2f}", f"{diff:.2e}"
                    union_cell = f"{theirs['union'] - ours.union_information:+.2e}"
            except subprocess.TimeoutExpired:
                thin_cell = f">{args.thin_timeout:.0f}"
        label = "x".join(map(str, dims))
        print(
            f"{label:<14} {seconds:>8.2f} {ours.gap:>9.1e} {thin_cell:>8} {diff_cell:>16} "
            f"{union_cell:>16}"
        )
        print(f"  ours: {ours.pid}", flush=True)
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
