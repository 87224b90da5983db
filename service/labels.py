"""Human judgements of comments, gathered from wherever people give them, as one label each.

A label says whether a person found the comment fit to publish (`approved`) or not
(`rejected`). Each source reads its own table; when several judged the same comment, the
latest judgement wins (a moderator who reverses a decision has the last word).

Sources today: moderators' decisions on held (or reversed) comments, and audit-sample
labels. Another source of judgements on stored comments is one function returning `Label`s,
added to `LABEL_SOURCES`.

Perspective-style `suggestscore` feedback (`perspective_feedback`) is not one of them yet: a
row names an attribute, a suggested value and a text, but no stored comment and no model
scores (analyze stores nothing, by design), so it can be neither replayed nor placed on a
threshold. Once the worker scores each feedback text (scores kept beside the row), each row
becomes an `evidence.Observation` for its one label: scores `{label: model score}`, outcome
`rejected` when the suggested value is at least 0.5, added in `insights.build_insights`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from service import store
from service.evidence import Outcome

REVIEW_OUTCOMES: dict[str, Outcome] = {"approve": "approved", "reject": "rejected"}
SAMPLE_OUTCOMES: dict[str, Outcome] = {"fine": "approved", "not_fine": "rejected"}


@dataclass(frozen=True)
class Label:
    comment_id: str
    outcome: Outcome
    at: datetime
    source: str


# Labels of the comments the policy decided since the given moment.
LabelSource = Callable[[Session, datetime], Iterable[Label]]


def moderator_reviews(session: Session, since: datetime) -> Iterator[Label]:
    for comment_id, action, at in store.list_reviews_since(session, since=since):
        if action in REVIEW_OUTCOMES:
            yield Label(comment_id, REVIEW_OUTCOMES[action], at, "review")


def audit_sample_labels(session: Session, since: datetime) -> Iterator[Label]:
    for comment_id, label, at, _rate in store.list_sample_labels_since(session, since=since):
        if label in SAMPLE_OUTCOMES and at is not None:
            yield Label(comment_id, SAMPLE_OUTCOMES[label], at, "sample")


LABEL_SOURCES: tuple[LabelSource, ...] = (moderator_reviews, audit_sample_labels)


def collect_labels(
    session: Session, *, since: datetime, sources: Iterable[LabelSource] = LABEL_SOURCES
) -> dict[str, Label]:
    """The latest label of each comment decided since `since`."""
    latest: dict[str, Label] = {}
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
        for comment_id, _label, _at, rate in store.list_sample_labels_since(session, since=since)
        if rate > 0
    }
