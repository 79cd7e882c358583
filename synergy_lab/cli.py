"""The ``synergy-lab`` command: options become config objects, then library calls do the work.

Every command only turns its options into config objects (:mod:`synergy_lab.config` layers
defaults < preset < quick < file < options) and calls the library; bad input is one line on
stderr and exit code 2.
"""

from __future__ import annotations

import errno
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

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


def _fail(message: str, code: int = 2) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _say(line: str) -> None:
    typer.echo(line, err=True)


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


def _split_names(text: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in text.split(",") if name.strip())


def _check_writable_folder(folder: Path, what: str) -> None:
    """Fail before any work if ``folder`` is a file or cannot be created or written to."""
    if folder.is_symlink() and not folder.exists():
        _check_link(folder, what)
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"{what} {folder} is a file, not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise ValueError(f"cannot write to {what} {folder} ({reason})") from None


def _check_link(folder: Path, what: str) -> None:
    """Name a symbolic link that loops or points nowhere (mkdir would only say "File exists")."""
    target = os.readlink(folder)
    try:
        folder.stat()
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise ValueError(
                f"{what} {folder} is a symbolic link loop ({folder} -> {target} -> ... never "
                "reaches a folder); remove the link or choose another --out"
            ) from None
    raise ValueError(
        f"{what} {folder} is a symbolic link to {target}, which does not exist; create that "
        "folder, remove the link or choose another --out"
    )


_JOBS_HELP = (
    "Cells run in N processes at once (one torch thread each; N x threads <= cores). auto: "
    "as many as the idle cores (cores minus the 1-minute load average, rounded), at least 1."
)
_THREADS_HELP = (
    "Torch threads per cell. Default 1: on 2 cores, 2 threads train InfMasking 1.5-2.5x faster "
    "on an idle machine but over 5x slower beside other busy processes."
)
_SELECT_HELP = (
    "lr: first choose each trainable method's learning rate from [select] lrs (default 3e-4, "
    "1e-3, 3e-3, the same grid for all) by its probe's validation accuracy on [select] label "
    "(default S; never the test split), then train the seeds at it; the extra trainings are "
    "counted before they start. none: the shared --lr. [default: none]"
)
_NEW_FOLDER_HELP = (
    "If --out was made with other settings, write to a new folder <out>-2, -3, ... instead "
    "of stopping."
)
_EXECUTOR_HELP = (
    "local (this machine) or slurm (one array job, one task per cell, through submitit; "
    'pip install "synergy-lab[slurm]").'
)
_SET_HELP = (
    "Any setting by name, SECTION.FIELD=VALUE (repeatable; the value is read as TOML), e.g. "
    "--set method.infmasking.mask_lambda=0.5 --set train.weight_decay=0 --set run.bootstrap=200."
)
_CONFIG_HELP = (
    "TOML file with [run], [task], [model], [method.<name>], [train], [augment], [probe] "
    "(and [slurm]) sections; command-line options override it, a preset and --quick lie under it."
)
_PRESET_HELP = (
    "Trifeatures settings bundle: 'cpu' (32 px, a small CNN; see synergy_lab/presets.py for "
    "its size and cost), 'cpu-v1' (the cpu preset before issue 22, which "
    "reports/trifeature-cpu-preset was run with) or 'paper' (224 px, AlexNet, 100 epochs: for "
    "a GPU). The config file and options given override it."
)
_QUICK_HELP = (
    "A first look: 1,000 samples, 10 epochs of batch 128, 2 seeds, infmasking and clip beside "
    "the bounds, probes at one L2 strength (the file and options given still apply)."
)


def _slurm_config(executor: str, section: Any, overrides: dict[str, Any]) -> Any:
    """The SLURM settings ([slurm] plus --slurm-* options), or None for the local executor."""
    from synergy_lab.config import build_section
    from synergy_lab.runs import SlurmConfig

    if executor not in ("local", "slurm"):
        raise ValueError(f"--executor must be local or slurm; got {executor!r}")
    if executor == "local":
        return None
    given = {k: v for k, v in overrides.items() if v is not None}
    return build_section(SlurmConfig, "[slurm]", {**(section or {}), **given})


