"""Revision 0012 (feedback sweep): feedback stored before it counts as sent once, when it was
stored, so a row whose task was lost before the upgrade is due at the first sweep; and it goes
down and up again.

That the migrations and the models agree is tests/service/db/test_migrations.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from service.db.engine import Database
from service.db.migrate import upgrade_head
from service.db.tables import PerspectiveFeedback
from service.store.resend import list_feedback_due_for_resend
from tests.support.databases import BACKENDS, migrate

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)

STORED_AT = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def test_feedback_stored_before_counts_as_sent_when_stored(database_url: str) -> None:
    database = Database(database_url)
    try:
        migrate(database, "0011", down=True)
        with database.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO perspective_keys (name, key_hash, qps, created_at) "
                    "VALUES ('coral', :hash, 10, :at)"
                ),
                {"hash": "0" * 64, "at": STORED_AT},
            )
            for attribute, scores in (("TOXICITY", None), ("INSULT", '{"insult": 0.1}')):
                connection.execute(
                    text(
                        "INSERT INTO perspective_feedback (key_name, attribute, value, text, "
                        "created_at, scores) VALUES ('coral', :attribute, 1, 'You clown.', "
                        ":at, :scores)"
                    ),
                    {"attribute": attribute, "at": STORED_AT, "scores": scores},
                )
        upgrade_head(database)
        with database.session() as session:
            rows = session.execute(
                select(
                    PerspectiveFeedback.attribute,
                    PerspectiveFeedback.enqueued_at,
                    PerspectiveFeedback.enqueue_count,
                ).order_by(PerspectiveFeedback.id)
            ).all()
            assert [tuple(row) for row in rows] == [
                ("TOXICITY", STORED_AT, 1),
                ("INSULT", STORED_AT, 1),
            ]
            due = list_feedback_due_for_resend(
                session, now=STORED_AT + timedelta(minutes=5), grace_seconds=60, limit=10
            )
            assert [len(ids) for ids in due] == [1], "only the unscored row is owed a score"

        migrate(database, "0011", down=True)
        upgrade_head(database)
    finally:
        database.dispose()
