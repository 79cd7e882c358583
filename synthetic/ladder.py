"""``ladder``: a vector task family whose synergy gets harder rung by rung, with exact tables.

Latents (independent, uniform): ``r`` (``ladder_bits_r`` bits, seen by both modalities), ``u1`` /
``u2`` (``ladder_bits_u`` bits, modality 1 / 2 only), ``n1`` / ``n2`` (``ladder_nuisance_bits``
bits, modality 1 / 2 only, in no label) and, for each synergistic label j = 1..J
(``ladder_synergy_labels``), a pair s1_j (modality 1) and s2_j (modality 2).

Labels: ``R`` = the lowest min(bits_r, 3) bits of r; ``U1`` = u1, ``U2`` = u2; ``S`` (and
``S2``, ``S3`` when J > 1), each from its own pair:

- order, modular: s1, s2 uniform in 0..m-1 and S = (s1 + s2) mod m (``ladder_modulus`` = m);
- order, parity: with ``ladder_parity_bits`` = k >= 2, s1 holds ceil(k / 2) fair bits, s2 the
  other floor(k / 2), and S = the parity (XOR) of all k bits.

Either way s1 alone and s2 alone are independent of S, so S is pure synergy: BROJA gives
log2(m) bits (modular) or 1 bit (parity), all synergistic. The axes of the ladder (:data:`AXES`
holds each with its rungs, what moves, what is held, its encoder and why):

- order: m = 2, 3, 4, 6, 8 or k = 2..6 (a higher-order function of the two parts);
- dominance-matched: more shared bits r beside the same S (R bits : S bits 1 : 1 to 4 : 1), the
  shortcut contrastive alignment learns first, each shared bit taking the place of a nuisance
  bit so that every rung has 64 latent states per modality (the matched control);
- spread-matched (``ladder_spread`` = s >= 1): ``ladder_blocks`` = B feature blocks per
  modality, each observed through its own random network into dim / B features, every block
  reading the same number of latent bits; a modality's synergistic bits are dealt round-robin
  over s of its blocks and the plain bits (r, u_i, n_i) fill every block to the same count
  (:func:`matched_blocks`). Only s moves: each block's network is as complex at every rung;
- richness: more latent states per modality (nuisance bits: 8 -> 64 -> 512 states at the
  defaults with 0, 3, 6 nuisance bits) and several synergistic labels at once.

Two axes of the first ladder are kept, as exploratory, for their committed cells
(reports/ladder): dominance (r = 1..8 with nothing in its place, so the states per modality
rose from 8 to 1,024 with it) and spread (``ladder_spread`` = 0: block 0 carries r, u_i and n_i
and the synergistic bits are dealt round-robin to blocks 1..B-1, so each block's network saw
fewer bits as B rose and the axis got easier, not harder).

Encoder per axis: the observation of a one-block rung is one random network of every latent
bit, so every feature (and every chunk of features) mixes all of them and masking a token hides
little whichever encoder reads it; those axes use the default ``vector_encoder = "mlp"`` (the
committed cells did). The spread axes use ``"chunks"``: at B = 4 the blocks are exactly the 4
tokens' feature chunks, so a token carries only its block and masking it hides that block's
bits, which is the situation masking methods are built for.

Observation: as in :mod:`synthetic.embedding` (bits as signs through a fixed random tanh network,
each feature standardised exactly, here over the block's true latent distribution, plus noise
of std ``noise``, divided by sqrt(1 + noise^2)); bits of a value are most significant first.

Latent codes, per label: the latents the label is a function of, as each modality sees them, so
tables stay small (at most 16 x 16 x 16): ``R``: (R, R); ``U1``, ``U2``: (u1, u2); ``S_j``:
(s1_j, s2_j). Every other latent is independent of the label and of these codes, so adding it
to a code changes no PID atom (checked against :func:`full_latent_joint` in the tests).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synthetic.base import Task, check_seed, child_rngs, int_to_bits, parity
from synthetic.config import MAX_LADDER_BLOCK_BITS, TaskConfig
from synthetic.dataset import MultimodalDataset, Split
from synthetic.embedding import RandomMap, draw_random_map, observe

R_LABEL_MAX_BITS = 3  # the R label reads at most 3 of the shared bits (tables <= 8 x 8 x 8)
SYNERGY_LABELS: tuple[str, ...] = ("S", "S2", "S3")

# Named rungs: TaskConfig fields per distinct rung (one name per distinct task; aliases below).
# Any other rung is reachable by setting the ladder_* fields in [task] directly. The settings of
# the rungs with committed cells (reports/ladder*, configs/ladder_preregistered.toml) are frozen:
# a cell hashes its task settings, so a rung's fields never change; a new design is a new name.
SPREAD_MATCHED = {  # S = (s1 + s2) mod 8 and 12 latent bits per modality: 4 blocks of 3 bits
    "ladder_modulus": 8,
    "ladder_blocks": 4,
    "ladder_nuisance_bits": 7,
}
RUNGS: dict[str, dict[str, int]] = {
    **{f"order-m{m}": {"ladder_modulus": m} for m in (2, 3, 4, 6, 8)},
    **{f"parity-k{k}": {"ladder_parity_bits": k} for k in (3, 4, 5, 6)},
    **{f"dominance-{r}": {"ladder_bits_r": r} for r in (2, 4, 8)},
    **{f"spread-{b}": {"ladder_modulus": 4, "ladder_blocks": b} for b in (2, 3)},
    "richness-64": {"ladder_nuisance_bits": 3},
    "richness-512": {"ladder_nuisance_bits": 6},
    "richness-multi": {"ladder_nuisance_bits": 3, "ladder_synergy_labels": 3},
    "dominance-matched-2": {"ladder_bits_r": 2, "ladder_nuisance_bits": 2},
    **{f"spread-matched-{s}": {**SPREAD_MATCHED, "ladder_spread": s} for s in (1, 2, 3)},
}
#: Other names of the same rungs: the first ladder named one task three times (order-m2,
#: dominance-1, richness-8: all defaults), parity-k2 draws exactly order-m2's data (one bit each
#: side, S their XOR), spread-1 is order-m4, and the matched dominance axis starts and ends on
#: rungs the ladder already had.
ALIASES: dict[str, str] = {
    "parity-k2": "order-m2",
    "dominance-1": "order-m2",
    "richness-8": "order-m2",
    "spread-1": "order-m4",
    "dominance-matched-1": "richness-64",
    "dominance-matched-4": "dominance-4",
}

ONE_BLOCK_ENCODER = (
    "mlp: one random network draws every feature from every latent bit, so no chunk of features "
    "holds a part the others lack and masking a token hides little with either encoder; the "
    "default keeps the committed cells of this axis"
)


@dataclass(frozen=True)
class Axis:
    """One axis of the ladder: its rungs (easiest first by design), what moves and what is held,
    the vector encoder its runs use and why, and how the supervised reference's S accuracy at a
    fixed budget moves along it (tests/synthetic/test_ladder_axes.py measures each): ``"falls"``
    (a difficulty axis: harder rung by rung), ``"flat"`` (a matched control: what moves is not
    what the reference is asked about) or ``"rises"`` (the first spread axis, which got easier:
    its confound)."""

    name: str
    rungs: tuple[str, ...]  # names in RUNGS or ALIASES, easiest first
    moves: str
    held: str
    encoder: str  # [model] vector_encoder: "mlp" or "chunks"
    encoder_reason: str
    reference: str  # "falls" | "flat" | "rises": the reference's S accuracy along the axis
    exploratory: bool = False  # an axis of the first ladder that moves more than one thing


AXES: dict[str, Axis] = {
    axis.name: axis
    for axis in (
        Axis(
            "order",
            ("order-m2", "order-m3", "order-m4", "order-m6", "order-m8"),
            "the modulus m of S = (s1 + s2) mod m (log2 m bits of pure synergy)",
            "shared, private and nuisance bits; one block",
            "mlp",
            ONE_BLOCK_ENCODER,
            "falls",
        ),
        Axis(
            "parity",
            ("parity-k2", "parity-k3", "parity-k4", "parity-k5", "parity-k6"),
            "the number k of bits whose parity is S (always 1 bit of synergy)",
            "shared, private and nuisance bits; one block",
            "mlp",
            ONE_BLOCK_ENCODER,
            "falls",
        ),
        Axis(
            "dominance-matched",
            ("dominance-matched-1", "dominance-matched-2", "dominance-matched-4"),
            "shared bits r (R bits : S bits 1 : 1 to 4 : 1), each taking the place of a "
            "nuisance bit",
            "64 latent states per modality, S (1 bit), the private bits; one block",
            "mlp",
            ONE_BLOCK_ENCODER,
            "flat",
        ),
        Axis(
            "spread-matched",
            ("spread-matched-1", "spread-matched-2", "spread-matched-3"),
            "how many of a modality's 4 feature blocks its 3 synergistic bits are dealt over "
            "(1, 2, 3)",
            "S = (s1 + s2) mod 8, 4 blocks of 3 latent bits each (same random-network inputs, "
            "hidden width and 8 features per block), 4,096 latent states per modality",
            "chunks",
            "chunks: the 4 blocks of 8 features are exactly the 4 tokens' chunks, so a token "
            "carries only its block and masking it hides that block's bits (with mlp every "
            "token reads every block and masking hides little)",
            "falls",
        ),
        Axis(
            "richness",
            ("richness-8", "richness-64", "richness-512"),
            "nuisance bits per modality (8, 64, 512 latent states)",
            "S (1 bit), shared and private bits; one block",
            "mlp",
            ONE_BLOCK_ENCODER,
            "falls",
        ),
        Axis(
            "dominance",
            ("dominance-1", "dominance-2", "dominance-4", "dominance-8"),
            "shared bits r (1 : 1 to 8 : 1) and with them the latent states per modality (8 to "
            "1,024): confounded, kept for its committed cells; dominance-matched moves r alone",
            "S (1 bit), the private bits; one block",
            "mlp",
            ONE_BLOCK_ENCODER,
            "falls",
            exploratory=True,
        ),
        Axis(
            "spread",
            ("spread-1", "spread-2", "spread-3"),
            "feature blocks B, and with them each block's bits and features: the synergistic "
            "bits' blocks get simpler networks as B rises, so it got easier; kept for its "
            "committed cells; spread-matched moves the spread alone",
            "S = (s1 + s2) mod 4",
            "chunks",
            "chunks: so that the blocks reach different tokens (the committed cells used it)",
            "rises",
            exploratory=True,
        ),
    )
}


def canonical_rung(name: str) -> str:
    """The registry name of rung ``name`` (itself, or the rung an alias names); a ValueError
    listing every valid name otherwise."""
    if name in RUNGS:
        return name
    if name in ALIASES:
        return ALIASES[name]
    raise ValueError(
        f"unknown ladder rung {name!r}; valid rungs: {', '.join(RUNGS)} "
        f"(aliases: {', '.join(f'{a} = {c}' for a, c in ALIASES.items())})"
    )


def rung_settings(name: str) -> dict[str, int]:
    """The TaskConfig fields of the named rung (or alias); a ValueError listing the names."""
    return dict(RUNGS[canonical_rung(name)])


def synergy_factor_names(j: int) -> tuple[str, str]:
    """Names of the j-th (0-based) synergistic pair: ("s1", "s2"), ("s1_2", "s2_2"), ..."""
    suffix = "" if j == 0 else f"_{j + 1}"
    return f"s1{suffix}", f"s2{suffix}"


@dataclass(frozen=True)
class Rung:
    """The sizes a :class:`TaskConfig` gives the ladder: every latent group and its range."""

    sizes: dict[str, int]  # number of values of each latent group
    modality_groups: tuple[tuple[str, ...], tuple[str, ...]]  # groups each modality sees
    blocks: tuple[tuple[tuple[tuple[str, int], ...], ...], ...]  # [modality][block] -> (group, bit)
    synergy: tuple[str, ...]  # the synergistic labels
    modulus: int  # m, or 0 for parity

    @property
    def states_per_modality(self) -> int:
        """Number of distinct latent states each modality sees (modality 1; 2 is the same up to
        the parity split)."""
        return int(np.prod([self.sizes[g] for g in self.modality_groups[0]]))


def bits_of(size: int) -> int:
    """Bits needed to write values 0..size-1 (at least 1)."""
    return max(1, int(size - 1).bit_length())


def matched_blocks(
    s_bits: list[tuple[str, int]],
    plain: list[tuple[str, int]],
    n_blocks: int,
    spread: int,
    modality: int,
) -> list[list[tuple[str, int]]]:
    """The matched spread layout of one modality: ``n_blocks`` blocks of equally many latent
    bits, the synergistic bits dealt round-robin over the first ``spread`` blocks, the plain
    bits (r, u, nuisance, in that order) filling every block up to the same count.

    Every block's random network then reads the same number of bits through the same hidden
    width into the same number of features at every ``spread``: only how many blocks (and so,
    with the chunked encoder, how many tokens) a modality's synergistic part spans changes.
    A ValueError names what cannot be laid out.
    """
    total = len(s_bits) + len(plain)
    per_block, rest = divmod(total, n_blocks)
    problem = None
    if rest:
        problem = (
            f"its {total} latent bits do not split into {n_blocks} equal blocks; change "
            "ladder_nuisance_bits or ladder_blocks"
        )
    elif spread > len(s_bits):
        problem = f"ladder_spread = {spread} exceeds its {len(s_bits)} synergistic bit(s)"
    elif -(-len(s_bits) // spread) > per_block:
        problem = (
            f"{len(s_bits)} synergistic bits over ladder_spread = {spread} blocks of "
            f"{per_block} bits do not fit; raise ladder_spread"
        )
    if problem:
        raise ValueError(f"matched spread layout of modality {modality}: {problem}")
    blocks: list[list[tuple[str, int]]] = [[] for _ in range(n_blocks)]
    for i, bit in enumerate(s_bits):
        blocks[i % spread].append(bit)
    fill = iter(plain)
    for block in blocks:
        block.extend(next(fill) for _ in range(per_block - len(block)))
    return blocks


def rung_of(config: TaskConfig) -> Rung:
    """The ladder rung ``config`` describes; a ValueError naming the problem if it cannot exist."""
    k = config.ladder_parity_bits
    sizes = {"r": 2**config.ladder_bits_r, "u1": 2**config.ladder_bits_u}
    sizes["u2"] = sizes["u1"]
    if config.ladder_nuisance_bits:
        sizes["n1"] = sizes["n2"] = 2**config.ladder_nuisance_bits
    synergy = SYNERGY_LABELS[: config.ladder_synergy_labels]
    groups: tuple[list[str], list[str]] = (["r", "u1"], ["r", "u2"])
    if config.ladder_nuisance_bits:
        groups[0].append("n1")
        groups[1].append("n2")
    pairs = [synergy_factor_names(j) for j in range(len(synergy))]
    for a, b in pairs:
        sizes[a] = 2 ** ((k + 1) // 2) if k else config.ladder_modulus
        sizes[b] = 2 ** (k // 2) if k else config.ladder_modulus
        groups[0].append(a)
        groups[1].append(b)
    layout = []
    for m, base in enumerate(groups):
        s_bits = [(g, i) for g in base if g.startswith("s") for i in range(bits_of(sizes[g]))]
        plain = [(g, i) for g in base if not g.startswith("s") for i in range(bits_of(sizes[g]))]
        n_blocks = config.ladder_blocks
        if config.ladder_spread:
            blocks = matched_blocks(s_bits, plain, n_blocks, config.ladder_spread, m + 1)
        elif n_blocks == 1:
            blocks = [plain + s_bits]
        else:
            if n_blocks - 1 > len(s_bits):
                raise ValueError(
                    f"TaskConfig.ladder_blocks = {n_blocks} leaves a block of modality {m + 1} "
                    f"empty: its synergistic parts have {len(s_bits)} bit(s) for "
                    f"{n_blocks - 1} blocks; use ladder_blocks <= {len(s_bits) + 1}"
                )
            blocks = [plain] + [s_bits[i :: n_blocks - 1] for i in range(n_blocks - 1)]
        for number, block in enumerate(blocks):
            if len(block) > MAX_LADDER_BLOCK_BITS:
                raise ValueError(
                    f"ladder rung too rich: block {number} of modality {m + 1} sees {len(block)} "
                    f"latent bits, at most {MAX_LADDER_BLOCK_BITS}; lower ladder_bits_r, "
                    "ladder_nuisance_bits or ladder_synergy_labels, or set ladder_blocks >= 2 "
                    "(moves the synergistic bits out of block 0)"
                )
        layout.append(tuple(tuple(block) for block in blocks))
    return Rung(
        sizes=sizes,
        modality_groups=(tuple(groups[0]), tuple(groups[1])),
        blocks=tuple(layout),
        synergy=synergy,
        modulus=0 if k else config.ladder_modulus,
    )


def r_label_classes(config: TaskConfig) -> int:
    return 2 ** min(config.ladder_bits_r, R_LABEL_MAX_BITS)


def label_values(
    factors: dict[str, np.ndarray], rung: Rung, config: TaskConfig
) -> dict[str, np.ndarray]:
    """Every label of the rung as a function of the latents."""
    labels = {
        "R": factors["r"] & (r_label_classes(config) - 1),
        "U1": factors["u1"].copy(),
        "U2": factors["u2"].copy(),
    }
    for j, name in enumerate(rung.synergy):
        a, b = synergy_factor_names(j)
        if rung.modulus:
            labels[name] = (factors[a] + factors[b]) % rung.modulus
        else:
            labels[name] = parity(factors[a]) ^ parity(factors[b])
    return labels


def label_codes(
    factors: dict[str, np.ndarray], rung: Rung, config: TaskConfig
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per label, the (modality 1, modality 2) codes its exact table is indexed by."""
    r_code = factors["r"] & (r_label_classes(config) - 1)
    codes = {
        "R": (r_code, r_code.copy()),
        "U1": (factors["u1"], factors["u2"]),
        "U2": (factors["u1"], factors["u2"]),
    }
    for j, name in enumerate(rung.synergy):
        a, b = synergy_factor_names(j)
        codes[name] = (factors[a], factors[b])
    return codes