def _read_file(config: Path | None, *, sweep: bool = False) -> dict[str, Any]:
    """The config file as a document ({} without one); a [grid] belongs to `sweep` only."""
    from synergy_lab.config import read_toml

    document = read_toml(config) if config else {}
    if "grid" in document and not sweep:
        raise ValueError(f"{config} has a [grid] table: run it with `synergy-lab sweep`")
    return document


def _options(given: dict[str, dict[str, Any]], assignments: list[str] | None) -> dict[str, Any]:
    """The options given (None = not given) as one document, ``--set`` assignments on top."""
    from synergy_lab.config import assignments_document

    document: dict[str, Any] = {
        section: {k: v for k, v in values.items() if v is not None}
        for section, values in given.items()
    }
    for section, values in assignments_document(assignments or []).items():
        if section == "method":
            for name, table in values.items():
                target = document.setdefault("method", {})
                if isinstance(table, dict):
                    target.setdefault(name, {}).update(table)
                else:
                    target[name] = table
        else:
            document.setdefault(section, {}).update(values)
    return {section: values for section, values in document.items() if values}


def _jobs(text: str) -> int:
    """``--jobs``: ``auto`` (the idle cores, :func:`synergy_lab.runs.auto_jobs`) or N >= 1."""
    from synergy_lab.runs import auto_jobs

    if text.strip().lower() == "auto":
        return auto_jobs()
    try:
        jobs = int(text)
    except ValueError:
        raise ValueError(
            f"--jobs must be auto or a number of processes >= 1; got {text!r}"
        ) from None
    if jobs < 1:
        raise ValueError(f"--jobs must be auto or a number of processes >= 1; got {jobs}")
    return jobs


def _run_cells(run_config: Any, out_dir: Path, grid: dict[str, Any], **options: Any) -> Any:
    """Run the cells through ``synergy_lab.runs`` (a run with [select] what = "lr" first
    chooses each method's rate); None while SLURM tasks are still pending."""
    from synergy_lab.runs import run_cells, run_selected

    if run_config.select.what != "none":
        if grid:
            raise ValueError(
                "[select] what = 'lr' cannot go with a sweep's [grid]; run it with `run`"
            )
        outcome = run_selected(run_config, out_dir, on_cell=typer.echo, **options)
    else:
        outcome = run_cells(run_config, out_dir, grid=grid, on_cell=typer.echo, **options)
    if outcome.out_dir != out_dir:
        typer.echo(f"run folder: {outcome.out_dir} (new: {out_dir} holds other settings)")
    if outcome.pending:
        return None
    frame = outcome.results.infer_objects()
    frame.attrs["out_dir"] = str(outcome.out_dir)
    return frame


def _interrupted(out_dir: Path) -> None:
    _fail(
        f"interrupted; finished cells are in {out_dir}; rerun with --out {out_dir} to finish", 130
    )


