"""FactorCL-SSL: factorised shared and unique representations from MI lower and upper bounds.

Liang, Deng, Ma, Zou, Morency, Salakhutdinov, "Factorized Contrastive Learning: Going Beyond
Multi-view Redundancy" (NeurIPS 2023), self-supervised variant: augmented views X1', X2' stand in
for the task Y. Every term below is in nats and has its own projection heads and critic:

    S   = I_NCE(X1; X2) - I_CLUB(X1; X2 | X1', X2')                       (shared)
    U_i = I_NCE(X_i; X_i') - I_CLUB(X1; X2) + I_NCE(X1; X2 | X1', X2')    (unique, i = 1, 2)
    loss = -(S + U_1 + U_2)

as in the paper's algorithm (L = -(S + U1 + U2)): the two bounds common to U_1 and U_2 are
estimated once and so enter with weight 2 (the authors' public code sums the six bounds once
each). I_NCE is the InfoNCE lower bound (van den Oord et al., 2018); I_CLUB is the paper's
NCE-CLUB upper bound E_p(a,b)[f*] - E_p(a)p(b)[f*] (CLUB, Cheng et al., ICML 2020) with the critic
f* fitted by maximising its own InfoNCE. Conditional bounds see each view's head output
concatenated with that of its augmentation: [h(x1), h(x1')] against [h(x2), h(x2')]. X is the
clean batch and X' one augmented view of it (``batch.view()``), as in the authors' SSL code.

Architecture: the paper speaks of separate shared and unique encoders; the authors' code
realises them as one backbone per modality with a head per bound, which is what is built here.
The backbone is the shared model's unimodal fused output ``model.fuse(t_i only)`` (B, dim), each
head a two-layer MLP on it; the heads of S's bounds form the shared factor Z_Si, those of U_i's
bounds the unique factor Z_Ui; ``represent`` returns [Z_S1, Z_S2, Z_U1, Z_U2], (B, 10 P) with
P = projection_dim. Critics are separable, f(a, b) = g(a) . h(b) with MLPs g and h (as in CPC,
and among the public code's critics), so all B^2 pair scores are one matrix product; the
public code's concatenation critics, an MLP over [a; b], cost B^2 * hidden^2 per bound and made
one step take seconds on a CPU. This is the one architectural deviation.
The two CLUB critics are trained only in ``inner_step`` (``critic_steps`` Adam steps at
``critic_lr`` per batch, on detached embeddings); the main loss uses them with frozen weights.
FactorCL has no temperature: the critics' scores carry their own scale.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn
from torch.func import functional_call

from synergy_lab.methods.base import (
    Batch,
    LossOutput,
    Method,
    MethodContext,
    check_at_least,
    check_settings,
)
from synergy_lab.methods.clip import unimodal_fused
from synergy_lab.models import FusionModel

#: Every bound: its name, whether it is a CLUB upper bound, and whether it is conditional.
BOUNDS: dict[str, tuple[bool, bool]] = {
    "shared_nce": (False, False),  # I_NCE(X1; X2)
    "shared_club": (True, True),  # I_CLUB(X1; X2 | X1', X2')
    "unique_nce_1": (False, False),  # I_NCE(X1; X1')
    "unique_nce_2": (False, False),  # I_NCE(X2; X2')
    "unique_club": (True, False),  # I_CLUB(X1; X2)
    "unique_cond": (False, True),  # I_NCE(X1; X2 | X1', X2')
}
#: Heads per modality whose outputs form the factors (order of ``represent``).
SHARED_HEADS = ("shared_nce", "shared_club")
UNIQUE_HEADS = ("unique_nce", "unique_club", "unique_cond")


@dataclass(frozen=True)
class FactorCLSettings:
    """Settings of FactorCL ([method.factorcl]); its heads are dim -> dim -> projection_dim."""

    critic_steps: int = 1  # optimiser steps of the CLUB critics per batch
    critic_lr: float = 1e-3  # learning rate of the CLUB critics
    critic_hidden: int = 128  # hidden width of each critic's two MLPs
    critic_embed: int = 64  # width of the critic embeddings whose dot product is the score

    def __post_init__(self) -> None:
        owner = "FactorCLSettings"
        check_at_least(owner, "critic_steps", self.critic_steps, 0)
        if not self.critic_lr > 0:
            raise ValueError(f"{owner}.critic_lr must be > 0; got {self.critic_lr}")
        for name in ("critic_hidden", "critic_embed"):
            check_at_least(owner, name, getattr(self, name), 1)


def infonce_lower_bound(scores: Tensor) -> Tensor:
    """InfoNCE lower bound on I(A; B), nats, from ``scores[i, j] = f(a_i, b_j)`` (N, N).

    mean_i [f(a_i, b_i) - logsumexp_j f(a_i, b_j)] + log N  (van den Oord et al. 2018); <= log N.
    """
    if scores.ndim != 2 or scores.shape[0] != scores.shape[1] or scores.shape[0] < 2:
        raise ValueError(
            f"scores must be a square (N, N) matrix, N >= 2; got {tuple(scores.shape)}"
        )
    positive = scores.diagonal()
    return (positive - torch.logsumexp(scores, dim=1)).mean() + math.log(scores.shape[0])


def nce_club_upper_bound(scores: Tensor) -> Tensor:
    """NCE-CLUB estimate of I(A; B), nats: mean_i f(a_i, b_i) - mean_{i, j} f(a_i, b_j).

    FactorCL's upper bound: CLUB (Cheng et al. 2020) with the log-density ratio replaced by the
    InfoNCE-optimal critic f, the product of marginals sampled by all N^2 pairs.
    """
    if scores.ndim != 2 or scores.shape[0] != scores.shape[1] or scores.shape[0] < 2:
        raise ValueError(
            f"scores must be a square (N, N) matrix, N >= 2; got {tuple(scores.shape)}"
        )
    return scores.diagonal().mean() - scores.mean()


class SeparableCritic(nn.Module):
    """Critic f(a, b) = g(a) . h(b), with g and h one-hidden-layer MLPs (a separable critic)."""

    def __init__(self, a_dim: int, b_dim: int, hidden: int, embed: int) -> None:
        super().__init__()
        self.g = nn.Sequential(nn.Linear(a_dim, hidden), nn.ReLU(), nn.Linear(hidden, embed))
        self.h = nn.Sequential(nn.Linear(b_dim, hidden), nn.ReLU(), nn.Linear(hidden, embed))

    def pair(self, a: Tensor, b: Tensor) -> Tensor:
        """Scores (N,) of the aligned pairs (a_i, b_i)."""
        return (self.g(a) * self.h(b)).sum(dim=-1)

    def forward(self, a: Tensor, b: Tensor) -> Tensor:
        """Scores (N, M) of every pair: ``[i, j] = f(a_i, b_j)``."""
        return self.g(a) @ self.h(b).T


def head(dim: int, out_dim: int) -> nn.Sequential:
    """A bound's projection head: Linear -> ReLU -> Linear, (B, dim) -> (B, out_dim)."""
    return nn.Sequential(nn.Linear(dim, dim), nn.ReLU(), nn.Linear(dim, out_dim))


