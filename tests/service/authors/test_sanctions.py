"""Graduated sanctions: POST /v1/moderation/authors/{id}/sanctions and DELETE …/{sanction_id},
what a suspension or ban refuses at intake, the lapse (an injected clock), erased authors, and
a suspension racing the author's comments, on both databases."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select

from service.authors.pseudonyms import author_hmac, new_pseudonym
from service.authors.sanction_schemas import NewSanction
from service.authors.sanctions import lift_author_sanction, sanction_author
from service.broker.producer import TaskProducer
from service.comments.accept import Accepted, accept_comment
from service.comments.batch import Submission, accept_comments
from service.comments.schemas import NewComment
from service.db.tables import (
    AuthorRef,
    Comment,
    Erasure,
    ModerationAudit,
    Sanction,
    WebhookEvent,
    utcnow,
)
from service.errors import ProblemError
from service.http.auth import Principal
from tests.support.api import Api, api_with_webhooks, problem
from tests.support.databases import BACKENDS
from tests.support.edits import edit
from tests.support.holds import database, make_comment
from tests.support.reports import approved, report

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)

ERASE_KEY = "an-erase-key-that-is-long-enough-for-hmac"
RESOURCE_KEYS = {
    "id",
    "author_id",
    "kind",
    "reason_code",
    "explanation",
    "until",
    "created_by",
    "created_at",
    "lifted_at",
    "lifted_by",
    "in_force",
}
MODERATOR = Principal(sub="mod-1", roles=frozenset({"moderator"}))


@pytest.fixture
def erasing_api(database_url: str, redis_server: str, tmp_path: Path) -> Iterator[Api]:
    """The API with MODERATION_ERASE_KEY set."""
    with api_with_webhooks(database_url, redis_server, tmp_path, erase_key=ERASE_KEY) as api:
        yield api


def url(author_id: str = "reader-1", sanction_id: str | None = None) -> str:
    base = f"/v1/moderation/authors/{author_id}/sanctions"
    return base if sanction_id is None else f"{base}/{sanction_id}"


def sanction(api: Api, body: Any, *, author_id: str = "reader-1", sub: str = "mod-1") -> Any:
    return api.client.post(url(author_id), json=body, headers=api.auth(sub, moderator=True))


def lift(api: Api, sanction_id: str, *, author_id: str = "reader-1") -> Any:
    return api.client.delete(url(author_id, sanction_id), headers=api.auth("mod-2", moderator=True))


def rfc3339(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def ahead(**delta: float) -> str:
    return rfc3339(utcnow() + timedelta(**delta))


def suspend(api: Api, author_id: str = "reader-1", **delta: float) -> dict[str, Any]:
    response = sanction(
        api, {"kind": "suspension", "until": ahead(**(delta or {"hours": 1}))}, author_id=author_id
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def audit(api: Api) -> list[tuple[str, str | None]]:
    with database(api).session() as session:
        rows = session.execute(
            select(ModerationAudit.action, AuthorRef.author_id)
            .outerjoin(AuthorRef, AuthorRef.ref == ModerationAudit.author_ref)
            .order_by(ModerationAudit.id)
        )
        return [(action, author) for action, author in rows]


def author_events(api: Api) -> list[tuple[str, dict[str, Any]]]:
    with database(api).session() as session:
        rows = session.scalars(
            select(WebhookEvent)
            .where(WebhookEvent.comment_id.is_(None))
            .order_by(WebhookEvent.created_at, WebhookEvent.id)
        )
        return [(row.type, row.payload["data"]) for row in rows]


def test_a_warning_is_recorded_audited_and_announced_but_refuses_nothing(
    webhook_api: Api,
) -> None:
    api = webhook_api
    response = sanction(
        api,
        {"kind": "warning", "reason_code": "abusive", "explanation": "  Mind your words.  "},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body.keys() == RESOURCE_KEYS
    assert body["id"].startswith("snc_")
    assert body["author_id"] == "reader-1" and body["kind"] == "warning"
    assert (body["reason_code"], body["explanation"]) == ("abusive", "Mind your words.")
    assert (body["until"], body["lifted_at"], body["lifted_by"]) == (None, None, None)
    assert body["created_by"] == "mod-1" and body["created_at"].endswith("Z")
    assert body["in_force"] is False
    assert api.post_comment({"article_id": "a", "text": "Still here."}).status_code == 202
    assert audit(api) == [("warn", "reader-1")]
    [(kind, data)] = author_events(api)
    assert kind == "author.warned"
    assert data == {
        "author_id": "reader-1",
        "sanction_id": body["id"],
        "kind": "warning",
        "reason_code": "abusive",
        "explanation": "Mind your words.",
        "until": None,
        "at": body["created_at"],
    }
    problem(lift(api, body["id"]), 409, "not_in_force")


def test_a_suspension_refuses_comments_edits_and_reports_until_lifted(webhook_api: Api) -> None:
    api = webhook_api
    mine = make_comment(api, author="reader-1", text="Before the suspension.")
    theirs = approved(api, author="reader-2")
    replayed = api.post_comment({"article_id": "a", "text": "Once."}, **{"Idempotency-Key": "k"})
    suspended = suspend(api, hours=2)
    assert suspended["in_force"] is True and suspended["until"].endswith("Z")

    refused = api.post_comment({"article_id": "a", "text": "During."})
    body = problem(refused, 403, "author_suspended")
    assert body["until"] == suspended["until"]
    assert 7000 < int(refused.headers["retry-after"]) <= 7200
    body = problem(edit(api, mine, {"text": "Edited.", "revision": 1}), 403, "author_suspended")
    assert body["until"] == suspended["until"]
    refused = report(api, theirs, sub="reader-1")
    assert problem(refused, 403, "author_suspended")["until"] == suspended["until"]
    assert "retry-after" in refused.headers
    # An idempotent replay still answers as before, and deleting stays allowed.
    again = api.post_comment({"article_id": "a", "text": "Once."}, **{"Idempotency-Key": "k"})
    assert again.headers["idempotent-replayed"] == "true"  # answered as any replay is
    assert again.status_code < 300 and again.json()["id"] == replayed.json()["id"]
    deleted = api.client.delete(f"/v1/comments/{mine}", headers=api.auth("reader-1"))
    assert deleted.status_code < 300, deleted.text
    # Another reader is not touched.
    assert api.post_comment({"article_id": "a", "text": "Me?"}, sub="reader-2").status_code == 202

    lifted = lift(api, suspended["id"])
    assert lifted.status_code == 200, lifted.text
    assert lifted.json()["in_force"] is False and lifted.json()["lifted_by"] == "mod-2"
    assert lifted.json()["lifted_at"] is not None
    assert api.post_comment({"article_id": "a", "text": "After."}).status_code == 202
    problem(lift(api, suspended["id"]), 409, "not_in_force")
    assert audit(api) == [("suspend", "reader-1"), ("lift", "reader-1")]
    kinds = [(kind, data["sanction_id"], data["until"]) for kind, data in author_events(api)]
    assert kinds == [
        ("author.suspended", suspended["id"], suspended["until"]),
        ("author.sanction_lifted", suspended["id"], suspended["until"]),
    ]


def test_a_ban_wins_else_the_suspension_ending_last(api: Api) -> None:
    suspend(api, hours=1)
    later = suspend(api, days=3)
    suspend(api, hours=5)
    body = problem(api.post_comment({"article_id": "a", "text": "x"}), 403, "author_suspended")
    assert body["until"] == later["until"]
    banned = sanction(api, {"kind": "ban", "reason_code": "spam"})
    assert banned.status_code == 201, banned.text
    problem(api.post_comment({"article_id": "a", "text": "x"}), 403, "author_banned")
    # The ban route's DELETE lifts the ban; the suspensions stay.
    deleted = api.client.delete(
        "/v1/moderation/authors/reader-1/ban", headers=api.auth("mod-1", moderator=True)
    )
    assert deleted.status_code == 204
    body = problem(api.post_comment({"article_id": "a", "text": "x"}), 403, "author_suspended")
    assert body["until"] == later["until"]


def test_a_ban_through_the_sanctions_route_replaces_the_one_in_force(api: Api) -> None:
    first = sanction(api, {"kind": "ban", "explanation": "First."}).json()
    second = sanction(api, {"kind": "ban", "explanation": "Second."}).json()
    with database(api).session() as session:
        rows = {row.id: row.lifted_at is None for row in session.scalars(select(Sanction))}
    assert rows == {first["id"]: False, second["id"]: True}
    problem(lift(api, first["id"]), 409, "not_in_force")
    assert lift(api, second["id"]).status_code == 200
    assert api.post_comment({"article_id": "a", "text": "Free."}).status_code == 202


def test_lifting_someone_elses_or_no_sanction_is_404(api: Api) -> None:
    theirs = suspend(api, author_id="reader-2")
    problem(lift(api, theirs["id"], author_id="reader-1"), 404, "not_found")
    problem(lift(api, "snc_" + "0" * 32), 404, "not_found")
    problem(lift(api, "%00"), 404, "not_found")
    problem(lift(api, "x" * 300), 404, "not_found")
    assert lift(api, theirs["id"], author_id="reader-2").status_code == 200


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"kind": "suspension"}, "until_required", "until"),
        ({"kind": "suspension", "until": None}, "until_required", "until"),
        ({"kind": "suspension", "until": "2001-01-01T00:00:00Z"}, "until_in_past", "until"),
        ({"kind": "suspension", "until": "far"}, "until_too_far", "until"),
        ({"kind": "warning", "until": "soon"}, "until_not_allowed", "until"),
        ({"kind": "ban", "until": "soon"}, "until_not_allowed", "until"),
        ({"kind": "suspension", "until": "tomorrow"}, "invalid_until", "until"),
        ({"kind": "suspension", "until": "2030-01-01"}, "invalid_until", "until"),
        ({"kind": "suspension", "until": "2030-01-01T00:00:00"}, "invalid_until", "until"),
        ({"kind": "suspension", "until": "2030-02-30T00:00:00Z"}, "invalid_until", "until"),
        ({"kind": "suspension", "until": "9999-12-31T23:00:00-05:00"}, "invalid_until", "until"),
        ({"kind": "suspension", "until": 1893456000}, "invalid_type", "until"),
        ({}, "required", "kind"),
        ({"kind": "mute"}, "invalid_kind", "kind"),
        ({"kind": 1}, "invalid_kind", "kind"),
        ({"kind": "warning", "reason_code": "rude"}, "invalid_reason_code", "reason_code"),
        ({"kind": "warning", "explanation": "x" * 2001}, "explanation_too_long", "explanation"),
        ({"kind": "warning", "explanation": 7}, "invalid_type", "explanation"),
        (
            {"kind": "warning", "explanation": "a\x00b"},
            "explanation_invalid_characters",
            "explanation",
        ),
        ({"kind": "warning", "forever": True}, "unknown_field", "forever"),
        ([], "invalid_type", ""),
    ],
)
def test_invalid_sanctions_are_422(api: Api, body: Any, code: str, field: str) -> None:
    if isinstance(body, dict) and body.get("until") == "soon":
        body = {**body, "until": ahead(days=1)}
    if isinstance(body, dict) and body.get("until") == "far":
        body = {**body, "until": ahead(days=366)}
    found = problem(sanction(api, body), 422, code)
    assert found["errors"][0]["field"] == field
    with database(api).session() as session:
        assert session.scalars(select(Sanction)).all() == []
    assert api.post_comment({"article_id": "a", "text": "Not sanctioned."}).status_code == 202


def test_a_suspension_of_a_whole_year_is_allowed(api: Api) -> None:
    body = suspend(api, days=364, hours=23)
    assert body["kind"] == "suspension"


def test_an_author_id_no_author_can_have_is_422(api: Api) -> None:
    found = problem(sanction(api, {"kind": "warning"}, author_id="x" * 256), 422)
    assert found["code"] == "invalid_author_id"
    problem(lift(api, "snc_1", author_id="x" * 256), 422, "invalid_author_id")


def test_readers_may_not_sanction(api: Api) -> None:
    response = api.client.post(url(), json={"kind": "warning"}, headers=api.auth("reader-2"))
    problem(response, 403, "forbidden")
    response = api.client.delete(url(sanction_id="snc_1"), headers=api.auth("reader-2"))
    problem(response, 403, "forbidden")


def test_a_suspension_lapses_by_itself_without_an_event(api: Api) -> None:
    """An injected clock, not sleeps: the same suspension seen before and after its end."""
    db = database(api)
    start = utcnow()
    request = NewSanction.parse(
        {"kind": "suspension", "until": rfc3339(start + timedelta(hours=1))}
    )
    events = frozenset({"author.suspended", "author.sanction_lifted"})
    suspended = sanction_author(
        db,
        moderator=MODERATOR,
        author_id="reader-1",
        request=request.checked(start),
        events=events,
        key=None,
        now=start,
    )
    reader = Principal(sub="reader-1", roles=frozenset())
    new = NewComment.parse({"article_id": "a", "text": "Hello."})

    def post(at: datetime) -> Accepted:
        return accept_comment(
            db, principal=reader, new=new, idempotency_key=None, window=timedelta(0), now=at
        )

    with pytest.raises(ProblemError) as refused:
        post(start + timedelta(minutes=30, milliseconds=1))
    assert (refused.value.code, refused.value.headers["Retry-After"]) == (
        "author_suspended",
        "1800",
    )
    assert refused.value.extra["until"] == suspended.resource["until"]
    with pytest.raises(ProblemError):
        post(start + timedelta(hours=1) - timedelta(milliseconds=1))
    assert post(start + timedelta(hours=1)).created is True
    # The batched path agrees, by the same clock.
    producer = TaskProducer(api.settings)
    try:
        outcomes = accept_comments(
            db,
            producer,
            [Submission(reader, new, None)],
            window=timedelta(0),
            admit=lambda authors: [0] * len(authors),
            now=start + timedelta(minutes=59),
        )
        assert isinstance(outcomes[0], ProblemError)
        assert outcomes[0].headers["Retry-After"] == "60"
    finally:
        producer.close()
    later = start + timedelta(hours=2)
    with pytest.raises(ProblemError) as lapsed:
        lift_author_sanction(
            db,
            moderator=MODERATOR,
            author_id="reader-1",
            sanction_id=suspended.resource["id"],
            events=events,
            key=None,
            now=later,
        )
    assert lapsed.value.code == "not_in_force"
    with db.session() as session:
        types = list(session.scalars(select(WebhookEvent.type)))
    assert types == ["author.suspended"]


def test_the_batch_looks_sanctions_up_once_for_all_its_comments(api: Api) -> None:
    db = database(api)
    suspend(api, author_id="reader-3")
    sanction(api, {"kind": "ban"}, author_id="reader-5")
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "FROM sanctions" in statement:
            statements.append(statement)

    submissions = [
        Submission(
            Principal(sub=f"reader-{n}", roles=frozenset()),
            NewComment.parse({"article_id": "a", "text": f"Comment {n}."}),
            None,
        )
        for n in range(8)
    ]
    producer = TaskProducer(api.settings)
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        outcomes = accept_comments(
            db,
            producer,
            submissions,
            window=timedelta(0),
            admit=lambda authors: [0] * len(authors),
            now=utcnow(),
        )
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
        producer.close()
    codes = [o.code if isinstance(o, ProblemError) else "accepted" for o in outcomes]
    assert (
        codes
        == ["accepted"] * 3 + ["author_suspended", "accepted", "author_banned"] + ["accepted"] * 2
    )
    assert len(statements) == 1


def test_an_erased_authors_sanctions_still_refuse_them_by_hmac(erasing_api: Api) -> None:
    api = erasing_api
    suspended = suspend(api, author_id="reader-9", days=2)
    theirs = approved(api, author="reader-2")
    # What erasure does to the row: the id becomes a pseudonym, the HMAC of the id is kept.
    pseudonym = new_pseudonym()
    with database(api).session() as session:
        row = session.get(Sanction, suspended["id"])
        assert row is not None
        row.author_id = pseudonym
        row.author_hmac = author_hmac(ERASE_KEY.encode(), "reader-9")
    body = problem(api.post_comment({"article_id": "a", "text": "Back?"}, sub="reader-9"), 403)
    assert (body["code"], body["until"]) == ("author_suspended", suspended["until"])
    problem(report(api, theirs, sub="reader-9"), 403, "author_suspended")
    # Lifted by the old id (it matches by HMAC), announced under the pseudonym.
    lifted = lift(api, suspended["id"], author_id="reader-9")
    assert lifted.status_code == 200, lifted.text
    assert lifted.json()["author_id"] == pseudonym
    assert api.post_comment({"article_id": "a", "text": "Back."}, sub="reader-9").status_code == 202


def test_a_sanction_on_an_erased_id_is_stored_under_the_pseudonym_and_refuses_the_id(
    erasing_api: Api,
) -> None:
    api = erasing_api
    pseudonym = new_pseudonym()
    with database(api).session() as session:
        session.add(
            Erasure(
                author_hmac=author_hmac(ERASE_KEY.encode(), "reader-9"),
                pseudonym=pseudonym,
                erased_by="mod-1",
                erased_at=utcnow(),
            )
        )
    body = sanction(api, {"kind": "ban"}, author_id="reader-9").json()
    assert body["author_id"] == pseudonym
    suspended = sanction(
        api,
        {"kind": "suspension", "until": ahead(days=1)},
        author_id="reader-9",
    ).json()
    assert suspended["author_id"] == pseudonym
    banned = api.client.post(
        "/v1/moderation/authors/reader-9/ban",
        json={"reason": "Back again.", "reject_held": False},
        headers=api.auth("mod-1", moderator=True),
    )
    assert banned.status_code == 200, banned.text
    with database(api).session() as session:
        stored = session.execute(select(Sanction.author_id, Sanction.author_hmac)).all()
    hmac_of_id = author_hmac(ERASE_KEY.encode(), "reader-9")
    assert sorted(stored) == [(pseudonym, hmac_of_id)] * 3
    # The old id is what the reader signs in with: it is refused, and never stored again.
    problem(
        api.post_comment({"article_id": "a", "text": "x"}, sub="reader-9"), 403, "author_banned"
    )
    problem(api.post_comment({"article_id": "a", "text": "x"}, sub=pseudonym), 403, "author_banned")


def test_a_suspension_racing_the_authors_comments_is_before_or_after_never_half(
    api: Api,
) -> None:
    """One thread suspends the author while others post as them: each comment is either
    stored (accepted before the suspension) or refused with nothing stored, and every comment
    posted after the suspension returned is refused."""
    db = database(api)
    reader = Principal(sub="racer", roles=frozenset())
    posters = 6
    rounds = 5
    barrier = threading.Barrier(posters + 1)
    suspended_at: list[datetime] = []
    outcomes: list[tuple[datetime, Accepted | ProblemError]] = []
    lock = threading.Lock()

    def post(index: int) -> None:
        barrier.wait()
        for n in range(rounds):
            started = utcnow()
            new = NewComment.parse({"article_id": "a", "text": f"Racer {index}.{n}"})
            try:
                outcome: Accepted | ProblemError = accept_comment(
                    db, principal=reader, new=new, idempotency_key=None, window=timedelta(0)
                )
            except ProblemError as exc:
                outcome = exc
            with lock:
                outcomes.append((started, outcome))

    def suspend_now() -> None:
        barrier.wait()
        start = utcnow()
        request = NewSanction.parse(
            {"kind": "suspension", "until": rfc3339(start + timedelta(hours=1))}
        ).checked(start)
        sanction_author(
            db,
            moderator=MODERATOR,
            author_id="racer",
            request=request,
            events=frozenset(),
            key=None,
            now=start,
        )
        suspended_at.append(utcnow())

    threads = [threading.Thread(target=post, args=(i,)) for i in range(posters)]
    threads.append(threading.Thread(target=suspend_now))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(outcomes) == posters * rounds and suspended_at
    accepted = {o.resource["id"] for _, o in outcomes if isinstance(o, Accepted)}
    refused = [o for _, o in outcomes if isinstance(o, ProblemError)]
    assert all(error.code == "author_suspended" for error in refused)
    with db.session() as session:
        stored = set(session.scalars(select(Comment.id).where(Comment.author_id == "racer")))
    assert stored == accepted
    late = [o for started, o in outcomes if started > suspended_at[0]]
    assert all(isinstance(o, ProblemError) for o in late)
    # After the race, still refused.
    with pytest.raises(ProblemError):
        accept_comment(
            db,
            principal=reader,
            new=NewComment.parse({"article_id": "a", "text": "After."}),
            idempotency_key=None,
            window=timedelta(0),
        )
