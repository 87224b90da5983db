"""GET /v1/moderation/insights (moderators) and the page that charts it, /moderate/insights.

The page, like /moderate, holds no data and needs no token: its script signs in with the
moderator's token and draws the charts as SVG from the API's numbers.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from service.db.tables import utcnow
from service.http.auth import require_moderator
from service.http.openapi import BEARER, Operation, Reply, documented, problems
from service.http.pages import render_page
from service.http.services import authenticate, services
from service.tuning.insights import InsightsRequest, build_insights
from service.tuning.resources import Insights
from service.tuning.sample_routes import INVALID
from service.tuning.schemas import InsightsQuery


@documented(
    Operation(
        "moderationInsights",
        "Evidence for tuning the policy: per-rule overturn rates, precision and recall per "
        "label and threshold, hold volume and queue age, shadow policy",
        {200: Reply("The evidence over the window", Insights)},
        problems(401, 403, 503, s422=INVALID),
        query=InsightsQuery,
        security=BEARER,
    )
)
async def get_insights(request: Request) -> JSONResponse:
    principal = await authenticate(request)
    require_moderator(principal)
    svc = services(request)
    now = utcnow()
    query = InsightsQuery.parse(dict(request.query_params))
    since = query.start(now)
    current = svc.policies.current()
    report = await run_in_threadpool(
        build_insights,
        svc.db,
        request=InsightsRequest(
            since=since,
            now=now,
            target_precision=query.target_precision,
            thresholds=current.thresholds,
            policy_version=current.version,
            sample_rate=svc.settings.audit_sample,
        ),
    )
    return JSONResponse(report.model_dump(mode="json"))


@documented(
    Operation(
        "insightsPage",
        "Charts of the insights for moderators and the board (holds no data; sign in there "
        "with a token)",
        {200: Reply("HTML", media="text/html")},
    )
)
async def insights_page(request: Request) -> Response:
    return render_page(request, "insights.html", catalogue="insights")
