"""The ``synergy-lab`` command: options become config objects, then library calls do the work."""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import numpy as np
import typer

app = typer.Typer(
    help=(
        "How much of the synergistic information between modalities does a representation-"
        "learning method capture? Train methods on bimodal tasks with known redundant, unique "
        "and synergistic parts, probe them, and compare their partial information decomposition."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

T = TypeVar("T")


def _fail(message: str, code: int = 2) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


@contextmanager
def _clear_errors() -> Iterator[None]:
    """Turn the library's ValueErrors into one error line and exit code 2, not a traceback."""
    try:
        yield
    except (ValueError, FileNotFoundError, KeyError, FloatingPointError) as error:
        text = str(error).strip().splitlines()
        _fail(text[0] if text else type(error).__name__)


def _read_toml(path: Path) -> dict[str, Any]:
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


def _build(
    cls: Callable[..., T], section: str, values: dict[str, Any], overrides: dict[str, Any]
) -> T:
    """A config dataclass from a TOML section plus the command-line options given explicitly."""
    known = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ValueError(
            f"unknown setting {unknown[0]!r} in [{section}]; valid: {', '.join(sorted(known))}"
        )
    merged = {**values, **{k: v for k, v in overrides.items() if v is not None}}
    for name, value in merged.items():
        if isinstance(value, list):
            merged[name] = tuple(value)
    try:
        return cls(**merged)
    except TypeError as error:
        raise ValueError(f"bad settings in [{section}]: {error}") from None


def _split_names(text: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in text.split(",") if name.strip())


@app.command()
def run(
    task: Annotated[
        str | None, typer.Option(help="Task name (see `synergy-lab tasks`). [default: xor]")
    ] = None,
    methods: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated methods (see `synergy-lab methods`). "
            "[default: infmasking,comm,clip]"
        ),
    ] = None,
    seeds: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Number of seeds (0..N-1); each seed draws its own data and "
            "initialisation. [default: 3]",
        ),
    ] = None,
    epochs: Annotated[int | None, typer.Option(min=1, help="Training epochs.")] = None,
    batch_size: Annotated[int | None, typer.Option(min=2, help="Training batch size.")] = None,
    lr: Annotated[float | None, typer.Option(help="AdamW learning rate.")] = None,
    samples: Annotated[
        int | None, typer.Option(help="Samples drawn for the task (train+val+test).")
    ] = None,
    image_size: Annotated[
        int | None, typer.Option(help="Image side in pixels (trifeature).")
    ] = None,
    rung: Annotated[
        str | None,
        typer.Option(
            help="Ladder rung by name (task ladder), e.g. order-m6, parity-k4, dominance-8, "
            "spread-3, richness-512; [task] ladder_* settings override it."
        ),
    ] = None,
    mask_ratio: Annotated[
        float | None, typer.Option(help="InfMasking: fraction of tokens masked per modality.")
    ] = None,
    num_masks: Annotated[
        int | None, typer.Option(help="InfMasking: masked views per augmentation.")
    ] = None,
    temperature: Annotated[
        float | None, typer.Option(help="Temperature of the InfoNCE terms.")
    ] = None,
    probe: Annotated[str | None, typer.Option(help="Probe kind: linear or mlp.")] = None,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda.")] = "auto",
    baselines: Annotated[
        bool, typer.Option(help="Add the untrained (random) and supervised bounds.")
    ] = True,
    quick: Annotated[
        bool, typer.Option(help="Small sizes for a first look (seconds, not minutes).")
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Run folder (default reports/<task>-<timestamp>). Rerunning with the "
            "same folder skips finished cells."
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            help="TOML file with [run], [task], [model], [method], [train], [augment], [probe] "
            "sections; command-line options override it."
        ),
    ] = None,
    progress: Annotated[bool, typer.Option(help="Show progress bars.")] = True,
) -> None:
    """Train methods on a task over seeds, probe every label, write results, summary and plots."""
    from synergy_lab.augment import AugmentConfig
    from synergy_lab.experiment import RunConfig, run_experiment
    from synergy_lab.methods import MethodConfig
    from synergy_lab.models import ModelConfig
    from synergy_lab.probes import ProbeConfig
    from synergy_lab.report import markdown_summary, write_report
    from synergy_lab.train import TrainConfig
    from synthetic import TaskConfig, get_task

    with _clear_errors():
        file = _read_toml(config) if config else {}
        sections = {"run", "task", "model", "method", "train", "augment", "probe"}
        unknown_sections = sorted(set(file) - sections)
        if unknown_sections:
            raise ValueError(f"unknown section [{unknown_sections[0]}] in {config}")
        run_file = file.get("run", {})
        unknown_run = sorted(set(run_file) - {"task", "methods", "seeds"})
        if unknown_run:
            raise ValueError(
                f"unknown setting {unknown_run[0]!r} in [run]; valid: methods, seeds, task"
            )
        task_name = str(task or run_file.get("task", "xor"))
        get_task(task_name)
        quick_task = {"n_samples": 2000} if quick else {}
        if rung is not None:
            from synthetic.ladder import rung_settings

            if task_name != "ladder":
                raise ValueError(f"--rung applies to --task ladder only; the task is {task_name!r}")
            quick_task.update(rung_settings(rung))
        quick_train = {"epochs": 2} if quick else {}
        task_config = _build(
            TaskConfig,
            "task",
            {**quick_task, **file.get("task", {})},
            {"n_samples": samples, "image_size": image_size},
        )
        train_config = _build(
            TrainConfig,
            "train",
            {**quick_train, **file.get("train", {})},
            {
                "epochs": epochs,
                "batch_size": batch_size,
                "lr": lr,
                "device": device,
                "progress": progress,
            },
        )
        method_config = _build(
            MethodConfig,
            "method",
            file.get("method", {}),
            {"mask_ratio": mask_ratio, "num_masks": num_masks, "temperature": temperature},
        )
        run_config = RunConfig(
            task=task_name,
            methods=_split_names(methods)
            if methods
            else tuple(run_file.get("methods", ("infmasking", "comm", "clip"))),
            seeds=tuple(range(int(seeds or run_file.get("seeds", 3)))),
            baselines=baselines,
            task_config=task_config,
            model=_build(ModelConfig, "model", file.get("model", {}), {}),
            method=method_config,
            train=train_config,
            augment=_build(AugmentConfig, "augment", file.get("augment", {}), {}),
            probe=_build(ProbeConfig, "probe", file.get("probe", {}), {"kind": probe}),
        )
        out_dir = out or Path("reports") / f"{task_name}-{datetime.now():%Y%m%d-%H%M%S}"
        typer.echo(f"run folder: {out_dir}")
        try:
            frame = run_experiment(run_config, out_dir, on_cell=typer.echo)
        except KeyboardInterrupt:
            _fail(
                f"interrupted; finished cells are in {out_dir}; rerun with --out {out_dir} "
                "to finish",
                code=130,
            )
        write_report(out_dir)
        typer.echo("")
        typer.echo(markdown_summary(frame, f"{task_name}: {', '.join(run_config.all_methods)}"))
        typer.echo(f"\nwrote {out_dir}/results.csv, summary.md, config.json and figures")


