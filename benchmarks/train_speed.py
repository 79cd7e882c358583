"""Training speed of every registered method on the default ``xor`` task (and 32-px trifeature).

Prints, per device and task, training samples/s, ms per optimisation step, and the wall time a
default-length training (``TrainConfig().epochs`` over that dataset) would take at that speed;
then InfMasking's and COrAL's per-step time relative to CoMM's. Each method trains for
``--epochs`` epochs with the default configs after a short warm-up run (first-call costs such as
lazy imports are excluded). On a shared CPU pass ``--threads 1``: torch's default intra-op
threads slow down badly when other processes compete for the cores.

    python benchmarks/train_speed.py [--epochs 2] [--threads N] [--devices cpu,cuda] [--no-images]
        [--methods comm,infmasking,coral]
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import torch

import synthetic
from synergy_lab.methods import METHODS
from synergy_lab.train import TrainConfig, resolve_device, train
from synthetic import MultimodalDataset


def load_task(name: str, n_samples: int | None) -> MultimodalDataset | None:
    """The task's default dataset (optionally fewer samples); None when the task is not there."""
    if name not in getattr(synthetic, "TASKS", {}):
        return None
    config = synthetic.TaskConfig()
    if n_samples is not None:
        config = dataclasses.replace(config, n_samples=n_samples)
    return synthetic.make_dataset(name, config, seed=0)


def measure(method: str, data: MultimodalDataset, config: TrainConfig) -> dict[str, float]:
    """Train once; return samples/s, ms/step and the projected default training time (s)."""
    trained = train(method, data, config)
    steps = len(trained.loss_curve)
    if steps == 0:
        return {"samples_s": float("nan"), "ms_step": float("nan"), "full_s": 0.0}
    per_step = trained.train_seconds / steps
    samples = steps * min(config.batch_size, len(data.train))
    steps_per_epoch = len(data.train) // min(config.batch_size, len(data.train))
    return {
        "samples_s": samples / trained.train_seconds,
        "ms_step": 1000 * per_step,
        "full_s": per_step * steps_per_epoch * TrainConfig().epochs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2, help="epochs timed per method")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")
    parser.add_argument("--devices", default="cpu,cuda", help="devices to try, comma-separated")
    parser.add_argument("--no-images", action="store_true", help="skip the trifeature rows")
    parser.add_argument("--image-samples", type=int, default=2000, help="trifeature samples")
    parser.add_argument("--methods", default=",".join(METHODS), help="methods, comma-separated")
    args = parser.parse_args()
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise SystemExit(f"unknown method {unknown[0]!r}; valid: {', '.join(METHODS)}")
    if args.threads > 0:
        torch.set_num_threads(args.threads)

    tasks: list[tuple[str, MultimodalDataset]] = []
    xor = load_task("xor", None)
    if xor is None:
        raise SystemExit("synthetic.make_dataset('xor') is not available")
    tasks.append(("xor", xor))
    trifeature = None if args.no_images else load_task("trifeature", args.image_samples)
    if trifeature is not None:
        tasks.append((f"trifeature-{trifeature.input_shapes[0][-1]}px", trifeature))

    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads")
    print(f"default TrainConfig: {TrainConfig()}")
    for device_name in args.devices.split(","):
        if device_name == "cuda" and not torch.cuda.is_available():
            print("\ncuda: not available, skipped")
            continue
        device = resolve_device(device_name)
        config = TrainConfig(budget="fixed", epochs=args.epochs, progress=False, device=str(device))
        name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
        warmup = dataclasses.replace(config, epochs=1)
        train("comm", xor, warmup)  # lazy imports and first-call kernel set-up
        for task, data in tasks:
            print(
                f"\n{device} ({name}), {task}: {len(data.train)} training samples, "
                f"batch {config.batch_size}, {args.epochs} epoch(s) timed"
            )
            full = f"{TrainConfig().epochs}-epoch run (s)"
            print(f"{'method':>12} {'samples/s':>10} {'ms/step':>9} {full:>18}")
            timings: dict[str, dict[str, float]] = {}
            for method in methods:
                if not METHODS[method].trainable:
                    print(f"{method:>12} {'(not trained)':>10}")
                    continue
                timings[method] = row = measure(method, data, config)
                print(
                    f"{method:>12} {row['samples_s']:>10.0f} {row['ms_step']:>9.1f} "
                    f"{row['full_s']:>18.1f}",
                    flush=True,
                )
            for method in ("infmasking", "coral"):
                if method in timings and "comm" in timings:
                    ratio = timings[method]["ms_step"] / timings["comm"]["ms_step"]
                    print(f"{method} / comm time per step: {ratio:.2f}x")


if __name__ == "__main__":
    start = time.perf_counter()
    main()
    print(f"\nbenchmark wall time {time.perf_counter() - start:.0f} s")
