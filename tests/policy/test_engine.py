from __future__ import annotations

import pytest

import policy
from policy import Comment, Context, Policy


@pytest.mark.parametrize(
    ("text", "scores", "action"),
    [
        ("A fine article.", {"toxicity": 0.1}, "approve"),
        ("A fine article.", {"toxicity": 0.95}, "hold"),
        ("f4ck off", {}, "hold"),
    ],
)
def test_module_level_evaluate_is_the_policy_method(
    shipped: Policy, text: str, scores: dict[str, float], action: str
) -> None:
    comment = Comment(text, "author-1", "article-1")
    decision = policy.evaluate(shipped, comment, scores, Context())
    assert decision.action == action
    assert decision == shipped.evaluate(comment, scores, Context())
