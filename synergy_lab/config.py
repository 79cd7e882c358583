"""One room for configuration: RunConfig, the table of sections, one checker, one layering.

A run's settings are typed frozen dataclasses, one per TOML section:

- ``[run]``: RunConfig's own fields (task, methods, seeds, baselines, pid_clusters,
  probe_every, null_shuffles, bootstrap, groups);
- ``[task]``: ``task_config``, a :class:`synthetic.TaskConfig`;
- ``[model]``, ``[train]``, ``[augment]``, ``[probe]``: the fields of the same name
  (ModelConfig, TrainConfig, AugmentConfig, ProbeConfig);
- ``[method.<name>]``: ``method[<name>]``, the method's own settings
  (``METHODS[name].settings_class``);
- ``[train.<name>]``: ``method_train[<name>]``, [train] settings of one method that differ from
  the shared ones (e.g. the learning rate ``--select lr`` chose for it);
- ``[select]``: ``select``, a :class:`SelectConfig` (what is chosen on validation rows before
  the seeds train, ``--select lr``).

(``task`` names the task in result files, so its settings keep the field name ``task_config``.)
:func:`run_config` is the only place a RunConfig is assembled from documents: defaults <
preset < quick < file < options, each layer checked field by field against the dataclasses'
annotations before they are merged, so a wrong value gets one line naming its source, section
and setting. ``run``, ``sweep``, the presets, ``--quick`` and the reading of a cell's record
all go through it. The old flat ``[method]`` keys (``mask_ratio = 0.7``) still work, with one
deprecation line each.
"""

from __future__ import annotations

import dataclasses
import sys
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from synergy_lab.augment import LEGACY_BLUR_UNITS, AugmentConfig
from synergy_lab.evaluate.probes import ProbeConfig
from synergy_lab.methods import (
    FLAT_METHOD_KEYS,
    METHODS,
    default_settings,
    method_class,
    nest_flat_keys,
    settings_from_record,
)
from synergy_lab.models import ModelConfig
from synergy_lab.train import TrainConfig
from synthetic import TaskConfig
from synthetic.config import LEGACY_TRIFEATURE_RENDER

T = TypeVar("T")
Document = Mapping[str, Any]  # a TOML document: section name -> table of settings
Say = Callable[[str], None]

#: Learning rates ``--select lr`` tries by default, the same for every method.
SELECT_LRS: tuple[float, ...] = (3e-4, 1e-3, 3e-3)
#: [train] settings that are not per-method ([train.<name>]): they change nothing a cell computes
#: (device, progress bars, checkpoint path) or are a run setting (seed, from [run] seeds).
NOT_PER_METHOD_TRAIN = ("device", "progress", "checkpoint", "seed")


@dataclass(frozen=True)
class SelectConfig:
    """[select]: a setting chosen per method on validation rows before the run's seeds train.

    ``what = "lr"`` (``--select lr``): every trainable method, the supervised reference too, is
    trained at each learning rate of ``lrs`` (one grid for every method, so each gets the same
    number of trainings: equal cost) on ``seeds`` selection seeds of its own (10000, 10001, ...,
    never the run's: no seed's test number follows a choice made on its own training), and
    keeps the rate whose mean validation accuracy on ``label`` (a linear probe, the run's
    [probe] settings) is highest; the test split is never read (the validation rows:
    :meth:`synthetic.MultimodalDataset.for_selection`; the procedure:
    :mod:`synergy_lab.runs.select`). ``what = "none"``: every method trains at [train] lr.
    Costs ``len(lrs) x trainable methods x seeds`` extra trainings, printed before they start.
    """

    what: str = "none"  # "none" | "lr"
    lrs: tuple[float, ...] = SELECT_LRS  # AdamW peak learning rates tried, the same for all
    label: str = "S"  # the label whose validation accuracy chooses
    seeds: int = 2  # selection trainings per (method, lr), at seeds 10000, 10001, ...

    def __post_init__(self) -> None:
        if self.what not in ("none", "lr"):
            raise ValueError(f"[select] what must be 'none' or 'lr'; got {self.what!r}")
        if not self.lrs or any(not lr > 0 for lr in self.lrs):
            raise ValueError(f"[select] lrs must be positive learning rates; got {self.lrs!r}")
        if len(set(self.lrs)) != len(self.lrs):
            raise ValueError(f"[select] lrs lists a learning rate twice: {self.lrs!r}")
        if self.seeds < 1:
            raise ValueError(f"[select] seeds must be >= 1 (trainings per rate); got {self.seeds}")
        if not self.label:
            raise ValueError("[select] label must name a label of the task, e.g. S")


