"""The shared encoder / fusion model every method trains.

Each modality is turned into a short sequence of tokens of width ``dim`` (an MLP for vectors, a
small CNN for images whose feature-map cells are the tokens). A pre-LayerNorm transformer with a
learned CLS token fuses the tokens of the modalities present and returns the CLS output: the
fused representation (B, dim) that probes read. A projection head (MLP with batch norm) maps it
to the space the contrastive losses compare. Modalities can be left out and tokens masked
(replaced by a learned mask token, or zeroed), which is what CoMM and InfMasking need.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn


@dataclass(frozen=True)
class ModelConfig:
    """Sizes of the shared model. Defaults are small so that CPU runs take minutes.

    Tuned on the ``xor`` task: at these sizes every method's default training takes < 2 min on
    a 2-core CPU and CoMM / InfMasking make S linearly decodable (0.97-0.99 probe accuracy).
    Four tokens per vector modality leave one unmasked token at InfMasking's mask ratio 0.7.
    """

    dim: int = 32  # token and fused-representation width
    depth: int = 1  # transformer blocks
    heads: int = 4
    mlp_ratio: float = 2.0
    vector_tokens: int = 4  # tokens per vector modality
    encoder_hidden: int = 64  # hidden width of the vector encoder MLP
    cnn_channels: int = 32  # base channel count of the image encoder
    projection_dim: int = 32  # output width of the projection head
    dropout: float = 0.0

    def __post_init__(self) -> None:
        for name in ("dim", "depth", "heads", "vector_tokens", "encoder_hidden", "cnn_channels"):
            if getattr(self, name) < 1:
                raise ValueError(f"ModelConfig.{name} must be >= 1; got {getattr(self, name)}")
        if self.projection_dim < 1:
            raise ValueError(f"ModelConfig.projection_dim must be >= 1; got {self.projection_dim}")
        if self.dim % self.heads:
            raise ValueError(
                f"ModelConfig.dim ({self.dim}) must be divisible by heads ({self.heads})"
            )
        if not 0 <= self.dropout < 1:
            raise ValueError(f"ModelConfig.dropout must be in [0, 1); got {self.dropout}")


class VectorEncoder(nn.Module):
    """(B, d) -> (B, vector_tokens, dim): an MLP whose output is cut into tokens."""

    def __init__(self, input_dim: int, config: ModelConfig) -> None:
        super().__init__()
        self.num_tokens = config.vector_tokens
        self.dim = config.dim
        self.net = nn.Sequential(
            nn.Linear(input_dim, config.encoder_hidden),
            nn.GELU(),
            nn.Linear(config.encoder_hidden, config.encoder_hidden),
            nn.GELU(),
            nn.Linear(config.encoder_hidden, config.vector_tokens * config.dim),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x).view(x.shape[0], self.num_tokens, self.dim)


class ImageEncoder(nn.Module):
    """(B, 3, H, W) -> (B, cells, dim): a small CNN; every cell of its last feature map is a token.

    Three stride-2 stages then adaptive pooling to a 4x4 grid, so any image size gives 16 tokens.
    """

    grid = 4

    def __init__(self, in_channels: int, config: ModelConfig) -> None:
        super().__init__()
        c = config.cnn_channels

        def stage(cin: int, cout: int) -> nn.Sequential:
            return nn.Sequential(
                nn.Conv2d(cin, cout, 3, stride=2, padding=1),
                nn.BatchNorm2d(cout),
                nn.GELU(),
                nn.Conv2d(cout, cout, 3, padding=1),
                nn.BatchNorm2d(cout),
                nn.GELU(),
            )

        self.net = nn.Sequential(stage(in_channels, c), stage(c, 2 * c), stage(2 * c, 4 * c))
        self.pool = nn.AdaptiveAvgPool2d(self.grid)
        self.to_tokens = nn.Linear(4 * c, config.dim)
        self.num_tokens = self.grid * self.grid

    def forward(self, x: Tensor) -> Tensor:
        features = self.pool(self.net(x))  # (B, 4c, grid, grid)
        return self.to_tokens(features.flatten(2).transpose(1, 2))


class Block(nn.Module):
    """Pre-LayerNorm transformer block."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(config.dim)
        self.attn = nn.MultiheadAttention(
            config.dim, config.heads, dropout=config.dropout, batch_first=True
        )
        self.norm2 = nn.LayerNorm(config.dim)
        hidden = int(config.dim * config.mlp_ratio)
        self.mlp = nn.Sequential(
            nn.Linear(config.dim, hidden),
            nn.GELU(),
            nn.Dropout(config.dropout),
            nn.Linear(hidden, config.dim),
        )

    def forward(self, x: Tensor) -> Tensor:
        h = self.norm1(x)
        x = x + self.attn(h, h, h, need_weights=False)[0]
        return x + self.mlp(self.norm2(x))


