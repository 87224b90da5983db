"""Moderating a batch of comments in one task: every decision, reason and stored context is the
one moderating them one at a time in posting order gives, and the SQL it takes does not grow
with the batch.

The comparisons run the same rows through both paths in two databases of the same backend.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, inspect, select
from structlog.testing import capture_logs

import policy
from service.broker.contract import DELIVER_WEBHOOK_TASK
from service.comments.decisions import AutomatedDecision, record_automated_decisions
from service.db.engine import Database
from service.db.migrate import upgrade_head
from service.db.tables import (
    AuditSample,
    Comment,
    Decision,
    HoldReason,
    ShadowDecision,
    WebhookEvent,
    utcnow,
)
from service.policies import PolicyHolder
from service.settings import DEFAULT_POLICY
from service.store.comments import (
    count_author_comments_since,
    erase_comment_text,
    get_comment_or_none,
    list_author_texts_since,
)
from service.store.context import (
    author_figures,
    list_comments_by_id,
    list_recent_comments_by_author,
)
from service.store.decisions import add_decision, list_decisions
from service.store.flags import (
    get_article_flags_or_none,
    get_author_flags_or_none,
    put_article_flags,
    put_author_flags,
)
from tests.support.checkpoints import CLEAN, TinyCheckpoint
from tests.support.comments import stored_comment
from tests.support.databases import BACKENDS, create_postgres_database, drop_postgres_database
from workers.context import MAX_AUTHOR_ROWS, MAX_RECENT_TEXTS, PendingComment, gather_contexts
from workers.decide import decide_comments
from workers.runtime import WorkerRuntime
from workers.scoring.scorer import Scorer, load_scorer
from workers.shadow import ShadowPolicy

CURRENT = PolicyHolder(DEFAULT_POLICY).current()
REPEATED = "Vote for Smith on Thursday, everyone!"
# More than a batch reads of one author, all within the flood window.
BURST = MAX_AUTHOR_ROWS + 50
SHADOW_HOLDS_EVERYTHING = "schema: 1\ntoxicity:\n  thresholds:\n    toxicity: 0\n"


class RecordingProducer:
    """Stands in for the broker, which is not what these tests are about: a real send would
    queue webhook deliveries that nothing here consumes. The sends are kept to be compared."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, tuple[Any, ...]]] = []

    def send(self, task: str, *args: Any, countdown: float | None = None) -> bool:
        self.sent.append((task, args))
        return True


@pytest.fixture
def other_database_url(
    request: pytest.FixtureRequest, database_url: str, tmp_path: Path
) -> Iterator[str]:
    """A second migrated, empty database of the same backend as `database_url`."""
    if database_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'other.db'}"
        migrate(url)
        yield url
        return
    admin = request.getfixturevalue("postgres_server")
    name, url = create_postgres_database(admin)
    migrate(url)
    try:
        yield url
    finally:
        drop_postgres_database(admin, name)


def migrate(url: str) -> None:
    database = Database(url)
    upgrade_head(database)
    database.dispose()


@pytest.fixture(scope="module")
def clean_scorer(tiny_checkpoint: Callable[..., TinyCheckpoint]) -> tuple[TinyCheckpoint, Scorer]:
    # Every text scores clean, so what decides is the context: repeats, floods, settings.
    checkpoint = tiny_checkpoint("original", bias=CLEAN)
    return checkpoint, load_scorer(checkpoint.settings())


@pytest.fixture
def make_runtime(
    clean_scorer: tuple[TinyCheckpoint, Scorer], tmp_path: Path
) -> Iterator[Callable[[str], WorkerRuntime]]:
    checkpoint, scorer = clean_scorer
    shadow = tmp_path / "shadow.yaml"
    shadow.write_text(SHADOW_HOLDS_EVERYTHING)
    made: list[WorkerRuntime] = []

    def make(url: str) -> WorkerRuntime:
        settings = checkpoint.settings(
            database_url=url, webhook_url="http://127.0.0.1:9/hook", audit_sample=0.9
        )
        rt = WorkerRuntime(
            settings=settings,
            db=Database(url),
            redis=None,
            producer=RecordingProducer(),  # type: ignore[arg-type]
            policies=PolicyHolder(DEFAULT_POLICY),
            scorers={"default": scorer},
            shadow=ShadowPolicy(shadow),
        )
        made.append(rt)
        return rt

    yield make
    for rt in made:
        rt.db.dispose()


