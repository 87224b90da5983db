"""Start-up checks for the production processes: each failure is one line naming what is
missing, never a traceback, and never a silent fallback."""

from __future__ import annotations

import redis
from sqlalchemy import text
from sqlalchemy.engine import make_url

from policy import PolicyError, load_policy
from service.db import Database
from service.errors import ConfigurationError
from service.migrate import is_up_to_date
from service.settings import Settings


def check_jwt(settings: Settings) -> None:
    if not settings.jwt_configured:
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
    try:
        load_policy(settings.policy)
    except PolicyError as exc:
        raise ConfigurationError(f"invalid policy: {exc}") from exc


def make_url_safe(url: str) -> str:
    """The URL without its password, for messages."""
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        credentials, _, host = rest.rpartition("@")
        user = credentials.split(":")[0]
        rest = f"{user}:***@{host}" if ":" in credentials else f"{user}@{host}"
    return f"{scheme}{sep}{rest}"
