"""Statements of reasons: one record per restriction of a comment, in the field names of the
EU DSA Transparency Database where they fit (docs/statements.md says field by field).

A restriction is a policy hold, a take-down by readers' reports or a moderator's rejection.
The record says what was restricted (`puid`, never who wrote it), why (the ground, the coded
reason, the rules that fired), on whose initiative (`source_type`) and how automated it was.
The mapping is pure (`statement_record`); `read_page` reads one page of rows through the
store (service/store/statements.py); the route streams the pages.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import Field

from service.comments.resources import isoformat
from service.db.engine import Database
from service.http.bodies import DateTime, Resource, build
from service.reports.reasons import ILLEGAL, REASON_CODES
from service.store.statements import list_policy_holds, list_report_spans, list_restrictions

MAX_WINDOW = timedelta(days=31)
PAGE_SIZE = 500
# (by, action) of the decisions that restrict a comment.
RESTRICTIONS: tuple[tuple[str, str], ...] = (
    ("policy", "hold"),
    ("reports", "hide"),
    ("moderator", "reject"),
)
HELD_BEFORE_PUBLICATION = "Held for review by a moderator before publication."
# Rule kinds that find something in the comment itself; the others (a pre-moderated article,
# an always-held author, a language the model can't read) hold whatever is written.
DETECTING_KINDS = frozenset({"toxicity", "terms", "links", "personal_info", "repeat", "flood"})
OTHER_REASON = "other"

Category = Literal[
    "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
    "STATEMENT_CATEGORY_NON_CONSENSUAL_BEHAVIOUR",
    "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS",
    "STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS",
    "STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT",
    "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE",
    "STATEMENT_CATEGORY_VIOLENCE",
]
SPEECH: Category = "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH"
SCOPE: Category = "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE"
PRIVACY: Category = "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS"
REASON_CATEGORIES: dict[str, Category] = {
    "offensive": SPEECH,
    "abusive": SPEECH,
    "harassment": "STATEMENT_CATEGORY_NON_CONSENSUAL_BEHAVIOUR",
    "hate_speech": SPEECH,
    "spam": SCOPE,
    "personal_info": PRIVACY,
    "off_topic": SCOPE,
    # A notice of illegal content names the law, not a category; a comment is speech.
    "illegal": SPEECH,
    "other": SCOPE,
    "misinformation": "STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS",
}
KIND_CATEGORIES: dict[str, Category] = {
    "toxicity": SPEECH,
    "terms": SPEECH,
    "personal_info": PRIVACY,
}
LABEL_CATEGORIES: dict[str, Category] = {
    "threat": "STATEMENT_CATEGORY_VIOLENCE",
    "sexual_explicit": "STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT",
}


class StatementRecord(Resource):
    """One restriction of a comment: a line of GET /v1/moderation/statements."""

    decision_id: Annotated[int, Field(description="Our decision's id (history's order).")]
    puid: Annotated[
        str,
        Field(
            description="Unique per statement, as the Transparency Database requires: the "
            "comment's id and the decision's. Never the author's id."
        ),
    ]
    comment_id: str
    decision_visibility: list[
        Literal["DECISION_VISIBILITY_CONTENT_DISABLED", "DECISION_VISIBILITY_OTHER"]
    ]
    decision_visibility_other: str | None
    decision_ground: Literal[
        "DECISION_GROUND_ILLEGAL_CONTENT", "DECISION_GROUND_INCOMPATIBLE_CONTENT"
    ]
    illegal_content_legal_ground: str | None
    illegal_content_explanation: str | None
    incompatible_content_ground: Annotated[
        str | None, Field(description="The coded reason, else the rules that fired.")
    ]
    incompatible_content_explanation: str | None
    decision_facts: str | None
    category: Category
    content_type: list[Literal["CONTENT_TYPE_TEXT"]]
    content_date: Annotated[DateTime, Field(description="When the comment was written.")]
    application_date: Annotated[DateTime, Field(description="When the restriction was decided.")]
    automated_detection: Literal["Yes", "No"]
    automated_decision: Literal["AUTOMATED_DECISION_FULLY", "AUTOMATED_DECISION_NOT_AUTOMATED"]
    source_type: Literal["SOURCE_ARTICLE_16", "SOURCE_TYPE_OTHER_NOTIFICATION", "SOURCE_VOLUNTARY"]
    action: Literal["hold", "hide", "reject"]
    by: Literal["policy", "reports", "moderator"]
    reason_code: str | None
    rules: Annotated[list[str], Field(description="Ids of the rules (or labels) that fired.")]


class StatementsEnd(Resource):
    """The last line: the stream is whole only when it ends with this."""

    end: Literal[True]
    count: Annotated[int, Field(ge=0, description="Records before this line.")]


@dataclass(frozen=True)
class Restriction:
    """A restricting decision and what it rests on, as the store reads them."""

    decision_id: int
    comment_id: str
    by: str
    action: str
    reasons: Sequence[Mapping[str, Any]]
    reason_code: str | None
    explanation: str | None
    legal_ground: str | None
    at: datetime
    content_date: datetime
    report_reasons: Sequence[str] = ()
    """Reasons of the readers' reports open when it was decided."""
    held_for: Sequence[Mapping[str, Any]] = ()
    """For a moderator's decision: the reasons the policy held the comment for, if it did."""


