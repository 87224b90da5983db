"""The policy in force, reloaded when the file's content changes.

A broken new file keeps the old policy in force and logs why, so an editor's typo never
stops moderation. Workers call `current()` before each task (a content-hash check);
the API also reloads on SIGHUP.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import structlog

from policy import Policy, PolicyError, load_policy

log = structlog.get_logger(__name__)


class PolicyHolder:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._policy = load_policy(path)
        self._digest = _digest(path)

    def current(self) -> Policy:
        try:
            digest = _digest(self.path)
        except OSError as exc:
            log.error("policy.unreadable", path=str(self.path), error=exc.strerror)
            return self._policy
        if digest != self._digest:
            self._reload(digest)
        return self._policy

    def _reload(self, digest: str) -> None:
        with self._lock:
            if digest == self._digest:
                return
            try:
                policy = load_policy(self.path)
            except PolicyError as exc:
                log.error(
                    "policy.reload_rejected",
                    path=str(self.path),
                    error=str(exc),
                    version_in_force=self._policy.version,
                )
            else:
                log.info("policy.reloaded", version=policy.version, previous=self._policy.version)
                self._policy = policy
            self._digest = digest


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
