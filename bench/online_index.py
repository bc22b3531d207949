"""Annoy recall@10 against exact search, and query times, on synthetic or trained vectors.

    .venv/bin/python -m bench.online_index --n 250000 --dim 128 --queries 200
    .venv/bin/python -m bench.online_index --vectors models/two_tower/<v>/items_podcast.npy \
        [--query-vectors users.npy]

Two synthetic distributions: `uniform` (isotropic Gaussian, normalised: no structure, the
worst case for any tree index) and `clustered` (items around 2,000 topic centres, like
trained embeddings). `--vectors` reads a trained export's item vectors instead; queries
are then `--query-vectors` (e.g. real user-tower outputs) or perturbed item vectors.
Prints one line per (distribution, trees, search_k).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from colisten.retrieval import build_index, load_index, normalize


def make_vectors(kind: str, n: int, dim: int, seed: int) -> np.ndarray:
    """n unit vectors: uniform on the sphere, or clustered around topic centres."""
    rng = np.random.default_rng(seed)
    if kind == "uniform":
        return normalize(rng.standard_normal((n, dim)))
    centres = normalize(rng.standard_normal((2000, dim)))
    which = rng.integers(0, len(centres), n)
    noise = rng.standard_normal((n, dim)) / np.sqrt(dim)
    return normalize(centres[which] + 0.9 * noise)


def queries_like(vectors: np.ndarray, m: int, seed: int) -> np.ndarray:
    """Queries near stored vectors (user vectors live where items do)."""
    rng = np.random.default_rng(seed)
    base = vectors[rng.integers(0, len(vectors), m)]
    return normalize(
        base + 0.5 * rng.standard_normal(base.shape) / np.sqrt(base.shape[1])
    )


def main() -> None:
    """Run the grid and print recall@10 and per-query latency."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=250_000)
    ap.add_argument("--dim", type=int, default=128)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--trees", default="50")
    ap.add_argument("--fractions", default="0.01,0.02,0.04,0.08,0.2,0.4")
    ap.add_argument("--dists", default="clustered,uniform")
    ap.add_argument("--vectors", type=Path, help="A trained items_<type>.npy instead.")
    ap.add_argument(
        "--query-vectors", type=Path, help="Query rows (.npy), with --vectors."
    )
    args = ap.parse_args()
    for dist in [args.vectors.name] if args.vectors else args.dists.split(","):
        if args.vectors:
            vecs = normalize(np.load(args.vectors).astype(np.float32))
            args.n, args.dim = vecs.shape
            qs = (
                normalize(np.load(args.query_vectors).astype(np.float32))[
                    : args.queries
                ]
                if args.query_vectors
                else queries_like(vecs, args.queries, 1)
            )
        else:
            vecs = make_vectors(dist, args.n, args.dim, 0)
            qs = queries_like(vecs, args.queries, 1)
        ids = [f"i{i}" for i in range(args.n)]
        with tempfile.TemporaryDirectory() as tmp:
            exact = load_index(build_index(vecs, ids, Path(tmp) / "e", "exact"))
            t = time.perf_counter()
            truth = [{i for i, _ in exact.search(q, 10)} for q in qs]
            exact_ms = (time.perf_counter() - t) / len(qs) * 1000
            print(f"{dist} n={args.n} dim={args.dim} exact: {exact_ms:.2f} ms/query")
            for trees in map(int, args.trees.split(",")):
                t = time.perf_counter()
                out = build_index(
                    vecs, ids, Path(tmp) / f"a{trees}", "annoy", n_trees=trees
                )
                build_s = time.perf_counter() - t
                for frac in map(float, args.fractions.split(",")):
                    sk = max(1000, int(frac * args.n))
                    index = load_index(out, search_k=sk)
                    t = time.perf_counter()
                    got = [{i for i, _ in index.search(q, 10)} for q in qs]
                    ms = (time.perf_counter() - t) / len(qs) * 1000
                    recall = np.mean(
                        [len(g & w) / 10 for g, w in zip(got, truth, strict=True)]
                    )
                    print(
                        f"{dist} annoy trees={trees} build={build_s:.1f}s "
                        f"search_k={sk} ({frac:g}n): recall@10={recall:.3f} {ms:.2f} ms/query",
                        flush=True,
                    )


if __name__ == "__main__":
    main()
