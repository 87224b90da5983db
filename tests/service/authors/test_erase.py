"""Erasing an author: POST /v1/moderation/authors/{author_id}/erase. Afterwards a dump of the
whole database holds neither their id, nor their name, nor any text they wrote; decisions and
the audit stay; sanctions in force still refuse the old id."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from service.authors.pseudonyms import is_pseudonym
from service.db.tables import (
    AuthorFlags,
    AuthorNote,
    AuthorRef,
    Comment,
    CommentRevision,
    Decision,
    Report,
    Sanction,
    WebhookEvent,
    utcnow,
)
from tests.support.api import Api, api_with_webhooks, problem
from tests.support.author_data import (
    AUTHOR,
    EDITED,
    ERASE_KEY,
    HELD,
    LEGAL_GROUND,
    NAME,
    NOTICE_EXPLANATION,
    OTHER_TEXT,
    POSTED,
    QUOTED,
    REPORT_DETAIL,
    WARNING,
    audit_table,
    author_headers,
    build_world,
    erase,
    moderator,
    redis_keys,
)
from tests.support.databases import BACKENDS
from tests.support.dumps import dump, spellings
from tests.support.holds import database

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)

SECRETS = [AUTHOR, NAME, POSTED, EDITED, HELD, REPORT_DETAIL, LEGAL_GROUND, NOTICE_EXPLANATION]


@pytest.fixture
def api(database_url: str, redis_server: str, tmp_path: Path) -> Iterator[Api]:
    with api_with_webhooks(database_url, redis_server, tmp_path, erase_key=ERASE_KEY) as client:
        yield client


def traces(text: str) -> list[str]:
    return sorted({form for secret in SECRETS for form in spellings(secret) if form in text})


def count(api: Api, model: Any) -> int:
    with database(api).session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_a_dump_after_erasure_holds_no_trace_of_the_author(api: Api, database_url: str) -> None:
    world = build_world(api)
    before = dump(database_url)
    # The search finds what is there: each secret as stored somewhere, before.
    assert [s for s in SECRETS if not any(form in before for form in spellings(s))] == []
    decisions_before = count(api, Decision)
    audit_before = audit_table(api)

    response = erase(api)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["erased"] is True and is_pseudonym(body["pseudonym"])
    assert body["counts"]["comments"] == 2
    assert body["counts"]["reports"] == 1
    assert body["counts"]["sanctions"] == 1
    after = dump(database_url)
    assert traces(after) == []
    # What others wrote stays, but not their report's quote of the author's words.
    assert OTHER_TEXT in after
    assert all(form not in after for form in spellings(QUOTED))
    assert WARNING in after  # a moderator's words to the author stay
    assert body["pseudonym"] in after
    assert world.edited in after and world.report_made in after
    assert count(api, Decision) == decisions_before
    # The audit is untouched: every row as it was, and one more (the erasure).
    audit_after = audit_table(api)
    assert audit_after[: len(audit_before)] == audit_before
    assert [row[3] for row in audit_after[len(audit_before) :]] == ["erase"]
    assert redis_keys(api) == []


def test_every_row_moves_to_the_pseudonym(api: Api) -> None:
    world = build_world(api)
    pseudonym = erase(api).json()["pseudonym"]
    with database(api).session() as session:
        comments = {
            c.id: c for c in session.scalars(select(Comment).where(Comment.author_id == pseudonym))
        }
        assert set(comments) == {world.edited, world.held}
        assert {c.author_name for c in comments.values()} == {None}
        assert {c.text for c in comments.values()} == {None}
        assert {c.idempotency_key for c in comments.values()} == {None}
        assert comments[world.held].status == "deleted"
        assert comments[world.edited].status == "approved"
        assert comments[world.edited].reported_at is None
        revisions = list(session.scalars(select(CommentRevision)))
        assert [(r.text, r.idempotency_key, r.body_hash) for r in revisions] == [(None,) * 3] * 2
        made = session.get(Report, world.report_made)
        assert made is not None and made.reporter_id == pseudonym
        assert (made.detail, made.legal_ground, made.explanation) == (None, None, None)
        assert made.status == "upheld"
        received = session.get(Report, world.report_received)
        assert received is not None and received.detail is None
        assert received.status == "withdrawn" and received.reporter_id == "reader-2"
        assert session.scalar(select(AuthorNote.author_id)) == pseudonym
        assert session.scalar(select(AuthorFlags.author_id)) == pseudonym
        sanction = session.scalar(select(Sanction))
        assert sanction is not None and sanction.author_id == pseudonym
        assert sanction.author_hmac is not None and len(sanction.author_hmac) == 64
        assert (
            session.scalar(select(AuthorRef.author_id).where(AuthorRef.author_id == AUTHOR)) is None
        )
        assert pseudonym in set(session.scalars(select(AuthorRef.author_id)))


def test_webhook_payloads_are_scrubbed_and_author_erased_is_sent(api: Api) -> None:
    world = build_world(api)
    pseudonym = erase(api).json()["pseudonym"]
    with database(api).session() as session:
        events = list(session.scalars(select(WebhookEvent).order_by(WebhookEvent.created_at)))
    own = [e for e in events if e.comment_id in (world.edited, world.held)]
    assert {e.type for e in own} >= {"comment.decided", "comment.edited", "comment.reviewed"}
    decided = [e.payload["data"] for e in own if e.type == "comment.decided"]
    assert decided and all(d["text"] is None and d["author_id"] == pseudonym for d in decided)
    resolved = [e.payload["data"] for e in events if e.type == "report.resolved"]
    assert {d["reporter_id"] for d in resolved} >= {pseudonym, "reader-2"}
    erased = [e for e in events if e.type == "author.erased"]
    assert len(erased) == 1
    assert erased[0].author_id == pseudonym
    assert erased[0].payload["data"] == {
        "author_id": pseudonym,
        "at": erased[0].payload["data"]["at"],
    }
    warned = [e for e in events if e.type == "author.warned"]
    assert [e.author_id for e in warned] == [pseudonym]
    assert warned[0].payload["data"]["author_id"] == pseudonym
    # Others' comments keep their words.
    other = [e.payload["data"] for e in events if e.comment_id == world.other]
    assert any(d.get("text") == OTHER_TEXT for d in other)


@pytest.mark.parametrize("kind", ["ban", "suspension"])
def test_an_erased_sanctioned_author_is_still_refused_under_the_old_id(api: Api, kind: str) -> None:
    body: dict[str, Any] = {"kind": kind}
    if kind == "suspension":
        body["until"] = (utcnow() + timedelta(days=3)).isoformat().replace("+00:00", "Z")
    response = api.client.post(
        f"/v1/moderation/authors/{AUTHOR}/sanctions", json=body, headers=moderator(api)
    )
    assert response.status_code == 201, response.text
    assert erase(api).status_code == 200

    posted = api.client.post(
        "/v1/comments",
        json={"article_id": "news-1", "text": "Back again."},
        headers=author_headers(api),
    )

    code = "author_banned" if kind == "ban" else "author_suspended"
    problem(posted, 403, code)


def test_a_second_erase_answers_already_erased(api: Api) -> None:
    build_world(api)
    first = erase(api)
    assert first.status_code == 200
    audit = audit_table(api)

    again = erase(api)

    assert again.status_code == 200, again.text
    assert again.json() == {"already_erased": True}
    assert audit_table(api) == audit
    # The pseudonym itself is not erased again either.
    assert erase(api, first.json()["pseudonym"]).json() == {"already_erased": True}


def test_an_account_that_comes_back_is_erased_again_under_a_new_pseudonym(
    api: Api, database_url: str
) -> None:
    """The id was erased, and the reader (not sanctioned) posted again under it: a second
    erase finds that and erases it too, answering already_erased with what it did."""
    first = erase(api)
    returned = "Quux is back: the tram is still late"
    posted = api.post_comment({"article_id": "trams", "text": returned}, sub=AUTHOR)
    assert posted.status_code == 202, posted.text

    again = erase(api)

    assert again.status_code == 200, again.text
    body = again.json()
    assert body["already_erased"] is True and body["counts"]["comments"] == 1
    assert is_pseudonym(body["pseudonym"]) and body["pseudonym"] != first.json()["pseudonym"]
    after = dump(database_url)
    assert [form for text in (AUTHOR, returned) for form in spellings(text) if form in after] == []
    assert erase(api).json() == {"already_erased": True}


def test_an_author_never_seen_is_erased_all_the_same(api: Api) -> None:
    response = erase(api, "nobody-yet")
    assert response.status_code == 200, response.text
    assert response.json()["counts"]["comments"] == 0
    assert erase(api, "nobody-yet").json() == {"already_erased": True}


def test_confirm_must_be_the_id(api: Api) -> None:
    build_world(api)
    problem(erase(api, confirm=AUTHOR.upper()), 422, "confirm_mismatch")
    problem(
        api.client.post(f"/v1/moderation/authors/{AUTHOR}/erase", json={}, headers=moderator(api)),
        422,
    )
    problem(
        api.client.post(
            f"/v1/moderation/authors/{AUTHOR}/erase",
            json={"confirm": AUTHOR, "force": True},
            headers=moderator(api),
        ),
        422,
        "unknown_field",
    )
    with database(api).session() as session:
        assert session.scalar(select(func.count()).where(Comment.author_id == AUTHOR)) == 2


def test_readers_may_not_erase(api: Api) -> None:
    response = api.client.post(
        f"/v1/moderation/authors/{AUTHOR}/erase",
        json={"confirm": AUTHOR},
        headers=author_headers(api),
    )
    problem(response, 403, "forbidden")


def test_without_an_erase_key_nothing_is_erased(
    database_url: str, redis_server: str, tmp_path: Path
) -> None:
    with api_with_webhooks(database_url, redis_server, tmp_path) as api:
        build_world(api)
        body = problem(erase(api), 503, "erase_key_missing")
        assert "MODERATION_ERASE_KEY" in body["detail"]
        with database(api).session() as session:
            assert session.scalar(select(func.count()).where(Comment.author_id == AUTHOR)) == 2
