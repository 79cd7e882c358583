"""Cross + Self: CLIP's cross-modal InfoNCE plus a SimCLR term within each modality.

Two augmented views a, b of the batch; p_i^v is the projected unimodal embedding of modality i
in view v (the shared fusion network on that modality's tokens alone). The loss (nats) is
  L = (NCE(p_1^a, p_2^a) + NCE(p_1^b, p_2^b)) / 2 + NT-Xent(p_1^a, p_1^b) + NT-Xent(p_2^a, p_2^b),
the cross-modal CLIP term summed with unit weight to the within-modality SimCLR terms as in SLIP
(Mu et al., ECCV 2022) and the "Cross+Self" baseline of FactorCL / CoMM. Like CLIP it never fuses
the modalities, so it cannot capture synergy. The probed representation is the concatenation
of the two unimodal fused outputs, (B, 2 * dim).
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor

from synergy_lab.methods.base import (
    Batch,
    LossOutput,
    Method,
    MethodContext,
    TemperatureSettings,
    check_settings,
)
from synergy_lab.methods.clip import concat_unimodal, fuse_unimodal
from synergy_lab.methods.nce import info_nce, nt_xent
from synergy_lab.models import FusionModel


@dataclass(frozen=True)
class CrossSelfSettings(TemperatureSettings):
    """Settings of Cross+Self training ([method.crossself])."""


class CrossSelf(Method):
    """Cross-modal InfoNCE + within-modality NT-Xent, temperature ``settings.temperature``."""

    name = "crossself"
    settings_class = CrossSelfSettings

    def __init__(self, settings: CrossSelfSettings, context: MethodContext) -> None:
        super().__init__()
        check_settings(settings, CrossSelfSettings, self.name)
        self.temperature = settings.temperature

    def forward(self, batch: Batch, model: FusionModel) -> LossOutput:
        tau = self.temperature
        t1a, t2a = model.tokens(*batch.view())
        t1b, t2b = model.tokens(*batch.view())
        fused = fuse_unimodal(model, [t1a, t2a, t1b, t2b])
        p1a, p2a, p1b, p2b = (model.project(h) for h in fused)  # batch norm: one batch each
        cross = (info_nce(p1a, p2a, tau) + info_nce(p1b, p2b, tau)) / 2
        self1 = nt_xent(p1a, p1b, tau)
        self2 = nt_xent(p2a, p2b, tau)
        loss = cross + self1 + self2
        parts = {"cross": cross.detach(), "self1": self1.detach(), "self2": self2.detach()}
        return LossOutput(loss=loss, parts=parts)

    def represent(self, model: FusionModel, x1: Tensor, x2: Tensor) -> Tensor:
        return concat_unimodal(model, x1, x2)
