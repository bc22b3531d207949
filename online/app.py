"""The HTTP API (FastAPI): recommendations, item neighbours, event intake, health, metrics."""

import logging
import pathlib
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any, Literal

from fastapi import FastAPI, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from colisten import events
from online.config import ServeConfig
from online.features import FeatureClient
from online.metrics import Metrics
from online.models import BundleWatcher, ModelBundle, ModelHolder
from online.publisher import EventPublisher, PublishError
from online.service import NotReady, Recommender, UnknownItem

PAGE = pathlib.Path(__file__).with_name("static") / "index.html"

log = logging.getLogger(__name__)

ID_PATTERN = r"^[A-Za-z0-9_.:\-]+$"
"""The id spelling of the event contract (colisten.events)."""
ItemTypeParam = Literal["audiobook", "podcast"]


class LimitsAndTiming:
    """ASGI middleware: 413 for bodies over the limit; latency histogram per route."""

    def __init__(self, app: ASGIApp, max_body: int, metrics: Metrics) -> None:
        self.app, self.max_body, self.metrics = app, max_body, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one HTTP request."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = {"code": 500}
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and (
            not declared.isdigit() or int(declared) > self.max_body
        ):
            await self._too_large(send)
            self._observe(scope, "413", start)
            return
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    raise _BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _BodyTooLarge:
            await self._too_large(send)
            status["code"] = 413
        self._observe(scope, str(status["code"]), start)

    def _observe(self, scope: Scope, status: str, start: float) -> None:
        route = scope.get("route")
        path = getattr(route, "path", None) or "unmatched"
        self.metrics.requests.labels(path, scope["method"], status).observe(
            time.perf_counter() - start
        )

    async def _too_large(self, send: Send) -> None:
        body = b'{"detail":"request body larger than %d bytes"}' % self.max_body
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})


class _BodyTooLarge(Exception):
    """Raised inside receive when a streamed body passes the limit."""


def _event_body_schema() -> dict[str, Any]:
    schema = events.event_json_schema()
    for key in ("$schema", "$id", "allOf"):
        schema.pop(key, None)
    return schema


