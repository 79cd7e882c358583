"""Every rule that keeps run folders of older versions resuming: one place, a test per rule.

A cell's hash is the sha256 of the settings that change its numbers. When a version adds a
setting or changes how settings are recorded, folders written before would stop matching and
retrain; each rule here maps today's settings back to what an older version recorded, so a
finished cell of an older folder is recognised as done:

1. ``LEGACY_VALUES``: a setting added later is left out of the record at the value that does
   what older versions did (add a line with every new shared setting).
2. Trifeature-only settings are recorded at their legacy values for the other tasks, and the
   single protocol's training synergy rate at its built-in value.
3. Before each method had its own settings, every cell hashed one flat ``method`` record of
   every method's settings (``MethodConfig``): :func:`legacy_settings` rebuilds it, and
   :func:`upgrade_folder_settings` reads an old ``config.json``'s flat record per method.
4. An empty ``groups`` (train every training group) is left out.
5. A fixed budget (what every version before the converged budget trained) is recorded without
   ``budget`` and the converged budget's own settings, which it does not read.
6. The ladder's matched spread layout (``TaskConfig.ladder_spread``) came after the first ladder
   folders: at 0, the layout they were drawn with, it is left out (:func:`ladder_rule`).
7. The supervised reference's label became ``"all"`` by default (one head per label, so the
   reference gate covers every label); every version before trained it on ``"S"`` by default.
   Records (cell files, ``config.json``) hold the label they trained on, so they keep their
   hashes; a recorded ``method`` record without one is read as ``"S"``
   (:func:`supervised_label_rule`), not as today's default.
8. Issue 22 (:func:`scale_rule`): Trifeatures drawn by the second renderer
   (``TaskConfig.trifeature_render = "v2"``) and the blur sigma scaled to the image side
   (``AugmentConfig.blur_units = "side"``) are today's defaults. Older folders recorded neither
   and were drawn with "v1" and blurred in pixels (``config.record_document`` reads their
   records so); at those values both are left out. ``trifeature_render`` is also left out for
   the other tasks, which draw no images, and ``blur_units`` when ``blur_prob`` is 0 (nothing
   is blurred): there they change nothing, and the cells of other tasks keep their hashes.
9. Trifeatures' per-group evaluation splits (``TaskConfig.trifeature_eval``) came after the
   first trifeature folders: at ``"shared"``, how they were evaluated, it is left out (rule 1),
   and recorded so for every other task (rule 2).
10. The S group's supervised reference training on unbiased pairs of its own
    (``TaskConfig.trifeature_reference = "unbiased"``) came after the first per-group folders,
    whose reference trained on val: at ``"val"`` it is left out (rule 1), and recorded so
    wherever it changes nothing (another task, the single protocol, shared evaluation).
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from synergy_lab.augment import LEGACY_BLUR_UNITS
from synergy_lab.methods import METHODS, flatten_settings, settings_from_record
from synthetic.config import LEGACY_TRIFEATURE_RENDER
from synthetic.trifeature import SINGLE_TRAIN_SYNERGY_RATE

#: Rule 1: settings added after run folders were first written, at their old behaviour.
LEGACY_VALUES: dict[str, dict[str, Any]] = {
    "model": {
        "image_encoder": "small",
        "image_stages": 3,
        "image_grid": 4,
        "image_positions": "none",
        "vector_encoder": "mlp",
    },
    "task_config": {
        "trifeature_protocol": "single",
        "trifeature_heldout_fraction": 0.2,
        "trifeature_eval": "shared",  # rule 9
        "trifeature_reference": "val",  # rule 10
    },
    "probe": {"select": "accuracy", "calibrate": False},
}
#: Rule 1 for a method's own settings: method name -> {field: value that does what versions
#: before the field did}. Empty so far; a new method setting whose default keeps the old
#: behaviour adds its line here, and older folders' cells of that method keep resuming.
METHOD_LEGACY_VALUES: dict[str, dict[str, Any]] = {}
#: Settings only the converged budget reads (TrainConfig); rule 5 drops them from a fixed one.
CONVERGED_ONLY = (
    "val_fraction",
    "eval_every",
    "tol",
    "patience",
    "max_epochs",
    "cooldown_fraction",
)
#: Run-level settings that do not change what a cell computes (the selection changes a cell only
#: through the settings it chose, [train.<method>], which the cell hashes).
NOT_SETTINGS = ("methods", "seeds", "baselines", "select")
NOT_TRAIN_SETTINGS = ("device", "progress", "checkpoint", "seed")


def apply_legacy_rules(
    record: dict[str, Any], task: str, method: str | None = None
) -> dict[str, Any]:
    """Rules 1, 2, 4, 5, 6, 8 and 10 applied to a settings record (``dataclasses.asdict`` of a
    RunConfig less its lists of methods and seeds; ``record["method"]`` holds ``method``'s
    settings, or every method's by name when ``method`` is None); returns the record as a file
    holds it."""
    task_settings = record["task_config"]
    if task != "trifeature":  # rules 2 and 9
        task_settings["trifeature_protocol"] = "single"
        task_settings["trifeature_heldout_fraction"] = 0.2
        task_settings["trifeature_eval"] = "shared"
    single = task_settings["trifeature_protocol"] == "single"
    if single or task_settings["trifeature_eval"] == "shared":  # rule 10
        task_settings["trifeature_reference"] = "val"
    if single and task_settings["trifeature_train_synergy_rate"] is None:
        task_settings["trifeature_train_synergy_rate"] = SINGLE_TRAIN_SYNERGY_RATE
    if not record["groups"]:  # rule 4
        del record["groups"]
    if record["train"].get("budget") == "fixed":  # rule 5
        for name in ("budget", *CONVERGED_ONLY):
            record["train"].pop(name, None)
    ladder_rule(task_settings)  # rule 6
    scale_rule(record, task)  # rule 8
    for section, legacy in LEGACY_VALUES.items():  # rule 1
        for name, value in legacy.items():
            if record[section].get(name) == value:
                del record[section][name]
    methods = record["method"] if method is None else {method: record["method"]}
    for name, legacy in METHOD_LEGACY_VALUES.items():  # rule 1, per method
        own = methods.get(name)
        for field, value in legacy.items():
            if isinstance(own, dict) and own.get(field) == value:
                del own[field]
    return json.loads(json.dumps(record, default=str))  # tuples -> lists, as a file holds them


#: Rule 6: the ladder's task settings added after its first folders, at their old behaviour.
LADDER_LEGACY_VALUES: dict[str, Any] = {"ladder_spread": 0}


def ladder_rule(task_settings: dict[str, Any]) -> None:
    """Rule 6, in place on a ``task_config`` record: the ladder settings added later
    (:data:`LADDER_LEGACY_VALUES`) are left out at the value that draws what older versions drew
    (every task's record holds them, so every older cell of every task needs this)."""
    for name, value in LADDER_LEGACY_VALUES.items():
        if task_settings.get(name) == value:
            del task_settings[name]


def scale_rule(record: dict[str, Any], task: str) -> None:
    """Rule 8, in place on a settings record: ``task_config.trifeature_render`` is left out at
    "v1" or for a task other than trifeature, ``augment.blur_units`` at "px" or when
    ``augment.blur_prob`` is 0 (see the module docstring)."""
    task_settings, augment = record["task_config"], record["augment"]
    render = task_settings.get("trifeature_render")
    if render is not None and (task != "trifeature" or render == LEGACY_TRIFEATURE_RENDER):
        del task_settings["trifeature_render"]
    units = augment.get("blur_units")
    if units is not None and (units == LEGACY_BLUR_UNITS or augment.get("blur_prob", 0) == 0):
        del augment["blur_units"]


#: Rule 7: the supervised reference's label every version before ``"all"`` became the default
#: trained on when none was recorded.
SUPERVISED_LEGACY_LABEL = "S"


def supervised_label_rule(method: dict[str, Any]) -> dict[str, Any]:
    """Rule 7 on a recorded ``method`` record, flat (``MethodConfig``: ``supervised_label``) or
    per method (``{"supervised": {"label": ...}}``): a missing label is read as ``"S"``, what it
    meant when it was written. Returns a new record; one that records a label is unchanged."""
    if not method:
        return dict(method)
    if all(isinstance(v, dict) for v in method.values()):  # per method
        own = dict(method.get("supervised") or {})
        own.setdefault("label", SUPERVISED_LEGACY_LABEL)
        return {**method, "supervised": own}
    return {"supervised_label": SUPERVISED_LEGACY_LABEL, **method}  # flat


def shared_record(config: Any, method: str | None = None) -> dict[str, Any]:
    """``dataclasses.asdict(config)`` without the run lists, the selection and the train
    settings that change nothing (device, progress bars, checkpoint path, the per-cell seed).

    ``train`` is what ``method`` trains with (the shared [train] with its [train.<method>]
    over it: a cell hashes the settings it trained with, not where they were set, so a
    per-method value equal to the shared one keeps the hash). For the folder's record
    (``method`` None) the per-method tables are added as ``method_train`` when there are any.
    """
    record = {
        f.name: dataclasses.asdict(getattr(config, f.name))
        if dataclasses.is_dataclass(getattr(config, f.name))
        else getattr(config, f.name)
        for f in dataclasses.fields(config)
        if f.name not in (*NOT_SETTINGS, "method", "method_train")
    }
    train = config.train if method is None else config.train_of(method)
    record["train"] = {
        k: v for k, v in dataclasses.asdict(train).items() if k not in NOT_TRAIN_SETTINGS
    }
    own = getattr(config, "method_train", None)
    if method is None and own:
        record["method_train"] = {name: dict(table) for name, table in sorted(own.items())}
    return record


def legacy_settings(config: Any, method: str | None = None) -> dict[str, Any] | None:
    """Rule 3: the settings record a version with one flat ``MethodConfig`` made for every cell
    of ``config``; None where today's settings have no flat form (so no older cell can match),
    or where ``method`` trains with settings of its own (no such version had them)."""
    if method is not None and config.train_of(method) != config.train:
        return None
    flat = flatten_settings(config.method)
    if flat is None:
        return None
    return apply_legacy_rules({**shared_record(config), "method": flat}, config.task)


def upgrade_folder_settings(recorded: dict[str, Any]) -> dict[str, Any]:
    """Rule 3 for ``config.json``: an older folder's flat ``settings.method`` record read as
    per-method settings, so it compares with today's record setting by setting."""
    settings = recorded.get("settings")
    if not isinstance(settings, dict):
        return recorded
    method = settings.get("method")
    if not isinstance(method, dict) or all(isinstance(v, dict) for v in method.values()):
        return recorded
    method = supervised_label_rule(method)  # rule 7
    nested = {
        name: json.loads(json.dumps(dataclasses.asdict(settings_from_record(name, method))))
        for name in METHODS
    }
    for name, legacy in METHOD_LEGACY_VALUES.items():  # as today's record leaves them out
        for field, value in legacy.items():
            if nested.get(name, {}).get(field) == value:
                del nested[name][field]
    return {**recorded, "settings": {**settings, "method": nested}}
