"""Grids: every point of a ``[grid]`` table of lists over config fields is one set of cells.

A grid key names a section and a field, as in the TOML: ``"method.mask_ratio"``,
``"task.noise"``, ``"train.lr"``; ``"run.task"`` varies the task itself. Every point's config
objects are built before anything trains, so a bad value stops the sweep with one line.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Mapping, Sequence
from typing import Any

from synergy_lab.experiment import RunConfig

# TOML section -> RunConfig field holding that section's dataclass
GRID_SECTIONS: dict[str, str] = {
    "task": "task_config",
    "model": "model",
    "method": "method",
    "train": "train",
    "augment": "augment",
    "probe": "probe",
}
_RUN_KEYS = {"task", "pid_clusters"}
_FORBIDDEN = {
    "train.seed": "seeds are a run setting ([run] seeds)",
    "train.device": "not a setting",
}


def _check_type(key: str, default: Any, value: Any) -> Any:
    """``value`` converted to the default's type (int -> float allowed), or a ValueError."""
    if isinstance(value, list):
        value = tuple(value)
    if default is None or isinstance(default, tuple):
        return value
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, int):
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif isinstance(default, float):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        value = float(value) if ok else value
    else:
        ok = isinstance(value, type(default))
    if not ok:
        raise ValueError(
            f"grid value {key} = {value!r} has the wrong type; expected {type(default).__name__}"
        )
    return value


def _apply(config: RunConfig, key: str, value: Any) -> RunConfig:
    section, _, name = key.partition(".")
    if key in _FORBIDDEN:
        raise ValueError(f"grid key {key!r} cannot vary: {_FORBIDDEN[key]}")
    if section == "run":
        if name not in _RUN_KEYS:
            raise ValueError(
                f"grid key {key!r}: only run.task and run.pid_clusters can vary in [run]"
            )
        value = _check_type(key, getattr(config, name), value)
        return dataclasses.replace(config, **{name: value})
    if section not in GRID_SECTIONS or not name:
        raise ValueError(
            f"grid key {key!r} is not section.field; sections: {', '.join(['run', *GRID_SECTIONS])}"
        )
    part = getattr(config, GRID_SECTIONS[section])
    fields = {f.name for f in dataclasses.fields(part)}
    if name not in fields:
        raise ValueError(f"grid key {key!r}: [{section}] has no setting {name!r}")
    value = _check_type(key, getattr(part, name), value)
    return dataclasses.replace(
        config, **{GRID_SECTIONS[section]: dataclasses.replace(part, **{name: value})}
    )


def expand_grid(
    config: RunConfig, grid: Mapping[str, Sequence[Any]]
) -> list[tuple[dict[str, Any], RunConfig]]:
    """(grid point, its RunConfig) for every combination of the grid's lists; [({}, config)]."""
    if not grid:
        return [({}, config)]
    for key, values in grid.items():
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not values:
            raise ValueError(f"grid key {key!r} needs a non-empty list of values")
        if len(set(map(repr, values))) != len(values):
            raise ValueError(f"grid key {key!r} lists a value twice")
    keys = list(grid)
    points = []
    for combination in itertools.product(*(grid[k] for k in keys)):
        point = dict(zip(keys, combination, strict=True))
        point_config = config
        for key, value in point.items():
            try:
                point_config = _apply(point_config, key, value)
            except (ValueError, TypeError) as error:
                message = str(error)
                if not message.startswith("grid"):
                    message = f"grid value {key} = {value!r} is rejected: {message}"
                raise ValueError(message) from None
        if "run.task" in point:
            import synthetic

            synthetic.get_task(point_config.task)
        points.append(({k: _plain(v) for k, v in point.items()}, point_config))
    return points


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value
