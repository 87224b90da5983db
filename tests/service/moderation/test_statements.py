"""Statements of reasons: the record each restriction maps to (pure, table-driven), and
GET /v1/moderation/statements streaming them as NDJSON from rows written by the store."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import jsonschema
import pytest
from sqlalchemy import insert

from service.db.tables import Comment, Decision, utcnow
from service.moderation.statements import (
    PAGE_SIZE,
    REASON_CATEGORIES,
    Restriction,
    Window,
    open_at,
    read_page,
    statement_record,
)
from service.reports.reasons import REASON_CODES
from service.store.comments import build_comment, create_comment
from service.store.decisions import add_decision
from service.store.reports import add_report, close_open_reports
from tests.support.api import Api, problem
from tests.support.databases import BACKENDS
from tests.support.holds import INSULT, database, hold, terms_reason

AT = datetime(2026, 11, 30, 12, tzinfo=UTC)
WRITTEN = AT - timedelta(hours=2)
AUTHOR = "author-who-must-never-appear"
LINKS = {"kind": "links", "rule": "links", "message": "Links to spam.example, not allowed."}
PREMODERATED = {"kind": "article", "rule": "article.premoderated", "message": "Pre-moderated."}
HIDE = {
    "kind": "reports",
    "rule": "reports.hide_after",
    "message": "Hidden after 3 readers reported it.",
    "count": 3,
    "hide_after": 3,
}
THREAT = {**INSULT, "rule": "toxicity.threat", "label": "threat", "message": "Threatening."}
SEXUAL = {**INSULT, "rule": "toxicity.sexual_explicit", "label": "sexual_explicit"}
PERSONAL = {"kind": "personal_info", "rule": "personal_info.email", "message": "An email."}


def restriction(by: str, action: str, **fields: Any) -> Restriction:
    values: dict[str, Any] = {
        "decision_id": 7,
        "comment_id": "c-1",
        "by": by,
        "action": action,
        "reasons": [],
        "reason_code": None,
        "explanation": None,
        "legal_ground": None,
        "at": AT,
        "content_date": WRITTEN,
    }
    values.update(fields)
    return Restriction(**values)


def record(by: str, action: str, **fields: Any) -> dict[str, Any]:
    return statement_record(restriction(by, action, **fields)).model_dump(mode="json")


# Pure mapping


def test_a_policy_hold_is_a_restriction_before_publication() -> None:
    assert record("policy", "hold", reasons=[INSULT, LINKS]) == {
        "decision_id": 7,
        "puid": "c-1_7",
        "comment_id": "c-1",
        "decision_visibility": ["DECISION_VISIBILITY_OTHER"],
        "decision_visibility_other": "Held for review by a moderator before publication.",
        "decision_ground": "DECISION_GROUND_INCOMPATIBLE_CONTENT",
        "illegal_content_legal_ground": None,
        "illegal_content_explanation": None,
        "incompatible_content_ground": "toxicity.insult, links",
        "incompatible_content_explanation": f"{INSULT['message']} {LINKS['message']}",
        "decision_facts": f"{INSULT['message']} {LINKS['message']}",
        "category": "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
        "content_type": ["CONTENT_TYPE_TEXT"],
        "content_date": "2026-11-30T10:00:00.000Z",
        "application_date": "2026-11-30T12:00:00.000Z",
        "automated_detection": "Yes",
        "automated_decision": "AUTOMATED_DECISION_FULLY",
        "source_type": "SOURCE_VOLUNTARY",
        "action": "hold",
        "by": "policy",
        "reason_code": None,
        "rules": ["toxicity.insult", "links"],
    }


def test_a_hold_of_whatever_is_written_detects_nothing() -> None:
    found = record("policy", "hold", reasons=[PREMODERATED])
    assert found["automated_detection"] == "No"
    assert found["automated_decision"] == "AUTOMATED_DECISION_FULLY"
    assert found["category"] == "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE"
    assert found["incompatible_content_ground"] == "article.premoderated"


def test_a_take_down_by_reports_follows_readers_notices() -> None:
    found = record(
        "reports", "hide", reasons=[HIDE], report_reasons=["spam", "harassment", "harassment"]
    )
    assert found["decision_visibility"] == ["DECISION_VISIBILITY_CONTENT_DISABLED"]
    assert found["decision_visibility_other"] is None
    assert found["automated_detection"] == "No"
    assert found["automated_decision"] == "AUTOMATED_DECISION_FULLY"
    assert found["source_type"] == "SOURCE_TYPE_OTHER_NOTIFICATION"
    # the readers' most frequent reason
    assert found["category"] == "STATEMENT_CATEGORY_NON_CONSENSUAL_BEHAVIOUR"
    assert found["incompatible_content_ground"] == "reports.hide_after"
    assert found["decision_facts"] == "Hidden after 3 readers reported it."
    assert found["rules"] == ["reports.hide_after"]


def test_a_notice_of_illegal_content_is_an_article_16_notice() -> None:
    found = record("reports", "hide", reasons=[HIDE], report_reasons=["offensive", "illegal"])
    assert found["source_type"] == "SOURCE_ARTICLE_16"


def test_a_rejection_for_illegal_content_states_the_law() -> None:
    found = record(
        "moderator",
        "reject",
        reason_code="illegal",
        legal_ground="Criminal code, section 130",
        explanation="Incites hatred against a group.",
        report_reasons=["illegal"],
    )
    assert found["decision_ground"] == "DECISION_GROUND_ILLEGAL_CONTENT"
    assert found["illegal_content_legal_ground"] == "Criminal code, section 130"
    assert found["illegal_content_explanation"] == "Incites hatred against a group."
    assert found["incompatible_content_ground"] is None
    assert found["incompatible_content_explanation"] is None
    assert found["decision_visibility"] == ["DECISION_VISIBILITY_CONTENT_DISABLED"]
    assert found["automated_detection"] == "No"
    assert found["automated_decision"] == "AUTOMATED_DECISION_NOT_AUTOMATED"
    assert found["source_type"] == "SOURCE_ARTICLE_16"
    assert found["reason_code"] == "illegal"


def test_a_rejection_of_a_held_comment_names_the_hold_rules() -> None:
    found = record("moderator", "reject", held_for=[THREAT])
    assert found["decision_ground"] == "DECISION_GROUND_INCOMPATIBLE_CONTENT"
    assert found["incompatible_content_ground"] == "toxicity.threat"
    assert found["incompatible_content_explanation"] == "Threatening."
    assert found["rules"] == ["toxicity.threat"]
    assert found["category"] == "STATEMENT_CATEGORY_VIOLENCE"
    # the policy found it; a person decided
    assert found["automated_detection"] == "Yes"
    assert found["automated_decision"] == "AUTOMATED_DECISION_NOT_AUTOMATED"
    assert found["source_type"] == "SOURCE_VOLUNTARY"


def test_a_coded_rejection_says_the_code_and_the_explanation() -> None:
    found = record(
        "moderator",
        "reject",
        reason_code="misinformation",
        explanation="The figures quoted are invented.",
        held_for=[INSULT],
    )
    assert found["incompatible_content_ground"] == "misinformation"
    assert found["incompatible_content_explanation"] == "The figures quoted are invented."
    assert (
        found["category"] == "STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS"
    )


def test_a_rejection_on_our_own_initiative_without_a_code() -> None:
    found = record("moderator", "reject")
    assert found["incompatible_content_ground"] == "other"
    assert found["incompatible_content_explanation"] is None
    assert found["rules"] == []
    assert found["automated_detection"] == "No"
    assert found["source_type"] == "SOURCE_VOLUNTARY"
    assert found["category"] == "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE"


@pytest.mark.parametrize(
    ("reasons", "category"),
    [
        ([INSULT], "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH"),
        ([terms_reason(0, 3)], "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH"),
        ([THREAT, INSULT], "STATEMENT_CATEGORY_VIOLENCE"),
        ([SEXUAL], "STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT"),
        ([PERSONAL], "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS"),
        ([LINKS], "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE"),
        ([PREMODERATED, INSULT], "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH"),
        ([], "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE"),
    ],
)
def test_the_category_of_a_hold_is_its_first_content_rules(
    reasons: list[dict[str, Any]], category: str
) -> None:
    assert record("policy", "hold", reasons=reasons)["category"] == category


@pytest.mark.parametrize(
    ("code", "category"),
    [
        ("offensive", "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH"),
        ("abusive", "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH"),
        ("harassment", "STATEMENT_CATEGORY_NON_CONSENSUAL_BEHAVIOUR"),
        ("hate_speech", "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH"),
        ("spam", "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE"),
        ("personal_info", "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS"),
        ("off_topic", "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE"),
        ("illegal", "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH"),
        ("other", "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE"),
        ("misinformation", "STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS"),
    ],
)
def test_every_reason_code_has_a_category(code: str, category: str) -> None:
    assert REASON_CATEGORIES[code] == category
    # The coded reason wins over the readers' reports and the policy's rules.
    found = record("moderator", "reject", reason_code=code, report_reasons=["spam"])
    assert found["category"] == category
    assert set(REASON_CATEGORIES) == set(REASON_CODES)


def test_a_tie_between_report_reasons_goes_to_the_earlier_code() -> None:
    found = record("reports", "hide", report_reasons=["spam", "offensive"])
    assert found["category"] == "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH"


def test_the_reports_behind_a_decision_are_those_open_at_its_moment() -> None:
    hour = timedelta(hours=1)
    reports = [
        ("spam", AT - 3 * hour, AT - 2 * hour),  # dismissed before
        ("offensive", AT - hour, None),  # still open
        ("illegal", AT - hour, AT),  # closed by this very decision
        ("other", AT + hour, None),  # made afterwards
    ]
    assert open_at(reports, AT) == ["offensive", "illegal"]


# The route, on rows written by the store


def moderator(api: Api) -> dict[str, str]:
    return api.auth("mod-1", moderator=True)


def statements(api: Api, **params: str) -> Any:
    return api.client.get("/v1/moderation/statements", params=params, headers=moderator(api))


def lines(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/x-ndjson")
    assert response.text.endswith("\n")
    return [json.loads(line) for line in response.text.splitlines()]


def comment(api: Api, *, author: str = AUTHOR, at: datetime = WRITTEN) -> str:
    with database(api).session() as session:
        made = create_comment(
            session,
            article_id="news-1",
            parent_id=None,
            author_id=author,
            author_name="Ms Never Shown",
            text="Words the statements never carry.",
            idempotency_key=None,
            body_hash=None,
            now=at,
        )
        return made.id


def decide(api: Api, comment_id: str, by: str, action: str, at: datetime, **fields: Any) -> int:
    with database(api).session() as session:
        return add_decision(
            session, comment_id=comment_id, by=by, action=action, now=at, **fields
        ).id


def report(api: Api, comment_id: str, reporter: str, reason: str, at: datetime) -> None:
    fields: dict[str, Any] = {"detail": "A detail the statements never carry."}
    if reason == "illegal":
        fields |= {"legal_ground": "Section 130", "explanation": "Hate.", "good_faith": True}
    with database(api).session() as session:
        add_report(
            session,
            now=at,
            comment_id=comment_id,
            reporter_id=reporter,
            reason=reason,
            counts_toward_hide=True,
            **fields,
        )


def seed(api: Api) -> dict[str, Any]:
    """A held-then-rejected comment, a reported-then-hidden one, a hidden-then-kept one, and
    decisions that restrict nothing or fall outside the window [AT - 1 day, AT)."""
    day = timedelta(days=1)
    held = comment(api)
    hold_id = decide(
        api, held, "policy", "hold", AT - timedelta(hours=20), reasons=[INSULT], scores={}
    )
    reject_id = decide(
        api,
        held,
        "moderator",
        "reject",
        AT - timedelta(hours=2),
        moderator_id="mod-1",
        reason="internal note",
        reason_code="abusive",
        explanation="Personal abuse of another reader.",
    )
    reported = comment(api)
    decide(api, reported, "policy", "approve", AT - timedelta(hours=10))
    report(api, reported, "reader-a", "spam", AT - timedelta(hours=6))
    report(api, reported, "reader-b", "illegal", AT - timedelta(hours=5))
    hide_id = decide(api, reported, "reports", "hide", AT - timedelta(hours=5), reasons=[HIDE])
    with database(api).session() as session:
        close_open_reports(
            session,
            comment_id=reported,
            outcome="upheld",
            moderator_id="mod-2",
            now=AT - timedelta(hours=1),
        )
    illegal_id = decide(
        api,
        reported,
        "moderator",
        "reject",
        AT - timedelta(hours=1),
        moderator_id="mod-2",
        reason_code="illegal",
        legal_ground="Criminal code, section 130",
        explanation="Incites hatred.",
    )
    kept = comment(api)
    decide(api, kept, "policy", "approve", AT - timedelta(hours=10))
    decide(api, kept, "reports", "hide", AT - timedelta(hours=3), reasons=[HIDE])
    decide(api, kept, "moderator", "keep", AT - timedelta(hours=2), moderator_id="mod-1")
    early = comment(api, at=AT - 3 * day)
    decide(api, early, "policy", "hold", AT - 2 * day, reasons=[LINKS])
    late = comment(api)
    decide(api, late, "policy", "hold", AT, reasons=[LINKS])  # `until` is not in the window
    return {
        "held": held,
        "reported": reported,
        "kept": kept,
        "order": [hold_id, hide_id, reject_id, illegal_id],
    }


WINDOW = {"since": "2026-11-29T12:00:00Z", "until": "2026-11-30T12:00:00Z"}


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_one_line_per_restriction_in_the_window_then_the_end(api: Api) -> None:
    made = seed(api)
    response = statements(api, **WINDOW)
    found = lines(response)
    assert found[-1] == {"end": True, "count": 5}
    records = found[:-1]
    # oldest first: the hold, the two hides, the two rejections
    assert [(item["by"], item["action"]) for item in records] == [
        ("policy", "hold"),
        ("reports", "hide"),
        ("reports", "hide"),
        ("moderator", "reject"),
        ("moderator", "reject"),
    ]
    by_id = {item["decision_id"]: item for item in records}
    hold_id, hide_id, reject_id, illegal_id = made["order"]
    assert by_id[hold_id]["puid"] == f"{made['held']}_{hold_id}"
    assert by_id[hold_id]["rules"] == ["toxicity.insult"]
    assert by_id[hold_id]["content_date"] == "2026-11-30T10:00:00.000Z"
    hide = by_id[hide_id]
    assert hide["comment_id"] == made["reported"]
    # spam and illegal reports were open when it was hidden
    assert hide["source_type"] == "SOURCE_ARTICLE_16"
    assert hide["category"] == "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE"
    rejected = by_id[reject_id]
    assert rejected["reason_code"] == "abusive"
    assert rejected["rules"] == ["toxicity.insult"]
    assert rejected["automated_detection"] == "Yes"
    assert rejected["source_type"] == "SOURCE_VOLUNTARY"
    assert rejected["incompatible_content_explanation"] == "Personal abuse of another reader."
    illegal = by_id[illegal_id]
    assert illegal["decision_ground"] == "DECISION_GROUND_ILLEGAL_CONTENT"
    assert illegal["illegal_content_legal_ground"] == "Criminal code, section 130"
    assert illegal["source_type"] == "SOURCE_ARTICLE_16"
    assert illegal["automated_detection"] == "No"

    document = api.client.get("/openapi.json").json()
    for name, items in [("StatementRecord", records), ("StatementsEnd", found[-1:])]:
        validator = jsonschema.Draft202012Validator(
            {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
        )
        for item in items:
            validator.validate(item)


def test_a_hold_and_its_coded_rejection_through_the_decision_route(api: Api) -> None:
    since = (utcnow() - timedelta(minutes=1)).isoformat()
    comment_id = hold(api, author=AUTHOR)
    response = api.client.post(
        f"/v1/moderation/comments/{comment_id}/decision",
        json={
            "action": "reject",
            "version": 2,
            "reason": "internal note",
            "reason_code": "illegal",
            "explanation": "Accuses a named person of a crime.",
            "legal_ground": "Defamation Act 2013, s. 1",
        },
        headers=moderator(api),
    )
    assert response.status_code == 200, response.text
    found = lines(statements(api, since=since))
    assert found[-1] == {"end": True, "count": 2}
    held, rejected = found[:-1]
    assert (held["by"], held["action"], held["rules"]) == ("policy", "hold", ["toxicity.insult"])
    assert held["puid"] != rejected["puid"]
    assert held["comment_id"] == rejected["comment_id"] == comment_id
    assert rejected["decision_ground"] == "DECISION_GROUND_ILLEGAL_CONTENT"
    assert rejected["illegal_content_legal_ground"] == "Defamation Act 2013, s. 1"
    assert rejected["illegal_content_explanation"] == "Accuses a named person of a crime."
    assert rejected["automated_detection"] == "Yes"  # the policy found it
    assert rejected["automated_decision"] == "AUTOMATED_DECISION_NOT_AUTOMATED"
    assert rejected["source_type"] == "SOURCE_VOLUNTARY"
    assert AUTHOR not in json.dumps(found) and "internal note" not in json.dumps(found)


def test_no_author_reporter_moderator_or_text_anywhere(api: Api) -> None:
    seed(api)
    text = statements(api, **WINDOW).text
    for secret in [
        AUTHOR,
        "Ms Never Shown",
        "Words the statements never carry",
        "reader-a",
        "reader-b",
        "A detail the statements never carry",
        "mod-1",
        "mod-2",
        "internal note",
    ]:
        assert secret not in text


def test_until_defaults_to_now_and_since_is_inclusive(api: Api) -> None:
    now = utcnow()
    held = comment(api, at=now - timedelta(hours=1))
    decide(api, held, "policy", "hold", now - timedelta(minutes=30), reasons=[INSULT])
    since = (now - timedelta(minutes=30)).isoformat()
    found = lines(statements(api, since=since))
    assert found[-1] == {"end": True, "count": 1}
    later = (now - timedelta(minutes=29)).isoformat()
    assert lines(statements(api, since=later))[-1]["count"] == 0
    # the same moment written in another zone
    other = (now - timedelta(minutes=30)).astimezone(timezone(timedelta(hours=-1))).isoformat()
    assert lines(statements(api, since=other))[-1]["count"] == 1


def test_an_empty_window_is_just_the_end_line(api: Api) -> None:
    assert lines(statements(api, **WINDOW)) == [{"end": True, "count": 0}]


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_more_than_a_page_streams_every_row_once_in_order(api: Api) -> None:
    total = PAGE_SIZE + 37
    # Comments and holds written in bulk; many share a moment, so the pages' boundary falls
    # inside a run of equal timestamps and only the id keeps their order.
    comments = [
        build_comment(
            article_id="news-1",
            parent_id=None,
            author_id=AUTHOR,
            author_name=None,
            text="t",
            idempotency_key=None,
            body_hash=None,
            now=WRITTEN,
        )
        for _ in range(total)
    ]
    with database(api).session() as session:
        session.execute(
            insert(Comment.__table__),
            [
                {column.name: getattr(item, column.key) for column in Comment.__mapper__.columns}
                for item in comments
            ],
        )
        session.execute(
            insert(Decision.__table__),
            [
                {
                    "comment_id": item.id,
                    "by": "policy",
                    "action": "hold",
                    "reasons": [LINKS],
                    "scores": {},
                    "context": {},
                    "at": AT - timedelta(hours=1, seconds=index // 100),
                }
                for index, item in enumerate(comments)
            ],
        )
    response = statements(api, **WINDOW)
    # streamed: no length known up front
    assert "content-length" not in response.headers
    found = lines(response)
    assert found[-1] == {"end": True, "count": total}
    records = found[:-1]
    assert len({item["decision_id"] for item in records}) == total
    keys = [(item["application_date"], item["decision_id"]) for item in records]
    assert keys == sorted(keys)

    window = Window(since=AT - timedelta(days=1), until=AT)
    page = read_page(database(api), window=window, after=None, limit=150)
    assert len(page.records) == 150 and page.after is not None
    pages = [page.records]
    while page.after is not None:
        page = read_page(database(api), window=window, after=page.after, limit=150)
        pages.append(page.records)
    assert [len(items) for items in pages] == [150, 150, 150, 87]
    assert [item.decision_id for items in pages for item in items] == [
        item["decision_id"] for item in records
    ]


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({}, "required"),
        ({"since": "yesterday"}, "invalid_since"),
        ({"since": "2026-11-01"}, "invalid_since"),
        ({"since": "2026-11-01T00:00:00"}, "invalid_since"),
        ({"since": "2026-02-30T00:00:00Z"}, "invalid_since"),
        ({"since": "2999-01-01T00:00:00Z"}, "invalid_since"),
        ({"since": "2026-11-01T00:00:00Z", "until": "soon"}, "invalid_until"),
        ({"since": "2026-11-01T00:00:00Z", "until": "2026-11-01T00:00:00Z"}, "invalid_until"),
        ({"since": "2026-11-02T00:00:00Z", "until": "2026-11-01T00:00:00Z"}, "invalid_until"),
        ({"since": "2026-10-01T00:00:00Z", "until": "2026-11-01T00:00:01Z"}, "window_too_long"),
        ({"since": "2020-01-01T00:00:00Z"}, "window_too_long"),
    ],
)
def test_bad_windows(api: Api, params: dict[str, str], code: str) -> None:
    body = problem(statements(api, **params), 422, code)
    if code == "window_too_long":
        assert body["limit"] == 31


def test_thirty_one_days_is_the_most_a_call_covers(api: Api) -> None:
    found = lines(statements(api, since="2026-10-01T00:00:00Z", until="2026-11-01T00:00:00Z"))
    assert found == [{"end": True, "count": 0}]
    found = lines(statements(api, since="2026-10-01t01:00:00+01:00", until="2026-11-01T00:00:00Z"))
    assert found == [{"end": True, "count": 0}]


def test_moderators_only(api: Api) -> None:
    url = "/v1/moderation/statements"
    problem(api.client.get(url, params=WINDOW), 401, "invalid_token")
    problem(api.client.get(url, params=WINDOW, headers=api.auth("reader-1")), 403, "forbidden")
    # who may ask is checked before what they ask
    problem(api.client.get(url, params={"since": "x"}, headers=api.auth("reader-1")), 403)