#: TOML section -> (RunConfig field, dataclass) for the sections that are one dataclass each.
SECTIONS: dict[str, tuple[str, type]] = {
    "task": ("task_config", TaskConfig),
    "model": ("model", ModelConfig),
    "train": ("train", TrainConfig),
    "augment": ("augment", AugmentConfig),
    "probe": ("probe", ProbeConfig),
    "select": ("select", SelectConfig),
}
#: Sections a run's file may hold besides those: [run], [method.<name>], [slurm] (executor
#: resources, read by the CLI), [grid] (a sweep's lists).
OTHER_SECTIONS: tuple[str, ...] = ("run", "method", "slurm", "grid")


@dataclass(frozen=True)
class RunConfig:
    """Everything a run needs; ``config.json`` of the run folder records it.

    ``method`` maps every registered method's name to its own settings dataclass (defaults
    unless a layer set them); a cell hashes only the settings of its own method.
    ``method_train`` maps a method's name to the [train] settings it trains with instead of the
    shared ones (``{"infmasking": {"lr": 0.003}}``, TOML ``[train.infmasking] lr = 3e-3``);
    :meth:`train_of` gives the settings a method trains with, and its cells hash those.
    """

    task: str = "xor"
    methods: tuple[str, ...] = ("infmasking", "comm", "clip")
    seeds: tuple[int, ...] = (0, 1, 2)
    baselines: bool = True  # add the untrained (random) and supervised bounds
    task_config: TaskConfig = field(default_factory=TaskConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    method: dict[str, Any] = field(default_factory=default_settings)
    train: TrainConfig = field(default_factory=TrainConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    probe: ProbeConfig = field(default_factory=ProbeConfig)
    pid_clusters: int = 10  # clusters per modality when no discrete latents are known
    probe_every: int = 0  # fit probes every K epochs during training (dynamics.csv); 0 = never
    null_shuffles: int = 20  # permutation-null draws of the soft model-level PID
    bootstrap: int = 1000  # bootstrap resamples of the test split per cell
    groups: tuple[str, ...] = ()  # training groups to train (e.g. ("S",)); () = all of them
    select: SelectConfig = field(default_factory=SelectConfig)
    method_train: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.probe_every < 0:
            raise ValueError(f"probe_every must be >= 0; got {self.probe_every}")
        if self.null_shuffles < 20:
            raise ValueError(f"null_shuffles must be >= 20; got {self.null_shuffles}")
        if self.bootstrap < 100:
            raise ValueError(f"bootstrap must be >= 100; got {self.bootstrap}")
        if not self.methods:
            raise ValueError("give at least one method")
        for name in self.methods:
            method_class(name)
        if len(set(self.methods)) != len(self.methods):
            raise ValueError("a method is listed twice")
        if not self.seeds or len(set(self.seeds)) != len(self.seeds):
            raise ValueError("seeds must be a non-empty list of distinct integers")
        if self.pid_clusters < 2:
            raise ValueError(f"pid_clusters must be >= 2; got {self.pid_clusters}")
        for name, settings in self.method.items():
            expected = method_class(name).settings_class
            if not isinstance(settings, expected):
                raise ValueError(
                    f"method[{name!r}] must be {expected.__name__}; got {type(settings).__name__}"
                )
        if set(self.method) != set(METHODS):
            missing = sorted(set(METHODS) - set(self.method))
            raise ValueError(f"RunConfig.method lacks the settings of {', '.join(missing)}")
        for name, table in self.method_train.items():
            method_class(name)
            fixed = sorted(set(table) & set(NOT_PER_METHOD_TRAIN))
            if fixed:
                raise ValueError(f"[train.{name}] {fixed[0]} is not a per-method setting")
            self.train_of(name)  # its values pass TrainConfig's checks

    def train_of(self, method: str) -> TrainConfig:
        """The [train] settings ``method`` trains with: the shared ones, its own over them."""
        own = self.method_train.get(method)
        if not own:
            return self.train
        try:
            return dataclasses.replace(self.train, **own)
        except TypeError as error:
            raise ValueError(f"bad settings in [train.{method}]: {error}") from None

    @property
    def all_methods(self) -> tuple[str, ...]:
        """Methods in the order they run: the random bound, the methods, the supervised bound."""
        if not self.baselines:
            return self.methods
        head = () if "random" in self.methods else ("random",)
        tail = () if "supervised" in self.methods else ("supervised",)
        return head + self.methods + tail

    def settings_of(self, method: str) -> Any:
        """Method ``method``'s own settings."""
        return self.method[method]

    def with_method(self, method: str, **changes: Any) -> RunConfig:
        """A copy with fields of one method's settings replaced (checked by its dataclass)."""
        updated = dataclasses.replace(self.method[method], **changes)
        return dataclasses.replace(self, method={**self.method, method: updated})


# ---- the one checker ---------------------------------------------------------------------

_TYPE_WORDS = {int: "an integer", float: "a number", bool: "true or false", str: "a string"}


def checked_value(where: str, name: str, value: Any, hint: Any) -> Any:
    """``value`` checked against the type annotation ``hint`` of setting ``name``.

    ``where`` names the section (``[train]``) in the message. An integer is accepted where a
    number is expected, a TOML list where a tuple is; one ValueError line otherwise.
    """
    args = typing.get_args(hint)
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        if len(inner) == 1:
            return checked_value(where, name, value, inner[0])
        return value
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise ValueError(f"{where} {name} must be a list; got {value!r}")
        element = args[0] if args else Any
        return tuple(checked_value(where, name, v, element) for v in value)
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint in _TYPE_WORDS:
        if isinstance(value, bool) != (hint is bool) or not isinstance(value, hint):
            raise ValueError(f"{where} {name} must be {_TYPE_WORDS[hint]}; got {value!r}")
    return value


def checked_table(cls: type, where: str, values: Any) -> dict[str, Any]:
    """A table of settings for dataclass ``cls``: known names, values of the annotated types."""
    if not isinstance(values, Mapping):
        raise ValueError(f"{where} must be a table of settings; got {values!r}")
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(
            f"unknown setting {unknown[0]!r} in {where}; valid: {', '.join(sorted(known))}"
        )
    hints = typing.get_type_hints(cls)
    return {name: checked_value(where, name, v, hints.get(name, Any)) for name, v in values.items()}


def build(cls: Callable[..., T], where: str, values: Mapping[str, Any]) -> T:
    """Dataclass ``cls`` from an already checked table; its own checks' errors name ``where``."""
    try:
        return cls(**values)
    except TypeError as error:
        raise ValueError(f"bad settings in {where}: {error}") from None


def build_section(cls: Callable[..., T], where: str, values: Any) -> T:
    """Check a table against ``cls`` and build it (e.g. the CLI's ``[slurm]`` resources)."""
    return build(cls, where, checked_table(cls, where, values))  # type: ignore[arg-type]


# ---- [run] and [method] ------------------------------------------------------------------

#: [run]'s settings: RunConfig's own fields (not the sections' dataclasses, not ``method``).
_RUN_FIELDS = {f.name for f in dataclasses.fields(RunConfig)} - {
    *(name for name, _ in SECTIONS.values()),
    "method",
    "method_train",
}


def _run_table(values: Any, where: str) -> dict[str, Any]:
    """[run] checked: methods as a list or comma-separated string, seeds a count or a list."""
    if not isinstance(values, Mapping):
        raise ValueError(f"{where} must be a table of settings; got {values!r}")
    unknown = sorted(set(values) - _RUN_FIELDS)
    if unknown:
        raise ValueError(
            f"unknown setting {unknown[0]!r} in {where}; valid: {', '.join(sorted(_RUN_FIELDS))}"
        )
    table = dict(values)
    if isinstance(table.get("methods"), str):
        table["methods"] = [n.strip() for n in table["methods"].split(",") if n.strip()]
    if "methods" in table:
        names = table["methods"]
        if not isinstance(names, (list, tuple)) or not all(isinstance(n, str) for n in names):
            raise ValueError(
                f"{where} methods must be a list of method names or a comma-separated string; "
                f"got {values['methods']!r}"
            )
        if not names:
            raise ValueError(f"{where} methods is empty; give at least one method name")
    if "seeds" in table:
        seeds = table["seeds"]
        if isinstance(seeds, int) and not isinstance(seeds, bool):
            if seeds < 1:
                raise ValueError(f"{where} seeds must be a positive integer (how many); got 0")
            table["seeds"] = tuple(range(seeds))
        elif not isinstance(seeds, (list, tuple)):
            raise ValueError(
                f"{where} seeds must be a positive integer (how many) or a list of seeds; "
                f"got {seeds!r}"
            )
    hints = typing.get_type_hints(RunConfig)
    return {name: checked_value(where, name, v, hints[name]) for name, v in table.items()}


def _method_tables(values: Any, source: str, say: Say | None) -> dict[str, dict[str, Any]]:
    """[method.<name>] tables checked against each method's settings; flat keys translated."""
    if not isinstance(values, Mapping):
        raise ValueError(f"[method] in {source} must be a table of settings; got {values!r}")
    flat = {k: v for k, v in values.items() if not isinstance(v, Mapping)}
    for key, value in flat.items():  # checked as [method] wrote them, before they spread
        if key in FLAT_METHOD_KEYS:
            method, name = FLAT_METHOD_KEYS[key][0]
            hint = typing.get_type_hints(method_class(method).settings_class)[name]
            checked_value("[method]", key, value, hint)
    nested = nest_flat_keys(flat)
    if flat and say is not None:
        for key in flat:
            where = ", ".join(f"[method.{m}] {f}" for m, f in FLAT_METHOD_KEYS[key])
            say(f"note: [method] {key} in {source} is deprecated; write {where}")
    for name, table in values.items():
        if isinstance(table, Mapping):
            method_class(name)
            nested.setdefault(name, {}).update(table)
    return {
        name: checked_table(method_class(name).settings_class, f"[method.{name}]", table)
        for name, table in nested.items()
    }


def _method_train_tables(tables: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """[train.<name>] tables checked: a registered method, TrainConfig's per-method settings."""
    checked = {}
    for name, table in tables.items():
        method_class(name)
        where = f"[train.{name}]"
        values = checked_table(TrainConfig, where, table)
        fixed = sorted(set(values) & set(NOT_PER_METHOD_TRAIN))
        if fixed:
            raise ValueError(f"{where} {fixed[0]} is not a per-method setting; set it in [train]")
        checked[name] = values
    return checked


# ---- the one layering ---------------------------------------------------------------------


def _checked_document(document: Document, source: str, say: Say | None) -> dict[str, Any]:
    """One layer checked section by section: {"run": {...}, "method": {name: {...}}, ...}."""
    if not isinstance(document, Mapping):
        raise ValueError(f"{source} must be a table of sections; got {document!r}")
    unknown = sorted(set(document) - set(SECTIONS) - set(OTHER_SECTIONS))
    if unknown:
        raise ValueError(f"unknown section [{unknown[0]}] in {source}")
    checked: dict[str, Any] = {}
    for section, values in document.items():
        if section == "train" and isinstance(values, Mapping):
            own = {k: v for k, v in values.items() if isinstance(v, Mapping)}
            checked["method_train"] = _method_train_tables(own)
            values = {k: v for k, v in values.items() if k not in own}
        if section in SECTIONS:
            checked[section] = checked_table(SECTIONS[section][1], f"[{section}]", values)
        elif section == "run":
            checked["run"] = _run_table(values, "[run]")
        elif section == "method":
            checked["method"] = _method_tables(values, source, say)
        elif not isinstance(values, Mapping):
            raise ValueError(f"[{section}] must be a table of settings; got {values!r}")
    return checked


def layered(documents: Sequence[tuple[str, Document]], say: Say | None = None) -> dict[str, Any]:
    """The documents checked and merged, later ones winning setting by setting.

    ``documents`` are (source, document) pairs in rising priority; a source names its layer in
    messages (``preset cpu``, ``--quick``, ``file run.toml``). Flat ``[method]`` keys get a
    deprecation line through ``say``, except in the ``options`` layer (``--temperature`` sets
    every method's temperature on purpose).
    """
    merged: dict[str, Any] = {
        "run": {},
        "method": {},
        "method_train": {},
        **{s: {} for s in SECTIONS},
    }
    for source, document in documents:
        checked = _checked_document(document, source, say if source != "options" else None)
        for section, values in checked.items():
            if section in ("method", "method_train"):
                for name, table in values.items():
                    merged[section].setdefault(name, {}).update(table)
            elif section in merged:
                merged[section].update(values)
    return merged


def config_from_layers(merged: Mapping[str, Any]) -> RunConfig:
    """The RunConfig of merged layers (:func:`layered`); unset settings keep their defaults."""
    parts: dict[str, Any] = {
        field_name: build(cls, f"[{section}]", merged.get(section, {}))
        for section, (field_name, cls) in SECTIONS.items()
    }
    methods = default_settings()
    for name, table in merged.get("method", {}).items():
        methods[name] = build(method_class(name).settings_class, f"[method.{name}]", table)
    own_train = {name: dict(t) for name, t in merged.get("method_train", {}).items() if t}
    run = {**merged.get("run", {}), **parts, "method": methods, "method_train": own_train}
    return build(RunConfig, "[run]", run)


def run_config(
    *,
    preset: str | None = None,
    quick: bool = False,
    rung: str | None = None,
    file: Document | None = None,
    file_name: str = "the config file",
    options: Document | None = None,
    say: Say | None = None,
) -> RunConfig:
    """The RunConfig of defaults < preset < quick < rung < file < options.

    ``file`` and ``options`` are documents shaped like a TOML file (``options`` may use the flat
    ``[method]`` keys, e.g. ``{"method": {"temperature": 0.2}}``, without a deprecation line).
    ``rung`` is a ladder rung's name (its ``[task]`` settings; the file's override it). A file's
    [grid] and [slurm] tables are not run settings and are left to their readers.
    """
    from synergy_lab.presets import QUICK, preset_sections

    documents: list[tuple[str, Document]] = []
    if preset is not None:
        sections = preset_sections(preset)
        task = (options or {}).get("run", {}).get("task")
        if task is not None and task != sections["run"]["task"]:
            raise ValueError(
                f"--preset {preset} is for task {sections['run']['task']!r}; got --task {task}"
            )
        documents.append((f"preset {preset}", sections))
    if quick:
        documents.append(("--quick", QUICK))
    if rung is not None:
        from synthetic.ladder import rung_settings

        documents.append((f"--rung {rung}", {"task": rung_settings(rung)}))
    if file is not None:
        documents.append((file_name, file))
    if options:
        documents.append(("options", options))
    config = config_from_layers(layered(documents, say))
    if rung is not None and config.task != "ladder":
        raise ValueError(f"--rung applies to --task ladder only; the task is {config.task!r}")
    return config


def record_document(record: Mapping[str, Any]) -> dict[str, Any]:
    """A recorded RunConfig (``dataclasses.asdict`` form, as ``config.json`` and cell files
    hold it) as a document :func:`run_config` reads; older records' flat ``method`` dict and
    missing settings are read as what those versions did."""
    record = dict(record)
    document: dict[str, Any] = {
        section: dict(record.pop(field_name, {})) for section, (field_name, _) in SECTIONS.items()
    }
    # cells written before the trifeature paper protocol existed used what is now "single",
    # and before issue 22 the first renderer, a blur sigma in pixels whatever the side and one
    # pair of evaluation splits for every training group, then an S reference trained on val
    document["task"] = {
        "trifeature_protocol": "single",
        "trifeature_render": LEGACY_TRIFEATURE_RENDER,
        "trifeature_eval": "shared",
        "trifeature_reference": "val",
        **document["task"],
    }
    document["augment"] = {"blur_units": LEGACY_BLUR_UNITS, **document["augment"]}
    # records written before the converged budget existed trained for a fixed number of epochs
    document["train"] = {"budget": "fixed", **document["train"]}
    # ... and read usable bits from the probe selected by accuracy, with no calibrated read-out
    document["probe"] = {"calibrate": False, **document["probe"]}
    from synergy_lab.runs.legacy import supervised_label_rule  # runs imports this module

    # ... and trained the supervised reference on S when they recorded no label (legacy rule 7)
    method = supervised_label_rule(record.pop("method", {}))
    if method and not all(isinstance(v, Mapping) for v in method.values()):
        method = {name: dataclasses.asdict(settings_from_record(name, method)) for name in METHODS}
    document["method"] = {name: dict(table) for name, table in method.items() if name in METHODS}
    for name, table in (record.pop("method_train", None) or {}).items():
        document["train"][name] = dict(table)
    document["run"] = {k: v for k, v in record.items() if k in _RUN_FIELDS}
    return document


def config_from_record(record: Mapping[str, Any]) -> RunConfig:
    """The RunConfig a cell file or ``config.json`` recorded."""
    return run_config(file=record_document(record), file_name="the recorded settings")


def read_toml(path: Path) -> dict[str, Any]:
    """A TOML file as a document; one line naming the file if it is missing or malformed."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    if not path.is_file():
        raise ValueError(f"config file {path} does not exist")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"config file {path} is not valid TOML ({error})") from None
    except UnicodeDecodeError:
        raise ValueError(f"config file {path} is not UTF-8 text") from None


def parse_assignment(text: str) -> tuple[list[str], Any]:
    """``"method.infmasking.mask_ratio=0.5"`` -> (["method", "infmasking", "mask_ratio"], 0.5).

    The value is read as a TOML value (numbers, true/false, lists, quoted strings); anything
    that is not one is taken as a plain string.
    """
    key, sep, raw = text.partition("=")
    path = [part.strip() for part in key.strip().split(".")]
    if not sep or len(path) < 2 or not all(path):
        raise ValueError(f"--set wants SECTION.FIELD=VALUE (e.g. train.lr=3e-4); got {text!r}")
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    try:
        value = tomllib.loads(f"value = {raw.strip()}")["value"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()
    return path, value


def assignments_document(assignments: Sequence[str]) -> dict[str, Any]:
    """``--set`` assignments as one document (later assignments of the same setting win)."""
    document: dict[str, Any] = {}
    for text in assignments:
        path, value = parse_assignment(text)
        table = document
        for part in path[:-1]:
            table = table.setdefault(part, {})
            if not isinstance(table, dict):
                raise ValueError(f"--set {text!r} assigns inside a setting")
        table[path[-1]] = value
    return document
