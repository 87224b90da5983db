"""GET /v1/moderation/queue: roles, filters, sorts, cursor pages and claims, on both databases."""

from __future__ import annotations

import base64
import json
import threading
from datetime import timedelta

import jsonschema
import pytest
from sqlalchemy import update

from service.db.tables import Comment, utcnow
from service.http.auth import Principal
from service.moderation.review import read_queue
from service.moderation.schemas import parse_queue_query
from tests.support.api import Api, problem
from tests.support.databases import BACKENDS
from tests.support.holds import (
    INSULT,
    database,
    decide_automatically,
    hold,
    make_comment,
    terms_reason,
)

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)

QUEUE = "/v1/moderation/queue"

MODERATION_ROUTES = [
    ("get", QUEUE, None),
    ("get", f"{QUEUE}?claim=1", None),
    ("post", "/v1/moderation/comments/c-1/decision", {"action": "approve", "version": 2}),
    ("post", "/v1/moderation/decisions", {"items": [{"id": "c", "action": "approve"}]}),
    ("post", "/v1/moderation/authors/a-1/ban", {"reason": "spam"}),
    ("delete", "/v1/moderation/authors/a-1/ban", None),
    ("get", "/v1/moderation/stats", None),
    ("get", "/v1/comments/c-1/history", None),
]


@pytest.mark.parametrize(("method", "path", "body"), MODERATION_ROUTES)
def test_every_moderation_route_needs_a_moderator(
    api: Api, method: str, path: str, body: object
) -> None:
    kwargs = {} if body is None else {"json": body}
    anonymous = api.client.request(method, path, **kwargs)
    problem(anonymous, 401, "invalid_token")
    reader = api.client.request(method, path, headers=api.auth("reader-1"), **kwargs)
    problem(reader, 403, "forbidden")


def ids(response) -> list[str]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def get(api: Api, query: str = "", *, sub: str = "mod-1"):  # type: ignore[no-untyped-def]
    return api.client.get(f"{QUEUE}{query}", headers=api.auth(sub, moderator=True))


def test_queue_lists_held_comments_oldest_first_with_everything_a_moderator_needs(
    api: Api,
) -> None:
    older = hold(
        api,
        text="Get lost, idiot.",
        reasons=[INSULT, terms_reason(10, 15)],
        scores={"insult": 0.93, "toxicity": 0.88, "male": 0.99},
        minutes_ago=10,
    )
    newer = hold(api, author="reader-2", minutes_ago=5)
    approved = make_comment(api, text="Fine piece.")
    decide_automatically(api, approved, action="approve")
    make_comment(api, text="still pending")

    response = get(api)
    assert ids(response) == [older, newer]
    body = response.json()
    assert body["next"] is None
    first = body["items"][0]
    assert first["status"] == "held"
    assert first["version"] == 2
    assert first["text"] == "Get lost, idiot."
    assert first["decision"]["reasons"][1]["spans"] == [{"start": 10, "end": 15}]
    assert first["decision"]["scores"]["insult"] == 0.93
    # the identity label is evidence, not a score to sort on
    assert first["max_score"] == 0.93
    assert first["claim"] is None
    assert first["author_record"] == {"approved": 1, "rejected": 0, "held": 1, "banned": False}

    document = api.client.get("/openapi.json").json()
    schema = {"$ref": "#/components/schemas/QueuePage", "components": document["components"]}
    jsonschema.Draft202012Validator(schema).validate(body)


def test_filters(api: Api) -> None:
    toxic = hold(api, article="news-1", author="reader-1", scores={"toxicity": 0.95})
    worded = hold(
        api,
        article="news-2",
        author="reader-2",
        reasons=[terms_reason(0, 3)],
        scores={"toxicity": 0.2},
    )
    both = hold(
        api,
        article="news-2",
        author="reader-1",
        reasons=[INSULT, terms_reason(0, 3)],
        scores={"insult": 0.85},
    )
    assert ids(get(api, "?article_id=news-2")) == [worded, both]
    assert ids(get(api, "?author_id=reader-1")) == [toxic, both]
    assert ids(get(api, "?reason=terms")) == [worded, both]
    assert ids(get(api, "?reason=toxicity")) == [toxic, both]
    assert ids(get(api, "?reason=links")) == []
    assert ids(get(api, "?min_score=0.85")) == [toxic, both]
    assert ids(get(api, "?min_score=0.9")) == [toxic]
    assert ids(get(api, "?article_id=news-2&reason=terms&min_score=0.5")) == [both]


