"""MultimodalDataset.training_groups: validation (one clear error each) and for_group."""

import dataclasses

import numpy as np
import pytest

from synthetic import MultimodalDataset, TrainingGroup, from_arrays


@pytest.fixture(scope="module")
def base() -> MultimodalDataset:
    rng = np.random.default_rng(0)
    labels = {"a": np.arange(40) % 2, "b": np.arange(40) % 3, "c": np.arange(40) % 4}
    return from_arrays(rng.normal(size=(40, 3)), rng.normal(size=(40, 2)), labels)


def _with(base: MultimodalDataset, *groups: tuple[str, tuple[str, ...]]) -> MultimodalDataset:
    other = base.train.subset(np.arange(len(base.train))[::-1])
    return dataclasses.replace(
        base,
        training_groups=tuple(TrainingGroup(name, labels, other) for name, labels in groups),
    )


def test_no_groups_by_default(base) -> None:
    assert base.training_groups == ()


def test_for_group_gives_its_labels_in_dataset_order_and_its_train_split(base) -> None:
    ds = _with(base, ("first", ("c", "a")), ("second", ("b",)))
    view = ds.for_group(ds.training_groups[0])
    assert view.label_names == ("a", "c")  # the dataset's order, not the group's
    assert view.train is ds.training_groups[0].train and view.val is ds.val
    assert view.test is ds.test and view.training_groups == ()
    assert ds.for_group(ds.training_groups[1]).label_names == ("b",)
    stranger = TrainingGroup("third", ("a",), ds.train)
    with pytest.raises(ValueError, match="'third' is not a training group"):
        ds.for_group(stranger)


@pytest.mark.parametrize(
    ("groups", "message"),
    [
        ((("g1", ("a", "b", "z")), ("g2", ("c",))), "unknown label 'z'"),
        ((("g1", ("a", "b")), ("g2", ("b", "c"))), "label 'b' is in two training groups"),
        ((("g1", ("a",)), ("g2", ("c",))), "label\\(s\\) 'b' are in no training group"),
        ((("g 1", ("a", "b")), ("g2", ("c",))), "name 'g 1' must be letters"),
        ((("", ("a", "b")), ("g2", ("c",))), "name '' must be letters"),
        ((("g1", ("a", "b")), ("g1", ("c",))), "name 'g1' is used twice"),
    ],
)
def test_bad_groups_are_rejected_with_one_clear_error(base, groups, message) -> None:
    with pytest.raises(ValueError, match=message) as info:
        _with(base, *groups)
    assert "\n" not in str(info.value)


def test_group_train_inputs_must_match_the_dataset(base) -> None:
    split = base.train
    narrow = dataclasses.replace(split, x1=split.x1[:, :2])
    with pytest.raises(ValueError, match="training group 'g' has inputs of shapes"):
        dataclasses.replace(base, training_groups=(TrainingGroup("g", ("a", "b", "c"), narrow),))
