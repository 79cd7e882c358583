"""Methods as losses over the shared model, registered by name.

Adding a method: one new module with a :class:`Method` subclass, its own frozen settings
dataclass (``settings_class``, checked at construction) and a constructor taking
``(settings, context)``; then one line in ``METHODS``. A new setting of an existing method goes in
that method's settings dataclass and nowhere else: config files reach it as
``[method.<name>] <field> = ...``, the command line as ``--set method.<name>.<field>=...``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from synergy_lab.methods.base import Batch, LossOutput, Method, MethodContext
from synergy_lab.methods.clip import CLIP
from synergy_lab.methods.comm import CoMM
from synergy_lab.methods.coral import COrAL
from synergy_lab.methods.crossself import CrossSelf
from synergy_lab.methods.factorcl import FactorCL
from synergy_lab.methods.infmasking import InfMasking
from synergy_lab.methods.supervised import Supervised
from synergy_lab.methods.untrained import Untrained

# Registry by name: the lower bound, the baselines, the synergy-seeking methods, the upper bound.
METHODS: dict[str, type[Method]] = {
    "random": Untrained,
    "clip": CLIP,
    "crossself": CrossSelf,
    "comm": CoMM,
    "infmasking": InfMasking,
    "coral": COrAL,
    "factorcl": FactorCL,
    "supervised": Supervised,
}

#: The flat ``[method]`` keys of versions before each method had its own settings, and the
#: (method, field) pairs each one sets. ``temperature`` was shared by every InfoNCE method.
FLAT_METHOD_KEYS: dict[str, tuple[tuple[str, str], ...]] = {
    "temperature": tuple(
        (name, "temperature") for name in ("clip", "crossself", "comm", "infmasking", "coral")
    ),
    **{
        key: (("infmasking", key),)
        for key in (
            "mask_ratio",
            "num_masks",
            "mask_lambda",
            "mask_ramp",
            "gaussian_closed_form",
            "mask_weight",
        )
    },
    "critic_steps": (("factorcl", "critic_steps"),),
    "critic_lr": (("factorcl", "critic_lr"),),
    "supervised_label": (("supervised", "label"),),
    "coral_mask_ratio": (("coral", "mask_ratio"),),
    "coral_ortho_weight": (("coral", "ortho_weight"),),
    "coral_unique_weight": (("coral", "unique_weight"),),
    "coral_shared_weight": (("coral", "shared_weight"),),
}


def method_class(name: str) -> type[Method]:
    """The registered method ``name``, or one clear ValueError listing the valid names."""
    if name not in METHODS:
        raise ValueError(f"unknown method {name!r}; valid methods: {', '.join(sorted(METHODS))}")
    return METHODS[name]


def default_settings() -> dict[str, Any]:
    """Every registered method's settings at their defaults, by method name."""
    return {name: cls.settings_class() for name, cls in METHODS.items()}


def settings_fields(name: str) -> tuple[str, ...]:
    """The field names of method ``name``'s settings dataclass."""
    return tuple(f.name for f in dataclasses.fields(method_class(name).settings_class))


def nest_flat_keys(flat: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Old flat ``[method]`` keys as per-method settings: {"mask_ratio": 0.5} ->
    {"infmasking": {"mask_ratio": 0.5}}. Unknown keys give one line listing the valid ones."""
    nested: dict[str, dict[str, Any]] = {}
    for key, value in flat.items():
        if key not in FLAT_METHOD_KEYS:
            raise ValueError(
                f"unknown setting {key!r} in [method]; per-method tables are [method.<name>] "
                f"(methods: {', '.join(METHODS)}); old flat keys: {', '.join(FLAT_METHOD_KEYS)}"
            )
        for method, field in FLAT_METHOD_KEYS[key]:
            nested.setdefault(method, {})[field] = value
    return nested


def settings_from_record(name: str, record: dict[str, Any]) -> Any:
    """Method ``name``'s settings from a recorded dict: its own fields, or the flat
    ``MethodConfig`` dict that checkpoints and cell files of older versions hold."""
    cls = method_class(name).settings_class
    fields = set(settings_fields(name))
    if not set(record) <= fields and set(record) <= set(FLAT_METHOD_KEYS):
        record = nest_flat_keys(record).get(name, {})
    return cls(**record)


def flatten_settings(settings: dict[str, Any]) -> dict[str, Any] | None:
    """The flat ``[method]`` record older versions hashed, from per-method settings objects;
    None where it has no flat form (a shared key at different values, or a field that did not
    exist then away from the default it was built with)."""
    values = {name: dataclasses.asdict(s) for name, s in settings.items()}
    flat: dict[str, Any] = {}
    for key, targets in FLAT_METHOD_KEYS.items():
        seen = {repr(values[m][f]) for m, f in targets if m in values}
        if len(seen) != 1:
            return None
        method, field = targets[0]
        flat[key] = values[method][field]
    covered = {(m, f) for targets in FLAT_METHOD_KEYS.values() for m, f in targets}
    defaults = default_settings()
    for name, record in values.items():
        default = dataclasses.asdict(defaults[name]) if name in defaults else {}
        for field, value in record.items():
            if (name, field) not in covered and value != default.get(field):
                return None
    return flat


__all__ = [
    "FLAT_METHOD_KEYS",
    "METHODS",
    "Batch",
    "LossOutput",
    "Method",
    "MethodContext",
    "default_settings",
    "flatten_settings",
    "method_class",
    "nest_flat_keys",
    "settings_fields",
    "settings_from_record",
]
