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


_JOBS_HELP = "Cells run in N processes at once (one torch thread each; N x threads <= cores)."
_NEW_FOLDER_HELP = (
    "If --out was made with other settings, write to a new folder <out>-2, -3, ... instead "
    "of stopping."
)
_EXECUTOR_HELP = (
    "local (this machine) or slurm (one array job, one task per cell, through submitit; "
    'pip install "synergy-lab[slurm]").'
)


def _slurm_config(executor: str, section: dict[str, Any], overrides: dict[str, Any]) -> Any:
    """The SLURM settings ([slurm] plus --slurm-* options), or None for the local executor."""
    from synergy_lab.runs import SlurmConfig

    if executor not in ("local", "slurm"):
        raise ValueError(f"--executor must be local or slurm; got {executor!r}")
    if executor == "local":
        return None
    return _build(SlurmConfig, "slurm", section, overrides)


def _run_cells(
    run_config: Any, out_dir: Path, grid: dict[str, Any], jobs: int, slurm: Any, new_folder: bool
) -> Any:
    """Run the cells through ``synergy_lab.runs``; None while SLURM tasks are still pending."""
    from synergy_lab.runs import run_cells

    outcome = run_cells(
        run_config, out_dir, grid=grid, on_cell=typer.echo, jobs=jobs, slurm=slurm,
        new_folder=new_folder,
    )  # fmt: skip
    if outcome.out_dir != out_dir:
        typer.echo(f"run folder: {outcome.out_dir} (new: {out_dir} holds other settings)")
    if outcome.pending:
        return None
    frame = outcome.results.infer_objects()
    frame.attrs["out_dir"] = str(outcome.out_dir)
    return frame


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
    jobs: Annotated[int, typer.Option(min=1, help=_JOBS_HELP)] = 1,
    new_folder: Annotated[bool, typer.Option(help=_NEW_FOLDER_HELP)] = False,
    executor: Annotated[str, typer.Option(help=_EXECUTOR_HELP)] = "local",
    slurm_partition: Annotated[str | None, typer.Option(help="SLURM partition.")] = None,
    slurm_time: Annotated[int | None, typer.Option(help="SLURM minutes per cell.")] = None,
    slurm_gpus: Annotated[int | None, typer.Option(help="SLURM GPUs per cell.")] = None,
    slurm_cpus: Annotated[int | None, typer.Option(help="SLURM CPUs per cell.")] = None,
    slurm_mem: Annotated[float | None, typer.Option(help="SLURM memory per cell, GB.")] = None,
    wait: Annotated[bool, typer.Option(help="slurm: wait for the array to end.")] = False,
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
        sections = {"run", "task", "model", "method", "train", "augment", "probe", "slurm"}
        if "grid" in file:
            raise ValueError(f"{config} has a [grid] table: run it with `synergy-lab sweep`")
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
        slurm = _slurm_config(
            executor,
            file.get("slurm", {}),
            dict(partition=slurm_partition, time_min=slurm_time, gpus=slurm_gpus,
                 cpus=slurm_cpus, mem_gb=slurm_mem, wait=wait or None),
        )  # fmt: skip
        try:
            if jobs == 1 and slurm is None and not new_folder:
                frame = run_experiment(run_config, out_dir, on_cell=typer.echo)
            else:
                frame = _run_cells(run_config, out_dir, {}, jobs, slurm, new_folder)
        except KeyboardInterrupt:
            _fail(
                f"interrupted; finished cells are in {out_dir}; rerun with --out {out_dir} "
                "to finish",
                code=130,
            )
        if frame is None:  # submitted to SLURM; `status` collects the cells
            return
        out_dir = Path(frame.attrs.get("out_dir", out_dir))
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
    from synergy_lab.report import write_grid_figures, write_report

    with _clear_errors():
        written = write_report(run_dir)
        written += write_grid_figures(run_dir)
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


def _config_from_file(file: dict[str, Any], path: Path) -> Any:
    """A RunConfig from TOML sections alone ([run], [task], ... as for `run --config`)."""
    from synergy_lab.augment import AugmentConfig
    from synergy_lab.experiment import RunConfig
    from synergy_lab.methods import MethodConfig
    from synergy_lab.models import ModelConfig
    from synergy_lab.probes import ProbeConfig
    from synergy_lab.train import TrainConfig
    from synthetic import TaskConfig

    sections = {"run", "task", "model", "method", "train", "augment", "probe", "slurm", "grid"}
    unknown_sections = sorted(set(file) - sections)
    if unknown_sections:
        raise ValueError(f"unknown section [{unknown_sections[0]}] in {path}")
    run_file = file.get("run", {})
    valid_run = {"task", "methods", "seeds", "baselines", "pid_clusters"}
    unknown_run = sorted(set(run_file) - valid_run)
    if unknown_run:
        raise ValueError(
            f"unknown setting {unknown_run[0]!r} in [run]; valid: {', '.join(sorted(valid_run))}"
        )
    seeds = run_file.get("seeds", 3)
    if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1:
        raise ValueError(f"[run] seeds must be a number of seeds >= 1; got {seeds!r}")
    return _build(
        RunConfig,
        "run",
        {
            **{k: v for k, v in run_file.items() if k != "seeds"},
            "seeds": tuple(range(seeds)),
            "task_config": _build(TaskConfig, "task", file.get("task", {}), {}),
            "model": _build(ModelConfig, "model", file.get("model", {}), {}),
            "method": _build(MethodConfig, "method", file.get("method", {}), {}),
            "train": _build(TrainConfig, "train", file.get("train", {}), {"progress": False}),
            "augment": _build(AugmentConfig, "augment", file.get("augment", {}), {}),
            "probe": _build(ProbeConfig, "probe", file.get("probe", {}), {}),
        },
        {},
    )


