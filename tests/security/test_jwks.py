"""Tokens verified with keys from a JWKS endpoint (a real http.server on 127.0.0.1 that counts
its visitors): RS256 and ES256 work, made-up kids can't make us hammer the identity provider,
and whatever the endpoint does, a bad token is 401 and never 500."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import jwt
import pytest
import structlog

from service.http.jwks import JwksKeys
from tests.support.api import Api, ApiFactory, problem
from tests.support.forge import JwksServer, KeyPair, b64, claims, hs256, rs256, unsigned

COMMENT = {"article_id": "story-1", "text": "Keys from the identity provider."}


def post(api: Api, token: str) -> Any:
    return api.client.post(
        "/v1/comments", json=COMMENT, headers={"Authorization": f"Bearer {token}"}
    )


def refused(response: Any) -> None:
    problem(response, 401, "invalid_token")
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'


@pytest.fixture
def jwks_api(
    make_api: ApiFactory, jwks_server: JwksServer, rsa_key: KeyPair, ec_key: KeyPair
) -> Api:
    jwks_server.document = {"keys": [rsa_key.jwk("rsa-1"), ec_key.jwk("ec-1")]}
    return make_api(jwks_url=jwks_server.url, jwks_timeout_seconds=1.0)


def test_rs256_and_es256_tokens_verify_against_the_jwks(
    jwks_api: Api, jwks_server: JwksServer, rsa_key: KeyPair, ec_key: KeyPair
) -> None:
    created = post(jwks_api, rsa_key.sign(claims(sub="reader-rs"), kid="rsa-1"))
    assert created.status_code == 202, created.text
    assert created.json()["author_id"] == "reader-rs"
    moderator = ec_key.sign(claims(sub="editor-ec", roles=["moderator"]), kid="ec-1")
    stats = jwks_api.client.get(
        "/v1/moderation/stats", headers={"Authorization": f"Bearer {moderator}"}
    )
    assert stats.status_code == 200, stats.text
    for _ in range(20):
        token = rsa_key.sign(claims(), kid="rsa-1")
        read = jwks_api.client.get("/v1/comments/c-1", headers={"Authorization": f"Bearer {token}"})
        assert read.status_code == 404  # signed in: the comment just isn't there
    assert jwks_server.hits == 1  # known keys are answered from memory


def test_a_token_must_match_the_algorithm_of_the_key_it_names(
    jwks_api: Api, rsa_key: KeyPair, ec_key: KeyPair, other_rsa_key: KeyPair
) -> None:
    refused(post(jwks_api, ec_key.sign(claims(), kid="rsa-1")))
    refused(post(jwks_api, rsa_key.sign(claims(), kid="ec-1")))
    refused(post(jwks_api, other_rsa_key.sign(claims(), kid="rsa-1")))
    refused(
        post(
            jwks_api,
            jwt.encode(claims(), rsa_key.private, algorithm="PS256", headers={"kid": "rsa-1"}),
        )
    )
    # algorithm confusion: an HMAC keyed with the public key the JWKS publishes
    for kid in ["rsa-1", "ec-1"]:
        pem = (rsa_key if kid == "rsa-1" else ec_key).public_pem.encode()
        refused(post(jwks_api, hs256({"alg": "HS256", "kid": kid}, claims(), pem)))
    refused(post(jwks_api, unsigned(claims(), "none", kid="rsa-1")))


def test_a_flood_of_unknown_kids_costs_one_fetch(
    jwks_api: Api, jwks_server: JwksServer, rsa_key: KeyPair, other_rsa_key: KeyPair
) -> None:
    assert post(jwks_api, rsa_key.sign(claims(), kid="rsa-1")).status_code == 202
    assert jwks_server.hits == 1
    for n in range(100):
        signer = rsa_key if n % 2 else other_rsa_key
        refused(post(jwks_api, signer.sign(claims(), kid=uuid.uuid4().hex)))
    # at most one refresh per jwks_refresh_seconds (30 s): the first fetch was just now
    assert jwks_server.hits == 1
    assert post(jwks_api, rsa_key.sign(claims(), kid="rsa-1")).status_code == 202


@pytest.mark.parametrize(
    "kid",
    ["../../etc/passwd", "/etc/passwd", "https://evil.example/jwks.json", "k" * 257, "", "\u0000"],
)
def test_hostile_kids_are_401(jwks_api: Api, rsa_key: KeyPair, kid: str) -> None:
    refused(post(jwks_api, rsa_key.sign(claims(), kid=kid)))


@pytest.mark.parametrize("kid", [None, 7, ["rsa-1"], {"kid": "rsa-1"}])
def test_a_missing_or_non_string_kid_is_401_without_a_fetch(
    jwks_api: Api, jwks_server: JwksServer, rsa_key: KeyPair, kid: Any
) -> None:
    headers = {} if kid is None else {"kid": kid}
    refused(post(jwks_api, rs256(headers, claims(), rsa_key.private)))
    assert jwks_server.hits == 0


def test_a_rotated_key_is_picked_up_after_the_refresh_interval(
    make_api: ApiFactory, jwks_server: JwksServer, rsa_key: KeyPair, other_rsa_key: KeyPair
) -> None:
    jwks_server.document = {"keys": [rsa_key.jwk("old")]}
    api = make_api(jwks_url=jwks_server.url, jwks_refresh_seconds=2.0)
    new_token = other_rsa_key.sign(claims(), kid="new")
    refused(post(api, new_token))
    assert jwks_server.hits == 1
    jwks_server.document = {"keys": [rsa_key.jwk("old"), other_rsa_key.jwk("new")]}
    refused(post(api, new_token))  # too soon to fetch again
    assert jwks_server.hits == 1
    time.sleep(2.1)
    assert post(api, new_token).status_code == 202
    assert jwks_server.hits == 2


def test_an_outage_keeps_known_keys_and_a_removed_key_goes_at_the_next_fetch(
    make_api: ApiFactory, jwks_server: JwksServer, rsa_key: KeyPair, other_rsa_key: KeyPair
) -> None:
    jwks_server.document = {"keys": [rsa_key.jwk("a"), other_rsa_key.jwk("b")]}
    api = make_api(jwks_url=jwks_server.url, jwks_cache_seconds=0.2, jwks_refresh_seconds=0.2)
    assert post(api, rsa_key.sign(claims(), kid="a")).status_code == 202
    jwks_server.status = 503
    time.sleep(0.3)
    with structlog.testing.capture_logs() as logs:
        assert post(api, rsa_key.sign(claims(), kid="a")).status_code == 202
    assert [entry["error"] for entry in logs if entry["event"] == "auth.jwks_fetch_failed"] == [
        "HTTPStatusError"
    ]
    jwks_server.status = 200
    jwks_server.document = {"keys": [rsa_key.jwk("a")]}
    time.sleep(0.3)
    refused(post(api, other_rsa_key.sign(claims(), kid="b")))
    assert post(api, rsa_key.sign(claims(), kid="a")).status_code == 202


@pytest.mark.parametrize(
    ("name", "setup"),
    [
        ("http-500", {"status": 500}),
        ("http-404", {"status": 404}),
        ("redirect", {"status": 302}),
        ("not-json", {"raw": b"<html>login</html>"}),
        ("invalid-utf8", {"raw": b'{"keys": ["\xff"]}'}),
        ("deep-json", {"raw": b"[" * 100_000 + b"]" * 100_000}),
        ("json-array", {"document": [1, 2]}),
        ("keys-not-a-list", {"document": {"keys": "rsa-1"}}),
        ("no-keys", {"document": {"keys": []}}),
        ("junk-keys", {"document": {"keys": [1, "x", None, {"kty": "nope"}, {"kty": ["RSA"]}]}}),
        ("unhashable-alg", {"document": {"keys": [{"kty": "RSA", "alg": ["RS256"], "kid": "x"}]}}),
        ("unhashable-kid", {"document": {"keys": [{"kty": "oct", "k": "eHh4", "kid": ["x"]}]}}),
        ("oversized", {"raw": b'{"keys": [], "pad": "' + b"p" * (2 * 1024 * 1024) + b'"}'}),
        ("slow", {"delay_seconds": 5.0}),
    ],
)
def test_whatever_the_endpoint_does_a_token_is_401_and_the_failure_logged(
    make_api: ApiFactory,
    jwks_server: JwksServer,
    rsa_key: KeyPair,
    name: str,
    setup: dict[str, Any],
) -> None:
    for attribute, value in setup.items():
        setattr(jwks_server, attribute, value)
    api = make_api(jwks_url=jwks_server.url, jwks_timeout_seconds=0.5)
    with structlog.testing.capture_logs() as logs:
        refused(post(api, rsa_key.sign(claims(), kid="rsa-1")))
        refused(post(api, rsa_key.sign(claims(), kid="rsa-2")))
    failures = [entry for entry in logs if entry["event"] == "auth.jwks_fetch_failed"]
    assert len(failures) == 1, logs
    assert failures[0]["log_level"] == "warning"
    assert jwks_server.hits == 1


def test_an_unreachable_endpoint_is_401(make_api: ApiFactory, rsa_key: KeyPair) -> None:
    api = make_api(jwks_url="http://127.0.0.1:9/jwks", jwks_timeout_seconds=0.5)
    with structlog.testing.capture_logs() as logs:
        refused(post(api, rsa_key.sign(claims(), kid="rsa-1")))
    assert [entry["error"] for entry in logs if entry["event"] == "auth.jwks_fetch_failed"] == [
        "ConnectError"
    ]


def test_symmetric_keys_in_the_jwks_are_never_used(
    make_api: ApiFactory, jwks_server: JwksServer, rsa_key: KeyPair
) -> None:
    """An `oct` key would let anyone who read the JWKS mint tokens: it is skipped."""
    secret = b"shared-secret-published-by-mistake-0123456789"
    jwks_server.document = {
        "keys": [{"kty": "oct", "k": b64(secret), "kid": "hmac"}, rsa_key.jwk("rsa-1")]
    }
    api = make_api(jwks_url=jwks_server.url)
    refused(post(api, hs256({"alg": "HS256", "kid": "hmac"}, claims(), secret)))
    assert post(api, rsa_key.sign(claims(), kid="rsa-1")).status_code == 202


# ---- the key source itself, on a clock the test turns ------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def keys(url: str, clock: Clock, **overrides: float) -> JwksKeys:
    settings: dict[str, float] = {
        "cache_seconds": 300.0,
        "refresh_seconds": 30.0,
        "timeout_seconds": 2.0,
        **overrides,
    }
    return JwksKeys(url, algorithms=("RS256", "ES256"), clock=clock, **settings)


def test_unknown_kids_over_time_cost_at_most_one_fetch_per_refresh_interval(
    jwks_server: JwksServer, rsa_key: KeyPair
) -> None:
    jwks_server.document = {"keys": [rsa_key.jwk("rsa-1")]}
    clock = Clock()
    source = keys(jwks_server.url, clock)
    for _ in range(300):  # ten minutes of one made-up kid every two seconds
        with pytest.raises(jwt.PyJWTError):
            source.key_for(rsa_key.sign(claims(), kid=uuid.uuid4().hex))
        clock.now += 2
    assert jwks_server.hits <= 600 / 30 + 1
    assert source.key_for(rsa_key.sign(claims(), kid="rsa-1")).key_id == "rsa-1"


def test_concurrent_unknown_kids_share_one_fetch(jwks_server: JwksServer, rsa_key: KeyPair) -> None:
    jwks_server.document = {"keys": [rsa_key.jwk("rsa-1")]}
    jwks_server.delay_seconds = 0.5
    source = keys(jwks_server.url, Clock())
    errors: list[BaseException] = []

    def verify() -> None:
        try:
            source.key_for(rsa_key.sign(claims(), kid=uuid.uuid4().hex))
        except jwt.PyJWTError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=verify) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(errors) == 40
    assert jwks_server.hits == 1


def test_a_fresh_cache_answers_from_memory_and_a_stale_one_refetches(
    jwks_server: JwksServer, rsa_key: KeyPair
) -> None:
    jwks_server.document = {"keys": [rsa_key.jwk("rsa-1")]}
    clock = Clock()
    source = keys(jwks_server.url, clock, cache_seconds=300.0)
    token = rsa_key.sign(claims(), kid="rsa-1")
    for _ in range(50):
        source.key_for(token)
        clock.now += 5
    assert jwks_server.hits == 1
    clock.now += 60
    source.key_for(token)
    assert jwks_server.hits == 2
