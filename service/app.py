"""The Starlette application: routes, error rendering and the process's services."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import structlog
from sqlalchemy.exc import InterfaceError, OperationalError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from policy import load_policy
from service.auth import TokenVerifier
from service.connections import redis_client
from service.context import Services
from service.db import Database
from service.errors import ProblemError, handle_problem, problem_response, unavailable
from service.middleware import RequestContextMiddleware
from service.notify import DecisionListener
from service.openapi import openapi_document
from service.queue import TaskProducer
from service.routes import comments, health
from service.settings import Settings

log = structlog.get_logger(__name__)


def build_services(settings: Settings) -> Services:
    """Everything a request needs; raises ConfigurationError or PolicyError on bad settings."""
    verifier = TokenVerifier(settings)
    policy = load_policy(settings.policy)
    return Services(
        settings=settings,
        db=Database(settings.effective_database_url),
        verifier=verifier,
        producer=TaskProducer(settings),
        listener=DecisionListener(settings.redis_url),
        redis=redis_client(settings.redis_url),
        policy=policy,
    )


ROUTES = [
    Route("/v1/comments", comments.post_comment, methods=["POST"]),
    Route("/v1/comments/{comment_id}", comments.get_comment, methods=["GET"]),
    Route("/healthz", health.healthz, methods=["GET"]),
    Route("/readyz", health.readyz, methods=["GET"]),
]


def create_app(settings: Settings, *, services: Services | None = None) -> Starlette:
    svc = services or build_services(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        svc.listener.start()
        try:
            yield
        finally:
            await svc.listener.stop()
            svc.close()

    async def openapi(request: Request) -> JSONResponse:
        return JSONResponse(openapi_document())

    app = Starlette(
        routes=[*ROUTES, Route("/openapi.json", openapi, methods=["GET"])],
        exception_handlers={
            ProblemError: handle_problem,
            HTTPException: _http_exception,
            OperationalError: _database_down,
            InterfaceError: _database_down,
            Exception: _unexpected,
        },
        lifespan=lifespan,
    )
    app.add_middleware(RequestContextMiddleware)
    app.state.services = svc
    return app


async def _http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    error = ProblemError(exc.status_code, code, str(exc.detail), headers=exc.headers)
    return problem_response(error)


async def _database_down(request: Request, exc: Exception) -> Response:
    log.error("database.unavailable", error=type(exc).__name__)
    return problem_response(unavailable("The database is not answering; retry shortly."))


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("http.unexpected_error", error=type(exc).__name__)
    return problem_response(
        ProblemError(500, "internal_error", "Something went wrong on our side.")
    )
