"""The evaluation plan: the rows each table shows, the HGNNs and two-towers it trains."""

from __future__ import annotations

from trainers.evaluation.config import EvalConfig
from trainers.evaluation.plan import (
    ABLATIONS,
    ABLATIONS_KNN,
    AGAINST,
    COLD,
    EXAMPLE_WEIGHTS,
    FULL,
    LONG_TAIL,
    PODCASTS,
    WARM,
    knn_name,
    make_plan,
)


def test_default_plan_tables_in_paper_order() -> None:
    plan = make_plan(EvalConfig())
    main = ["Popularity", "LLM-KNN", "HGNN", "HGNN-w-users", "2T", "2T-HGNN"]
    assert plan.table(WARM) == [*main, EXAMPLE_WEIGHTS]
    assert plan.table(LONG_TAIL) == plan.table(WARM)
    assert plan.table(COLD) == [
        "Popularity", "HGNN-w-users", "2T", "2T-HGNN", EXAMPLE_WEIGHTS
    ]  # fmt: skip
    assert plan.table(ABLATIONS) == ["2T-HGNN", "B", "A", "C", "D", "E", "F"]
    assert plan.table(ABLATIONS_KNN) == ["HGNN", *(knn_name(k) for k in "ACDEF")]
    assert plan.table(PODCASTS) == ["Popularity", "2T", "2T-HGNN"]
    assert plan.hgnn_keys == ("A", "C", "D", "E", "F", FULL)
    assert plan.tables_of("audiobook") == {
        WARM, COLD, ABLATIONS, ABLATIONS_KNN, LONG_TAIL
    }  # fmt: skip
    assert plan.tables_of("podcast") == {PODCASTS}


def test_row_keys_are_unique_and_podcast_rows_say_so() -> None:
    plan = make_plan(EvalConfig())
    keys = [r.key for r in plan.rows]
    assert len(keys) == len(set(keys))
    pod = {r.key: r for r in plan.two_towers() if r.target == "podcast"}
    assert set(pod) == {"2T (podcasts)", "2T-HGNN (podcasts)"}
    assert pod["2T (podcasts)"].two_tower["use_hgnn"] is False
    assert pod["2T-HGNN (podcasts)"].hgnn == FULL


def test_every_two_tower_reads_a_trained_hgnn() -> None:
    for cfg in (EvalConfig(), EvalConfig(ablations=("C",)), EvalConfig.quick()):
        plan = make_plan(cfg)
        needed = {r.hgnn for r in plan.rows if r.hgnn is not None}
        assert needed <= set(plan.hgnn_keys)


def test_rows_can_be_left_out() -> None:
    cfg = EvalConfig(
        ablations=(), podcasts=False, example_weights_row=False, with_users=False
    )
    plan = make_plan(cfg)
    assert plan.table(WARM) == ["Popularity", "LLM-KNN", "HGNN", "2T", "2T-HGNN"]
    assert plan.table(PODCASTS) == [] and plan.hgnn_keys == (FULL,)
    assert plan.table(ABLATIONS_KNN) == []
    assert [r.key for r in plan.learned("audiobook")] == ["HGNN", "2T", "2T-HGNN", "B"]


def test_ablation_knn_rows_read_their_own_hgnn_and_pair_with_the_full_one() -> None:
    plan = make_plan(EvalConfig(ablations=("D", "E")))
    knn = {r.name: r for r in plan.rows if ABLATIONS_KNN in r.tables}
    assert {n: (r.method, r.hgnn) for n, r in knn.items()} == {
        "HGNN": ("hgnn_knn", FULL),
        "HGNN D": ("hgnn_knn", "D"),
        "HGNN E": ("hgnn_knn", "E"),
    }
    assert AGAINST[ABLATIONS_KNN] in knn  # the paired tests' reference is in the table
