"""World v2 sensitivity sweep: every evaluation row at three settings of each key knob.

Generates one world per setting (the scale's defaults, one knob changed), runs
`colisten evaluate` on it with the same configuration, and writes a table of warm and
cold HR@10 / MRR per row and setting (sweep.md, sweep.json) under --out.

    PYTHONPATH=. HF_HUB_OFFLINE=1 .venv/bin/python bench/world_sweep.py \
        --scale small --seed 7 --out var/sweep --seeds 0 --hgnn-epochs 10
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

SWEEP: dict[str, tuple[float, ...]] = {
    "taste_strength": (0.5, 1.0, 2.0),
    "link_strength": (0.1, 0.25, 0.5),
}
"""The two parameters that matter most for the method; the middle value is the default."""


def settings() -> list[tuple[str, dict[str, float]]]:
    """(label, world override) for the default world and each non-default value."""
    out: list[tuple[str, dict[str, float]]] = [("default", {})]
    for knob, values in SWEEP.items():
        for v in values:
            if v != values[1]:
                out.append((f"{knob}={v}", {knob: v}))
    return out


def _table(results: dict[str, dict[str, Any]], users: str, metric: str) -> list[str]:
    labels = list(results)
    rows: list[str] = []
    for lab in labels:
        rows.extend(r for r in results[lab]["tables"][users] if r not in rows)
    out = [
        f"| {users} {metric} | " + " | ".join(labels) + " |",
        "|---" * (len(labels) + 1) + "|",
    ]
    for r in rows:
        cells = []
        for lab in labels:
            m = results[lab]["tables"][users].get(r)
            cells.append("–" if m is None else f"{m[metric]:.3f}")
        out.append(f"| {r} | " + " | ".join(cells) + " |")
    return out


def main() -> None:
    """Run the sweep and write sweep.md / sweep.json."""
    from colisten.world.generator import generate_world
    from trainers.evaluation.run import EvalConfig, run_evaluation

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--scale", default="small")
    ap.add_argument("--seed", type=int, default=7, help="world seed")
    ap.add_argument("--out", type=Path, default=Path("var/sweep"))
    ap.add_argument("--seeds", default="0", help="training seeds, comma list")
    ap.add_argument("--hgnn-epochs", type=int, default=10)
    ap.add_argument("--tt-epochs", type=int, default=10)
    ap.add_argument("--only", default="", help="comma list of setting labels to run")
    args = ap.parse_args()
    cfg = EvalConfig(
        hgnn_epochs=args.hgnn_epochs,
        hgnn_patience=min(10, args.hgnn_epochs),
        tt_epochs=args.tt_epochs,
        ablations=(),
        podcasts=False,
        seeds=tuple(int(s) for s in args.seeds.split(",")),
    )
    only = {s for s in args.only.split(",") if s}
    results: dict[str, dict[str, Any]] = {}
    summary = args.out / "sweep.json"
    if summary.exists():
        results = json.loads(summary.read_text())
    for label, over in settings():
        if only and label not in only:
            continue
        world = args.out / "worlds" / label
        t0 = time.perf_counter()
        generate_world(args.scale, args.seed, world, over, progress=False)
        res = run_evaluation(world, args.out / "eval" / label, cfg, progress=False)
        results[label] = {
            "override": over,
            "tables": {k: res["tables"][k] for k in ("warm", "cold")},
            "paired": res.get("paired", {}),
            "counts": res["counts"],
            "seconds": round(time.perf_counter() - t0, 1),
        }
        summary.parent.mkdir(parents=True, exist_ok=True)
        summary.write_text(json.dumps(results, indent=2, default=str))
        print(f"{label}: {results[label]['seconds']} s", flush=True)
    lines = [f"# World sweep ({args.scale}, world seed {args.seed})", ""]
    for users in ("warm", "cold"):
        for metric in ("hr10", "mrr"):
            lines += _table(results, users, metric) + [""]
    (args.out / "sweep.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
