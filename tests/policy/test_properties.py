"""Properties over any input: evaluate never raises, and banned words only ever add holds."""

from __future__ import annotations

from typing import Any

import pytest
import regex
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policy import Comment, Context, Policy, load_policy, normalize, text_digest
from tests.support.policies import SHIPPED

SHIPPED_POLICY = load_policy(SHIPPED)
LABELS = [
    "toxicity", "severe_toxicity", "obscene", "threat", "insult", "identity_attack",
    "sexual_explicit", "muslim", "female",
]  # fmt: skip
SETTINGS = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])

# A grapheme: a base character with up to three combining marks, joiners or variation
# selectors; or an emoji ZWJ sequence; or any single character at all.
MARKS = st.sampled_from(["\u0301", "\u0308", "\u200d", "\ufe0f", "\u20e3", "\u1dc0", "\u0e49"])
GRAPHEMES = st.one_of(
    st.characters(),
    st.tuples(st.characters(), st.lists(MARKS, max_size=3)).map(lambda t: t[0] + "".join(t[1])),
    st.sampled_from(["👩\u200d👩\u200d👧", "🇰🇷", "각", "ᄀ\u1161\u11a8", "Ａ", "\u202e", "﷽"]),  # noqa: RUF001
    st.sampled_from(list("f4ck $h1t 시1발 ㅅㅂ 010-1234-5678 a@b.co x.com dot")),
)
TEXTS = st.one_of(
    st.text(max_size=250),
    st.lists(GRAPHEMES, max_size=250).map("".join),
)
SCORES = st.dictionaries(
    st.sampled_from(LABELS),
    st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-2, 2)),
)
AUTHORS = st.fixed_dictionaries(
    {},
    optional={
        "approved": st.integers(0, 1000),
        "rejected": st.integers(0, 1000),
        "held": st.integers(0, 1000),
        "always_hold": st.booleans(),
        "trusted": st.booleans(),
    },
)
CONTEXTS = st.builds(
    Context,
    author=AUTHORS,
    article=st.fixed_dictionaries({}, optional={"premoderated": st.booleans()}),
    flood_count=st.integers(0, 50),
    recent_digests=st.lists(
        st.text(max_size=30).map(lambda t: text_digest(normalize(t))), max_size=3
    ).map(tuple),
    language=st.one_of(st.none(), st.sampled_from(["en", "ko", "fr", "de", "ja"])),
    model=st.sampled_from(["original", "unbiased", "multilingual", "unbiased-small", "custom"]),
)


def graphemes(text: str) -> int:
    return len(regex.findall(r"\X", text))


@SETTINGS
@given(text=TEXTS, scores=SCORES, context=CONTEXTS)
def test_evaluate_never_raises(text: str, scores: dict[str, Any], context: Context) -> None:
    assert graphemes(text) <= 250
    decision = SHIPPED_POLICY.evaluate(Comment(text, "a", "b"), scores, context)
    assert decision.action in ("approve", "hold")
    assert (decision.action == "hold") == bool(decision.reasons)
    for reason in decision.reasons:
        for span in reason.evidence.get("spans", ()):
            assert 0 <= span["start"] < span["end"] <= len(text)
    assert SHIPPED_POLICY.evaluate(Comment(text, "a", "b"), scores, context) == decision


BANNED = st.sampled_from(["fuck", "f4ck", "F.U.C.K", "cunt", "시발", "ㅅㅂ", "병신"])


def _untrusted(context: Context) -> Context:
    return Context(**{**context.__dict__, "author": {**context.author, "trusted": False}})


@SETTINGS
@given(text=TEXTS, scores=SCORES, context=CONTEXTS, banned=BANNED, data=st.data())
def test_a_banned_word_anywhere_never_turns_a_hold_into_an_approve(
    text: str, scores: dict[str, Any], context: Context, banned: str, data: st.DataObject
) -> None:
    context = _untrusted(context)
    position = data.draw(st.integers(0, len(text)))
    with_banned = f"{text[:position]} {banned} {text[position:]}"
    before = SHIPPED_POLICY.evaluate(Comment(text, "a", "b"), scores, context)
    after = SHIPPED_POLICY.evaluate(Comment(with_banned, "a", "b"), scores, context)
    assert after.action == "hold"
    assert not (before.action == "hold" and after.action == "approve")


@SETTINGS
@given(text=TEXTS, scores=SCORES, context=CONTEXTS, banned=BANNED, at_end=st.booleans())
def test_trusted_authors_adding_a_banned_word_keeps_a_hold(
    text: str, scores: dict[str, Any], context: Context, banned: str, at_end: bool
) -> None:
    # Trusted authors skip the term lists by design, so a banned word needn't hold their
    # comment; it still must not release one held for another reason.
    context = Context(**{**context.__dict__, "author": {**context.author, "trusted": True}})
    with_banned = f"{text} {banned}" if at_end else f"{banned} {text}"
    before = SHIPPED_POLICY.evaluate(Comment(text, "a", "b"), scores, context)
    after = SHIPPED_POLICY.evaluate(Comment(with_banned, "a", "b"), scores, context)
    if before.action == "hold":
        assert after.action == "hold"


@pytest.mark.parametrize("policy", [SHIPPED_POLICY])
def test_long_hostile_input_finishes(policy: Policy) -> None:
    for text in ("1" * 5000, "$" * 5000, "a." * 2500, "시1" * 2500, "f u " * 1250, "ㅅ " * 2500):
        assert policy.evaluate(Comment(text, "a", "b"), {}, Context()).action in ("approve", "hold")
