"""GET /healthz and GET /readyz."""

from __future__ import annotations

from typing import Any, Literal

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from service.http.bodies import Resource
from service.http.health import readiness
from service.http.metrics import render_metrics
from service.http.openapi import Operation, Reply, documented
from service.http.services import services


class Readiness(Resource):
    status: Literal["ok", "degraded", "unavailable"]
    checks: dict[str, Any]


@documented(Operation("healthz", "The process is alive", {200: Reply("Alive", media=None)}))
async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


@documented(
    Operation(
        "readyz",
        "Can this process accept comments? Each dependency's state",
        {
            200: Reply("Ready (status ok or degraded)", Readiness),
            503: Reply("Not ready: database down", Readiness),
        },
    )
)
async def readyz(request: Request) -> JSONResponse:
    status, body = await run_in_threadpool(readiness, services(request))
    return JSONResponse(body, status_code=status)


@documented(
    Operation(
        "metrics",
        "Prometheus metrics of the API processes",
        {200: Reply("Prometheus text format", media="text/plain", schema={"type": "string"})},
    )
)
async def metrics(request: Request) -> Response:
    body, content_type = await run_in_threadpool(
        render_metrics, request.app.state.backlog, request.app.state.ops
    )
    return Response(body, media_type=content_type)
