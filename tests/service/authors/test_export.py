"""An author's data: GET /v1/moderation/authors/{author_id}/export, one streamed JSON document
with what they wrote and what was decided about it, and no one else's identity."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest
from sqlalchemy import select

from service.authors import export as export_module
from service.db.tables import ModerationAudit
from tests.support.api import Api, api_with_webhooks, problem
from tests.support.author_data import (
    AUTHOR,
    EDITED,
    ERASE_KEY,
    HELD,
    LEGAL_GROUND,
    MODERATOR,
    NOTE,
    NOTICE_EXPLANATION,
    OTHER_READER,
    OTHER_TEXT,
    POSTED,
    QUOTED,
    REPORT_DETAIL,
    WARNING,
    author_headers,
    build_world,
    moderator,
)
from tests.support.holds import database


@pytest.fixture
def api(database_url: str, redis_server: str, tmp_path: Path) -> Iterator[Api]:
    with api_with_webhooks(database_url, redis_server, tmp_path, erase_key=ERASE_KEY) as client:
        yield client


def export(api: Api, author_id: str = AUTHOR, *, sub: str = MODERATOR):  # type: ignore[no-untyped-def]
    return api.client.get(
        f"/v1/moderation/authors/{author_id}/export", headers=api.auth(sub, moderator=True)
    )


def test_the_export_holds_what_they_wrote_and_what_was_decided(api: Api) -> None:
    world = build_world(api)

    response = export(api)

    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["content-disposition"] == f'attachment; filename="author-{AUTHOR}.json"'
    document = response.json()
    assert list(document) == [
        "author_id",
        "exported_at",
        "comments",
        "reports",
        "sanctions",
        "notes",
    ]
    assert document["author_id"] == AUTHOR
    comments = {c["id"]: c for c in document["comments"]}
    assert list(comments) == [world.edited, world.held]  # oldest first
    edited = comments[world.edited]
    assert [(r["revision"], r["text"]) for r in edited["revisions"]] == [(1, POSTED), (2, EDITED)]
    assert [(d["by"], d["action"]) for d in edited["decisions"]] == [
        ("policy", "approve"),
        ("policy", "hold"),
        ("moderator", "approve"),
    ]
    review = edited["decisions"][-1]
    assert review["explanation"] == "Kept after review." and review["reason_code"] == "other"
    assert set(review) == {"by", "action", "at", "reasons", "reason_code", "explanation"}
    held = comments[world.held]
    assert [(r["revision"], r["text"]) for r in held["revisions"]] == [(1, HELD)]
    assert held["decisions"][0]["reasons"] == [
        {
            "kind": "toxicity",
            "rule": "toxicity.insult",
            "message": held["decisions"][0]["reasons"][0]["message"],
        }
    ]
    (made,) = document["reports"]
    assert made["id"] == world.report_made and made["comment_id"] == world.other
    assert (made["detail"], made["legal_ground"], made["explanation"]) == (
        REPORT_DETAIL,
        LEGAL_GROUND,
        NOTICE_EXPLANATION,
    )
    assert made["status"] == "upheld" and made["resolved_at"] is not None
    (warning,) = document["sanctions"]
    assert warning["kind"] == "warning" and warning["explanation"] == WARNING
    assert document["notes"] == [{"text": NOTE, "at": document["notes"][0]["at"]}]


def test_the_export_names_no_one_else(api: Api) -> None:
    build_world(api)
    text = export(api).text
    # Not the moderator (decisions, sanctions, notes, report resolution), not the reader who
    # reported them nor what that reader wrote, not the comment they reported.
    for other in (MODERATOR, OTHER_READER, QUOTED, OTHER_TEXT, "Fine."):
        assert other not in text, other


def test_the_export_matches_its_documented_schema(api: Api) -> None:
    build_world(api)
    document = export(api).json()
    spec = api.client.get("/openapi.json").json()
    operation = spec["paths"]["/v1/moderation/authors/{author_id}/export"]["get"]
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    jsonschema.validate(document, {**schema, "components": spec["components"]})


def test_the_export_is_audited(api: Api) -> None:
    assert export(api, "never-seen").status_code == 200
    with database(api).session() as session:
        rows = list(
            session.scalars(select(ModerationAudit).where(ModerationAudit.action == "export"))
        )
    assert [(row.moderator_id, row.comment_id) for row in rows] == [(MODERATOR, None)]
    assert rows[0].author_ref is not None


def test_an_unknown_author_gets_an_empty_document(api: Api) -> None:
    document = export(api, "never-seen").json()
    assert document["author_id"] == "never-seen"
    assert [document[k] for k in ("comments", "reports", "sanctions", "notes")] == [[]] * 4


def test_the_export_streams_page_by_page(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    world = build_world(api)
    monkeypatch.setattr(export_module, "PAGE", 1)
    with api.client.stream(
        "GET", f"/v1/moderation/authors/{AUTHOR}/export", headers=moderator(api)
    ) as response:
        chunks = list(response.iter_bytes())
    document = json.loads(b"".join(chunks))
    assert [c["id"] for c in document["comments"]] == [world.edited, world.held]
    assert len(chunks) > 1


def test_readers_may_not_export(api: Api) -> None:
    problem(
        api.client.get(f"/v1/moderation/authors/{AUTHOR}/export", headers=author_headers(api)),
        403,
        "forbidden",
    )


def test_an_id_that_is_no_id_is_422(api: Api) -> None:
    problem(export(api, "a" * 256), 422, "invalid_author_id")
    problem(export(api, "tab%09id"), 422, "invalid_author_id")
