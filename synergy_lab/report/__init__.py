"""Tables and figures from a run folder's results: what a reader looks at after a run.

* :mod:`~synergy_lab.report.tables`: markdown tables (metrics over seeds with t-intervals, the
  ground-truth and model-level PID in bits, pairwise comparisons paired by seed).
* :mod:`~synergy_lab.report.figures`: the PNG figures (``plot_*``), one colour per method.
* :mod:`~synergy_lab.report.folders`: reading run folders and writing a report into one
  (``summary.md``, figures, ``grid-<key>.png`` of a sweep), redrawn from the CSV files alone.

Every public name is re-exported here: ``from synergy_lab.report import write_report``.
"""

from synergy_lab.report.figures import (
    FIGURES,
    method_colour,
    method_display,
    plot_accuracy,
    plot_curves,
    plot_dynamics,
    plot_grid,
    plot_heldout,
    plot_pid,
    plot_usable,
)
from synergy_lab.report.folders import (
    compare_runs,
    read_runs,
    read_variants,
    selection_summary,
    write_grid_figures,
    write_report,
)
from synergy_lab.report.tables import (
    FRACTION_METRICS,
    METRICS,
    REFERENCE_NOTE,
    accuracy_table,
    ground_truth_table,
    markdown_summary,
    metric_table,
    pairwise_table,
    pairwise_tables,
    reference_gates,
    synergy_table,
    to_markdown,
    training_table,
)
from synergy_lab.results import grid_columns  # the results layer owns the rule

__all__ = [
    "FIGURES",
    "FRACTION_METRICS",
    "METRICS",
    "REFERENCE_NOTE",
    "accuracy_table",
    "compare_runs",
    "grid_columns",
    "ground_truth_table",
    "markdown_summary",
    "method_colour",
    "method_display",
    "metric_table",
    "pairwise_table",
    "pairwise_tables",
    "reference_gates",
    "training_table",
    "plot_accuracy",
    "plot_curves",
    "plot_heldout",
    "plot_dynamics",
    "plot_grid",
    "plot_pid",
    "plot_usable",
    "read_runs",
    "read_variants",
    "selection_summary",
    "synergy_table",
    "to_markdown",
    "write_grid_figures",
    "write_report",
]
