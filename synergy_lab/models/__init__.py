"""Encoders and the fusion transformer shared by every method."""

from synergy_lab.models.fusion import FusionModel, ModelConfig

__all__ = ["FusionModel", "ModelConfig"]
