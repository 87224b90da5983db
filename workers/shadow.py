"""The shadow policy: a second policy file evaluated on live traffic, recorded, never acted on.

It runs after the real decision is recorded and announced, with the same scores and context,
so it can't delay or change that decision; anything that goes wrong in it is logged and
swallowed. The file is loaded on first use rather than at start, so a broken shadow file
never keeps a worker from moderating: it is logged once, and tried again once it changes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import structlog

import policy
from service import store
from service.models import utcnow
from service.policies import PolicyHolder

if TYPE_CHECKING:
    from workers.runtime import WorkerRuntime

log = structlog.get_logger(__name__)


class ShadowPolicy:
    def __init__(self, path: Path, *, model_labels: Collection[str] | None = None) -> None:
        self.path = path
        self._model_labels = model_labels
        self._holder: PolicyHolder | None = None
        self._unusable: str | None = None

    def current(self) -> policy.Policy | None:
        """The shadow policy in force, or None while its file can't be read or loaded."""
        if self._holder is not None:
            return self._holder.current()
        try:
            state = hashlib.sha256(self.path.read_bytes()).hexdigest()
        except OSError as exc:
            state = f"unreadable: {exc.strerror}"
            self._give_up(state, error=exc.strerror or type(exc).__name__)
            return None
        if state == self._unusable:
            return None
        try:
            holder = PolicyHolder(self.path, model_labels=self._model_labels)
        except policy.PolicyError as exc:
            self._give_up(state, error=str(exc))
            return None
        self._holder = holder
        loaded = holder.current()
        log.info("shadow.policy_loaded", path=str(self.path), version=loaded.version)
        return loaded

    def _give_up(self, state: str, *, error: str) -> None:
        if state != self._unusable:
            log.error("shadow.policy_unusable", path=str(self.path), error=error)
        self._unusable = state


def record_shadow_decision(
    rt: WorkerRuntime,
    subject: policy.Comment,
    scores: Mapping[str, float],
    context: policy.Context,
    *,
    comment_id: str,
    real_action: str,
) -> str | None:
    """The shadow policy's action, recorded; None when there is no usable shadow policy or
    recording it failed. Never raises."""
    if rt.shadow is None:
        return None
    try:
        shadow = rt.shadow.current()
        if shadow is None:
            return None
        decision = shadow.evaluate(subject, scores, context)
        with rt.db.session() as session:
            store.add_shadow_decision(
                session,
                comment_id=comment_id,
                policy_version=shadow.version,
                action=decision.action,
                reasons=[reason.to_dict() for reason in decision.reasons],
                now=utcnow(),
            )
    except Exception as exc:
        log.exception("shadow.failed", comment_id=comment_id, error=type(exc).__name__)
        return None
    log.info(
        "shadow.recorded",
        comment_id=comment_id,
        action=decision.action,
        agrees=decision.action == real_action,
        policy_version=shadow.version,
    )
    return decision.action
