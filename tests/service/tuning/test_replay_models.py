"""`policy replay` of a candidate that routes a language to another model: the decisions that
model didn't score can't be judged from their stored scores, so they are not evaluable.

    key        language  scored by (recorded)   candidate routes      replay
    english    en        unbiased (variant)     en → default          compared
    korean     ko        unbiased (variant)     ko → ko-hate          not evaluable
    korean2    ko        default                ko → ko-hate          not evaluable
    scored_ko  ko        ko-hate                ko → ko-hate          compared
    unknown    None      default                None → default        compared
"""

from __future__ import annotations

from datetime import timedelta

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

REGISTRY = {
    "default": policy.RegisteredModel(None, "unbiased"),
    "ko-hate": policy.RegisteredModel(("clean", "insult"), None),
}
CANDIDATE = """\
schema: 1
language:
  routes:
    ko: ko-hate
models:
  ko-hate:
    activation: softmax
    labels: {toxicity: {one_minus: clean}, insult: insult}
"""
HISTORY = {
    "english": ("A perfectly civil English comment.", "en", "unbiased"),
    "korean": ("좋은 기사 감사합니다 정말로요", "ko", "unbiased"),
    "korean2": ("이 기사는 정말 좋네요 감사합니다", "ko", "default"),
    "scored_ko": ("기사 잘 읽었습니다 고맙습니다", "ko", "ko-hate"),
    "unknown": ("lol ok", None, "default"),
}


def seed(db: Database) -> None:
    current = policy.load_policy(DEFAULT_POLICY, registry=REGISTRY)
    at = utcnow() - timedelta(days=2)
    for key, (text, language, model) in HISTORY.items():
        with db.session() as session:
            comment_id = create_comment(
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
        context = policy.Context(language=language, model=model)
        scores = {"toxicity": 0.01}
        decision = current.evaluate(
            policy.Comment(text, f"reader-{key}", "news-1"), scores, context
        )
        record_policy_decision(
            db,
            comment_id=comment_id,
            decision=decision,
            scores=scores,
            context=context,
            policy_version=current.version,
            now=at + timedelta(seconds=1),
        )


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_decisions_another_model_would_score_are_not_evaluable(db: Database) -> None:
    seed(db)
    since = utcnow() - timedelta(days=30)
    candidate = policy.parse_policy(CANDIDATE.encode(), source="candidate.yaml", registry=REGISTRY)

    report = replay_policy(db, candidate=candidate, since=since).to_dict()

    assert (report["considered"], report["not_evaluable"], report["compared"]) == (5, 2, 3)
    assert report["not_evaluable_reasons"] == {"author_figures": 0, "other_model": 2}
    # Only `scored_ko` changes: held for its language then, read by the Korean model now. The
    # comments the default model scored are not judged approved on scores that mean nothing.
    assert report["changes"] == {"total": 1, "approve_to_hold": 0, "hold_to_approve": 1}
    text = render_replay(report)
    assert "Not evaluable: 2, left out:\n  2 in a language the candidate routes" in text
    assert "author figures" not in text

    # The policy in force routes as the decisions were scored: everything is compared.
    current = policy.load_policy(DEFAULT_POLICY, registry=REGISTRY)
    unchanged = replay_policy(db, candidate=current, since=since).to_dict()
    # `scored_ko`: recorded as the Korean model's, which the policy in force doesn't route to.
    assert (unchanged["not_evaluable"], unchanged["compared"]) == (1, 4)
