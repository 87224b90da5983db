"""Revision 0002 (the hold queue) backfills held comments and goes down and up again.

That the migrations and the models agree is tests/service/db/test_migrations.py."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from service.db.engine import Database
from service.db.migrate import upgrade_head
from tests.support.databases import BACKENDS, migrate

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)


def test_held_comments_are_backfilled_and_the_revision_goes_down_and_up(
    database_url: str,
) -> None:
    database = Database(database_url)
    try:
        migrate(database, "0001", down=True)
        with database.engine.begin() as connection:
            for comment_id, status in [("held-1", "held"), ("ok-1", "approved")]:
                connection.execute(
                    text(
                        "INSERT INTO comments (id, article_id, author_id, text, status, version,"
                        " created_at, enqueue_count) VALUES (:id, 'a', 'r', 't', :status, 2,"
                        " CURRENT_TIMESTAMP, 1)"
                    ),
                    {"id": comment_id, "status": status},
                )
                reasons = (
                    [{"kind": "toxicity", "rule": "toxicity.insult", "message": "m"}]
                    + [{"kind": "terms", "rule": "en-banned", "message": "m"}] * 2
                    if status == "held"
                    else []
                )
                connection.execute(
                    text(
                        "INSERT INTO decisions (comment_id, by, action, reasons, scores, context,"
                        " at) VALUES (:id, 'policy', :action, :reasons, :scores, '{}',"
                        " CURRENT_TIMESTAMP)"
                    ),
                    {
                        "id": comment_id,
                        "action": "hold" if status == "held" else "approve",
                        "reasons": json.dumps(reasons),
                        "scores": json.dumps({"insult": 0.91, "toxicity": 0.7, "female": 0.99}),
                    },
                )
        upgrade_head(database)
        with database.engine.connect() as connection:
            scores = dict(connection.execute(text("SELECT id, max_score FROM comments")).all())
            kinds = connection.execute(
                text("SELECT comment_id, kind FROM hold_reasons ORDER BY kind")
            ).all()
        assert scores == {"held-1": 0.91, "ok-1": None}
        assert [tuple(row) for row in kinds] == [("held-1", "terms"), ("held-1", "toxicity")]

        with database.engine.begin() as connection:
            connection.execute(text("DELETE FROM hold_reasons"))
        migrate(database, "0001", down=True)
        upgrade_head(database)
    finally:
        database.dispose()
