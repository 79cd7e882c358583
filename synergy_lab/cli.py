"""The ``synergy-lab`` command: options become config objects, then library calls do the work."""

from __future__ import annotations

import dataclasses
import json
import sys
import tempfile
import types
import typing
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

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
    rich_markup_mode=None,  # plain help text: rich markup would eat every [bracket]
)

T = TypeVar("T")

# --quick: sized so that InfMasking's S accuracy stands clearly above CLIP's and the untrained
# network's (measured, see the README's --quick paragraph): 1,000 samples, 10 epochs of batch
# 128 = 50 optimiser steps (experiment.MIN_USEFUL_STEPS), 2 seeds, and only InfMasking and CLIP
# beside the two bounds unless --methods or the config file says otherwise.
QUICK_SAMPLES = 1000
QUICK_EPOCHS = 10
QUICK_BATCH = 128
QUICK_SEEDS = 2
QUICK_METHODS = ("infmasking", "clip")
QUICK_PROBE = {"l2_grid": [1e-4]}  # one L2 strength, not a search: half the evaluation time


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
    except OSError as error:  # e.g. a folder made read-only while the run goes on
        where = f": {error.filename}" if error.filename else ""
        _fail(f"{error.strerror or type(error).__name__}{where}")


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


_TYPE_WORDS = {int: "an integer", float: "a number", bool: "true or false", str: "a string"}


def _checked_value(section: str, name: str, value: Any, hint: Any) -> Any:
    """``value`` checked against the type annotation ``hint`` of setting ``name``.

    Raises one line naming the setting and the type it expects; an integer is accepted where
    a number is expected, a TOML list where a tuple is.
    """
    args = typing.get_args(hint)
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        if len(inner) == 1:
            return _checked_value(section, name, value, inner[0])
        return value
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise ValueError(f"[{section}] {name} must be a list; got {value!r}")
        element = args[0] if args else Any
        return tuple(_checked_value(section, name, v, element) for v in value)
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint in _TYPE_WORDS:
        if isinstance(value, bool) != (hint is bool) or not isinstance(value, hint):
            raise ValueError(f"[{section}] {name} must be {_TYPE_WORDS[hint]}; got {value!r}")
    return value


def _build(cls: Callable[..., T], section: str, values: Any, overrides: dict[str, Any]) -> T:
    """A config dataclass from a TOML section plus the command-line options given explicitly.

    Every setting is checked against the dataclass field's annotation first, so a wrong type
    gets one line naming the setting and the expected type before any work starts.
    """
    if not isinstance(values, dict):
        raise ValueError(f"[{section}] must be a table of settings; got {values!r}")
    known = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ValueError(
            f"unknown setting {unknown[0]!r} in [{section}]; valid: {', '.join(sorted(known))}"
        )
    hints = typing.get_type_hints(cls)
    for name, value in values.items():  # a file's setting is checked even where an option wins
        _checked_value(section, name, value, hints.get(name, Any))
    merged = {**values, **{k: v for k, v in overrides.items() if v is not None}}
    for name, value in merged.items():
        merged[name] = _checked_value(section, name, value, hints.get(name, Any))
    try:
        return cls(**merged)
    except TypeError as error:
        raise ValueError(f"bad settings in [{section}]: {error}") from None


def _split_names(text: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in text.split(",") if name.strip())


