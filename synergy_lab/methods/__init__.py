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

# METHODS: dict[str, type[Method]] is filled in as the method modules land.
METHODS: dict[str, type[Method]] = {}

__all__ = ["METHODS", "Batch", "LossOutput", "Method", "MethodConfig", "MethodContext"]
