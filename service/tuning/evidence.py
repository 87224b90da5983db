"""The numbers policy tuning rests on, as pure functions over labelled decisions.

A *label* is a person's judgement of a comment: `rejected` (it should not be published) or
`approved`. Held comments get one when a moderator decides them; auto-approved comments only
when they are drawn into the audit sample, which is why a sampled comment carries a weight
of 1/rate: it stands for every approval the sample skipped. Without the weights, recall would
be measured almost only on comments the policy already held, and would look far too good.

Nothing here touches the database or the policy package, so each figure can be checked by
hand against a small fixture (tests/service/tuning/test_evidence.py).
"""

from __future__ import annotations

import heapq
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

Outcome = Literal["approved", "rejected"]
# 0.05, 0.10, ... 0.95: written as step/20 so each equals the literal a person would type.
THRESHOLDS: tuple[float, ...] = tuple(step / 20 for step in range(1, 20))
HISTOGRAM_BINS = 20


@dataclass(frozen=True)
class RuleHit:
    """One reason the policy gave: its rule id, its kind, and the threshold for label rules."""

    rule: str
    kind: str
    threshold: float | None = None


@dataclass(frozen=True)
class Observation:
    """One comment's automated decision and, if a person judged it, their outcome."""

    comment_id: str
    action: str
    hits: tuple[RuleHit, ...]
    scores: Mapping[str, float]
    outcome: Outcome | None
    weight: float = 1.0


@dataclass(frozen=True)
class RuleEvidence:
    rule: str
    kind: str
    threshold: float | None
    holds: int
    reviewed: int
    overturned: int
    upheld: int

    @property
    def overturn_rate(self) -> float | None:
        return _ratio(self.overturned, self.reviewed)

    @property
    def upheld_rate(self) -> float | None:
        return _ratio(self.upheld, self.reviewed)


@dataclass(frozen=True)
class Point:
    """Holding every comment scoring at least `threshold` on one label, judged against the
    labels: weighted counts of true/false positives and negatives."""

    threshold: float
    tp: float
    fp: float
    fn: float
    tn: float

    @property
    def precision(self) -> float | None:
        return _ratio(self.tp, self.tp + self.fp)

    @property
    def recall(self) -> float | None:
        return _ratio(self.tp, self.tp + self.fn)


@dataclass(frozen=True)
class Histogram:
    """Labelled comments per score bin of one label: bin i covers [i/bins, (i+1)/bins)."""

    approved: tuple[int, ...]
    rejected: tuple[int, ...]


@dataclass(frozen=True)
class Hold:
    held_at: datetime
    reviewed_at: datetime | None


@dataclass(frozen=True)
class Bucket:
    """One stretch of time: holds made and reviews done in it, and the queue at its end."""

    start: datetime
    end: datetime
    holds: int
    reviewed: int
    backlog: int
    oldest_age_seconds: int | None


@dataclass(frozen=True)
class ReportTally:
    """Readers' reports of one reason, or by one reader, and how moderators closed them:
    `upheld` when they rejected the comment, `dismissed` when they kept it. A report is a
    reader's claim, not a judgement: it is measured here, never used as a label."""

    key: str
    reports: int
    upheld: int
    dismissed: int

    @property
    def open(self) -> int:
        return self.reports - self.upheld - self.dismissed

    @property
    def precision(self) -> float | None:
        """Of the reports a moderator closed, the share upheld; None before any is closed."""
        return _ratio(self.upheld, self.upheld + self.dismissed)


