"""Replay the converged budget's stopping rule on a run folder's recorded held-out checks.

Exploratory (issue 22): no training, no labels, no test split; it reads only the held-out loss
(nats) that each model of each finished cell recorded at its checks (the curve part
``<group>/val_loss``), up to the end of its stable phase. Per model it prints the step where

* ``registered``: the trainer's rule fires (``checks_without_improvement >= patience``, the
  best moving only on a relative drop of ``tol``); it must equal the step the model stopped at,
  which checks the replay;
* ``windowed``: the mean of the last ``patience`` checks is less than ``tol`` (relative) below
  the mean of the ``patience`` checks before it. The two means are ``patience`` checks apart,
  so it asks for the registered rate (``tol`` per ``patience`` checks) of averages instead of
  a drop below one noisy minimum; it needs twice the checks before it can fire;
* ``patience x2``: the registered rule with twice the patience.

Beside them, over the last ``2 patience`` checks of the stable phase, a least-squares line's
slope (``trend``, % of the mean loss's size per ``patience`` checks; negative: still falling)
and the residuals' standard deviation (``noise``, % of the same): where the noise is as large as
``tol``, where the registered rule fires depends on it. Twice the rule's window, because a
slope from ``patience`` noisy checks has a standard error about as large as ``tol``; on a
curve that is still bending, the line overstates the fall at the stop itself.

An alternative rule is only known where it fires before the registered stop: after it the lr
decays, so the later checks are another regime. Those models read ``> <registered step>``.

    python benchmarks/stop_rule_replay.py reports/trifeature-preregistered-v2
        [--patience 10] [--tol 0.01] [--cooldown 0.2]
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
import pandas as pd

from synergy_lab.runs.cells import CELLS_DIR, read_cell
from synergy_lab.train import checks_without_improvement


def registered_stop(losses: list[float], tol: float, patience: int) -> int | None:
    """Index of the check where the trainer's rule fires, or None if it never does."""
    for i in range(len(losses)):
        if checks_without_improvement(losses[: i + 1], tol) >= patience:
            return i
    return None


def windowed_stop(losses: list[float], tol: float, patience: int) -> int | None:
    """Index of the first check where the mean of the last ``patience`` checks has dropped by
    less than ``tol`` (relative) against the mean of the ``patience`` before them."""
    values = np.asarray(losses, dtype=float)
    for i in range(2 * patience - 1, len(values)):
        recent = values[i - patience + 1 : i + 1].mean()
        before = values[i - 2 * patience + 1 : i - patience + 1].mean()
        if recent > before - tol * abs(before):
            return i
    return None


def trend_and_noise(losses: list[float], window: int, per: int) -> tuple[float, float]:
    """Slope (% of the mean per ``per`` checks) and residual s.d. (% of the mean) of a
    least-squares line through the last ``window`` checks; NaN for a shorter curve (its
    first checks are the initial fall, not the trend at the stop)."""
    if len(losses) < window:
        return math.nan, math.nan
    values = np.asarray(losses[-window:], dtype=float)
    x = np.arange(len(values), dtype=float)
    slope, intercept = np.polyfit(x, values, 1)
    noise = float(np.std(values - (slope * x + intercept), ddof=2))
    scale = abs(float(values.mean()))  # a loss may be negative (FactorCL's bounds)
    return 100 * float(slope) * per / scale, 100 * noise / scale


def stable_end(total_steps: int, reason: str, steps: list[int], cooldown: float) -> int:
    """The step where the stable phase ended: the last check s with s + round(cooldown s) at
    most the model's total steps (the converged rule or the cap started the final decay)."""
    if reason not in ("converged", "cap"):
        raise ValueError(f"not a converged-budget model (stop reason {reason!r})")
    ends = [s for s in steps if s + int(round(cooldown * s)) <= total_steps]
    return max(ends)


def replay_folder(folder: Path, tol: float, patience: int, cooldown: float) -> pd.DataFrame:
    """One row per model (method, seed, group) of the folder's finished cells."""
    rows = []
    for path in sorted((folder / CELLS_DIR).glob("*.json")):
        cell = read_cell(path)
        curves, results = cell.tables.get("curves"), cell.tables["results"]
        if curves is None or "steps" not in results:
            continue
        groups = cell.artefacts.get("groups") or {"": {"labels": list(results["label"])}}
        for group, spec in groups.items():
            part = f"{group}/val_loss" if group else "val_loss"
            checks = curves[curves.part == part].sort_values("step")
            if checks.empty:
                continue
            first = results[results.label == spec["labels"][0]].iloc[0]
            steps = checks["step"].astype(int).tolist()
            end = stable_end(int(first["steps"]), str(first["stop_reason"]), steps, cooldown)
            stable = checks[checks.step <= end]["value"].astype(float).tolist()
            row = {"method": cell.method, "seed": cell.seed, "group": group or "-"}
            row["stop"], row["reason"] = end, str(first["stop_reason"])
            for name, rule, k in (
                ("registered", registered_stop, patience),
                ("windowed", windowed_stop, patience),
                ("patience x2", registered_stop, 2 * patience),
            ):
                index = rule(stable, tol, k)
                row[name] = steps[index] if index is not None else f"> {end}"
            trend, noise = trend_and_noise(stable, 2 * patience, patience)
            row["trend %"], row["noise %"] = round(trend, 2), round(noise, 2)
            rows.append(row)
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="a run folder trained under the converged budget")
    parser.add_argument("--patience", type=int, default=10, help="checks (the folder's setting)")
    parser.add_argument("--tol", type=float, default=0.01, help="relative drop (the folder's)")
    parser.add_argument("--cooldown", type=float, default=0.2, help="final decay, x steps")
    args = parser.parse_args()
    table = replay_folder(args.folder, args.tol, args.patience, args.cooldown)
    if table.empty:
        parser.exit(2, f"error: no held-out checks in {args.folder / CELLS_DIR}\n")
    print(table.to_string(index=False))
    converged = table[table.reason == "converged"]
    agree = (pd.to_numeric(converged.registered, errors="coerce") == converged.stop).sum()
    print(f"\nreplay of the registered rule matches {agree} of {len(converged)} converged stops")
    for rule in ("windowed", "patience x2"):
        fired = pd.to_numeric(converged[rule], errors="coerce")  # "> step": fires later
        earlier, same = (fired < converged.stop).sum(), (fired == converged.stop).sum()
        later = fired.isna().sum()
        print(
            f"{rule}: of the converged stops, {earlier} earlier, {same} at the same check,"
            f" {later} later"
        )


if __name__ == "__main__":
    main()
