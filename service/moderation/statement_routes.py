"""GET /v1/moderation/statements: statements of reasons as newline-delimited JSON, streamed.

Rows are read a page at a time, each page in a short transaction of its own on a worker
thread, so a month of restrictions never sits in memory nor holds a transaction open. The
first page is read before the answer starts: a database that is down is a 503, not a 200
cut short. A stream that breaks later lacks its `{"end": true}` line, which is how a client
knows it is not whole.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated

from pydantic import ConfigDict, Field, ValidationInfo, field_validator
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import StreamingResponse

from service.comments.schemas import field_error
from service.db.engine import Database
from service.db.tables import utcnow
from service.errors import FieldError
from service.http.auth import require_moderator
from service.http.bodies import Resource, Rules, StrictModel, fault
from service.http.openapi import BEARER, Operation, Reply, documented, problems
from service.http.services import authenticate, services
from service.moderation.statements import (
    MAX_WINDOW,
    Page,
    StatementRecord,
    StatementsEnd,
    Window,
    end_record,
    read_page,
)

NDJSON = "application/x-ndjson"
RFC_3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")
INVALID = (
    "since is missing (required), not an RFC 3339 moment or in the future (invalid_since); "
    "until is not a moment or not after since (invalid_until); or the window is over "
    f"{MAX_WINDOW.days} days (window_too_long)"
)


def parse_moment(value: str) -> datetime | None:
    """An RFC 3339 moment (a date, a time and a zone), in UTC; None when it is not one."""
    text = value.strip().upper()
    if not RFC_3339.fullmatch(text):
        return None
    try:
        return datetime.fromisoformat(text).astimezone(UTC)
    except ValueError:  # 2026-02-30 and the like
        return None


class StatementsQuery(StrictModel):
    """GET /v1/moderation/statements: the window, at most MAX_WINDOW long."""

    model_config = ConfigDict(extra="ignore")
    since: Annotated[
        str,
        Field(
            description="Restrictions decided at or after this RFC 3339 moment.",
            json_schema_extra={"format": "date-time"},
        ),
        Rules(required="since is required.", invalid_code="invalid_since"),
    ]
    until: Annotated[
        str | None,
        Field(
            description=f"…and before this one (default now); at most {MAX_WINDOW.days} days "
            "after since.",
            json_schema_extra={"format": "date-time"},
        ),
        Rules(invalid_code="invalid_until"),
    ] = None

    @field_validator("since", "until")
    @classmethod
    def _moment(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and parse_moment(value) is None:
            name = info.field_name
            raise fault(
                f"invalid_{name}",
                f"{name} is an RFC 3339 moment with a time zone, e.g. 2026-11-01T00:00:00Z.",
            )
        return value

    def window(self, now: datetime) -> Window:
        since = parse_moment(self.since)
        until = now if self.until is None else parse_moment(self.until)
        assert since is not None and until is not None  # checked by the validators
        if self.until is None and since >= now:
            detail = "since is in the future; until defaults to now."
            raise FieldError([field_error("since", "invalid_since", detail)])
        if until <= since:
            detail = "until must come after since."
            raise FieldError([field_error("until", "invalid_until", detail)])
        if until - since > MAX_WINDOW:
            detail = f"A call covers at most {MAX_WINDOW.days} days; ask for the rest in turn."
            raise FieldError(
                [field_error("until", "window_too_long", detail, limit=MAX_WINDOW.days)],
                limit=MAX_WINDOW.days,
            )
        return Window(since=since, until=until)


@documented(
    Operation(
        "listStatements",
        f"Statements of reasons, one per restriction (policy hold, take-down by reports, "
        f"rejection) decided in [since, until), as newline-delimited JSON; at most "
        f"{MAX_WINDOW.days} days a call",
        {
            200: Reply(
                "One JSON object a line, oldest first: a StatementRecord per restriction, then "
                '{"end": true, "count": N}. A stream without that last line was cut short.',
                StatementRecord,
                media=NDJSON,
                alternatives=(StatementsEnd,),
            )
        },
        problems(401, 403, 503, s422=INVALID),
        query=StatementsQuery,
        security=BEARER,
        description="Field names follow the EU DSA Transparency Database's statements of "
        "reasons where they fit; docs/statements.md maps them field by field.",
    )
)
async def get_statements(request: Request) -> StreamingResponse:
    require_moderator(await authenticate(request))
    svc = services(request)
    window = StatementsQuery.parse(dict(request.query_params)).window(utcnow())
    first = await run_in_threadpool(read_page, svc.db, window=window, after=None)
    return StreamingResponse(_lines(svc.db, window, first), media_type=NDJSON)


async def _lines(db: Database, window: Window, page: Page) -> AsyncIterator[bytes]:
    count = 0
    while True:
        if page.records:
            yield "".join(_line(record) for record in page.records).encode()
            count += len(page.records)
        if page.after is None:
            break
        page = await run_in_threadpool(read_page, db, window=window, after=page.after)
    yield _line(end_record(count)).encode()


def _line(record: Resource) -> str:
    return f"{record.model_dump_json()}\n"
