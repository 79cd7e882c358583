"""The judgement configs/trifeature_preregistered.toml commits to, computed from this run folder
(committed with the config, before any cell).

    python reports/trifeature-preregistered/judge.py [FOLDER]

FOLDER (default: this file's folder) is the run folder judged; configs/
trifeature_preregistered_v2.toml judges reports/trifeature-preregistered-v2 with this file, its
rule unchanged.

Per method: R, U1, U2, S test accuracy, mean and 95 % t-interval over the seeds it has, beside
the published row; the supervised reference's gate per label; the seed-paired S differences
InfMasking - CoMM, CoMM - Cross+Self, COrAL - InfMasking with Holm's adjustment over those 3;
the targets (supervised R >= 0.95, every aligning method's R >= 0.95, CoMM above Cross+Self on
S); steps, cells that stopped at the cap and training hours a cell (both models; added
2026-12-07 as a description, it judges nothing). Secondary (exploratory): usable bits, shortcut
labels. Writes judgement.md and judgement.json into FOLDER and prints the markdown. A
folder with missing cells is judged on the seeds it has, and says so.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from synergy_lab.files import atomic_write_text
from synergy_lab.measure import holm_paired_differences, reference_gate, seed_summary
from synergy_lab.results import read_results

HERE = Path(__file__).resolve().parent
METHODS = ("clip", "crossself", "factorcl", "comm", "infmasking", "coral")
REFERENCES = ("supervised", "random")
LABELS = ("R", "U1", "U2", "S")
SHORTCUTS = ("colour1", "colour2", "position1")
PAIRS = (("infmasking", "comm"), ("comm", "crossself"), ("coral", "infmasking"))
#: Published Trifeatures accuracies (%), R / U / S (U: the papers' one unique column), 224 px,
#: as the COrAL paper (arXiv 2602.14983) tabulates them with CoMM's and InfMasking's rows.
PUBLISHED = {
    "clip": (100.0, 11.6, 50.0),
    "factorcl": (99.8, 62.5, 46.5),
    "comm": (99.9, 86.8, 71.4),
    "infmasking": (99.9, 90.6, 77.0),
    "coral": (99.7, 96.4, 74.4),
}
TARGET_R = 0.95


def _per_seed(frame: pd.DataFrame, method: str, label: str, column: str) -> dict[int, float]:
    rows = frame[(frame.method == method) & (frame.label == label)]
    return {int(s): float(v) for s, v in rows.groupby("seed")[column].mean().items()}


def _cell(values: dict[int, float]) -> tuple[str, list[float]]:
    if not values:
        return "—", []
    s = seed_summary(np.array(list(values.values())))
    if len(values) < 2:
        return f"{s.mean:.3f} (1 seed)", [s.mean]
    return f"{s.mean:.3f} [{s.low:.3f}, {s.high:.3f}]", [s.mean, s.low, s.high]


def judge(folder: Path = HERE) -> tuple[str, dict[str, object]]:
    frame = read_results(folder / "results.csv")
    seeds = sorted(int(s) for s in frame.seed.unique())
    lines = [
        f"# Pre-registered Trifeatures table (cpu preset): the judgement of {folder.name}",
        "",
        f"Seeds present: {len(seeds)} of 5 ({', '.join(map(str, seeds))}). Test accuracy, mean "
        "and 95 % t-interval over seeds; published: R / U / S in % at 224 px on a GPU.",
        "",
        "| method | seeds | R | U1 | U2 | S | published R / U / S |",
        "|---|---|---|---|---|---|---|",
    ]
    record: dict[str, object] = {"seeds": seeds, "table": {}, "gates": {}, "comparisons": {}}
    for method in (*METHODS, *REFERENCES):
        texts = []
        for label in LABELS:
            text, numbers = _cell(_per_seed(frame, method, label, "probe_accuracy"))
            texts.append(text)
            record["table"][f"{method}/{label}"] = numbers  # type: ignore[index]
        n = len(_per_seed(frame, method, "S", "probe_accuracy"))
        paper = PUBLISHED.get(method)
        published = " / ".join(f"{v:.1f}" for v in paper) if paper else "—"
        lines.append(f"| {method} | {n} | {' | '.join(texts)} | {published} |")
    lines += ["", "## Reference gate", ""]
    learned = {}
    for label in (*LABELS, *SHORTCUTS):
        rows = frame[frame.label == label]
        if rows.empty:
            continue
        chance = float(rows["chance_accuracy"].mean())
        reference = list(_per_seed(frame, "supervised", label, "probe_accuracy").values())
        gate = reference_gate(chance, seed_accuracies=reference) if len(reference) >= 2 else None
        learned[label] = gate is not None and gate.learned
        verdict = f"{gate.verdict} [{gate.low:.3f}, {gate.high:.3f}]" if gate else "too few seeds"
        lines.append(f"- {label}: chance {chance:.3f}; supervised reference {verdict}")
        record["gates"][label] = gate.verdict if gate else None  # type: ignore[index]
    lines += ["", "## S: paired differences (accuracy), Holm over 3 comparisons", ""]
    if not learned.get("S"):
        lines.append("The S reference has not learned S (or has too few seeds): no comparison "
                     "counts, and none is printed.")  # fmt: skip
        tested = {}
    else:
        family = {
            f"{a} - {b}": (
                _per_seed(frame, a, "S", "probe_accuracy"),
                _per_seed(frame, b, "S", "probe_accuracy"),
            )
            for a, b in PAIRS
        }
        tested = holm_paired_differences(family)
        lines += [
            "| comparison | seeds | mean | Holm interval | p (Holm) | excludes 0 |",
            "|---|---|---|---|---|---|",
        ]
        for key, c in tested.items():
            lines.append(
                f"| {key} | {c.n} | {c.mean:+.3f} | [{c.low:+.3f}, {c.high:+.3f}] | "
                f"{c.p_holm:.3g} | {'yes' if c.excludes_zero else 'no'} |"
            )
            record["comparisons"][key] = {  # type: ignore[index]
                "n": c.n, "mean": c.mean, "low": c.low, "high": c.high,
                "p_holm": c.p_holm, "excludes_zero": c.excludes_zero,
            }  # fmt: skip
    lines += ["", "## Targets", ""]
    targets = {}
    for method in ("supervised", *METHODS):
        values = list(_per_seed(frame, method, "R", "probe_accuracy").values())
        if values:
            mean = float(np.mean(values))
            targets[f"{method} R >= {TARGET_R}"] = mean >= TARGET_R
            lines.append(
                f"- {method} R >= {TARGET_R}: {'met' if mean >= TARGET_R else 'not met'} "
                f"({mean:.3f}, {len(values)} seeds)"
            )
    fusing = tested.get("comm - crossself")
    if fusing is not None:
        met = bool(fusing.excludes_zero and fusing.mean > 0)
        targets["fusing above non-fusing on S (CoMM - Cross+Self)"] = met
        lines.append(
            f"- fusing above non-fusing on S (CoMM - Cross+Self): {'met' if met else 'not met'} "
            f"({fusing.mean:+.3f} [{fusing.low:+.3f}, {fusing.high:+.3f}], Holm)"
        )
    record["targets"] = targets
    lines += ["", "## Steps and stopping (per model: group R/U and group S)", ""]
    lines += [
        "| method | steps R/U (mean, range) | steps S | at the cap (models) "
        "| hours a cell (mean, range) |",
        "|---|---|---|---|---|",
    ]
    for method in (*METHODS, "supervised"):
        parts = []
        for label in ("R", "S"):
            steps = frame[(frame.method == method) & (frame.label == label)]["steps"]
            parts.append(
                f"{steps.mean():.0f} ({steps.min():.0f}-{steps.max():.0f})" if len(steps) else "—"
            )
        rows = frame[(frame.method == method) & frame.label.isin(["R", "S"])]
        capped = int((rows["stop_reason"] == "cap").sum())
        hours = rows[rows.label == "R"]["train_seconds"] / 3600
        wall = f"{hours.mean():.2f} ({hours.min():.2f}-{hours.max():.2f})" if len(hours) else "—"
        lines.append(f"| {method} | {parts[0]} | {parts[1]} | {capped} of {len(rows)} | {wall} |")
    lines += ["", "## Secondary (exploratory): usable bits and shortcut labels", ""]
    columns = [*LABELS, *SHORTCUTS]
    lines += ["| method | " + " | ".join(f"{c} bits" for c in LABELS) + " | "
              + " | ".join(f"{c} acc" for c in SHORTCUTS) + " |",
              "|---" * (1 + len(columns)) + "|"]  # fmt: skip
    for method in (*METHODS, *REFERENCES):
        bits = [_cell(_per_seed(frame, method, c, "usable_bits"))[0] for c in LABELS]
        shortcut = [_cell(_per_seed(frame, method, c, "probe_accuracy"))[0] for c in SHORTCUTS]
        lines.append(f"| {method} | {' | '.join(bits + shortcut)} |")
    return "\n".join(lines), record


if __name__ == "__main__":
    folder = Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else HERE
    text, record = judge(folder)
    atomic_write_text(folder / "judgement.md", text + "\n")
    atomic_write_text(folder / "judgement.json", json.dumps(record, indent=2, default=float) + "\n")
    print(text)
