"""TaskConfig: defaults are valid, bad values are rejected with the field's name."""

import dataclasses

import pytest

from synthetic import TaskConfig


def test_defaults_are_valid_and_documented_sizes() -> None:
    config = TaskConfig()
    assert (config.n_samples, config.dim, config.image_size) == (10_000, 32, 32)
    assert config.bits_r + config.bits_u + config.bits_s <= 6


def test_config_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        TaskConfig().dim = 3  # type: ignore[misc]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("n_samples", 0),
        ("n_samples", -5),
        ("n_samples", 10.5),
        ("n_samples", True),
        ("dim", 0),
        ("hidden", 0),
        ("noise", -0.1),
        ("noise", float("nan")),
        ("noise", float("inf")),
        ("image_size", 4),
        ("image_size", 32.0),
        ("val_fraction", 1.0),
        ("val_fraction", -0.1),
        ("test_fraction", 1.5),
        ("bits_r", 0),
        ("bits_u", -1),
        ("bits_s", 0),
        ("strength_r", 1.5),
        ("strength_s", -0.1),
        ("strength_u1", 2.0),
        ("trifeature_train_synergy_rate", -0.1),
        ("trifeature_train_synergy_rate", 1.1),
        ("trifeature_train_synergy_rate", "0.9"),
        ("trifeature_eval_synergy_rate", 0.0),
        ("trifeature_eval_synergy_rate", 1.0),
        ("trifeature_protocol", "comm"),
        ("trifeature_protocol", None),
        ("trifeature_heldout_fraction", 0.0),
        ("trifeature_heldout_fraction", 0.6),
        ("trifeature_heldout_fraction", float("nan")),
        ("trifeature_heldout_fraction", True),
    ],
)
def test_bad_value_names_the_field(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=field):
        TaskConfig(**{field: value})  # type: ignore[arg-type]


def test_fractions_must_leave_training_data() -> None:
    with pytest.raises(ValueError, match="val_fraction"):
        TaskConfig(val_fraction=0.5, test_fraction=0.5)
    with pytest.raises(ValueError, match="n_samples"):
        TaskConfig(n_samples=2, val_fraction=0.5, test_fraction=0.4)


def test_mix_tables_are_capped_at_64_codes() -> None:
    with pytest.raises(ValueError, match="bits_r"):
        TaskConfig(bits_r=3, bits_u=2, bits_s=2)
    assert TaskConfig(bits_r=1, bits_u=1, bits_s=4).bits_s == 4


def test_trifeature_protocol_and_fraction_errors_are_one_clear_line() -> None:
    with pytest.raises(ValueError) as info:
        TaskConfig(trifeature_protocol="comm")
    assert str(info.value) == (
        "TaskConfig.trifeature_protocol must be one of 'paper', 'single'; got 'comm'"
    )
    with pytest.raises(ValueError) as info:
        TaskConfig(trifeature_heldout_fraction=0.6)
    assert str(info.value) == "TaskConfig.trifeature_heldout_fraction must be in (0, 0.5]; got 0.6"
    config = TaskConfig()
    assert config.trifeature_protocol == "paper" and config.trifeature_heldout_fraction == 0.2
    assert config.trifeature_train_synergy_rate is None
    assert TaskConfig(trifeature_heldout_fraction=0.5).trifeature_heldout_fraction == 0.5
