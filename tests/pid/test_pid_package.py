"""synergy_lab.pid stays numpy/scipy only (project dependency rule)."""

from __future__ import annotations

import subprocess
import sys


def test_importing_pid_does_not_import_torch() -> None:
    code = "import sys, synergy_lab.pid; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_pid_parts_are_the_first_four_fields_in_order() -> None:
    from dataclasses import fields

    from synergy_lab.pid import PID

    assert PID.PARTS == ("redundancy", "unique1", "unique2", "synergy")
    assert tuple(f.name for f in fields(PID)) == (*PID.PARTS, "total")  # PARTS is no field
    assert list(PID(0.1, 0.2, 0.3, 0.4, 1.0).as_dict()) == [*PID.PARTS, "total"]
