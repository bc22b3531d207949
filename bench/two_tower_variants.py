"""Two-tower variants on one evaluation store: paired against Popularity and each other.

Usage::

    python bench/two_tower_variants.py --eval-dir var/eval-medium-preview \\
        --world var/worlds/medium-7 --seeds 0 --epochs 10 \\
        --variant default='{}' --variant logq='{"loss_weighting": "logq"}' \\
        [--item-type podcast] [--out var/tt/run.json]

The eval dir is what ``colisten evaluate`` wrote (``feast/`` with the backfill, content
and HGNN embeddings; ``models/[seed-S/]hgnn/latest``). Each variant is a JSON object of
TwoTowerConfig overrides, trained once per seed on the labels before the cut-off and
scored like the evaluation's two-tower rows (user tower on the test users' features as of
the cut-off · item tower on the candidates, popularity breaking ties), next to Popularity,
HGNN kNN and the reference rows (audiobooks). Prints warm/cold (or all, podcasts) HR@10
and MRR, the paired difference from Popularity, the mean popularity tier of the top 10,
and the training loss; with --out writes the same as JSON. Feature rows read from Feast
are cached under ``<eval-dir>/tt-cache/`` (pickles this script wrote itself).
"""

from __future__ import annotations

import argparse
import json
import pickle
import time
from pathlib import Path
from typing import Any

import numpy as np


def _cached(path: Path, make: Any) -> Any:
    if path.exists():
        with path.open("rb") as f:
            return pickle.load(f)  # noqa: S301 (a cache this script wrote)
    got = make()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        pickle.dump(got, f)
    return got


def _hgnn_version(eval_dir: Path, seed: int, validation: bool = False) -> str:
    models = eval_dir / ("models-val" if validation else "models")
    seeded = models / f"seed-{seed}" / "hgnn" / "latest"
    return (
        (seeded if seeded.exists() else models / "hgnn" / "latest").read_text().strip()
    )


def _row(
    es: Any, lists: np.ndarray, ref: np.ndarray | None, unseen: Any = None
) -> dict[str, Any]:
    """HR@10, MRR, top-10 tier and the paired difference from ref, per user group."""
    from trainers.evaluation.metrics import hits_at, reciprocal_ranks
    from trainers.evaluation.paired import paired_bootstrap

    hits = hits_at(lists, es.targets)
    rr = reciprocal_ranks(lists, es.targets)
    tier = es.tiers[np.where(lists[:, :10] >= 0, lists[:, :10], 0)].mean(axis=1)
    groups = {"warm": es.warm, "cold": ~es.warm}
    if es.item_type != "audiobook":
        groups = {"all": np.ones(len(es.users), bool)}
    out: dict[str, Any] = {"hits": hits.tolist()}
    for g, m in groups.items():
        entry = {
            "n": int(m.sum()),
            "hr10": float(hits[m].mean()),
            "mrr": float(rr[m].mean()),
            "top10_tier": float(tier[m].mean()),
        }
        if unseen is not None:
            top = np.where(lists[m, :10] >= 0, lists[m, :10], 0)
            entry["top10_unseen"] = float(unseen[top].mean())
        if ref is not None:
            d = paired_bootstrap(hits[m], ref[m], 1000, 0)
            entry |= {"d_pop": d.diff, "d_pop_ci": d.ci, "d_pop_p": d.p}
        out[g] = entry
    return out