def _label_table(label: str, rung: Rung, config: TaskConfig) -> np.ndarray:
    """Exact p(code1, code2, label) in the per-label codes of :func:`label_codes`."""
    if label == "R":
        k = r_label_classes(config)
        table = np.zeros((k, k, k))
        table[np.arange(k), np.arange(k), np.arange(k)] = 1.0 / k
        return table
    if label in ("U1", "U2"):
        k = rung.sizes["u1"]
        table = np.zeros((k, k, k))
        c1, c2 = np.meshgrid(np.arange(k), np.arange(k), indexing="ij")
        table[c1, c2, c1 if label == "U1" else c2] = 1.0 / k**2
        return table
    j = rung.synergy.index(label)
    a, b = synergy_factor_names(j)
    n1, n2 = rung.sizes[a], rung.sizes[b]
    c1, c2 = np.meshgrid(np.arange(n1), np.arange(n2), indexing="ij")
    if rung.modulus:
        y, classes = (c1 + c2) % rung.modulus, rung.modulus
    else:
        y = parity(c1.ravel()).reshape(c1.shape) ^ parity(c2.ravel()).reshape(c2.shape)
        classes = 2
    table = np.zeros((n1, n2, classes))
    table[c1, c2, y] = 1.0 / (n1 * n2)
    return table


