"""Start-up checks for the production processes: each failure is one line naming what is
missing, never a traceback, and never a silent fallback."""

from __future__ import annotations

import base64
import binascii
from urllib.parse import urlsplit

import redis
from sqlalchemy import text
from sqlalchemy.engine import make_url

from policy import PolicyError
from service.db.engine import Database
from service.db.migrate import is_up_to_date
from service.errors import ConfigurationError
from service.events import event_names
from service.policies import check_policy_file
from service.settings import Settings

WHSEC_PREFIX = "whsec_"
MIN_WEBHOOK_KEY_BYTES = 24


def check_jwt(settings: Settings) -> None:
    if settings.jwt_key_source is None:
        raise ConfigurationError(
            "no JWT key: set MODERATION_JWT_SECRET (HS256), MODERATION_JWT_PUBLIC_KEY "
            "(RS256/ES256 PEM) or MODERATION_JWKS_URL"
        )


def check_database(settings: Settings) -> None:
    url = settings.effective_database_url
    shown = make_url(url).render_as_string(hide_password=True)
    database = Database(url)
    try:
        with database.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        if not is_up_to_date(database):
            raise ConfigurationError(
                f"the database at {shown} is not migrated: run `moderation migrate`"
            )
    except ConfigurationError:
        raise
    except Exception as exc:
        raise ConfigurationError(
            f"the database at {shown} is not reachable ({type(exc).__name__}); "
            "check MODERATION_DATABASE_URL"
        ) from exc
    finally:
        database.dispose()


def check_redis(settings: Settings) -> None:
    broker = settings.effective_broker_url
    if settings.redis_url:
        _ping(settings.redis_url, "MODERATION_REDIS_URL")
    if broker.startswith("redis") and broker != settings.redis_url:
        _ping(broker, "MODERATION_BROKER_URL")


def _ping(url: str, name: str) -> None:
    shown = make_url_safe(url)
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2).ping()
    except redis.RedisError as exc:
        raise ConfigurationError(
            f"Redis at {shown} is not answering ({type(exc).__name__}); check {name}"
        ) from exc


def check_policy(settings: Settings) -> None:
    """Strict: a broken file stops the start, whatever last good copy there is."""
    try:
        check_policy_file(settings)
    except PolicyError as exc:
        raise ConfigurationError(f"invalid policy: {exc}") from exc


def check_webhook(settings: Settings) -> None:
    """A webhook URL needs its signing secret, and the secret must decode: otherwise every
    event would be retried to no end, or signed in a way no receiver can verify. The events
    chosen must all exist, URL or not: a typo would silently send nothing of that kind."""
    event_names(settings.webhook_events)
    if settings.webhook_url is None:
        return
    parts = urlsplit(settings.webhook_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigurationError("MODERATION_WEBHOOK_URL must be an http:// or https:// URL")
    if settings.webhook_secret is None:
        raise ConfigurationError(
            "MODERATION_WEBHOOK_URL is set but MODERATION_WEBHOOK_SECRET is not: set the "
            "whsec_<base64> secret the site verifies signatures with, or unset the URL"
        )
    problem = _webhook_secret_problem(settings.webhook_secret.get_secret_value())
    if problem is not None:
        raise ConfigurationError(f"invalid MODERATION_WEBHOOK_SECRET: {problem}")


def _webhook_secret_problem(secret: str) -> str | None:
    """What is wrong with a Standard Webhooks secret, never quoting it."""
    if not secret.startswith(WHSEC_PREFIX):
        return f"it must be {WHSEC_PREFIX} followed by base64"
    encoded = secret.removeprefix(WHSEC_PREFIX)
    try:
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except binascii.Error:
        return f"the part after {WHSEC_PREFIX} is not base64"
    if len(key) < MIN_WEBHOOK_KEY_BYTES:
        return (
            f"the key is {len(key)} bytes; Standard Webhooks asks for "
            f"{MIN_WEBHOOK_KEY_BYTES} to 64 random bytes"
        )
    return None


def make_url_safe(url: str) -> str:
    """The URL without its password, for messages."""
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        credentials, _, host = rest.rpartition("@")
        user = credentials.split(":")[0]
        rest = f"{user}:***@{host}" if ":" in credentials else f"{user}@{host}"
    return f"{scheme}{sep}{rest}"
