"""Two-tower variants on one evaluation store, paired against Popularity (session 9).

Usage (from the repository root)::

    PYTHONPATH=. python bench/two_tower_variants.py --eval-dir var/eval-medium-preview \\
        --world var/worlds/medium-7 --seeds 0,1,2 \\
        --variant new='{}' --variant old='{"loss_weighting": "example_weights"}' \\
        [--item-type podcast] [--validation] [--no-reference] [--out var/tt/run.json]

The eval dir is what ``colisten evaluate`` wrote (``feast/`` with the backfill, content
and HGNN embeddings; ``models/[seed-S/]hgnn/latest``). Each variant is a JSON object of
TwoTowerConfig overrides (plus ``"_serve_prior": true``, a diagnostic: rank by
cos / T + log q, q the item's share of the training labels), trained once per seed on
the labels before the cut-off and scored like the evaluation's two-tower rows (user tower
on the test users' features as of the cut-off · item tower on the candidates, popularity
breaking ties), beside Popularity, HGNN kNN and the reference rows (audiobooks).

``--validation`` moves the cut-off 14 days back: the towers train on labels before it and
are scored on those 14 days, so hyperparameters can be chosen without the test window.
Its HGNN must not have seen those days: ``--make-val-hgnn EPOCHS`` trains one on the
store as of the earlier cut-off into ``<eval-dir>/models-val`` first.

Per variant and group (warm/cold, or all for podcasts) it prints HR@10/MRR, the paired
bootstrap difference from Popularity, the mean popularity tier of the top 10 (1 = top
20%), the share of top-10 slots holding items without a training label, the mean rank
correlation of a user's scores with popularity, and a mean ± sd over seeds at the end.
Feature rows read from Feast are cached (pickles this script wrote) under
``<eval-dir>/tt-cache[-val]/``.
"""

from __future__ import annotations

import argparse
import json
import pickle
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from colisten.model_store import HGNN, ModelStore
from colisten.timeunits import DAY_MS

HOLDOUT_DAYS = 14


def _cached(path: Path, make: Any) -> Any:
    if path.exists():
        with path.open("rb") as f:
            return pickle.load(f)  # noqa: S301 (a cache this script wrote)
    got = make()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        pickle.dump(got, f)
    return got


def _models(eval_dir: Path, validation: bool) -> Path:
    return eval_dir / ("models-val" if validation else "models")


def _hgnn_version(eval_dir: Path, seed: int, validation: bool) -> str:
    models = _models(eval_dir, validation)
    seeded = ModelStore(models / f"seed-{seed}").latest(HGNN)
    version = seeded or ModelStore(models).latest(HGNN)
    if version is None:
        raise FileNotFoundError(f"no HGNN published under {models}")
    return version


def _row(
    es: Any, lists: np.ndarray, pop_hits: np.ndarray | None, unseen: Any = None
) -> dict[str, Any]:
    """HR@10, MRR, top-10 tier (and unseen share), paired Δ from Popularity, per group."""
    from trainers.evaluation.metrics import hits_at, reciprocal_ranks
    from trainers.evaluation.paired import paired_bootstrap

    hits = hits_at(lists, es.targets)
    rr = reciprocal_ranks(lists, es.targets)
    top = np.where(lists[:, :10] >= 0, lists[:, :10], 0)
    groups = {"warm": es.warm, "cold": ~es.warm}
    if es.item_type != "audiobook":
        groups = {"all": np.ones(len(es.users), bool)}
    out: dict[str, Any] = {"hits": hits.tolist()}
    for g, m in groups.items():
        entry = {
            "n": int(m.sum()),
            "hr10": float(hits[m].mean()),
            "mrr": float(rr[m].mean()),
            "top10_tier": float(es.tiers[top[m]].mean()),
        }
        if unseen is not None:
            entry["top10_unseen"] = float(unseen[top[m]].mean())
        if pop_hits is not None:
            d = paired_bootstrap(hits[m], pop_hits[m], 1000, 0)
            entry |= {"d_pop": d.diff, "d_pop_ci": d.ci, "d_pop_p": d.p}
        out[g] = entry
    return out


def _pop_corr(scores: np.ndarray, popularity: np.ndarray) -> np.ndarray:
    """Per user, Spearman correlation of their scores with item popularity."""
    rank_pop = np.argsort(np.argsort(popularity)).astype(float)
    ranks = np.argsort(np.argsort(scores, axis=1), axis=1).astype(float)
    return np.array([np.corrcoef(r, rank_pop)[0, 1] for r in ranks])


