"""Tokens built by hand, so a header and payload can say anything a hostile client might; key
pairs that sign them, and the state of a JWKS endpoint that serves their public halves."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def segment(value: dict[str, Any] | str) -> str:
    return b64((value if isinstance(value, str) else json.dumps(value)).encode())


def hs256(
    header: dict[str, Any] | str,
    payload: dict[str, Any] | str,
    key: bytes,
    digest: str = "sha256",
) -> str:
    """An HMAC-signed token; `digest` picks the hash (sha512 for an HS512 token)."""
    signing_input = f"{segment(header)}.{segment(payload)}"
    signature = hmac.new(key, signing_input.encode(), getattr(hashlib, digest)).digest()
    return f"{signing_input}.{b64(signature)}"


def unsigned(payload: dict[str, Any], alg: str, **header: Any) -> str:
    return f"{segment({'alg': alg, 'typ': 'JWT', **header})}.{segment(payload)}."


def claims(**extra: Any) -> dict[str, Any]:
    return {"sub": "reader-1", "exp": int(time.time()) + 600, **extra}


def rs256(header: dict[str, Any], payload: dict[str, Any], private_key: Any) -> str:
    """An RS256 token whose header PyJWT would refuse to write (a `kid` that isn't a string)."""
    signing_input = f"{segment({'alg': 'RS256', **header})}.{segment(payload)}"
    signature = private_key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{b64(signature)}"


@dataclass(frozen=True)
class KeyPair:
    private: Any
    public_pem: str
    algorithm: str

    def sign(self, claims: dict[str, Any], **headers: Any) -> str:
        return jwt.encode(claims, self.private, algorithm=self.algorithm, headers=headers or None)

    def jwk(self, kid: str) -> dict[str, Any]:
        key = json.loads(
            jwt.algorithms.get_default_algorithms()[self.algorithm].to_jwk(
                self.private.public_key()
            )
        )
        return {**key, "kid": kid, "use": "sig", "alg": self.algorithm}


def public_pem(private: Any) -> str:
    return (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@dataclass
class JwksServer:
    """A JWKS endpoint: `document` is what it serves, `status` how it answers, `hits` counts."""

    url: str
    document: Any = field(default_factory=lambda: {"keys": []})
    status: int = 200
    delay_seconds: float = 0.0
    raw: bytes | None = None
    hits: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