def create_app(cfg: ServeConfig | None = None, watch: bool = True) -> FastAPI:
    """The API for cfg (defaults from the environment); watch: hot-swap new models."""
    cfg = cfg or ServeConfig.from_env()
    metrics = Metrics()
    holder = ModelHolder()
    features = FeatureClient(cfg.store, cfg.feature_timeout_ms, cfg.feature_threads)
    publisher = EventPublisher(cfg.bootstrap, cfg.events_topic, cfg.kafka_timeout_ms)
    recommender = Recommender(features, metrics)

    def on_swap(bundle: ModelBundle) -> None:
        metrics.model.info({"version": bundle.version, **_manifest_labels(bundle)})
        metrics.model_swaps.inc()
        for item_type, index in bundle.indexes.items():
            metrics.index_items.labels(item_type).set(index.count)

    watcher = BundleWatcher(cfg, holder, features, on_swap)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(features.ping, 10.0)  # open the store once, off-request
        await run_in_threadpool(watcher.poll_once)
        if watch:
            watcher.start()
        yield
        watcher.stop()
        features.close()
        await run_in_threadpool(publisher.close)

    app = FastAPI(
        title="colisten",
        version="1",
        description="Audiobook and podcast recommendations from fresh user features.",
        lifespan=lifespan,
    )
    app.add_middleware(LimitsAndTiming, max_body=cfg.max_body_bytes, metrics=metrics)
    app.state.cfg, app.state.holder, app.state.watcher = cfg, holder, watcher
    app.state.metrics, app.state.features, app.state.publisher = (
        metrics,
        features,
        publisher,
    )

    user_id_param = Path(min_length=1, max_length=events.ID_MAX_LEN, pattern=ID_PATTERN)
    item_id_param = Path(min_length=1, max_length=events.ID_MAX_LEN, pattern=ID_PATTERN)
    k_param = Query(ge=1, le=cfg.k_max, description=f"How many items (1..{cfg.k_max}).")

    @app.get("/v1/users/{user_id}/recommendations", tags=["recommendations"])
    def recommendations(
        user_id: Annotated[str, user_id_param],
        response: Response,
        k: Annotated[int, k_param] = cfg.k_default,
        item_type: Annotated[ItemTypeParam, Query(alias="type")] = "audiobook",
        explain: Annotated[
            bool, Query(description="Add each item's co-listening path ('because').")
        ] = False,
    ) -> dict[str, Any]:
        """Top-k items for a user from their freshest features (popularity if degraded)."""
        body, timings = recommender.recommend(
            holder.current, user_id, k, item_type, explain
        )
        response.headers["Server-Timing"] = timings.header()
        return body

    @app.get("/v1/items/{item_id}/similar", tags=["recommendations"])
    def similar(
        item_id: Annotated[str, item_id_param],
        k: Annotated[int, k_param] = cfg.k_default,
        item_type: Annotated[ItemTypeParam | None, Query(alias="type")] = None,
    ) -> dict[str, Any]:
        """Nearest items by HGNN embedding (default: the item's own type)."""
        return recommender.similar(holder.current, item_id, k, item_type)

    @app.post(
        "/v1/events",
        status_code=202,
        tags=["events"],
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _event_body_schema()}},
            }
        },
    )
    async def post_event(request: Request) -> JSONResponse:
        """Validate an interaction event and write it to Kafka (acknowledged)."""
        raw = await request.body()
        checked = events.validate_event(raw)
        if not checked.ok or checked.event is None:
            metrics.events.labels("rejected").inc()
            reasons = [r.as_dict() for r in checked.reasons]
            return JSONResponse(
                {"detail": "invalid event", "reasons": reasons}, status_code=422
            )
        try:
            partition, offset = await run_in_threadpool(
                publisher.publish, checked.event
            )
        except PublishError as exc:
            metrics.events.labels("unavailable").inc()
            return JSONResponse(
                {"detail": f"event log unavailable, retry later ({exc})"[:500]},
                status_code=503,
                headers={"Retry-After": "1"},
            )
        metrics.events.labels("accepted").inc()
        body = {
            "event_id": checked.event.event_id,
            "partition": partition,
            "offset": offset,
        }
        return JSONResponse(body, status_code=202)

    @app.get("/v1/users/{user_id}/profile", tags=["recommendations"])
    def profile(user_id: Annotated[str, user_id_param]) -> dict[str, Any]:
        """The user's recent audiobooks and podcasts, as the online store holds them."""
        return recommender.profile(holder.current, user_id)

    @app.get("/v1/sample-users", tags=["page"])
    def sample_users() -> dict[str, list[str]]:
        """User ids the web page offers (COLISTEN_SERVE_SAMPLE_USERS)."""
        return {"users": [u for u in cfg.sample_users.split(",") if u]}

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def page() -> HTMLResponse:
        """The web page: pick a listener, act as them, watch the list change."""
        return HTMLResponse(PAGE.read_text(encoding="utf-8"))

    @app.get("/v1/clock", tags=["events"])
    def clock() -> dict[str, int]:
        """The event time to stamp new events with (wall clock + configured offset)."""
        return {"now_ms": int(time.time() * 1000) + cfg.event_time_offset_ms}

    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["ops"])
    def readyz() -> JSONResponse:
        """Readiness: a model and its index are loaded and the feature store answers."""
        reasons = []
        bundle = holder.current
        if bundle is None:
            reasons.append(
                f"no model loaded ({holder.last_error or 'no latest version'})"
            )
        elif not bundle.indexes:
            reasons.append("no item index loaded")
        store_error = features.ping(timeout_s=1.0)
        if store_error:
            reasons.append(store_error)
        body = {
            "ready": not reasons,
            "reasons": reasons,
            "model_version": bundle.version if bundle else None,
        }
        return JSONResponse(body, status_code=200 if not reasons else 503)

    @app.get("/metrics", tags=["ops"], response_class=Response)
    def prometheus() -> Response:
        """Prometheus metrics."""
        return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)

    @app.exception_handler(NotReady)
    async def not_ready(request: Request, exc: NotReady) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=503)

    @app.exception_handler(UnknownItem)
    async def unknown_item(request: Request, exc: UnknownItem) -> JSONResponse:
        return JSONResponse(
            {"detail": f"unknown item {exc.args[0]!r}"}, status_code=404
        )

    return app


def _manifest_labels(bundle: ModelBundle) -> dict[str, str]:
    keys = ("hgnn_version", "feature_service", "cutoff_ms")
    return {k: str(bundle.manifest.get(k, "")) for k in keys}


def serve(host: str = "127.0.0.1", port: int = 8000, workers: int = 1) -> None:
    """Run the API under uvicorn (config from the environment)."""
    import uvicorn

    logging.basicConfig(level=logging.INFO)
    if workers > 1:
        uvicorn.run(
            "online.entry:create_app",
            host=host,
            port=port,
            workers=workers,
            factory=True,
            access_log=False,
        )
    else:
        uvicorn.run(create_app(), host=host, port=port, access_log=False)
