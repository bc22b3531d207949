"""The API in process (TestClient) over a tiny real model, catalogue and SQLite store."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from feature_repo.config import FeatureStoreConfig
from online.app import create_app
from tests.online.conftest import N_AUDIOBOOKS, STREAMED, OnlineWorld
from tests.online.tower import random_items, write_version


@pytest.fixture
def client(online_world: OnlineWorld) -> Iterator[TestClient]:
    """A client of an app serving online_world (no watcher thread)."""
    app = create_app(online_world.serve_config(), watch=False)
    with TestClient(app) as c:
        yield c


def test_recommendations_shape_and_exclusions(
    client: TestClient, online_world: OnlineWorld
) -> None:
    r = client.get("/v1/users/u1/recommendations", params={"k": N_AUDIOBOOKS})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["model_version"] == "v1" and body["degraded"] is False
    assert body["features_as_of"] == online_world.now_ms - 1
    items = body["items"]
    assert len(items) == N_AUDIOBOOKS - len(
        STREAMED
    )  # over-fetch leaves all the others
    assert not {i["item_id"] for i in items} & set(STREAMED)
    assert [i["rank"] for i in items] == list(range(1, len(items) + 1))
    scores = [i["score"] for i in items]
    assert scores == sorted(scores, reverse=True)
    first = items[0]
    assert (
        first["title"] == f"Title of {first['item_id']}"
        and first["genre"] == "FIC000000"
    )
    assert "features;dur=" in r.headers["server-timing"]
    assert "a000003" in {i["item_id"] for i in items}  # followed, not streamed: allowed


def test_podcasts_and_k(client: TestClient) -> None:
    r = client.get("/v1/users/u1/recommendations", params={"k": 3, "type": "podcast"})
    assert r.status_code == 200
    items = r.json()["items"]
    assert len(items) == 3 and all(i["item_id"].startswith("p") for i in items)
    assert "p000004" not in {i["item_id"] for i in items}


@pytest.mark.parametrize(
    "path",
    [
        "/v1/users/u1/recommendations?k=0",
        "/v1/users/u1/recommendations?k=51",
        "/v1/users/u1/recommendations?k=ten",
        "/v1/users/u1/recommendations?type=movie",
        "/v1/users/bad%20id/recommendations",
        "/v1/users/%3Cscript%3E/recommendations",
        "/v1/users/" + "x" * 129 + "/recommendations",
        "/v1/items/a%3B1/similar",
        "/v1/items/a000001/similar?k=1000",
    ],
)
def test_bad_input_is_422(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 422


def test_cold_start_user_gets_results(client: TestClient) -> None:
    body = client.get("/v1/users/never-seen/recommendations?k=5").json()
    assert len(body["items"]) == 5 and body["degraded"] is False
    assert body["features_as_of"] is None


def test_similar_items(client: TestClient, online_world: OnlineWorld) -> None:
    body = client.get("/v1/items/a000005/similar?k=4").json()
    ids, vecs = online_world.items["audiobook"]
    emb = vecs[:, ::-1]  # the seeded HGNN embeddings
    want = np.argsort(-(emb @ emb[5]))[1:5]
    assert [i["item_id"] for i in body["items"]] == [ids[j] for j in want]
    pods = client.get("/v1/items/a000005/similar?k=2&type=podcast").json()["items"]
    assert all(i["item_id"].startswith("p") for i in pods)
    assert client.get("/v1/items/zzz/similar").status_code == 404


def test_events_rejects_with_every_reason(client: TestClient) -> None:
    bad = {
        "event_id": "not-a-uuid",
        "user_id": "u 1",
        "item_id": "a1",
        "item_type": "film",
        "event_type": "stream",
        "ts": 5,
        "extra": True,
    }
    r = client.post("/v1/events", content=json.dumps(bad))
    assert r.status_code == 422
    codes = {x["code"] for x in r.json()["reasons"]}
    assert {
        "invalid_uuid", "invalid_value", "unknown_item_type", "ts_too_old",
        "missing_field", "unknown_field",
    } <= codes  # fmt: skip
    assert client.post("/v1/events", content=b"{nope").json()["reasons"][0]["code"] == (
        "invalid_json"
    )


def test_body_size_limit_is_413(client: TestClient) -> None:
    r = client.post("/v1/events", content=b"x" * 20_000)
    assert r.status_code == 413

    def chunks() -> Iterator[bytes]:
        for _ in range(40):
            yield b"y" * 1000

    assert client.post("/v1/events", content=chunks()).status_code == 413


def test_kafka_down_is_503(online_world: OnlineWorld) -> None:
    port = _closed_port()
    cfg = online_world.serve_config(bootstrap=f"127.0.0.1:{port}", kafka_timeout_ms=300)
    with TestClient(create_app(cfg, watch=False)) as c:
        event = {
            "event_id": "3f0e8c3e-1b7a-4d5e-9a51-0c1f7f1d2a11",
            "user_id": "u1",
            "item_id": "a000007",
            "item_type": "audiobook",
            "event_type": "follow",
            "ts": online_world.now_ms,
        }
        r = c.post("/v1/events", json=event)
        assert r.status_code == 503 and "unavailable" in r.json()["detail"]


def test_store_unreachable_degrades_to_popularity(online_world: OnlineWorld) -> None:
    dead = FeatureStoreConfig(
        online="redis",
        data_dir=online_world.store_cfg.data_dir,
        redis_connection=f"127.0.0.1:{_closed_port()}",
    )
    cfg = online_world.serve_config(store=dead, feature_timeout_ms=50)
    with TestClient(create_app(cfg, watch=False)) as c:
        r = c.get("/v1/users/u1/recommendations?k=3")
        assert r.status_code == 200
        body = r.json()
        assert body["degraded"] is True and len(body["items"]) == 3
        ready = c.get("/readyz")
        assert (
            ready.status_code == 503 and "feature store" in ready.json()["reasons"][0]
        )
        assert 'colisten_degraded_responses_total{reason="feature_store"} 1.0' in (
            c.get("/metrics").text
        )


def test_no_model_is_503_and_hot_swap(
    online_world: OnlineWorld, tmp_path: Path
) -> None:
    cfg = online_world.serve_config(models_dir=tmp_path / "empty")
    app = create_app(cfg, watch=False)
    with TestClient(app) as c:
        assert c.get("/v1/users/u1/recommendations").status_code == 503
        assert c.get("/readyz").status_code == 503
        write_version(tmp_path / "empty", "v2", random_items(10, 10, 16, seed=3))
        assert app.state.watcher.poll_once() is True
        assert c.get("/v1/users/u1/recommendations").json()["model_version"] == "v2"
        assert c.get("/readyz").status_code == 200
        assert 'version="v2"' in c.get("/metrics").text


def test_metrics_and_health(client: TestClient) -> None:
    client.get("/v1/users/u1/recommendations")
    text = client.get("/metrics").text
    assert 'route="/v1/users/{user_id}/recommendations"' in text
    assert "colisten_feature_fetch_seconds_bucket" in text
    assert 'colisten_recommend_stage_seconds_count{stage="tower"}' in text
    assert client.get("/healthz").json() == {"status": "ok"}


def test_openapi_schema(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    paths = schema["paths"]
    assert {
        "/v1/users/{user_id}/recommendations", "/v1/events", "/v1/items/{item_id}/similar",
        "/healthz", "/readyz", "/metrics",
    } <= set(paths)  # fmt: skip
    params = {
        p["name"]: p
        for p in paths["/v1/users/{user_id}/recommendations"]["get"]["parameters"]
    }
    assert (
        params["k"]["schema"]["maximum"] == 50 and params["k"]["schema"]["minimum"] == 1
    )
    assert params["user_id"]["schema"]["maxLength"] == 128
    assert set(params["type"]["schema"]["enum"]) == {"audiobook", "podcast"}
    body = paths["/v1/events"]["post"]["requestBody"]["content"]["application/json"]
    assert "event_id" in body["schema"]["required"]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
