"""Group commit of POST /v1/comments: concurrent requests accepted in one transaction and
one task message, each answered exactly as it would have been alone."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from prometheus_client import REGISTRY
from sqlalchemy import select
from sqlalchemy.engine import make_url
from starlette.applications import Starlette

from service.app import create_app
from service.broker.contract import FLOOD_PREFIX, MODERATE_QUEUE
from service.broker.producer import TaskProducer
from service.comments.accept import Accepted, accept_comment
from service.comments.batch import Outcome, Submission, accept_comments
from service.comments.flood import FloodGate
from service.comments.schemas import NewComment
from service.db.engine import Database
from service.db.tables import Comment, utcnow
from service.errors import ProblemError
from service.http.auth import Principal
from service.http.services import Services
from service.http.tokens import issue_token
from service.settings import Settings
from service.store.comments import create_comment
from service.store.flags import put_article_flags
from service.store.sanctions import add_sanction
from tests.support import aio
from tests.support.api import api_settings
from tests.support.databases import BACKENDS, DOWN_DATABASE_URLS
from tests.support.harness import PrivateRedis, TcpProxy
from tests.support.queues import moderation_ids, moderation_items

WINDOW = timedelta(hours=24)
HARD_LIMIT = 2
FLOOD_WINDOW_SECONDS = 60


@pytest.fixture
def settings(database_url: str, private_redis: PrivateRedis, tmp_path: Path) -> Settings:
    """Broker, flood windows and pub/sub on the test's own Redis (its db 7, never db 0)."""
    return api_settings(database_url, private_redis.url.rsplit("/", 1)[0], tmp_path)


@pytest.fixture
def broker(settings: Settings) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(settings.redis_url or "")
    yield client
    client.close()


@pytest.fixture
def app(settings: Settings) -> Iterator[Starlette]:
    """Served without lifespan, as httpx's ASGITransport does: the intake must not need it."""
    app = create_app(settings)
    yield app
    app.state.services.close()


def moderate_messages(broker: redis.Redis) -> list[dict[str, Any]]:
    return [json.loads(raw) for raw in broker.lrange(MODERATE_QUEUE, 0, -1)]


async def post_together(
    app: Starlette, settings: Settings, posts: Sequence[tuple[str, dict[str, Any]]]
) -> list[httpx.Response]:
    """Every post in flight at once, over one ASGI app in this event loop."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        return list(
            await asyncio.gather(
                *(
                    client.post(
                        "/v1/comments",
                        json=body,
                        headers={"Authorization": f"Bearer {issue_token(settings, sub)}"},
                    )
                    for sub, body in posts
                )
            )
        )


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_concurrent_posts_are_all_stored_and_sent_in_fewer_messages(
    app: Starlette, settings: Settings, db: Database, broker: redis.Redis
) -> None:
    posts = [(f"reader-{n}", {"article_id": "a-1", "text": f"Comment {n}."}) for n in range(32)]
    responses = aio.run(post_together(app, settings, posts))

    assert [r.status_code for r in responses] == [202] * len(posts)
    ids = [r.json()["id"] for r in responses]
    assert [r.headers["location"] for r in responses] == [f"/v1/comments/{i}" for i in ids]
    with db.session() as session:
        stored = {c.id: c for c in session.scalars(select(Comment))}
    assert set(stored) == set(ids)
    assert {(stored[i].author_id, stored[i].text) for i in ids} == {
        (sub, body["text"]) for sub, body in posts
    }
    messages = moderate_messages(broker)
    assert len(messages) < len(posts), "every comment went in a task message of its own"
    assert sorted(moderation_ids(messages)) == sorted(ids)


def scenario(db: Database, prefix: str) -> tuple[list[Submission], dict[str, str]]:
    """Every way a comment can be answered, for authors and articles named with `prefix`;
    returns the submissions and the names of the comments stored beforehand, by id."""
    now = utcnow()

    def new(text: str, article: str = "open", parent_id: str | None = None) -> NewComment:
        return NewComment(article_id=prefix + article, text=text, parent_id=parent_id)

    def stored(session: Any, author: str, key: str | None, text: str, *, age: timedelta) -> str:
        comment = create_comment(
            session,
            article_id=prefix + "open",
            parent_id=None,
            author_id=prefix + author,
            author_name=None,
            text=text,
            idempotency_key=key,
            body_hash=new(text).body_hash(),
            now=now - age,
        )
        return comment.id

    with db.session() as session:
        add_sanction(
            session,
            author_id=prefix + "banned",
            kind="ban",
            explanation="Spam.",
            created_by="mod-1",
            now=now,
        )
        put_article_flags(
            session, article_id=prefix + "closed", premoderated=False, closed=True, by="m", now=now
        )
        names = {
            stored(session, "parent", None, "The parent.", age=timedelta(0)): "parent",
            stored(session, "replayer", "k-1", "Said once.", age=timedelta(0)): "k-1",
            stored(session, "replayer", "k-2", "Said first.", age=timedelta(0)): "k-2",
            stored(session, "stale", "k-5", "Long ago.", age=2 * WINDOW): "k-5",
            stored(session, "banned", "k-6", "Before the ban.", age=2 * WINDOW): "k-6",
        }
    parent = next(i for i, name in names.items() if name == "parent")

    def submit(author: str, body: NewComment, key: str | None = None) -> Submission:
        return Submission(Principal(sub=prefix + author, name=author), body, key)

    submissions = [
        submit("good-1", new("A fine remark.")),
        submit("banned", new("Let me in.", "closed")),
        submit("closer", new("Too late?", "closed")),
        submit("flooder", new("One.")),
        submit("flooder", new("Two.")),
        submit("flooder", new("Three.")),
        submit("replayer", new("Said once."), "k-1"),
        submit("replayer", new("Said otherwise."), "k-2"),
        submit("replier", new("To nobody.", parent_id="no-such-comment")),
        submit("replier", new("Elsewhere.", "other", parent_id=parent)),
        submit("replier", new("A real reply.", parent_id=parent)),
        submit("twice", new("Sent twice."), "k-3"),
        submit("twice", new("Sent twice."), "k-3"),
        submit("good-2", new("Another fine remark."), "k-4"),
        submit("stale", new("Long ago."), "k-5"),
        submit("banned", new("Before the ban."), "k-6"),
    ]
    return submissions, names


def shape(outcomes: Sequence[Outcome], prefix: str, names: dict[str, str]) -> list[Any]:
    """The answers with this run's ids, prefix and times taken out, to compare runs."""
    labels = dict(names)

    def label(comment_id: str | None) -> str | None:
        if comment_id is None:
            return None
        return labels.setdefault(comment_id, f"new-{len(labels)}")

    shaped: list[Any] = []
    for outcome in outcomes:
        if isinstance(outcome, Accepted):
            resource = dict(outcome.resource)
            del resource["created_at"]
            resource["id"] = label(resource["id"])
            resource["parent_id"] = label(resource["parent_id"])
            resource["author_id"] = resource["author_id"].removeprefix(prefix)
            resource["article_id"] = resource["article_id"].removeprefix(prefix)
            shaped.append(("accepted", outcome.created, resource))
        else:
            assert isinstance(outcome, ProblemError), repr(outcome)
            shaped.append((type(outcome).__name__, outcome.body(), outcome.headers))
    return shaped


