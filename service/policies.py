"""The policy in force, reloaded when its file (or a term list it names) changes.

A broken new file keeps the old policy in force and logs why, so an editor's typo never
stops moderation. Workers check before each task (`check_every=0`); the API checks at most
once a second and at once on SIGHUP. Celery restarts a worker on SIGHUP, so workers never
rely on it.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Collection
from pathlib import Path

import structlog

from policy import Policy, PolicyError, load_policy

log = structlog.get_logger(__name__)


class PolicyHolder:
    def __init__(
        self, path: Path, *, check_every: float = 0.0, model_labels: Collection[str] | None = None
    ) -> None:
        self.path = path
        self._check_every = check_every
        self._model_labels = model_labels
        self._lock = threading.Lock()
        self._policy = load_policy(path, model_labels=model_labels)
        self._digest = self._fingerprint(self._policy)
        self._checked_at = time.monotonic()

    def current(self) -> Policy:
        now = time.monotonic()
        if now - self._checked_at >= self._check_every:
            self._checked_at = now
            self.reload_if_changed()
        return self._policy

    def reload_if_changed(self) -> None:
        try:
            digest = self._fingerprint(self._policy)
        except OSError as exc:
            log.error("policy.unreadable", path=str(self.path), error=exc.strerror)
            return
        if digest == self._digest:
            return
        with self._lock:
            if digest == self._digest:
                return
            try:
                policy = load_policy(self.path, model_labels=self._model_labels)
            except PolicyError as exc:
                log.error(
                    "policy.reload_rejected",
                    error=str(exc),
                    version_in_force=self._policy.version,
                )
            else:
                log.info("policy.reloaded", version=policy.version, previous=self._policy.version)
                self._policy = policy
                digest = self._fingerprint(policy)
            self._digest = digest

    def _fingerprint(self, policy: Policy) -> str:
        digest = hashlib.sha256(self.path.read_bytes())
        for term_file in policy.term_files:
            digest.update(term_file.read_bytes())
        return digest.hexdigest()
