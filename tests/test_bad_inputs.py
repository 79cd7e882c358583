"""Bad or unusual inputs a new user meets (issue 16): each ends in one clear line and exit code 2,
or in the right answer, and nothing already written is lost."""

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import synergy_lab.cli as cli
import synergy_lab.runs as runs
from synergy_lab.cli import app
from synergy_lab.config import RunConfig
from synergy_lab.runs.folder import MIN_USEFUL_STEPS

runner = CliRunner()
TINY = ["--task", "xor", "--samples", "600", "--epochs", "1", "--seeds", "1", "--no-progress"]
TINY += ["--jobs", "1"]  # in this process, so tests may patch what it calls
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def invoke(*args: str):
    return runner.invoke(app, list(args))


def assert_one_clean_line(result, message: str) -> None:
    assert result.exit_code == 2, result.output
    assert message in result.output, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.output


class _Captured(Exception):
    pass


@pytest.fixture
def captured_config(monkeypatch):
    """Replace the run by a capture of the RunConfig the command built (no training)."""
    seen = []

    def fake_run(config, out_dir, **kwargs):
        seen.append(config)
        raise _Captured

    monkeypatch.setattr(runs, "run_cells", fake_run)
    return seen


# ---- TOML settings: types checked before any work, each naming the setting ------------------


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[train]\nepochs = 2.5\n", "[train] epochs must be an integer; got 2.5"),
        ("train = 5\n", "[train] must be a table of settings; got 5"),
        ('[run]\nseeds = "three"\n', "[run] seeds must be a positive integer"),
        ("[run]\nseeds = 0\n", "[run] seeds must be a positive integer"),
        ('[run]\nmethods = ""\n', "[run] methods is empty"),
        ("[run]\nmethods = [1, 2]\n", "[run] methods must be a list of method names"),
        ('run = "xor"\n', "[run] must be a table of settings"),
        ('[task]\nn_samples = "many"\n', "[task] n_samples must be an integer"),
        ('[model]\ndim = "big"\n', "[model] dim must be an integer"),
        ('[train]\nlr = "fast"\n', "[train] lr must be a number"),
        ("[train]\nprogress = 1\n", "[train] progress must be true or false"),
        ('[probe]\nl2_grid = [0.1, "x"]\n', "[probe] l2_grid must be a number"),
        ("[probe]\nl2_grid = 0.1\n", "[probe] l2_grid must be a list"),
        ("[method]\ntemperature = true\n", "[method] temperature must be a number"),
    ],
)
def test_toml_settings_of_the_wrong_type_are_named(tmp_path: Path, toml, message, monkeypatch):
    monkeypatch.setattr(runs, "run_cells", lambda *a, **k: pytest.fail("work started"))
    config = tmp_path / "c.toml"
    config.write_text(toml)
    result = invoke("run", "--config", str(config), "--out", str(tmp_path / "r"))
    assert_one_clean_line(result, message)


@pytest.mark.parametrize(
    ("toml", "methods"),
    [
        ('[run]\nmethods = "clip"\n', ("clip",)),
        ('[run]\nmethods = "clip, comm"\n', ("clip", "comm")),
        ('[run]\nmethods = ["comm"]\n', ("comm",)),
    ],
)
def test_methods_in_toml_may_be_a_name_or_a_comma_list(tmp_path, toml, methods, captured_config):
    config = tmp_path / "c.toml"
    config.write_text(toml + "[train]\nlr = 1\n")  # an integer where a number is expected is fine
    invoke("run", "--config", str(config), "--out", str(tmp_path / "r"))
    assert captured_config[0].methods == methods
    assert captured_config[0].train.lr == 1.0


def test_empty_methods_option_is_an_error(tmp_path: Path, captured_config):
    assert_one_clean_line(
        invoke("run", "--methods", "", "--out", str(tmp_path / "r")), "--methods is empty"
    )
    assert_one_clean_line(
        invoke("run", "--methods", " , ", "--out", str(tmp_path / "r")), "--methods is empty"
    )
    assert not captured_config


def test_too_few_samples_is_named(tmp_path: Path, captured_config):
    result = invoke("run", "--samples", "3", "--out", str(tmp_path / "r"))
    assert_one_clean_line(result, "n_samples (--samples) must be at least 20; got 3")


# ---- output folders: checked up front ---------------------------------------------------------


def test_out_pointing_at_a_file(tmp_path: Path, captured_config):
    target = tmp_path / "results.txt"
    target.write_text("mine\n")
    result = invoke("run", *TINY, "--out", str(target))
    assert_one_clean_line(result, "is a file, not a folder")
    assert target.read_text() == "mine\n"
    assert not captured_config