def full_latent_joint(label: str, config: TaskConfig, max_states: int = 2**16) -> np.ndarray:
    """Exact p(state1, state2, label) over each modality's whole latent state (every group it
    sees, mixed radix in ``modality_groups`` order). Exponential in the rung's size: for checks
    on small rungs only (a ValueError beyond ``max_states`` joint latent states)."""
    rung = rung_of(config)
    names = list(rung.sizes)
    total = int(np.prod([rung.sizes[g] for g in names]))
    if total > max_states:
        raise ValueError(f"rung has {total} joint latent states, more than {max_states}")
    grids = np.indices([rung.sizes[g] for g in names]).reshape(len(names), -1)
    states = dict(zip(names, grids, strict=True))
    labels = label_values(states, rung, config)
    if label not in labels:
        raise ValueError(f"label {label!r} is not a label of this ladder rung")
    codes = []
    for groups in rung.modality_groups:
        code = np.zeros(total, dtype=np.int64)
        for g in groups:
            code = code * rung.sizes[g] + states[g]
        codes.append(code)
    shape = tuple(int(np.prod([rung.sizes[g] for g in gs])) for gs in rung.modality_groups)
    classes = LADDER.num_classes_for(config)[label]
    table = np.zeros((shape[0], shape[1], classes))
    np.add.at(table, (codes[0], codes[1], labels[label]), 1.0 / total)
    return table


