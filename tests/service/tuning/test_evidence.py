"""The evidence math against a fixture small enough to work out by hand.

Six comments scored on `insult`; the policy in force holds at 0.80. Two were drawn into the
audit sample at rate 0.1, so each of their labels stands for ten approvals.

    id  insult  policy  held by           moderators  weight
    a   0.92    hold    toxicity.insult   rejected    1
    b   0.85    hold    toxicity.insult   approved    1
    c   0.81    hold    toxicity.insult   rejected    1
           (c is also held by en-banned)
    d   0.40    approve                   rejected    10   (audit sample)
    e   0.10    approve                   approved    10   (audit sample)
    f   0.30    hold    links             approved    1
    g   0.95    hold    toxicity.insult   (waiting)   1
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from service.tuning.evidence import (
    THRESHOLDS,
    Hold,
    Observation,
    RuleHit,
    precision_recall,
    queue_over_time,
    rule_evidence,
    score_histogram,
    threshold_for_precision,
)

INSULT = RuleHit("toxicity.insult", "toxicity", 0.8)
BANNED = RuleHit("en-banned", "terms")
LINKS = RuleHit("links", "links")


def seen(
    comment_id: str,
    score: float,
    action: str,
    hits: tuple[RuleHit, ...],
    outcome: str | None,
    weight: float = 1.0,
) -> Observation:
    return Observation(
        comment_id,
        action,
        hits,
        {"insult": score, "toxicity": 0.5},
        outcome,
        weight,  # type: ignore[arg-type]
    )


FIXTURE = [
    seen("a", 0.92, "hold", (INSULT,), "rejected"),
    seen("b", 0.85, "hold", (INSULT,), "approved"),
    seen("c", 0.81, "hold", (INSULT, BANNED), "rejected"),
    seen("d", 0.40, "approve", (), "rejected", weight=10),
    seen("e", 0.10, "approve", (), "approved", weight=10),
    seen("f", 0.30, "hold", (LINKS,), "approved"),
    seen("g", 0.95, "hold", (INSULT,), None),
]


def test_the_thresholds_are_the_twentieths_a_person_would_type() -> None:
    assert THRESHOLDS == (
        0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5,
        0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95,
    )  # fmt: skip


def test_rule_evidence_counts_holds_and_how_moderators_judged_them() -> None:
    found = {(item.rule, item.threshold): item for item in rule_evidence(FIXTURE)}
    insult = found["toxicity.insult", 0.8]
    # a, b, c, g held; g still waiting; b overturned; a and c upheld
    assert (insult.holds, insult.reviewed, insult.overturned, insult.upheld) == (4, 3, 1, 2)
    assert insult.overturn_rate == pytest.approx(1 / 3)
    assert insult.upheld_rate == pytest.approx(2 / 3)
    banned = found["en-banned", None]
    assert (banned.holds, banned.overturned, banned.upheld) == (1, 0, 1)
    assert banned.overturn_rate == 0.0
    links = found["links", None]
    assert (links.holds, links.overturned, links.upheld, links.overturn_rate) == (1, 1, 0, 1.0)
    assert next(item.rule for item in rule_evidence(FIXTURE)) == "toxicity.insult"


def test_a_rule_held_under_two_thresholds_is_two_rows() -> None:
    stricter = RuleHit("toxicity.insult", "toxicity", 0.7)
    rows = rule_evidence([*FIXTURE, seen("h", 0.75, "hold", (stricter,), "approved")])
    assert {(row.rule, row.threshold) for row in rows} >= {
        ("toxicity.insult", 0.8),
        ("toxicity.insult", 0.7),
    }


@pytest.mark.parametrize(
    ("threshold", "tp", "fp", "fn", "tn", "precision", "recall"),
    [
        # held at 0.80: a, b, c (g has no label). d's miss counts ten times.
        (0.8, 2, 1, 10, 11, 2 / 3, 2 / 12),
        (0.85, 1, 1, 11, 11, 1 / 2, 1 / 12),
        (0.9, 1, 0, 11, 12, 1.0, 1 / 12),
        (0.95, 0, 0, 12, 12, None, 0.0),
        # from 0.35 up, d is held too
        (0.35, 12, 1, 0, 11, 12 / 13, 1.0),
        (0.4, 12, 1, 0, 11, 12 / 13, 1.0),
        # at 0.30, f (0.30 exactly) is held as well
        (0.3, 12, 2, 0, 10, 12 / 14, 1.0),
        (0.05, 12, 12, 0, 0, 0.5, 1.0),
    ],
)
def test_precision_and_recall_are_weighted_by_the_sample(
    threshold: float,
    tp: float,
    fp: float,
    fn: float,
    tn: float,
    precision: float | None,
    recall: float,
) -> None:
    (point,) = precision_recall(FIXTURE, "insult", [threshold])
    assert (point.tp, point.fp, point.fn, point.tn) == (tp, fp, fn, tn)
    assert point.precision == pytest.approx(precision)
    assert point.recall == pytest.approx(recall)


def test_every_threshold_is_computed_and_unscored_labels_are_skipped() -> None:
    points = precision_recall(FIXTURE, "insult")
    assert [point.threshold for point in points] == list(THRESHOLDS)
    assert precision_recall(FIXTURE, "threat")[0].precision is None


def test_the_suggested_threshold_is_the_lowest_reaching_the_target() -> None:
    points = precision_recall(FIXTURE, "insult")
    # 0.15 to 0.30 give 12/14 = 0.857 (e, weight 10, is no longer held); 0.35 gives 12/13
    assert threshold_for_precision(points, 0.9) == 0.35
    assert threshold_for_precision(points, 0.85) == 0.15
    # 0.45 to 0.80 give 2/3, 0.85 gives 1/2, 0.90 gives 1
    assert threshold_for_precision(points, 0.95) == 0.9
    assert threshold_for_precision(precision_recall([], "insult"), 0.5) is None


def test_the_histogram_counts_judged_comments_per_bin_unweighted() -> None:
    histogram = score_histogram(FIXTURE, "insult")
    rejected = [0] * 20
    approved = [0] * 20
    rejected[18] += 1  # a 0.92
    approved[17] += 1  # b 0.85
    rejected[16] += 1  # c 0.81
    rejected[8] += 1  # d 0.40
    approved[2] += 1  # e 0.10
    approved[6] += 1  # f 0.30
    assert histogram.rejected == tuple(rejected)
    assert histogram.approved == tuple(approved)
    assert sum(score_histogram([seen("top", 1.0, "hold", (), "rejected")], "insult").rejected) == 1


T0 = datetime(2026, 11, 20, tzinfo=UTC)


def hours(n: float) -> datetime:
    return T0 + timedelta(hours=n)


def test_queue_over_time_counts_holds_reviews_backlog_and_age() -> None:
    holds = [
        Hold(hours(-3), hours(1)),  # waiting when the window opens, reviewed in the 1st hour
        Hold(hours(0.5), None),  # never reviewed
        Hold(hours(1.25), hours(1.5)),  # in and out within the 2nd hour
        Hold(hours(1.75), hours(3.5)),
    ]
    buckets = queue_over_time(holds, start=T0, end=hours(3), bucket=timedelta(hours=1))
    assert [(b.holds, b.reviewed, b.backlog) for b in buckets] == [
        (1, 0, 2),
        (2, 2, 2),
        (0, 0, 2),
    ]
    # at 01:00 the oldest waiting is the -3h hold; it is reviewed at exactly 01:00, so it
    # counts as waiting at the end of the first bucket only
    assert [b.oldest_age_seconds for b in buckets] == [4 * 3600, 1.5 * 3600, 2.5 * 3600]
    assert buckets[-1].end == hours(3)


def test_a_partial_last_bucket_ends_now_and_an_empty_queue_has_no_age() -> None:
    buckets = queue_over_time(
        [Hold(hours(0), hours(0.5))], start=T0, end=hours(1.5), bucket=timedelta(hours=1)
    )
    assert [(b.start, b.end) for b in buckets] == [(hours(0), hours(1)), (hours(1), hours(1.5))]
    assert [b.oldest_age_seconds for b in buckets] == [None, None]
    assert [b.backlog for b in buckets] == [0, 0]
