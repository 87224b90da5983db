"""An author's edit racing a moderator's decision on a held comment, at the store on
PostgreSQL (row locks that really wait): one wins, the other gets 409, and nothing is left
half-applied."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from service.comments.edit import Edited, edit_comment
from service.comments.schemas import EditComment
from service.db.tables import CommentRevision, Decision, ModerationAudit
from service.errors import ProblemError
from service.events import COMMENT_DECIDED, COMMENT_EDITED, COMMENT_REVIEWED
from service.http.auth import Principal
from service.moderation.review import Reviewed, review_comment
from service.moderation.schemas import Review
from tests.support.api import Api
from tests.support.edits import hold_reason_kinds, stored
from tests.support.holds import database, hold
from tests.support.reports import events_of

ROUNDS = 8
EVENTS = frozenset({COMMENT_DECIDED, COMMENT_REVIEWED, COMMENT_EDITED})
AUTHOR = Principal("reader-1")
MODERATOR = Principal("mod-1", roles=frozenset({"moderator"}))


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_an_edit_racing_a_reject_one_wins_the_other_is_409(api: Api) -> None:
    db = database(api)
    for _ in range(ROUNDS):
        comment_id = hold(api, text="Held words.")
        barrier = threading.Barrier(2)
        outcomes: dict[str, Edited | Reviewed | ProblemError] = {}

        def author_edits(comment_id: str = comment_id) -> None:
            barrier.wait()
            try:
                outcomes["edit"] = edit_comment(
                    db,
                    principal=AUTHOR,
                    comment_id=comment_id,
                    edit=EditComment(text="Kinder words.", revision=1),
                    idempotency_key=None,
                    window=timedelta(minutes=15),
                    events=EVENTS,
                )
            except ProblemError as refusal:
                outcomes["edit"] = refusal

        def moderator_rejects(comment_id: str = comment_id) -> None:
            barrier.wait()
            try:
                outcomes["review"] = review_comment(
                    db,
                    moderator=MODERATOR,
                    review=Review(comment_id, "reject", 2, None, False),
                    events=EVENTS,
                )
            except ProblemError as refusal:
                outcomes["review"] = refusal

        threads = [
            threading.Thread(target=author_edits),
            threading.Thread(target=moderator_rejects),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        edit, review = outcomes["edit"], outcomes["review"]
        row = stored(api, comment_id)
        revisions, decisions, audits = _rows(api, comment_id)
        events = sorted(event.type for event in events_of(api, comment_id))
        if isinstance(edit, Edited):
            assert isinstance(review, ProblemError)
            assert (review.status, review.code) == (409, "not_held")
            assert (row.status, row.revision, row.version, row.text) == (
                "pending",
                2,
                3,
                "Kinder words.",
            )
            assert revisions == [1, 2]
            assert (decisions, audits) == (0, 0)
            assert hold_reason_kinds(api, comment_id) == []
            assert events == [COMMENT_EDITED]
        else:
            assert isinstance(review, Reviewed)
            assert (edit.status, edit.code) == (409, "not_editable")
            assert (row.status, row.revision, row.version, row.text) == (
                "rejected",
                1,
                3,
                "Held words.",
            )
            assert revisions == []
            assert (decisions, audits) == (1, 1)
            assert events == [COMMENT_DECIDED, COMMENT_REVIEWED]


def _rows(api: Api, comment_id: str) -> tuple[list[int], int, int]:
    """The comment's revision numbers, and how many moderator decisions and audit rows."""
    with database(api).session() as session:
        revisions = list(
            session.scalars(
                select(CommentRevision.revision)
                .where(CommentRevision.comment_id == comment_id)
                .order_by(CommentRevision.revision)
            )
        )
        decisions = session.scalar(
            select(func.count())
            .select_from(Decision)
            .where(Decision.comment_id == comment_id, Decision.by == "moderator")
        )
        audits = session.scalar(
            select(func.count())
            .select_from(ModerationAudit)
            .where(ModerationAudit.comment_id == comment_id)
        )
    return revisions, int(decisions or 0), int(audits or 0)
