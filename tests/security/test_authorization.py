"""Who may call what, checked route by route from the app's own route table: a route added
tomorrow is checked tomorrow, and one that is neither on the public allow-list nor behind a
token fails here until someone decides which it is."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import jwt
import pytest
from starlette.routing import Mount, Route

from service.http.docs import content_security_policy as docs_policy
from service.http.headers import SECURITY_HEADERS
from tests.support.api import SECRET, Api, problem
from tests.support.databases import BACKENDS
from tests.support.forge import claims
from tests.support.holds import hold
from tests.support.reports import approved
from tests.support.routes import BODIES, fill_comment_id

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)

# Answer without a token. The two pages hold no data: their scripts sign in with a token.
# /docs renders /openapi.json (public already); its assets are under the /static mount.
# The Perspective discovery document describes the API and holds no data; Google's clients
# append their key to its URL, which it ignores.
PUBLIC_PATHS = {
    "/healthz",
    "/readyz",
    "/metrics",
    "/openapi.json",
    "/moderate",
    "/moderate/insights",
    "/docs",
    "/$discovery/rest",
    "/discovery/v1/apis/commentanalyzer/v1alpha1/rest",
}
PUBLIC_MOUNTS = {"/static"}
REPORTS = "/v1/comments/{comment_id}/reports"
# Perspective-compatible routes: an API key (`?key=`), never a reader's token.
KEY_PREFIX = "/v1alpha1/"


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # the template, as routed

    def url(self, comment_id: str) -> str:
        return re.sub(
            r"\{(\w+)(:\w+)?\}",
            lambda match: comment_id if match.group(1) == "comment_id" else "reader-2",
            self.path,
        )

    def body(self, comment_id: str) -> Any:
        body = BODIES.get((self.method, self.path), {})
        return fill_comment_id(body, comment_id)

    @property
    def is_public(self) -> bool:
        return self.path in PUBLIC_PATHS

    @property
    def is_key_authenticated(self) -> bool:
        return self.path.startswith(KEY_PREFIX)

    @property
    def is_moderation(self) -> bool:
        return (
            self.path.startswith(("/v1/moderation/", "/v1/authors/"))
            or (self.method == "PUT" and self.path.startswith("/v1/articles/"))
            or (self.method == "GET" and self.path == "/v1/comments/{comment_id}/history")
        )

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def endpoints(api: Api) -> Iterator[Endpoint]:
    for route in api.client.app.routes:  # type: ignore[attr-defined]
        if isinstance(route, Mount):
            assert route.path in PUBLIC_MOUNTS, f"mount {route.path} is not on the allow-list"
            continue
        assert isinstance(route, Route), route
        for method in sorted((route.methods or {"GET"}) - {"HEAD"}):
            yield Endpoint(method, route.path)


def call(api: Api, endpoint: Endpoint, comment_id: str, headers: dict[str, str]) -> Any:
    return api.client.request(
        endpoint.method,
        endpoint.url(comment_id),
        json=endpoint.body(comment_id) if endpoint.method in {"POST", "PUT", "PATCH"} else None,
        headers=headers,
    )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_the_route_table_is_what_this_suite_expects(api: Api) -> None:
    found = {str(endpoint) for endpoint in endpoints(api)}
    for expected in [
        "POST /v1/comments",
        "GET /v1/comments/{comment_id}",
        "GET /v1/comments/{comment_id}/history",
        "GET /v1/moderation/queue",
        "POST /v1/moderation/comments/{comment_id}/decision",
        "DELETE /v1/moderation/authors/{author_id}/ban",
        "POST /v1/moderation/authors/{author_id}/sanctions",
        "DELETE /v1/moderation/authors/{author_id}/sanctions/{sanction_id}",
        "GET /v1/moderation/authors/{author_id}/export",
        "POST /v1/moderation/authors/{author_id}/erase",
        "GET /v1/moderation/authors/{author_id}",
        "POST /v1/moderation/authors/{author_id}/notes",
        "GET /v1/moderation/authors/{author_id}/notes",
        "PUT /v1/articles/{article_id}/settings",
        "GET /healthz",
    ]:
        assert expected in found


def test_every_route_off_the_allow_list_needs_a_token(api: Api) -> None:
    comment_id = hold(api)
    expired = jwt.encode(claims(exp=1, roles=["moderator"]), SECRET, algorithm="HS256")
    forged = jwt.encode(claims(roles=["moderator"]), "f" * 40, algorithm="HS256")
    wrong: list[str] = []
    checked = 0
    for endpoint in endpoints(api):
        if endpoint.is_public:
            continue
        for headers in [{}, bearer("garbage"), bearer(expired), bearer(forged)]:
            response = call(api, endpoint, comment_id, headers)
            checked += 1
            if endpoint.is_key_authenticated:
                if response.status_code != 403 or "PERMISSION_DENIED" not in response.text:
                    wrong.append(f"{endpoint} {headers}: {response.status_code} {response.text}")
            elif (
                response.status_code != 401
                or response.json().get("code") != "invalid_token"
                or response.headers.get("www-authenticate") != 'Bearer error="invalid_token"'
            ):
                wrong.append(f"{endpoint} {headers}: {response.status_code} {response.text}")
    assert checked > 40
    assert wrong == []
    assert hold_status(api, comment_id) == "held"


def test_key_authenticated_routes_take_no_bearer_token_instead_of_a_key(api: Api) -> None:
    comment_id = hold(api)
    for endpoint in endpoints(api):
        if endpoint.is_key_authenticated:
            response = call(api, endpoint, comment_id, api.auth("editor-1", moderator=True))
            assert response.status_code == 403, f"{endpoint}: {response.text}"
            assert "PERMISSION_DENIED" in response.text
            wrong_key = api.client.request(
                endpoint.method,
                endpoint.url(comment_id) + "?key=' OR 1=1 --",
                json={"comment": {"text": "hi"}, "requestedAttributes": {"TOXICITY": {}}},
            )
            assert wrong_key.status_code == 403, f"{endpoint}: {wrong_key.text}"


def test_every_moderation_route_is_403_forbidden_for_a_reader(api: Api) -> None:
    comment_id = hold(api, author="reader-1")
    reader = api.auth("reader-1")
    wrong: list[str] = []
    moderation = [endpoint for endpoint in endpoints(api) if endpoint.is_moderation]
    assert len(moderation) >= 9
    for endpoint in moderation:
        response = call(api, endpoint, comment_id, reader)
        if response.status_code != 403 or response.json().get("code") != "forbidden":
            wrong.append(f"{endpoint}: {response.status_code} {response.text}")
    assert wrong == []
    assert hold_status(api, comment_id) == "held"
    queue = api.client.get("/v1/moderation/queue", headers=api.auth("editor-1", moderator=True))
    assert [item["claim"] for item in queue.json()["items"]] == [None]


def test_reader_routes_let_a_reader_in(api: Api) -> None:
    """The routes neither public, keyed nor for moderators: a reader's token is enough."""
    comment_id = hold(api, author="reader-1")
    reader = api.auth("reader-1")
    others = [
        endpoint
        for endpoint in endpoints(api)
        if not (endpoint.is_public or endpoint.is_key_authenticated or endpoint.is_moderation)
    ]
    assert {str(endpoint) for endpoint in others} >= {
        "POST /v1/comments",
        "GET /v1/comments/{comment_id}",
        "GET /v1/articles/{article_id}/settings",
        f"POST {REPORTS}",
        f"GET {REPORTS}/{{report_id}}",
    }
    for endpoint in others:
        if endpoint.path.startswith(REPORTS):
            continue
        response = call(api, endpoint, comment_id, reader)
        assert response.status_code < 400, f"{endpoint}: {response.text}"
    # A report is of another reader's published comment, and read by its id.
    published = approved(api, author="reader-2")
    filed = call(api, Endpoint("POST", REPORTS), published, reader)
    assert filed.status_code == 201, filed.text
    read = api.client.get(filed.headers["location"], headers=reader)
    assert read.status_code == 200, read.text