class Setting:
    """The world, store, evaluation set, cached feature rows and labels of one run."""

    def __init__(self, args: argparse.Namespace) -> None:
        from colisten import names
        from colisten.world import format as fmt
        from feature_repo.config import FeatureStoreConfig
        from feature_repo.store import open_store
        from trainers.evaluation.split import make_eval_set
        from trainers.two_tower.data import historical_user_rows, labels_from_events

        self.args = args
        back = HOLDOUT_DAYS * DAY_MS if args.validation else 0
        self.cutoff = fmt.WorldManifest.read(args.world).split_ms - back
        data_dir = args.eval_dir.resolve() / "feast"
        self.store_cfg = FeatureStoreConfig(online="sqlite", data_dir=data_dir)
        self.catalogue = fmt.read_catalogue(args.world)
        end = self.cutoff + HOLDOUT_DAYS * DAY_MS
        events = fmt.read_events(args.world, until_ms=end)
        self.train_events = events[events[names.TS] < self.cutoff]
        self.es = make_eval_set(
            events, self.catalogue, self.cutoff, HOLDOUT_DAYS, args.item_type
        )
        self.cache_dir = args.eval_dir / (
            "tt-cache-val" if args.validation else "tt-cache"
        )
        self.eval_rows = _cached(
            self.cache_dir / f"eval_rows_{args.item_type}.pkl",
            lambda: historical_user_rows(
                open_store(self.store_cfg),
                self.es.users,
                np.full(len(self.es.users), self.cutoff),
            ),
        )
        self.labels = labels_from_events(self.train_events, self.cutoff, args.item_type)
        self.rows_path = self.cache_dir / f"label_rows_{args.item_type}.pkl"
        self.label_rows = _cached(self.rows_path, dict)

    def make_val_hgnn(self, epochs: int) -> None:
        """Train the HGNN on the store as of the (earlier) cut-off into models-val."""
        from trainers.hgnn.config import HGNNConfig
        from trainers.hgnn.pipeline import run_hgnn

        cfg = HGNNConfig(max_epochs=epochs, seed=0, num_threads=1)
        models = _models(self.args.eval_dir, True)
        run_hgnn(self.store_cfg, self.cutoff, self.catalogue, cfg, models, False)

    def fixed_rows(self) -> dict[str, Any]:
        """Popularity, and for audiobooks HGNN kNN and the reference rows: scorers."""
        from colisten import names
        from trainers.evaluation import baselines as bl
        from trainers.evaluation import reference as ref
        from trainers.two_tower.data import hgnn_vectors

        es, a = self.es, self.args
        rows: dict[str, Any] = {"Popularity": bl.popularity(es)}
        if a.item_type == names.AUDIOBOOK and not a.no_reference:
            version = _hgnn_version(a.eval_dir, 0, a.validation)
            hg = hgnn_vectors(self.store_cfg.data_dir, version)
            vec = dict(zip(hg[names.ITEM_ID], hg["hgnn_embedding"], strict=True))
            rows["HGNN kNN"] = bl.knn(es, self.train_events, vec)
            rows |= ref.reference_scorers(
                es, self.train_events, self.catalogue, a.world
            )
        return rows

    def train(self, overrides: dict[str, Any], seed: int) -> tuple[Any, dict]:
        """One variant and seed: (scorer over the evaluation set, training record)."""
        from feature_repo.store import open_store
        from trainers.evaluation import baselines as bl
        from trainers.two_tower.config import TwoTowerConfig
        from trainers.two_tower.data import build_training_data
        from trainers.two_tower.pipeline import load_items
        from trainers.two_tower.train import apply_model, train_two_tower

        overrides = dict(overrides)
        serve_prior = overrides.pop("_serve_prior", False)
        base = {"epochs": self.args.epochs, "target_type": self.args.item_type}
        cfg = TwoTowerConfig.from_json(base | overrides | {"seed": seed})
        a = self.args
        version = (
            _hgnn_version(a.eval_dir, seed, a.validation) if cfg.use_hgnn else None
        )
        items = load_items(self.store_cfg, self.cutoff, version)
        before = len(self.label_rows)
        store = open_store(self.store_cfg)
        data = build_training_data(store, self.labels, items, cfg, self.label_rows)
        if len(self.label_rows) != before:
            with self.rows_path.open("wb") as f:
                pickle.dump(self.label_rows, f)
        res = train_two_tower(data, cfg, progress=False)
        spec = data.user_spec
        users = apply_model(
            res.user_model,
            _user_inputs(self.eval_rows, items.user_vectors(cfg.use_hgnn), spec),
        )
        where = {items.ids[r]: k for k, r in enumerate(data.item_rows)}
        cols = np.array([where[c] for c in self.es.candidates])
        vecs = apply_model(
            res.item_model, items.inputs(data.item_rows[cols], data.item_spec)
        )
        counts = np.bincount(data.label_rows, minlength=len(data.item_rows))
        record = {
            "config": cfg.to_json(),
            "labels": len(data.label_rows),
            "initial_loss": res.initial_loss,
            "loss": [round(h["loss"], 4) for h in res.history],
            "unseen": counts[cols] == 0,
        }
        corr = _pop_corr(users @ vecs.T, self.es.popularity)
        record["pop_corr"] = {
            "warm": float(corr[self.es.warm].mean()),
            "cold": float(corr[~self.es.warm].mean()),
        }
        if serve_prior:
            users = np.hstack([users / cfg.temperature, np.ones((len(users), 1))])
            vecs = np.hstack([vecs, data.log_q[cols, None]])
        return bl.Scorer(users, vecs, bl.prior_of(self.es)), record