def _deny_writes_under(monkeypatch, folder: Path) -> None:
    """Make ``folder`` read-only; as root (where chmod does not stop writes) also refuse the
    write probe the command makes, so the path under test is the same."""
    folder.chmod(0o555)
    if not IS_ROOT:
        return
    real = cli.tempfile.TemporaryFile

    def refuse(*args, **kwargs):
        target = Path(kwargs.get("dir", "."))
        if target.resolve().is_relative_to(folder.resolve()):
            raise PermissionError(13, "Permission denied")
        return real(*args, **kwargs)

    monkeypatch.setattr(cli.tempfile, "TemporaryFile", refuse)


@pytest.mark.parametrize("where", ["existing", "new"])
def test_read_only_out_folder(tmp_path: Path, monkeypatch, captured_config, where):
    base = tmp_path / "ro"
    base.mkdir()
    out = base if where == "existing" else base / "new"
    _deny_writes_under(monkeypatch, base)
    try:
        result = invoke("run", *TINY, "--out", str(out))
    finally:
        base.chmod(0o755)
    assert_one_clean_line(result, "cannot write to the run folder")
    assert not captured_config


def test_default_reports_folder_in_a_read_only_directory(tmp_path, monkeypatch, captured_config):
    monkeypatch.chdir(tmp_path)
    _deny_writes_under(monkeypatch, tmp_path)
    try:
        result = invoke("run", *TINY)
    finally:
        tmp_path.chmod(0o755)
    assert_one_clean_line(result, "cannot write to the run folder reports")
    assert not captured_config


def test_report_on_a_read_only_folder_keeps_the_results(tmp_path, monkeypatch, results_frame):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    results_frame().to_csv(run_dir / "results.csv", index=False)
    before = (run_dir / "results.csv").read_text()
    _deny_writes_under(monkeypatch, run_dir)
    try:
        result = invoke("report", str(run_dir))
    finally:
        run_dir.chmod(0o755)
    assert_one_clean_line(result, "cannot write to the run folder")
    assert (run_dir / "results.csv").read_text() == before
    assert not (run_dir / "summary.md").exists()


def test_report_rejects_a_blank_accuracy_cell(tmp_path: Path, results_frame):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    frame = results_frame()
    frame.loc[2, "probe_accuracy"] = np.nan
    frame.to_csv(run_dir / "results.csv", index=False)
    result = invoke("report", str(run_dir))
    assert_one_clean_line(result, "line 4: the probe_accuracy cell is empty")


# ---- a real tiny run: budget notes said once, batch size recorded as used, temp files cleaned --


