"""The Python API: train, evaluate and run on tasks and on a user's own arrays."""

import dataclasses

import numpy as np
import pandas as pd
import pytest
import torch

import synthetic
from synergy_lab.config import RunConfig
from synergy_lab.evaluate import ProbeConfig, evaluate
from synergy_lab.runs import run_experiment
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
        methods=("clip",),
        seeds=(0,),
        baselines=False,
        train=TrainConfig(budget="fixed", epochs=1, progress=False),
    )
    frame = run_experiment(config, tmp_path, dataset=data)
    cells = frame[["method", "seed", "label"]].drop_duplicates().to_numpy().tolist()
    assert cells == [["clip", 0, "y"]]
    assert set(frame["task"]) == {"custom"}
    assert (tmp_path / "results.csv").is_file()


# ---- issue 11: usable bits, intervals, the supervised reference, dynamics

XOR_SMALL = synthetic.TaskConfig(n_samples=3000)


def test_usable_bits_near_zero_for_a_representation_without_the_label():
    # the untrained network's features with the S labels of the fit split shuffled: nothing a
    # probe can use, so usable bits must sit at 0, not above it (3 seeds)
    from synergy_lab.evaluate import evaluate_representations

    values = []
    for seed in (0, 1, 2):
        data = synthetic.make_dataset("xor", XOR_SMALL, seed=seed)
        trained = train("random", data, train_config=TrainConfig(progress=False, seed=seed))
        rng = np.random.default_rng(seed)
        shuffled = {k: rng.permutation(v) for k, v in data.train.labels.items()}
        data = dataclasses.replace(data, train=dataclasses.replace(data.train, labels=shuffled))
        table = evaluate_representations(
            trained.represent(data.train.x1, data.train.x2),
            trained.represent(data.test.x1, data.test.x2),
            data,
            seed=seed,
            bootstrap=200,
        ).set_index("label")
        values.append(table.loc["S", "usable_bits"])
        assert table.loc["S", "usable_bits_low"] <= 0 <= table.loc["S", "usable_bits_high"] + 0.01
    assert abs(np.mean(values)) < 0.03, values


def test_supervised_reference_reaches_the_synergy_on_xor(tmp_path):
    config = RunConfig(
        methods=("supervised",),
        seeds=(0,),
        baselines=False,
        task_config=XOR_SMALL,
        train=TrainConfig(budget="fixed", epochs=10, progress=False),
        bootstrap=200,
    ).with_method("supervised", label="S")  # the reference of S alone (the default is "all")
    frame = run_experiment(config, tmp_path)
    s = frame.set_index("label").loc["S"]
    assert s.usable_bits >= 0.9, s.usable_bits  # of the 1 bit of I(X1, X2; S)
    assert s.captured == pytest.approx(s.usable_bits, abs=1e-9)  # ground truth: 1 bit
    assert s.accuracy_low <= s.probe_accuracy <= s.accuracy_high
    assert s.n_test == 450  # 15 % of 3,000


def test_train_on_another_split_and_a_hook_that_changes_nothing():
    data = synthetic.make_dataset("xor", synthetic.TaskConfig(n_samples=600), seed=0)
    config = TrainConfig(budget="fixed", epochs=2, batch_size=64, progress=False)
    plain = train("clip", data, train_config=config)
    calls = []

    def hook(epoch, model):
        calls.append(epoch)
        model.represent(data.test.x1, data.test.x2)
        torch.manual_seed(123)  # a hook that reseeds must not change the training run

    hooked = train("clip", data, train_config=config, on_epoch=hook)
    assert calls == [0, 1, 2]
    assert [c["loss"] for c in hooked.loss_curve] == [c["loss"] for c in plain.loss_curve]
    on_val = train("clip", data, train_config=dataclasses.replace(config, split="val"))
    assert len(on_val.loss_curve) == 2 * (len(data.val) // 64)
    with pytest.raises(ValueError, match="never 'test'"):
        TrainConfig(split="test")


def test_probe_every_writes_dynamics_and_supervised_trains_on_the_probe_split(tmp_path):
    data = synthetic.make_dataset("xor", synthetic.TaskConfig(n_samples=600), seed=0)
    data = dataclasses.replace(data, probe_split="val")  # as a biased-train task says
    config = RunConfig(
        methods=("clip", "supervised"),
        seeds=(0,),
        baselines=False,
        train=TrainConfig(budget="fixed", epochs=3, batch_size=30, progress=False),
        probe=ProbeConfig(l2_grid=(1e-3,), max_iter=30),
        probe_every=2,
        bootstrap=100,
    )
    run_experiment(config, tmp_path, dataset=data)
    curves = pd.read_csv(tmp_path / "curves.csv")
    steps = curves[curves.part == "loss"].groupby("method")["step"].count()
    assert steps["supervised"] == 3 * (len(data.val) // 30)  # the probe split, not train
    assert steps["clip"] == 3 * (len(data.train) // 30)
    from synergy_lab.results import read_dynamics

    dynamics = read_dynamics(tmp_path / "dynamics.csv")
    assert sorted(dynamics["epoch"].unique()) == [0, 2, 3]  # every 2 epochs, and the last
    assert set(dynamics["label"]) == set(data.label_names)
    assert dynamics["accuracy"].between(0, 1).all()
