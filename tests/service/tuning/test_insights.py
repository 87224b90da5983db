"""Insights over edited comments: an edit supersedes the automated decision before it, so each
comment counts once, on its current revision, and a moderator's judgement counts only for the
decision of the revision it was made on. A hold leaves the queue with its revision's review
or with the edit that replaced it."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

import policy
from service.db.engine import Database
from service.db.tables import utcnow
from service.settings import DEFAULT_POLICY
from service.store.tuning import list_evidence_decisions_since, list_hold_times_since
from service.tuning.insights import InsightsRequest, build_insights
from tests.support.databases import BACKENDS
from tests.support.edited_history import (
    ABUSIVE,
    ABUSIVE_AGAIN,
    CLEAN,
    DECIDED_AFTER,
    EDIT_AFTER,
    edit_and_decide,
    edited_comment,
    review,
)

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)

REVIEWED_AFTER = timedelta(minutes=5)


def seed_edits(db: Database, now: datetime) -> dict[str, tuple[str, datetime]]:
    """(comment id, posted at) by key:

    judged:   approved as posted, edited into abuse and held; a moderator rejects revision 2.
    replaced: held as posted, edited while waiting into a clean text and approved.
    reheld:   held as posted and approved by a moderator, then edited into abuse and held;
              revision 2 waits.
    """
    posted = {
        "judged": now - timedelta(hours=3),
        "replaced": now - timedelta(hours=2),
        "reheld": now - timedelta(hours=1),
    }
    judged = edited_comment(db, takes=[CLEAN, ABUSIVE], posted_at=posted["judged"])
    review(db, comment_id=judged, action="reject", at=posted["judged"] + 2 * EDIT_AFTER)
    replaced = edited_comment(db, takes=[ABUSIVE, CLEAN], posted_at=posted["replaced"])
    reheld = edited_comment(db, takes=[ABUSIVE], posted_at=posted["reheld"])
    review(db, comment_id=reheld, action="approve", at=posted["reheld"] + REVIEWED_AFTER)
    edit_and_decide(db, comment_id=reheld, take=ABUSIVE_AGAIN, at=posted["reheld"] + EDIT_AFTER)
    return {
        "judged": (judged, posted["judged"]),
        "replaced": (replaced, posted["replaced"]),
        "reheld": (reheld, posted["reheld"]),
    }


def test_only_the_current_revisions_decision_is_evidence(db: Database) -> None:
    now = utcnow()
    made = seed_edits(db, now)
    with db.session() as session:
        found = list_evidence_decisions_since(session, since=now - timedelta(days=1))
    # judged: its revision 2 hold, reviewed; reheld: its revision 2 hold, waiting. The
    # replaced hold and the approvals before the edits are superseded.
    assert sorted((d.comment_id, d.revision, d.action) for d in found) == sorted(
        [(made["judged"][0], 2, "hold"), (made["reheld"][0], 2, "hold")]
    )


def test_a_hold_leaves_the_queue_with_its_revisions_review_or_the_edit(db: Database) -> None:
    now = utcnow()
    made = seed_edits(db, now)
    with db.session() as session:
        holds = list_hold_times_since(session, since=now - timedelta(days=1))
    judged, replaced, reheld = (made[key][1] for key in ("judged", "replaced", "reheld"))
    assert holds == [
        (judged + EDIT_AFTER + DECIDED_AFTER, judged + 2 * EDIT_AFTER),
        (replaced + DECIDED_AFTER, replaced + EDIT_AFTER),
        (reheld + DECIDED_AFTER, reheld + REVIEWED_AFTER),
        # the approval of revision 1 is not a review of revision 2
        (reheld + EDIT_AFTER + DECIDED_AFTER, None),
    ]


def test_insights_count_each_edited_comment_once_on_its_current_revision(db: Database) -> None:
    now = utcnow()
    seed_edits(db, now)
    current = policy.load_policy(DEFAULT_POLICY)
    insights = build_insights(
        db,
        request=InsightsRequest(
            since=now - timedelta(days=1),
            now=now,
            target_precision=0.9,
            thresholds=current.thresholds,
            policy_version=current.version,
            sample_rate=0.0,
        ),
    ).model_dump(mode="json")

    # One judgement: the reject of judged's revision 2. Reheld's approval was of revision 1.
    assert insights["labels"] == {
        "total": 1,
        "by_source": {"review": 1},
        "approved": 0,
        "rejected": 1,
    }
    (rule,) = insights["rules"]
    assert (rule["rule"], rule["holds"], rule["reviewed"], rule["overturned"], rule["upheld"]) == (
        "toxicity.insult",
        2,
        1,
        0,
        1,
    )
    insult = next(item for item in insights["model_labels"] if item["label"] == "insult")
    assert insult["labelled"] == 1
    assert insult["histogram"]["rejected"][-1] == 1
    assert sum(insult["histogram"]["rejected"]) == 1
    series = insights["volume"]["series"]
    assert sum(bucket["holds"] for bucket in series) == 4
    assert series[-1]["backlog"] == 1
