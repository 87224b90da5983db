"""`policy replay` of a candidate that switches the author rules on: each rule's effect on a
fixture history, and the decisions stored without the author figures counted as not evaluable.

    key       stored author figures                  scores         now      candidate
    newcomer  0 approved                             clean          approve  hold: new commenter
    offender  12 approved, 6 rejected; 5 of 6 (30d)  clean          approve  hold: rejections
    veteran   30 approved, 1 rejected                toxicity 0.85  hold     approve: auto-trust
    menace    30 approved, 1 rejected                threat 0.60    hold     hold
    legacy    none (stored before the figures)       clean          approve  not evaluable
    legacy2   none                                   toxicity 0.85  hold     not evaluable
    weekly    recent figures over 7 days, not 30     clean          approve  not evaluable
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

import policy
from service.db.engine import Database
from service.db.tables import utcnow
from service.settings import DEFAULT_POLICY
from service.store.comments import create_comment
from service.tuning.replay import replay_policy
from service.tuning.text import render_replay
from tests.support.databases import BACKENDS
from tests.support.tuning_history import record_policy_decision

CANDIDATE = """\
schema: 1
author:
  new_commenter: {hold_until_approved: 2}
  recent_rejections: {window_days: 30, min_decided: 5, max_rate: 0.5}
  auto_trust: {after_approved: 20, max_rejection_rate: 0.05, toxicity_margin: 0.1}
"""
CLEAN = {"toxicity": 0.01, "threat": 0.01}


def figures(
    approved: int, rejected: int, *, decided: int = 0, recent_rejected: int = 0, days: int = 30
) -> dict[str, Any]:
    return {
        "approved": approved,
        "rejected": rejected,
        "held": 0,
        "always_hold": False,
        "trusted": False,
        "recent": {"window_days": days, "decided": decided, "rejected": recent_rejected},
    }


LEGACY = {"approved": 0, "rejected": 0, "held": 0, "always_hold": False, "trusted": False}
VETERAN = figures(30, 1, decided=8)
RUDE = {"toxicity": 0.85, "threat": 0.01}
HISTORY: dict[str, tuple[str, dict[str, Any], dict[str, float]]] = {
    "newcomer": ("First time commenting here, hello.", figures(0, 0), CLEAN),
    "offender": ("The council should publish the minutes.",
                 figures(12, 6, decided=6, recent_rejected=5), CLEAN),
    "veteran": ("This is a daft and lazy argument.", VETERAN, RUDE),
    "menace": ("Someone should sort that man out.", VETERAN, {"toxicity": 0.3, "threat": 0.6}),
    "legacy": ("An older comment, decided last year.", LEGACY, CLEAN),
    "legacy2": ("An older rude comment, decided too.", LEGACY, RUDE),
    "weekly": ("Counted over another window.", figures(0, 0, days=7), CLEAN),
}  # fmt: skip


def seed(db: Database) -> dict[str, str]:
    current = policy.load_policy(DEFAULT_POLICY)
    at = utcnow() - timedelta(days=2)
    made = {}
    for key, (text, author, scores) in HISTORY.items():
        with db.session() as session:
            made[key] = create_comment(
                session,
                article_id="news-1",
                parent_id=None,
                author_id=f"reader-{key}",
                author_name=None,
                text=text,
                idempotency_key=None,
                body_hash=None,
                now=at,
            ).id
        context = policy.Context(author=author, language="en", model="unbiased")
        decision = current.evaluate(
            policy.Comment(text, f"reader-{key}", "news-1"), scores, context
        )
        record_policy_decision(
            db,
            comment_id=made[key],
            decision=decision,
            scores=scores,
            context=context,
            policy_version=current.version,
            now=at + timedelta(seconds=1),
        )
    return made


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_each_author_rule_shows_its_effect(db: Database) -> None:
    made = seed(db)
    since = utcnow() - timedelta(days=30)
    candidate = policy.parse_policy(CANDIDATE.encode(), source="candidate.yaml")

    report = replay_policy(db, candidate=candidate, since=since).to_dict()

    assert (report["considered"], report["not_evaluable"], report["compared"]) == (7, 3, 4)
    assert report["changes"] == {"total": 3, "approve_to_hold": 2, "hold_to_approve": 1}
    by_rule = {row["rule"]: row for row in report["by_rule"]}
    assert by_rule["author.new_commenter"]["approve_to_hold"] == 1
    assert by_rule["author.recent_rejections"]["approve_to_hold"] == 1
    assert by_rule["toxicity.toxicity"]["hold_to_approve"] == 1  # the auto-trusted veteran
    assert by_rule["toxicity.threat"] == {
        "rule": "toxicity.threat",
        "current": 1,
        "candidate": 1,
        "approve_to_hold": 0,
        "hold_to_approve": 0,
    }
    examples = report["examples"]
    assert {e["comment_id"] for e in examples["approve_to_hold"]} == {
        made["newcomer"],
        made["offender"],
    }
    assert [e["comment_id"] for e in examples["hold_to_approve"]] == [made["veteran"]]
    assert "Not evaluable: 3, left out:\n  3 decided before the worker recorded" in render_replay(
        report
    )
    assert report["not_evaluable_reasons"] == {"author_figures": 3, "other_model": 0}

    # With the rules off, every stored decision can be replayed, figures or not.
    unchanged = replay_policy(
        db, candidate=policy.load_policy(DEFAULT_POLICY), since=since
    ).to_dict()
    assert (unchanged["not_evaluable"], unchanged["compared"]) == (0, 7)
    assert unchanged["changes"]["total"] == 0
    assert "Not evaluable" not in render_replay(unchanged)