@app.command()
def tasks() -> None:
    """List the synthetic tasks, one line each."""
    from synthetic import TASKS

    width = max(len(name) for name in TASKS)
    for name, task in TASKS.items():
        typer.echo(f"{name:<{width}}  {task.description}")


@app.command()
def methods() -> None:
    """List the methods, one line each."""
    from synergy_lab.methods import METHODS

    width = max(len(name) for name in METHODS)
    for name, cls in METHODS.items():
        doc = (cls.__doc__ or "").strip().splitlines()
        typer.echo(f"{name:<{width}}  {doc[0] if doc else ''}")


@app.command()
def report(
    run_dir: Annotated[Path, typer.Argument(help="A run folder holding results.csv.")],
) -> None:
    """Redraw summary.md and the figures of a run folder from its results.csv."""
    from synergy_lab.report import write_report

    with _clear_errors():
        written = write_report(run_dir)
    typer.echo("wrote " + ", ".join(str(p) for p in written))


def _load_pid_input(path: Path) -> Any:
    """A PID of a probability table (.npy, or .csv with columns x1,x2,y,p) or of samples (.csv)."""
    import pandas as pd

    from synergy_lab.pid import broja_pid, pid_from_samples

    if not path.is_file():
        raise ValueError(f"no file at {path}")
    if path.suffix == ".npy":
        try:
            table = np.load(path, allow_pickle=False)
        except (ValueError, OSError) as error:
            raise ValueError(f"{path} is not a readable .npy array ({error})") from None
        return broja_pid(table)
    if path.suffix != ".csv":
        raise ValueError(f"{path}: expected a .npy table or a .csv file")
    try:
        frame = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise ValueError(f"{path} is not a readable CSV file ({error})") from None
    if frame.shape[1] not in (3, 4) or frame.isna().any().any():
        raise ValueError(
            f"{path}: expected 3 columns (x1, x2, y samples) or 4 (x1, x2, y, p), no empty cells"
        )
    codes = []
    for column in frame.columns[:3]:
        codes.append(pd.factorize(frame[column], sort=True)[0])
    if frame.shape[1] == 3:
        return pid_from_samples(codes[0], codes[1], codes[2])
    p = pd.to_numeric(frame.iloc[:, 3], errors="coerce").to_numpy()
    if np.isnan(p).any():
        raise ValueError(f"{path}: the probability column holds non-numbers")
    table = np.zeros([int(c.max()) + 1 for c in codes])
    np.add.at(table, (codes[0], codes[1], codes[2]), p)
    return broja_pid(table)


@app.command()
def pid(
    file: Annotated[
        Path,
        typer.Argument(
            help="A .npy table p[x1, x2, y], a .csv with columns x1,x2,y,p, or a "
            ".csv of discrete samples with columns x1,x2,y."
        ),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Exact BROJA partial information decomposition (bits) of a table or of samples."""
    with _clear_errors():
        result = _load_pid_input(file)
    values = {
        "redundancy": result.redundancy,
        "unique1": result.unique1,
        "unique2": result.unique2,
        "synergy": result.synergy,
        "total": result.total,
    }
    if as_json:
        typer.echo(json.dumps(values))
        return
    for name, value in values.items():
        typer.echo(f"{name:<10} {value:.6f} bits")


def main() -> None:  # pragma: no cover
    app()