def _finish(frame: Any, out_dir: Path, title: str, *, grid: bool = False) -> None:
    """Write the report of a finished run and print its summary."""
    from synergy_lab.report import (
        markdown_summary,
        selection_summary,
        write_grid_figures,
        write_report,
    )

    if frame is None:  # submitted to SLURM; `status` collects the cells
        return
    out_dir = Path(frame.attrs.get("out_dir", out_dir))
    written = write_report(out_dir) + (write_grid_figures(out_dir) if grid else [])
    typer.echo("")
    typer.echo(markdown_summary(frame, title))
    selection = selection_summary(out_dir)
    if selection:
        typer.echo("\n" + selection)
    typer.echo("\nwrote " + ", ".join(str(p) for p in written))


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
    epochs: Annotated[
        int | None,
        typer.Option(min=1, help="Train a fixed number of epochs (implies --budget fixed)."),
    ] = None,
    budget: Annotated[
        str | None,
        typer.Option(
            help="converged (stop when the method's own loss on held-out training rows stops "
            "improving; the same rule for every method) or fixed (--epochs). [default: converged]"
        ),
    ] = None,
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
        float | None, typer.Option(help="Temperature of every method's InfoNCE terms.")
    ] = None,
    probe: Annotated[str | None, typer.Option(help="Probe kind: linear or mlp.")] = None,
    device: Annotated[str | None, typer.Option(help="auto, cpu or cuda. [default: auto]")] = None,
    baselines: Annotated[
        bool | None,
        typer.Option(help="Add the untrained (random) and supervised bounds. [default: on]"),
    ] = None,
    preset: Annotated[str | None, typer.Option(help=_PRESET_HELP)] = None,
    quick: Annotated[bool, typer.Option(help=_QUICK_HELP)] = False,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Run folder (default reports/<task>-<timestamp>). Rerunning with the "
            "same folder skips finished cells."
        ),
    ] = None,
    config: Annotated[Path | None, typer.Option(help=_CONFIG_HELP)] = None,
    set_: Annotated[list[str] | None, typer.Option("--set", help=_SET_HELP)] = None,
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
        int | None,
        typer.Option(
            min=0,
            help="Fit the probes every K epochs during training on a fixed subsample "
            "(dynamics.csv, dynamics.png); 0 = never. [default: 0]",
        ),
    ] = None,
    select: Annotated[str | None, typer.Option(help=_SELECT_HELP)] = None,
    jobs: Annotated[str, typer.Option(help=_JOBS_HELP)] = "auto",
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
    from synergy_lab.config import run_config

    with _clear_errors():
        file = _read_file(config)
        _check_data_options(data, task=task, samples=samples, image_size=image_size, rung=rung)
        if methods is not None and not _split_names(methods):
            raise ValueError(
                "--methods is empty; give at least one method name (see `synergy-lab methods`)"
            )
        options = _options(
            {
                "run": dict(task=task, methods=methods, seeds=seeds, baselines=baselines,
                            probe_every=probe_every),
                "task": {"n_samples": samples, "image_size": image_size},
                "train": dict(epochs=epochs, batch_size=batch_size, lr=lr, device=device,
                              progress=progress,
                              budget=budget or ("fixed" if epochs is not None else None)),
                "method": dict(mask_ratio=mask_ratio, num_masks=num_masks,
                               temperature=temperature),
                "probe": {"kind": probe},
                "select": {"what": select},
            },
            set_,
        )  # fmt: skip
        run_config_ = run_config(
            preset=preset, quick=quick, rung=rung, file=file, file_name=str(config),
            options=options, say=_say,
        )  # fmt: skip
        user_data = _user_data(data)
        name = user_data.name if user_data is not None else run_config_.task
        out_dir = out or Path("reports") / f"{name}-{datetime.now():%Y%m%d-%H%M%S}"
        _check_writable_folder(out_dir, "the run folder")
        typer.echo(f"run folder: {out_dir}")
        slurm = _slurm_config(
            executor, file.get("slurm", {}),
            dict(partition=slurm_partition, time_min=slurm_time, gpus=slurm_gpus,
                 cpus=slurm_cpus, mem_gb=slurm_mem, wait=wait or None),
        )  # fmt: skip
        try:
            frame = _run_cells(
                run_config_, out_dir, {}, jobs=_jobs(jobs), slurm=slurm, new_folder=new_folder,
                dataset=user_data, threads=threads,
            )  # fmt: skip
        except KeyboardInterrupt:
            _interrupted(out_dir)
        _finish(frame, out_dir, f"{name}: {', '.join(run_config_.all_methods)}")


def _check_data_options(data: Path | None, **given: Any) -> None:
    """Refuse task options beside ``--data``: its rows replace the task, so they would be
    ignored while config.json recorded them."""
    if data is None:
        return
    named = [f"--{name.replace('_', '-')}" for name, value in given.items() if value is not None]
    if named:
        raise ValueError(
            f"{' and '.join(named)} cannot go with --data: the dataset's own rows replace the "
            "task; drop " + ("them" if len(named) > 1 else "it")
        )


def _user_data(path: Path | None) -> Any:
    """The user's .npz dataset for ``run --data`` (None without one)."""
    if path is None:
        return None
    from synthetic import from_npz

    return from_npz(path)


