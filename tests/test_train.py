"""The trainer: determinism, the random bound, checkpoints, schedule, NaN guard, bad settings."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from synergy_lab.methods import METHODS, Batch, LossOutput, Method, MethodContext
from synergy_lab.methods.supervised import SupervisedSettings
from synergy_lab.methods.untrained import UntrainedSettings
from synergy_lab.models import FusionModel, ModelConfig
from synergy_lab.train import TrainConfig, TrainedModel, lr_factor, resolve_device, train
from synthetic import MultimodalDataset, from_arrays

TINY = ModelConfig(
    dim=8, depth=1, heads=2, vector_tokens=2, encoder_hidden=16, cnn_channels=4, projection_dim=6
)
FAST = TrainConfig(epochs=1, batch_size=16, progress=False, device="cpu", seed=3)


pytestmark = pytest.mark.usefixtures("one_thread")


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
