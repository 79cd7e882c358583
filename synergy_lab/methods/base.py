"""The one interface every method implements, so that one trainer treats all alike.

A method is an ``nn.Module`` (it may own extra parameters: critics, a classifier head) built as
``Method(settings, context)`` from its own frozen settings dataclass (declared and checked in the
method's file, named by ``Method.settings_class``), called as ``method(batch, model)`` and
returning a :class:`LossOutput`. Its representation for probing is
``method.represent(model, x1, x2)``; by default the fused CLS output of the shared model.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from torch import Tensor, nn

from synergy_lab.models import FusionModel

Augment = Callable[[Tensor, Tensor], tuple[Tensor, Tensor]]


def identity_augment(x1: Tensor, x2: Tensor) -> tuple[Tensor, Tensor]:
    return x1, x2


def check_settings(settings: object, expected: type, method: str) -> None:
    """One clear ValueError unless ``settings`` is an instance of the method's settings class."""
    if not isinstance(settings, expected):
        raise ValueError(
            f"{method} takes {expected.__name__} settings; got {type(settings).__name__}"
        )


def check_temperature(value: float, owner: str) -> None:
    """Every InfoNCE temperature must be > 0 (one line naming the method's settings)."""
    if not value > 0:
        raise ValueError(f"{owner}.temperature must be > 0; got {value}")


@dataclass(frozen=True)
class TemperatureSettings:
    """Settings of a method whose loss is InfoNCE terms at one softmax temperature (tau)."""

    temperature: float = 0.1  # tau of every InfoNCE term

    def __post_init__(self) -> None:
        check_temperature(self.temperature, type(self).__name__)


def check_at_least(owner: str, name: str, value: float, low: float) -> None:
    """``owner.name`` must be >= ``low`` (one line naming the setting)."""
    if not value >= low:
        raise ValueError(f"{owner}.{name} must be >= {low:g}; got {value}")


@dataclass(frozen=True)
class MethodContext:
    """What a method needs to know of the model and data to build its own small parts."""

    dim: int  # width of the fused representation
    projection_dim: int  # width of the model's projection head output
    num_classes: dict[str, int]  # classes of each label (the supervised bound uses one)
    data_kind: str = "vector"  # "vector" or "image"


@dataclass
class Batch:
    """A training batch: both modalities, its labels, and how to draw an augmented view.

    ``augment(x1, x2)`` returns a freshly, independently augmented pair (each modality augmented
    on its own). ``progress`` is the fraction of training done, in [0, 1] (for ramps).
    """

    x1: Tensor
    x2: Tensor
    labels: dict[str, Tensor] = field(default_factory=dict)
    augment: Augment = identity_augment
    progress: float = 0.0

    def view(self) -> tuple[Tensor, Tensor]:
        """One augmented view of the batch."""
        return self.augment(self.x1, self.x2)


@dataclass
class LossOutput:
    """The scalar loss to minimise and its logged parts, for curves.

    A part is a float or a detached 0-d tensor: the trainer turns tensors into floats once per
    log interval (one host transfer for many steps), so a method need not sync every step.
    """

    loss: Tensor
    parts: Mapping[str, float | Tensor] = field(default_factory=dict)


class Method(nn.Module):
    """Base class: subclasses set ``name`` and implement ``forward(batch, model)``."""

    name: str = ""
    #: False for baselines that are not trained (the random network).
    trainable: bool = True
    #: The frozen dataclass of this method's settings (``[method.<name>]`` in a config file).
    settings_class: ClassVar[type]

    def forward(self, batch: Batch, model: FusionModel) -> LossOutput:  # pragma: no cover
        raise NotImplementedError

    def represent(self, model: FusionModel, x1: Tensor, x2: Tensor) -> Tensor:
        """Representation (B, D) that probes read; the fused CLS output by default."""
        return model(x1, x2)

    def build(self, model: FusionModel) -> None:
        """Create parameters shaped after the model (e.g. second encoders); none by default.

        The trainer calls it once, after construction and before the optimiser is made.
        """
        return None

    def inner_step(self, batch: Batch, model: FusionModel) -> None:
        """Optional work before the main step (e.g. fitting CLUB critics); none by default."""
        return None

    def training_state(self) -> dict[str, Any]:
        """What training keeps outside the parameters (e.g. an inner optimiser's moments), for a
        resumed training to continue exactly; none by default."""
        return {}

    def load_training_state(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`training_state` returned."""
        return None
