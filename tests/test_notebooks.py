"""Every notebook in ``notebooks/`` runs end to end in quick mode without a cell error.

Each notebook is executed from an in-memory copy with nbclient (kernel ``python3``, which
jupyter_client starts with this interpreter, working directory ``notebooks/``) and
``SYNERGY_LAB_QUICK=1``; the committed files and figures are never written. Kernels run with one
intra-op thread: quick mode is tiny, and on a shared 2-core machine more threads only contend.
"""

from __future__ import annotations

import copy
import hashlib
import os
import sys
from pathlib import Path
from typing import Any

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
FIGURE_DIR = NOTEBOOK_DIR.parent / "reports" / "figures"
NOTEBOOKS = (
    "01_xor_synergy.ipynb",
    "02_trifeature.ipynb",
    "03_pid_estimators.ipynb",
    "04_masking_ablation.ipynb",
    "05_synergy_ladder.ipynb",
)
CELL_TIMEOUT_S = 600  # a hang guard only; quick mode takes seconds per cell


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _figure_digests() -> dict[str, str]:
    if not FIGURE_DIR.is_dir():
        return {}
    return {p.name: _digest(p) for p in sorted(FIGURE_DIR.iterdir()) if p.is_file()}


def _stream_text(notebook: Any) -> str:
    return "".join(
        output.get("text", "")
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if output.get("output_type") == "stream"
    )


def test_every_notebook_is_listed() -> None:
    assert sorted(p.name for p in NOTEBOOK_DIR.glob("*.ipynb")) == sorted(NOTEBOOKS)


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_in_quick_mode(name: str, tmp_path: Path) -> None:
    path = NOTEBOOK_DIR / name
    committed = _digest(path)
    figures_before = _figure_digests()
    original = nbformat.read(path, as_version=4)
    notebook = copy.deepcopy(original)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None

    env = dict(
        os.environ,
        SYNERGY_LAB_QUICK="1",
        OMP_NUM_THREADS="1",
        MKL_NUM_THREADS="1",
        TMPDIR=str(tmp_path),  # quick-mode figures and run folders land here, and are cleaned
    )
    client = nbclient.NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}},
    )
    client.execute(env=env)  # raises CellExecutionError on the first failing cell

    code_cells = [c for c in notebook.cells if c.cell_type == "code"]
    assert code_cells and all(c.execution_count is not None for c in code_cells)
    errors = [
        output
        for cell in code_cells
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
    ]
    assert not errors
    text = _stream_text(notebook)
    assert "mode: QUICK" in text  # the kernel saw the size knob
    assert _digest(path) == committed  # the committed notebook is untouched
    assert _figure_digests() == figures_before  # quick runs never write reports/figures
    assert list(tmp_path.rglob("*.png"))  # ... but they do draw their figures


def test_kernel_is_this_interpreter() -> None:
    """The python3 kernel runs in the environment running the tests (same ``sys.prefix``)."""
    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell("import sys; print(sys.prefix)")]
    )
    nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
    assert _stream_text(notebook).strip() == sys.prefix
