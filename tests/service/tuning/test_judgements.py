"""Turning a scored suggestscore row into a label: which model label, which outcome, and
where it counts (per-label evidence) or doesn't (per-rule evidence); and which decisions are
judgements at all (a moderator's keep is; a take-down by readers' reports is not)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from service.db.engine import Database
from service.store.comments import create_comment
from service.store.decisions import add_decision
from service.tuning import evidence
from service.tuning.judgements import collect_judgements, feedback_judgement

AT = datetime(2026, 11, 30, tzinfo=UTC)
SCORES = {
    "toxicity": 0.9,
    "severe_toxicity": 0.1,
    "obscene": 0.6,
    "identity_attack": 0.2,
    "insult": 0.7,
    "threat": 0.05,
    "female": 0.99,
}


@pytest.mark.parametrize(
    ("attribute", "value", "label", "outcome"),
    [
        ("TOXICITY", 1.0, "toxicity", "rejected"),
        ("TOXICITY", 0.0, "toxicity", "approved"),
        ("TOXICITY", 0.5, "toxicity", "rejected"),
        ("TOXICITY", 0.49, "toxicity", "approved"),
        ("SEVERE_TOXICITY", 1.0, "severe_toxicity", "rejected"),
        ("IDENTITY_ATTACK", 0.0, "identity_attack", "approved"),
        ("INSULT", 1.0, "insult", "rejected"),
        ("PROFANITY", 1.0, "obscene", "rejected"),
        ("THREAT", 0.0, "threat", "approved"),
    ],
)
def test_a_feedback_row_is_a_label_of_the_attributes_model_label(
    attribute: str, value: float, label: str, outcome: str
) -> None:
    found = feedback_judgement(
        feedback_id=7, attribute=attribute, value=value, scores=SCORES, at=AT
    )
    assert found is not None
    assert found.observation.scores == {label: SCORES[label]}
    assert found.observation.outcome == outcome
    assert found.observation.action == "feedback"
    assert found.observation.hits == ()
    assert found.observation.weight == 1.0
    assert (found.label.comment_id, found.label.outcome, found.label.at, found.label.source) == (
        "feedback:7",
        outcome,
        AT,
        "suggestscore",
    )


@pytest.mark.parametrize(
    "attribute",
    # The model scored no sexual_explicit (an `original` model); an attribute we never map.
    ["SEXUALLY_EXPLICIT", "LIKELY_TO_REJECT"],
)
def test_feedback_the_scores_cant_place_is_no_label(attribute: str) -> None:
    assert (
        feedback_judgement(feedback_id=1, attribute=attribute, value=1, scores=SCORES, at=AT)
        is None
    )


def test_feedback_counts_in_precision_and_recall_but_not_in_rule_evidence() -> None:
    rows = [
        ("TOXICITY", 1.0, {"toxicity": 0.8}),
        ("TOXICITY", 0.0, {"toxicity": 0.6}),
        ("TOXICITY", 1.0, {"toxicity": 0.3}),
        ("INSULT", 0.0, {"toxicity": 0.99, "insult": 0.1}),
    ]
    observations = []
    for i, (attribute, value, scores) in enumerate(rows):
        found = feedback_judgement(
            feedback_id=i, attribute=attribute, value=value, scores=scores, at=AT
        )
        assert found is not None
        observations.append(found.observation)
    point = evidence.precision_recall(observations, "toxicity", [0.5])[0]
    # Held at 0.5: 0.8 (rejected) and 0.6 (approved); missed: 0.3 (rejected). The INSULT
    # row's toxicity score isn't a judgement of toxicity, so it doesn't count.
    assert (point.tp, point.fp, point.fn, point.tn) == (1, 1, 1, 0)
    assert evidence.rule_evidence(observations) == []


def test_a_keep_is_an_approval_and_a_take_down_by_reports_is_no_judgement(db: Database) -> None:
    now = datetime.now(UTC)
    made = {}
    with db.session() as session:
        for key in ("kept", "hidden", "rejected"):
            comment = create_comment(
                session,
                article_id="news-1",
                parent_id=None,
                author_id=f"author-{key}",
                author_name=None,
                text="Published, then reported.",
                idempotency_key=None,
                body_hash=None,
                now=now - timedelta(hours=3),
            )
            made[key] = comment.id
            add_decision(
                session,
                comment_id=comment.id,
                by="policy",
                action="approve",
                now=now - timedelta(hours=3),
            )
            hide = [{"kind": "reports", "rule": "reports.hide_after", "message": "Hidden."}]
            add_decision(
                session,
                comment_id=comment.id,
                by="reports",
                action="hide",
                reasons=hide,
                now=now - timedelta(hours=2),
            )
        add_decision(
            session,
            comment_id=made["kept"],
            by="moderator",
            action="keep",
            moderator_id="mod-1",
            now=now - timedelta(hours=1),
        )
        add_decision(
            session,
            comment_id=made["rejected"],
            by="moderator",
            action="reject",
            moderator_id="mod-1",
            now=now - timedelta(hours=1),
        )
        found = collect_judgements(session, since=now - timedelta(days=1))
    assert {
        key: found[comment_id].outcome for key, comment_id in made.items() if comment_id in found
    } == {
        "kept": "approved",
        "rejected": "rejected",
    }
    assert found[made["kept"]].source == "review"
