"""k-means for the cluster PID estimator: scikit-learn's KMeans against our former hand-written one.

The hand-written k-means (k-means++ seeding, Lloyd iterations, best of ``n_init`` restarts) was
removed from the library when ``cluster_pid`` moved to scikit-learn (issue 11, item 8); it lives
on here only as the baseline. Two measurements, single-threaded (set OMP_NUM_THREADS=1 etc.; the
script also caps threads with threadpoolctl when available), on Gaussian blobs in 3072
dimensions (a 32 x 32 x 3 image, flattened):

1. Speed: wall time on (4000, 3072) with k = 10, best of ``--repeats``.
2. Partition quality at k = 20 on three seeds: final inertia (within-cluster sum of squares) of
   each, against the inertia of the true partition (lower is better; the true one is the
   target), and the adjusted Rand index against the true blobs.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/kmeans_speed.py

The machine's load average is printed: timings on a shared machine are upper bounds.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np


def _sq_distances(points: np.ndarray, centers: np.ndarray) -> np.ndarray:
    d = (
        np.sum(points**2, axis=1)[:, None]
        - 2.0 * points @ centers.T
        + np.sum(centers**2, axis=1)[None, :]
    )
    return np.maximum(d, 0.0)


def handwritten_kmeans(
    points: np.ndarray, k: int, rng: np.random.Generator, n_init: int = 4, max_iter: int = 100
) -> tuple[np.ndarray, float]:
    """The library's former k-means (baseline only): (labels, inertia)."""
    n = points.shape[0]
    best: tuple[float, np.ndarray] | None = None
    for _ in range(n_init):
        centers = points[[int(rng.integers(n))]]
        closest = _sq_distances(points, centers)[:, 0]
        for _ in range(1, k):
            total = closest.sum()
            pick = int(rng.choice(n, p=closest / total)) if total > 0 else int(rng.integers(n))
            centers = np.vstack([centers, points[pick]])
            closest = np.minimum(closest, _sq_distances(points, points[[pick]])[:, 0])
        labels = np.zeros(n, dtype=np.int64)
        for it in range(max_iter):
            dist = _sq_distances(points, centers)
            new_labels = dist.argmin(axis=1)
            if it > 0 and np.array_equal(new_labels, labels):
                break
            labels = new_labels
            for j in range(k):
                members = labels == j
                if members.any():
                    centers[j] = points[members].mean(axis=0)
                else:
                    far = int(dist[np.arange(n), labels].argmax())
                    centers[j] = points[far]
                    labels[far] = j
        inertia = float(_sq_distances(points, centers)[np.arange(n), labels].sum())
        if best is None or inertia < best[0]:
            best = (inertia, labels.copy())
    assert best is not None
    return best[1], best[0]


def sklearn_kmeans(
    points: np.ndarray, k: int, seed: int, n_init: int = 4
) -> tuple[np.ndarray, float]:
    from sklearn.cluster import KMeans

    model = KMeans(n_clusters=k, n_init=n_init, max_iter=100, random_state=seed).fit(points)
    return model.labels_, float(model.inertia_)


def blobs(n: int, d: int, k: int, seed: int, spread: float = 1.0, noise: float = 0.32):
    """n points around k Gaussian centres in d dimensions; returns (points, true labels)."""
    rng = np.random.default_rng(seed)
    centers = spread * rng.standard_normal((k, d))
    truth = rng.integers(0, k, n)
    return centers[truth] + noise * rng.standard_normal((n, d)), truth


def true_inertia(points: np.ndarray, truth: np.ndarray) -> float:
    return float(
        sum(
            ((points[truth == j] - points[truth == j].mean(0)) ** 2).sum() for j in np.unique(truth)
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=4000)
    parser.add_argument("--d", type=int, default=3072)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    except ImportError:  # pragma: no cover
        pass
    print(f"load average before: {os.getloadavg()}")
    from sklearn.metrics import adjusted_rand_score

    points, _ = blobs(args.n, args.d, 10, seed=100)
    for name, fn in (
        ("ours (hand-written)", lambda: handwritten_kmeans(points, 10, np.random.default_rng(0))),
        ("scikit-learn", lambda: sklearn_kmeans(points, 10, 0)),
    ):
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        print(f"speed ({args.n}, {args.d}), k = 10, n_init = 4: {name:<20} {min(times):6.2f} s")

    print(f"\npartition quality at k = 20 ({args.n}, {args.d}), n_init = 4:")
    print(f"{'seed':>4} {'true inertia':>13} {'ours':>11} {'ARI':>5} {'sklearn':>11} {'ARI':>5}")
    for seed in range(args.seeds):
        points, truth = blobs(args.n, args.d, 20, seed=seed)
        ours_labels, ours = handwritten_kmeans(points, 20, np.random.default_rng(seed))
        sk_labels, sk = sklearn_kmeans(points, 20, seed)
        print(
            f"{seed:>4} {true_inertia(points, truth):13.4g} {ours:11.4g} "
            f"{adjusted_rand_score(truth, ours_labels):5.2f} {sk:11.4g} "
            f"{adjusted_rand_score(truth, sk_labels):5.2f}"
        )
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