@app.command()
def tasks() -> None:
    """List the synthetic tasks, one line each."""
    from synthetic import TASKS

    width = max(len(name) for name in TASKS)
    for name, task in TASKS.items():
        typer.echo(f"{name:<{width}}  {task.description}")


@app.command()
def methods() -> None:
    """List the methods: what each is, then its settings ([method.<name>]) and defaults."""
    import dataclasses

    from synergy_lab.methods import METHODS

    width = max(len(name) for name in METHODS)
    for name, cls in METHODS.items():
        doc = (cls.__doc__ or "").strip().splitlines()
        typer.echo(f"{name:<{width}}  {doc[0] if doc else ''}")
        settings = dataclasses.asdict(cls.settings_class())
        if settings:
            values = ", ".join(f"{k} = {v!r}" for k, v in settings.items())
            typer.echo(f"{'':<{width}}  [method.{name}] {values}")


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
    """Every pair of methods on one label: mean difference paired by seed, Holm-adjusted over
    the pairs shown; no ranking where the supervised reference did not learn the label."""
    from synergy_lab.report import METRICS, compare_runs, read_runs, reference_gates, to_markdown

    with _clear_errors():
        if metric not in METRICS:
            raise ValueError(f"unknown metric {metric!r}; valid: {', '.join(METRICS)}")
        table = compare_runs(run_dirs, label, metric)
        gate = reference_gates(read_runs(run_dirs)).get(label)
    if gate is not None and not gate.learned:
        typer.echo(
            f"{label} is not learned at this budget: the supervised reference's accuracy "
            f"[{gate.low:.3f}, {gate.high:.3f}] holds chance ({gate.chance:.3f}); no ranking."
        )
        return
    size = int((table["seeds"] >= 2).sum())
    typer.echo(
        f"{METRICS[metric]} on label {label}, A - B paired by seed, Holm-adjusted over the "
        f"{size} pairs shown:"
    )
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
        str,
        typer.Option(
            help="Comma-separated real-valued targets (Gaussian PID only); a vector target is "
            "an (n, k) .npz array or CSV columns NAME_*, solved as the Gaussian BROJA PID."
        ),
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
    from synergy_lab.analyze import (
        AnalyzeConfig,
        analysis_steps,
        analyze_data,
        check_analysis,
        format_notes,
        format_table,
        write_outputs,
    )
    from synergy_lab.io import read_user_data

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
        user_data = read_user_data(data, config.continuous)
        check_analysis(user_data, config)  # refused before a bar is drawn
        from tqdm import tqdm

        # The bar appears only now that the data are read and checked, with its known total.
        total = analysis_steps(user_data, config)
        with tqdm(total=total, disable=not progress, leave=False, unit="step") as bar:

            def tick(text: str) -> None:
                bar.set_description(text)
                bar.update(1)

            frame = analyze_data(user_data, config, tick=tick)
        write_outputs(frame, out_dir)
    typer.echo(format_table(frame))
    for line in format_notes(frame):
        typer.echo(line)
    typer.echo(
        f"\nbits; [95% bootstrap percentile interval moved by its bias, so it holds the "
        f"estimate], {bootstrap} resamples; wrote {out_dir}/pid.csv, pid.png"
    )


def config_from_file(document: dict[str, Any], path: Path, say: Any = None) -> Any:
    """The RunConfig of a sweep file's run sections (progress bars off: cells run unattended)."""
    from synergy_lab.config import run_config

    return run_config(
        file=document, file_name=str(path), options={"train": {"progress": False}}, say=say
    )