def statement_record(restriction: Restriction) -> StatementRecord:
    automated = restriction.by != "moderator"
    fired = restriction.reasons if automated else restriction.held_for
    rules = list(dict.fromkeys(str(reason["rule"]) for reason in fired if "rule" in reason))
    illegal = restriction.reason_code == ILLEGAL
    facts = (
        _messages(restriction.reasons)
        if automated
        else restriction.explanation or _messages(restriction.held_for)
    )
    hold = restriction.action == "hold"
    return build(
        StatementRecord,
        decision_id=restriction.decision_id,
        puid=f"{restriction.comment_id}_{restriction.decision_id}",
        comment_id=restriction.comment_id,
        decision_visibility=[
            "DECISION_VISIBILITY_OTHER" if hold else "DECISION_VISIBILITY_CONTENT_DISABLED"
        ],
        decision_visibility_other=HELD_BEFORE_PUBLICATION if hold else None,
        decision_ground="DECISION_GROUND_ILLEGAL_CONTENT"
        if illegal
        else "DECISION_GROUND_INCOMPATIBLE_CONTENT",
        illegal_content_legal_ground=restriction.legal_ground if illegal else None,
        illegal_content_explanation=restriction.explanation if illegal else None,
        incompatible_content_ground=None
        if illegal
        else (restriction.reason_code or ", ".join(rules) or OTHER_REASON),
        incompatible_content_explanation=None if illegal else facts,
        decision_facts=facts,
        category=category(restriction),
        content_type=["CONTENT_TYPE_TEXT"],
        content_date=isoformat(restriction.content_date),
        application_date=isoformat(restriction.at),
        automated_detection="Yes" if automated_detection(restriction) else "No",
        automated_decision="AUTOMATED_DECISION_FULLY"
        if automated
        else "AUTOMATED_DECISION_NOT_AUTOMATED",
        source_type=source_type(restriction.report_reasons),
        action=restriction.action,
        by=restriction.by,
        reason_code=restriction.reason_code,
        rules=rules,
    )


def category(restriction: Restriction) -> Category:
    """The moderator's coded reason; else the readers' most frequent report reason; else the
    first rule the policy held it for."""
    if restriction.reason_code in REASON_CATEGORIES:
        return REASON_CATEGORIES[restriction.reason_code]
    if restriction.report_reasons:
        counts = Counter(restriction.report_reasons)
        top = min(counts, key=lambda reason: (-counts[reason], _reason_rank(reason)))
        return REASON_CATEGORIES.get(top, SCOPE)
    fired = restriction.reasons if restriction.by == "policy" else restriction.held_for
    for reason in fired:
        kind = str(reason.get("kind", ""))
        label = str(reason.get("label", ""))
        if kind == "toxicity" and label in LABEL_CATEGORIES:
            return LABEL_CATEGORIES[label]
        if kind in KIND_CATEGORIES:
            return KIND_CATEGORIES[kind]
    return SCOPE


def automated_detection(restriction: Restriction) -> bool:
    """Whether a machine, not a reader, found what is wrong with the comment: the policy's
    content rules did, for its own hold or for the hold a moderator then decided."""
    if restriction.by == "reports" or restriction.report_reasons:
        return False
    fired = restriction.reasons if restriction.by == "policy" else restriction.held_for
    return any(reason.get("kind") in DETECTING_KINDS for reason in fired)


def source_type(report_reasons: Sequence[str]) -> str:
    """A notice of illegal content is the DSA's Art. 16 notice; other readers' reports are
    another notification; without reports, the restriction was our own initiative."""
    if ILLEGAL in report_reasons:
        return "SOURCE_ARTICLE_16"
    if report_reasons:
        return "SOURCE_TYPE_OTHER_NOTIFICATION"
    return "SOURCE_VOLUNTARY"


def end_record(count: int) -> StatementsEnd:
    return build(StatementsEnd, end=True, count=count)


def _messages(reasons: Sequence[Mapping[str, Any]]) -> str | None:
    found = [str(reason["message"]) for reason in reasons if reason.get("message")]
    return " ".join(found) or None


def _reason_rank(reason: str) -> int:
    return REASON_CODES.index(reason) if reason in REASON_CODES else len(REASON_CODES)


@dataclass(frozen=True)
class Window:
    since: datetime
    until: datetime


@dataclass(frozen=True)
class Page:
    records: list[StatementRecord]
    after: tuple[datetime, int] | None
    """Where the next page starts; None when this one was the last."""


def read_page(
    db: Database, *, window: Window, after: tuple[datetime, int] | None, limit: int = PAGE_SIZE
) -> Page:
    """One page of records, read in a short transaction of its own."""
    with db.session() as session:
        rows = list_restrictions(
            session,
            kinds=RESTRICTIONS,
            since=window.since,
            until=window.until,
            after=after,
            limit=limit,
        )
        reported = [row.comment_id for row in rows if row.by != "policy"]
        reports = list_report_spans(session, comment_ids=reported)
        moderated = [row.comment_id for row in rows if row.by == "moderator"]
        holds = list_policy_holds(session, comment_ids=moderated)
    records = [
        statement_record(
            Restriction(
                decision_id=row.decision_id,
                comment_id=row.comment_id,
                by=row.by,
                action=row.action,
                reasons=row.reasons or [],
                reason_code=row.reason_code,
                explanation=row.explanation,
                legal_ground=row.legal_ground,
                at=row.at,
                content_date=row.content_date,
                report_reasons=open_at(reports.get(row.comment_id, ()), row.at),
                held_for=holds.get(row.comment_id, []) if row.by == "moderator" else (),
            )
        )
        for row in rows
    ]
    last = rows[-1] if len(rows) == limit else None
    return Page(records, None if last is None else (last.at, last.decision_id))


def open_at(
    reports: Sequence[tuple[str, datetime, datetime | None]], moment: datetime
) -> list[str]:
    """Reasons of the reports made by `moment` and not closed before it: those a take-down
    or a rejection at that moment followed."""
    return [
        reason
        for reason, made, closed in reports
        if made <= moment and (closed is None or closed >= moment)
    ]
