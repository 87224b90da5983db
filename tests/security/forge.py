"""Tokens built by hand, so a header and payload can say anything a hostile client might."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

from cryptography.hazmat.primitives import hashes
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
