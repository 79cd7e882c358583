"""Helpers shared by the notebooks (not a package module): the size knob, figure output, display.

Every notebook reads one knob, the environment variable ``SYNERGY_LAB_QUICK``: set to ``1`` it
shrinks the notebook to seconds (what ``tests/test_notebooks.py`` runs); unset, the notebook runs
at the full size its first cells state. Full-size runs write their figures to
``reports/figures/``; quick runs write them to a fresh temporary folder, so a test never touches
the committed figures.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd

T = TypeVar("T")

REPO_ROOT = Path(__file__).resolve().parent.parent
FIGURES = REPO_ROOT / "reports" / "figures"


def quick_mode() -> bool:
    """True when ``SYNERGY_LAB_QUICK`` is set to anything but empty / ``0`` / ``false``."""
    return os.environ.get("SYNERGY_LAB_QUICK", "").strip().lower() not in ("", "0", "false", "no")


QUICK = quick_mode()


def size(full: T, quick: T) -> T:
    """``quick`` in quick mode, ``full`` otherwise: the one place a notebook picks its size."""
    return quick if QUICK else full


def figure_dir() -> Path:
    """Where figures go: ``reports/figures`` at full size, a new temporary folder in quick mode."""
    if QUICK:
        return Path(tempfile.mkdtemp(prefix="synergy-lab-quick-figures-"))
    FIGURES.mkdir(parents=True, exist_ok=True)
    return FIGURES


def save_figure(fig: Any, path: Path, dpi: int = 110) -> Path:
    """Save a matplotlib figure as a compact PNG at ``path`` and close it; returns the path."""
    import matplotlib.pyplot as plt

    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return path


def show_image(path: Path) -> None:
    """Display a PNG written by the report functions inline in the notebook."""
    from IPython.display import Image, display

    display(Image(filename=str(path)))


def show_table(table: pd.DataFrame, digits: int = 3) -> None:
    """Display a DataFrame rounded to ``digits`` (plain text fallback outside notebooks).

    Numbers held in object columns are converted and float columns widened to float64 first:
    object columns do not round, and rounded float32 values print with round-off digits (30.3
    shows as 30.299999).
    """
    from IPython.display import display

    table = table.infer_objects()
    floats = [c for c in table.columns if pd.api.types.is_float_dtype(table[c])]
    display(table.astype(dict.fromkeys(floats, "float64")).round(digits))


@contextmanager
def stopwatch(label: str) -> Iterator[None]:
    """Print the wall time (s) of the block, so the executed notebook records its own cost."""
    start = time.perf_counter()
    yield
    print(f"{label}: {time.perf_counter() - start:.1f} s wall")


def describe_size(**settings: Any) -> None:
    """Print the mode and the size settings a notebook runs with (recorded in its outputs)."""
    mode = "QUICK (SYNERGY_LAB_QUICK=1, a smoke test only)" if QUICK else "full size"
    print(f"mode: {mode}")
    for key, value in settings.items():
        print(f"  {key} = {value}")
