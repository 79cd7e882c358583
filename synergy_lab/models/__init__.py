"""Encoders and the fusion transformer shared by every method."""

from synergy_lab.models.fusion import AttentionPooling, FusionModel, ModelConfig, ProjectionHead

__all__ = ["AttentionPooling", "FusionModel", "ModelConfig", "ProjectionHead"]