def test_sorts(api: Api) -> None:
    low = hold(api, scores={"toxicity": 0.81}, minutes_ago=30)
    high = hold(api, scores={"threat": 0.99}, minutes_ago=20)
    tie_older = hold(api, scores={"insult": 0.9}, minutes_ago=15)
    tie_newer = hold(api, scores={"insult": 0.9}, minutes_ago=10)
    assert ids(get(api, "?sort=oldest")) == [low, high, tie_older, tie_newer]
    assert ids(get(api, "?sort=newest")) == [tie_newer, tie_older, high, low]
    assert ids(get(api, "?sort=score")) == [high, tie_older, tie_newer, low]


@pytest.mark.parametrize("sort", ["oldest", "newest", "score"])
def test_cursor_walk_covers_every_item_exactly_once(api: Api, sort: str) -> None:
    scores = [0.5, 0.9, 0.9, 0.7, 0.9, 0.6, 0.8]
    made = [hold(api, scores={"toxicity": s}, minutes_ago=20 - i) for i, s in enumerate(scores)]
    whole = ids(get(api, f"?sort={sort}&limit=100"))
    assert sorted(whole) == sorted(made)

    seen: list[str] = []
    query = f"?sort={sort}&limit=2"
    pages = 0
    while True:
        response = get(api, query)
        seen.extend(ids(response))
        pages += 1
        cursor = response.json()["next"]
        if cursor is None:
            break
        query = f"?sort={sort}&limit=2&cursor={cursor}"
    assert seen == whole
    assert pages == 4


def test_a_comment_decided_between_pages_does_not_shift_the_next_page(api: Api) -> None:
    made = [hold(api, minutes_ago=10 - i) for i in range(4)]
    first = get(api, "?limit=2")
    assert ids(first) == made[:2]
    moderator = api.auth("mod-1", moderator=True)
    api.client.post(
        f"/v1/moderation/comments/{made[0]}/decision",
        json={"action": "approve", "version": 2},
        headers=moderator,
    )
    assert ids(get(api, f"?limit=2&cursor={first.json()['next']}")) == made[2:]


@pytest.mark.parametrize("limit", ["0", "101", "-1", "abc", "1.5", ""])
def test_limit_out_of_range_is_422(api: Api, limit: str) -> None:
    body = problem(get(api, f"?limit={limit}"), 422, "invalid_limit")
    assert body["errors"][0]["field"] == "limit"


@pytest.mark.parametrize("claim", ["0", "101", "x"])
def test_claim_out_of_range_is_422(api: Api, claim: str) -> None:
    problem(get(api, f"?claim={claim}"), 422, "invalid_claim")


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("?sort=best", "invalid_sort"),
        ("?min_score=1.5", "invalid_min_score"),
        ("?min_score=nan", "invalid_min_score"),
        ("?min_score=high", "invalid_min_score"),
        ("?reason=Toxicity!", "invalid_reason"),
        ("?article_id=has space", "invalid_article_id"),
    ],
)
def test_bad_query_parameters_are_422(api: Api, query: str, code: str) -> None:
    problem(get(api, query), 422, code)


