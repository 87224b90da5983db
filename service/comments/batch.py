"""Group commit: the comments that arrived together, accepted in one transaction and sent to
moderation in one task message.

Each comment gets exactly the answer `accept_comment` would give it alone, in the contract's
order (parent, idempotent replay, ban or suspension, closed article, flood limit); only the
round trips are shared: one SELECT each for parents, idempotency keys, sanctions in force and
closed articles, one flood script call, one flush, one commit and one send.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from service.authors.sanctions import refusal, sanctions_in_force
from service.broker.contract import MODERATE_TASK, moderate_item
from service.broker.producer import TaskProducer
from service.comments.accept import (
    POST,
    Accepted,
    accept_comment,
    article_closed,
    parent_not_found,
    rate_limited,
    replay,
    within_window,
)
from service.comments.resources import comment_resource
from service.comments.schemas import NewComment
from service.db.engine import Database
from service.db.tables import Comment
from service.errors import ProblemError
from service.http.auth import Principal
from service.store.comments import (
    add_comments,
    build_comment,
    find_comments_by_idempotency_keys,
    forget_idempotency_keys,
    list_existing_parents,
)
from service.store.flags import list_closed_articles

# The answer to one request: what it returns, or what it raises.
Outcome = Accepted | Exception
# The flood limit for comments in arrival order: seconds each must wait, 0 to go ahead.
AdmitMany = Callable[[Sequence[str]], list[int]]
# The database is not answering: every comment of the transaction answers 503.
DATABASE_DOWN = (OperationalError, InterfaceError)


@dataclass(frozen=True)
class Submission:
    """One POST /v1/comments, parsed and authenticated, waiting to be accepted."""

    principal: Principal
    new: NewComment
    idempotency_key: str | None


def accept_comments(
    db: Database,
    producer: TaskProducer,
    submissions: Sequence[Submission],
    *,
    window: timedelta,
    admit: AdmitMany,
    now: datetime,
    erase_key: bytes | None = None,
) -> list[Outcome]:
    """Each submission's outcome, in order; the created comments are sent before returning.

    A submission repeating the Idempotency-Key of an earlier one in the same batch waits for
    that one's commit and goes alone, so that it replays it as it would have done today.
    """
    together: list[int] = []
    after: list[int] = []
    keys: set[tuple[str, str]] = set()
    for index, submission in enumerate(submissions):
        key = submission.idempotency_key
        if key is not None and (submission.principal.sub, key) in keys:
            after.append(index)
            continue
        if key is not None:
            keys.add((submission.principal.sub, key))
        together.append(index)

    outcomes: dict[int, Outcome] = {}
    group = [submissions[index] for index in together]
    try:
        decided = _accept_together(
            db, group, window=window, admit=admit, now=now, erase_key=erase_key
        )
    except DATABASE_DOWN as exc:
        decided = [exc] * len(group)
    outcomes.update(zip(together, decided, strict=True))
    for index in after:
        outcomes[index] = _accept_alone(
            db,
            submissions[index],
            window=window,
            admit=_one_by_one(admit),
            now=now,
            erase_key=erase_key,
        )

    answers = [outcomes[index] for index in range(len(submissions))]
    created = [a.resource for a in answers if isinstance(a, Accepted) and a.created]
    if created:
        with structlog.contextvars.bound_contextvars(comment_ids=[c["id"] for c in created]):
            producer.send(MODERATE_TASK, *(moderate_item(c["id"], c["revision"]) for c in created))
    return answers


def _accept_together(
    db: Database,
    submissions: Sequence[Submission],
    *,
    window: timedelta,
    admit: AdmitMany,
    now: datetime,
    erase_key: bytes | None,
) -> list[Outcome]:
    # Flood answers by position, asked at most once: a comment that goes again alone is the
    # same comment, not a second one in the window.
    asked: dict[int, int] = {}
    try:
        with db.session() as session:
            return _decide_and_store(
                session,
                submissions,
                window=window,
                admit=admit,
                now=now,
                asked=asked,
                erase_key=erase_key,
            )
    except DATABASE_DOWN:
        raise
    except SQLAlchemyError:
        # One comment the database refuses (an idempotency race lost to another process)
        # must not refuse the others: each goes again alone, in a transaction of its own.
        return [
            _accept_alone(
                db,
                submission,
                window=window,
                admit=_answered(admit, asked, i),
                now=now,
                erase_key=erase_key,
            )
            for i, submission in enumerate(submissions)
        ]


def _decide_and_store(
    session: Session,
    submissions: Sequence[Submission],
    *,
    window: timedelta,
    admit: AdmitMany,
    now: datetime,
    asked: dict[int, int],
    erase_key: bytes | None,
) -> list[Outcome]:
    hashes = [s.new.body_hash() for s in submissions]
    parents = list_existing_parents(
        session, parent_ids=[s.new.parent_id for s in submissions if s.new.parent_id is not None]
    )
    keyed = find_comments_by_idempotency_keys(
        session,
        keys=[
            (s.principal.sub, s.idempotency_key)
            for s in submissions
            if s.idempotency_key is not None
        ],
    )
    sanctioned = sanctions_in_force(
        session, author_ids=[s.principal.sub for s in submissions], now=now, key=erase_key
    )
    closed = list_closed_articles(session, article_ids=[s.new.article_id for s in submissions])

    outcomes: dict[int, Outcome] = {}
    stale_keys: dict[int, str] = {}
    flooding: list[int] = []
    for i, s in enumerate(submissions):
        author, new = s.principal.sub, s.new
        if new.parent_id is not None and (new.parent_id, new.article_id) not in parents:
            outcomes[i] = parent_not_found()
            continue
        key = s.idempotency_key
        existing = keyed.get((author, key)) if key is not None else None
        if existing is not None and within_window(existing, now=now, window=window):
            outcomes[i] = _replayed(session, existing, body_hash=hashes[i])
            continue
        if existing is not None:
            stale_keys[i] = existing.id
        if author in sanctioned:
            outcomes[i] = refusal(sanctioned[author], now, may_not=POST)
        elif new.article_id in closed:
            outcomes[i] = article_closed()
        else:
            flooding.append(i)

    admitted: list[int] = []
    if flooding:
        try:
            waits = admit([submissions[i].principal.sub for i in flooding])
        except Exception as exc:  # the request's own error (500), as when it asked alone
            outcomes.update((i, exc) for i in flooding)
            waits = []
        for i, wait in zip(flooding, waits, strict=False):
            asked[i] = wait
            if wait:
                outcomes[i] = rate_limited(wait)
            else:
                admitted.append(i)

    # A stale key is forgotten only for a comment that takes it over: a refused one's
    # transaction would have rolled the forgetting back.
    forget_idempotency_keys(
        session, comment_ids=[stale_keys[i] for i in admitted if i in stale_keys]
    )
    rows = [_new_row(submissions[i], body_hash=hashes[i], now=now) for i in admitted]
    add_comments(session, comments=rows)
    for i, row in zip(admitted, rows, strict=True):
        outcomes[i] = Accepted(comment_resource(row, []), created=True)
    return [outcomes[i] for i in range(len(submissions))]


def _replayed(session: Session, existing: Comment, *, body_hash: str) -> Outcome:
    try:
        return replay(session, existing, body_hash=body_hash)
    except ProblemError as exc:
        return exc


def _new_row(submission: Submission, *, body_hash: str, now: datetime) -> Comment:
    return build_comment(
        article_id=submission.new.article_id,
        parent_id=submission.new.parent_id,
        author_id=submission.principal.sub,
        author_name=submission.principal.name,
        text=submission.new.text,
        idempotency_key=submission.idempotency_key,
        body_hash=body_hash,
        now=now,
    )


def _accept_alone(
    db: Database,
    submission: Submission,
    *,
    window: timedelta,
    admit: Callable[[str], int],
    now: datetime,
    erase_key: bytes | None,
) -> Outcome:
    try:
        return accept_comment(
            db,
            principal=submission.principal,
            new=submission.new,
            idempotency_key=submission.idempotency_key,
            window=window,
            admit=admit,
            now=now,
            erase_key=erase_key,
        )
    except Exception as exc:  # this request's answer, whatever it is; the others go on
        return exc


def _one_by_one(admit: AdmitMany) -> Callable[[str], int]:
    return lambda author_id: admit([author_id])[0]


def _answered(admit: AdmitMany, asked: dict[int, int], index: int) -> Callable[[str], int]:
    if index in asked:
        wait = asked[index]
        return lambda _author_id: wait
    return _one_by_one(admit)
