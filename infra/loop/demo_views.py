"""What `make demo` prints: the users it shows, their lists and the evaluation, as tables."""

from __future__ import annotations

from typing import Any

import pandas as pd
from rich.console import Console
from rich.table import Table

from colisten import names


def pick_users(events: pd.DataFrame) -> tuple[str, str]:
    """(warm, cold): the user with the most audiobook interactions, and a typical
    podcast-only user (no audiobook interaction at all: cold start for audiobooks; the
    median number of podcast streams among such users)."""
    is_ab = events[names.ITEM_TYPE] == names.AUDIOBOOK
    ab_counts = events[is_ab].groupby(names.USER_ID).size()
    warm = str(ab_counts.sort_values(ascending=False, kind="stable").index[0])
    podcast_only = events[~events[names.USER_ID].isin(ab_counts.index)]
    streams = podcast_only[podcast_only[names.EVENT_TYPE] == names.STREAM]
    counts = (
        streams.groupby(names.USER_ID)
        .size()
        .sort_values(ascending=False, kind="stable")
    )
    if counts.empty:
        raise ValueError("the world has no podcast-only user to show cold start")
    return warm, str(counts.index[len(counts) // 2])


def more_users(events: pd.DataFrame, skip: set[str], n: int) -> list[str]:
    """The n most active other users (suggestions for the web page)."""
    counts = events.groupby(names.USER_ID).size()
    counts = counts.sort_values(ascending=False, kind="stable")
    return [str(u) for u in counts.index if u not in skip][:n]


def follow_target(before: dict[str, Any], catalogue: pd.DataFrame) -> str:
    """An audiobook outside the user's current list, in a genre the list does not show."""
    shown = {i["item_id"] for i in before["items"]}
    genres = {i["genre"] for i in before["items"]}
    books = catalogue[catalogue[names.ITEM_TYPE] == names.AUDIOBOOK].sort_values(
        names.ITEM_ID
    )
    fresh = books[~books[names.ITEM_ID].isin(shown)]
    other = fresh[~fresh["genre"].isin(genres)]
    return str((other if len(other) else fresh)[names.ITEM_ID].iloc[0])


def _history(events: pd.DataFrame, user: str) -> str:
    mine = events[events[names.USER_ID] == user]
    by = mine.groupby([names.ITEM_TYPE, names.EVENT_TYPE]).size()
    return ", ".join(f"{n} {t} {e}s" for (t, e), n in by.items())


def show_recs(
    console: Console, title: str, body: dict[str, Any], events: pd.DataFrame
) -> None:
    """One recommendation response as a table, with the user's training history."""
    table = Table("#", "title", "genre", "score", title=title)
    for item in body["items"]:
        table.add_row(
            str(item["rank"]), item["title"], item["genre"], f"{item['score']:.3f}"
        )
    table.caption = (
        f"history: {_history(events, body['user_id']) or 'none'} · "
        f"features as of {body['features_as_of']} · degraded {body['degraded']}"
    )
    console.print(table)


def show_follow(
    console: Console,
    user: str,
    item_id: str,
    catalogue: pd.DataFrame,
    before: dict[str, Any],
    after: dict[str, Any],
    lag_s: float,
) -> None:
    """The cold user's list before and after one follow."""
    info = catalogue.set_index(names.ITEM_ID).loc[item_id]
    table = Table(
        "#",
        "before",
        "after",
        title=f"{user} follows “{info['title']}” ({info['genre']})",
    )
    for b, a in zip(before["items"], after["items"], strict=False):
        mark = (
            ""
            if a["item_id"] in {x["item_id"] for x in before["items"]}
            else " [green]new[/]"
        )
        table.add_row(
            str(a["rank"]),
            f"{b['title']} ({b['genre']})",
            f"{a['title']} ({a['genre']}){mark}",
        )
    changed = len(
        {a["item_id"] for a in after["items"]} - {b["item_id"] for b in before["items"]}
    )
    table.caption = (
        f"visible in the features {lag_s * 1000:.0f} ms after the POST · "
        f"{changed} of {len(after['items'])} items changed"
    )
    console.print(table)


def show_eval(console: Console, res: dict[str, Any]) -> None:
    """Warm and cold hold-out metrics of the deployed model and its baselines."""
    for group in ("warm", "cold"):
        n = res["counts"][f"{group}_users"]
        table = Table(
            "method", "HR@10", "MRR", "Coverage@100", title=f"{group} users (n={n})"
        )
        for name, m in res[group].items():
            lo, hi = m["hr10_ci"]
            table.add_row(
                name,
                f"{m['hr10']:.3f} [{lo:.3f}, {hi:.3f}]",
                f"{m['mrr']:.3f}",
                f"{100 * m['coverage']:.1f}%",
            )
        console.print(table)
    console.print(
        f"  {res['counts']['candidates']} candidate audiobooks; 95% bootstrap CIs"
    )
