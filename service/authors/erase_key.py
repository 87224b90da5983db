"""MODERATION_ERASE_KEY: the key of the HMAC that remembers an erased author's old id (their
sanctions stay in force under it, a second erase finds it). Without it, nothing is erased.

`moderation dev` makes one on first use and saves it in var/erase-key (mode 0600), as it does
the JWT secret, so erasing works in `make run`; production sets the variable.
"""

from __future__ import annotations

from pathlib import Path

from service.authors.sanctions import erase_key
from service.errors import ProblemError
from service.secret_files import ensure_secret_file
from service.settings import Settings

ERASE_KEY_ENV = "MODERATION_ERASE_KEY"
MISSING = (
    f"Erasing needs {ERASE_KEY_ENV} (32 bytes or more, kept secret and never changed: "
    f"e.g. `openssl rand -base64 48`), so that an erased author's sanctions stay in force."
)


def dev_erase_key_path(settings: Settings) -> Path:
    return settings.var_dir / "erase-key"


def ensure_dev_erase_key(settings: Settings) -> str:
    """The key saved in var/erase-key (mode 0600), made on first use."""
    return ensure_secret_file(dev_erase_key_path(settings), nbytes=48)


def require_erase_key(settings: Settings) -> bytes:
    """The key, or 503 erase_key_missing."""
    key = erase_key(settings)
    if key is None:
        raise ProblemError(503, "erase_key_missing", MISSING)
    return key
