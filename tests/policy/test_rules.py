"""Toxicity, repeat, flood, language, author and article rules, and how they combine."""

from __future__ import annotations

import math
from typing import Any

import pytest

from policy import Policy, RegisteredModel, normalize, text_digest
from tests.support.policies import evaluate, kinds, policy_from, rules


def digests(*texts: str) -> tuple[str, ...]:
    """What the worker records for the author's earlier texts."""
    return tuple(text_digest(normalize(text)) for text in texts)


# ── toxicity ──────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("label", "below", "at"),
    [
        ("toxicity", 0.79, 0.8),
        ("severe_toxicity", 0.49, 0.5),
        ("threat", 0.49, 0.5),
        ("identity_attack", 0.59, 0.6),
        ("insult", 0.79, 0.8),
        ("obscene", 0.79, 0.8),
        ("sexual_explicit", 0.59, 0.6),
    ],
)
def test_default_thresholds_hold_at_or_above(
    shipped: Policy, label: str, below: float, at: float
) -> None:
    assert evaluate(shipped, "text", {label: below}).action == "approve"
    decision = evaluate(shipped, "text", {label: at})
    assert decision.action == "hold"
    (reason,) = decision.reasons
    assert reason.to_dict() == {
        "kind": "toxicity",
        "rule": f"toxicity.{label}",
        "message": reason.message,
        "label": label,
        "score": at,
        "threshold": at,
    }
    assert f"score {at:.2f}" in reason.message


@pytest.mark.parametrize(
    "identity",
    [
        "male", "female", "homosexual_gay_or_lesbian", "christian", "jewish", "muslim",
        "black", "white", "psychiatric_or_mental_illness",
    ],
)  # fmt: skip
def test_an_identity_label_alone_never_holds(shipped: Policy, identity: str) -> None:
    assert evaluate(shipped, "text", {identity: 1.0, "toxicity": 0.1}).action == "approve"


def test_identity_labels_are_evidence_on_other_reasons(shipped: Policy) -> None:
    scores = {"identity_attack": 0.9, "muslim": 0.95, "jewish": 0.2, "female": 0.5}
    (reason,) = evaluate(shipped, "text", scores).reasons
    assert reason.evidence["identities"] == {"female": 0.5, "muslim": 0.95}


def test_reasons_follow_severity_order(shipped: Policy) -> None:
    scores = {label: 0.99 for label in ("toxicity", "insult", "threat", "severe_toxicity")}
    assert rules(evaluate(shipped, "text", scores)) == [
        "toxicity.severe_toxicity",
        "toxicity.threat",
        "toxicity.insult",
        "toxicity.toxicity",
    ]


@pytest.mark.parametrize("junk", [math.nan, "0.99", None, True, [0.9]])
def test_unusable_scores_are_ignored(shipped: Policy, junk: Any) -> None:
    assert evaluate(shipped, "text", {"toxicity": junk}).action == "approve"


def test_integer_scores_count(shipped: Policy) -> None:
    assert evaluate(shipped, "text", {"threat": 1}).reasons[0].evidence["score"] == 1.0


def test_labels_switched_off_and_section_off() -> None:
    policy = policy_from("toxicity:\n  thresholds:\n    insult: off\n")
    assert evaluate(policy, "text", {"insult": 1.0}).action == "approve"
    assert evaluate(policy, "text", {"threat": 1.0}).action == "hold"
    off = policy_from("toxicity: {enabled: false}\n")
    assert evaluate(off, "text", {"threat": 1.0}).action == "approve"


# ── repeat ────────────────────────────────────────────────────────────────────────────────


def test_repeat_holds_the_same_normalised_text(shipped: Policy) -> None:
    earlier = "Vote for Smith on Thursday!"
    decision = evaluate(
        shipped, "VOTE for   smith on thursday", recent_digests=digests(earlier, "other", earlier)
    )
    (reason,) = decision.reasons
    assert reason.to_dict() == {
        "kind": "repeat",
        "rule": "repeat",
        "message": "The same author already posted this text 2 times in the last 24 hours.",
        "previous": 2,
        "window_seconds": 86400,
    }


def test_repeat_message_for_once(shipped: Policy) -> None:
    text = "Vote for Smith on Thursday"
    (reason,) = evaluate(shipped, text, recent_digests=digests(text)).reasons
    assert "already posted this text once" in reason.message


