"""The shadow policy: a second policy file evaluated on live traffic, recorded, never acted on.

It runs after the real decision is recorded and announced, with the same scores and context,
so it can't delay or change that decision; anything that goes wrong in it is logged and
swallowed. The file is loaded on first use rather than at start, so a broken shadow file
never keeps a worker from moderating: it is logged once, and tried again once it changes.

The shadow policy is read with the same model registry and evaluated on the scores the real
decision read: those of the model the real policy routed the comment to. Where the shadow
policy routes the comment's language to another model, its decision would rest on scores of a
model it didn't choose, so none is recorded: the comment is logged (`shadow.not_comparable`)
and left out of the shadow report. (Scoring it again with the shadow's model would cost a
second forward pass, and perhaps a model this worker doesn't hold, on live traffic.)
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import structlog

import policy
from service.db.tables import utcnow
from service.policies import PolicyHolder
from service.store.tuning import add_shadow_decisions
from workers.models import DEFAULT_MODEL_ID

if TYPE_CHECKING:
    from workers.runtime import WorkerRuntime

log = structlog.get_logger(__name__)


class ShadowPolicy:
    def __init__(
        self,
        path: Path,
        *,
        model_labels: Collection[str] | None = None,
        registry: Mapping[str, policy.RegisteredModel] | None = None,
    ) -> None:
        """`registry`: the worker's, so the shadow routes and maps what the real one can."""
        self.path = path
        self._model_labels = model_labels
        self._registry = registry
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
            holder = PolicyHolder(
                self.path, model_labels=self._model_labels, registry=self._registry
            )
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


@dataclass(frozen=True)
class ShadowCase:
    """One comment of a batch, as the real policy saw and decided it, at the revision of its
    text that was decided: the shadow decision is compared with the real one of that revision."""

    comment_id: str
    subject: policy.Comment
    scores: Mapping[str, float]
    context: policy.Context
    real_action: str
    revision: int = field(kw_only=True)


def record_shadow_decisions(rt: WorkerRuntime, cases: Sequence[ShadowCase]) -> list[str | None]:
    """Each case's shadow action, recorded, its rows written in one session; None where there
    is no usable shadow policy, the case is not comparable (the shadow routes it to another
    model) or recording it failed. Never raises."""
    nothing: list[str | None] = [None] * len(cases)
    if rt.shadow is None or not cases:
        return nothing
    try:
        shadow = rt.shadow.current()
    except Exception as exc:
        log.exception(
            "shadow.failed", comment_ids=[c.comment_id for c in cases], error=type(exc).__name__
        )
        return nothing
    if shadow is None:
        return nothing
    decided: list[tuple[ShadowCase, policy.Decision]] = []
    for case in cases:
        try:
            if not shadow.scores_evaluable(case.context):
                log.info(
                    "shadow.not_comparable",
                    comment_id=case.comment_id,
                    model=case.context.model,
                    shadow_model=shadow.route(case.context.language) or DEFAULT_MODEL_ID,
                    language=case.context.language,
                )
                continue
            decided.append((case, shadow.evaluate(case.subject, case.scores, case.context)))
        except Exception as exc:
            log.exception("shadow.failed", comment_id=case.comment_id, error=type(exc).__name__)
    actions: dict[str, str] = {}
    for (case, decision), stored in zip(decided, _store(rt, shadow.version, decided), strict=True):
        if not stored:
            continue
        actions[case.comment_id] = decision.action
        log.info(
            "shadow.recorded",
            comment_id=case.comment_id,
            revision=case.revision,
            action=decision.action,
            agrees=decision.action == case.real_action,
            policy_version=shadow.version,
        )
    return [actions.get(case.comment_id) for case in cases]


def _store(
    rt: WorkerRuntime, version: str, decided: Sequence[tuple[ShadowCase, policy.Decision]]
) -> list[bool]:
    """Whether each row was stored: all in one session or, when the database refuses that,
    each in its own, so that one row it refuses costs no other."""
    if len(decided) > 1:
        try:
            _write(rt, version, decided)
            return [True] * len(decided)
        except Exception as exc:
            log.info("shadow.batch_refused", error=type(exc).__name__)
    stored = []
    for one in decided:
        try:
            _write(rt, version, [one])
            stored.append(True)
        except Exception as exc:
            log.exception("shadow.failed", comment_id=one[0].comment_id, error=type(exc).__name__)
            stored.append(False)
    return stored


def _write(
    rt: WorkerRuntime, version: str, decided: Sequence[tuple[ShadowCase, policy.Decision]]
) -> None:
    with rt.db.session() as session:
        add_shadow_decisions(
            session,
            policy_version=version,
            decisions=[
                (
                    case.comment_id,
                    case.revision,
                    decision.action,
                    [r.to_dict() for r in decision.in_locale(rt.settings.default_locale).reasons],
                )
                for case, decision in decided
            ],
            now=utcnow(),
        )
