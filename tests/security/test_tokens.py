"""Hostile bearer tokens: every one is 401 `invalid_token` with WWW-Authenticate, never a 500,
and never a principal. Key sources: the HS256 secret, an RSA or P-256 public key."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import jwt
import pytest
import structlog
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from service.errors import ConfigurationError
from service.http.auth import TokenVerifier
from service.settings import Settings
from tests.support.api import SECRET, Api, ApiFactory, count_comments, problem
from tests.support.forge import KeyPair, claims, hs256, unsigned

ISSUER = "https://id.example-news.test/"
AUDIENCE = "comment-moderation"
COMMENT = {"article_id": "story-1", "text": "A fair point."}


def now() -> int:
    return int(time.time())


def post(api: Api, token: str) -> Any:
    return api.client.post(
        "/v1/comments", json=COMMENT, headers={"Authorization": f"Bearer {token}"}
    )


def assert_refused(response: Any) -> None:
    problem(response, 401, "invalid_token")
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
def test_unsigned_tokens_are_refused_whatever_the_case_of_none(api: Api, alg: str) -> None:
    token = unsigned(claims(roles=["moderator"]), alg)
    assert_refused(post(api, token))
    assert_refused(
        api.client.get("/v1/moderation/stats", headers={"Authorization": f"Bearer {token}"})
    )
    assert count_comments(api) == 0


@pytest.mark.parametrize(
    ("name", "token"),
    [
        ("bad-signature", jwt.encode(claims(), "x" * 40, algorithm="HS256")),
        (
            "signature-stripped",
            jwt.encode(claims(), SECRET, algorithm="HS256").rsplit(".", 1)[0] + ".",
        ),
        ("expired", jwt.encode(claims(exp=now() - 3600), SECRET, algorithm="HS256")),
        ("no-exp", jwt.encode({"sub": "reader-1"}, SECRET, algorithm="HS256")),
        ("no-sub", jwt.encode({"exp": now() + 600}, SECRET, algorithm="HS256")),
        ("empty-sub", jwt.encode(claims(sub=""), SECRET, algorithm="HS256")),
        ("numeric-sub", hs256({"alg": "HS256"}, claims(sub=42), SECRET.encode())),
        ("future-nbf", jwt.encode(claims(nbf=now() + 3600), SECRET, algorithm="HS256")),
        ("future-iat", jwt.encode(claims(iat=now() + 3600), SECRET, algorithm="HS256")),
        ("exp-string", hs256({"alg": "HS256"}, claims(exp="tomorrow"), SECRET.encode())),
        ("exp-infinite", hs256({"alg": "HS256"}, '{"sub": "a", "exp": 1e400}', SECRET.encode())),
        ("exp-nan", hs256({"alg": "HS256"}, '{"sub": "a", "exp": NaN}', SECRET.encode())),
        ("roles-not-a-list", jwt.encode(claims(roles="moderator"), SECRET, algorithm="HS256")),
        (
            "roles-objects",
            jwt.encode(claims(roles=[{"moderator": True}]), SECRET, algorithm="HS256"),
        ),
        ("hs512", hs256({"alg": "HS512"}, claims(), SECRET.encode(), "sha512")),
        ("alg-list", hs256({"alg": ["HS256"]}, claims(), SECRET.encode())),
        ("kid-list", hs256({"alg": "HS256", "kid": ["a"]}, claims(), SECRET.encode())),
        ("crit", hs256({"alg": "HS256", "crit": ["exp"]}, claims(), SECRET.encode())),
        ("header-array", hs256("[1, 2]", claims(), SECRET.encode())),
        ("payload-array", hs256({"alg": "HS256"}, "[1, 2]", SECRET.encode())),
        (
            "header-deep",
            hs256(
                '{"alg": "HS256", "x": ' + "[" * 2500 + "]" * 2500 + "}", claims(), SECRET.encode()
            ),
        ),
        (
            "payload-deep",
            hs256({"alg": "HS256"}, '{"x": ' + "[" * 2500 + "]" * 2500 + "}", SECRET.encode()),
        ),
    ],
)
def test_bad_hs256_tokens_are_401(api: Api, name: str, token: str) -> None:
    assert_refused(post(api, token))
    assert count_comments(api) == 0


@pytest.mark.parametrize(
    "token",
    [
        "",
        ".",
        "..",
        "...",
        "a.b",
        "a.b.c.d",
        "a.b.c",
        "!!!.@@@.###",
        "eyJhbGciOiJIUzI1NiJ9",
        "e30.e30.",
        "\u00e9t\u00e9.\u00e9t\u00e9.x",
        "a\tb.c",
        "Bearer",
    ],
    ids=lambda token: repr(token)[:20],
)
def test_malformed_segments_are_401(api: Api, token: str) -> None:
    response = api.client.post(
        "/v1/comments",
        json=COMMENT,
        headers={"Authorization": f"Bearer {token}".encode()},  # type: ignore[dict-item]
    )
    assert_refused(response)


@pytest.mark.parametrize(
    "header",
    [
        "Bearer",
        "Bearer ",
        "bearer",
        "Basic cmVhZGVyOnB3",
        "Token abc",
        "Bearer\ta.b.c",
        "Bearer a b",
    ],
)
def test_malformed_authorization_headers_are_401(api: Api, header: str) -> None:
    assert_refused(api.client.post("/v1/comments", json=COMMENT, headers={"Authorization": header}))


def test_an_8_kb_header_is_401_before_any_decoding(api: Api) -> None:
    padded = jwt.encode(claims(), SECRET, algorithm="HS256", headers={"pad": "p" * 8200})
    assert len(padded) > 8 * 1024
    assert_refused(post(api, padded))
    just_under = jwt.encode(claims(), SECRET, algorithm="HS256", headers={"pad": "p" * 5000})
    assert post(api, just_under).status_code == 202


def test_leeway_is_thirty_seconds_either_side_of_exp(api: Api) -> None:
    # Start just after a second ticks, so the request lands within the same second: a token
    # 29 s past exp is still 29 s past when the verifier looks at it.
    time.sleep(1.02 - time.time() % 1)
    issued = now()
    inside = jwt.encode({"sub": "reader-1", "exp": issued - 29}, SECRET, algorithm="HS256")
    outside = jwt.encode({"sub": "reader-1", "exp": issued - 31}, SECRET, algorithm="HS256")
    assert post(api, inside).status_code == 202
    assert_refused(post(api, outside))
    not_yet = jwt.encode(claims(nbf=issued + 29), SECRET, algorithm="HS256")
    too_early = jwt.encode(claims(nbf=issued + 31), SECRET, algorithm="HS256")
    assert post(api, not_yet).status_code == 202
    assert_refused(post(api, too_early))


def test_issuer_and_audience_are_checked_when_configured(make_api: ApiFactory) -> None:
    api = make_api(jwt_issuer=ISSUER, jwt_audience=AUDIENCE)
    good = claims(iss=ISSUER, aud=AUDIENCE)
    assert post(api, jwt.encode(good, SECRET, algorithm="HS256")).status_code == 202
    for bad in [
        {**good, "iss": "https://evil.example/"},
        {**good, "iss": ISSUER.rstrip("/")},
        {**good, "iss": [ISSUER]},
        {**good, "aud": "another-service"},
        {**good, "aud": ["another-service"]},
        {**good, "aud": {"aud": AUDIENCE}},
        {key: value for key, value in good.items() if key != "iss"},
        {key: value for key, value in good.items() if key != "aud"},
    ]:
        assert_refused(post(api, hs256({"alg": "HS256", "typ": "JWT"}, bad, SECRET.encode())))
    assert (
        post(
            api, jwt.encode({**good, "aud": ["x", AUDIENCE]}, SECRET, algorithm="HS256")
        ).status_code
        == 202
    )


@pytest.mark.parametrize(
    "kid", ["../../etc/passwd", "/etc/passwd", "file:///etc/passwd", "%2e%2e%2f", "/dev/null", ""]
)
def test_a_kid_never_picks_the_key(api: Api, kid: str) -> None:
    """A kid naming a file is not a way to choose the HMAC key: with a shared secret the kid is
    ignored, so a token keyed with that file's content (or nothing) proves nothing."""
    for key in [b"", b"root:x:0:0:root:/root:/bin/bash\n", b"../../etc/passwd"]:
        assert_refused(post(api, hs256({"alg": "HS256", "kid": kid}, claims(), key)))
    signed = hs256({"alg": "HS256", "kid": kid}, claims(), SECRET.encode())
    assert post(api, signed).status_code == 202


