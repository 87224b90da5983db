"""How an erased author is named afterwards: a random pseudonym (never derived from their
id), and the keyed HMAC of their old id that keeps their sanctions in force."""

from __future__ import annotations

import hashlib
import hmac
import uuid

PSEUDONYM_PREFIX = "erased:"


def new_pseudonym() -> str:
    return PSEUDONYM_PREFIX + str(uuid.uuid4())


def is_pseudonym(author_id: str) -> bool:
    return author_id.startswith(PSEUDONYM_PREFIX)


def author_hmac(key: bytes, author_id: str) -> str:
    """HMAC-SHA256 of the id under MODERATION_ERASE_KEY, hex: without the key, the id can't
    be recovered from it, nor tried against it."""
    return hmac.new(key, author_id.encode(), hashlib.sha256).hexdigest()