def answer(outcome: Outcome) -> str:
    if isinstance(outcome, Accepted):
        return "created" if outcome.created else "replayed"
    return outcome.code if isinstance(outcome, ProblemError) else repr(outcome)


def stored_rows(db: Database, prefix: str, names: dict[str, str]) -> list[tuple[Any, ...]]:
    with db.session() as session:
        comments = session.scalars(select(Comment).where(Comment.author_id.startswith(prefix)))
        rows = [
            (
                c.author_id.removeprefix(prefix),
                c.article_id.removeprefix(prefix),
                c.text,
                names.get(c.parent_id or "", c.parent_id),
                c.idempotency_key,
                c.status,
                c.enqueue_count,
            )
            for c in comments
        ]
    return sorted(rows, key=repr)


def flood_counts(client: redis.Redis, prefix: str, authors: Sequence[str]) -> dict[str, int]:
    return {author: int(client.zcard(FLOOD_PREFIX + prefix + author)) for author in authors}


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_a_mixed_batch_answers_as_one_by_one_and_stores_counts_and_sends_only_the_good(
    settings: Settings, db: Database, broker: redis.Redis
) -> None:
    gate = FloodGate(broker)
    alone, alone_names = scenario(db, "alone-")
    expected: list[Outcome] = []
    for submission in alone:
        try:
            expected.append(
                accept_comment(
                    db,
                    principal=submission.principal,
                    new=submission.new,
                    idempotency_key=submission.idempotency_key,
                    window=WINDOW,
                    admit=lambda author: gate.retry_after(
                        author, window_seconds=FLOOD_WINDOW_SECONDS, hard_limit=HARD_LIMIT
                    ),
                )
            )
        except ProblemError as exc:
            expected.append(exc)

    together, together_names = scenario(db, "together-")
    producer = TaskProducer(settings)
    try:
        outcomes = accept_comments(
            db,
            producer,
            together,
            window=WINDOW,
            admit=lambda authors: gate.retry_after_many(
                authors, window_seconds=FLOOD_WINDOW_SECONDS, hard_limit=HARD_LIMIT
            ),
            now=utcnow(),
        )
    finally:
        producer.close()

    assert shape(outcomes, "together-", together_names) == shape(expected, "alone-", alone_names)
    assert [answer(o) for o in outcomes] == [
        "created",
        "author_banned",
        "article_closed",
        "created",
        "created",
        "rate_limited",
        "replayed",
        "idempotency_conflict",
        "parent_not_found",
        "parent_not_found",
        "created",
        "created",
        "replayed",
        "created",
        "created",
        "author_banned",
    ]
    assert outcomes[12].resource["id"] == outcomes[11].resource["id"]  # type: ignore[union-attr]
    rate_limited = outcomes[5]
    assert isinstance(rate_limited, ProblemError)
    assert 1 <= int(rate_limited.headers["Retry-After"]) <= FLOOD_WINDOW_SECONDS

    # Stored: the good ones only, and a refused comment's stale key stays where it was.
    assert stored_rows(db, "together-", together_names) == stored_rows(db, "alone-", alone_names)
    created = [o.resource["id"] for o in outcomes if isinstance(o, Accepted) and o.created]
    with db.session() as session:
        new_rows = set(
            session.scalars(
                select(Comment.id).where(
                    Comment.author_id.startswith("together-"),
                    Comment.id.not_in(list(together_names)),
                )
            )
        )
    assert new_rows == set(created)

    authors = ["good-1", "banned", "closer", "flooder", "replayer", "replier", "twice", "stale"]
    counted = flood_counts(broker, "together-", authors)
    assert counted == flood_counts(broker, "alone-", authors)
    assert counted == {
        "good-1": 1,
        "banned": 0,
        "closer": 0,
        "flooder": HARD_LIMIT,
        "replayer": 0,
        "replier": 1,
        "twice": 1,
        "stale": 1,
    }

    messages = moderate_messages(broker)
    assert len(messages) == 1
    # Each names the comment at its first revision.
    assert moderation_items(messages) == [f"{comment_id}@1" for comment_id in created]


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_batch_without_a_database_answers_every_request_503(
    private_redis: PrivateRedis, tmp_path: Path, backend: str
) -> None:
    url = DOWN_DATABASE_URLS[backend].format(tmp_path=tmp_path)
    settings = api_settings(url, private_redis.url.rsplit("/", 1)[0], tmp_path)
    app = create_app(settings)
    before = REGISTRY.get_sample_value(
        "moderation_comments_received_total", {"result": "unavailable"}
    )
    posts = [(f"reader-{n}", {"article_id": "a-1", "text": f"Lost {n}."}) for n in range(8)]
    try:
        responses = aio.run(post_together(app, settings, posts))
    finally:
        app.state.services.close()
    for response in responses:
        assert response.status_code == 503, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "unavailable"
        assert int(response.headers["retry-after"]) > 0
    after = REGISTRY.get_sample_value(
        "moderation_comments_received_total", {"result": "unavailable"}
    )
    assert (after or 0.0) - (before or 0.0) == len(posts)


