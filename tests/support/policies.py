"""Policies for the policy tests: the shipped file, one written inline, and what it decided."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from policy import Comment, Context, Decision, Policy, load_policy, parse_policy

SHIPPED = Path(__file__).resolve().parents[2] / "policy" / "standards-board.yaml"


def evaluate(
    policy: Policy,
    text: str,
    scores: Mapping[str, float] | None = None,
    **context: Any,
) -> Decision:
    return policy.evaluate(Comment(text, "author-1", "article-1"), scores or {}, Context(**context))


def policy_from(yaml_text: str, tmp_path: Path | None = None, **kwargs: Any) -> Policy:
    if tmp_path is None:
        return parse_policy(yaml_text.encode(), source="test.yaml", **kwargs)
    path = tmp_path / "policy.yaml"
    path.write_text(yaml_text, encoding="utf-8")
    return load_policy(path, **kwargs)


def kinds(decision: Decision) -> list[str]:
    return [reason.kind for reason in decision.reasons]


def rules(decision: Decision) -> list[str]:
    return [reason.rule for reason in decision.reasons]