@app.command()
def sweep(
    file: Annotated[Path, typer.Argument(help="TOML file: run sections plus a [grid] table.")],
    out: Annotated[
        Path | None,
        typer.Option(help="Run folder (default reports/<file stem>-<timestamp>); reruns resume."),
    ] = None,
    jobs: Annotated[int, typer.Option(min=1, help=_JOBS_HELP)] = 1,
    new_folder: Annotated[bool, typer.Option(help=_NEW_FOLDER_HELP)] = False,
    executor: Annotated[str, typer.Option(help=_EXECUTOR_HELP)] = "local",
    wait: Annotated[bool, typer.Option(help="slurm: wait for the array to end.")] = False,
) -> None:
    """Run every grid point x method x seed of FILE's [grid] table as one resumable run.

    [grid] maps "section.field" to a list, e.g. "method.mask_ratio" = [0.3, 0.5, 0.7] or
    "task.noise" = [0.25, 0.5]; results carry one column per grid key, and the report draws
    each metric against each key. Every point is checked before anything trains.
    """
    from synergy_lab.report import markdown_summary, write_grid_figures, write_report
    from synergy_lab.runs import expand_grid

    with _clear_errors():
        document = _read_toml(file)
        grid = document.get("grid")
        if not isinstance(grid, dict) or not grid:
            raise ValueError(f"{file} has no [grid] table of lists; use `synergy-lab run`")
        run_config = _config_from_file(document, file)
        expand_grid(run_config, grid)  # every point checked before anything is written
        slurm = _slurm_config(executor, document.get("slurm", {}), {"wait": wait or None})
        out_dir = out or Path("reports") / f"{file.stem}-{datetime.now():%Y%m%d-%H%M%S}"
        typer.echo(f"run folder: {out_dir}")
        try:
            frame = _run_cells(run_config, out_dir, grid, jobs, slurm, new_folder)
        except KeyboardInterrupt:
            _fail(f"interrupted; finished cells are in {out_dir}; rerun to finish", code=130)
        if frame is None:
            return
        out_dir = Path(frame.attrs["out_dir"])
        written = write_report(out_dir) + write_grid_figures(out_dir)
        typer.echo("")
        typer.echo(markdown_summary(frame, f"{file.stem}: grid over {', '.join(grid)}"))
        typer.echo("\nwrote " + ", ".join(str(p) for p in written))


@app.command()
def evaluate(
    run_dir: Annotated[Path, typer.Argument(help="A run folder with cells/ (saved artefacts).")],
    probe: Annotated[str, typer.Option(help="Probe kind: linear or mlp.")] = "linear",
    out: Annotated[
        Path | None, typer.Option(help="Where to write (default RUN_DIR/eval-<probe>).")
    ] = None,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda.")] = "cpu",
) -> None:
    """Re-probe every finished cell's saved representations, without retraining."""
    from synergy_lab.probes import ProbeConfig
    from synergy_lab.report import markdown_summary, write_report
    from synergy_lab.runs import reevaluate

    with _clear_errors():
        target = out or run_dir / f"eval-{probe}"
        frame = reevaluate(
            run_dir, ProbeConfig(kind=probe), out_dir=target, device=device, on_cell=typer.echo
        )
        write_report(target)
    typer.echo("")
    typer.echo(markdown_summary(frame, f"{run_dir.name}, {probe} probe on saved representations"))
    typer.echo(f"\nwrote {target}/results.csv, summary.md and figures")


@app.command()
def status(
    run_dir: Annotated[Path, typer.Argument(help="A run folder.")],
) -> None:
    """Cells finished, pending and corrupt in a run folder; merges the finished ones."""
    from synergy_lab.report import write_grid_figures, write_report
    from synergy_lab.runs import folder_status

    with _clear_errors():
        state = folder_status(run_dir)
        for line in state["corrupt"]:
            typer.echo(f"corrupt: {line} (rerun to retrain it)")
        jobs = f" (array job {state['job_ids'][0].split('_')[0]})" if state["job_ids"] else ""
        typer.echo(
            f"{len(state['done'])} cells finished, {len(state['pending'])} pending{jobs}, "
            f"{len(state['corrupt'])} corrupt; results.csv has {state['rows']} rows"
        )
        for key in state["pending"]:
            typer.echo(f"pending: {key}")
        if state["rows"]:
            write_report(run_dir)
            write_grid_figures(run_dir)


def main() -> None:  # pragma: no cover
    app()
