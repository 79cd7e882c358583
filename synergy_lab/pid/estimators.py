"""BROJA PID estimates from samples: discrete columns, and continuous representations by clustering.

Discrete columns: the empirical (plug-in) joint table, then the exact solver :func:`broja_pid`.

Continuous representations (Liang et al., NeurIPS 2023, "Quantifying & Modeling Multimodal
Interactions", the CVX estimator on clustered features): each modality's features are clustered
with scikit-learn's k-means (optionally on the first principal components of the L2-normalised
features, as Liang et al. do for high-dimensional modalities), the cluster ids become discrete
X1, X2, and the joint table with the discrete label Y is solved exactly.

Known biases of these estimates (all in bits):

* Plug-in mutual information from n samples is biased *upward*; to first order by
  (cells - 1) (|Y| - 1) / (2 n ln 2) for I(Y; X) with ``cells`` occupied values of X (Miller,
  1955). The joint (X1, X2) has up to k1 k2 cells, so I(Y; X1, X2) and with it the synergy is
  inflated most, growing with the number of clusters and shrinking as 1/n.
* Clustering is a deterministic function of the features, so by the data-processing
  inequality it can only lose information: every I(Y; .) is biased *downward* when k is too
  small to separate what the label depends on (e.g. k = 1 sees nothing).
* The two pull in opposite directions: choose k large enough to resolve the structure, and
  n >> k1 k2 |Y| so the cells are well populated.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synergy_lab.pid.broja import PID, broja_pid


def _int_column(values: np.ndarray, name: str) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array; got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty")
    if arr.dtype == np.bool_:
        return arr.astype(np.int64)
    if not np.issubdtype(arr.dtype, np.integer):
        if np.issubdtype(arr.dtype, np.floating) and np.all(np.isfinite(arr)):
            if np.all(arr == np.round(arr)):
                return arr.astype(np.int64)
        raise ValueError(f"{name} must hold integers; got dtype {arr.dtype}")
    if np.any(arr < 0):
        raise ValueError(f"{name} must be non-negative")
    return arr.astype(np.int64)


def joint_table(
    x1: np.ndarray,
    x2: np.ndarray,
    y: np.ndarray,
    shape: tuple[int, int, int] | None = None,
) -> np.ndarray:
    """Empirical table p(x1, x2, y) (sums to 1) of three int columns of equal length n.

    Values must lie in range(shape[i]); ``shape`` defaults to (max + 1) per column.
    """
    cols = [_int_column(v, name) for v, name in ((x1, "x1"), (x2, "x2"), (y, "y"))]
    n = cols[0].size
    if cols[1].size != n or cols[2].size != n:
        raise ValueError(
            f"x1, x2, y must have equal length; got {cols[0].size}, {cols[1].size}, {cols[2].size}"
        )
    if shape is None:
        dims = tuple(int(c.max()) + 1 for c in cols)
    else:
        if len(shape) != 3 or any(int(d) < 1 for d in shape):
            raise ValueError(f"shape must be three positive ints; got {shape}")
        dims = tuple(int(d) for d in shape)
        for c, d, name in zip(cols, dims, ("x1", "x2", "y"), strict=True):
            if c.max() >= d:
                raise ValueError(f"{name} has value {c.max()} outside range({d}) of shape")
    flat = np.ravel_multi_index((cols[0], cols[1], cols[2]), dims)
    counts = np.bincount(flat, minlength=int(np.prod(dims)))
    return counts.reshape(dims) / n


def pid_from_samples(
    x1: np.ndarray,
    x2: np.ndarray,
    y: np.ndarray,
    shape: tuple[int, int, int] | None = None,
) -> PID:
    """Plug-in BROJA PID (bits) of discrete samples: :func:`joint_table`, then the exact solver.

    Biased upward by finite sampling (see the module docstring).
    """
    return broja_pid(joint_table(x1, x2, y, shape))


@dataclass(frozen=True)
class ClusterConfig:
    """k-means settings of the cluster estimator (one k per modality).

    ``pca_components`` > 0 clusters the first principal components of the row-wise
    L2-normalised features instead of the (standardised) features themselves; Liang et al.
    (NeurIPS 2023) use 5 components for their real-data estimates.
    """

    n_clusters1: int = 10  # k for modality 1
    n_clusters2: int = 10  # k for modality 2
    n_init: int = 4  # k-means restarts; the lowest within-cluster sum of squares is kept
    max_iter: int = 100  # Lloyd iterations per restart
    standardize: bool = True  # z-score each feature before clustering (or before PCA)
    seed: int = 0  # seed of the k-means++ initialisation
    pca_components: int = 0  # 0: no PCA; else cluster this many principal components

    def __post_init__(self) -> None:
        if self.n_clusters1 < 1:
            raise ValueError(f"n_clusters1 must be >= 1; got {self.n_clusters1}")
        if self.n_clusters2 < 1:
            raise ValueError(f"n_clusters2 must be >= 1; got {self.n_clusters2}")
        if self.n_init < 1:
            raise ValueError(f"n_init must be >= 1; got {self.n_init}")
        if self.max_iter < 1:
            raise ValueError(f"max_iter must be >= 1; got {self.max_iter}")
        if self.pca_components < 0:
            raise ValueError(f"pca_components must be >= 0; got {self.pca_components}")


def cluster_labels(
    features: np.ndarray, n_clusters: int, config: ClusterConfig, stream: int = 0
) -> np.ndarray:
    """Cluster ids (n,) in range(n_clusters) of continuous ``features`` (n, d) (or (n,)).

    scikit-learn's ``KMeans`` (k-means++ seeding, ``config.n_init`` restarts, the lowest
    inertia kept), seeded by ``config.seed`` and ``stream`` (which separates the two
    modalities under one seed). If there are fewer distinct points than ``n_clusters``, fewer
    clusters are used.
    """
    from sklearn.cluster import KMeans
    from sklearn.decomposition import PCA

    feats = np.asarray(features, dtype=np.float64)
    if feats.ndim == 1:
        feats = feats[:, None]
    if feats.ndim != 2 or feats.shape[0] == 0:
        raise ValueError(f"features must be a non-empty (n, d) or (n,) array; got {feats.shape}")
    if not np.all(np.isfinite(feats)):
        raise ValueError("features contain NaN or infinite values")
    if n_clusters < 1:
        raise ValueError(f"n_clusters must be >= 1; got {n_clusters}")
    if config.standardize:
        scale = feats.std(axis=0)
        feats = (feats - feats.mean(axis=0)) / np.where(scale > 0, scale, 1.0)
    seed = int(np.random.default_rng([config.seed, stream]).integers(2**31 - 1))
    if config.pca_components > 0 and feats.shape[1] > config.pca_components:
        norms = np.linalg.norm(feats, axis=1, keepdims=True)
        feats = feats / np.where(norms > 0, norms, 1.0)
        feats = PCA(n_components=config.pca_components, random_state=seed).fit_transform(feats)
    k = min(n_clusters, len(np.unique(feats, axis=0)))
    model = KMeans(n_clusters=k, n_init=config.n_init, max_iter=config.max_iter, random_state=seed)
    return np.asarray(model.fit_predict(feats), dtype=np.int64)


def cluster_table(
    z1: np.ndarray, z2: np.ndarray, y: np.ndarray, config: ClusterConfig | None = None
) -> np.ndarray:
    """Empirical table p(cluster of z1, cluster of z2, y), shape (k1, k2, max(y) + 1)."""
    cfg = config if config is not None else ClusterConfig()
    labels_y = _int_column(y, "y")
    n1 = np.asarray(z1).shape[0]
    n2 = np.asarray(z2).shape[0]
    if n1 != labels_y.size or n2 != labels_y.size:
        raise ValueError(f"z1, z2, y must have equal length; got {n1}, {n2}, {labels_y.size}")
    c1 = cluster_labels(z1, cfg.n_clusters1, cfg, stream=1)
    c2 = cluster_labels(z2, cfg.n_clusters2, cfg, stream=2)
    shape = (cfg.n_clusters1, cfg.n_clusters2, int(labels_y.max()) + 1)
    return joint_table(c1, c2, labels_y, shape)


def cluster_pid(
    z1: np.ndarray, z2: np.ndarray, y: np.ndarray, config: ClusterConfig | None = None
) -> PID:
    """BROJA PID (bits) of representations z1 (n, d1), z2 (n, d2) about int labels y (n,).

    Cluster each modality, tabulate with y, solve exactly (Liang et al., NeurIPS 2023). See the
    module docstring for the biases (upward from finite samples, downward from clustering).
    """
    return broja_pid(cluster_table(z1, z2, y, config))