def _user_inputs(rows: Any, vectors: Any, spec: Any) -> dict[str, np.ndarray]:
    from colisten.user_encoder import build_user_inputs

    return build_user_inputs(rows, vectors, spec)


def _line(name: str, got: dict[str, Any]) -> str:
    parts = []
    for g in ("warm", "cold", "all"):
        if g in got:
            e = got[g]
            u = f" unseen {e['top10_unseen']:.2f}" if "top10_unseen" in e else ""
            d = f" Δpop {e['d_pop']:+.3f} p{e['d_pop_p']:.3f}" if "d_pop" in e else ""
            parts.append(
                f"{g} {e['hr10']:.3f}/{e['mrr']:.3f} tier {e['top10_tier']:.2f}{u}{d}"
            )
    tail = ""
    if got.get("loss"):
        tail = f" loss {got['initial_loss']:.2f}->{got['loss'][-1]:.2f}"
        tail += f" ρpop {got['pop_corr']['warm']:.2f}/{got['pop_corr']['cold']:.2f}"
    return f"{name:26s} " + " | ".join(parts) + tail


def _summary(
    rows: dict[str, Any], groups: dict[str, np.ndarray], against: list[str]
) -> list[str]:
    """Mean ± sd over seeds of HR@10 and MRR per variant and group, and the paired
    bootstrap (users' HR@10 averaged over seeds) against each row named in `against`."""
    from trainers.evaluation.paired import paired_bootstrap

    by: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for name, got in rows.items():
        by[name.rsplit(" s", 1)[0] if "loss" in got else name].append(got)
    hits = {n: np.mean([r["hits"] for r in runs], axis=0) for n, runs in by.items()}
    out = []
    for name, runs in by.items():
        cells = []
        for g, mask in groups.items():
            hr = [r[g]["hr10"] for r in runs]
            mrr = np.mean([r[g]["mrr"] for r in runs])
            sd = np.std(hr, ddof=1) if len(hr) > 1 else 0.0
            cell = f"{g} {np.mean(hr):.3f} ± {sd:.3f} (MRR {mrr:.3f})"
            for other in (a for a in against if a in hits and a != name):
                d = paired_bootstrap(hits[name][mask], hits[other][mask], 1000, 0)
                cell += f" Δ{other[:12]} {d.diff:+.3f} [{d.ci[0]:+.3f}, {d.ci[1]:+.3f}]"
                cell += f" p {d.p:.3f}"
            cells.append(cell)
        out.append(f"{name:26s} n={len(runs)} " + " | ".join(cells))
    return out


def main() -> None:
    """Train every variant for every seed; print each run and the summary."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--eval-dir", type=Path, required=True)
    ap.add_argument("--world", type=Path, required=True)
    ap.add_argument("--seeds", default="0")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--item-type", default="audiobook")
    ap.add_argument("--variant", action="append", default=[], help="name=JSON")
    ap.add_argument("--no-reference", action="store_true")
    ap.add_argument("--validation", action="store_true")
    ap.add_argument("--make-val-hgnn", type=int, default=0, metavar="EPOCHS")
    ap.add_argument(
        "--against",
        default="Popularity",
        help="comma-separated rows each variant is paired with in the summary",
    )
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    from trainers.evaluation import baselines as bl

    setting = Setting(args)
    if args.make_val_hgnn:
        setting.make_val_hgnn(args.make_val_hgnn)
    rows: dict[str, Any] = {}
    pop_hits = None
    for name, scorer in setting.fixed_rows().items():
        rows[name] = _row(setting.es, bl.rank_all(setting.es, scorer), pop_hits)
        pop_hits = pop_hits if pop_hits is not None else np.array(rows[name]["hits"])
    for v in args.variant:
        name, raw = v.split("=", 1)
        for seed in (int(s) for s in args.seeds.split(",")):
            scorer, record = setting.train(json.loads(raw), seed)
            unseen = record.pop("unseen")
            lists = bl.rank_all(setting.es, scorer)
            rows[f"{name} s{seed}"] = _row(setting.es, lists, pop_hits, unseen) | record
            print(_line(f"{name} s{seed}", rows[f"{name} s{seed}"]), flush=True)
    print("\n".join(["", *(_line(n, g) for n, g in rows.items() if "loss" not in g)]))
    es = setting.es
    groups = {"warm": es.warm, "cold": ~es.warm}
    if args.item_type != "audiobook":
        groups = {"all": np.ones(len(es.users), bool)}
    summary = _summary(rows, groups, args.against.split(","))
    print("\n".join(["", "mean ± sd over seeds:", *summary]))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        got = {"rows": rows, "warm": es.warm.tolist(), "summary": summary}
        args.out.write_text(json.dumps(got, indent=1, default=float))


if __name__ == "__main__":
    main()