# ---- public keys ------------------------------------------------------------------------


def test_hs256_signed_with_the_rsa_public_key_is_refused(
    make_api: ApiFactory, rsa_key: KeyPair
) -> None:
    """Algorithm confusion: the public key is public, so an HMAC made with it proves nothing."""
    api = make_api(jwt_public_key=rsa_key.public_pem)
    for key in [rsa_key.public_pem, rsa_key.public_pem.strip(), rsa_key.public_pem.encode()]:
        raw = key if isinstance(key, bytes) else key.encode()
        forged = hs256({"alg": "HS256", "typ": "JWT"}, claims(roles=["moderator"]), raw)
        assert_refused(post(api, forged))
        assert_refused(
            api.client.get("/v1/moderation/stats", headers={"Authorization": f"Bearer {forged}"})
        )
    assert count_comments(api) == 0
    assert post(api, rsa_key.sign(claims())).status_code == 202


def test_rs256_with_a_public_key(
    make_api: ApiFactory, rsa_key: KeyPair, other_rsa_key: KeyPair, ec_key: KeyPair
) -> None:
    api = make_api(jwt_public_key=rsa_key.public_pem)
    created = post(api, rsa_key.sign(claims(sub="reader-rs")))
    assert created.status_code == 202, created.text
    assert created.json()["author_id"] == "reader-rs"
    assert_refused(post(api, other_rsa_key.sign(claims())))
    assert_refused(post(api, ec_key.sign(claims())))
    assert_refused(post(api, jwt.encode(claims(), SECRET, algorithm="HS256")))
    assert_refused(post(api, jwt.encode(claims(), rsa_key.private, algorithm="PS256")))
    assert_refused(post(api, jwt.encode(claims(), rsa_key.private, algorithm="RS512")))


