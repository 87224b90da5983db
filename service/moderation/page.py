"""GET /moderate: the moderators' page. It holds no data, so it needs no token; everything it
shows comes from the API, fetched by its script with the moderator's Bearer token."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from service.http.openapi import Operation, Reply, documented
from service.http.pages import render_page
from service.reports.reasons import REASON_CODES


@documented(
    Operation(
        "moderatorPage",
        "The moderators' web page (holds no data; sign in there with a token)",
        {200: Reply("HTML", media="text/html")},
    )
)
async def moderate(request: Request) -> Response:
    # The coded reasons, in the order the page's digit keys pick them.
    return render_page(
        request, "moderate.html", {"reason_codes": " ".join(REASON_CODES)}, catalogue="moderate"
    )
