"""The measurement room: what a trained representation makes usable.

``probes`` fits linear / MLP probes on frozen representations; ``representations`` turns a
representation into every metric of every label (accuracy, usable bits, model-level PID);
``dynamics`` probes during training. Nothing here knows about run folders or executors.
"""

from synergy_lab.evaluate.dynamics import dynamics_hook
from synergy_lab.evaluate.probes import ProbeConfig, ProbeResult, fit_probe
from synergy_lab.evaluate.representations import (
    evaluate,
    evaluate_representations,
    ground_truth_pid,
    model_pid,
    soft_pid_fields,
)

__all__ = [
    "ProbeConfig",
    "ProbeResult",
    "dynamics_hook",
    "evaluate",
    "evaluate_representations",
    "fit_probe",
    "ground_truth_pid",
    "model_pid",
    "soft_pid_fields",
]
