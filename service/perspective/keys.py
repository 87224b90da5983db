"""API keys for the Perspective-compatible API, and each key's queries-per-second quota.

A key is `cmk_` and 32 URL-safe random characters (192 bits). It is printed once, when made;
the database keeps only its SHA-256, which is enough for a random key of this length (no
salt or slow hash is needed: there is nothing to guess from). Clients send it as Perspective
clients do, `?key=KEY` (or the `X-Goog-Api-Key` header); the query string is never logged.

The quota is a fixed one-second window per key in Redis, counted and checked by one script
on Redis's own clock, so every API process shares it. If Redis is down the quota is skipped:
a client is never refused for our outage.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

import redis
import structlog

from service.broker.contract import PERSPECTIVE_QUOTA_PREFIX
from service.db.engine import Database
from service.errors import ModerationError
from service.perspective.analyze import PerspectiveError
from service.store.perspective import (
    create_perspective_key,
    find_active_perspective_key,
    get_perspective_key_or_none,
    list_perspective_keys,
    revoke_perspective_key,
)

log = structlog.get_logger(__name__)

KEY_PREFIX = "cmk_"
KEY_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
DEFAULT_QPS = 10

# KEYS[1] the key's counter prefix; ARGV[1] its queries per second. 1: admitted (and counted).
_ADMIT = """
local now = redis.call('TIME')
local window = KEYS[1] .. ':' .. now[1]
local count = redis.call('INCR', window)
if count == 1 then redis.call('EXPIRE', window, 2) end
if count > tonumber(ARGV[1]) then return 0 end
return 1
"""


class KeyManagementError(ModerationError):
    """`moderation keys ...` can't do what was asked: the message says why, in one line."""


@dataclass(frozen=True)
class KeyGrant:
    name: str
    qps: int


@dataclass(frozen=True)
class KeyListing:
    name: str
    qps: int
    created_at: datetime
    revoked_at: datetime | None


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def create_key(db: Database, *, name: str, qps: int, now: datetime) -> str:
    """A new key named `name`; the caller shows it once, since it is never stored."""
    if not KEY_NAME.fullmatch(name):
        raise KeyManagementError(
            f"key name {name!r}: use 1-100 letters, digits, '.', '_' or '-', starting with "
            "a letter or digit"
        )
    if qps < 1:
        raise KeyManagementError("--qps must be at least 1")
    key = KEY_PREFIX + secrets.token_urlsafe(24)
    with db.session() as session:
        if get_perspective_key_or_none(session, name=name) is not None:
            raise KeyManagementError(f"a key named {name!r} already exists; names are not reused")
        create_perspective_key(session, name=name, key_hash=hash_key(key), qps=qps, now=now)
    log.info("perspective.key_created", name=name, qps=qps)
    return key


def list_keys(db: Database) -> list[KeyListing]:
    with db.session() as session:
        return [
            KeyListing(key.name, key.qps, key.created_at, key.revoked_at)
            for key in list_perspective_keys(session)
        ]


def revoke_key(db: Database, *, name: str, now: datetime) -> None:
    with db.session() as session:
        if revoke_perspective_key(session, name=name, now=now) is None:
            raise KeyManagementError(f"no key named {name!r}")
    log.info("perspective.key_revoked", name=name)


def authenticate_key(db: Database, key: str | None) -> KeyGrant:
    """The key's name and quota, or Google's 403 for a missing, unknown or revoked key."""
    if not key:
        raise PerspectiveError(403, "PERMISSION_DENIED", "The request is missing a valid API key.")
    with db.session() as session:
        found = find_active_perspective_key(session, key_hash=hash_key(key))
        grant = None if found is None else KeyGrant(found.name, found.qps)
    if grant is None:
        raise PerspectiveError(
            403, "PERMISSION_DENIED", "API key not valid. Please pass a valid API key."
        )
    return grant


class QuotaGate:
    def __init__(self, client: redis.Redis | None) -> None:
        self._admit = client.register_script(_ADMIT) if client is not None else None

    def check(self, grant: KeyGrant) -> None:
        """Count this request against the key's quota; Google's 429 when it is used up."""
        if self._admit is None:
            return
        try:
            admitted = self._admit(keys=[PERSPECTIVE_QUOTA_PREFIX + grant.name], args=[grant.qps])
        except redis.RedisError as exc:
            log.warning(
                "perspective.quota_skipped", reason="redis unavailable", error=type(exc).__name__
            )
            return
        if not int(admitted):
            raise PerspectiveError(
                429,
                "RESOURCE_EXHAUSTED",
                f"Quota exceeded for quota metric 'Analysis requests' and limit "
                f"'{grant.qps} requests per second' of key '{grant.name}'.",
                headers={"Retry-After": "1"},
            )
