"""Signing tokens for development and tests with the shared secret."""

from __future__ import annotations

import time
from pathlib import Path

import jwt

from service.errors import ConfigurationError
from service.secret_files import ensure_secret_file
from service.settings import Settings


def dev_secret_path(settings: Settings) -> Path:
    return settings.var_dir / "jwt-secret"


def ensure_dev_secret(settings: Settings) -> str:
    """The secret saved in var/jwt-secret (mode 0600), made on first use."""
    return ensure_secret_file(dev_secret_path(settings), nbytes=32)


def signing_secret(settings: Settings) -> str:
    source = settings.jwt_key_source  # it refuses two or more
    if settings.jwt_secret is not None:
        return settings.jwt_secret.get_secret_value()
    if source is not None:
        raise ConfigurationError(
            "only a public key or JWKS is configured: tokens come from your site's identity "
            "provider, so `moderation token` can't sign one"
        )
    return ensure_dev_secret(settings)


def issue_token(
    settings: Settings,
    sub: str,
    *,
    moderator: bool = False,
    ttl: int = 3600,
    name: str | None = None,
) -> str:
    now = int(time.time())
    claims: dict[str, object] = {"sub": sub, "iat": now, "exp": now + ttl}
    if moderator:
        claims["roles"] = ["moderator"]
    if name:
        claims["name"] = name
    if settings.jwt_issuer:
        claims["iss"] = settings.jwt_issuer
    if settings.jwt_audience:
        claims["aud"] = settings.jwt_audience
    return jwt.encode(claims, signing_secret(settings), algorithm="HS256")
