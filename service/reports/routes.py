"""POST /v1/comments/{comment_id}/reports and GET /v1/comments/{comment_id}/reports/{report_id}."""

from __future__ import annotations

import structlog
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from service.authors.sanctions import erase_key
from service.broker.contract import REPORT_FLOOD_PREFIX
from service.errors import ProblemError
from service.http.body import read_json
from service.http.openapi import BEARER, Operation, Reply, documented, problems
from service.http.services import Services, authenticate, services
from service.reports.intake import Filed, check_reportable, file_report, read_report
from service.reports.resources import ReportResource
from service.reports.schemas import NewReport

log = structlog.get_logger(__name__)


@documented(
    Operation(
        "reportComment",
        "Report another reader's published comment (once per reader and comment)",
        {
            201: Reply("Reported", ReportResource),
            200: Reply("Already reported by this reader: the earlier report", ReportResource),
        },
        problems(
            400,
            401,
            413,
            415,
            503,
            s403="The reporter is banned (author_banned) or suspended (author_suspended, with "
            "until; see Retry-After)",
            s404="No such comment, or another reader's comment that is not published (not_found)",
            s409="The comment was unpublished meanwhile (not_reportable)",
            s422="A field is invalid (invalid_reason, detail_too_long, unknown_field, "
            "legal_ground required with illegal, ...) or the comment is the reporter's own "
            "(own_comment)",
            s429="Too many reports from this reader (rate_limited); see Retry-After",
        ),
        body=NewReport,
        security=BEARER,
    )
)
async def post_report(request: Request) -> JSONResponse:
    svc = services(request)
    principal = await authenticate(request)
    comment_id: str = request.path_params["comment_id"]
    own = await run_in_threadpool(
        check_reportable, svc.db, reporter_id=principal.sub, comment_id=comment_id
    )
    body = await read_json(request, max_bytes=svc.settings.max_body_bytes)
    new = NewReport.parse(body)
    if own:
        raise ProblemError(422, "own_comment", "A reader can't report their own comment.")
    filed = await run_in_threadpool(_file, svc, principal.sub, comment_id, new)
    await svc.deliver(filed.event_ids)
    report_id = filed.resource["id"]
    structlog.contextvars.bind_contextvars(comment_id=comment_id, report_id=report_id)
    if filed.created:
        log.info("report.filed", reason=new.reason, queued=filed.queued, hidden=filed.hidden)
    else:
        log.info("report.repeated")
    return JSONResponse(
        filed.resource,
        status_code=201 if filed.created else 200,
        headers={"Location": f"/v1/comments/{comment_id}/reports/{report_id}"},
    )


@documented(
    Operation(
        "getReport",
        "Read a report: its reporter and moderators only",
        {200: Reply("The report, with its outcome once a moderator decided", ReportResource)},
        problems(401, 404, 503),
        security=BEARER,
    )
)
async def get_report(request: Request) -> JSONResponse:
    svc = services(request)
    principal = await authenticate(request)
    resource = await run_in_threadpool(
        read_report,
        svc.db,
        reader_id=principal.sub,
        is_moderator=principal.is_moderator,
        comment_id=request.path_params["comment_id"],
        report_id=request.path_params["report_id"],
    )
    return JSONResponse(resource)


def _file(svc: Services, reporter_id: str, comment_id: str, new: NewReport) -> Filed:
    """In the thread pool: the policy in force may be re-read from its file."""
    reports = svc.policies.current().reports

    def admit(reader_id: str) -> int:
        return svc.flood.retry_after(
            reader_id,
            window_seconds=reports.flood_window_seconds,
            hard_limit=reports.flood_limit,
            prefix=REPORT_FLOOD_PREFIX,
        )

    return file_report(
        svc.db,
        reporter_id=reporter_id,
        comment_id=comment_id,
        new=new,
        policy=reports,
        events=svc.settings.announced_events,
        admit=admit,
        erase_key=erase_key(svc.settings),
        locale=svc.settings.default_locale,
    )
