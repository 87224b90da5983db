"""TRUNCATE, PostgreSQL's way around row triggers, is refused on the audit table too.

SQLite has no TRUNCATE; its `DELETE FROM` is refused in test_decisions.py, beside this file."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tests.support.api import Api
from tests.support.holds import database, hold
from tests.support.moderation import audit_rows, decide


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_the_audit_table_refuses_truncate_on_postgresql(api: Api) -> None:
    db = database(api)
    comment_id = hold(api)
    decide(api, comment_id, {"action": "approve", "version": 2})
    # A statement trigger: TRUNCATE fires no row trigger, and CASCADE from the comments
    # table would empty the audit along with them.
    for statement in ("TRUNCATE moderation_audit", "TRUNCATE comments CASCADE"):
        with pytest.raises(DBAPIError, match="append-only"), db.session() as session:
            session.execute(text(statement))
    assert [row.moderator_id for row in audit_rows(api, comment_id)] == ["mod-1"]