def post(
    dbs: Sequence[Database], text: str, *, author: str, at: datetime, article: str = "a-1"
) -> str:
    """The same pending comment, same id and all, in every database."""
    with dbs[0].session() as session:
        first = stored_comment(session, text=text, author_id=author, article_id=article, now=at)
        columns = {attr.key: getattr(first, attr.key) for attr in inspect(Comment).column_attrs}
    for db in dbs[1:]:
        with db.session() as session:
            session.add(Comment(**columns))
    return str(columns["id"])


def build_scene(dbs: Sequence[Database]) -> tuple[list[str], str]:
    """Sixteen pending comments to moderate as one batch, and one posted later, left out:
    repeats and a flood from single authors, ties in time, and every setting the context reads."""
    t0 = utcnow() - timedelta(minutes=10)
    for db in dbs:
        with db.session() as session:
            put_author_flags(
                session, author_id="trusted", always_hold=False, trusted=True, by="m", now=t0
            )
            put_author_flags(
                session, author_id="watched", always_hold=True, trusted=False, by="m", now=t0
            )
            put_article_flags(
                session, article_id="a-pre", premoderated=True, closed=False, by="m", now=t0
            )
            put_article_flags(
                session, article_id="a-closed", premoderated=False, closed=True, by="m", now=t0
            )
    earlier = post(dbs, REPEATED, author="r-1", at=t0 - timedelta(hours=2))
    for db in dbs:
        record_automated_decisions(
            db,
            decisions=[
                AutomatedDecision(
                    earlier, "approve", [], {"toxicity": 0.01}, context={}, revision=1
                )
            ],
            policy_version="sha256:before",
            model="m",
            webhooks=False,
            now=t0 - timedelta(hours=2),
        )
    burst = t0 + _s(10)
    scene = [
        # (text, author, posted at, article)
        (REPEATED, "r-1", t0, "a-1"),
        (REPEATED.upper(), "r-1", t0 + _s(1), "a-1"),
        ("A different thought about the council budget.", "r-1", t0 + _s(2), "a-1"),
        *((f"Flood message {n} in a row.", "r-2", burst + _s(n // 2), "a-1") for n in range(5)),
        (REPEATED, "r-2", burst + _s(3), "a-1"),
        (REPEATED, "r-2", burst + _s(4), "a-1"),
        ("You are an idiot.", "r-3", t0 + _s(20), "a-1"),
        (REPEATED, "trusted", t0 + _s(21), "a-1"),
        (REPEATED, "trusted", t0 + _s(22), "a-1"),
        ("Please look at the zoning map again.", "watched", t0 + _s(23), "a-1"),
        ("Interesting piece on the port.", "r-6", t0 + _s(24), "a-pre"),
        ("Why was this closed so soon?", "r-7", t0 + _s(25), "a-closed"),
    ]
    batch = [post(dbs, text, author=a, at=at, article=article) for text, a, at, article in scene]
    later = post(dbs, REPEATED, author="r-1", at=t0 + _s(60))
    assert len(batch) == 16
    return batch, later


def _s(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)


def posting_order(db: Database, comment_ids: Sequence[str]) -> list[str]:
    with db.session() as session:
        comments = list_comments_by_id(session, comment_ids=comment_ids)
    return sorted(comment_ids, key=lambda c: (comments[c].created_at, comments[c].id))


def snapshot(db: Database, comment_ids: Sequence[str]) -> dict[str, Any]:
    """Everything recorded about each comment, but the moments it was recorded at."""
    found: dict[str, Any] = {}
    with db.session() as session:
        for comment_id in comment_ids:
            comment = get_comment_or_none(session, comment_id=comment_id)
            assert comment is not None
            decisions = [
                (d.by, d.action, d.reasons, d.scores, d.policy_version, d.model, d.context)
                for d in list_decisions(session, comment_id=comment_id)
            ]
            kinds = sorted(
                session.scalars(select(HoldReason.kind).where(HoldReason.comment_id == comment_id))
            )
            sample = session.get(AuditSample, comment_id)
            events = [
                _timeless(event.payload)
                for event in session.scalars(
                    select(WebhookEvent).where(WebhookEvent.comment_id == comment_id)
                )
            ]
            shadows = [
                (s.policy_version, s.action, s.reasons)
                for s in session.scalars(
                    select(ShadowDecision).where(ShadowDecision.comment_id == comment_id)
                )
            ]
            found[comment_id] = {
                "status": comment.status,
                "version": comment.version,
                "max_score": comment.max_score,
                "decisions": decisions,
                "hold_reasons": kinds,
                "sampled": None if sample is None else sample.rate,
                "events": events,
                "shadow": shadows,
            }
    return found


def _timeless(payload: dict[str, Any]) -> dict[str, Any]:
    data = {k: v for k, v in payload["data"].items() if k != "decided_at"}
    data["decision"] = {k: v for k, v in data["decision"].items() if k != "at"}
    return {"type": payload["type"], "data": data}


def reason_kinds(found: dict[str, Any], comment_id: str) -> list[str]:
    (decision,) = found[comment_id]["decisions"]
    return [reason["kind"] for reason in decision[2]]


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_a_batch_decides_as_one_comment_at_a_time_in_posting_order(
    make_runtime: Callable[[str], WorkerRuntime], database_url: str, other_database_url: str
) -> None:
    single, batched = make_runtime(database_url), make_runtime(other_database_url)
    batch, later = build_scene([single.db, batched.db])
    in_order = posting_order(single.db, batch)

    one_by_one = {}
    for comment_id in in_order:
        (pending,) = pending_comments(single.db, [comment_id])
        gathered = one_at_a_time(single.db, pending, model=model_of(single))
        (one_by_one[comment_id],) = decide_comments(single, [comment_id])
        assert snapshot(single.db, [comment_id])[comment_id]["decisions"][0][6] == gathered
    # Sent in no particular order: the batch is decided in posting order all the same.
    shuffled = in_order[1::2][::-1] + in_order[::2]
    assert decide_comments(batched, shuffled) == [one_by_one[c] for c in shuffled]

    expected, got = snapshot(single.db, [*batch, later]), snapshot(batched.db, [*batch, later])
    assert got == expected
    sent = [task for task, _ in batched.producer.sent]  # type: ignore[attr-defined]
    assert sent == [DELIVER_WEBHOOK_TASK] * 16
    # The scene exercised what it is there for.
    r1 = in_order[:3]
    assert reason_kinds(got, r1[0]) == ["repeat"]
    assert reason_kinds(got, r1[1]) == ["repeat"]
    third = got[r1[2]]["decisions"][0][6]
    assert third["author"]["held"] == 2  # the batch's two earlier holds, decided first
    assert third["author"]["approved"] == 1
    assert len(third["recent_digests"]) == 3
    flood = [c for c in in_order if "flood" in reason_kinds(got, c)]
    assert len(flood) == 2
    assert sum("repeat" in reason_kinds(got, c) for c in in_order) >= 3
    assert got[later]["status"] == "pending"
    assert any(got[c]["sampled"] for c in batch)
    assert all(got[c]["shadow"] for c in batch)


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_skipped_ids_in_a_batch_leave_the_rest_decided(
    make_runtime: Callable[[str], WorkerRuntime], database_url: str
) -> None:
    rt = make_runtime(database_url)
    now = utcnow()
    fresh, decided, erased, other = (
        post([rt.db], f"Comment number {n} on the budget.", author=f"r-{n}", at=now + _s(n))
        for n in range(4)
    )
    decide_comments(rt, [decided])
    with rt.db.session() as session:
        erase_comment_text(session, comment_ids=[erased])

    with capture_logs() as logs:
        actions = decide_comments(
            rt, ["no-such-comment", fresh, decided, "\x00", erased, other, fresh]
        )

    assert actions == [None, "approve", None, None, None, "approve", None]
    skipped = {e["comment_id"]: e["status"] for e in logs if e["event"] == "moderation.skipped"}
    assert skipped == {
        "no-such-comment": None,
        decided: "approved",
        "\x00": None,
        erased: "pending",
    }
    assert [e["comment_id"] for e in logs if e["event"] == "moderation.duplicate"] == [fresh]
    recorded = [e["comment_id"] for e in logs if e["event"] == "decision.recorded"]
    assert sorted(recorded) == sorted([fresh, other])
    found = snapshot(rt.db, [fresh, erased, other])
    assert [found[c]["status"] for c in (fresh, erased, other)] == [
        "approved",
        "pending",
        "approved",
    ]


def count_statements(db: Database) -> Callable[[], int]:
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", seen)
    return lambda: len(statements)


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_a_batch_of_sixteen_takes_the_statements_of_a_batch_of_one(
    make_runtime: Callable[[str], WorkerRuntime], database_url: str
) -> None:
    rt = make_runtime(database_url)
    batch, later = build_scene([rt.db])
    counted = count_statements(rt.db)

    before = counted()
    assert decide_comments(rt, [later]) == ["hold"]
    one = counted() - before
    before = counted()
    decide_comments(rt, batch)
    sixteen = counted() - before

    # The batch adds what a single held comment has no need of (an audit sample insert, say);
    # a statement per comment would add 15 or more.
    assert sixteen <= one + 2, (one, sixteen)


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_a_task_delivered_twice_records_nothing_twice(
    make_runtime: Callable[[str], WorkerRuntime], database_url: str
) -> None:
    rt = make_runtime(database_url)
    batch, _ = build_scene([rt.db])
    first = decide_comments(rt, batch)
    recorded = table_counts(rt.db)

    assert decide_comments(rt, batch) == [None] * len(batch)

    assert all(first)
    assert table_counts(rt.db) == recorded
    assert len(rt.producer.sent) == len(batch)  # type: ignore[attr-defined]


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_a_duplicate_run_that_got_there_first_costs_only_its_comment(
    make_runtime: Callable[[str], WorkerRuntime], database_url: str
) -> None:
    rt = make_runtime(database_url)
    now = utcnow()
    ids = [post([rt.db], f"Comment {n} on the budget.", author=f"r-{n}", at=now) for n in range(4)]
    raced = ids[2]
    # What the other run has written by the time this one records: its decision row, with
    # the comment still pending as this run saw it when it loaded the batch.
    with rt.db.session() as session:
        add_decision(
            session,
            comment_id=raced,
            now=now,
            by="policy",
            action="approve",
            reasons=[],
            scores={"toxicity": 0.01},
            policy_version="sha256:first",
            model="first-run",
        )

    with capture_logs() as logs:
        actions = decide_comments(rt, ids)

    assert actions == ["approve", "approve", None, "approve"]
    assert "decisions.batch_conflict" in [entry["event"] for entry in logs]
    found = snapshot(rt.db, ids)
    assert [d[5] for d in found[raced]["decisions"]] == ["first-run"]
    assert found[raced]["status"] == "pending" and found[raced]["events"] == []
    assert all(found[c]["status"] == "approved" for c in ids if c != raced)
    assert len(rt.producer.sent) == 3  # type: ignore[attr-defined]


def table_counts(db: Database) -> dict[str, int]:
    tables = (Decision, WebhookEvent, HoldReason, AuditSample, ShadowDecision)
    with db.session() as session:
        return {
            table.__name__: session.scalar(select(func.count()).select_from(table)) or 0
            for table in tables
        }


def model_of(rt: WorkerRuntime) -> str:
    """The context's `model`: the id of the model that scored it (no routes here: `default`)."""
    return "default"


def one_at_a_time(db: Database, comment: PendingComment, *, model: str) -> dict[str, Any]:
    """The context as workers gathered it before batches: five queries for each comment (the
    author's figures as the batch reads them, by a query of their own)."""
    subject = comment.subject
    window_days = CURRENT.author.recent_rejections.window_days
    with db.session() as session:
        figures = author_figures(
            session, author_ids=[subject.author_id], now=utcnow(), window_days=window_days
        )[subject.author_id]
        flood_count = count_author_comments_since(
            session,
            author_id=subject.author_id,
            since=comment.created_at - timedelta(seconds=CURRENT.flood_window_seconds),
            up_to=comment.created_at,
            up_to_id=comment.comment_id,
        )
        recent = list_author_texts_since(
            session,
            author_id=subject.author_id,
            since=comment.created_at - timedelta(seconds=CURRENT.repeat_window_seconds),
            before=comment.created_at,
            before_id=comment.comment_id,
            limit=MAX_RECENT_TEXTS,
        )
        author = get_author_flags_or_none(session, author_id=subject.author_id)
        article = get_article_flags_or_none(session, article_id=subject.article_id)
    return policy.Context(
        author={
            "approved": figures["approved"],
            "rejected": figures["rejected"],
            "held": figures["held"],
            "always_hold": bool(author and author.always_hold),
            "trusted": bool(author and author.trusted),
            "recent": figures["recent"],
        },
        article={
            "premoderated": bool(article and article.premoderated),
            "closed": bool(article and article.closed),
        },
        flood_count=flood_count,
        recent_digests=tuple(policy.text_digest(policy.normalize(t)) for t in recent),
        language=policy.detect_language(subject.text),
        model=model,
    ).to_dict()


def pending_comments(db: Database, comment_ids: Sequence[str]) -> list[PendingComment]:
    with db.session() as session:
        found = list_comments_by_id(session, comment_ids=comment_ids)
    pending = [
        PendingComment(
            c.id,
            policy.Comment(c.text or "", c.author_id, c.article_id),
            c.created_at,
            revision=c.revision,
        )
        for c in found.values()
    ]
    return sorted(pending, key=lambda comment: comment.posting_key)


def heavy_history(db: Database, base: datetime) -> list[str]:
    """A flooder: more rows in the window than a batch reads, some erased, some tied in time,
    and older ones at and past the edge of the repeat window."""
    texts = [REPEATED, "Same again, louder.", "Spam spam spam and spam.", "Read my blog."]
    moments = [base - timedelta(hours=30) + timedelta(minutes=30 * n) for n in range(60)]
    burst = base - timedelta(seconds=240)
    moments += [burst + timedelta(seconds=0.5 * (n - n % 7 // 6)) for n in range(BURST)]
    ids = []
    with db.session() as session:
        for n, at in enumerate(moments):
            comment = stored_comment(session, text=texts[n % 4], author_id="heavy", now=at)
            if n % 11 == 0:
                comment.text = None
            ids.append(comment.id)
    return ids


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_a_heavy_author_is_read_to_a_cap_and_the_rest_asked_per_comment(
    make_runtime: Callable[[str], WorkerRuntime], database_url: str
) -> None:
    rt = make_runtime(database_url)
    base = utcnow()
    heavy = heavy_history(rt.db, base)
    light = [
        post([rt.db], REPEATED, author="light", at=base - timedelta(seconds=n)) for n in range(3)
    ]
    # The newest, some in the burst, the burst's first, and older ones inside the repeat window.
    chosen = [heavy[-1], heavy[-2], heavy[-150], heavy[60], heavy[59], heavy[20], *light]
    comments = pending_comments(rt.db, chosen)
    expected = {c.comment_id: one_at_a_time(rt.db, c, model="original") for c in comments}
    counted = count_statements(rt.db)

    statements = {}
    for cap in (1, 7, 120, MAX_AUTHOR_ROWS, 10 * MAX_AUTHOR_ROWS):
        before = counted()
        contexts = gather_contexts(
            rt, comments, current=CURRENT, model="original", max_author_rows=cap
        )
        statements[cap] = counted() - before
        assert {c.comment_id: contexts.context_for(c).to_dict() for c in comments} == expected

    assert max(expected[c]["flood_count"] for c in chosen) > MAX_AUTHOR_ROWS
    assert max(len(expected[c]["recent_digests"]) for c in chosen) == MAX_RECENT_TEXTS
    # Uncapped, the batch's context is a constant few statements; capped, the heavy author's
    # comments that the rows read can't settle take their own queries, and only those.
    assert statements[10 * MAX_AUTHOR_ROWS] <= 5
    assert statements[1] > statements[MAX_AUTHOR_ROWS] > statements[10 * MAX_AUTHOR_ROWS]
    with rt.db.session() as session:
        rows = list_recent_comments_by_author(
            session, windows={"heavy": (base - timedelta(days=2), base)}, limit=MAX_AUTHOR_ROWS
        )
    assert len(rows["heavy"]) == MAX_AUTHOR_ROWS
