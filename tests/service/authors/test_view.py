"""One view of a reader: GET /v1/moderation/authors/{author_id}."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import redis
from sqlalchemy import event, update
from starlette.testclient import TestClient

from service.app import create_app
from service.db.tables import Comment, Sanction, utcnow
from service.store.sanctions import add_sanction, lift_sanction
from tests.support.api import API_REDIS_DB, Api, api_settings, problem
from tests.support.holds import INSULT, database, decide_automatically, make_comment
from tests.support.moderation import decide
from tests.support.reported import report, version_of

AUTHOR_RULES = """\
schema: 1
author:
  new_commenter: {hold_until_approved: 2}
  recent_rejections: {window_days: 30, min_decided: 3, max_rate: 0.5}
  auto_trust: {after_approved: 3, max_rejection_rate: 0.25, toxicity_margin: 0.1}
"""
COUNTS = ("pending", "approved", "held", "rejected", "hidden", "deleted")
RECORD_KEYS = {
    "author_id",
    "counts",
    "first_comment_at",
    "last_comment_at",
    "trust",
    "sanction",
    "sanctions",
    "notes",
    "reports",
    "comments",
}
COMMENT_KEYS = {
    "id",
    "article_id",
    "parent_id",
    "status",
    "text",
    "revision",
    "created_at",
    "decision",
}


@pytest.fixture
def rules_api(database_url: str, redis_server: str, tmp_path: Path) -> Iterator[Api]:
    """The API on a policy with the author rules on."""
    redis.Redis.from_url(f"{redis_server}/{API_REDIS_DB}").flushdb()
    policy = tmp_path / "author-rules.yaml"
    policy.write_text(AUTHOR_RULES, encoding="utf-8")
    settings = api_settings(database_url, redis_server, tmp_path, policy=policy)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield Api(client, settings)


def record_url(author_id: str, query: str = "") -> str:
    return f"/v1/moderation/authors/{author_id}{query}"


def read_record(api: Api, author_id: str = "reader-1", query: str = "") -> dict[str, Any]:
    response = api.client.get(
        record_url(author_id, query), headers=api.auth("mod-1", moderator=True)
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == RECORD_KEYS
    document = api.client.get("/openapi.json").json()
    schema = {"$ref": "#/components/schemas/AuthorView", "components": document["components"]}
    jsonschema.Draft202012Validator(schema).validate(body)
    return body


def write(
    api: Api,
    status: str,
    *,
    author: str = "reader-1",
    at: datetime | None = None,
    text: str = "You are an idiot.",
) -> str:
    """A comment of `author` brought to `status` the way the service does it."""
    comment_id = make_comment(api, author=author, at=at, text=text)
    if status == "pending":
        return comment_id
    if status in {"approved", "hidden"}:
        decide_automatically(api, comment_id, action="approve")
    else:
        decide_automatically(api, comment_id)  # held
    if status == "rejected":
        answer = decide(api, comment_id, {"action": "reject", "version": 2})
        assert answer.status_code == 200, answer.text
    if status == "hidden":  # as reports.hide_after leaves it
        with database(api).session() as session:
            session.execute(update(Comment).where(Comment.id == comment_id).values(status="hidden"))
    if status == "deleted":
        gone = api.client.delete(f"/v1/comments/{comment_id}", headers=api.auth(author))
        assert gone.status_code in {200, 204}, gone.text
    return comment_id


def test_an_author_never_seen_has_an_empty_record(api: Api) -> None:
    body = read_record(api, "new.account@site")
    assert body["trust"]["state"] == "standard" and body["trust"]["rule"] is None
    del body["trust"]
    assert body == {
        "author_id": "new.account@site",
        "counts": dict.fromkeys(COUNTS, 0),
        "first_comment_at": None,
        "last_comment_at": None,
        "sanction": None,
        "sanctions": [],
        "notes": [],
        "reports": {"made": 0, "open": 0, "upheld": 0, "dismissed": 0, "precision": None},
        "comments": {"items": [], "next_cursor": None},
    }


def test_counts_by_status_first_and_last_and_each_comment_with_its_decision(api: Api) -> None:
    now = utcnow()
    made = {
        status: write(api, status, at=now - timedelta(hours=10 - n))
        for n, status in enumerate(COUNTS)
    }
    extra = write(api, "approved", at=now - timedelta(hours=1), text="Well argued.")
    write(api, "held", author="reader-2")  # another reader's: not counted

    body = read_record(api)
    assert body["author_id"] == "reader-1"
    assert body["counts"] == {**dict.fromkeys(COUNTS, 1), "approved": 2}
    assert body["first_comment_at"] == iso(now - timedelta(hours=10))
    assert body["last_comment_at"] == iso(now - timedelta(hours=1))
    items = body["comments"]["items"]
    assert [item["id"] for item in items] == [extra, *reversed(list(made.values()))]
    assert body["comments"]["next_cursor"] is None
    assert all(set(item) == COMMENT_KEYS for item in items)
    by_id = {item["id"]: item for item in items}
    assert {by_id[made[status]]["status"] for status in COUNTS} == set(COUNTS)
    assert by_id[made["pending"]]["decision"] is None
    held = by_id[made["held"]]
    assert held["text"] == "You are an idiot." and held["article_id"] == "news-1"
    assert held["parent_id"] is None and held["revision"] == 1
    assert held["decision"]["action"] == "hold" and held["decision"]["by"] == "policy"
    assert held["decision"]["reasons"] == [INSULT]
    # The comment resource's own `decision`: the policy's, also once a moderator rejected it.
    comment = api.client.get(
        f"/v1/comments/{made['rejected']}", headers=api.auth("mod-1", moderator=True)
    ).json()
    assert by_id[made["rejected"]]["decision"] == comment["decision"]
    assert by_id[made["approved"]]["decision"]["action"] == "approve"
    assert by_id[made["deleted"]]["text"] is None
    assert by_id[extra]["text"] == "Well argued."


def test_comments_page_newest_first_with_a_cursor_across_ties(api: Api) -> None:
    now = utcnow()
    made = [
        make_comment(api, at=now - timedelta(seconds=7 if 20 <= n < 26 else n), text=f"c{n}")
        for n in range(120)
    ]
    with database(api).session() as session:
        rows = session.query(Comment.id, Comment.created_at).filter(Comment.id.in_(made)).all()
    expected = [row.id for row in sorted(rows, key=lambda r: (r.created_at, r.id), reverse=True)]

    seen: list[str] = []
    sizes: list[int] = []
    query = ""
    for _ in range(5):
        body = read_record(api, query=query)
        page = body["comments"]
        sizes.append(len(page["items"]))
        seen += [item["id"] for item in page["items"]]
        if page["next_cursor"] is None:
            break
        query = f"?cursor={page['next_cursor']}"
        assert body["counts"]["pending"] == 120  # the rest of the record, on every page
    assert sizes == [50, 50, 20]
    assert seen == expected


@pytest.mark.parametrize(
    "cursor", ["", "garbage", "eyJ2IjoxfQ", "x" * 600, "eyJ2IjoxLCJhIjoiMCIsImsiOlsxLDJdfQ"]
)
def test_a_cursor_not_given_out_for_this_author_is_a_422(api: Api, cursor: str) -> None:
    response = api.client.get(
        record_url("reader-1", f"?cursor={cursor}"), headers=api.auth("mod-1", moderator=True)
    )
    body = problem(response, 422)
    assert body["errors"][0]["code"] == "invalid_cursor", body


def test_a_cursor_pages_only_the_author_it_was_made_for(api: Api) -> None:
    for n in range(51):
        make_comment(api, author="reader-1", text=f"c{n}")
    cursor = read_record(api)["comments"]["next_cursor"]
    assert cursor is not None
    response = api.client.get(
        record_url("reader-2", f"?cursor={cursor}"), headers=api.auth("mod-1", moderator=True)
    )
    assert problem(response, 422)["errors"][0]["code"] == "invalid_cursor"


def test_the_trust_state_follows_the_authors_settings(api: Api) -> None:
    write(api, "approved")
    trust = read_record(api)["trust"]
    assert trust["state"] == "standard" and trust["rule"] is None
    assert trust["figures"]["approved"] == 1
    moderator = api.auth("mod-1", moderator=True)
    for flags, state, rule in [
        ({"always_hold": False, "trusted": True}, "trusted", None),
        ({"always_hold": True, "trusted": True}, "always_hold", "author.always_hold"),
    ]:
        put = api.client.put("/v1/authors/reader-1/settings", json=flags, headers=moderator)
        assert put.status_code == 200, put.text
        trust = read_record(api)["trust"]
        assert (trust["state"], trust["rule"]) == (state, rule), trust
        assert trust["message"]


def test_the_trust_state_follows_the_policys_author_rules(rules_api: Api) -> None:
    api = rules_api
    history = {
        "newbie": ["approved"],
        "troll": ["approved", "rejected", "rejected", "rejected"],
        "middle": ["approved", "approved", "held"],
        "regular": ["approved", "approved", "approved", "rejected"],
    }
    for author, statuses in history.items():
        for status in statuses:
            write(api, status, author=author)
    expected = {
        "newbie": ("new_commenter", "author.new_commenter"),
        "troll": ("recent_rejections", "author.recent_rejections"),
        "middle": ("standard", None),
        "regular": ("auto_trusted", "author.auto_trust"),
        "nobody": ("new_commenter", "author.new_commenter"),
    }
    found = {}
    for author in expected:
        trust = read_record(api, author)["trust"]
        found[author] = (trust["state"], trust["rule"])
        assert trust["message"]
    assert found == expected
    figures = read_record(api, "troll")["trust"]["figures"]
    assert (figures["approved"], figures["rejected"]) == (1, 3)
    assert (
        "3 of this author's 4 decided comments were rejected"
        in (read_record(api, "troll")["trust"]["message"])
    )
    assert read_record(api, "middle")["trust"]["figures"]["held"] == 1


def test_the_current_sanction_and_the_history_newest_first(api: Api) -> None:
    now = utcnow()
    with database(api).session() as session:

        def sanction(kind: str, days_ago: int, until: int | None = None) -> str:
            row = add_sanction(
                session,
                author_id="reader-1",
                kind=kind,
                created_by="mod-1",
                now=now - timedelta(days=days_ago),
                reason_code="spam" if kind != "warning" else None,
                explanation=f"A {kind}.",
                until=None if until is None else now + timedelta(days=until),
            )
            return row.id

        lapsed = sanction("suspension", 10, until=-8)
        warning = sanction("warning", 4)
        ban = sanction("ban", 3)
        row = add_sanction(
            session, author_id="reader-1", kind="ban", created_by="x", now=now
        )  # lifted below
        lift_sanction(session, sanction=row, by="mod-2", now=now)
        lifted = row.id
        suspension = sanction("suspension", 1, until=5)
        add_sanction(session, author_id="reader-2", kind="ban", created_by="mod-1", now=now)

    body = read_record(api)
    history = body["sanctions"]
    assert [s["id"] for s in history] == [lifted, suspension, ban, warning, lapsed]
    assert {s["id"]: s["in_force"] for s in history} == {
        lifted: False,
        suspension: True,
        ban: True,
        warning: False,
        lapsed: False,
    }
    assert body["sanction"]["id"] == ban  # a ban wins over a suspension
    assert history[0]["lifted_by"] == "mod-2" and history[0]["lifted_at"] is not None
    assert history[1]["until"] == iso(now + timedelta(days=5))
    assert history[1]["reason_code"] == "spam" and history[1]["explanation"] == "A suspension."

    with database(api).session() as session:
        row = session.get(Sanction, ban)
        assert row is not None
        lift_sanction(session, sanction=row, by="mod-1", now=utcnow())
    assert read_record(api)["sanction"]["id"] == suspension


def test_an_author_sanctioned_before_commenting_shows_it(api: Api) -> None:
    with database(api).session() as session:
        ban = add_sanction(
            session, author_id="signup-9", kind="ban", created_by="mod-1", now=utcnow()
        ).id
    body = read_record(api, "signup-9")
    assert body["sanction"]["id"] == ban and [s["id"] for s in body["sanctions"]] == [ban]
    assert body["counts"] == dict.fromkeys(COUNTS, 0)


def test_notes_are_in_the_record_newest_first(api: Api) -> None:
    moderator = api.auth("mod-1", moderator=True)
    url = "/v1/moderation/authors/reader-1/notes"
    ids = [
        api.client.post(url, json={"text": text}, headers=moderator).json()["id"]
        for text in ("first", "second")
    ]
    notes = read_record(api)["notes"]
    assert [note["id"] for note in notes] == ids[::-1]
    assert [note["text"] for note in notes] == ["second", "first"]


def test_reports_made_and_their_precision(api: Api) -> None:
    targets = [write(api, "approved", author=f"writer-{n}", text="Fine.") for n in range(4)]
    for target in targets[:3]:
        report(api, target, reporter="reader-1")
    report(api, targets[3], reporter="reader-9")  # someone else's report
    upheld, dismissed, _open = targets[:3]
    moderator = "mod-1"
    assert (
        decide(
            api, upheld, {"action": "reject", "version": version_of(api, upheld)}, sub=moderator
        ).status_code
        == 200
    )
    assert (
        decide(
            api, dismissed, {"action": "keep", "version": version_of(api, dismissed)}, sub=moderator
        ).status_code
        == 200
    )

    assert read_record(api)["reports"] == {
        "made": 3,
        "open": 1,
        "upheld": 1,
        "dismissed": 1,
        "precision": 0.5,
    }
    assert read_record(api, "reader-9")["reports"]["precision"] is None  # none decided yet


@pytest.mark.parametrize("author_id", ["a" * 256, "a%01b", "nul%00"])
def test_an_invalid_author_id_is_a_422(api: Api, author_id: str) -> None:
    response = api.client.get(record_url(author_id), headers=api.auth("mod-1", moderator=True))
    problem(response, 422, "invalid_author_id")


def test_only_moderators_read_a_record(api: Api) -> None:
    problem(api.client.get(record_url("reader-1"), headers=api.auth("reader-1")), 403, "forbidden")
    problem(api.client.get(record_url("reader-1")), 401, "invalid_token")


def test_the_record_costs_the_same_statements_whatever_the_author_wrote(api: Api) -> None:
    now = utcnow()
    for n in range(3):
        write(api, "held", author="light", at=now - timedelta(minutes=n))
    for n in range(60):
        write(api, "held" if n % 2 else "approved", author="heavy", at=now - timedelta(minutes=n))
    engine = database(api).engine
    counts = []
    for author in ("light", "heavy", "nobody"):
        statements: list[str] = []

        def count(*args: Any) -> None:
            statements.append(args[2])

        event.listen(engine, "before_cursor_execute", count)
        try:
            read_record(api, author)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        counts.append(len(statements))
    assert counts[0] == counts[1] >= counts[2], counts
    assert counts[1] <= 15, counts


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
