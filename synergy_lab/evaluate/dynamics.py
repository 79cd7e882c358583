"""Probe curves during training: a ``train(on_epoch=...)`` hook that probes each label."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

from synergy_lab.evaluate.probes import ProbeConfig, fit_probe
from synergy_lab.measure import usable_bits
from synergy_lab.train import TrainedModel
from synthetic import MultimodalDataset


def dynamics_hook(
    dataset: MultimodalDataset,
    probe: ProbeConfig | None,
    *,
    every: int,
    seed: int,
    rows: list[dict[str, Any]],
    subsample: int = 1000,
    l2: float = 1e-3,
    max_iter: int = 100,
) -> Callable[[int, TrainedModel], None]:
    """A ``train(on_epoch=...)`` hook: every ``every`` epochs, probe each label on a subsample.

    The subsample (``subsample`` fit and test samples, drawn once with ``seed``) is the same at
    every epoch, so the curve moves only with the representation. To keep the overhead small the
    probe uses one fixed L2 strength ``l2`` (no selection) and ``max_iter`` iterations; its
    numbers are a curve's shape, the final evaluation is the cell's result. Appends one dict per
    label (epoch, label, accuracy, usable_bits in bits) to ``rows``.
    """
    if every < 1:
        raise ValueError(f"every must be >= 1; got {every}")
    probe = dataclasses.replace(
        probe or ProbeConfig(), l2_grid=(l2,), max_iter=max_iter, calibrate=False
    )
    rng = np.random.default_rng(seed + 7919)
    fit = dataset.split(dataset.probe_split)
    fit = fit.subset(np.sort(rng.permutation(len(fit))[:subsample]))
    test = dataset.test.subset(np.sort(rng.permutation(len(dataset.test))[:subsample]))

    def hook(epoch: int, trained: TrainedModel) -> None:
        final = epoch == trained.train_config.epochs
        if epoch % every and not final:
            return
        z_fit = trained.represent(fit.x1, fit.x2)
        z_test = trained.represent(test.x1, test.x2)
        for label in dataset.label_names:
            result = fit_probe(
                z_fit,
                fit.labels[label],
                z_test,
                test.labels[label],
                probe,
                seed=seed,
                device=trained.device,
                classes=dataset.num_classes[label],
            )
            usable = usable_bits(result.probabilities, test.labels[label], result.prior)
            rows.append(
                {"epoch": epoch, "label": label, "accuracy": result.accuracy, "usable_bits": usable}
            )

    return hook
