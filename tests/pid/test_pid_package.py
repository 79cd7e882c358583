"""synergy_lab.pid stays numpy/scipy only (project dependency rule)."""

from __future__ import annotations

import subprocess
import sys


def test_importing_pid_does_not_import_torch() -> None:
    code = "import sys, synergy_lab.pid; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