@pytest.mark.parametrize(
    ("text", "recent"),
    [
        ("Vote for Smith on Thursday", digests("vote for jones on thursday")),
        ("Thanks!", digests("thanks")),  # shorter than min_chars: people do say it twice
        # the text itself is not what is compared, only its digest
        ("Vote for Smith on Thursday", (normalize("Vote for Smith on Thursday"),)),
        ("Vote for Smith on Thursday", ()),
    ],
)
def test_repeat_negatives(shipped: Policy, text: str, recent: tuple[str, ...]) -> None:
    assert evaluate(shipped, text, recent_digests=recent).action == "approve"


def test_repeat_window_and_switch() -> None:
    policy = policy_from("repeat: {window_seconds: 90, min_chars: 3}\n")
    assert policy.repeat_window_seconds == 90
    (reason,) = evaluate(policy, "Thanks!", recent_digests=digests("thanks")).reasons
    assert reason.message.endswith("in the last 90 seconds.")
    off = policy_from("repeat: {enabled: false}\n")
    text = "Vote for Smith on Thursday"
    assert evaluate(off, text, recent_digests=digests(text)).action == "approve"


# ── flood ─────────────────────────────────────────────────────────────────────────────────


def test_flood_holds_more_than_hold_after(shipped: Policy) -> None:
    assert (shipped.flood_window_seconds, shipped.flood_hold_after) == (300, 5)
    assert shipped.flood_hard_limit == 15
    assert evaluate(shipped, "text", flood_count=5).action == "approve"
    (reason,) = evaluate(shipped, "text", flood_count=6).reasons
    assert reason.to_dict() == {
        "kind": "flood",
        "rule": "flood",
        "message": "This author posted 6 comments in 5 minutes; more than 5 are held.",
        "count": 6,
        "hold_after": 5,
        "window_seconds": 300,
    }


def test_flood_switched_off_keeps_the_hard_limit() -> None:
    policy = policy_from("flood: {enabled: false, window_seconds: 7200, hard_limit: 50}\n")
    assert evaluate(policy, "text", flood_count=40).action == "approve"
    assert (policy.flood_window_seconds, policy.flood_hard_limit) == (7200, 50)


def test_flood_duration_in_days() -> None:
    policy = policy_from("flood: {window_seconds: 172800, hold_after: 1}\n")
    (reason,) = evaluate(policy, "text", flood_count=2).reasons
    assert "in 2 days" in reason.message


# ── language ──────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("variant", "language", "held"),
    [
        ("unbiased", "ko", True),
        ("original", "ko", True),
        ("multilingual", "ko", True),
        ("unbiased", "fr", True),
        ("multilingual", "fr", False),
        ("multilingual", "ru", False),
        ("multilingual", "de", True),
        ("unbiased", "en", False),
        ("original-small", "en", False),
        ("unbiased-small", "fr", True),
        ("multilingual-small", "fr", False),  # a suffixed variant reads its family's languages
        (None, "en", False),  # a checkpoint of its own is taken to read English
        (None, "fr", True),
        ("unbiased", None, False),  # too short or mixed to tell: scored by default
        ("original", None, False),
    ],
)
def test_language_coverage_by_the_default_models_variant(
    variant: str | None, language: str | None, held: bool
) -> None:
    """With no `language.routes`, `default` reads what its Detoxify variant reads."""
    policy = policy_from("", registry={"default": RegisteredModel(None, variant)})
    decision = evaluate(policy, "text", language=language, model="default")
    assert (decision.action == "hold") is held
    assert kinds(decision) == (["language"] if held else [])


def test_the_language_rule_does_not_go_by_the_scoring_model(shipped: Policy) -> None:
    # A context recording a variant name (decisions stored before model ids) is judged alike.
    assert evaluate(shipped, "text", language="fr", model="multilingual").action == "hold"
    assert evaluate(shipped, "text", language="en", model="multilingual").action == "approve"


def test_language_reason() -> None:
    policy = policy_from("", registry={"default": RegisteredModel(None, "multilingual")})
    (reason,) = evaluate(policy, "text", language="ko").reasons
    assert reason.to_dict() == {
        "kind": "language",
        "rule": "language",
        "message": "Written in Korean, which no model configured here reads (they read: "
        "English, Spanish, French, Italian, Portuguese, Russian, Turkish), so a person "
        "should read it.",
        "language": "ko",
        "covered": ["en", "es", "fr", "it", "pt", "ru", "tr"],
    }
    (other,) = evaluate(policy, "text", language="sw").reasons
    assert other.message.startswith("Written in language 'sw', which no model")
    nothing = policy_from("language:\n  routes: {en: off}\n")
    (none,) = evaluate(nothing, "text", language="en").reasons
    assert "(they read: none)" in none.message
    assert none.evidence["covered"] == []


