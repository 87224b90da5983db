"""Development secrets kept in files under MODERATION_VAR_DIR (mode 0600), made on first use:
what `make run` uses where production sets an environment variable."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def ensure_secret_file(path: Path, *, nbytes: int) -> str:
    """The secret saved at `path`, or a new one of `nbytes` random bytes written there."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(nbytes)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secret + "\n")
    return secret