def _block_inputs(
    block: tuple[tuple[str, int], ...], values: dict[str, np.ndarray], rung: Rung
) -> np.ndarray:
    """(n, len(block)) 0/1 inputs of a block: bit i (MSB first) of each listed group value."""
    columns = []
    for group, i in block:
        width = bits_of(rung.sizes[group])
        columns.append(int_to_bits(values[group], width)[:, i])
    return np.stack(columns, axis=1)


def exact_block_map(
    block: tuple[tuple[str, int], ...],
    rung: Rung,
    hidden: int,
    dim: int,
    rng: np.random.Generator,
) -> RandomMap:
    """A random tanh network for a block, standardised exactly over the block's true inputs
    (all values of the groups it reads, equiprobable; values need not fill all bit patterns)."""
    net = draw_random_map(len(block), hidden, dim, rng)
    groups = sorted({g for g, _ in block})
    grids = np.indices([rung.sizes[g] for g in groups]).reshape(len(groups), -1)
    inputs = _block_inputs(block, dict(zip(groups, grids, strict=True)), rung)
    raw = RandomMap(net.w1, net.b1, net.w2, np.zeros(dim), np.ones(dim)).raw(2.0 * inputs - 1.0)
    std = raw.std(axis=0)
    return RandomMap(net.w1, net.b1, net.w2, raw.mean(axis=0), np.where(std > 1e-8, std, 1.0))