def rule_evidence(observations: Iterable[Observation]) -> list[RuleEvidence]:
    """For each rule (and threshold) that held comments: how moderators judged those holds.

    Overturned: held, then approved by a moderator; upheld: held, then rejected. The shares
    are over the holds a moderator has judged, not the ones still waiting.
    """
    counts: dict[RuleHit, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for observation in observations:
        if observation.action != "hold":
            continue
        for hit in dict.fromkeys(observation.hits):
            row = counts[hit]
            row[0] += 1
            if observation.outcome is not None:
                row[1] += 1
                row[2 if observation.outcome == "approved" else 3] += 1
    found = [
        RuleEvidence(
            hit.rule,
            hit.kind,
            hit.threshold,
            holds=holds,
            reviewed=reviewed,
            overturned=overturned,
            upheld=upheld,
        )
        for hit, (holds, reviewed, overturned, upheld) in counts.items()
    ]
    return sorted(found, key=lambda item: (-item.holds, item.rule, item.threshold or 0.0))


def precision_recall(
    observations: Iterable[Observation], label: str, thresholds: Sequence[float] = THRESHOLDS
) -> list[Point]:
    """Precision and recall of "hold when `label` scores at least t", for each t.

    Only labelled comments scored on `label` count, each with its weight.
    """
    scored = [
        (score, observation.outcome == "rejected", observation.weight)
        for observation in observations
        if observation.outcome is not None and (score := _score(observation, label)) is not None
    ]
    points = []
    for threshold in thresholds:
        tp = fp = fn = tn = 0.0
        for score, rejected, weight in scored:
            held = score >= threshold
            if held and rejected:
                tp += weight
            elif held:
                fp += weight
            elif rejected:
                fn += weight
            else:
                tn += weight
        points.append(Point(threshold, tp, fp, fn, tn))
    return points


def threshold_for_precision(points: Sequence[Point], target: float) -> float | None:
    """The lowest threshold whose precision reaches `target`: the most recall at that precision.

    None when no threshold reaches it (or nothing is labelled).
    """
    for point in sorted(points, key=lambda item: item.threshold):
        precision = point.precision
        if precision is not None and precision >= target:
            return point.threshold
    return None


def score_histogram(
    observations: Iterable[Observation], label: str, bins: int = HISTOGRAM_BINS
) -> Histogram:
    """Unweighted: these are the comments moderators actually saw, not an estimate."""
    approved = [0] * bins
    rejected = [0] * bins
    for observation in observations:
        score = _score(observation, label)
        if observation.outcome is None or score is None:
            continue
        index = min(max(int(score * bins), 0), bins - 1)
        (rejected if observation.outcome == "rejected" else approved)[index] += 1
    return Histogram(tuple(approved), tuple(rejected))


def queue_over_time(
    holds: Sequence[Hold], *, start: datetime, end: datetime, bucket: timedelta
) -> list[Bucket]:
    """Hold volume and the queue's state at the end of each bucket from `start` to `end`.

    The queue at a moment is every comment held before it and not reviewed by then; its age
    is how long the oldest of them had waited. The last bucket ends at `end`, not later.
    One sweep through time: a year of holds in weekly buckets costs no more than a day's.
    """
    ordered = sorted(holds, key=lambda hold: hold.held_at)
    held_times = [hold.held_at for hold in ordered]
    # A review can't come before its hold; clamping keeps a clock skew from miscounting.
    reviews = sorted(
        (max(hold.reviewed_at, hold.held_at), index)
        for index, hold in enumerate(ordered)
        if hold.reviewed_at is not None
    )
    review_times = [at for at, _ in reviews]
    waiting: list[tuple[datetime, int]] = []
    reviewed: set[int] = set()
    next_hold = next_review = 0
    buckets = []
    cursor = start
    while cursor < end:
        stop = min(cursor + bucket, end)
        while next_hold < len(ordered) and held_times[next_hold] < stop:
            heapq.heappush(waiting, (held_times[next_hold], next_hold))
            next_hold += 1
        while next_review < len(reviews) and review_times[next_review] < stop:
            reviewed.add(reviews[next_review][1])
            next_review += 1
        while waiting and waiting[0][1] in reviewed:
            heapq.heappop(waiting)
        buckets.append(
            Bucket(
                start=cursor,
                end=stop,
                holds=bisect_left(held_times, stop) - bisect_left(held_times, cursor),
                reviewed=bisect_left(review_times, stop) - bisect_left(review_times, cursor),
                backlog=next_hold - len(reviewed),
                oldest_age_seconds=int((stop - waiting[0][0]).total_seconds()) if waiting else None,
            )
        )
        cursor = stop
    return buckets


def _score(observation: Observation, label: str) -> float | None:
    value = observation.scores.get(label)
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        return None
    return float(value)


def _ratio(part: float, whole: float) -> float | None:
    return part / whole if whole else None
