"""Bearer tokens: who is asking, checked against an allow-list of algorithms."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import jwt
import structlog

from service.errors import ConfigurationError, ProblemError, invalid_token
from service.settings import Settings

log = structlog.get_logger(__name__)

MODERATOR_ROLE = "moderator"
MAX_TOKEN_BYTES = 8 * 1024
ASYMMETRIC_ALGORITHMS = ("RS256", "ES256")


@dataclass(frozen=True)
class Principal:
    sub: str
    name: str | None = None
    roles: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_moderator(self) -> bool:
        return MODERATOR_ROLE in self.roles


class TokenVerifier:
    """Verifies tokens with exactly one key source: a shared secret, a public key or JWKS."""

    def __init__(self, settings: Settings) -> None:
        self._issuer = settings.jwt_issuer
        self._audience = settings.jwt_audience
        self._leeway = settings.jwt_leeway_seconds
        self._jwks: jwt.PyJWKClient | None = None
        self._key: Any = None
        if settings.jwt_secret is not None:
            self._key = settings.jwt_secret.get_secret_value()
            self._algorithms: tuple[str, ...] = ("HS256",)
        elif settings.jwt_public_key:
            self._key = settings.jwt_public_key
            self._algorithms = ASYMMETRIC_ALGORITHMS
        elif settings.jwks_url:
            self._jwks = jwt.PyJWKClient(settings.jwks_url, cache_keys=True, lifespan=300)
            self._algorithms = ASYMMETRIC_ALGORITHMS
        else:
            raise ConfigurationError(
                "no JWT key configured: set MODERATION_JWT_SECRET, MODERATION_JWT_PUBLIC_KEY "
                "or MODERATION_JWKS_URL"
            )

    @property
    def needs_network(self) -> bool:
        return self._jwks is not None

    def verify(self, authorization: str | None) -> Principal:
        if not authorization:
            raise invalid_token("An Authorization: Bearer token is required.")
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise invalid_token("The Authorization header must be 'Bearer <token>'.")
        if len(token) > MAX_TOKEN_BYTES:
            raise invalid_token("The token is too large.")
        try:
            claims = jwt.decode(
                token,
                self._signing_key(token),
                algorithms=list(self._algorithms),
                issuer=self._issuer,
                audience=self._audience,
                leeway=self._leeway,
                options={"require": ["exp", "sub"], "verify_aud": self._audience is not None},
            )
        except jwt.PyJWTError as exc:
            log.info("auth.rejected", error=type(exc).__name__)
            raise invalid_token("The token is missing, invalid or expired.") from exc
        return _principal(claims)

    def _signing_key(self, token: str) -> Any:
        if self._jwks is None:
            return self._key
        return self._jwks.get_signing_key_from_jwt(token).key


def _principal(claims: dict[str, Any]) -> Principal:
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub or len(sub) > 255:
        raise invalid_token("The token's 'sub' claim must be a non-empty string.")
    roles = claims.get("roles") or []
    if not isinstance(roles, list) or not all(isinstance(role, str) for role in roles):
        raise invalid_token("The token's 'roles' claim must be a list of strings.")
    name = claims.get("name")
    return Principal(sub=sub, name=name if isinstance(name, str) else None, roles=frozenset(roles))


def require_moderator(principal: Principal) -> None:
    if not principal.is_moderator:
        raise ProblemError(403, "forbidden", "This needs the moderator role.")
