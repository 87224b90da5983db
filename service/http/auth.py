"""Bearer tokens: who is asking, checked against an allow-list of algorithms."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import jwt
import structlog
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from service.comments.text import has_invalid_characters
from service.errors import ConfigurationError, ProblemError, invalid_token
from service.http.jwks import JwksKeys
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
        self._jwks: JwksKeys | None = None
        self._key: Any = None
        if settings.jwt_key_source is None:  # it refuses two or more, too
            raise ConfigurationError(
                "no JWT key configured: set MODERATION_JWT_SECRET, MODERATION_JWT_PUBLIC_KEY "
                "or MODERATION_JWKS_URL"
            )
        if settings.jwt_secret is not None:
            self._key = settings.jwt_secret.get_secret_value()
            self._algorithms: tuple[str, ...] = ("HS256",)
        elif settings.jwt_public_key is not None:
            self._key, self._algorithms = _public_key(settings.jwt_public_key)
        else:
            jwks_url = settings.jwks_url or ""
            if not jwks_url.startswith(("https://", "http://")):
                raise ConfigurationError("MODERATION_JWKS_URL must be an http(s) URL")
            self._jwks = JwksKeys(
                jwks_url,
                algorithms=ASYMMETRIC_ALGORITHMS,
                cache_seconds=settings.jwks_cache_seconds,
                refresh_seconds=settings.jwks_refresh_seconds,
                timeout_seconds=settings.jwks_timeout_seconds,
            )
            self._algorithms = ASYMMETRIC_ALGORITHMS

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
            key, algorithms = self._signing_key(token)
            claims = jwt.decode(
                token,
                key,
                algorithms=list(algorithms),
                issuer=self._issuer,
                audience=self._audience,
                leeway=self._leeway,
                options={"require": ["exp", "sub"], "verify_aud": self._audience is not None},
            )
        except jwt.PyJWTError as exc:
            log.info("auth.rejected", error=type(exc).__name__)
            raise invalid_token("The token is missing, invalid or expired.") from exc
        return _principal(claims)

    def _signing_key(self, token: str) -> tuple[Any, tuple[str, ...]]:
        """The key, and the one algorithm it may verify: a token never picks its own."""
        if self._jwks is None:
            return self._key, self._algorithms
        jwk = self._jwks.key_for(token)
        return jwk.key, (jwk.algorithm_name,)


def _public_key(pem: str) -> tuple[Any, tuple[str, ...]]:
    """The PEM key, loaded once at start-up, and the algorithm its type allows."""
    try:
        key = load_pem_public_key(pem.replace("\\n", "\n").encode())
    except (ValueError, TypeError) as exc:
        raise ConfigurationError("MODERATION_JWT_PUBLIC_KEY is not a PEM public key") from exc
    if isinstance(key, rsa.RSAPublicKey):
        return key, ("RS256",)
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        return key, ("ES256",)
    raise ConfigurationError("MODERATION_JWT_PUBLIC_KEY must be an RSA or a P-256 EC public key")


def _principal(claims: dict[str, Any]) -> Principal:
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub or len(sub) > 255 or has_invalid_characters(sub):
        raise invalid_token("The token's 'sub' claim must be a non-empty string.")
    roles = claims.get("roles") or []
    if not isinstance(roles, list) or not all(isinstance(role, str) for role in roles):
        raise invalid_token("The token's 'roles' claim must be a list of strings.")
    name = claims.get("name")
    if not isinstance(name, str) or len(name) > 255 or has_invalid_characters(name):
        name = None
    return Principal(sub=sub, name=name, roles=frozenset(roles))


def require_moderator(principal: Principal) -> None:
    if not principal.is_moderator:
        raise ProblemError(403, "forbidden", "This needs the moderator role.")
