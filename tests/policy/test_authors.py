"""The author rules that go by an author's record: new commenters, recent rejections and
auto-trust; their settings, reasons, precedence and the standing shown to moderators."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from policy import Context, Policy, PolicyError, Standing, author_standing
from policy.authors import Figures, figures_evaluable
from policy.sections import (
    AuthorSettings,
    AutoTrustSettings,
    NewCommenterSettings,
    RecentRejectionsSettings,
)
from tests.support.policies import evaluate, policy_from, rules

ALL_ON = """\
author:
  new_commenter: {hold_until_approved: 3}
  recent_rejections: {window_days: 30, min_decided: 4, max_rate: 0.5}
  auto_trust: {after_approved: 5, max_rejection_rate: 0.2, toxicity_margin: 0.1}
"""
MILD = {"toxicity": 0.85, "insult": 0.85}


def record(
    approved: int = 0,
    rejected: int = 0,
    *,
    held: int = 0,
    decided: int | None = None,
    recent_rejected: int | None = None,
    window_days: int = 30,
    **flags: bool,
) -> dict[str, Any]:
    """An author record as the worker stores it; the recent window holds everything unless
    told otherwise."""
    return {
        "approved": approved,
        "rejected": rejected,
        "held": held,
        "always_hold": flags.get("always_hold", False),
        "trusted": flags.get("trusted", False),
        "recent": {
            "window_days": window_days,
            "decided": approved + rejected if decided is None else decided,
            "rejected": rejected if recent_rejected is None else recent_rejected,
        },
    }


@pytest.fixture(scope="module")
def all_on() -> Policy:
    return policy_from(ALL_ON)


def test_the_shipped_file_keeps_the_rules_off(shipped: Policy) -> None:
    assert shipped.author == AuthorSettings()
    assert not shipped.author.uses_figures
    assert evaluate(shipped, "Hello there", author=record(0, 9)).action == "approve"
    # ... and with nothing to read, every stored decision stays replayable.
    assert shipped.author_rules_evaluable(Context(author={"approved": 1}))


def test_the_settings_are_read(all_on: Policy) -> None:
    author = all_on.author
    assert author.new_commenter == NewCommenterSettings(enabled=True, hold_until_approved=3)
    assert author.recent_rejections == RecentRejectionsSettings(
        enabled=True, window_days=30, min_decided=4, max_rate=0.5
    )
    assert author.auto_trust == AutoTrustSettings(
        enabled=True, after_approved=5, max_rejection_rate=0.2, toxicity_margin=0.1
    )


@pytest.mark.parametrize("written", ["off", "false", "null", "{enabled: false, min_decided: 9}"])
def test_a_rule_can_be_written_off(written: str) -> None:
    loaded = policy_from(f"author:\n  recent_rejections: {written}\n")
    assert not loaded.author.recent_rejections.enabled


def test_keys_left_out_take_the_defaults() -> None:
    loaded = policy_from("author:\n  new_commenter: {}\n  auto_trust:\n    enabled: true\n")
    assert loaded.author.new_commenter == NewCommenterSettings(enabled=True)
    assert loaded.author.auto_trust == AutoTrustSettings(enabled=True)


@pytest.mark.parametrize(
    ("yaml_text", "line", "key_path", "problem"),
    [
        (
            "author:\n  new_commenter:\n    hold_until_approved: 0\n",
            3,
            "author.new_commenter.hold_until_approved",
            "whole number from 1",
        ),
        (
            "author:\n  recent_rejections:\n    window_days: 400\n",
            3,
            "author.recent_rejections.window_days",
            "from 1 to 366",
        ),
        (
            "author:\n  recent_rejections:\n    max_rate: 50%\n",
            3,
            "author.recent_rejections.max_rate",
            "from 0 to 1",
        ),
        (
            "author:\n  auto_trust:\n    toxicity_margn: 0.1\n",
            3,
            "author.auto_trust.toxicity_margn",
            "did you mean 'toxicity_margin'",
        ),
        ("author:\n  auto_trust: true\n", 2, "author.auto_trust", "set of `key: value`"),
        (
            "author:\n  new_commenter: {hold_until_approved: 5}\n"
            "  auto_trust:\n    after_approved: 4\n",
            4,
            "author.auto_trust.after_approved",
            "must be at least new_commenter.hold_until_approved (5)",
        ),
        (
            "author:\n  new_commenter:\n    hold_until_approved: 30\n  auto_trust: {}\n",
            3,
            "author.new_commenter.hold_until_approved",
            "auto_trust.after_approved (20) must be at least",
        ),
    ],
    ids=["zero", "window", "rate", "typo", "bare-true", "auto-below-new", "new-above-auto"],
)
def test_mistakes_point_at_the_line(
    tmp_path: Path, yaml_text: str, line: int, key_path: str, problem: str
) -> None:
    with pytest.raises(PolicyError) as caught:
        policy_from(yaml_text, tmp_path)
    assert (caught.value.line, caught.value.key_path) == (line, key_path)
    assert problem in caught.value.problem


def test_auto_trust_may_start_with_new_commenters_off() -> None:
    loaded = policy_from("author:\n  new_commenter: off\n  auto_trust: {after_approved: 1}\n")
    assert loaded.author.auto_trust.after_approved == 1


def test_new_commenters_are_held_until_enough_are_approved(all_on: Policy) -> None:
    decision = evaluate(all_on, "Hello there", author=record(1))
    assert decision.action == "hold"
    (reason,) = decision.reasons
    assert reason.to_dict() == {
        "kind": "author",
        "rule": "author.new_commenter",
        "message": "This author has 1 approved comment; new commenters are held until 3 are "
        "approved.",
        "approved": 1,
        "hold_until_approved": 3,
    }
    assert evaluate(all_on, "Hello there", author=record(3)).action == "approve"
    one = policy_from("author:\n  new_commenter: {hold_until_approved: 1}\n")
    (reason,) = evaluate(one, "Hi", author=record(0)).reasons
    assert reason.message == (
        "This author has 0 approved comments; new commenters are held until 1 is approved."
    )


def test_recent_rejections_hold_past_the_rate(all_on: Policy) -> None:
    figures = record(6, 3, decided=4, recent_rejected=3)
    decision = evaluate(all_on, "Hello there", author=figures)
    (reason,) = decision.reasons
    assert reason.rule == "author.recent_rejections"
    assert reason.message == (
        "In the last 30 days, 3 of this author's 4 decided comments were rejected (75%); "
        "authors with more than 50% rejected, of at least 4 decided, are held."
    )
    assert reason.evidence == {
        "rejected": 3,
        "decided": 4,
        "rate": 0.75,
        "window_days": 30,
        "min_decided": 4,
        "max_rate": 0.5,
    }
    # At the rate exactly, or with too few decided to judge, nothing.
    assert evaluate(all_on, "Hi", author=record(6, 2, decided=4, recent_rejected=2)).reasons == ()
    assert evaluate(all_on, "Hi", author=record(6, 3, decided=3, recent_rejected=3)).reasons == ()


def test_every_author_hold_is_listed_in_order(all_on: Policy) -> None:
    figures = record(1, 4, always_hold=True)
    assert rules(evaluate(all_on, "Hi", author=figures)) == [
        "author.always_hold",
        "author.recent_rejections",
        "author.new_commenter",
    ]


def test_trusted_authors_are_not_held_by_their_record(all_on: Policy) -> None:
    assert evaluate(all_on, "Hi", author=record(0, 9, trusted=True)).action == "approve"
    standing = author_standing(all_on.author, record(0, 9, trusted=True))
    assert (standing.state, standing.rule) == ("trusted", None)
    assert standing.message.startswith("A moderator marked this author as trusted: links, repeat")


def test_auto_trust_raises_toxicity_thresholds_only(all_on: Policy) -> None:
    trusted = record(5, 1)
    assert evaluate(all_on, "Hi", MILD, author=trusted).action == "approve"
    held = evaluate(all_on, "Hi", MILD, author=record(5, 2))  # 2 of 7 rejected: too many
    assert rules(held) == ["toxicity.insult", "toxicity.toxicity"]
    # Above threshold + margin, held, with the raised threshold in the reason.
    (reason,) = evaluate(all_on, "Hi", {"toxicity": 0.95}, author=trusted).reasons
    assert reason.message == (
        "The model rates this comment toxic (score 0.95; this author is trusted automatically, "
        "so theirs are held at 0.90 or above)."
    )
    assert reason.evidence == {
        "label": "toxicity",
        "score": 0.95,
        "threshold": 0.9,
        "auto_trust_margin": 0.1,
    }
    assert rules(evaluate(all_on, "Hi", {"toxicity": 0.9}, author=trusted)) == ["toxicity.toxicity"]


@pytest.mark.parametrize("label", ["severe_toxicity", "threat"])
def test_auto_trust_never_raises_severe_toxicity_or_threats(all_on: Policy, label: str) -> None:
    (reason,) = evaluate(all_on, "Hi", {label: 0.55}, author=record(50)).reasons
    assert reason.rule == f"toxicity.{label}"
    assert reason.evidence["threshold"] == 0.5
    assert "auto_trust_margin" not in reason.evidence


def test_auto_trust_keeps_every_other_rule(all_on: Policy) -> None:
    decision = evaluate(all_on, "Mail me at someone@example.com", author=record(50))
    assert rules(decision) == ["personal_info.email"]


def test_raised_thresholds_stop_at_099_and_never_drop() -> None:
    loaded = policy_from(
        "toxicity:\n  thresholds:\n    insult: 0.95\n    obscene: 1.0\n"
        "author:\n  auto_trust: {after_approved: 1, toxicity_margin: 0.5}\n"
    )
    reasons = evaluate(
        loaded, "Hi", {"insult": 0.99, "obscene": 1.0, "toxicity": 0.98}, author=record(1)
    ).reasons
    assert {reason.rule: reason.evidence["threshold"] for reason in reasons} == {
        "toxicity.insult": 0.99,
        "toxicity.obscene": 1.0,
    }


def test_a_zero_margin_changes_no_reason() -> None:
    loaded = policy_from("author:\n  auto_trust: {after_approved: 1, toxicity_margin: 0}\n")
    (reason,) = evaluate(loaded, "Hi", {"toxicity": 0.8}, author=record(1)).reasons
    assert reason.evidence == {"label": "toxicity", "score": 0.8, "threshold": 0.8}
    assert author_standing(loaded.author, record(1)).state == "auto_trusted"


def test_records_stored_before_the_rules_are_not_judged(all_on: Policy) -> None:
    old = {"approved": 0, "rejected": 5, "held": 2, "always_hold": False, "trusted": False}
    assert evaluate(all_on, "Hi", MILD, author=old).action == "hold"  # toxicity, as ever
    assert rules(evaluate(all_on, "Hi", author=old)) == []
    assert not all_on.author_rules_evaluable(Context(author=old))
    assert all_on.author_rules_evaluable(Context(author=record(0)))
    # Counted over another window than the candidate's: recent rejections can't be judged.
    other = record(1, 4, window_days=7)
    assert not all_on.author_rules_evaluable(Context(author=other))
    assert rules(evaluate(all_on, "Hi", author=other)) == ["author.new_commenter"]
    only_new = policy_from("author:\n  new_commenter: {}\n")
    assert figures_evaluable(only_new.author, other)


def test_figures_read_only_counts() -> None:
    assert Figures.of({"recent": {"decided": True}, "approved": "3", "held": -1}) == Figures(
        approved=0, rejected=0, held=0, window_days=0, recent_decided=0, recent_rejected=0
    )


STANDINGS = [
    (record(9, always_hold=True), Standing(
        "always_hold",
        "author.always_hold",
        "This author is on the always-hold list: every comment waits for a moderator.",
    )),
    (record(1, 4), Standing(
        "recent_rejections",
        "author.recent_rejections",
        "In the last 30 days, 4 of this author's 5 decided comments were rejected (80%); "
        "authors with more than 50% rejected, of at least 4 decided, are held.",
    )),
    (record(2), Standing(
        "new_commenter",
        "author.new_commenter",
        "This author has 2 approved comments; new commenters are held until 3 are approved.",
    )),
    (record(5, 1), Standing(
        "auto_trusted",
        "author.auto_trust",
        "This author has 5 approved comments and 1 rejected, so they are trusted "
        "automatically: toxicity holds their comments only 0.10 above each threshold (at most "
        "0.99); severe toxicity and threats as for everyone.",
    )),
    (record(4, 0), Standing(
        "standard", None, "This author has 4 approved comments and 0 rejected; no author rule "
        "applies."
    )),
    ({"approved": 4}, Standing(
        "standard", None, "No decided counts were recorded, so no author rule applies."
    )),
]  # fmt: skip


@pytest.mark.parametrize(("author", "expected"), STANDINGS)
def test_standing_by_precedence(all_on: Policy, author: dict[str, Any], expected: Standing) -> None:
    assert author_standing(all_on.author, author) == expected


def test_standing_when_author_rules_are_off() -> None:
    off = policy_from("author:\n  enabled: false\n  new_commenter: {}\n")
    assert author_standing(off.author, record(0, always_hold=True)) == Standing(
        "standard", None, "The policy's author rules are off."
    )
    assert evaluate(off, "Hi", author=record(0, always_hold=True)).action == "approve"
    assert off.author_rules_evaluable(Context())


def test_trusted_with_nothing_skipped() -> None:
    loaded = policy_from("author:\n  trusted_skip: []\n")
    assert author_standing(loaded.author, {"trusted": True}).message == (
        "A moderator marked this author as trusted, but no rule is skipped for them: their "
        "comments are held as everyone's."
    )