def test_tiny_run_caps_batch_size_warns_once_and_cleans_stale_temporaries(tmp_path: Path):
    out = tmp_path / "run"
    out.mkdir()
    stale = [out / ".results.csv.x1y2.tmp", out / ".curves.csv.abc.tmp"]
    for path in stale:
        path.write_text("half a row")
    result = invoke(
        "run", "--samples", "100", "--epochs", "1", "--seeds", "2", "--methods", "random,clip",
        "--no-baselines", "--batch-size", "100000", "--progress", "--out", str(out),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    capped = [line for line in lines if "batch size 100000 is larger than the 70 training" in line]
    assert len(capped) == 1, result.output
    warned = [line for line in lines if line.startswith("warning: 1 optimiser steps")]
    assert len(warned) == 1, result.output
    record = json.loads((out / "config.json").read_text())
    assert record["config"]["train"]["batch_size"] == 70
    assert not any(path.exists() for path in stale)
    # what is happening is said as it starts, and the untrained cell has no 0-step bar
    assert any(line.startswith("generating task xor seed 0") for line in lines)
    for said in (
        "clip seed 1: training",
        "clip seed 1: evaluating (probes and PID)",
        "random seed 0: untrained, evaluating",
    ):
        assert said in result.output, said
    assert "random:" not in result.output and "0/0" not in result.output  # no tqdm bar of it
    assert "clip: 100%" in result.output  # the trained cell does show its bar


def test_help_keeps_square_brackets():
    result = runner.invoke(app, ["run", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    assert "[default: xor]" in text
    assert "[default: infmasking,comm,clip]" in text
    assert "[run], [task], [model], [method.<name>], [train], [augment], [probe]" in text


# ---- pid ------------------------------------------------------------------------------------


def test_pid_reads_sample_columns_by_name(tmp_path: Path):
    rng = np.random.default_rng(0)
    x1 = rng.integers(0, 2, 4000)
    x2 = rng.integers(0, 2, 4000)
    pd.DataFrame({"y": x1, "x1": x1, "x2": x2}).to_csv(tmp_path / "s.csv", index=False)
    values = json.loads(invoke("pid", str(tmp_path / "s.csv"), "--json").output)
    assert values["total"] == pytest.approx(1.0, abs=0.01)  # y = x1: one bit, all unique to x1
    assert values["unique1"] == pytest.approx(1.0, abs=0.01)


def test_pid_reads_a_probability_table_csv_by_name(tmp_path: Path):
    rows = [{"p": 0.25, "y": a ^ b, "x2": b, "x1": a} for a in range(2) for b in range(2)]
    pd.DataFrame(rows).to_csv(tmp_path / "t.csv", index=False)
    values = json.loads(invoke("pid", str(tmp_path / "t.csv"), "--json").output)
    assert values["synergy"] == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        (["a", "b", "y"], "needs columns named x1, x2, y"),
        (["x1", "x2", "y", "weight"], "unexpected column 'weight'"),
    ],
)
def test_pid_rejects_csv_without_the_named_columns(tmp_path: Path, columns, message):
    pd.DataFrame(np.zeros((4, len(columns)), dtype=int), columns=columns).to_csv(
        tmp_path / "s.csv", index=False
    )
    assert_one_clean_line(invoke("pid", str(tmp_path / "s.csv")), message)


@pytest.mark.parametrize("content", ["pickle", "text"])
def test_pid_says_a_bad_npy_file_is_not_a_table(tmp_path: Path, content):
    path = tmp_path / "t.npy"
    if content == "pickle":
        np.save(path, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    else:
        path.write_bytes(b"x1,x2,y\n0,0,0\n")
    assert_one_clean_line(invoke("pid", str(path)), "is not a .npy table of numbers")


def test_pid_unnormalised_table_names_the_flag_and_the_flag_works(tmp_path: Path):
    xor = np.zeros((2, 2, 2))
    for a in range(2):
        for b in range(2):
            xor[a, b, a ^ b] = 25.0  # counts, not probabilities
    np.save(tmp_path / "counts.npy", xor)
    result = invoke("pid", str(tmp_path / "counts.npy"))
    assert_one_clean_line(result, "sums to 100, not 1; add --normalize")
    assert "normalize=True" not in result.output
    fixed = invoke("pid", str(tmp_path / "counts.npy"), "--normalize", "--json")
    assert fixed.exit_code == 0, fixed.output
    assert json.loads(fixed.output)["synergy"] == pytest.approx(1.0, abs=1e-6)


def test_pid_shows_progress_on_large_tables(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(cli, "PID_PROGRESS_CELLS", 100)
    p = np.random.default_rng(0).dirichlet(np.ones(8 * 8 * 4)).reshape(8, 8, 4)
    np.save(tmp_path / "p.npy", p)
    result = invoke("pid", str(tmp_path / "p.npy"))
    assert result.exit_code == 0, result.output
    assert "solving a 8x8x4 table (256 cells)" in result.output
    assert "iteration 1:" in result.output
    monkeypatch.setattr(cli, "PID_PROGRESS_CELLS", 10**6)
    small = invoke("pid", str(tmp_path / "p.npy"), "--json")
    assert small.exit_code == 0
    assert "iteration" not in small.output


def test_python_api_run_folder_that_is_a_file(tmp_path: Path):
    target = tmp_path / "file"
    target.write_text("mine")
    with pytest.raises(runs.RunFolderError, match="is a file, not a folder"):
        runs.run_experiment(RunConfig(methods=("clip",)), target)
    assert target.read_text() == "mine"


def test_quick_mode_sizes_and_options_still_win(tmp_path: Path, captured_config):
    invoke("run", "--quick", "--out", str(tmp_path / "a"))
    invoke("run", "--quick", "--seeds", "3", "--methods", "comm", "--out", str(tmp_path / "b"))
    quick, overridden = captured_config
    steps = quick.train.epochs * (700 // quick.train.batch_size)  # 1,000 samples -> 700 train
    assert quick.task_config.n_samples == 1000 and steps >= MIN_USEFUL_STEPS
    assert quick.methods == ("infmasking", "clip") and quick.seeds == (0, 1, 2, 3, 4)
    assert quick.train.budget == "fixed"
    assert quick.probe.l2_grid == (1e-4,)
    assert overridden.methods == ("comm",) and overridden.seeds == (0, 1, 2)


# ---- issue 25: run folders whose record, files or options are not what they seem -------------

SMALL = ["--epochs", "1", "--seeds", "1", "--no-progress", "--no-baselines"]  # fits --data too
TWO_CELLS = [*SMALL, "--samples", "400", "--methods", "random,clip"]


@pytest.fixture(scope="module")
def finished_template(tmp_path_factory) -> Path:
    """A finished run folder of two cells (random, clip), trained once for this module."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("template") / "run"
    result = invoke("run", *TWO_CELLS, "--out", str(out))
    torch.set_num_threads(before)
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture
def finished(finished_template: Path, tmp_path: Path) -> Path:
    """A private copy of the finished two-cell run folder."""
    import shutil

    return Path(shutil.copytree(finished_template, tmp_path / "run"))


def _cell_bytes(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((out / "cells").iterdir()) if p.is_file()}


@pytest.mark.parametrize(
    ("damage", "problem"),
    [
        ("no-settings", "config.json is damaged (it records no settings)"),
        ("not-json", "config.json is damaged (not readable JSON)"),
        ("missing", "config.json is missing"),
    ],
)
def test_a_damaged_record_is_not_an_empty_folder(finished: Path, damage, problem):
    record_path = finished / "config.json"
    if damage == "no-settings":
        record = json.loads(record_path.read_text())
        del record["settings"]
        record_path.write_text(json.dumps(record))
    elif damage == "not-json":
        record_path.write_text('{"config": {"task": ')
    else:
        record_path.unlink()
    before = _cell_bytes(finished)
    other = invoke("run", *TWO_CELLS, "--epochs", "5", "--out", str(finished))
    assert_one_clean_line(other, problem)
    assert "train.epochs = 1 in the folder, 5 now" in other.output
    assert "rerun with the settings that made the cells" in other.output
    assert _cell_bytes(finished) == before  # no finished cell retrained
    same = invoke("run", *TWO_CELLS, "--out", str(finished))
    assert same.exit_code == 0, same.output
    assert "rebuilt it from this run's settings" in same.output
    assert same.output.count("skipped") == 2 and "seed 0: training" not in same.output
    assert json.loads(record_path.read_text())["settings"]["task"] == "xor"
    if damage == "not-json":  # the damaged record is kept aside, not deleted
        assert (finished / "config.json.damaged").read_text() == '{"config": {"task": '


def test_run_on_data_needs_twenty_test_rows(tmp_path: Path):
    rng = np.random.default_rng(0)
    x1, x2 = rng.normal(size=(6, 3)), rng.normal(size=(6, 3))
    np.savez(tmp_path / "six.npz", x1=x1, x2=x2, y=np.array([0, 1, 0, 1, 0, 1]))
    out = tmp_path / "r"
    result = invoke("run", "--data", str(tmp_path / "six.npz"), *SMALL, "--out", str(out))
    assert_one_clean_line(result, "has 6 rows, 1 of them in the test split")
    assert "at least 20 test rows" in result.output
    assert not (tmp_path / "r" / "cells").exists()


def _user_npz(path: Path, n: int = 200, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    a, b = rng.integers(0, 2, n), rng.integers(0, 2, n)
    x1 = np.c_[a, rng.normal(size=n)] + 0.1 * rng.normal(size=(n, 2))
    x2 = np.c_[b, rng.normal(size=n)] + 0.1 * rng.normal(size=(n, 2))
    np.savez(path, x1=x1, x2=x2, S=a ^ b)
    return path


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--task", "and"], "--task cannot go with --data"),
        (["--samples", "1000"], "--samples cannot go with --data"),
        (["--task", "and", "--samples", "1000"], "--task and --samples cannot go with --data"),
    ],
)
def test_task_options_beside_data_are_refused(tmp_path: Path, captured_config, extra, message):
    data = _user_npz(tmp_path / "ok.npz")
    result = invoke("run", "--data", str(data), *extra, "--out", str(tmp_path / "r"))
    assert_one_clean_line(result, message)
    assert not captured_config and not (tmp_path / "r").exists()


def test_a_data_run_is_evaluated_with_its_dataset_and_warned_about_in_its_terms(tmp_path: Path):
    data = _user_npz(tmp_path / "mine.npz")
    out = tmp_path / "r"
    result = invoke("run", "--data", str(data), *SMALL, "--methods", "clip", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "optimiser steps per training on mine" in result.output
    assert "on xor the methods" not in result.output and "--samples" not in result.output
    without = invoke("evaluate", str(out))
    assert_one_clean_line(without, "pass that dataset with --data FILE.npz")
    other = invoke("evaluate", str(out), "--data", str(_user_npz(tmp_path / "mine2.npz", seed=1)))
    assert_one_clean_line(other, "is not the one cell clip-seed0 was trained on")
    evaluated = invoke("evaluate", str(out), "--data", str(data))
    assert evaluated.exit_code == 0, evaluated.output
    assert len(pd.read_csv(out / "eval-linear" / "results.csv")) == 1


def test_status_counts_the_planned_cells_an_interrupted_run_never_started(tmp_path, monkeypatch):
    import synergy_lab.runs.executors as executors

    real, calls = executors.run_cell, []

    def interrupt_on_second(spec, out_dir, **kwargs):
        calls.append(spec.key)
        if len(calls) == 2:
            raise KeyboardInterrupt  # Ctrl-C during the second of five cells
        return real(spec, out_dir, **kwargs)

    monkeypatch.setattr(executors, "run_cell", interrupt_on_second)
    out = tmp_path / "r"
    methods = "random,clip,comm,crossself,infmasking"
    run = invoke("run", *SMALL, "--samples", "400", "--methods", methods, "--out", str(out))
    assert run.exit_code == 130, run.output
    status = invoke("status", str(out))
    assert status.exit_code == 0, status.output
    assert "1 cells finished, 4 pending, 0 corrupt" in status.output
    assert "pending: infmasking-seed0" in status.output
    assert "of methods with no finished cell yet (clip, comm, crossself, infmasking)" in (
        status.output
    )


def test_threads_beyond_the_cores_are_capped_and_said_once(tmp_path: Path, monkeypatch):
    import synergy_lab.runs.folder as folder

    seen: list[int] = []
    monkeypatch.setattr(folder, "available_cores", lambda: 2)
    monkeypatch.setattr(folder, "run_serial", lambda specs, out, threads, *a: seen.append(threads))
    lines: list[str] = []
    config = RunConfig(methods=("clip",), seeds=(0,), baselines=False)
    runs.run_cells(config, tmp_path / "r", threads=999, on_cell=lines.append)
    assert seen == [2]
    notes = [line for line in lines if "--threads 999" in line]
    assert notes == ["note: --threads 999 is more than the 2 cores; using 2 per cell"]


@pytest.mark.parametrize(
    ("damaged", "how"),
    [("clip-seed0.npz", "truncated"), ("clip-seed0.pt", "truncated"), ("clip-seed0.pt", "gone")],
)
def test_a_damaged_artefact_is_a_damaged_cell(finished: Path, damaged, how):
    path = finished / "cells" / damaged
    if how == "gone":  # the weights alone lost: the cell's saved files no longer go together
        path.unlink()
    else:
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    status = invoke("status", str(finished))
    assert status.exit_code == 0, status.output
    assert "1 cells finished, 0 pending, 1 corrupt" in status.output
    assert f"corrupt: {path}" in status.output
    evaluated = invoke("evaluate", str(finished))
    assert evaluated.exit_code == 0, evaluated.output  # the readable cell is still re-probed
    warned = [line for line in evaluated.output.splitlines() if damaged in line]
    assert len(warned) == 1 and warned[0].startswith("warning:") and "skipped" in warned[0]
    assert "Traceback" not in evaluated.output
    rerun = invoke("run", *TWO_CELLS, "--out", str(finished))
    assert rerun.exit_code == 0, rerun.output
    assert "clip seed 0: training" in rerun.output and "random-seed0: already" in rerun.output
    assert "0 corrupt" in invoke("status", str(finished)).output


def test_an_orphan_weights_file_is_removed_and_said(finished: Path):
    (finished / "cells" / "clip-seed0.json").unlink()  # Ctrl-C after the weights, before the cell
    result = invoke("run", *TWO_CELLS, "--out", str(finished))
    assert result.exit_code == 0, result.output
    orphan = finished / "cells" / "clip-seed0.pt"
    assert f"removed {orphan}, left by a cell that never finished" in result.output
    runs.read_cell(finished / "cells" / "clip-seed0.json")
    assert orphan.is_file()  # written again by the retrained cell


def test_an_out_folder_that_is_a_symlink_loop_is_named(tmp_path: Path, captured_config):
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    assert_one_clean_line(invoke("run", *TINY, "--out", str(loop)), "is a symbolic link loop")
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "nowhere")
    assert_one_clean_line(invoke("run", *TINY, "--out", str(dangling)), "which does not exist")
    assert not captured_config


@pytest.mark.parametrize("jobs", ["zero", "0", "-2"])
def test_jobs_is_auto_or_a_positive_count(tmp_path: Path, jobs: str):
    result = invoke("run", *TINY, "--jobs", jobs, "--out", str(tmp_path / "run"))
    assert_one_clean_line(result, "--jobs must be auto or a number of processes >= 1")