# PostgreSQL only: the outage must begin inside the batch's transaction, which a TCP proxy
# can do to a PostgreSQL connection; nothing can take an open SQLite file away.
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_database_lost_during_a_batch_fails_it_all_and_stores_nothing(
    database_url: str, settings: Settings, db: Database, broker: redis.Redis
) -> None:
    upstream = make_url(database_url)
    proxy = TcpProxy((upstream.host or "127.0.0.1", upstream.port or 5432))
    proxy.start()
    through_proxy = Database(upstream.set(port=proxy.port).render_as_string(hide_password=False))
    with db.session() as session:
        add_sanction(
            session,
            author_id="banned",
            kind="ban",
            explanation="Spam.",
            created_by="m",
            now=utcnow(),
        )
    submissions = [
        Submission(Principal(sub=sub), NewComment(article_id="a-1", text=f"From {sub}."), key)
        for sub, key in [("reader-1", None), ("banned", None), ("reader-2", "k-1")]
    ]

    def admit_then_lose_the_database(authors: Sequence[str]) -> list[int]:
        # After the batch's reads, before its writes.
        proxy.cut()
        return [0] * len(authors)

    producer = TaskProducer(settings)
    try:
        outcomes = accept_comments(
            through_proxy,
            producer,
            submissions,
            window=WINDOW,
            admit=admit_then_lose_the_database,
            now=utcnow(),
        )
    finally:
        producer.close()
        proxy.cut()
        through_proxy.dispose()

    assert [type(o).__name__ for o in outcomes] == ["OperationalError"] * len(submissions)
    with db.session() as session:
        assert list(session.scalars(select(Comment.id))) == []
    assert moderate_messages(broker) == []


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_a_lone_request_is_taken_at_once_and_sent_alone(
    app: Starlette, broker: redis.Redis
) -> None:
    services: Services = app.state.services

    async def post_alone() -> Accepted:
        intake = services.intake
        answer = asyncio.create_task(
            intake.accept(
                Principal(sub="reader-1"), NewComment(article_id="a-1", text="Alone."), None
            )
        )
        # A few turns of the loop and no time at all: nothing waits for company.
        for _turn in range(3):
            await asyncio.sleep(0)
        assert intake.waiting() == 0, "the request is still waiting for a batch"
        return await answer

    accepted = aio.run(post_alone())
    assert accepted.created
    assert moderation_ids(moderate_messages(broker)) == [accepted.resource["id"]]
