"""The shadow path on its own: whatever goes wrong in it is logged and swallowed.

The whole path through a real worker is tests/e2e/test_shadow.py; here each failure is
made for real (a broken file, a missing file, a row the database refuses) and the runtime
is the worker's own dataclass, holding only what the shadow path touches.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from structlog.testing import capture_logs

import policy
from service.db.engine import Database
from service.db.tables import ShadowDecision, utcnow
from service.settings import Settings
from service.tuning.shadow_report import shadow_report
from tests.support.databases import BACKENDS
from tests.support.edited_history import ABUSIVE, CLEAN, EDIT_AFTER, edited_comment, review
from tests.support.holds import INSULT
from workers.runtime import WorkerRuntime
from workers.shadow import ShadowCase, ShadowPolicy, record_shadow_decisions

HOLDS_EVERYTHING = "schema: 1\ntoxicity:\n  thresholds:\n    toxicity: 0\n"
BROKEN = "schema: 1\ntoxicity: [\n"
SUBJECT = policy.Comment(text="Thanks for the reporting.", author_id="r-1", article_id="a-1")
SCORES = {"toxicity": 0.01, "insult": 0.01}


def runtime(db: Database, shadow: Path | None) -> WorkerRuntime:
    # Only `db` and `shadow` are touched by the shadow path; the rest of a worker's runtime
    # (Redis, the broker, the model) has nothing to do here.
    return WorkerRuntime(
        settings=Settings(),
        db=db,
        redis=None,
        producer=None,  # type: ignore[arg-type]
        policies=None,  # type: ignore[arg-type]
        shadow=None if shadow is None else ShadowPolicy(shadow),
    )


def a_comment(db: Database) -> str:
    from service.db.tables import utcnow
    from service.store.comments import create_comment

    with db.session() as session:
        return create_comment(
            session,
            article_id="a-1",
            parent_id=None,
            author_id="r-1",
            author_name=None,
            text=SUBJECT.text,
            idempotency_key=None,
            body_hash=None,
            now=utcnow(),
        ).id


def shadow_rows(db: Database) -> list[ShadowDecision]:
    with db.session() as session:
        return list(session.scalars(select(ShadowDecision)))


def record(rt: WorkerRuntime, comment_id: str) -> str | None:
    (action,) = record_shadow_decisions(
        rt,
        [
            ShadowCase(
                comment_id, SUBJECT, SCORES, policy.Context(), real_action="approve", revision=1
            )
        ],
    )
    return action


def test_a_shadow_decision_is_recorded(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "shadow.yaml"
    path.write_text(HOLDS_EVERYTHING)
    comment_id = a_comment(db)
    with capture_logs() as logs:
        assert record(runtime(db, path), comment_id) == "hold"
    (row,) = shadow_rows(db)
    assert (row.comment_id, row.action) == (comment_id, "hold")
    assert row.policy_version == policy.load_policy(path).version
    assert [reason["rule"] for reason in row.reasons] == ["toxicity.toxicity"]
    recorded = [entry for entry in logs if entry["event"] == "shadow.recorded"]
    assert recorded[0]["agrees"] is False


def test_no_shadow_policy_does_nothing(db: Database) -> None:
    assert record(runtime(db, None), a_comment(db)) is None
    assert shadow_rows(db) == []


def test_a_broken_file_is_logged_once_and_tried_again_when_it_changes(
    db: Database, tmp_path: Path
) -> None:
    path = tmp_path / "shadow.yaml"
    path.write_text(BROKEN)
    rt = runtime(db, path)
    with capture_logs() as logs:
        assert record(rt, a_comment(db)) is None
        assert record(rt, a_comment(db)) is None
        path.write_text(HOLDS_EVERYTHING)
        assert record(rt, a_comment(db)) == "hold"
    events = [entry["event"] for entry in logs]
    assert events.count("shadow.policy_unusable") == 1
    assert "shadow.policy_loaded" in events
    assert len(shadow_rows(db)) == 1


def test_a_missing_file_is_logged_not_raised(db: Database, tmp_path: Path) -> None:
    with capture_logs() as logs:
        assert record(runtime(db, tmp_path / "nowhere.yaml"), a_comment(db)) is None
    assert [entry["event"] for entry in logs] == ["shadow.policy_unusable"]


def test_a_row_the_database_refuses_is_logged_and_swallowed(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "shadow.yaml"
    path.write_text(HOLDS_EVERYTHING)
    rt = runtime(db, path)
    comment_id = a_comment(db)
    with capture_logs() as logs:
        assert record(rt, "no-such-comment") is None  # foreign key
        assert record(rt, comment_id) == "hold"
        assert record(rt, comment_id) is None  # one shadow decision per comment and version
    failures = [entry for entry in logs if entry["event"] == "shadow.failed"]
    assert [entry["error"] for entry in failures] == ["IntegrityError", "IntegrityError"]
    assert len(shadow_rows(db)) == 1


def test_the_shadow_sees_the_context_it_is_given(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "shadow.yaml"
    path.write_text("schema: 1\n")
    context = policy.Context(article={"premoderated": True})
    (action,) = record_shadow_decisions(
        runtime(db, path),
        [
            ShadowCase(
                a_comment(db), SUBJECT, {"insult": INSULT["score"]}, context, "hold", revision=1
            )
        ],
    )
    assert action == "hold"
    (row,) = shadow_rows(db)
    assert [reason["rule"] for reason in row.reasons] == [
        "article.premoderated",
        "toxicity.insult",
    ]


def test_a_batch_is_recorded_together_and_a_refused_row_costs_only_itself(
    db: Database, tmp_path: Path
) -> None:
    path = tmp_path / "shadow.yaml"
    path.write_text(HOLDS_EVERYTHING)
    good = [a_comment(db) for _ in range(3)]
    cases = [
        ShadowCase(comment_id, SUBJECT, SCORES, policy.Context(), "approve", revision=1)
        for comment_id in [good[0], "no-such-comment", *good[1:]]
    ]
    with capture_logs() as logs:
        actions = record_shadow_decisions(runtime(db, path), cases)
    assert actions == ["hold", None, "hold", "hold"]
    assert sorted(row.comment_id for row in shadow_rows(db)) == sorted(good)
    failures = [entry for entry in logs if entry["event"] == "shadow.failed"]
    assert [entry["comment_id"] for entry in failures] == ["no-such-comment"]
    assert [e["comment_id"] for e in logs if e["event"] == "shadow.recorded"] == good


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_an_edited_comment_is_compared_once_on_its_current_revision(
    db: Database, tmp_path: Path
) -> None:
    """Approved as posted, edited into abuse, held and rejected by a moderator: the shadow
    policy decided both revisions; the report compares revision 2's shadow decision with
    revision 2's real one, judged by the reject, and leaves revision 1 out."""
    path = tmp_path / "shadow.yaml"
    path.write_text(HOLDS_EVERYTHING)
    rt = runtime(db, path)
    posted = utcnow() - timedelta(hours=1)
    comment_id = edited_comment(db, takes=[CLEAN, ABUSIVE], posted_at=posted)
    for revision, real_action in ((1, "approve"), (2, "hold")):
        (action,) = record_shadow_decisions(
            rt,
            [
                ShadowCase(
                    comment_id, SUBJECT, SCORES, policy.Context(), real_action, revision=revision
                )
            ],
        )
        assert action == "hold"
    review(db, comment_id=comment_id, action="reject", at=posted + 2 * EDIT_AFTER)

    assert sorted(row.revision for row in shadow_rows(db)) == [1, 2]
    report = shadow_report(db, since=posted - timedelta(days=1))
    assert report["compared"] == 1
    assert report["confusion"] == {
        "approve": {"approve": 0, "hold": 0},
        "hold": {"approve": 0, "hold": 1},
    }
    assert report["outcomes"] == {
        "labelled": 1,
        "rejected": 1,
        "approved": 0,
        "misses": {"real": 0, "shadow": 0},
        "extra_work": {"real": 0, "shadow": 0},
    }