def test_language_routes_can_be_configured() -> None:
    registry = {
        "default": RegisteredModel(None, "unbiased"),
        "euro": RegisteredModel(None, "multilingual"),
    }
    policy = policy_from(
        "language:\n  routes:\n    de: default\n    fr: euro\n    en: off\n", registry=registry
    )
    assert policy.routes == {"de": "default", "fr": "euro"}
    assert policy.covered_languages("default") == {"de"}
    assert policy.covered_languages("euro") == {"fr"}
    assert policy.covered_languages("multilingual") == {"de"}  # not an id: taken for default
    assert kinds(evaluate(policy, "text", language="en")) == ["language"]
    assert evaluate(policy, "text", language="fr", model="euro").action == "approve"
    off = policy_from("language: {enabled: false}\n")
    assert evaluate(off, "text", language="ko").action == "approve"


# ── author and article ────────────────────────────────────────────────────────────────────


def test_always_hold_authors(shipped: Policy) -> None:
    decision = evaluate(shipped, "lovely", author={"always_hold": True})
    assert [reason.to_dict() for reason in decision.reasons] == [
        {
            "kind": "author",
            "rule": "author.always_hold",
            "message": "This author is on the always-hold list: every comment waits for a "
            "moderator.",
        }
    ]


TRUSTED = {"trusted": True, "approved": 120, "rejected": 0, "held": 1, "always_hold": False}
EVERYTHING = "f4ck, see spam.biz, 010-1234-5678"


def test_trusted_authors_skip_terms_links_and_repeat_only(shipped: Policy) -> None:
    recent = digests(EVERYTHING)
    untrusted = evaluate(shipped, EVERYTHING, recent_digests=recent)
    assert kinds(untrusted) == ["repeat", "terms", "links", "personal_info"]
    trusted = evaluate(shipped, EVERYTHING, recent_digests=recent, author=TRUSTED)
    assert kinds(trusted) == ["personal_info"]


@pytest.mark.parametrize("label", ["severe_toxicity", "threat", "insult", "toxicity"])
def test_trusted_authors_are_still_held_for_toxicity(shipped: Policy, label: str) -> None:
    assert evaluate(shipped, "text", {label: 0.99}, author=TRUSTED).action == "hold"


def test_trusted_skips_are_configurable() -> None:
    policy = policy_from(
        "author:\n  trusted_skip: [flood, language, personal_info]\n"
        "  trusted_skip_toxicity: [insult, obscene]\n"
    )
    scores = {"insult": 0.99, "obscene": 0.99, "threat": 0.99}
    decision = evaluate(policy, EVERYTHING, scores, author=TRUSTED, flood_count=99, language="ko")
    assert rules(decision) == ["toxicity.threat", "en-banned", "links"]


def test_author_section_off_ignores_both_lists() -> None:
    policy = policy_from("author: {enabled: false}\n")
    assert evaluate(policy, "fine", author={"always_hold": True}).action == "approve"
    assert kinds(evaluate(policy, "f4ck", author=TRUSTED)) == ["terms"]


def test_premoderated_articles_hold_everything(shipped: Policy) -> None:
    decision = evaluate(shipped, "lovely", article={"premoderated": True, "closed": False})
    assert [reason.to_dict() for reason in decision.reasons] == [
        {
            "kind": "article",
            "rule": "article.premoderated",
            "message": "This article is pre-moderated: every comment on it waits for a moderator.",
        }
    ]
    off = policy_from("article: {enabled: false}\n")
    assert evaluate(off, "lovely", article={"premoderated": True}).action == "approve"


def test_every_reason_is_listed_in_a_fixed_order(shipped: Policy) -> None:
    text = "f4ck, see spam.biz, 010-1234-5678"
    decision = evaluate(
        shipped,
        text,
        {"threat": 0.9},
        article={"premoderated": True},
        author={"always_hold": True},
        flood_count=99,
        recent_digests=digests(text),
        language="ko",
    )
    assert kinds(decision) == [
        "article", "author", "flood", "repeat", "toxicity", "terms", "links", "personal_info",
        "language",
    ]  # fmt: skip
    assert decision.policy_version == shipped.version