def test_a_reader_cannot_read_or_touch_another_readers_comment(api: Api) -> None:
    theirs = hold(api, author="reader-2", text="Someone else's words.")
    mine = api.auth("reader-1")
    problem(api.client.get(f"/v1/comments/{theirs}", headers=mine), 404, "not_found")
    problem(
        api.client.get(f"/v1/comments/{theirs}", headers={**mine, "Prefer": "wait=1"}),
        404,
        "not_found",
    )
    problem(api.client.get(f"/v1/comments/{theirs}/history", headers=mine), 403, "forbidden")
    problem(
        api.client.post(
            f"/v1/moderation/comments/{theirs}/decision",
            json={"action": "reject", "version": 2},
            headers=mine,
        ),
        403,
        "forbidden",
    )
    # not by guessing a reply onto it either: parent lookups are per article, not per author
    own = api.client.get(f"/v1/comments/{theirs}", headers=api.auth("reader-2"))
    assert own.status_code == 200
    assert hold_status(api, theirs) == "held"


def test_a_missing_comment_and_someone_elses_look_the_same(api: Api) -> None:
    theirs = hold(api, author="reader-2")
    mine = api.auth("reader-1")
    missing = api.client.get("/v1/comments/00000000-0000-4000-8000-000000000000", headers=mine)
    hidden = api.client.get(f"/v1/comments/{theirs}", headers=mine)
    assert missing.status_code == hidden.status_code == 404
    assert missing.json() == hidden.json()


