"""Grids: every point of a ``[grid]`` table of lists over config fields is one set of cells.

A grid key names a section and a field, as in the TOML: ``"task.noise"``, ``"train.lr"``,
``"method.infmasking.mask_ratio"`` (one method's setting; the old flat ``"method.mask_ratio"``
still works and sets what ``[method] mask_ratio`` set); ``"run.task"`` varies the task itself.
A method's setting changes only that method's cells: a method that no grid key touches is
trained once and stands at every point. Every point's config is built before anything trains,
so a bad value stops the sweep with one line.
"""

from __future__ import annotations

import dataclasses
import itertools
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from synergy_lab.config import SECTIONS, RunConfig, checked_value
from synergy_lab.methods import FLAT_METHOD_KEYS, METHODS, settings_fields

#: TOML section -> RunConfig field holding that section's dataclass (``method`` is per method).
GRID_SECTIONS: dict[str, str] = {
    **{section: name for section, (name, _) in SECTIONS.items()},
    "method": "method",
}
_RUN_KEYS = {"task", "pid_clusters"}
_FORBIDDEN = {
    "train.seed": "seeds are a run setting ([run] seeds)",
    "train.device": "not a setting",
}


def method_targets(key: str) -> tuple[tuple[str, str], ...]:
    """The (method, field) pairs a ``method.*`` grid key sets; () for other sections."""
    section, _, rest = key.partition(".")
    if section != "method":
        return ()
    name, _, field = rest.partition(".")
    if field:
        if name not in METHODS:
            raise ValueError(f"grid key {key!r}: no method {name!r}; methods: {', '.join(METHODS)}")
        if field not in settings_fields(name):
            raise ValueError(
                f"grid key {key!r}: [method.{name}] has no setting {field!r}; valid: "
                + (", ".join(settings_fields(name)) or "none")
            )
        return ((name, field),)
    if name not in FLAT_METHOD_KEYS:
        raise ValueError(
            f"grid key {key!r}: write method.<name>.<setting>, e.g. method.infmasking.mask_ratio"
        )
    return FLAT_METHOD_KEYS[name]


def applies_to(key: str, method: str) -> bool:
    """Whether grid key ``key`` changes the cells of ``method`` (method keys: their own only)."""
    targets = method_targets(key)
    return not targets or any(name == method for name, _ in targets)


def _typed(key: str, value: Any, hint: Any) -> Any:
    """``value`` checked against the setting's annotation (the one checker, config's)."""
    try:
        return checked_value("grid", key, value, hint)
    except ValueError as error:
        expected = str(error).split(" must be ", 1)[-1].split("; got", 1)[0]
        raise ValueError(
            f"grid value {key} = {value!r} has the wrong type; expected {expected}"
        ) from None


def _apply(config: RunConfig, key: str, value: Any) -> RunConfig:
    section, _, name = key.partition(".")
    if key in _FORBIDDEN:
        raise ValueError(f"grid key {key!r} cannot vary: {_FORBIDDEN[key]}")
    if section == "run":
        if name not in _RUN_KEYS:
            raise ValueError(
                f"grid key {key!r}: only run.task and run.pid_clusters can vary in [run]"
            )
        hint = typing.get_type_hints(RunConfig)[name]
        return dataclasses.replace(config, **{name: _typed(key, value, hint)})
    if section == "method":
        for method, field in method_targets(key):
            hint = typing.get_type_hints(METHODS[method].settings_class)[field]
            config = config.with_method(method, **{field: _typed(key, value, hint)})
        return config
    if section not in GRID_SECTIONS or not name:
        raise ValueError(
            f"grid key {key!r} is not section.field; sections: {', '.join(['run', *GRID_SECTIONS])}"
        )
    part = getattr(config, GRID_SECTIONS[section])
    if name not in {f.name for f in dataclasses.fields(part)}:
        raise ValueError(f"grid key {key!r}: [{section}] has no setting {name!r}")
    value = _typed(key, value, typing.get_type_hints(type(part))[name])
    return dataclasses.replace(
        config, **{GRID_SECTIONS[section]: dataclasses.replace(part, **{name: value})}
    )


def expand_grid(
    config: RunConfig,
    grid: Mapping[str, Sequence[Any]],
    say: Callable[[str], None] | None = None,
) -> list[tuple[dict[str, Any], RunConfig]]:
    """(grid point, its RunConfig) for every combination of the grid's lists; [({}, config)].

    ``say`` receives one deprecation line per old flat ``method.<setting>`` key.
    """
    if not grid:
        return [({}, config)]
    for key, values in grid.items():
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not values:
            raise ValueError(f"grid key {key!r} needs a non-empty list of values")
        if len(set(map(repr, values))) != len(values):
            raise ValueError(f"grid key {key!r} lists a value twice")
        section, _, rest = key.partition(".")
        if section == "method" and "." not in rest and rest in FLAT_METHOD_KEYS and say:
            where = ", ".join(f"method.{m}.{f}" for m, f in FLAT_METHOD_KEYS[rest])
            say(f"note: grid key {key!r} is deprecated; write {where}")
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
