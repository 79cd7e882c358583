"""Speed and agreement of the exact BROJA solver against a generic cvxpy formulation and dit.

For a ladder of table sizes (random Dirichlet(1) tables, seeded) prints our wall and process
CPU time (best of ``--repeats``), iterations and certified gap; the time of a plain cvxpy +
Clarabel formulation of the same problem and its disagreement with ours; and dit's
``PID_BROJA`` time and largest atom disagreement when the environment variable DIT_PYTHON
points to a Python with dit installed (dit runs in that interpreter via subprocess, capped at
``--dit-timeout`` seconds; it is never imported here).

    python benchmarks/pid_speed.py
    DIT_PYTHON=/work/venv-dit/bin/python python benchmarks/pid_speed.py --sizes 2x2x2 6x6x3

Large tables: a 128x128x16 table (262,144 cells) takes 17.6 s (Dirichlet(1) table, seed 0) and
21.1 s (the empirical table of 200,000 samples, 13% of cells non-zero), 20 interior-point
iterations each, certified gap < 1e-10 bits, one thread, load average 0.8 and 1.6 on 2 cores
(under the 30 s target); `synergy-lab pid` on the Dirichlet table, imports included, took 23.7 s
of CPU (79 s wall at load average 6.5) and prints each iteration on tables over 100,000 cells.
Measure it with ``--sizes 128x128x16 --repeats 1`` (cvxpy is skipped above 50,000 entries).

All figures in bits and seconds. The machine's load average is printed: timings on a shared
machine are upper bounds. On a loaded machine set OPENBLAS_NUM_THREADS=1 (inherited by the dit
subprocess): multithreaded BLAS then slows down by orders of magnitude, for every contender.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from synergy_lab.pid import broja_pid, solve_broja

DEFAULT_SIZES = ["2x2x2", "6x6x3", "8x8x4", "16x16x6", "32x32x10", "64x64x10"]

DIT_SCRIPT = """
import json, sys, time
import numpy as np
import dit
from dit.pid import PID_BROJA
p = np.load(sys.argv[1])
idx = np.argwhere(p > 0)
d = dit.Distribution([tuple(int(v) for v in row) for row in idx], [float(p[tuple(r)]) for r in idx])
start = time.perf_counter()
pid = PID_BROJA(d, ((0,), (1,)), (2,))
elapsed = time.perf_counter() - start
atoms = [pid[((0,), (1,))], pid[((0,),)], pid[((1,),)], pid[((0, 1),)]]
print(json.dumps({"seconds": elapsed, "atoms": [float(a) for a in atoms]}))
"""


def parse_size(text: str) -> tuple[int, int, int]:
    parts = tuple(int(v) for v in text.lower().split("x"))
    if len(parts) != 3 or min(parts) < 1:
        raise argparse.ArgumentTypeError(f"size must look like 6x6x3; got {text!r}")
    return parts  # type: ignore[return-value]


def cvxpy_min_mi(p: np.ndarray) -> float:
    """Generic reference: min I_Q(Y;X1,X2) (bits) as a cvxpy exponential-cone program."""
    import cvxpy as cp

    n1, n2, ny = p.shape
    q = cp.Variable((n1 * n2, ny), nonneg=True)
    cell = cp.sum(q, axis=1, keepdims=True) @ np.ones((1, ny))
    rows1 = np.kron(np.eye(n1), np.ones((1, n2)))
    rows2 = np.kron(np.ones((1, n1)), np.eye(n2))
    constraints = [rows1 @ q == p.sum(axis=1), rows2 @ q == p.sum(axis=0)]
    problem = cp.Problem(cp.Minimize(cp.sum(cp.rel_entr(q, cell))), constraints)
    problem.solve(solver=cp.CLARABEL)
    py = p.sum(axis=(0, 1))
    return float((-np.sum(py * np.log(py)) + problem.value) / np.log(2))


def run_dit(python: str, p: np.ndarray, timeout: float) -> tuple[float, np.ndarray] | str:
    """(seconds, atoms R U1 U2 S) from dit's PID_BROJA, or a short reason it gave none."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "p.npy"
        np.save(path, p)
        try:
            done = subprocess.run(
                [python, "-c", DIT_SCRIPT, str(path)],
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return f">{timeout:.0f}s"
    if done.returncode != 0:
        return "error: " + (done.stderr.strip().splitlines() or ["?"])[-1][:60]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return result["seconds"], np.array(result["atoms"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", type=parse_size, default=None)
    parser.add_argument("--repeats", type=int, default=5, help="our solver: best of this many")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-cvxpy", action="store_true", help="skip the cvxpy reference")
    parser.add_argument("--cvxpy-max-entries", type=int, default=50_000)
    parser.add_argument("--dit-timeout", type=float, default=60.0)
    args = parser.parse_args()
    sizes = args.sizes or [parse_size(s) for s in DEFAULT_SIZES]
    dit_python = os.environ.get("DIT_PYTHON")

    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cpus; seed {args.seed}")
    if dit_python is None:
        print("note: DIT_PYTHON is not set, dit is skipped")
    if not args.no_cvxpy:
        cvxpy_min_mi(np.full((2, 2, 2), 1 / 8))  # warm-up: imports and first compilation
    header = (
        f"{'size':>9} {'ours ms':>9} {'cpu ms':>8} {'iters':>5} {'gap bits':>9} {'cvxpy s':>8} "
        f"{'|ours-cvxpy|':>12} {'dit s':>8} {'|ours-dit|':>10}"
    )
    print(header)
    rng = np.random.default_rng(args.seed)
    for size in sizes:
        p = rng.dirichlet(np.ones(int(np.prod(size)))).reshape(size)
        times, cpu = [], []
        for _ in range(args.repeats):
            start, start_cpu = time.perf_counter(), time.process_time()
            sol = solve_broja(p)
            times.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
        ours = broja_pid(p)

        cvx_time, cvx_diff = "-", "-"
        if not args.no_cvxpy and p.size <= args.cvxpy_max_entries:
            start = time.perf_counter()
            reference = cvxpy_min_mi(p)
            cvx_time = f"{time.perf_counter() - start:.2f}"
            cvx_diff = f"{abs(reference - sol.min_mi):.1e}"

        dit_time, dit_diff = "-", "-"
        if dit_python is not None:
            result = run_dit(dit_python, p, args.dit_timeout)
            if isinstance(result, str):
                dit_time = result
            else:
                seconds, atoms = result
                mine = np.array([ours.redundancy, ours.unique1, ours.unique2, ours.synergy])
                dit_time = f"{seconds:.2f}"
                dit_diff = f"{np.max(np.abs(atoms - mine)):.1e}"

        name = "x".join(str(v) for v in size)
        print(
            f"{name:>9} {1e3 * min(times):>9.1f} {1e3 * min(cpu):>8.1f} {sol.iterations:>5d} "
            f"{sol.gap:>9.1e} {cvx_time:>8} {cvx_diff:>12} {dit_time:>8} {dit_diff:>10}",
            flush=True,
        )


if __name__ == "__main__":
    main()
