"""CPU cost of one training step per method: GFLOP, ms, share of the core's sgemm rate.

Per method, on the default ``xor`` task (batch 256, default configs, one torch thread): GFLOP
per step (``torch.utils.flop_counter.FlopCounterMode``: matmuls and attention, both passes),
ms per step of ``train`` (augmentation, forward, backward, clipping, AdamW), and that work as a
share of a 2048 x 2048 sgemm's GFLOP/s timed in the same process. ``--against COMMIT`` times
that commit's code (a ``git archive`` of it in a temporary folder) in subprocesses interleaved
with this tree's, repeat by repeat, and prints samples/s side by side; the share then also uses
the reference commit's FLOP count ("work share": today's work over this tree's time), the
figure the 40 % target of issue 24 is stated in. ``--profile`` prints where a step's time goes
by op kind (``torch.profiler``, self CPU time of aten ops; "outside aten" is Python, autograd
bookkeeping and dispatch). Prints ``uptime`` before and after: on a shared machine read ratios.

    python benchmarks/step_speed.py [--methods clip,comm,infmasking] [--against ff04e56]
        [--repeats 3] [--samples 7000] [--profile]

Profile (``--profile``, one thread, batch 256, xor; load 4-5 on the 2 shared cores; share of a
step's time by op kind; see ``step_speed.md`` for the table):
  ff04e56:   InfMasking attention 32 % (CPU flash attention over 9 tokens, all rows), matmul 26 %,
             memory 15 % (the packed-QKV backward zero-fills and copies (3, 9, 2048, 32)
             buffers), elementwise 14 %, outside aten 10 %; CoMM matmul 23 %, attention 22 %,
             memory 17 %; CLIP attention 24 %, matmul 20 %, outside aten 19 %.
  dedf047:   the last block computes only the CLS row, InfMasking's T masked copies share
             LayerNorm, keys and values, losses fold 1/tau into an operand: InfMasking memory
             35 % (the per-mask key/value selection), matmul 18 %, attention 15 %; CoMM
             softmax/loss 23 % (five 512 x 512 NT-Xent terms), matmul 23 %, memory 17 %.
  this tree: single-query attention as elementwise sums, CoMM's NT-Xent terms from 11 shared
             blocks with a hand-written backward, views and projection groups batched (load
             6-7): CoMM matmul 34 %, elementwise 29 %, outside aten 21 %; InfMasking
             elementwise 40 %, matmul 22 %, memory 17 %; CLIP outside aten 33 %.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
KINDS: dict[str, tuple[str, ...]] = {  # op kind -> substrings of aten op names
    "attention": ("scaled_dot_product", "flash_attention", "_efficient_attention"),
    "matmul": ("mm", "addmm", "bmm", "linear", "matmul", "dot"),
    "norm": ("layer_norm", "batch_norm"),
    "softmax/loss": ("softmax", "logsumexp", "nll_loss", "cross_entropy", "log_softmax"),
    "memory": ("copy_", "fill_", "zero_", "cat", "stack", "empty", "clone", "index", "where"),
    "optimizer": ("_foreach", "addcdiv", "addcmul", "lerp", "sqrt"),
}


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def sgemm_gflops(size: int = 2048, repeats: int = 5) -> float:
    """GFLOP/s of a float32 ``size`` x ``size`` matmul on this thread (best of ``repeats``)."""
    import torch

    a, b = torch.randn(size, size), torch.randn(size, size)
    a @ b
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best / 1e9


def _setup(samples: int) -> tuple[Any, Any]:
    import torch

    import synthetic
    from synergy_lab.train import TrainConfig

    torch.set_num_threads(1)
    data = synthetic.make_dataset("xor", synthetic.TaskConfig(n_samples=samples), seed=0)
    # one fixed epoch in every tree; trees older than the converged budget have no ``budget``
    fixed = (
        {"budget": "fixed"} if "budget" in {f.name for f in dataclasses.fields(TrainConfig)} else {}
    )
    return data, TrainConfig(epochs=1, progress=False, device="cpu", **fixed)


def _kind(name: str) -> str:
    op = name.removeprefix("aten::")
    for kind, keys in KINDS.items():
        if any(op == k or op.startswith(k) or k in op for k in keys):
            return kind
    return "elementwise/other"


def worker(methods: list[str], samples: int, flops: bool, profile: bool) -> dict[str, Any]:
    """Time (and optionally count and profile) each method in this process; a JSON-able dict."""
    import torch

    from synergy_lab.train import train

    data, config = _setup(samples)
    train("clip", data, config)  # first-call costs: lazy imports, kernel set-up
    out: dict[str, Any] = {"sgemm": sgemm_gflops(), "methods": {}}
    for method in methods:
        trained = train(method, data, config)
        row: dict[str, Any] = {
            "ms_step": 1000 * trained.train_seconds / len(trained.loss_curve),
            "batch": min(config.batch_size, len(data.train)),
        }
        if flops:
            from torch.utils.flop_counter import FlopCounterMode

            counter = FlopCounterMode(display=False)
            with counter:
                counted = train(method, data, config)
            row["gflop_step"] = counter.get_total_flops() / len(counted.loss_curve) / 1e9
        if profile:
            from torch.profiler import ProfilerActivity
            from torch.profiler import profile as torch_profile

            with torch_profile(activities=[ProfilerActivity.CPU]) as prof:
                profiled = train(method, data, config)
            kinds: dict[str, float] = {}
            for event in prof.key_averages():
                if event.key.startswith("aten::"):
                    kind = _kind(event.key)
                    kinds[kind] = kinds.get(kind, 0.0) + event.self_cpu_time_total / 1000
            wall = 1000 * profiled.train_seconds
            kinds["outside aten"] = max(0.0, wall - sum(kinds.values()))
            row["profile"] = {k: v / wall for k, v in kinds.items()}
        out["methods"][method] = row
        torch.manual_seed(0)
    return out


def run_worker(tree: Path, args: argparse.Namespace, flops: bool, profile: bool) -> dict[str, Any]:
    """:func:`worker` in a fresh interpreter importing ``synergy_lab`` from ``tree``."""
    env = {**os.environ, "PYTHONPATH": str(tree), "OPENBLAS_NUM_THREADS": "1"}
    command = [sys.executable, __file__, "--worker", "--methods", args.methods]
    command += ["--samples", str(args.samples)]
    command += ["--flops"] if flops else []
    command += ["--profile"] if profile else []
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"worker on {tree} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def archive(commit: str, target: Path) -> Path:
    """The ``synergy_lab`` and ``synthetic`` packages of ``commit`` unpacked under ``target``."""
    tar = subprocess.run(
        ["git", "-C", str(ROOT), "archive", commit, "synergy_lab", "synthetic"],
        capture_output=True,
        check=False,
    )
    if tar.returncode:
        raise SystemExit(f"git archive {commit} failed: {tar.stderr.decode().strip()}")
    subprocess.run(["tar", "-x", "-C", str(target)], input=tar.stdout, check=True)
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--methods", default="clip,comm,infmasking")
    parser.add_argument("--samples", type=int, default=7000, help="xor samples (80 %% train)")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved repeats per tree")
    parser.add_argument("--against", default=None, help="a commit timed side by side")
    parser.add_argument("--profile", action="store_true", help="time per op kind")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--flops", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    if args.worker:
        print(json.dumps(worker(methods, args.samples, args.flops, args.profile)))
        return
    if args.repeats < 1:
        raise SystemExit("--repeats must be >= 1")
    print("uptime:", uptime())
    with tempfile.TemporaryDirectory() as tmp:
        trees = {"this tree": ROOT}
        if args.against:
            trees[args.against] = archive(args.against, Path(tmp))
        # FLOPs (and the profile) once per tree, then timings interleaved tree by tree
        counts = {name: run_worker(tree, args, True, args.profile) for name, tree in trees.items()}
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in trees}
        for _ in range(args.repeats):
            for name, tree in trees.items():
                runs[name].append(run_worker(tree, args, False, False))
    sgemm = statistics.median(r["sgemm"] for rs in runs.values() for r in rs)
    print(f"\nsgemm 2048 x 2048, one thread: {sgemm:.0f} GFLOP/s (median of the workers)")
    reference = args.against
    header = f"{'method':>11} {'tree':>10} {'GFLOP/step':>10} {'ms/step':>8} {'samples/s':>9}"
    header += f" {'share':>6}" + (f" {'work share':>10} {'speed-up':>8}" if reference else "")
    print(header)
    for method in methods:
        ms: dict[str, float] = {}
        for name in trees:
            ms[name] = statistics.median(r["methods"][method]["ms_step"] for r in runs[name])
        for name in trees:
            row = counts[name]["methods"][method]
            gflop, batch = row["gflop_step"], row["batch"]
            share = gflop / (ms[name] / 1000) / sgemm
            line = f"{method:>11} {name[:10]:>10} {gflop:>10.2f} {ms[name]:>8.1f} "
            line += f"{1000 * batch / ms[name]:>9.0f} {share:>6.0%}"
            if reference:
                work = counts[reference]["methods"][method]["gflop_step"]
                line += f" {work / (ms[name] / 1000) / sgemm:>10.0%}"
                line += f" {ms[reference] / ms[name]:>7.2f}x"
            print(line)
    spread = {
        name: [round(r["methods"][m]["ms_step"], 1) for r in rs for m in methods]
        for name, rs in runs.items()
    }
    print(f"ms/step of each repeat ({', '.join(methods)} per repeat): {spread}")
    if args.profile:
        for name in trees:
            print(f"\nprofile, {name}: share of a step's time by op kind")
            for method in methods:
                parts = counts[name]["methods"][method]["profile"]
                ranked = sorted(parts.items(), key=lambda kv: -kv[1])
                print(f"{method:>11}: " + ", ".join(f"{k} {v:.0%}" for k, v in ranked))
    print("uptime:", uptime())


if __name__ == "__main__":
    main()
