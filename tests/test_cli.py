"""End-to-end checks of the ``synergy-lab`` command on tiny settings."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import synergy_lab.runs.cells as cells
from synergy_lab.cli import app
from synergy_lab.results import RESULT_COLUMNS

runner = CliRunner()
TINY = ["--task", "xor", "--samples", "600", "--epochs", "1", "--seeds", "1", "--no-progress"]
TINY += ["--jobs", "1"]  # in this process, so tests may patch what it calls


def invoke(*args: str):
    return runner.invoke(app, list(args))


def test_tasks_and_methods_list_one_line_each():
    tasks = invoke("tasks")
    assert tasks.exit_code == 0
    assert any(line.startswith("xor ") for line in tasks.output.splitlines())
    methods = invoke("methods")
    assert methods.exit_code == 0
    names = {line.split()[0] for line in methods.output.splitlines() if line.strip()}
    assert {"infmasking", "comm", "clip", "factorcl", "crossself", "supervised", "random"} <= names
    summaries = {line.split()[0]: line for line in methods.output.splitlines() if line[:1] != " "}
    for name in ("infmasking", "coral"):  # a summary that stands on its own (issue 25 item 13)
        assert "docstring" not in summaries[name], summaries[name]
    assert "masked" in summaries["infmasking"] and "unique path" in summaries["coral"]


def test_pid_of_a_table_and_of_samples(tmp_path: Path):
    xor = np.zeros((2, 2, 2))
    for a in range(2):
        for b in range(2):
            xor[a, b, a ^ b] = 0.25
    np.save(tmp_path / "xor.npy", xor)
    result = invoke("pid", str(tmp_path / "xor.npy"), "--json")
    assert result.exit_code == 0, result.output
    values = json.loads(result.output)
    assert values["synergy"] == pytest.approx(1.0, abs=1e-6)
    assert values["redundancy"] == pytest.approx(0.0, abs=1e-6)

    rng = np.random.default_rng(0)
    x = rng.integers(0, 2, size=(4000, 2))
    pd.DataFrame({"x1": x[:, 0], "x2": x[:, 1], "y": x[:, 0]}).to_csv(
        tmp_path / "s.csv", index=False
    )
    result = invoke("pid", str(tmp_path / "s.csv"), "--json")
    assert json.loads(result.output)["unique1"] == pytest.approx(1.0, abs=0.01)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "--task", "nope"], "unknown task 'nope'"),
        (["run", "--methods", "infmasking,bogus"], "unknown method 'bogus'"),
        (["run", "--mask-ratio", "1.5"], "mask_ratio"),
        (["run", "--device", "tpu"], "device"),
        (["report", "/nonexistent/dir"], "no results file"),
        (["run", "--select", "wd"], "[select] what must be 'none' or 'lr'"),
        (["run", "--set", "train.comm.seed=3"], "[train.comm] seed is not a per-method setting"),
    ],
)
def test_bad_input_gives_one_error_line_and_exit_2(args, message, tmp_path: Path):
    result = invoke(*args, *(["--out", str(tmp_path / "r")] if args[0] == "run" else []))
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_pid_rejects_a_table_that_is_not_a_distribution(tmp_path: Path):
    np.save(tmp_path / "bad.npy", np.full((2, 2, 2), 0.5))
    result = invoke("pid", str(tmp_path / "bad.npy"))
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_run_writes_every_file_and_resumes_after_a_crash(tmp_path: Path, monkeypatch):
    out = tmp_path / "run"
    real_train = cells.train
    calls: list[str] = []
    crashed: list[str] = []

    def crash_on_second_cell(method, *args, **kwargs):
        calls.append(method)
        if len(calls) == 2 and not crashed:
            crashed.append(method)
            raise KeyboardInterrupt  # as if the user pressed Ctrl-C in the second cell
        return real_train(method, *args, **kwargs)

    monkeypatch.setattr(cells, "train", crash_on_second_cell)
    first = invoke("run", *TINY, "--methods", "clip,comm", "--out", str(out))
    assert first.exit_code == 130
    partial = pd.read_csv(out / "results.csv")
    assert set(partial["method"]) == {"random"}  # the first cell survived the crash

    calls.clear()
    second = invoke("run", *TINY, "--methods", "clip,comm", "--out", str(out))
    assert second.exit_code == 0, second.output
    assert calls == ["clip", "comm", "supervised"]  # the finished cell is not trained again
    results = pd.read_csv(out / "results.csv")
    assert list(results.columns) == list(RESULT_COLUMNS)
    assert set(results["method"]) == {"random", "clip", "comm", "supervised"}
    assert set(results["label"]) >= {"R", "U1", "U2", "S"}
    assert len(results) == 4 * results["label"].nunique()
    s_rows = results[results.label == "S"]
    assert np.allclose(s_rows["gt_synergy"], 1.0, atol=1e-6)
    for name in ("config.json", "summary.md", "accuracy.png", "pid.png", "curves.png"):
        assert (out / name).is_file(), name
    config = json.loads((out / "config.json").read_text())
    assert config["config"]["task"] == "xor"
    assert "torch" in config["versions"]


def test_run_folder_of_another_task_is_refused(tmp_path: Path, results_frame):
    out = tmp_path / "run"
    out.mkdir()
    results_frame().assign(task="and").to_csv(out / "results.csv", index=False)
    result = invoke("run", *TINY, "--methods", "clip", "--out", str(out))
    assert result.exit_code == 2
    assert "holds results of task 'and'" in result.output


def test_corrupt_results_file_is_reported_not_overwritten(tmp_path: Path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "results.csv").write_text("task,method\nxor\n")
    result = invoke("run", *TINY, "--methods", "clip", "--out", str(out))
    assert result.exit_code == 2
    assert "results.csv" in result.output
    assert (out / "results.csv").read_text() == "task,method\nxor\n"


def test_same_seed_same_numbers(tmp_path: Path):
    outputs = []
    for name in ("a", "b"):
        result = invoke(
            "run", *TINY, "--methods", "clip", "--no-baselines", "--out", str(tmp_path / name)
        )
        assert result.exit_code == 0, result.output
        outputs.append(pd.read_csv(tmp_path / name / "results.csv"))
    cols = ["probe_accuracy", "pid_synergy", "pid_redundancy"]
    pd.testing.assert_frame_equal(outputs[0][cols], outputs[1][cols])


def test_config_file_sets_augmentations_and_rejects_unknown_keys(tmp_path: Path):
    good = tmp_path / "good.toml"
    good.write_text("[augment]\ncrop_min_scale = 0.6\nnoise_std = 0.5\n")
    out = tmp_path / "run"
    result = invoke(
        "run", *TINY, "--methods", "random", "--no-baselines", "--config", str(good),
        "--out", str(out),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    augment = json.loads((out / "config.json").read_text())["config"]["augment"]
    assert augment["crop_min_scale"] == 0.6 and augment["noise_std"] == 0.5

    bad = tmp_path / "bad.toml"
    bad.write_text("[augment]\ncrop_scale = 0.8\n")
    result = invoke("run", *TINY, "--config", str(bad), "--out", str(tmp_path / "other"))
    assert result.exit_code == 2
    assert "unknown setting 'crop_scale' in [augment]" in result.output


def test_compare_prints_the_paired_differences_of_one_label(tmp_path: Path, results_frame):
    frame = results_frame(methods=("clip", "comm"), seeds=(0, 1, 2))
    for name, seeds in (("a", (0, 1)), ("b", (2,))):
        (tmp_path / name).mkdir()
        frame[frame.seed.isin(seeds)].to_csv(tmp_path / name / "results.csv", index=False)
    result = invoke("compare", str(tmp_path / "a"), str(tmp_path / "b"), "--label", "S")
    assert result.exit_code == 0, result.output
    assert "| clip | comm | 3 |" in result.output
    bad = invoke("compare", str(tmp_path / "a"), "--label", "nope")
    assert bad.exit_code == 2 and "label 'nope'" in bad.output
    bad = invoke("compare", str(tmp_path / "a"), "--label", "S", "--metric", "speed")
    assert bad.exit_code == 2 and "unknown metric" in bad.output


def test_ladder_rung_option_errors_are_one_line(tmp_path: Path) -> None:
    wrong_task = invoke("run", "--task", "xor", "--rung", "order-m4", "--out", str(tmp_path / "a"))
    assert wrong_task.exit_code == 2
    assert "--rung applies to --task ladder only" in wrong_task.output
    unknown = invoke("run", "--task", "ladder", "--rung", "foo", "--out", str(tmp_path / "b"))
    assert unknown.exit_code == 2 and "unknown ladder rung 'foo'" in unknown.output
    assert "Traceback" not in wrong_task.output + unknown.output
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_threads_option_reaches_the_cells(tmp_path: Path, monkeypatch) -> None:
    import synergy_lab.runs as runs

    seen: dict = {}

    def fake_run_cells(config, out_dir, **kwargs):
        seen.update(kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(runs, "run_cells", fake_run_cells)
    result = invoke("run", "--threads", "2", "--jobs", "1", "--out", str(tmp_path / "r"))
    assert result.exit_code == 130, result.output
    assert seen["threads"] == 2 and seen["jobs"] == 1


@pytest.mark.parametrize("preset", ["cpu", "paper"])
def test_cli_preset_and_preset_run_config_give_the_same_cells(
    tmp_path: Path, monkeypatch, preset: str
) -> None:
    """Notebook 02 builds its runs with preset_run_config: the CLI must find the same cells."""
    import synergy_lab.runs as runs
    from synergy_lab.presets import preset_run_config
    from synergy_lab.runs.cells import settings_hash, settings_of

    seen: dict = {}

    def fake_run_cells(config, out_dir, **kwargs):
        seen["config"] = config
        raise KeyboardInterrupt

    monkeypatch.setattr(runs, "run_cells", fake_run_cells)
    result = invoke("run", "--preset", preset, "--out", str(tmp_path / "r"))
    assert result.exit_code == 130, result.output
    built = preset_run_config(preset)
    assert seen["config"].methods == built.methods and seen["config"].seeds == built.seeds
    assert settings_hash(settings_of(seen["config"])) == settings_hash(settings_of(built))


def test_preset_lays_settings_under_the_config_file_and_the_options(tmp_path: Path):
    file = tmp_path / "mine.toml"
    file.write_text("[model]\ndim = 16\n")
    out = tmp_path / "run"
    result = invoke(
        "run", "--preset", "cpu", "--samples", "300", "--epochs", "1", "--seeds", "1",
        "--methods", "random", "--no-baselines", "--no-progress", "--config", str(file),
        "--out", str(out),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    config = json.loads((out / "config.json").read_text())["config"]
    assert config["task"] == "trifeature"
    assert config["task_config"]["trifeature_protocol"] == "paper"
    assert config["task_config"]["image_size"] == 32 and config["task_config"]["n_samples"] == 300
    assert config["model"]["image_grid"] == 6 and config["model"]["image_positions"] == "sincos"
    assert config["model"]["dim"] == 16  # the file overrides the preset
    assert config["train"]["epochs"] == 1 and config["train"]["batch_size"] == 64
    infmasking = config["method"]["infmasking"]
    assert infmasking["num_masks"] == 6 and infmasking["mask_ramp"] == 1.0
    assert config["augment"]["image_preset"] == "paper"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--preset", "gpu"], "unknown preset 'gpu'; valid presets: paper, cpu"),
        (["--preset", "cpu", "--task", "xor"], "--preset cpu is for task 'trifeature'"),
    ],
)
def test_bad_preset_is_one_clear_line(tmp_path: Path, args: list[str], message: str):
    result = invoke("run", *args, "--out", str(tmp_path / "run"))
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_readme_first_commands_say_their_steps_and_match_ci():
    root = Path(__file__).resolve().parents[1]
    readme = (root / "README.md").read_text()
    above, block = readme.split("```bash\n", 1)
    install_and_job, tests = block.split("```", 1)[0].strip().splitlines()
    install, job = install_and_job.split(" && ")
    assert install.startswith("pip install") and job.startswith("synergy-lab run")
    intro = " ".join(above.split("\n\n")[-2].split())  # the paragraph just above the block
    assert "two steps" in intro and "installs the toolkit, then starts the main job" in intro
    ci = (root / ".ci" / "run").read_text().splitlines()
    assert install in ci and tests in ci  # CI runs the install alone, then the same tests


def test_select_lr_chooses_first_says_its_cost_and_writes_its_section(tmp_path: Path):
    out = tmp_path / "run"
    args = ["run", "--quick", "--methods", "clip", "--seeds", "1", "--no-baselines"]
    result = invoke(
        *args, "--select", "lr", "--set", "select.lrs=[1e-3, 3e-3]", "--set", "select.seeds=1",
        "--no-progress", "--jobs", "1", "--out", str(out),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "= 2 extra trainings" in result.output
    assert "## Selection (learning rate)" in result.output
    assert json.loads((out / "selection.json").read_text())["trainings"] == 2
    assert "## Selection (learning rate)" in (out / "summary.md").read_text()


def test_select_cannot_go_with_a_sweep(tmp_path: Path):
    file = tmp_path / "grid.toml"
    file.write_text('[select]\nwhat = "lr"\n[grid]\n"train.epochs" = [1, 2]\n')
    result = invoke("sweep", str(file), "--out", str(tmp_path / "r"))
    assert result.exit_code == 2, result.output
    assert "cannot go with a sweep" in result.output and "Traceback" not in result.output
