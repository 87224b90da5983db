"""Human judgements of comments, gathered from wherever people give them, as one label each.

A label says whether a person found the comment fit to publish (`approved`) or not
(`rejected`). Each source reads its own table; when several judged the same comment, the
latest judgement wins (a moderator who reverses a decision has the last word). Only
judgements of a comment's current revision are read: an author's edit leaves the judgements
of the text before it behind, with the automated decision they were about
(service/store/tuning.py).

Sources of judgements on stored comments: moderators' decisions on held, reported (or
reversed) comments, and audit-sample labels. Readers' reports are not among them. Another
is one function returning `Label`s, added to `LABEL_SOURCES`.

Perspective-style `suggestscore` feedback (`perspective_feedback`) is a label of another
kind: a row names an attribute, a suggested value and a text, but no stored comment, so it
can't be replayed under a policy. Once the worker has scored its text (workers/feedback.py)
it can be placed on a threshold, though: each scored row becomes an `evidence.Observation`
for the one label its attribute names, outcome `rejected` when the suggested value is at
least 0.5 (Coral sends 1 for rejected, 0 for approved). It counts in per-label precision,
recall and score distributions, never in per-rule evidence, which is about policy holds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from service.perspective.analyze import ATTRIBUTES
from service.store.perspective import list_scored_feedback_since
from service.store.tuning import list_reviews_since, list_sample_judgements_since
from service.tuning.evidence import Observation, Outcome

# A moderator's `keep` of a reported comment is an approval. Readers' reports are not
# judgements: a decision `by="reports"` (a take-down) is never read here (list_reviews_since
# reads moderators' decisions only), so a report never moves a threshold.
REVIEW_OUTCOMES: dict[str, Outcome] = {
    "approve": "approved",
    "keep": "approved",
    "reject": "rejected",
}
FEEDBACK_ACTION = "feedback"
FEEDBACK_REJECTED_FROM = 0.5
SAMPLE_OUTCOMES: dict[str, Outcome] = {"fine": "approved", "not_fine": "rejected"}


@dataclass(frozen=True)
class Judgement:
    comment_id: str
    outcome: Outcome
    at: datetime
    source: str


# Labels of the comments the policy decided since the given moment.
JudgementSource = Callable[[Session, datetime], Iterable[Judgement]]


def moderator_reviews(session: Session, since: datetime) -> Iterator[Judgement]:
    for comment_id, action, at in list_reviews_since(session, since=since):
        if action in REVIEW_OUTCOMES:
            yield Judgement(comment_id, REVIEW_OUTCOMES[action], at, "review")


def audit_sample_judgements(session: Session, since: datetime) -> Iterator[Judgement]:
    for comment_id, label, at, _rate in list_sample_judgements_since(session, since=since):
        if label in SAMPLE_OUTCOMES and at is not None:
            yield Judgement(comment_id, SAMPLE_OUTCOMES[label], at, "sample")


LABEL_SOURCES: tuple[JudgementSource, ...] = (moderator_reviews, audit_sample_judgements)


@dataclass(frozen=True)
class FeedbackJudgement:
    label: Judgement
    observation: Observation


def feedback_judgement(
    *,
    feedback_id: int,
    attribute: str,
    value: float,
    scores: Mapping[str, float],
    at: datetime,
) -> FeedbackJudgement | None:
    """A scored suggestscore row as a label of the model label its attribute names; None when
    the model's scores lack that label (a model changed since, or an attribute it never had).

    The observation's action is `feedback`, not a policy action, so per-rule evidence (holds)
    leaves it out; its scores hold that one label only, since the person judged nothing else.
    """
    label = ATTRIBUTES.get(attribute)
    score = scores.get(label) if label is not None else None
    if label is None or score is None:
        return None
    outcome: Outcome = "rejected" if value >= FEEDBACK_REJECTED_FROM else "approved"
    key = f"feedback:{feedback_id}"
    return FeedbackJudgement(
        label=Judgement(key, outcome, at, "suggestscore"),
        observation=Observation(
            comment_id=key,
            action=FEEDBACK_ACTION,
            hits=(),
            scores={label: float(score)},
            outcome=outcome,
        ),
    )


def collect_feedback_judgements(session: Session, *, since: datetime) -> list[FeedbackJudgement]:
    found = (
        feedback_judgement(
            feedback_id=row_id, attribute=attribute, value=value, scores=scores, at=at
        )
        for row_id, attribute, value, scores, at in list_scored_feedback_since(session, since=since)
    )
    return [item for item in found if item is not None]


def collect_judgements(
    session: Session, *, since: datetime, sources: Iterable[JudgementSource] = LABEL_SOURCES
) -> dict[str, Judgement]:
    """The latest label of each comment decided since `since`."""
    latest: dict[str, Judgement] = {}
    for source in sources:
        for label in source(session, since):
            known = latest.get(label.comment_id)
            if known is None or label.at >= known.at:
                latest[label.comment_id] = label
    return latest


def sample_weights(session: Session, *, since: datetime) -> dict[str, float]:
    """1/rate for each comment in the audit sample: how many approvals its label stands for."""
    return {
        comment_id: 1.0 / rate
        for comment_id, _label, _at, rate in list_sample_judgements_since(session, since=since)
        if rate > 0
    }