def frozen_scores(critic: nn.Module, a: Tensor, b: Tensor) -> Tensor:
    """Critic scores with its weights detached: gradients reach a and b, never the critic."""
    params = {name: p.detach() for name, p in critic.named_parameters()}
    scores: Tensor = functional_call(critic, params, (a, b))
    return scores


class FactorCL(Method):
    """FactorCL-SSL: maximise bounds on S + U_1 + U_2 with CLUB critics (Liang et al. 2023)."""

    name = "factorcl"
    settings_class = FactorCLSettings

    def __init__(self, settings: FactorCLSettings, context: MethodContext) -> None:
        super().__init__()
        check_settings(settings, FactorCLSettings, self.name)
        self.config = settings
        dim, out = context.dim, context.projection_dim
        self.heads = nn.ModuleDict(
            {
                f"{name}_{m}": head(dim, out)
                for name in (*SHARED_HEADS, *UNIQUE_HEADS)
                for m in (1, 2)
            }
        )
        self.critics = nn.ModuleDict(
            {
                name: SeparableCritic(
                    out * (1 + cond),
                    out * (1 + cond),
                    settings.critic_hidden,
                    settings.critic_embed,
                )
                for name, (_, cond) in BOUNDS.items()
            }
        )
        self._critic_optimizer: torch.optim.Optimizer | None = None

    # ---- embeddings
    @staticmethod
    def encode(model: FusionModel, x1: Tensor, x2: Tensor) -> tuple[Tensor, Tensor]:
        """Encoder outputs of each modality alone: the unimodal fused CLS outputs (B, dim)."""
        return unimodal_fused(model, x1, x2)

    def _inputs(self, name: str, e: dict[str, Tensor]) -> tuple[Tensor, Tensor]:
        """The two critic inputs of bound ``name`` from embeddings e1, e2 (clean), a1, a2 (aug)."""
        if name.startswith("unique_nce_"):
            h = self.heads[name]
            m = name[-1]
            return h(e[f"e{m}"]), h(e[f"a{m}"])
        h1, h2 = self.heads[f"{name}_1"], self.heads[f"{name}_2"]
        if BOUNDS[name][1]:  # conditional: [h(x), h(x')]
            return (
                torch.cat([h1(e["e1"]), h1(e["a1"])], dim=-1),
                torch.cat([h2(e["e2"]), h2(e["a2"])], dim=-1),
            )
        return h1(e["e1"]), h2(e["e2"])

    def _embeddings(self, batch: Batch, model: FusionModel) -> dict[str, Tensor]:
        """Clean (e1, e2) and augmented (a1, a2) encoder outputs, one encoder pass for both."""
        a1, a2 = batch.view()
        n = batch.x1.shape[0]
        z1, z2 = self.encode(model, torch.cat([batch.x1, a1]), torch.cat([batch.x2, a2]))
        return {"e1": z1[:n], "a1": z1[n:], "e2": z2[:n], "a2": z2[n:]}

    # ---- objective
    def bounds(self, e: dict[str, Tensor]) -> dict[str, Tensor]:
        """The six bounds (nats) from embeddings e1, e2, a1, a2; CLUB critics frozen."""
        values = {}
        for name, (is_club, _) in BOUNDS.items():
            a, b = self._inputs(name, e)
            if is_club:
                values[name] = nce_club_upper_bound(frozen_scores(self.critics[name], a, b))
            else:
                values[name] = infonce_lower_bound(self.critics[name](a, b))
        return values

    @staticmethod
    def objective(bounds: dict[str, Tensor]) -> tuple[Tensor, Tensor, Tensor]:
        """S, U_1, U_2 (nats) from the six bounds."""
        shared = bounds["shared_nce"] - bounds["shared_club"]
        common = bounds["unique_cond"] - bounds["unique_club"]
        return shared, bounds["unique_nce_1"] + common, bounds["unique_nce_2"] + common

    def forward(self, batch: Batch, model: FusionModel) -> LossOutput:
        bounds = self.bounds(self._embeddings(batch, model))
        shared, unique1, unique2 = self.objective(bounds)
        loss = -(shared + unique1 + unique2)
        parts = {name: value.detach() for name, value in bounds.items()}
        parts.update(S=shared.detach(), U1=unique1.detach(), U2=unique2.detach())
        return LossOutput(loss=loss, parts=parts)

    # ---- CLUB critics
    def club_inputs(self, batch: Batch, model: FusionModel) -> dict[str, tuple[Tensor, Tensor]]:
        """Detached critic inputs of the two CLUB bounds for this batch (no graph is kept)."""
        with torch.no_grad():
            e = self._embeddings(batch, model)
            return {name: self._inputs(name, e) for name, (club, _) in BOUNDS.items() if club}

    def club_fit_loss(self, inputs: dict[str, tuple[Tensor, Tensor]]) -> Tensor:
        """Minus the CLUB critics' own InfoNCE bounds (nats): what their optimiser minimises."""
        bounds = [infonce_lower_bound(self.critics[name](a, b)) for name, (a, b) in inputs.items()]
        return -torch.stack(bounds).sum()

    def club_parameters(self) -> list[nn.Parameter]:
        """Parameters of the two CLUB critics (fitted in ``inner_step`` only)."""
        return [
            p for name, (club, _) in BOUNDS.items() if club for p in self.critics[name].parameters()
        ]

    def _critics_optimizer(self) -> torch.optim.Optimizer:
        """The CLUB critics' Adam, made at first use."""
        if self._critic_optimizer is None:
            self._critic_optimizer = torch.optim.Adam(
                self.club_parameters(), lr=self.config.critic_lr
            )
        return self._critic_optimizer

    def training_state(self) -> dict[str, Any]:
        """The critics' Adam moments (empty before the first step)."""
        if self._critic_optimizer is None:
            return {}
        return {"critic_optimizer": self._critic_optimizer.state_dict()}

    def load_training_state(self, state: dict[str, Any]) -> None:
        if "critic_optimizer" in state:
            self._critics_optimizer().load_state_dict(state["critic_optimizer"])

    def inner_step(self, batch: Batch, model: FusionModel) -> None:
        """Fit the CLUB critics: ``critic_steps`` Adam steps on this batch's detached embeddings."""
        if self.config.critic_steps == 0:
            return
        optimizer = self._critics_optimizer()
        inputs = self.club_inputs(batch, model)
        for _ in range(self.config.critic_steps):
            optimizer.zero_grad(set_to_none=True)
            self.club_fit_loss(inputs).backward()
            optimizer.step()
        optimizer.zero_grad(set_to_none=True)  # leave no gradient for the main step

    # ---- probing
    def represent(self, model: FusionModel, x1: Tensor, x2: Tensor) -> Tensor:
        """[Z_S1, Z_S2, Z_U1, Z_U2]: every head on the clean unimodal embeddings, (B, 10 P)."""
        e1, e2 = self.encode(model, x1, x2)
        e = {"1": e1, "2": e2}
        factors = [self.heads[f"{n}_{m}"](e[m]) for m in "12" for n in SHARED_HEADS]
        factors += [self.heads[f"{n}_{m}"](e[m]) for m in "12" for n in UNIQUE_HEADS]
        return torch.cat(factors, dim=-1)
