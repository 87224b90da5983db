"""The Starlette application: routes, error rendering and the process's services."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator
from typing import Any

import structlog
from sqlalchemy.exc import InterfaceError, OperationalError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route

from service.authors import data_routes as author_data
from service.authors import routes as author_routes
from service.authors import sanction_routes
from service.broker.connections import redis_client
from service.broker.notify import DecisionListener
from service.broker.producer import TaskProducer
from service.comments import edit_routes as edits
from service.comments import routes as comments
from service.comments.flood import FloodGate
from service.db.engine import Database
from service.errors import ProblemError, handle_problem, problem_response, unavailable
from service.flags import routes as flags_routes
from service.http import docs as integrators_docs
from service.http import probes as health
from service.http.auth import TokenVerifier
from service.http.bodies import Problem
from service.http.headers import SecurityHeadersMiddleware
from service.http.metrics import BacklogCollector
from service.http.middleware import RequestContextMiddleware
from service.http.openapi import openapi_document
from service.http.ops_metrics import OpsCollector
from service.http.pages import STATIC_PATH, static_files
from service.http.services import Services
from service.moderation import page
from service.moderation import routes as moderation
from service.moderation import statement_routes as statements
from service.moderation import thread_routes as threads
from service.perspective import discovery
from service.perspective import routes as perspective_routes
from service.perspective.analyze import PerspectiveError
from service.policies import policy_holder
from service.reports import routes as reports
from service.settings import Settings
from service.tuning import insights_routes as insights
from service.tuning import sample_routes as samples

log = structlog.get_logger(__name__)

POLICY_CHECK_SECONDS = 1.0


def build_services(settings: Settings) -> Services:
    """Everything a request needs; raises ConfigurationError or PolicyError on bad settings."""
    verifier = TokenVerifier(settings)
    policies = policy_holder(settings, check_every=POLICY_CHECK_SECONDS)
    client = redis_client(settings.redis_url)
    return Services(
        settings=settings,
        db=Database(settings.effective_database_url),
        verifier=verifier,
        producer=TaskProducer(settings),
        listener=DecisionListener(settings.redis_url),
        redis=client,
        policies=policies,
        flood=FloodGate(client),
    )


ROUTES = [
    Route("/v1/comments", comments.post_comment, methods=["POST"]),
    Route("/v1/comments/{comment_id}", comments.get_comment, methods=["GET"]),
    Route("/v1/comments/{comment_id}", edits.patch_comment, methods=["PATCH"]),
    Route("/v1/comments/{comment_id}/revisions", edits.get_revisions, methods=["GET"]),
    Route("/v1/comments/{comment_id}", comments.delete_comment_route, methods=["DELETE"]),
    Route("/healthz", health.healthz, methods=["GET"]),
    Route("/readyz", health.readyz, methods=["GET"]),
    Route("/v1/articles/{article_id}/settings", flags_routes.get_article_flags, methods=["GET"]),
    Route("/v1/articles/{article_id}/settings", flags_routes.put_article_flags, methods=["PUT"]),
    Route("/v1/authors/{author_id}/settings", flags_routes.get_author_flags, methods=["GET"]),
    Route("/v1/authors/{author_id}/settings", flags_routes.put_author_flags, methods=["PUT"]),
    Route("/v1/comments/{comment_id}/history", moderation.get_history, methods=["GET"]),
    Route("/v1/comments/{comment_id}/reports", reports.post_report, methods=["POST"]),
    Route("/v1/comments/{comment_id}/reports/{report_id}", reports.get_report, methods=["GET"]),
    Route("/v1/moderation/queue", moderation.get_queue, methods=["GET"]),
    Route(
        "/v1/moderation/comments/{comment_id}/decision",
        moderation.post_decision,
        methods=["POST"],
    ),
    Route("/v1/moderation/decisions", moderation.post_decisions, methods=["POST"]),
    Route("/v1/moderation/authors/{author_id}/ban", moderation.post_ban, methods=["POST"]),
    Route("/v1/moderation/authors/{author_id}/ban", moderation.delete_ban, methods=["DELETE"]),
    Route("/v1/moderation/authors/{author_id}", author_routes.get_author, methods=["GET"]),
    Route("/v1/moderation/authors/{author_id}/notes", author_routes.post_note, methods=["POST"]),
    Route("/v1/moderation/authors/{author_id}/notes", author_routes.get_notes, methods=["GET"]),
    Route(
        "/v1/moderation/authors/{author_id}/sanctions",
        sanction_routes.post_sanction,
        methods=["POST"],
    ),
    Route(
        "/v1/moderation/authors/{author_id}/sanctions/{sanction_id}",
        sanction_routes.delete_sanction,
        methods=["DELETE"],
    ),
    Route("/v1/moderation/authors/{author_id}/export", author_data.get_export, methods=["GET"]),
    Route("/v1/moderation/authors/{author_id}/erase", author_data.post_erase, methods=["POST"]),
    Route("/v1/moderation/stats", moderation.get_stats, methods=["GET"]),
    Route("/v1/moderation/statements", statements.get_statements, methods=["GET"]),
    Route("/v1/moderation/comments/{comment_id}/thread", threads.get_thread, methods=["GET"]),
    Route(
        "/v1/moderation/comments/{comment_id}/sample-label",
        samples.post_sample_judgement,
        methods=["POST"],
    ),
    Route("/v1/moderation/insights", insights.get_insights, methods=["GET"]),
    Route("/moderate/insights", insights.insights_page, methods=["GET"]),
    Route("/v1alpha1/comments:analyze", perspective_routes.analyze, methods=["POST"]),
    Route("/v1alpha1/comments:suggestscore", perspective_routes.suggest_score, methods=["POST"]),
    Route(discovery.REST_PATH, discovery.discovery_rest, methods=["GET"]),
    Route(discovery.DIRECTORY_PATH, discovery.discovery_directory, methods=["GET"]),
    Route("/moderate", page.moderate, methods=["GET"]),
    Route("/docs", integrators_docs.docs, methods=["GET"]),
    Route("/openapi.json", integrators_docs.openapi, methods=["GET"]),
    Route("/metrics", health.metrics, methods=["GET"]),
    Mount(STATIC_PATH, app=static_files(), name="static"),
]


def create_app(settings: Settings, *, services: Services | None = None) -> Starlette:
    svc = services or build_services(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        svc.listener.start()
        with contextlib.suppress(ValueError, RuntimeError):  # not the main thread (tests)
            asyncio.get_running_loop().add_signal_handler(
                signal.SIGHUP, svc.policies.reload_if_changed
            )
        try:
            yield
        finally:
            await svc.listener.stop()
            svc.close()

    app = Starlette(
        routes=ROUTES,
        exception_handlers={
            ProblemError: handle_problem,
            PerspectiveError: perspective_routes.handle_perspective_error,
            HTTPException: _http_exception,
            OperationalError: _database_down,
            InterfaceError: _database_down,
            Exception: _unexpected,
        },
        lifespan=lifespan,
    )
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(RequestContextMiddleware)
    app.state.services = svc
    app.state.backlog = BacklogCollector(
        svc.db, svc.redis, grace_seconds=settings.sweep_grace_seconds
    )
    app.state.ops = OpsCollector(svc.db, svc.redis)
    app.state.openapi = api_document()
    return app


def api_document() -> dict[str, Any]:
    """The OpenAPI document of every route, generated from the route table and the models."""
    return openapi_document(ROUTES, extra_models=[Problem])


async def _http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if request.url.path.startswith(perspective_routes.PREFIX):
        return perspective_routes.http_error(exc.status_code)
    if exc.status_code == 404 and request.url.path.startswith(discovery.PATHS):
        return discovery.unknown_api().response()
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
