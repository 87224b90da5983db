"""GET /healthz and GET /readyz."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from service.http.health import readiness
from service.http.services import services


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    status, body = await run_in_threadpool(readiness, services(request))
    return JSONResponse(body, status_code=status)