def _encode(payload: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()


def test_garbage_and_tampered_cursors_are_422(api: Api) -> None:
    for _ in range(3):
        hold(api)
    real = get(api, "?limit=1").json()["next"]
    decoded = json.loads(base64.urlsafe_b64decode(real + "=" * (-len(real) % 4)))
    garbage = [
        "not-a-cursor",
        "%%%",
        _encode([1, 2, 3]),
        _encode({**decoded, "k": ["yesterday", "x"]}),
        _encode({**decoded, "k": [decoded["k"][0][:19], "x"]}),  # no time zone
        _encode({**decoded, "k": [decoded["k"][0], 5]}),
        _encode({**decoded, "k": [decoded["k"][0]]}),
        _encode({**decoded, "v": 2}),
        _encode({**decoded, "extra": 1}),
        "A" * 600,
    ]
    for cursor in garbage:
        problem(get(api, f"?limit=1&cursor={cursor}"), 422, "invalid_cursor")
    # a cursor belongs to the sort and filters it was made for
    problem(get(api, f"?limit=1&sort=newest&cursor={real}"), 422, "invalid_cursor")
    problem(get(api, f"?limit=1&author_id=reader-1&cursor={real}"), 422, "invalid_cursor")
    problem(get(api, f"?claim=1&cursor={real}"), 422, "invalid_cursor")
    assert get(api, f"?limit=1&cursor={real}").status_code == 200


def test_claims_lease_distinct_comments_to_each_moderator(api: Api) -> None:
    made = [hold(api, minutes_ago=10 - i) for i in range(5)]
    first = get(api, "?claim=2", sub="mod-1")
    second = get(api, "?claim=2", sub="mod-2")
    assert ids(first) == made[:2]
    assert ids(second) == made[2:4]
    claim = first.json()["items"][0]["claim"]
    assert claim["moderator_id"] == "mod-1"
    assert first.json()["next"] is None

    # claiming again renews the caller's own leases before taking new ones
    assert ids(get(api, "?claim=3", sub="mod-1")) == [*made[:2], made[4]]
    assert ids(get(api, "?claim=5", sub="mod-3")) == []

    # the plain listing shows every held comment and who holds it
    listed = get(api, sub="mod-3").json()["items"]
    assert [item["claim"]["moderator_id"] for item in listed] == [
        "mod-1",
        "mod-1",
        "mod-2",
        "mod-2",
        "mod-1",
    ]


def test_a_claimed_comment_is_409_claimed_for_others_and_free_after_the_decision(
    api: Api,
) -> None:
    comment_id = hold(api)
    assert ids(get(api, "?claim=1", sub="mod-1")) == [comment_id]
    path = f"/v1/moderation/comments/{comment_id}/decision"
    refused = api.client.post(
        path, json={"action": "reject", "version": 2}, headers=api.auth("mod-2", moderator=True)
    )
    body = problem(refused, 409, "claimed")
    assert body["claimed_by"] == "mod-1"
    decided = api.client.post(
        path, json={"action": "approve", "version": 2}, headers=api.auth("mod-1", moderator=True)
    )
    assert decided.status_code == 200
    with database(api).session() as session:
        comment = session.get(Comment, comment_id)
        assert comment is not None
        assert comment.claimed_by is None and comment.claimed_until is None


def test_an_expired_lease_is_ignored(api: Api) -> None:
    comment_id = hold(api)
    assert ids(get(api, "?claim=1", sub="mod-1")) == [comment_id]
    with database(api).session() as session:
        session.execute(
            update(Comment)
            .where(Comment.id == comment_id)
            .values(claimed_until=utcnow() - timedelta(seconds=1))
        )
    assert get(api, sub="mod-2").json()["items"][0]["claim"] is None
    assert ids(get(api, "?claim=1", sub="mod-2")) == [comment_id]
    decided = api.client.post(
        f"/v1/moderation/comments/{comment_id}/decision",
        json={"action": "approve", "version": 2},
        headers=api.auth("mod-2", moderator=True),
    )
    assert decided.status_code == 200


def test_concurrent_claims_never_share_a_comment(api: Api) -> None:
    made = {hold(api, minutes_ago=60 - i) for i in range(24)}
    db = database(api)
    query = parse_queue_query({"claim": "3"})
    claimed: dict[str, list[str]] = {}
    barrier = threading.Barrier(8)

    def claim(moderator: str) -> None:
        barrier.wait()
        page = read_queue(db, moderator=Principal(sub=moderator), query=query)
        claimed[moderator] = [item["id"] for item in page.items]

    threads = [threading.Thread(target=claim, args=(f"mod-{n}",)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [comment_id for batch in claimed.values() for comment_id in batch]
    assert len(every) == len(set(every)) == 24
    assert set(every) == made
