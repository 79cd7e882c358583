"""The judgement configs/ladder_preregistered_v2.toml commits to, computed from the run folders
(the first grid's judge.py with the cap counts per method added; committed before any cell).

    python reports/ladder-preregistered-v2/judge.py

Per rung: S test accuracy and S usable bits, mean and 95 % t-interval over seeds, per method;
the supervised reference's gate on S; the seed-paired differences InfMasking - CoMM and
COrAL - InfMasking with Holm's adjustment over the family of those 2 pairs x 3 rungs, per
metric; cells that stopped at the cap. Writes judgement.md and judgement.json beside this file
and prints the markdown. A rung with missing cells is reported with the seeds it has.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from synergy_lab.files import atomic_write_text
from synergy_lab.measure import holm_paired_differences, reference_gate, seed_summary
from synergy_lab.results import read_results

HERE = Path(__file__).resolve().parent
RUNGS = ("order-m4", "order-m6", "dominance-4")
METHODS = ("infmasking", "comm", "coral", "crossself", "supervised", "random")
PAIRS = (("infmasking", "comm"), ("coral", "infmasking"))
METRICS = {"probe_accuracy": "S accuracy", "usable_bits": "S usable bits"}


def _per_seed(frame: pd.DataFrame, method: str, column: str) -> dict[int, float]:
    rows = frame[(frame.method == method) & (frame.label == "S")]
    return {int(s): float(v) for s, v in rows.groupby("seed")[column].mean().items()}


def judge() -> tuple[str, dict[str, object]]:
    frames = {
        rung: read_results(HERE / rung / "results.csv")
        for rung in RUNGS
        if (HERE / rung / "results.csv").is_file()
    }
    lines = ["# Pre-registered ladder comparison, v2 (cap 300 epochs): the judgement", ""]
    record: dict[str, object] = {"rungs": {}, "comparisons": {}}
    gated = set()
    for rung, frame in frames.items():
        s = frame[frame.label == "S"]
        chance = float(s["chance_accuracy"].mean())
        reference = list(_per_seed(frame, "supervised", "probe_accuracy").values())
        gate = reference_gate(chance, seed_accuracies=reference) if len(reference) >= 2 else None
        if gate is not None and not gate.learned:
            gated.add(rung)
        capped = sorted(set(frame.loc[frame["stop_reason"] == "cap", "method"]))
        at_cap = s[s["stop_reason"] == "cap"].groupby("method")["seed"].nunique()
        capped_counts = {str(m): int(n) for m, n in at_cap.items()}
        lines += [f"## {rung}", ""]
        lines += [
            f"Chance {chance:.3f}; reference on S: "
            + (f"{gate.verdict} [{gate.low:.3f}, {gate.high:.3f}]" if gate else "not enough seeds")
            + (
                "; still learning at the cap (cells of 10): "
                + ", ".join(f"{m} {n}" for m, n in capped_counts.items())
                if capped
                else ""
            ),
            "",
            "| method | seeds | S accuracy | S usable bits |",
            "|---|---|---|---|",
        ]
        rung_record = {}
        for method in METHODS:
            cells = []
            for column in METRICS:
                summary = seed_summary(np.array(list(_per_seed(frame, method, column).values())))
                cells.append(f"{summary.mean:.3f} [{summary.low:.3f}, {summary.high:.3f}]")
                rung_record[f"{method}/{column}"] = [summary.mean, summary.low, summary.high]
            n = len(_per_seed(frame, method, "probe_accuracy"))
            lines.append(f"| {method} | {n} | {cells[0]} | {cells[1]} |")
        record["rungs"][rung] = {  # type: ignore[index]
            "chance": chance,
            "gate": gate.verdict if gate else None,
            "capped": capped,
            "capped_counts": capped_counts,
            **rung_record,
        }
        lines.append("")
    for column, name in METRICS.items():
        family = {
            f"{rung}: {a} - {b}": (_per_seed(frame, a, column), _per_seed(frame, b, column))
            for rung, frame in frames.items()
            if rung not in gated
            for a, b in PAIRS
        }
        tested = holm_paired_differences(family)
        size = sum(1 for c in tested.values() if c.n >= 2)
        lines += [
            f"## {name}: paired differences, Holm over {size} comparisons",
            "",
            "| comparison | seeds | mean | Holm interval | p (Holm) | excludes 0 |",
            "|---|---|---|---|---|---|",
        ]
        for key, c in tested.items():
            lines.append(
                f"| {key} | {c.n} | {c.mean:+.3f} | [{c.low:+.3f}, {c.high:+.3f}] | "
                f"{c.p_holm:.3g} | {'yes' if c.excludes_zero else 'no'} |"
            )
            record["comparisons"][f"{column}/{key}"] = {  # type: ignore[index]
                "n": c.n,
                "mean": c.mean,
                "low": c.low,
                "high": c.high,
                "p_holm": c.p_holm,
                "excludes_zero": c.excludes_zero,
            }
        lines.append("")
    return "\n".join(lines), record


if __name__ == "__main__":
    text, record = judge()
    atomic_write_text(HERE / "judgement.md", text + "\n")
    atomic_write_text(HERE / "judgement.json", json.dumps(record, indent=2, default=float) + "\n")
    print(text)
