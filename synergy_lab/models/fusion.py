"""The shared encoder / fusion model every method trains.

Each modality is turned into a short sequence of tokens of width ``dim`` (an MLP for vectors,
or one MLP per contiguous feature chunk with ``vector_encoder = "chunks"``; a small CNN for
images whose feature-map cells are the tokens). A pre-LayerNorm transformer with a
learned CLS token fuses the tokens of the modalities present and returns the CLS output: the
fused representation (B, dim) that probes read. A projection head (MLP with batch norm) maps it
to the space the contrastive losses compare. Modalities can be left out and tokens masked
(replaced by a learned mask token, or zeroed), which is what CoMM and InfMasking need.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import torch
import torch.nn.functional as F
from torch import Tensor, nn

IMAGE_ENCODERS: tuple[str, ...] = ("small", "alexnet")
VECTOR_ENCODERS: tuple[str, ...] = ("mlp", "chunks")
POSITION_EMBEDDINGS: tuple[str, ...] = ("none", "sincos")
ALEXNET_MIN_SIDE = 63  # smallest side AlexNet's convolutions and pools leave a 1 x 1 map for


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
    vector_encoder: str = "mlp"  # "mlp": every token sees all features; "chunks": token k sees
    # only the k-th of vector_tokens contiguous feature chunks (so masking a token hides them)
    encoder_hidden: int = 64  # hidden width of the vector encoder MLP
    cnn_channels: int = 32  # base channel count of the small image encoder
    image_encoder: str = "small"  # "small" CNN (any size) or "alexnet" (224 px, the papers')
    image_stages: int = 3  # small CNN: stride-2 stages (32 px / 2^3 = a 4 x 4 feature map)
    image_grid: int = 4  # image tokens: the feature map is average-pooled to grid x grid cells
    image_positions: str = "none"  # "none" or "sincos": fixed 2-D sin-cos position embeddings
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
        if self.vector_encoder not in VECTOR_ENCODERS:
            raise ValueError(
                f"ModelConfig.vector_encoder must be one of {', '.join(VECTOR_ENCODERS)}; "
                f"got {self.vector_encoder!r}"
            )
        if self.image_encoder not in IMAGE_ENCODERS:
            raise ValueError(
                f"ModelConfig.image_encoder must be one of {', '.join(IMAGE_ENCODERS)}; "
                f"got {self.image_encoder!r}"
            )
        if not 1 <= self.image_stages <= 6:
            raise ValueError(f"ModelConfig.image_stages must be in [1, 6]; got {self.image_stages}")
        if self.image_grid < 1:
            raise ValueError(f"ModelConfig.image_grid must be >= 1; got {self.image_grid}")
        if self.image_positions not in POSITION_EMBEDDINGS:
            raise ValueError(
                f"ModelConfig.image_positions must be one of {', '.join(POSITION_EMBEDDINGS)}; "
                f"got {self.image_positions!r}"
            )
        if self.image_positions == "sincos" and self.dim % 4:
            raise ValueError(
                f"ModelConfig.image_positions = 'sincos' needs dim divisible by 4; got {self.dim}"
            )


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


class ChunkedVectorEncoder(nn.Module):
    """(B, d) -> (B, vector_tokens, dim): token k is an MLP of the k-th contiguous feature chunk.

    The features are cut as ``numpy.array_split`` cuts them (the first ``d % vector_tokens``
    chunks one feature longer), the layout :mod:`synthetic.ladder` gives its feature blocks, so
    a token carries only what its chunk carries and a masked token hides exactly that. Each
    chunk has its own two-layer MLP (hidden ``encoder_hidden``); the chunk index is implicit in
    which MLP made the token.
    """

    def __init__(self, input_dim: int, config: ModelConfig) -> None:
        super().__init__()
        if input_dim < config.vector_tokens:
            raise ValueError(
                f"vector_encoder 'chunks' needs at least vector_tokens ({config.vector_tokens}) "
                f"features; got {input_dim}"
            )
        base, extra = divmod(input_dim, config.vector_tokens)
        self.sizes = [base + 1] * extra + [base] * (config.vector_tokens - extra)
        self.nets = nn.ModuleList(
            nn.Sequential(
                nn.Linear(size, config.encoder_hidden),
                nn.GELU(),
                nn.Linear(config.encoder_hidden, config.dim),
            )
            for size in self.sizes
        )

    def forward(self, x: Tensor) -> Tensor:
        chunks = torch.split(x, self.sizes, dim=1)
        return torch.stack([net(c) for net, c in zip(self.nets, chunks, strict=True)], dim=1)


def sincos_positions(grid: int, dim: int) -> Tensor:
    """Fixed 2-D sin-cos position embeddings (grid * grid, dim), row-major cells.

    Half of the channels encode the row, half the column; each half is sin and cos of the
    coordinate at dim/4 frequencies 1 / 10000^(k / (dim/4)) (the 2-D form of Vaswani et al.,
    2017, as MAE, He et al., 2022, uses for image patches). ``dim`` must be divisible by 4.
    """
    if dim % 4:
        raise ValueError(f"sin-cos positions need dim divisible by 4; got {dim}")
    quarter = dim // 4
    omega = 1.0 / 10000 ** (torch.arange(quarter, dtype=torch.float64) / quarter)
    rows, cols = torch.meshgrid(
        torch.arange(grid, dtype=torch.float64), torch.arange(grid, dtype=torch.float64),
        indexing="ij",
    )  # fmt: skip
    parts = []
    for coordinate in (rows.reshape(-1), cols.reshape(-1)):
        angles = coordinate[:, None] * omega[None, :]  # (grid^2, dim/4)
        parts += [torch.sin(angles), torch.cos(angles)]
    return torch.cat(parts, dim=1).float()


def _small_cnn(in_channels: int, channels: int, stages: int) -> tuple[nn.Sequential, int]:
    """``stages`` stride-2 stages of two 3x3 convolutions (BatchNorm, GELU); channels double."""

    def stage(cin: int, cout: int) -> nn.Sequential:
        return nn.Sequential(
            nn.Conv2d(cin, cout, 3, stride=2, padding=1),
            nn.BatchNorm2d(cout),
            nn.GELU(),
            nn.Conv2d(cout, cout, 3, padding=1),
            nn.BatchNorm2d(cout),
            nn.GELU(),
        )

    widths = [channels * 2**i for i in range(stages)]
    inputs = [in_channels, *widths[:-1]]
    layers = [stage(cin, cout) for cin, cout in zip(inputs, widths, strict=True)]
    return nn.Sequential(*layers), widths[-1]


def _alexnet(in_channels: int) -> tuple[nn.Sequential, int]:
    """The convolutional part of AlexNet (Krizhevsky et al., 2012): 224 px -> 256 x 6 x 6."""
    layers = nn.Sequential(
        nn.Conv2d(in_channels, 64, 11, stride=4, padding=2),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(3, stride=2),
        nn.Conv2d(64, 192, 5, padding=2),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(3, stride=2),
        nn.Conv2d(192, 384, 3, padding=1),
        nn.ReLU(inplace=True),
        nn.Conv2d(384, 256, 3, padding=1),
        nn.ReLU(inplace=True),
        nn.Conv2d(256, 256, 3, padding=1),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(3, stride=2),
    )
    return layers, 256


class ImageEncoder(nn.Module):
    """(B, 3, H, W) -> (B, grid * grid, dim): a CNN whose pooled feature-map cells are tokens.

    ``image_encoder = "small"``: ``image_stages`` stride-2 stages (32 px and 3 stages: a 4 x 4
    map); ``"alexnet"``: AlexNet's convolutions (a 6 x 6 map at 224 px), as the Trifeatures
    experiments of CoMM and InfMasking use. The map is average-pooled to ``image_grid`` cells a
    side (a smaller map is repeated, as for 8 px images), each cell projected to a token; with
    ``image_positions = "sincos"`` a fixed 2-D sin-cos embedding of the cell's position is added,
    so a token masked during fusion loses it too.
    """

    def __init__(self, in_channels: int, config: ModelConfig) -> None:
        super().__init__()
        if config.image_encoder == "alexnet":
            self.net, width = _alexnet(in_channels)
        else:
            self.net, width = _small_cnn(in_channels, config.cnn_channels, config.image_stages)
        self.grid = config.image_grid
        self.pool = nn.AdaptiveAvgPool2d(self.grid)
        self.to_tokens = nn.Linear(width, config.dim)
        self.num_tokens = self.grid * self.grid
        positions = (
            sincos_positions(self.grid, config.dim)
            if config.image_positions == "sincos"
            else torch.zeros(self.num_tokens, config.dim)
        )
        self.register_buffer("positions", positions, persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        features = self.pool(self.net(x))  # (B, width, grid, grid)
        tokens = self.to_tokens(features.flatten(2).transpose(1, 2))
        return tokens + self.positions.to(tokens.dtype)


class Block(nn.Module):
    """Pre-LayerNorm transformer block (Vaswani et al., 2017; pre-LN as in Xiong et al., 2020).

    The attention keeps ``nn.MultiheadAttention``'s parameters (and so its state dict and
    initialisation) but runs through ``F.scaled_dot_product_attention``, so that
    :meth:`forward_first` can compute the first row's output alone (queries only for that row,
    keys and values for all) and keys and values can be shared across masked copies of a
    sequence. Attention dropout draws its own masks (not MHA's).
    """

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

    def keys_values(self, h: Tensor) -> tuple[Tensor, Tensor]:
        """Keys and values (..., L, dim) of normalised tokens ``h`` (..., L, dim), per token.

        Two projections (slices of MHA's packed in-projection) rather than one packed matrix,
        whose backward would zero-fill and copy a (3, ..., L, dim) buffer.
        """
        attn = self.attn
        _, w_k, w_v = attn.in_proj_weight.chunk(3)
        _, b_k, b_v = attn.in_proj_bias.chunk(3)
        return F.linear(h, w_k, b_k), F.linear(h, w_v, b_v)

    def attend(self, queries: Tensor, keys: Tensor, values: Tensor) -> Tensor:
        """Multi-head attention (B, Lq, dim) of normalised ``queries`` (B, Lq, dim) over
        ``keys`` and ``values`` (B, L, dim) from :meth:`keys_values`, output-projected."""
        attn = self.attn
        batch, dim = keys.shape[0], keys.shape[-1]
        heads = attn.num_heads
        w_q = attn.in_proj_weight[:dim]
        b_q = attn.in_proj_bias[:dim]

        def split(x: Tensor) -> Tensor:  # (B, L, dim) -> (B, heads, L, dim / heads)
            return x.view(batch, x.shape[1], heads, dim // heads).transpose(1, 2)

        dropout = attn.dropout if self.training else 0.0
        if queries.shape[1] == 1 and dropout == 0.0:
            return attn.out_proj(self._attend_one(F.linear(queries, w_q, b_q), keys, values))
        out = F.scaled_dot_product_attention(
            split(F.linear(queries, w_q, b_q)), split(keys), split(values), dropout_p=dropout
        )
        return attn.out_proj(out.transpose(1, 2).reshape(batch, queries.shape[1], dim))

    def _attend_one(self, query: Tensor, keys: Tensor, values: Tensor) -> Tensor:
        """Attention output (B, 1, dim) of one projected query (B, 1, dim) per sequence, no dropout.

        The same math as ``scaled_dot_product_attention``, as elementwise products and sums
        over the heads' slices in the (B, L, heads, dim / heads) layout: with a single query
        row, CPU flash attention (and its backward) costs several times more than these.
        """
        batch, length, dim = keys.shape
        heads = self.attn.num_heads
        q = query.reshape(batch, 1, heads, dim // heads)
        k = keys.reshape(batch, length, heads, dim // heads)
        v = values.reshape(batch, length, heads, dim // heads)
        weights = torch.softmax((q * (dim // heads) ** -0.5 * k).sum(-1), dim=1)  # (B, L, heads)
        return (weights.unsqueeze(-1) * v).sum(1).view(batch, 1, dim)

    def forward(self, x: Tensor) -> Tensor:
        h = self.norm1(x)
        x = x + self.attend(h, *self.keys_values(h))
        return x + self.mlp(self.norm2(x))

    def forward_first(self, x: Tensor, keys_values: tuple[Tensor, Tensor] | None = None) -> Tensor:
        """``forward(x)[:, 0]`` (B, dim) without computing the other rows' outputs.

        Only row 0 needs a query, an output projection and the MLP; keys and values still
        come from every token (or are given: ``keys_values`` of ``norm1`` of the full
        sequence, when ``x`` is only row 0, (B, 1, dim)). The last block of
        :meth:`FusionModel.fuse` uses it: only the CLS output is read, so this is the same
        result at a fraction of the work.
        """
        first = x[:, :1]
        if keys_values is None:
            h = self.norm1(x)
            keys_values = self.keys_values(h)
            query = h[:, :1]
        else:
            query = self.norm1(first)
        first = first + self.attend(query, *keys_values)
        return (first + self.mlp(self.norm2(first)))[:, 0]


class ProjectionHead(nn.Module):
    """Linear -> BatchNorm -> ReLU -> Linear: maps fused (B, dim) to (B, projection_dim)."""

    def __init__(self, dim: int, out_dim: int) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(dim, dim), nn.BatchNorm1d(dim), nn.ReLU(inplace=True), nn.Linear(dim, out_dim)
        )

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z)

    def forward_groups(self, z: Tensor, groups: int) -> Tensor:
        """``cat([self(part) for part in z.chunk(groups)])``, (G B, out_dim), in one pass.

        ``z``: (G B, dim), G batches of B rows stacked. In training the batch norm must see
        each group as its own batch: the G groups become G x dim channels of one (B, G dim)
        batch, and the running statistics get the G updates the loop would make, in closed
        form. Fewer, larger kernels than G calls; the same result to float rounding.
        """
        linear1, norm, relu, linear2 = self.net
        assert isinstance(norm, nn.BatchNorm1d)
        if not norm.training or groups == 1:
            return cast(Tensor, self.net(z))
        if norm.momentum is None or not norm.track_running_stats or not norm.affine:
            return torch.cat([self.net(part) for part in z.chunk(groups)])
        h = linear1(z)
        batch, channels = h.shape[0] // groups, h.shape[1]
        grouped = h.view(groups, batch, channels)
        wide = grouped.transpose(0, 1).reshape(batch, groups * channels)  # (B, G C)
        assert norm.running_mean is not None and norm.running_var is not None
        # momentum 1 makes batch_norm store each channel's batch mean and unbiased variance
        mean = torch.zeros(groups * channels, dtype=norm.running_mean.dtype, device=h.device)
        var = torch.ones_like(mean)
        normed = F.batch_norm(
            wide,
            mean,
            var,
            norm.weight.repeat(groups),
            norm.bias.repeat(groups),
            training=True,
            momentum=1.0,
            eps=norm.eps,
        )
        with torch.no_grad():  # G sequential momentum updates: r <- (1 - m) r + m x_g
            momentum = norm.momentum
            weights = momentum * (1 - momentum) ** torch.arange(
                groups - 1, -1, -1, device=h.device, dtype=mean.dtype
            )
            decay = (1 - momentum) ** groups
            norm.running_mean.mul_(decay).add_(weights @ mean.view(groups, channels))
            norm.running_var.mul_(decay).add_(weights @ var.view(groups, channels))
            assert norm.num_batches_tracked is not None
            norm.num_batches_tracked.add_(groups)
        h = normed.view(batch, groups, channels).transpose(0, 1).reshape(-1, channels)
        return cast(Tensor, linear2(relu(h)))


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
        if config.vector_encoder == "chunks":
            return ChunkedVectorEncoder(input_shape[0], config)
        return VectorEncoder(input_shape[0], config)
    if len(input_shape) == 3:
        side = min(input_shape[1:])
        if config.image_encoder == "alexnet":
            if side < ALEXNET_MIN_SIDE:
                raise ValueError(
                    f"image_encoder 'alexnet' needs images of at least {ALEXNET_MIN_SIDE} px; "
                    f"got {side} px (use image_encoder 'small')"
                )
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

    def tokens_of_views(self, views: list[tuple[Tensor, Tensor]]) -> tuple[Tensor, Tensor]:
        """Tokens of V views (x1, x2) of a batch, view-major: (V B, L1, dim) and (V B, L2, dim).

        One encoder call per modality on the stacked views when the encoders treat samples
        independently (no batch norm in training); otherwise each view is encoded as its own
        batch, so batch statistics stay per view. Equal to ``tokens`` per view, concatenated.
        """
        couples = self.training and any(
            isinstance(m, nn.modules.batchnorm._BatchNorm) for m in self.encoders.modules()
        )
        if couples:
            per_view = [self.tokens(x1, x2) for x1, x2 in views]
            return torch.cat([t[0] for t in per_view]), torch.cat([t[1] for t in per_view])
        return self.tokens(torch.cat([v[0] for v in views]), torch.cat([v[1] for v in views]))

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
        for block in self.blocks[:-1]:
            x = block(x)
        last = cast(Block, self.blocks[-1])
        return self.norm(last.forward_first(x))  # only the CLS row is read

    def fuse_masked(self, tokens1: Tensor, tokens2: Tensor, keep1: Tensor, keep2: Tensor) -> Tensor:
        """CLS outputs (T, B, dim) of T masked copies of the bimodal sequence, mask-token fill.

        ``tokens*``: (B, L_m, dim); ``keep*``: (T, B, L_m) bool, True = kept. Equal to ``fuse``
        on the tokens repeated T times with the keep masks flattened (mask-major), which is what
        it does for depth > 1. With one block it shares work across the T copies: LayerNorm,
        keys and values are per token, so they are computed once for the B unmasked sequences
        and once for the mask token, and each copy picks its rows; only the CLS row is queried.
        """
        num_masks, batch = keep1.shape[:2]
        if keep2.shape[:2] != (num_masks, batch) or tokens1.shape[0] != batch:
            raise ValueError("keep1, keep2 and the tokens must agree on (num_masks, batch)")
        if len(self.blocks) > 1:
            fused = self.fuse(
                tokens1.repeat(num_masks, 1, 1),
                tokens2.repeat(num_masks, 1, 1),
                keep1.reshape(num_masks * batch, -1),
                keep2.reshape(num_masks * batch, -1),
            )
            return fused.view(num_masks, batch, -1)
        block = cast(Block, self.blocks[0])
        cls = self.cls_token.expand(batch, -1, -1)
        x = torch.cat([cls, tokens1, tokens2], dim=1)  # (B, L, dim), nothing masked
        cls_kept = torch.ones(num_masks, batch, 1, dtype=torch.bool, device=keep1.device)
        keep = torch.cat([cls_kept, keep1, keep2], dim=2).unsqueeze(-1)  # (T, B, L, 1)
        keys, values = block.keys_values(block.norm1(x))
        mask_keys, mask_values = block.keys_values(block.norm1(self.mask_token.to(x.dtype)))
        length, dim = x.shape[1], x.shape[2]
        keys = torch.where(keep, keys, mask_keys).view(num_masks * batch, length, dim)
        values = torch.where(keep, values, mask_values).view(num_masks * batch, length, dim)
        first = x[:, :1].repeat(num_masks, 1, 1)  # (T B, 1, dim): the CLS rows
        fused = self.norm(block.forward_first(first, (keys, values)))
        return fused.view(num_masks, batch, -1)

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        """Fused representation of both modalities, (B, dim)."""
        t1, t2 = self.tokens(x1, x2)
        return self.fuse(t1, t2)

    def project(self, z: Tensor) -> Tensor:
        """Projection head output (B, projection_dim), not normalised."""
        return self.head(z)

    def project_groups(self, z: Tensor, groups: int) -> Tensor:
        """``project`` of each of ``groups`` stacked batches (G B, dim), each its own batch."""
        return self.head.forward_groups(z, groups)
