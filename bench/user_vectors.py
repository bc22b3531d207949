"""Real user-tower outputs for a sample of a world's users (queries for bench.online_index).

    .venv/bin/python -m bench.user_vectors --export <eval>/models/two_tower/<v> \\
        --feast <eval>/feast --world <world> --users 500 --out /tmp/users.npy

Features are the users' point-in-time rows as of the world's split, through the same
FeatureService and numpy `UserEncoder` the API uses.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from colisten import names
from colisten.user_encoder import UserEncoder
from colisten.world import format as fmt
from feature_repo.config import FeatureStoreConfig
from feature_repo.store import open_store
from trainers.two_tower.data import historical_user_rows


def user_vectors(
    export: Path, feast: Path, world: Path, n: int, seed: int
) -> np.ndarray:
    """n sampled users' vectors from the exported user tower, features as of the split."""
    users = fmt.read_users(world)[names.USER_ID].to_numpy()
    pick = np.random.default_rng(seed).choice(users, min(n, len(users)), replace=False)
    store = open_store(FeatureStoreConfig(online="sqlite", data_dir=feast))
    cutoff = fmt.WorldManifest.read(world).split_ms
    rows = historical_user_rows(store, list(pick), np.full(len(pick), cutoff))
    return UserEncoder.load(export).encode(rows)


def main() -> None:
    """Parse arguments, encode, save the .npy."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--export", type=Path, required=True)
    ap.add_argument("--feast", type=Path, required=True)
    ap.add_argument("--world", type=Path, required=True)
    ap.add_argument("--users", type=int, default=500)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    vecs = user_vectors(args.export, args.feast, args.world, args.users, args.seed)
    np.save(args.out, vecs.astype(np.float32))
    print(f"{len(vecs)} user vectors, dim {vecs.shape[1]} -> {args.out}")


if __name__ == "__main__":
    main()