def _run_section(values: Any) -> dict[str, Any]:
    """The [run] section checked: task a string, methods a string or list of names, seeds >= 1."""
    if not isinstance(values, dict):
        raise ValueError(f"[run] must be a table of settings; got {values!r}")
    unknown = sorted(set(values) - {"task", "methods", "seeds"})
    if unknown:
        raise ValueError(f"unknown setting {unknown[0]!r} in [run]; valid: methods, seeds, task")
    checked: dict[str, Any] = {}
    if "task" in values:
        if not isinstance(values["task"], str):
            raise ValueError(f"[run] task must be a string; got {values['task']!r}")
        checked["task"] = values["task"]
    if "methods" in values:
        names = values["methods"]
        if isinstance(names, str):
            names = _split_names(names)
        if not isinstance(names, (list, tuple)) or not all(isinstance(n, str) for n in names):
            raise ValueError(
                f"[run] methods must be a list of method names or a comma-separated string; "
                f"got {values['methods']!r}"
            )
        if not names:
            raise ValueError("[run] methods is empty; give at least one method name")
        checked["methods"] = tuple(names)
    if "seeds" in values:
        seeds = values["seeds"]
        if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1:
            raise ValueError(f"[run] seeds must be a positive integer (how many); got {seeds!r}")
        checked["seeds"] = seeds
    return checked


def _check_writable_folder(folder: Path, what: str) -> None:
    """Fail before any work if ``folder`` is a file or cannot be created or written to."""
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"{what} {folder} is a file, not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise ValueError(f"cannot write to {what} {folder} ({reason})") from None