class ProjectionHead(nn.Module):
    """Linear -> BatchNorm -> ReLU -> Linear: maps fused (B, dim) to (B, projection_dim)."""

    def __init__(self, dim: int, out_dim: int) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(dim, dim), nn.BatchNorm1d(dim), nn.ReLU(inplace=True), nn.Linear(dim, out_dim)
        )

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z)


class AttentionPooling(nn.Module):
    """(B, L, dim) -> (B, dim): tokens averaged with softmax weights from a learned query.

    Weight of token l = softmax_l(x_l . q) (unscaled dot product), q a learned (dim,) vector.
    """

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.query = nn.Parameter(torch.randn(dim))

    def forward(self, x: Tensor) -> Tensor:
        weights = torch.softmax(x @ self.query, dim=1)  # (B, L)
        return (weights.unsqueeze(-1) * x).sum(dim=1)


def make_encoder(input_shape: tuple[int, ...], config: ModelConfig) -> nn.Module:
    """An encoder for one sample shape: (d,) vectors or (C, H, W) images."""
    if len(input_shape) == 1:
        return VectorEncoder(input_shape[0], config)
    if len(input_shape) == 3:
        return ImageEncoder(input_shape[0], config)
    raise ValueError(f"input shape must be (d,) or (C, H, W); got {input_shape}")


class FusionModel(nn.Module):
    """Encoders for two modalities, a fusion transformer with CLS pooling, and a projection head.

    ``tokens(x1, x2)`` gives each modality's tokens (B, L_i, dim) with their modality embedding
    added; ``fuse(t1, t2, keep1, keep2)`` fuses the modalities given (``None`` leaves one out),
    replacing tokens whose ``keep`` entry is False by the learned mask token (or by zeros,
    ``fill="zero"``); ``forward`` does both. ``new_encoders()`` builds a second, independently
    initialised set of encoders of the same architecture, for methods with a separate path.
    """

    def __init__(
        self, input_shapes: tuple[tuple[int, ...], tuple[int, ...]], config: ModelConfig
    ) -> None:
        super().__init__()
        self.config = config
        self.input_shapes = input_shapes
        self.encoders = nn.ModuleList([make_encoder(shape, config) for shape in input_shapes])
        self.modality_embedding = nn.Parameter(torch.zeros(2, config.dim))
        self.cls_token = nn.Parameter(torch.zeros(1, 1, config.dim))
        self.mask_token = nn.Parameter(torch.zeros(1, 1, config.dim))
        self.blocks = nn.ModuleList([Block(config) for _ in range(config.depth)])
        self.norm = nn.LayerNorm(config.dim)
        self.head = ProjectionHead(config.dim, config.projection_dim)
        nn.init.normal_(self.modality_embedding, std=0.02)
        nn.init.normal_(self.cls_token, std=0.02)
        nn.init.normal_(self.mask_token, std=0.02)

    @property
    def dim(self) -> int:
        return self.config.dim

    def tokens(self, x1: Tensor, x2: Tensor) -> tuple[Tensor, Tensor]:
        """Per-modality tokens, (B, L1, dim) and (B, L2, dim)."""
        t1 = self.encoders[0](x1) + self.modality_embedding[0]
        t2 = self.encoders[1](x2) + self.modality_embedding[1]
        return t1, t2

    def new_encoders(self) -> nn.ModuleList:
        """Freshly initialised encoders of the same architecture (own weights), one per modality."""
        return nn.ModuleList([make_encoder(shape, self.config) for shape in self.input_shapes])

    def mask(self, tokens: Tensor, keep: Tensor, fill: str = "token") -> Tensor:
        """Replace tokens where ``keep`` (B, L) is False by the mask token (or zeros: "zero")."""
        if fill == "zero":
            return tokens * keep.unsqueeze(-1).to(tokens.dtype)
        if fill != "token":
            raise ValueError(f"fill must be 'token' or 'zero'; got {fill!r}")
        return torch.where(keep.unsqueeze(-1), tokens, self.mask_token.to(tokens.dtype))

    def fuse(
        self,
        tokens1: Tensor | None,
        tokens2: Tensor | None,
        keep1: Tensor | None = None,
        keep2: Tensor | None = None,
        fill: str = "token",
    ) -> Tensor:
        """CLS output (B, dim) of the transformer over the tokens of the modalities given."""
        parts = []
        for tokens, keep in ((tokens1, keep1), (tokens2, keep2)):
            if tokens is not None:
                parts.append(tokens if keep is None else self.mask(tokens, keep, fill))
        if not parts:
            raise ValueError("fuse needs at least one modality")
        cls = self.cls_token.expand(parts[0].shape[0], -1, -1)
        x = torch.cat([cls, *parts], dim=1)
        for block in self.blocks:
            x = block(x)
        return self.norm(x[:, 0])

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        """Fused representation of both modalities, (B, dim)."""
        t1, t2 = self.tokens(x1, x2)
        return self.fuse(t1, t2)

    def project(self, z: Tensor) -> Tensor:
        """Projection head output (B, projection_dim), not normalised."""
        return self.head(z)
