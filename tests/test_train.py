"""The trainer: determinism, the random bound, checkpoints, schedule, NaN guard, bad settings."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

from synergy_lab.methods import METHODS, Batch, LossOutput, Method, MethodContext
from synergy_lab.methods.supervised import SupervisedSettings
from synergy_lab.methods.untrained import UntrainedSettings
from synergy_lab.models import FusionModel, ModelConfig
from synergy_lab.train import (
    TrainConfig,
    TrainedModel,
    checks_without_improvement,
    cooldown_factor,
    lr_factor,
    read_progress,
    resolve_device,
    train,
)
from synthetic import MultimodalDataset, from_arrays

TINY = ModelConfig(
    dim=8, depth=1, heads=2, vector_tokens=2, encoder_hidden=16, cnn_channels=4, projection_dim=6
)
FAST = TrainConfig(epochs=1, batch_size=16, progress=False, device="cpu", seed=3, budget="fixed")
# the converged budget on xor_like: 5 of the 51 training rows held out, 46 // 16 = 2 steps/epoch
CONVERGE = dataclasses.replace(
    FAST, budget="converged", eval_every=2, max_epochs=3, cooldown_fraction=0.0
)


def xor_like(n: int = 64, seed: int = 0) -> MultimodalDataset:
    """Tiny bimodal vectors: x1 carries bits (r, s1), x2 carries (r, s2); S = s1 xor s2."""
    rng = np.random.default_rng(seed)
    r, s1, s2 = (rng.integers(0, 2, n) for _ in range(3))
    x1 = np.stack([r, s1, r * s1], 1) + 0.1 * rng.normal(size=(n, 3))
    x2 = np.stack([r, s2], 1) + 0.1 * rng.normal(size=(n, 2))
    return from_arrays(x1, x2, {"R": r, "S": s1 ^ s2}, val_fraction=0.1, test_fraction=0.1)


def tiny_images(n: int = 24) -> MultimodalDataset:
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 1, size=(n, 3, 8, 8))
    return from_arrays(x, x[:, :, ::-1], {"R": rng.integers(0, 2, n)})


@pytest.mark.parametrize("method", ["comm", "crossself"])
def test_same_seed_gives_identical_losses_and_representations(method: str) -> None:
    data = xor_like()
    a = train(method, data, FAST, TINY)
    b = train(method, data, FAST, TINY)
    c = train(method, data, dataclasses.replace(FAST, seed=4), TINY)
    assert len(a.loss_curve) == 3  # 51 training samples // 16
    assert a.loss_curve == b.loss_curve
    za, zb = (t.represent(data.test.x1, data.test.x2) for t in (a, b))
    np.testing.assert_array_equal(za, zb)
    assert a.loss_curve[0]["loss"] != c.loss_curve[0]["loss"]


def test_training_changes_weights_and_logs_every_step() -> None:
    data = xor_like()
    config = dataclasses.replace(FAST, epochs=2)
    trained = train("clip", data, config, TINY)
    torch.manual_seed(config.seed)
    initial = FusionModel(data.input_shapes, TINY).state_dict()
    weights = trained.model.state_dict()
    assert not torch.equal(weights["encoders.0.net.0.weight"], initial["encoders.0.net.0.weight"])
    steps = [entry["step"] for entry in trained.loss_curve]
    assert steps == list(range(6))
    assert [entry["epoch"] for entry in trained.loss_curve] == [0, 0, 0, 1, 1, 1]
    assert all(math.isfinite(entry["loss"]) for entry in trained.loss_curve)
    assert trained.train_seconds > 0
    assert trained.device == torch.device("cpu")
    assert not trained.model.training


def test_random_bound_keeps_the_initial_weights() -> None:
    data = xor_like()
    trained = train("random", data, FAST, TINY)
    torch.manual_seed(FAST.seed)
    initial = FusionModel(data.input_shapes, TINY).state_dict()
    for key, value in trained.model.state_dict().items():
        assert torch.equal(value, initial[key]), key
    assert trained.loss_curve == []
    z = trained.represent(data.test.x1, data.test.x2)
    assert z.shape == (len(data.test), TINY.dim) and z.dtype == np.float32


def test_represent_is_batched_and_matches_one_big_batch() -> None:
    data = xor_like()
    trained = train("clip", data, FAST, TINY)
    whole = trained.represent(data.train.x1, data.train.x2, batch_size=1000)
    pieces = trained.represent(data.train.x1, data.train.x2, batch_size=7)
    np.testing.assert_allclose(pieces, whole, rtol=1e-5, atol=1e-6)
    assert whole.shape == (len(data.train), 2 * TINY.dim)
    with pytest.raises(ValueError, match="x2"):
        trained.represent(data.train.x1, data.train.x1)


def test_checkpoint_round_trip(tmp_path: Path) -> None:
    data = xor_like()
    path = tmp_path / "ckpt" / "model.pt"
    config = dataclasses.replace(FAST, checkpoint=str(path))
    trained = train("supervised", data, config, TINY, SupervisedSettings(label="S"))
    assert path.exists()
    loaded = TrainedModel.load(path, device="cpu")
    assert loaded.method_name == "supervised"
    assert loaded.train_config == config and loaded.model_config == TINY
    assert loaded.method_config == SupervisedSettings(label="S")
    assert loaded.loss_curve == trained.loss_curve
    assert loaded.input_shapes == data.input_shapes
    np.testing.assert_array_equal(
        loaded.represent(data.test.x1, data.test.x2), trained.represent(data.test.x1, data.test.x2)
    )
    for key, value in trained.method.state_dict().items():
        assert torch.equal(value, loaded.method.state_dict()[key])


def test_trainer_runs_on_images() -> None:
    data = tiny_images()
    trained = train("comm", data, dataclasses.replace(FAST, batch_size=8), TINY)
    assert len(trained.loss_curve) == 2
    z = trained.represent(data.test.x1, data.test.x2)
    assert z.shape == (len(data.test), TINY.dim) and np.all(np.isfinite(z))


class _Probe(Method):
    """Records what the trainer hands a method: progress and inner-step order."""

    name = "probe"
    events: list[tuple[str, float]] = []

    settings_class = UntrainedSettings

    def __init__(self, config: UntrainedSettings, context: MethodContext) -> None:
        super().__init__()
        self.scale = torch.nn.Parameter(torch.ones(()))

    def inner_step(self, batch: Batch, model: FusionModel) -> None:
        self.events.append(("inner", batch.progress))

    def forward(self, batch: Batch, model: FusionModel) -> LossOutput:
        self.events.append(("main", batch.progress))
        return LossOutput(loss=(self.scale * model(*batch.view())).pow(2).mean())


class _NaN(Method):
    name = "nan"

    settings_class = UntrainedSettings

    def __init__(self, config: UntrainedSettings, context: MethodContext) -> None:
        super().__init__()

    def forward(self, batch: Batch, model: FusionModel) -> LossOutput:
        return LossOutput(loss=model(batch.x1, batch.x2).sum() * float("nan"))


def test_inner_step_precedes_each_step_and_progress_counts_steps(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(METHODS, "probe", _Probe)
    _Probe.events = []
    train("probe", xor_like(), dataclasses.replace(FAST, epochs=2), TINY)
    assert [kind for kind, _ in _Probe.events] == ["inner", "main"] * 6
    assert [p for kind, p in _Probe.events if kind == "main"] == pytest.approx(
        [i / 6 for i in range(6)]
    )


def test_nan_loss_stops_training_with_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(METHODS, "nan", _NaN)
    with pytest.raises(FloatingPointError, match="nan.*step 0"):
        train("nan", xor_like(), FAST, TINY)


def test_lr_schedule_warms_up_then_decays_to_zero() -> None:
    factors = [lr_factor(s, 100, 10, cosine=True) for s in range(100)]
    assert factors[:10] == pytest.approx([(s + 1) / 10 for s in range(10)])
    assert factors[10] == pytest.approx(1.0)
    assert factors[55] == pytest.approx(0.5, abs=0.02)
    assert factors[-1] == pytest.approx(0.0, abs=1e-3)
    assert all(a >= b for a, b in zip(factors[10:], factors[11:], strict=False))
    assert lr_factor(50, 100, 10, cosine=False) == 1.0
    assert lr_factor(0, 100, 0, cosine=True) == 1.0


def test_resolve_device() -> None:
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(ValueError, match="device"):
        resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            resolve_device("cuda")


def test_bad_arguments_are_rejected() -> None:
    with pytest.raises(ValueError, match="unknown method 'foo'"):
        train("foo", xor_like(), FAST, TINY)
    for kwargs, name in [
        ({"epochs": -1}, "epochs"),
        ({"batch_size": 1}, "batch_size"),
        ({"lr": 0.0}, "lr"),
        ({"weight_decay": -1.0}, "weight_decay"),
        ({"warmup_fraction": 1.0}, "warmup_fraction"),
        ({"max_grad_norm": -1.0}, "max_grad_norm"),
        ({"device": "gpu"}, "device"),
        ({"budget": "auto"}, "budget"),
        ({"val_fraction": 0.0}, "val_fraction"),
        ({"eval_every": 0}, "eval_every"),
        ({"tol": -0.1}, "tol"),
        ({"patience": 0}, "patience"),
        ({"max_epochs": 0}, "max_epochs"),
        ({"cooldown_fraction": 1.5}, "cooldown_fraction"),
    ]:
        with pytest.raises(ValueError, match=name):
            TrainConfig(**kwargs)  # type: ignore[arg-type]


class _LateNaN(Method):
    """Finite losses (a tensor part and a float part) until progress ``nan_from``, then NaN."""

    name = "late_nan"
    nan_from = 2.0
    settings_class = UntrainedSettings

    def __init__(self, config: UntrainedSettings, context: MethodContext) -> None:
        super().__init__()

    def forward(self, batch: Batch, model: FusionModel) -> LossOutput:
        loss = model(batch.x1, batch.x2).square().mean()
        if batch.progress >= self.nan_from:
            loss = loss * float("nan")
        return LossOutput(loss=loss, parts={"twice": 2 * loss.detach(), "fixed": 1.5})


def test_curve_holds_floats_and_a_late_nan_names_its_step(monkeypatch: pytest.MonkeyPatch) -> None:
    # logged parts may be tensors: the curve gets plain floats; the NaN guard runs per log
    # interval and still names the first non-finite step (here 12 of 24, past one interval)
    monkeypatch.setitem(METHODS, "late_nan", _LateNaN)
    config = dataclasses.replace(FAST, epochs=2, batch_size=2)
    data = xor_like(30)  # 24 training samples: 12 steps per epoch
    curve = train("late_nan", data, config, TINY).loss_curve
    assert len(curve) == 24
    assert {type(row[k]) for row in curve for k in ("loss", "twice", "fixed", "lr")} == {float}
    assert all(row["twice"] == pytest.approx(2 * row["loss"]) for row in curve)
    monkeypatch.setattr(_LateNaN, "nan_from", 0.5)
    with pytest.raises(FloatingPointError, match="nan at step 12 "):
        train("late_nan", data, config, TINY)


def test_checks_without_improvement_counts_checks_since_a_relative_drop() -> None:
    assert checks_without_improvement([], 0.1) == 0
    assert checks_without_improvement([5.0], 0.1) == 0
    # best 10 -> 8.9 (a drop of 11 % >= 10 %); 8.2 is 7.9 % below 8.9: no improvement
    assert checks_without_improvement([10.0, 8.9, 8.2, 8.5], 0.1) == 2
    assert checks_without_improvement([10.0, 8.9, 8.2, 8.0], 0.1) == 0  # 8.0 < 8.9 - 0.89
    assert checks_without_improvement([1.0, 1.0, 1.0], 0.0) == 2  # equal is not lower
    # negative losses: relative to |best|
    assert checks_without_improvement([-1.0, -1.05, -1.2], 0.1) == 0
    assert checks_without_improvement([-1.0, -1.05], 0.1) == 1


def test_fixed_budget_ignores_the_converged_settings() -> None:
    data = xor_like()
    a = train("clip", data, FAST, TINY)
    b = train("clip", data, dataclasses.replace(FAST, tol=0.5, patience=1, eval_every=1), TINY)
    assert a.loss_curve == b.loss_curve
    assert (a.stop_reason, a.steps_trained, a.best_step, a.val_curve) == ("fixed", 3, 3, [])


def test_converged_budget_stops_on_a_plateau_and_returns_the_best_weights() -> None:
    data = xor_like()
    # tol = 0: any lower loss improves; patience 1 stops at the first check that does not
    stopped = train(
        "clip", data, dataclasses.replace(CONVERGE, max_epochs=50, patience=1, tol=0.0), TINY
    )
    assert stopped.stop_reason == "converged"
    checks = [entry["step"] for entry in stopped.val_curve]
    assert checks == list(range(0, stopped.steps_trained + 1, 2))
    losses = [entry["val_loss"] for entry in stopped.val_curve]
    assert losses[-1] >= losses[-2] and all(
        a > b for a, b in zip(losses[:-2], losses[1:-1], strict=True)
    )
    assert stopped.best_step == checks[-2] > 0
    # the run capped at the best step is the same run (no schedule depends on the cap) and
    # ends on the weights the stopped run restored
    capped = train(
        "clip", data, dataclasses.replace(CONVERGE, max_epochs=stopped.best_step // 2), TINY
    )
    assert capped.stop_reason == "cap" and capped.steps_trained == stopped.best_step
    assert capped.val_curve == stopped.val_curve[:-1]
    assert capped.loss_curve == stopped.loss_curve[: capped.steps_trained]
    np.testing.assert_array_equal(
        capped.represent(data.test.x1, data.test.x2), stopped.represent(data.test.x1, data.test.x2)
    )


def test_held_out_checks_do_not_change_training_or_batch_norm_statistics() -> None:
    data = xor_like()
    seen: dict[int, list[dict[int, dict[str, torch.Tensor]]]] = {1: [], 100: []}

    def keep(every: int) -> Callable[[int, TrainedModel], None]:
        def hook(epoch: int, trained: TrainedModel) -> None:
            state = trained.model.state_dict()
            seen[every].append({epoch: {k: v.clone() for k, v in state.items()}})

        return hook

    runs = {
        every: train(
            "clip",
            data,
            dataclasses.replace(CONVERGE, eval_every=every, patience=100),
            TINY,
            on_epoch=keep(every),
        )
        for every in (1, 100)
    }
    assert len(runs[1].val_curve) == 7 and len(runs[100].val_curve) == 2  # steps 0..6 / 0, 6
    assert runs[1].loss_curve == runs[100].loss_curve
    assert any("running_mean" in k for k in seen[1][-1][3])  # batch norm in the projection head
    for a, b in zip(seen[1], seen[100], strict=True):
        ((epoch, state_a),) = a.items()
        for key, value in state_a.items():
            assert torch.equal(value, b[epoch][key]), (epoch, key)
    # the check is fixed: the same weights give the same held-out loss in both runs
    assert runs[1].val_curve[0] == runs[100].val_curve[0]
    assert runs[1].val_curve[-1] == runs[100].val_curve[-1]


def test_converged_budget_holds_progress_and_lr_after_the_horizon(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(METHODS, "probe", _Probe)
    _Probe.events = []
    config = dataclasses.replace(
        CONVERGE, epochs=2, warmup_fraction=0.5, eval_every=100, patience=100, lr=1e-2
    )
    trained = train("probe", xor_like(), config, TINY)
    # horizon 2 epochs = 4 steps, warm-up 2 steps; the cap (3 epochs) is not a horizon
    main = [p for kind, p in _Probe.events if kind == "main"]
    assert main == pytest.approx([1.0, 0.0, 0.25, 0.5, 0.75, 1.0, 1.0, 1.0])  # checks at 1
    assert [e["lr"] for e in trained.loss_curve] == pytest.approx([5e-3] + [1e-2] * 5)
    assert trained.stop_reason == "cap" and trained.steps_trained == 6


def test_converged_budget_trains_images_and_checkpoints_its_record(tmp_path: Path) -> None:
    data = tiny_images()
    path = tmp_path / "model.pt"
    config = dataclasses.replace(CONVERGE, batch_size=8, eval_every=1, checkpoint=str(path))
    trained = train("comm", data, config, TINY)  # batch norm in the CNN encoders too
    loaded = TrainedModel.load(path)
    assert trained.steps_trained == len(trained.loss_curve) > 0
    for name in ("steps_trained", "stop_reason", "best_step", "val_curve", "train_config"):
        assert getattr(loaded, name) == getattr(trained, name), name
    # a checkpoint from before budgets existed was trained for the fixed budget
    state = torch.load(path, weights_only=True)
    for key in ("steps_trained", "stop_reason", "best_step", "val_curve"):
        del state[key]
    del state["train_config"]["budget"]
    torch.save(state, path)
    old = TrainedModel.load(path)
    assert old.train_config.budget == "fixed" and old.stop_reason == "fixed"
    assert old.steps_trained == len(trained.loss_curve)


def test_cooldown_factor_decays_linearly_to_zero() -> None:
    assert [cooldown_factor(s, 4, 4) for s in range(3, 10)] == [1.0, 1.0, 0.75, 0.5, 0.25, 0, 0]
    assert cooldown_factor(10**6, math.inf, 1) == 1.0  # no decay scheduled
    assert cooldown_factor(5, 5, 0) == 0.0


def test_converged_budget_ends_with_a_linear_decay_after_the_plateau() -> None:
    data = xor_like()
    config = dataclasses.replace(CONVERGE, max_epochs=50, patience=1, cooldown_fraction=0.5)
    plain = train("clip", data, dataclasses.replace(config, cooldown_fraction=0.0), TINY)
    cooled = train("clip", data, config, TINY)
    plateau = plain.steps_trained  # the same run up to the plateau, then 50 % more steps
    assert cooled.stop_reason == "converged" and cooled.steps_trained == plateau + plateau // 2
    assert cooled.loss_curve[:plateau] == plain.loss_curve
    lrs = [entry["lr"] for entry in cooled.loss_curve[plateau:]]
    length = plateau // 2
    assert lrs == pytest.approx([1e-3 * (length - k) / length for k in range(length)])
    checks = [entry["step"] for entry in cooled.val_curve]
    assert checks[-1] == cooled.steps_trained and plateau in checks  # checks go on, no stop
    best = min(cooled.val_curve, key=lambda entry: entry["val_loss"])
    assert cooled.best_step == best["step"]
    # the cap ends the stable phase too, and the decay follows it
    capped = train("clip", data, dataclasses.replace(config, max_epochs=2, patience=100), TINY)
    assert capped.stop_reason == "cap" and capped.steps_trained == 4 + 2


class _Stopped(Exception):
    """The process stops between two epochs, just after a training state was written."""


@pytest.mark.parametrize("method", ["infmasking", "factorcl"])
def test_a_stopped_training_resumes_to_the_same_weights_and_curves(
    method: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import synergy_lab.train as trainer

    data, model = xor_like(), dataclasses.replace(TINY, vector_tokens=4)  # InfMasking keeps 1
    config = dataclasses.replace(CONVERGE, max_epochs=8, patience=3, cooldown_fraction=0.5)
    whole = train(method, data, config, model)
    assert whole.steps_trained > 6  # the stop below falls inside the training
    state, written = tmp_path / "state.pt", []
    real = trainer.atomic_write_with

    def stop_after_the_third_state(path: Path, write: Callable[..., object]) -> None:
        real(path, write)
        written.append(path)
        if len(written) == 3:  # epoch 3 of 2 steps: step 6
            raise _Stopped

    monkeypatch.setattr(trainer, "atomic_write_with", stop_after_the_third_state)
    with pytest.raises(_Stopped):
        train(method, data, config, model, resume=state)
    monkeypatch.undo()
    progress = read_progress(state, config.cooldown_fraction)  # stopped at step 6 of the cap 16
    assert (progress.step, progress.end, progress.end_is_sure) == (6, 16 + 8, False)
    assert list(progress.checks) == [(c["step"], c["val_loss"]) for c in whole.val_curve[:4]]
    resumed = train(method, data, config, model, resume=state)
    assert resumed.loss_curve == whole.loss_curve
    assert resumed.val_curve == whole.val_curve
    done = (resumed.steps_trained, resumed.stop_reason, resumed.best_step)
    assert done == (whole.steps_trained, whole.stop_reason, whole.best_step)
    for a, b in ((whole.model, resumed.model), (whole.method, resumed.method)):
        for (name, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
            assert torch.equal(x, y), name
    # the state of a finished training resumes straight to its end
    again = train(method, data, config, model, resume=state)
    assert again.loss_curve == whole.loss_curve and again.steps_trained == whole.steps_trained
    with pytest.raises(ValueError, match="on_epoch"):
        train(method, data, config, model, on_epoch=lambda e, m: None, resume=state)
