"""Report precision in the insights: per reason and per reporter, how many reports moderators
upheld (rejected the comment) or dismissed (kept it), over the window; never labels."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import jsonschema
import pytest

from service.db.engine import Database
from service.db.tables import utcnow
from service.store.comments import create_comment
from service.store.decisions import add_decision
from service.store.reports import add_report, close_open_reports
from service.tuning.evidence import ReportTally
from service.tuning.insights import report_precision
from service.tuning.resources import TOP_REPORTERS
from tests.support.api import Api
from tests.support.databases import BACKENDS
from tests.support.holds import database


def test_a_tally_counts_open_reports_and_its_precision() -> None:
    assert (ReportTally("spam", 5, 3, 1).open, ReportTally("spam", 5, 3, 1).precision) == (1, 0.75)
    assert ReportTally("spam", 2, 0, 0).precision is None
    assert ReportTally("spam", 2, 0, 2).precision == 0.0


def test_reasons_come_in_the_lists_order_and_add_up() -> None:
    found = report_precision(
        [
            ReportTally("other", 1, 0, 1),
            ReportTally("spam", 4, 2, 0),
            ReportTally("abusive", 3, 1, 1),
        ],
        reporters=5,
        top=[ReportTally("reader-9", 6, 2, 1)],
    ).model_dump(mode="json")
    assert [row["reason"] for row in found["by_reason"]] == ["abusive", "spam", "other"]
    assert found["total"] == {
        "reports": 8,
        "upheld": 3,
        "dismissed": 2,
        "open": 3,
        "precision": 0.6,
    }
    assert found["reporters"] == 5
    assert found["by_reporter"] == [
        {
            "reporter_id": "reader-9",
            "reports": 6,
            "upheld": 2,
            "dismissed": 1,
            "open": 3,
            "precision": 2 / 3,
        }
    ]


def make_comment(db: Database, author: str, at: datetime) -> str:
    with db.session() as session:
        comment = create_comment(
            session,
            article_id="news-1",
            parent_id=None,
            author_id=author,
            author_name=None,
            text="A published comment.",
            idempotency_key=None,
            body_hash=None,
            now=at,
        )
        add_decision(session, comment_id=comment.id, by="policy", action="approve", now=at)
        return comment.id


def reported(
    db: Database, reports: list[tuple[str, str]], *, outcome: str | None, at: datetime
) -> str:
    """A comment reported by (reporter, reason) pairs, then closed with `outcome` (or not)."""
    comment_id = make_comment(db, "author-1", at - timedelta(hours=1))
    with db.session() as session:
        for reporter, reason in reports:
            fields: dict[str, Any] = {}
            if reason == "illegal":
                fields = {"legal_ground": "s. 130", "explanation": "Hate.", "good_faith": True}
            add_report(
                session,
                now=at,
                comment_id=comment_id,
                reporter_id=reporter,
                reason=reason,
                counts_toward_hide=True,
                **fields,
            )
        if outcome is not None:
            close_open_reports(
                session,
                comment_id=comment_id,
                outcome=outcome,
                moderator_id="mod-1",
                now=at + timedelta(minutes=5),
            )
    return comment_id


def insights(api: Api, **params: str) -> Any:
    response = api.client.get(
        "/v1/moderation/insights", params=params, headers=api.auth("mod-1", moderator=True)
    )
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_precision_by_reason_and_by_reporter_over_the_window(api: Api) -> None:
    db = database(api)
    now = utcnow()
    day = timedelta(days=1)
    reported(db, [("ann", "spam"), ("bob", "spam"), ("cat", "abusive")], outcome="upheld",
             at=now - 2 * day)  # fmt: skip
    reported(db, [("ann", "spam"), ("bob", "offensive")], outcome="dismissed", at=now - day)
    reported(db, [("ann", "illegal")], outcome=None, at=now - timedelta(hours=2))
    # outside the 30-day window
    reported(db, [("old", "spam")], outcome="upheld", at=now - 40 * day)

    body = insights(api)
    document = api.client.get("/openapi.json").json()
    jsonschema.Draft202012Validator(
        {"$ref": "#/components/schemas/Insights", "components": document["components"]}
    ).validate(body)
    reports = body["reports"]
    assert reports["total"] == {
        "reports": 6,
        "upheld": 3,
        "dismissed": 2,
        "open": 1,
        "precision": 0.6,
    }
    assert reports["reporters"] == 3
    assert reports["by_reason"] == [
        {"reason": "offensive", "reports": 1, "upheld": 0, "dismissed": 1, "open": 0,
         "precision": 0.0},
        {"reason": "abusive", "reports": 1, "upheld": 1, "dismissed": 0, "open": 0,
         "precision": 1.0},
        {"reason": "spam", "reports": 3, "upheld": 2, "dismissed": 1, "open": 0,
         "precision": 2 / 3},
        {"reason": "illegal", "reports": 1, "upheld": 0, "dismissed": 0, "open": 1,
         "precision": None},
    ]  # fmt: skip
    rows = [
        (row["reporter_id"], row["reports"], row["precision"]) for row in reports["by_reporter"]
    ]
    assert rows == [("ann", 3, 0.5), ("bob", 2, 0.5), ("cat", 1, 1.0)]

    # Reports are not labels: the window's judgements are unchanged by them.
    assert body["labels"]["total"] == 0
    narrow = insights(api, since="36h")["reports"]
    assert narrow["total"]["reports"] == 3
    assert [row["reason"] for row in narrow["by_reason"]] == ["offensive", "spam", "illegal"]


def test_the_readers_who_report_most_come_first_up_to_the_limit(api: Api) -> None:
    db = database(api)
    now = utcnow()
    busy = [f"reader-{index:02d}" for index in range(TOP_REPORTERS + 5)]
    # reader-00 reports once more than anyone, the rest twice each
    for round_ in range(2):
        reported(db, [(reporter, "spam") for reporter in busy], outcome=None,
                 at=now - timedelta(hours=round_ + 1))  # fmt: skip
    reported(db, [("reader-00", "spam")], outcome="upheld", at=now - timedelta(hours=5))
    reports = insights(api)["reports"]
    assert reports["reporters"] == TOP_REPORTERS + 5
    rows = reports["by_reporter"]
    assert len(rows) == TOP_REPORTERS
    assert rows[0] == {
        "reporter_id": "reader-00",
        "reports": 3,
        "upheld": 1,
        "dismissed": 0,
        "open": 2,
        "precision": 1.0,
    }
    # ties by reporter id
    assert [row["reporter_id"] for row in rows[1:]] == busy[1:TOP_REPORTERS]