def main() -> None:
    """Train every variant for every seed and print the table."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--eval-dir", type=Path, required=True)
    ap.add_argument("--world", type=Path, required=True)
    ap.add_argument("--seeds", default="0")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--item-type", default="audiobook")
    ap.add_argument("--variant", action="append", default=[], help="name=JSON")
    ap.add_argument("--no-reference", action="store_true")
    ap.add_argument(
        "--validation",
        action="store_true",
        help="move the cut-off 14 days back: train before it, test on those 14 days",
    )
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()

    from colisten import names
    from colisten.user_encoder import build_user_inputs
    from colisten.world import format as fmt
    from feature_repo.config import FeatureStoreConfig
    from feature_repo.store import open_store
    from trainers.evaluation import baselines as bl
    from trainers.evaluation import reference as ref
    from trainers.evaluation.split import make_eval_set
    from trainers.two_tower.config import TwoTowerConfig
    from trainers.two_tower.data import (
        build_training_data,
        hgnn_vectors,
        historical_user_rows,
        labels_from_events,
    )
    from trainers.two_tower.pipeline import load_items
    from trainers.two_tower.train import apply_model, train_two_tower

    seeds = [int(s) for s in args.seeds.split(",")]
    variants = {
        v.split("=", 1)[0]: json.loads(v.split("=", 1)[1]) for v in args.variant
    }
    manifest = fmt.WorldManifest.read(args.world)
    cutoff = manifest.split_ms - (14 * 86_400_000 if args.validation else 0)
    store_cfg = FeatureStoreConfig(online="sqlite", data_dir=args.eval_dir / "feast")
    catalogue = fmt.read_catalogue(args.world)
    events = fmt.read_events(args.world, until_ms=int(cutoff + 14 * 86_400_000))
    train_events = events[events[names.TS] < cutoff]
    es = make_eval_set(events, catalogue, cutoff, 14.0, args.item_type)
    cache_dir = args.eval_dir / ("tt-cache-val" if args.validation else "tt-cache")
    eval_rows = _cached(
        cache_dir / f"eval_rows_{args.item_type}.pkl",
        lambda: historical_user_rows(
            open_store(store_cfg), es.users, np.full(len(es.users), cutoff)
        ),
    )
    labels = labels_from_events(train_events, cutoff, args.item_type)
    label_rows = _cached(
        cache_dir / f"label_rows_{args.item_type}.pkl",
        lambda: {},
    )
    results: dict[str, Any] = {"rows": {}}
    fixed: dict[str, Any] = {"Popularity": bl.popularity(es)}
    if args.item_type == names.AUDIOBOOK and not args.no_reference:
        hg = hgnn_vectors(
            store_cfg.data_dir, _hgnn_version(args.eval_dir, seeds[0], args.validation)
        )
        vec = dict(zip(hg[names.ITEM_ID], hg["hgnn_embedding"], strict=True))
        fixed["HGNN kNN"] = bl.knn(es, train_events, vec)
        fixed |= ref.reference_scorers(es, train_events, catalogue, args.world)
    pop_hits = None
    for name, scorer in fixed.items():
        got = _row(es, bl.rank_all(es, scorer), pop_hits)
        pop_hits = pop_hits if pop_hits is not None else np.asarray(got["hits"])
        results["rows"][name] = got
    for name, overrides in variants.items():
        for seed in seeds:
            base = {"epochs": args.epochs, "target_type": args.item_type}
            overrides = dict(overrides)
            serve_prior = overrides.pop("_serve_prior", False)
            zero_inputs = overrides.pop("_zero_inputs", [])
            mean_cold = overrides.pop("_mean_cold", False)
            cfg = TwoTowerConfig.from_json(base | overrides | {"seed": seed})
            version = (
                _hgnn_version(args.eval_dir, seed, args.validation)
                if cfg.use_hgnn
                else None
            )
            items = load_items(store_cfg, cutoff, version)
            n_before = len(label_rows)
            data = build_training_data(
                open_store(store_cfg), labels, items, cfg, label_rows, cutoff
            )
            if len(label_rows) != n_before:
                with (cache_dir / f"label_rows_{args.item_type}.pkl").open("wb") as f:
                    pickle.dump(label_rows, f)
            t0 = time.perf_counter()
            res = train_two_tower(data, cfg, progress=False)
            secs = time.perf_counter() - t0
            u_in = build_user_inputs(
                eval_rows, items.user_vectors(cfg.use_hgnn), data.user_spec
            )
            for key in zero_inputs:  # diagnostic: blank an input at inference
                u_in[key] = np.zeros_like(u_in[key])
            users = apply_model(res.user_model, u_in)
            if mean_cold:  # diagnostic: every cold user gets the cold users' mean
                cm = users[~es.warm].mean(axis=0)
                users[~es.warm] = cm / np.linalg.norm(cm)
            pos = {i: k for k, i in enumerate(items.ids)}
            data_pos = {items.ids[r]: k for k, r in enumerate(data.item_rows)}
            counts = np.bincount(data.label_rows, minlength=len(data.item_rows))
            unseen = np.array([counts[data_pos[c]] == 0 for c in es.candidates])
            rows = np.array([pos[c] for c in es.candidates])
            vecs = apply_model(res.item_model, data.items.inputs(rows, data.item_spec))
            if serve_prior:
                # score = cos / T + log q (q: training label share, floored at 1 count)
                lq = data.log_q[[data_pos[c] for c in es.candidates]]
                users = np.hstack([users / cfg.temperature, np.ones((len(users), 1))])
                vecs = np.hstack([vecs, lq[:, None]])
            scorer = bl.Scorer(users, vecs, bl.prior_of(es))
            got = _row(es, bl.rank_all(es, scorer), pop_hits, unseen)
            sc = users @ vecs.T
            lp = np.log1p(es.popularity)
            rk = np.argsort(np.argsort(sc, axis=1), axis=1).astype(float)
            rp = np.argsort(np.argsort(lp)).astype(float)
            rho = [np.corrcoef(r, rp)[0, 1] for r in rk]
            got |= {
                "pop_rank_corr_warm": float(np.mean(np.array(rho)[es.warm])),
                "pop_rank_corr_cold": float(np.mean(np.array(rho)[~es.warm])),
                "config": cfg.to_json(),
                "labels": len(data.label_rows),
                "initial_loss": res.initial_loss,
                "loss": [round(h["loss"], 4) for h in res.history],
                "val_loss": [round(h.get("val_loss", 0), 4) for h in res.history],
                "train_seconds": round(secs, 1),
            }
            results["rows"][f"{name} s{seed}"] = got
            _print_row(f"{name} s{seed}", got)
    print("\nreference rows:")
    for name, got in results["rows"].items():
        if name in fixed:
            _print_row(name, got)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=1, default=float))


def _print_row(name: str, got: dict[str, Any]) -> None:
    parts = []
    for g in ("warm", "cold", "all"):
        if g in got:
            e = got[g]
            d = f" Δpop {e['d_pop']:+.3f} p{e['d_pop_p']:.3f}" if "d_pop" in e else ""
            u = f" unseen {e['top10_unseen']:.2f}" if "top10_unseen" in e else ""
            parts.append(
                f"{g} {e['hr10']:.3f}/{e['mrr']:.3f} tier {e['top10_tier']:.2f}{u}{d}"
            )
    loss = got.get("loss")
    tail = f" loss {got['initial_loss']:.2f}->{loss[-1]:.2f}" if loss else ""
    if got.get("val_loss") and got["val_loss"][-1]:
        tail += " val " + ",".join(f"{v:.2f}" for v in got["val_loss"])
    if "pop_rank_corr_warm" in got:
        tail += f" ρpop {got['pop_rank_corr_warm']:.2f}/{got['pop_rank_corr_cold']:.2f}"
    print(f"{name:34s} " + " | ".join(parts) + tail, flush=True)


if __name__ == "__main__":
    main()