_JOBS_HELP = "Cells run in N processes at once (one torch thread each; N x threads <= cores)."
_THREADS_HELP = (
    "Torch threads per cell. Default 1: on 2 cores, 2 threads train InfMasking 1.5-2.5x faster "
    "on an idle machine but over 5x slower beside other busy processes."
)
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
    run_config: Any,
    out_dir: Path,
    grid: dict[str, Any],
    jobs: int,
    slurm: Any,
    new_folder: bool,
    dataset: Any = None,
    threads: int | None = None,
) -> Any:
    """Run the cells through ``synergy_lab.runs``; None while SLURM tasks are still pending."""
    from synergy_lab.runs import run_cells

    outcome = run_cells(
        run_config, out_dir, grid=grid, dataset=dataset, on_cell=typer.echo, jobs=jobs,
        threads=threads, slurm=slurm, new_folder=new_folder,
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
    device: Annotated[str | None, typer.Option(help="auto, cpu or cuda. [default: auto]")] = None,
    baselines: Annotated[
        bool, typer.Option(help="Add the untrained (random) and supervised bounds.")
    ] = True,
    preset: Annotated[
        str | None,
        typer.Option(
            help="Trifeatures settings bundle: 'cpu' (32 px, the whole table in about 2 h on 2 "
            "cores) or 'paper' (224 px, AlexNet, 100 epochs: for a GPU). The config file and "
            "options given override it; see synergy_lab/presets.py."
        ),
    ] = None,
    quick: Annotated[
        bool,
        typer.Option(
            help="A first look: 1,000 samples, 10 epochs of batch 128, 2 seeds, infmasking "
            "and clip beside the bounds, probes at one L2 strength (options given still apply)."
        ),
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
    progress: Annotated[
        bool | None, typer.Option("--progress/--no-progress", help="Show progress bars.")
    ] = None,
    data: Annotated[
        Path | None,
        typer.Option(
            help="Your own .npz (arrays x1, x2, one int array per label) instead of a task; "
            "labels without latents get the cluster-estimated model PID."
        ),
    ] = None,
    probe_every: Annotated[
        int,
        typer.Option(
            min=0,
            help="Fit the probes every K epochs during training on a fixed subsample "
            "(dynamics.csv, dynamics.png); 0 = never.",
        ),
    ] = 0,
    jobs: Annotated[int, typer.Option(min=1, help=_JOBS_HELP)] = 1,
    threads: Annotated[int | None, typer.Option(min=1, help=_THREADS_HELP)] = None,
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
    from synergy_lab.experiment import RunConfig
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
        for name, values in file.items():
            if not isinstance(values, dict):
                raise ValueError(f"[{name}] must be a table of settings; got {values!r}")
        base: dict[str, dict[str, Any]] = {}
        if preset is not None:
            from synergy_lab.presets import preset_sections

            base = preset_sections(preset)
            if task is not None and task != base["run"]["task"]:
                raise ValueError(
                    f"--preset {preset} is for task {base['run']['task']!r}; got --task {task}"
                )
        run_file = {**_run_section(base.get("run", {})), **_run_section(file.get("run", {}))}
        task_name = str(task or run_file.get("task", "xor"))
        get_task(task_name)
        if methods is not None and not _split_names(methods):
            raise ValueError(
                "--methods is empty; give at least one method name (see `synergy-lab methods`)"
            )
        quick_task = {"n_samples": QUICK_SAMPLES} if quick else {}
        quick_train = {"epochs": QUICK_EPOCHS, "batch_size": QUICK_BATCH} if quick else {}
        if rung is not None:
            from synthetic.ladder import rung_settings

            if task_name != "ladder":
                raise ValueError(f"--rung applies to --task ladder only; the task is {task_name!r}")
            quick_task.update(rung_settings(rung))
        task_config = _build(
            TaskConfig,
            "task",
            {**base.get("task", {}), **quick_task, **file.get("task", {})},
            {"n_samples": samples, "image_size": image_size},
        )
        train_config = _build(
            TrainConfig,
            "train",
            {**base.get("train", {}), **quick_train, **file.get("train", {})},
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
            {**base.get("method", {}), **file.get("method", {})},
            {"mask_ratio": mask_ratio, "num_masks": num_masks, "temperature": temperature},
        )
        run_config = RunConfig(
            task=task_name,
            methods=_split_names(methods)
            if methods is not None
            else tuple(
                run_file.get("methods", QUICK_METHODS if quick else ("infmasking", "comm", "clip"))
            ),
            seeds=tuple(range(seeds or run_file.get("seeds", QUICK_SEEDS if quick else 3))),
            baselines=baselines,
            task_config=task_config,
            model=_build(
                ModelConfig, "model", {**base.get("model", {}), **file.get("model", {})}, {}
            ),
            method=method_config,
            train=train_config,
            augment=_build(
                AugmentConfig, "augment", {**base.get("augment", {}), **file.get("augment", {})}, {}
            ),
            probe=_build(
                ProbeConfig,
                "probe",
                {**(QUICK_PROBE if quick else {}), **file.get("probe", {})},
                {"kind": probe},
            ),
            probe_every=probe_every,
        )
        user_data = None
        if data is not None:
            from synthetic import from_npz

            user_data = from_npz(data)
            task_name = user_data.name
        out_dir = out or Path("reports") / f"{task_name}-{datetime.now():%Y%m%d-%H%M%S}"
        _check_writable_folder(out_dir, "the run folder")
        typer.echo(f"run folder: {out_dir}")
        slurm = _slurm_config(
            executor,
            file.get("slurm", {}),
            dict(partition=slurm_partition, time_min=slurm_time, gpus=slurm_gpus,
                 cpus=slurm_cpus, mem_gb=slurm_mem, wait=wait or None),
        )  # fmt: skip
        try:
            frame = _run_cells(
                run_config, out_dir, {}, jobs, slurm, new_folder, dataset=user_data, threads=threads
            )
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
        if not (run_dir / "results.csv").is_file():
            raise ValueError(f"no results file at {run_dir / 'results.csv'}")
        _check_writable_folder(run_dir, "the run folder")
        written = write_report(run_dir)
        written += write_grid_figures(run_dir)
    typer.echo("wrote " + ", ".join(str(p) for p in written))


@app.command()
def compare(
    run_dirs: Annotated[
        list[Path], typer.Argument(help="One or more run folders of the same task.")
    ],
    label: Annotated[str, typer.Option(help="The label to compare methods on, e.g. S.")],
    metric: Annotated[
        str,
        typer.Option(help="probe_accuracy, balanced_accuracy or usable_bits."),
    ] = "probe_accuracy",
) -> None:
    """Every pair of methods on one label: mean difference paired by seed, 95 % interval."""
    from synergy_lab.report import METRICS, compare_runs, to_markdown

    with _clear_errors():
        if metric not in METRICS:
            raise ValueError(f"unknown metric {metric!r}; valid: {', '.join(METRICS)}")
        table = compare_runs(run_dirs, label, metric)
    typer.echo(f"{METRICS[metric]} on label {label}, A - B paired by seed:")
    typer.echo(to_markdown(table, index=False))


PID_PROGRESS_CELLS = 100_000  # tables with more cells than this report each solver iteration


@app.command()
def pid(
    file: Annotated[
        Path,
        typer.Argument(
            help="A .npy table p[x1, x2, y], a .csv with columns named x1,x2,y,p, or a "
            ".csv of discrete samples with columns named x1,x2,y."
        ),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    normalize: Annotated[
        bool, typer.Option(help="Rescale a nonnegative table that does not sum to 1.")
    ] = False,
) -> None:
    """Exact BROJA partial information decomposition (bits) of a table or of samples."""
    from synergy_lab.io import read_pid_table
    from synergy_lab.pid import broja_pid

    with _clear_errors():
        table = read_pid_table(file, normalize)
        on_iteration = None
        if table.size > PID_PROGRESS_CELLS:
            shape = "x".join(str(n) for n in table.shape)
            typer.echo(
                f"solving a {shape} table ({table.size:,} cells); this takes a while", err=True
            )

            def on_iteration(iteration: int, merit: float) -> None:
                typer.echo(f"  iteration {iteration}: residual {merit:.2e}", err=True)

        result = broja_pid(table, normalize=normalize, on_iteration=on_iteration)
    values = result.as_dict()
    if as_json:
        typer.echo(json.dumps(values))
        return
    for name, value in values.items():
        typer.echo(f"{name:<10} {value:.6f} bits")


@app.command()
def analyze(
    data: Annotated[
        Path,
        typer.Argument(
            help="A .npz (arrays x1, x2, one int array per label) or a .csv / .parquet with "
            "x1_*, x2_* columns and label columns."
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option(help="Folder for pid.csv and pid.png [default: reports/<name>-pid]"),
    ] = None,
    estimators: Annotated[
        str, typer.Option(help="Comma-separated: cluster, batch, gaussian.")
    ] = "cluster,batch",
    continuous: Annotated[
        str, typer.Option(help="Comma-separated real-valued targets (Gaussian PID only).")
    ] = "",
    bootstrap: Annotated[int, typer.Option(min=0, help="Bootstrap resamples per estimate.")] = 20,
    clusters: Annotated[int, typer.Option(min=2, help="Cluster estimator: k per modality.")] = 10,
    pca: Annotated[
        int, typer.Option(min=0, help="Cluster estimator: PCA components (0: none).")
    ] = 0,
    device: Annotated[str, typer.Option(help="BATCH estimator: auto, cpu or cuda.")] = "auto",
    seed: Annotated[int, typer.Option(help="Seed of clustering, classifiers and resampling.")] = 0,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Estimate R, U1, U2 and S (bits) of every label of your own data, with intervals."""
    from synergy_lab.analyze import AnalyzeConfig, analyze_file, format_table

    with _clear_errors():
        config = AnalyzeConfig(
            estimators=_split_names(estimators),
            continuous=_split_names(continuous),
            bootstrap=bootstrap,
            clusters=clusters,
            pca_components=pca,
            batch_device=device,
            seed=seed,
        )
        out_dir = out or Path("reports") / f"{data.stem}-pid"
        from tqdm import tqdm

        with tqdm(desc="estimating", disable=not progress, leave=False, unit="step") as bar:

            def tick(text: str) -> None:
                bar.set_description(text)
                bar.update(1)

            frame = analyze_file(data, out_dir, config, tick=tick)
    typer.echo(format_table(frame))
    typer.echo(
        f"\nbits; [95% bootstrap interval], {bootstrap} resamples; wrote {out_dir}/pid.csv, pid.png"
    )


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
