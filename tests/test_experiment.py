"""The Python API: train, evaluate and run on tasks and on a user's own arrays."""

import dataclasses

import numpy as np
import pytest

import synthetic
from synergy_lab.experiment import RunConfig, evaluate, finished_cells, run_experiment
from synergy_lab.train import TrainConfig, train


def test_evaluate_on_user_arrays_uses_the_cluster_estimator():
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 2, 400), rng.integers(0, 2, 400)
    x1 = np.stack([a, rng.normal(size=400)], 1) + 0.05 * rng.normal(size=(400, 2))
    x2 = np.stack([b, rng.normal(size=400)], 1) + 0.05 * rng.normal(size=(400, 2))
    data = synthetic.from_arrays(x1, x2, {"first": a, "xor": a ^ b})
    trained = train("random", data, train_config=TrainConfig(progress=False))
    table = evaluate(trained, data, seed=0, pid_clusters=2)
    assert list(table["label"]) == ["first", "xor"]
    assert table["gt_synergy"].isna().all()  # no ground truth for user data
    first = table.set_index("label").loc["first"]
    # the random network still passes modality 1's bit through: a linear probe reads it
    assert first.probe_accuracy > 0.9
    assert first.pid_unique1 + first.pid_redundancy > 0.7


def test_ground_truth_columns_match_the_task():
    data = synthetic.make_dataset("xor", synthetic.TaskConfig(n_samples=500), seed=0)
    trained = train("random", data, train_config=TrainConfig(progress=False))
    table = evaluate(trained, data).set_index("label")
    assert table.loc["S", "gt_synergy"] == pytest.approx(1.0, abs=1e-6)
    assert table.loc["R", "gt_redundancy"] == pytest.approx(1.0, abs=1e-6)
    assert table.loc["U1", "gt_unique1"] == pytest.approx(1.0, abs=1e-6)
    # parts of the model-level PID are bits of a binary label: within [0, 1]
    parts = table[["pid_redundancy", "pid_unique1", "pid_unique2", "pid_synergy"]]
    assert (parts.to_numpy() >= -1e-9).all() and (parts.sum(axis=1) <= 1 + 1e-6).all()


def test_evaluate_fits_probes_on_the_dataset_probe_split():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, 600)
    x1 = np.stack([y, rng.normal(size=600)], 1) + 0.05 * rng.normal(size=(600, 2))
    data = synthetic.from_arrays(x1, rng.normal(size=(600, 2)), {"y": y}, val_fraction=0.3)
    # scramble the training labels: a probe fitted there learns nothing, one fitted on val does
    scrambled = dataclasses.replace(
        data.train, labels={"y": rng.permutation(data.train.labels["y"])}
    )
    data = dataclasses.replace(data, train=scrambled)
    trained = train("random", data, train_config=TrainConfig(progress=False))
    on_train = evaluate(trained, data, seed=0, pid_clusters=2).probe_accuracy.item()
    on_val = evaluate(
        trained, dataclasses.replace(data, probe_split="val"), seed=0, pid_clusters=2
    ).probe_accuracy.item()
    assert on_train < 0.7 and on_val > 0.9
    with pytest.raises(ValueError, match="never 'test'"):
        dataclasses.replace(data, probe_split="test")


def test_run_config_rejects_unknown_and_repeated_methods():
    with pytest.raises(ValueError, match="unknown method 'nope'"):
        RunConfig(methods=("nope",))
    with pytest.raises(ValueError, match="twice"):
        RunConfig(methods=("clip", "clip"))
    assert RunConfig(methods=("clip",)).all_methods == ("random", "clip", "supervised")


def test_run_experiment_on_a_dataset_object(tmp_path):
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 300)
    data = synthetic.from_arrays(
        rng.normal(size=(300, 4)) + y[:, None], rng.normal(size=(300, 3)), {"y": y}
    )
    config = RunConfig(
        methods=("clip",), seeds=(0,), baselines=False, train=TrainConfig(epochs=1, progress=False)
    )
    frame = run_experiment(config, tmp_path, dataset=data)
    assert finished_cells(frame, ("y",)) == {("clip", 0)}
    assert set(frame["task"]) == {"custom"}
    assert (tmp_path / "results.csv").is_file()