@app.command()
def sweep(
    file: Annotated[Path, typer.Argument(help="TOML file: run sections plus a [grid] table.")],
    out: Annotated[
        Path | None,
        typer.Option(help="Run folder (default reports/<file stem>-<timestamp>); reruns resume."),
    ] = None,
    jobs: Annotated[str, typer.Option(help=_JOBS_HELP)] = "auto",
    new_folder: Annotated[bool, typer.Option(help=_NEW_FOLDER_HELP)] = False,
    executor: Annotated[str, typer.Option(help=_EXECUTOR_HELP)] = "local",
    wait: Annotated[bool, typer.Option(help="slurm: wait for the array to end.")] = False,
) -> None:
    """Run every grid point x method x seed of FILE's [grid] table as one resumable run.

    [grid] maps "section.field" to a list, e.g. "method.infmasking.mask_ratio" = [0.3, 0.5]
    or "task.noise" = [0.25, 0.5]; results carry one column per grid key, and the report draws
    each metric against each key. A method's setting changes only that method's cells: the
    others are trained once and stand at every point. Every point is checked before anything
    trains.
    """
    from synergy_lab.runs import expand_grid

    with _clear_errors():
        document = _read_file(file, sweep=True)
        grid = document.get("grid")
        if not isinstance(grid, dict) or not grid:
            raise ValueError(f"{file} has no [grid] table of lists; use `synergy-lab run`")
        run_config = config_from_file(document, file, _say)
        expand_grid(run_config, grid)  # every point checked before anything is written
        slurm = _slurm_config(executor, document.get("slurm", {}), {"wait": wait or None})
        out_dir = out or Path("reports") / f"{file.stem}-{datetime.now():%Y%m%d-%H%M%S}"
        typer.echo(f"run folder: {out_dir}")
        try:
            frame = _run_cells(
                run_config, out_dir, grid, jobs=_jobs(jobs), slurm=slurm, new_folder=new_folder
            )
        except KeyboardInterrupt:
            _interrupted(out_dir)
        _finish(frame, out_dir, f"{file.stem}: grid over {', '.join(grid)}", grid=True)


@app.command()
def evaluate(
    run_dir: Annotated[Path, typer.Argument(help="A run folder with cells/ (saved artefacts).")],
    probe: Annotated[str, typer.Option(help="Probe kind: linear or mlp.")] = "linear",
    out: Annotated[
        Path | None, typer.Option(help="Where to write (default RUN_DIR/eval-<probe>).")
    ] = None,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda.")] = "cpu",
    data: Annotated[
        Path | None,
        typer.Option(help="The .npz a `run --data` run trained on (its fingerprint is checked)."),
    ] = None,
) -> None:
    """Re-probe every finished cell's saved representations, without retraining."""
    from synergy_lab.evaluate import ProbeConfig
    from synergy_lab.report import markdown_summary, write_report
    from synergy_lab.runs import reevaluate

    with _clear_errors():
        target = out or run_dir / f"eval-{probe}"
        frame = reevaluate(
            run_dir, ProbeConfig(kind=probe), out_dir=target, dataset=_user_data(data),
            device=device, on_cell=typer.echo,
        )  # fmt: skip
        write_report(target)
    typer.echo("")
    typer.echo(markdown_summary(frame, f"{run_dir.name}, {probe} probe on saved representations"))
    typer.echo(f"\nwrote {target}/results.csv, summary.md and figures")


@app.command()
def status(
    run_dir: Annotated[Path, typer.Argument(help="A run folder.")],
) -> None:
    """Cells finished, pending and corrupt in a run folder, and how far each model still
    training has come (steps, time to go, newest held-out loss); merges the finished ones."""
    from synergy_lab.report import write_grid_figures, write_report
    from synergy_lab.runs import folder_status

    with _clear_errors():
        state = folder_status(run_dir)
        for line in state.corrupt:
            typer.echo(f"corrupt: {line} (rerun to retrain it)")
        jobs = f" (array job {state.job_ids[0].split('_')[0]})" if state.job_ids else ""
        typer.echo(
            f"{len(state.done)} cells finished, {len(state.pending)} pending{jobs}, "
            f"{len(state.corrupt)} corrupt; results.csv has {state.rows} rows"
        )
        for model in state.training:
            typer.echo(f"training: {model.describe()}")
        for key in state.pending:
            typer.echo(f"pending: {key}")
        if (to_go := state.describe_time_to_go()) is not None:
            typer.echo(to_go)
        if state.rows:
            write_report(run_dir)
            write_grid_figures(run_dir)


def main() -> None:  # pragma: no cover
    app()
