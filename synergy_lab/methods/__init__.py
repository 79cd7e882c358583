"""Methods as losses over the shared model, registered by name.

Adding a method: one new module with a :class:`Method` subclass whose constructor takes
``(config: MethodConfig, context: MethodContext)``, and one line in ``METHODS``.
"""

from __future__ import annotations

from synergy_lab.methods.base import (
    Batch,
    LossOutput,
    Method,
    MethodConfig,
    MethodContext,
)
from synergy_lab.methods.clip import CLIP
from synergy_lab.methods.comm import CoMM
from synergy_lab.methods.coral import COrAL
from synergy_lab.methods.crossself import CrossSelf
from synergy_lab.methods.factorcl import FactorCL
from synergy_lab.methods.infmasking import InfMasking
from synergy_lab.methods.supervised import Supervised
from synergy_lab.methods.untrained import Untrained

# Registry by name: the lower bound, the baselines, the synergy-seeking methods, the upper bound.
METHODS: dict[str, type[Method]] = {
    "random": Untrained,
    "clip": CLIP,
    "crossself": CrossSelf,
    "comm": CoMM,
    "infmasking": InfMasking,
    "coral": COrAL,
    "factorcl": FactorCL,
    "supervised": Supervised,
}

__all__ = ["METHODS", "Batch", "LossOutput", "Method", "MethodConfig", "MethodContext"]