def test_the_moderator_role_comes_only_from_a_signed_token(api: Api) -> None:
    reader = api.auth("reader-1")
    for extra in [
        {"X-Roles": "moderator"},
        {"X-Forwarded-User": "editor-1"},
        {"X-Moderator": "true"},
        {"Cookie": "roles=moderator"},
    ]:
        response = api.client.get("/v1/moderation/stats", headers={**reader, **extra})
        problem(response, 403, "forbidden")
    for roles in [["Moderator"], ["moderator "], "moderator", [["moderator"]], {"moderator": 1}]:
        token = jwt.encode(claims(roles=roles), SECRET, algorithm="HS256")
        response = api.client.get("/v1/moderation/stats", headers=bearer(token))
        assert response.status_code in {401, 403}, (roles, response.text)
    query = api.client.get("/v1/moderation/stats?roles=moderator&role=moderator", headers=reader)
    problem(query, 403, "forbidden")


def test_security_headers_on_every_response(api: Api) -> None:
    comment_id = hold(api)
    responses = []
    for endpoint in endpoints(api):
        for headers in [{}, api.auth("reader-1"), api.auth("editor-1", moderator=True)]:
            responses.append((endpoint, call(api, endpoint, comment_id, headers)))
    responses.append(("404", api.client.get("/nowhere")))
    responses.append(("405", api.client.patch("/v1/comments")))
    responses.append(("static", api.client.get("/static/moderate.js")))
    responses.append(("static docs", api.client.get("/static/docs/swagger-ui-bundle.js")))
    responses.append(("static 404", api.client.get("/static/../../etc/passwd")))
    missing = [
        f"{where} {response.status_code} lacks {name}"
        for where, response in responses
        for name, value in SECURITY_HEADERS.items()
        if response.headers.get(name) != value and not _own_policy(where, name, response)
    ]
    assert missing == []
    assert all(response.status_code < 500 for _, response in responses), [
        (str(where), response.status_code) for where, response in responses
    ]


def _own_policy(where: object, name: str, response: Any) -> bool:
    """/docs alone sends its own policy: today's plus a per-response nonce for its styles."""
    if str(where) != "GET /docs" or name != "Content-Security-Policy":
        return False
    sent = response.headers.get(name, "")
    nonce = re.search(r"'nonce-([\w-]+)'", sent)
    return nonce is not None and sent == docs_policy(nonce[1])


def test_static_files_stay_in_their_folder(api: Api) -> None:
    for path in [
        "/static/../../etc/passwd",
        "/static/..%2f..%2fetc%2fpasswd",
        "/static/%2e%2e/%2e%2e/etc/passwd",
        "/static/..%5c..%5cetc%5cpasswd",
        "/static//etc/passwd",
        "/static/%00",
    ]:
        response = api.client.get(path)
        assert response.status_code in {400, 404}, (path, response.status_code)
        assert "root:" not in response.text


def hold_status(api: Api, comment_id: str) -> str:
    response = api.client.get(
        f"/v1/comments/{comment_id}", headers=api.auth("editor-1", moderator=True)
    )
    assert response.status_code == 200, response.text
    status: str = response.json()["status"]
    return status