class LadderTask(Task):
    """The synergy ladder; its rung (and so its labels and sizes) is set by ``TaskConfig``."""

    name = "ladder"
    description = (
        "synergy ladder: S = (s1 + s2) mod m or a k-bit parity beside shared, private and "
        "nuisance bits; rungs of order, dominance, spread and richness set in [task]"
    )
    kind = "vector"
    labels = ("R", "U1", "U2", "S")  # at the default rung; S2, S3 join with more synergy labels

    def labels_for(self, config: TaskConfig) -> tuple[str, ...]:
        return ("R", "U1", "U2", *SYNERGY_LABELS[: config.ladder_synergy_labels])

    def num_classes_for(self, config: TaskConfig) -> dict[str, int]:
        s_classes = config.ladder_modulus if not config.ladder_parity_bits else 2
        out = {
            "R": r_label_classes(config),
            "U1": 2**config.ladder_bits_u,
            "U2": 2**config.ladder_bits_u,
        }
        out.update(dict.fromkeys(SYNERGY_LABELS[: config.ladder_synergy_labels], s_classes))
        return out

    def latent_joint(self, label: str, config: TaskConfig | None = None) -> np.ndarray:
        config = config if config is not None else TaskConfig()
        valid = self.labels_for(config)
        if label not in valid:
            raise ValueError(
                f"label {label!r} is not a label of task 'ladder' at this rung; "
                f"its labels: {', '.join(valid)}"
            )
        return self._latent_joint(label, config)

    def _latent_joint(self, label: str, config: TaskConfig) -> np.ndarray:
        return _label_table(label, rung_of(config), config)

    def generate(self, config: TaskConfig | None = None, seed: int = 0) -> MultimodalDataset:
        config = config if config is not None else TaskConfig()
        seed = check_seed(seed)
        rung = rung_of(config)
        rngs = child_rngs(seed, ("maps", "latents", "noise"))
        n = config.n_samples
        factors = {g: rngs["latents"].integers(0, size, size=n) for g, size in rung.sizes.items()}
        xs = []
        for blocks in rung.blocks:
            widths = [len(part) for part in np.array_split(np.arange(config.dim), len(blocks))]
            parts = []
            for block, width in zip(blocks, widths, strict=True):
                net = exact_block_map(block, rung, config.hidden, width, rngs["maps"])
                parts.append(
                    observe(_block_inputs(block, factors, rung), net, config.noise, rngs["noise"])
                )
            xs.append(np.concatenate(parts, axis=1))
        whole = Split(
            x1=xs[0],
            x2=xs[1],
            labels=label_values(factors, rung, config),
            latent_codes=label_codes(factors, rung, config),
            factors=factors,
        )
        return self.split_dataset(whole, config, seed)


LADDER = LadderTask()


def rung_pid_bits(label: str, config: TaskConfig) -> dict[str, float]:
    """The PID each label has by construction (bits): R -> redundancy, U -> unique, S -> synergy.

    The tests check these against the BROJA solver on the exact tables.
    """
    rung = rung_of(config)
    atoms = dict.fromkeys(("redundancy", "unique1", "unique2", "synergy"), 0.0)
    if label == "R":
        atoms["redundancy"] = float(min(config.ladder_bits_r, R_LABEL_MAX_BITS))
    elif label == "U1":
        atoms["unique1"] = float(config.ladder_bits_u)
    elif label == "U2":
        atoms["unique2"] = float(config.ladder_bits_u)
    elif label in rung.synergy:
        atoms["synergy"] = float(np.log2(rung.modulus)) if rung.modulus else 1.0
    else:
        raise ValueError(f"label {label!r} is not a label of this ladder rung")
    return atoms


__all__ = [
    "ALIASES",
    "AXES",
    "Axis",
    "LADDER",
    "LadderTask",
    "RUNGS",
    "Rung",
    "canonical_rung",
    "full_latent_joint",
    "matched_blocks",
    "rung_of",
    "rung_pid_bits",
    "rung_settings",
]
