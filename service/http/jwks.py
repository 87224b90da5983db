"""Signing keys from the identity provider's JWKS endpoint, fetched sparingly.

Anyone can send a token naming a key id (`kid`) we have never seen. PyJWKClient answers an
unknown kid by fetching the key set again (before PyJWT 2.10 for every such token, and in any
release for every one while the endpoint fails), holding an API thread for up to its 30 s
timeout each time: a flood of made-up kids becomes a flood of requests to the identity provider
and a stalled API. Here the set is fetched at most once per `refresh_seconds` whatever the
tokens say, with a short timeout; known keys are answered from memory; a failed fetch keeps the
keys we had, is logged, and the token is refused with 401 like any other token whose key we
don't know.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx
import jwt
import structlog

log = structlog.get_logger(__name__)

MAX_JWKS_BYTES = 1024 * 1024
MAX_KID_CHARS = 256


class JwksKeys:
    """Keys by kid; thread-safe (the API verifies in its thread pool)."""

    def __init__(
        self,
        url: str,
        *,
        algorithms: tuple[str, ...],
        cache_seconds: float,
        refresh_seconds: float,
        timeout_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._url = url
        self._algorithms = algorithms
        self._cache_seconds = cache_seconds
        self._refresh_seconds = refresh_seconds
        self._timeout = timeout_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._keys: Mapping[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None
        self._attempted_at: float | None = None

    def key_for(self, token: str) -> jwt.PyJWK:
        """The key the token names, or jwt.PyJWTError (which the verifier answers with 401)."""
        kid = _kid(token)
        keys = self._keys
        if kid in keys and not self._expired():
            return keys[kid]
        self._refresh_if_due()
        key = self._keys.get(kid)
        if key is None:
            raise jwt.PyJWKClientError("No key in the JWKS matches the token's kid.")
        return key

    def _expired(self) -> bool:
        fetched_at = self._fetched_at
        return fetched_at is None or self._clock() - fetched_at >= self._cache_seconds

    def _refresh_if_due(self) -> None:
        with self._lock:
            now = self._clock()
            if self._attempted_at is not None and now - self._attempted_at < self._refresh_seconds:
                return
            self._attempted_at = now
            try:
                keys = self._fetch()
            except (httpx.HTTPError, ValueError, TypeError, RecursionError, jwt.PyJWTError) as exc:
                # The keys we had stay in use: an identity provider's outage must not sign
                # every reader out, and a key it removed goes at the next successful fetch.
                # (TypeError: PyJWK trips on odd member types, such as a list for `alg`.)
                log.warning("auth.jwks_fetch_failed", error=type(exc).__name__)
                return
            self._keys = keys
            self._fetched_at = now
            log.info("auth.jwks_fetched", keys=len(keys))

    def _fetch(self) -> dict[str, jwt.PyJWK]:
        with (
            httpx.Client(timeout=self._timeout, follow_redirects=False) as client,
            client.stream("GET", self._url, headers={"Accept": "application/json"}) as response,
        ):
            response.raise_for_status()
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > MAX_JWKS_BYTES:
                    raise ValueError(f"the JWKS is larger than {MAX_JWKS_BYTES} bytes")
        document = json.loads(body)
        if not isinstance(document, dict):
            raise ValueError("the JWKS is not a JSON object")
        keys = {
            jwk.key_id: jwk
            for jwk in jwt.PyJWKSet.from_dict(document).keys
            if isinstance(jwk.key_id, str)
            and jwk.key_id
            and jwk.public_key_use in ("sig", None)
            and jwk.algorithm_name in self._algorithms
        }
        if not keys:
            raise ValueError("the JWKS has no RS256 or ES256 signing key with a kid")
        return keys


def _kid(token: str) -> str:
    header: dict[str, Any] = jwt.get_unverified_header(token)
    kid = header.get("kid")
    if not isinstance(kid, str) or not 0 < len(kid) <= MAX_KID_CHARS:
        raise jwt.InvalidTokenError("The token's header needs a 'kid' naming a key in the JWKS.")
    return kid