def test_es256_with_a_public_key(make_api: ApiFactory, ec_key: KeyPair, rsa_key: KeyPair) -> None:
    api = make_api(jwt_public_key=ec_key.public_pem)
    created = post(api, ec_key.sign(claims(sub="reader-ec", roles=["moderator"])))
    assert created.status_code == 202, created.text
    moderator = ec_key.sign(claims(sub="editor-ec", roles=["moderator"]))
    stats = api.client.get("/v1/moderation/stats", headers={"Authorization": f"Bearer {moderator}"})
    assert stats.status_code == 200, stats.text
    assert_refused(post(api, rsa_key.sign(claims())))
    forged = hs256({"alg": "HS256"}, claims(), ec_key.public_pem.encode())
    assert_refused(post(api, forged))
    assert_refused(post(api, unsigned(claims(), "none")))


def test_a_public_key_with_escaped_newlines_from_an_env_file_works(
    make_api: ApiFactory, ec_key: KeyPair
) -> None:
    api = make_api(jwt_public_key=ec_key.public_pem.replace("\n", "\\n"))
    assert post(api, ec_key.sign(claims())).status_code == 202


def test_tokens_and_secrets_never_reach_the_logs(api: Api) -> None:
    good = api.token("reader-1")
    bad = jwt.encode(claims(), "y" * 40, algorithm="HS256")
    with structlog.testing.capture_logs() as logs:
        post(api, good)
        post(api, bad)
        api.client.get("/v1/comments/none", headers={"Authorization": f"Bearer {good}"})
    text = json.dumps(logs, default=str)
    assert logs
    for secret in [good, bad, good.split(".")[2], bad.split(".")[2], SECRET]:
        assert secret not in text


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"jwt_public_key": "not a pem"}, "not a PEM public key"),
        ({"jwt_public_key": "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"}, "PEM"),
        ({"jwks_url": "file:///etc/passwd"}, "http(s) URL"),
        ({"jwks_url": "ftp://id.example/jwks"}, "http(s) URL"),
        (
            {"jwt_secret": "s" * 40, "jwks_url": "https://id.example/jwks"},
            "more than one JWT key source is set",
        ),
    ],
)
def test_a_key_source_that_cannot_work_stops_the_process_at_start(
    overrides: dict[str, str], message: str
) -> None:
    """Better one line at start-up than a 401 for every reader."""
    settings = Settings(**overrides)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match=re.escape(message)):
        TokenVerifier(settings)


def test_only_p256_elliptic_curve_keys_are_accepted() -> None:
    private = ec.generate_private_key(ec.SECP384R1())
    pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with pytest.raises(ConfigurationError, match="P-256"):
        TokenVerifier(Settings(jwt_public_key=pem.decode()))  # type: ignore[arg-type]
