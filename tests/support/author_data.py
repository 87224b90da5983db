"""An author whose id, name and words the service stored everywhere it does, for the export
and erasure tests: comments (posted, edited, held, decided by a moderator), reports made and
received, a note, sanctions, settings, webhook events delivered and pending, a Redis key."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import redis
from sqlalchemy import select, update

from service.broker.contract import FLOOD_PREFIX, REPORT_FLOOD_PREFIX
from service.db.tables import AuthorNote, ModerationAudit, WebhookEvent, utcnow
from service.http.tokens import issue_token
from tests.support.api import Api
from tests.support.deletion import decide_revision
from tests.support.edits import edit
from tests.support.holds import database, hold
from tests.support.moderation import decide
from tests.support.reported import report, version_of
from tests.support.reports import approved

ERASE_KEY = "erase-key-for-the-tests-only-0123456789abcdef"
AUTHOR = "qx-author-7731"
NAME = "Zorblaxia Quux"
POSTED = "Première version de Quux : le « tramway » est en retard"
EDITED = 'Quux edited: the tram is "late" again, call 010-9876-5432'
HELD = "Quux's held one: you're all wrong about the tram"
REPORT_DETAIL = "Quux reports this: it insults tram drivers"
LEGAL_GROUND = "Quux cites the Tram Act s. 12"
NOTICE_EXPLANATION = "Quux explains the notice at length"
QUOTED = f"The author wrote: {EDITED}"
OTHER_TEXT = "Tram drivers are lazy, says reader-2."
NOTE = f"{AUTHOR} (signs as {NAME}) keeps arguing about trams."
WARNING = "Mind the tone about the trams."
MODERATOR = "mod-1"
OTHER_READER = "reader-2"


@dataclass(frozen=True)
class World:
    edited: str
    held: str
    other: str
    report_made: str
    report_received: str


def author_headers(api: Api, **headers: str) -> dict[str, str]:
    token = issue_token(api.settings, AUTHOR, name=NAME)
    return {"Authorization": f"Bearer {token}", **headers}


def moderator(api: Api) -> dict[str, str]:
    return api.auth(MODERATOR, moderator=True)


def build_world(api: Api) -> World:
    posted = api.client.post(
        "/v1/comments",
        json={"article_id": "news-1", "text": POSTED},
        headers=author_headers(api, **{"Idempotency-Key": "qx-key-1"}),
    )
    assert posted.status_code in (201, 202), posted.text
    edited = posted.json()["id"]
    assert decide_revision(api, edited, revision=1, action="approve") is not None
    with database(api).session() as session:
        session.execute(
            update(WebhookEvent)
            .where(WebhookEvent.comment_id == edited)
            .values(status="delivered", delivered_at=utcnow())
        )
    response = edit(
        api,
        edited,
        {"text": EDITED, "revision": 1},
        sub=AUTHOR,
        **{"Idempotency-Key": "qx-key-2"},
    )
    assert response.status_code in (200, 202), response.text
    assert decide_revision(api, edited, revision=2, action="hold") is not None
    response = decide(
        api,
        edited,
        {
            "action": "approve",
            "version": version_of(api, edited),
            "reason": "Fine.",
            "reason_code": "other",
            "explanation": "Kept after review.",
        },
    )
    assert response.status_code == 200, response.text
    report_received = report(api, edited, reporter=OTHER_READER, detail=QUOTED)

    held = hold(api, author=AUTHOR, text=HELD, webhooks=True)

    other = approved(api, author=OTHER_READER, text=OTHER_TEXT)
    report_made = report(
        api,
        other,
        reporter=AUTHOR,
        reason="illegal",
        detail=REPORT_DETAIL,
        legal_ground=LEGAL_GROUND,
        explanation=NOTICE_EXPLANATION,
    )
    response = decide(
        api,
        other,
        {"action": "reject", "version": version_of(api, other), "reason_code": "spam"},
    )
    assert response.status_code == 200, response.text

    with database(api).session() as session:
        session.add(AuthorNote(author_id=AUTHOR, moderator_id=MODERATOR, text=NOTE, at=utcnow()))
    response = api.client.put(
        f"/v1/authors/{AUTHOR}/settings",
        json={"always_hold": True, "trusted": False},
        headers=moderator(api),
    )
    assert response.status_code == 200, response.text
    response = api.client.post(
        f"/v1/moderation/authors/{AUTHOR}/sanctions",
        json={"kind": "warning", "reason_code": "other", "explanation": WARNING},
        headers=moderator(api),
    )
    assert response.status_code == 201, response.text
    flood = redis.Redis.from_url(api.settings.redis_url or "")
    flood.zadd(FLOOD_PREFIX + AUTHOR, {"x": 1.0})
    flood.zadd(REPORT_FLOOD_PREFIX + AUTHOR, {"y": 1.0})
    return World(edited, held, other, report_made, report_received)


def redis_keys(api: Api) -> list[bytes]:
    client = redis.Redis.from_url(api.settings.redis_url or "")
    return sorted(client.scan_iter(match=f"*{AUTHOR}*"))


def erase(api: Api, author_id: str = AUTHOR, *, confirm: str | None = None) -> Any:
    return api.client.post(
        f"/v1/moderation/authors/{author_id}/erase",
        json={"confirm": author_id if confirm is None else confirm},
        headers=moderator(api),
    )


def audit_table(api: Api) -> list[tuple[Any, ...]]:
    """Every audit row, every column, in order."""
    columns = ModerationAudit.__table__.columns
    with database(api).session() as session:
        return [
            tuple(row) for row in session.execute(select(*columns).order_by(ModerationAudit.id))
        ]
