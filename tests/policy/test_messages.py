"""Reason messages from the catalogues: every rule's message in English and in Korean."""

from __future__ import annotations

import json
import string
from importlib import resources
from typing import Any

import pytest

from policy import author_standing
from policy.authors import ALWAYS_HOLD
from policy.decision import Decision, Reason
from policy.messages import LOCALES, PLURAL_FORMS, Catalogue, catalogue, reason_message
from tests.support.policies import policy_from

RECENT = {
    "rejected": 3,
    "decided": 5,
    "rate": 0.6,
    "window_days": 30,
    "min_decided": 5,
    "max_rate": 0.5,
}
INSULT = {"label": "insult", "score": 0.934, "threshold": 0.8}

# (kind, rule, evidence), the English message, the Korean one.
MESSAGES: list[tuple[str, str, dict[str, Any], str, str]] = [
    (
        "article",
        "article.premoderated",
        {},
        "This article is pre-moderated: every comment on it waits for a moderator.",
        "사전 검토 대상 기사입니다. 이 기사에 달린 댓글은 모두 운영자의 확인을 기다립니다.",
    ),
    (
        "author",
        "author.always_hold",
        {},
        "This author is on the always-hold list: every comment waits for a moderator.",
        "항상 보류 목록에 있는 작성자입니다. 이 작성자의 댓글은 모두 운영자의 확인을 기다립니다.",
    ),
    (
        "author",
        "author.new_commenter",
        {"approved": 1, "hold_until_approved": 3},
        "This author has 1 approved comment; new commenters are held until 3 are approved.",
        "이 작성자의 댓글은 지금까지 1개 승인되었습니다. "
        "새 작성자의 댓글은 승인된 댓글이 3개가 될 때까지 보류됩니다.",
    ),
    (
        "author",
        "author.new_commenter",
        {"approved": 0, "hold_until_approved": 1},
        "This author has 0 approved comments; new commenters are held until 1 is approved.",
        "이 작성자의 댓글은 지금까지 0개 승인되었습니다. "
        "새 작성자의 댓글은 승인된 댓글이 1개가 될 때까지 보류됩니다.",
    ),
    (
        "author",
        "author.recent_rejections",
        RECENT,
        "In the last 30 days, 3 of this author's 5 decided comments were rejected (60%); "
        "authors with more than 50% rejected, of at least 5 decided, are held.",
        "최근 30일 동안 이 작성자의 결정된 댓글 5개 중 3개가 거부되었습니다(60%). "
        "결정된 댓글이 5개 이상이고 그중 50%를 넘게 거부된 작성자의 댓글은 보류됩니다.",
    ),
    (
        "flood",
        "flood",
        {"count": 6, "hold_after": 5, "window_seconds": 300},
        "This author posted 6 comments in 5 minutes; more than 5 are held.",
        "이 작성자가 5분 동안 댓글을 6개 올렸습니다. "
        "이 시간 안에 5개를 넘게 올린 댓글은 보류됩니다.",
    ),
    (
        "flood",
        "flood",
        {"count": 3, "hold_after": 2, "window_seconds": 45},
        "This author posted 3 comments in 45 seconds; more than 2 are held.",
        "이 작성자가 45초 동안 댓글을 3개 올렸습니다. "
        "이 시간 안에 2개를 넘게 올린 댓글은 보류됩니다.",
    ),
    (
        "repeat",
        "repeat",
        {"previous": 1, "window_seconds": 86_400},
        "The same author already posted this text once in the last 24 hours.",
        "같은 작성자가 지난 24시간 동안 같은 글을 이미 1회 올렸습니다.",
    ),
    (
        "repeat",
        "repeat",
        {"previous": 2, "window_seconds": 2 * 86_400},
        "The same author already posted this text 2 times in the last 2 days.",
        "같은 작성자가 지난 2일 동안 같은 글을 이미 2회 올렸습니다.",
    ),
    (
        "toxicity",
        "toxicity.insult",
        INSULT,
        "The model rates this comment an insult (score 0.93; comments at 0.80 or above are held).",
        "모델이 평가한 이 댓글의 모욕 점수는 0.93입니다(0.80 이상이면 보류됩니다).",
    ),
    (
        "toxicity",
        "toxicity.insult",
        {**INSULT, "threshold": 0.9, "auto_trust_margin": 0.1},
        "The model rates this comment an insult (score 0.93; this author is trusted "
        "automatically, so theirs are held at 0.90 or above).",
        "모델이 평가한 이 댓글의 모욕 점수는 0.93입니다"
        "(자동으로 신뢰하는 작성자라서 0.90 이상일 때 보류됩니다).",
    ),
    (
        "toxicity",
        "toxicity.hate",
        {"label": "hate", "score": 0.71, "threshold": 0.7},
        "The model scores this comment 0.71 for 'hate' (comments at 0.70 or above are held).",
        "모델이 평가한 이 댓글의 'hate' 점수는 0.71입니다(0.70 이상이면 보류됩니다).",
    ),
    (
        "terms",
        "en-banned",
        {"severity": "banned", "language": "en", "terms": ["x"], "spans": []},
        "Uses a word on the banned list (English).",
        "금지어 목록(영어)에 있는 단어가 들어 있습니다.",
    ),
    (
        "terms",
        "ko-suspect",
        {"severity": "suspect", "language": "ko"},
        "Uses a word on the watch list (Korean): often abusive, so a moderator should check "
        "how it is used.",
        "주의어 목록(한국어)에 있는 단어가 들어 있습니다. "
        "욕설로 자주 쓰이는 말이므로 어떤 뜻으로 쓰였는지 운영자가 확인해야 합니다.",
    ),
    (
        "terms",
        "sw-banned",
        {"severity": "banned", "language": "sw"},
        "Uses a word on the banned list (sw).",
        "금지어 목록(sw)에 있는 단어가 들어 있습니다.",
    ),
    (
        "links",
        "links",
        {"domains": ["spam.biz", "x.example"], "spans": []},
        "Links to spam.biz, x.example, not on the list of allowed sites.",
        "허용된 사이트 목록에 없는 곳으로 연결되는 링크가 있습니다: spam.biz, x.example.",
    ),
    (
        "personal_info",
        "personal_info.email",
        {"spans": []},
        "Contains what looks like an e-mail address; readers' personal details are not published.",
        "이메일 주소로 보이는 내용이 있습니다. 독자의 개인 정보는 게시하지 않습니다.",
    ),
    (
        "personal_info",
        "personal_info.phone",
        {"spans": []},
        "Contains what looks like a phone number; readers' personal details are not published.",
        "전화번호로 보이는 내용이 있습니다. 독자의 개인 정보는 게시하지 않습니다.",
    ),
    (
        "personal_info",
        "personal_info.resident_number",
        {"spans": [], "checksum_valid": [True]},
        "Contains what looks like a Korean resident registration number; readers' personal "
        "details are not published.",
        "주민등록번호로 보이는 내용이 있습니다. 독자의 개인 정보는 게시하지 않습니다.",
    ),
    (
        "language",
        "language",
        {"language": "ja", "covered": ["en", "ko"]},
        "Written in Japanese, which no model configured here reads (they read: English, "
        "Korean), so a person should read it.",
        "이 댓글의 언어(일본어)를 읽는 모델이 설정되어 있지 않으므로 사람이 읽어야 합니다"
        "(모델이 읽는 언어: 영어, 한국어).",
    ),
    (
        "language",
        "language",
        {"language": "sw", "covered": []},
        "Written in language 'sw', which no model configured here reads (they read: none), "
        "so a person should read it.",
        "이 댓글의 언어('sw')를 읽는 모델이 설정되어 있지 않으므로 사람이 읽어야 합니다"
        "(모델이 읽는 언어: 없음).",
    ),
    (
        "reports",
        "reports.hide_after",
        {"count": 1, "hide_after": 1},
        "Hidden after 1 reader reported it.",
        "독자 1명이 신고해서 숨겨졌습니다.",
    ),
    (
        "reports",
        "reports.hide_after",
        {"count": 3, "hide_after": 3},
        "Hidden after 3 readers reported it.",
        "독자 3명이 신고해서 숨겨졌습니다.",
    ),
    (
        "error",
        "worker_killed",
        {"kills": 3},
        "Scoring this comment stopped the worker 3 times (killed, out of memory or out of time), "
        "so no model has scored it: a person must read it.",
        "이 댓글의 점수를 매기는 동안 작업 프로세스가 3번 중단되어(강제 종료, 메모리 부족 또는 "
        "시간 초과) 모델이 점수를 매기지 못했습니다. 사람이 직접 읽어야 합니다.",
    ),
]


@pytest.mark.parametrize(("kind", "rule", "evidence", "english", "korean"), MESSAGES)
def test_every_rule_in_english_and_korean(
    kind: str, rule: str, evidence: dict[str, Any], english: str, korean: str
) -> None:
    assert catalogue("en").reason(kind, rule, evidence) == english
    assert catalogue("ko").reason(kind, rule, evidence) == korean
    stored = {"kind": kind, "rule": rule, "message": "as stored", **evidence}
    assert reason_message(stored, "ko") == korean


@pytest.mark.parametrize(
    ("seconds", "english", "korean"),
    [
        (1, "1 second", "1초"),
        (90, "90 seconds", "90초"),
        (120, "2 minutes", "2분"),
        (3_600, "60 minutes", "60분"),
        (7_200, "2 hours", "2시간"),
        (86_400, "24 hours", "24시간"),
        (172_800, "2 days", "2일"),
    ],
)
def test_durations(seconds: int, english: str, korean: str) -> None:
    assert catalogue("en").duration(seconds) == english
    assert catalogue("ko").duration(seconds) == korean


# Figures Korean reads as bare numbers where English reads a phrase ("3 approved comments").
EXTRA = {
    "reason.author.new_commenter": {"approved"},
    "reason.author.recent_rejections": {"decided"},
    "standing.auto_trusted": {"approved"},
    "standing.standard": {"approved"},
}


def _messages(locale: str) -> dict[str, Any]:
    source = resources.files("policy").joinpath("locales", f"{locale}.json")
    loaded: dict[str, Any] = json.loads(source.read_text(encoding="utf-8"))
    return loaded


def _placeholders(message: Any) -> set[str]:
    forms = [message] if isinstance(message, str) else list(message.values())
    return {
        name.split(".")[0]
        for form in forms
        for _, name, _, _ in string.Formatter().parse(form)
        if name
    }


def test_catalogues_have_the_same_keys_and_well_formed_messages() -> None:
    english = _messages("en")
    for locale in LOCALES:
        messages = _messages(locale)
        assert messages.keys() == english.keys(), locale
        for key, message in messages.items():
            if isinstance(message, dict):
                assert "other" in message and set(message) <= set(PLURAL_FORMS), (locale, key)
            else:
                assert isinstance(message, str), (locale, key)
            # A translation may leave a figure out, never name one the English doesn't give.
            assert _placeholders(message) <= _placeholders(english[key]) | EXTRA.get(key, set())
    korean = _messages("ko")
    # Korean has no singular: one form, "other", for every count.
    plurals = [message for message in korean.values() if isinstance(message, dict)]
    assert all(set(message) == {"other"} for message in plurals)


def test_every_message_key_is_rendered_by_the_table() -> None:
    """No catalogue entry is left unchecked: the table above renders every key."""
    used: set[str] = set()

    class Recording(Catalogue):
        def text(self, key: str, /, **params: Any) -> str:
            used.add(key)
            return super().text(key, **params)

        def has(self, key: str) -> bool:
            found = super().has(key)
            if found:
                used.add(key)
            return found

    english = catalogue("en")
    recording = Recording(english.locale, english.messages)
    for kind, rule, evidence, _, _ in MESSAGES:
        recording.reason(kind, rule, evidence)
    for label in ("toxicity", "severe_toxicity", "obscene", "threat", "identity_attack"):
        recording.reason("toxicity", f"toxicity.{label}", {**INSULT, "label": label})
    recording.reason("toxicity", "toxicity.x", {**INSULT, "label": "sexual_explicit"})
    for code in ("fr", "es", "it", "pt", "tr", "ru", "de", "nl", "zh", "ar", "pl", "uk"):
        recording.reason("language", "language", {"language": code, "covered": []})
    standing_keys = {key for key in english.messages if key.startswith("standing.")}
    assert set(english.messages) - used == standing_keys


@pytest.mark.parametrize(
    "stored",
    [
        # Stored before the evidence held what the message reads.
        {"kind": "flood", "rule": "flood", "message": "Too many.", "count": 6},
        {"kind": "toxicity", "rule": "toxicity.hold", "message": "Toxicity 0.74"},
        # Evidence of the wrong type.
        {"kind": "toxicity", "rule": "toxicity.insult", "message": "m", **INSULT, "score": "x"},
        {"kind": "flood", "rule": "flood", "message": "m", "count": None, "hold_after": 5},
        # Not a policy rule's: a moderator's, or a kind no rule gives.
        {"kind": "moderator", "rule": "override", "message": "Looked fine."},
        {"kind": "article", "rule": "article.closed", "message": "Closed."},
        {"kind": "terms", "rule": "en-x", "message": "m", "severity": "odd", "language": "en"},
    ],
)
def test_a_reason_that_cannot_be_rendered_keeps_its_stored_message(stored: dict[str, Any]) -> None:
    assert reason_message(stored, "ko") is None


def test_an_unshipped_locale_is_refused() -> None:
    with pytest.raises(ValueError, match="'fr'"):
        catalogue("fr")
    with pytest.raises(ValueError, match="'fr'"):
        reason_message({"kind": "article", "rule": "article.premoderated"}, "fr")


def test_a_decision_in_another_locale_keeps_kind_rule_and_evidence() -> None:
    english = Decision.from_reasons(
        (
            Reason.of("article", "article.premoderated"),
            Reason.of("toxicity", "toxicity.insult", INSULT),
        ),
        policy_version="v1",
    )
    korean = english.in_locale("ko")
    assert [reason.message for reason in korean.reasons] == [
        "사전 검토 대상 기사입니다. 이 기사에 달린 댓글은 모두 운영자의 확인을 기다립니다.",
        "모델이 평가한 이 댓글의 모욕 점수는 0.93입니다(0.80 이상이면 보류됩니다).",
    ]
    assert [(r.kind, r.rule, r.evidence) for r in korean.reasons] == [
        (r.kind, r.rule, r.evidence) for r in english.reasons
    ]
    assert (korean.action, korean.policy_version) == ("hold", "v1")
    assert korean.in_locale("en") == english


def _record(approved: int, rejected: int = 0, **flags: bool) -> dict[str, Any]:
    recent = {"window_days": 30, "decided": approved + rejected, "rejected": rejected}
    return {"approved": approved, "rejected": rejected, "held": 0, "recent": recent, **flags}


AUTHOR_RULES = """
author:
  trusted_skip: [links, repeat]
  new_commenter: {enabled: true, hold_until_approved: 2}
  recent_rejections: {enabled: true, window_days: 30, min_decided: 5, max_rate: 0.5}
  auto_trust: {enabled: true, after_approved: 20, max_rejection_rate: 0.05, toxicity_margin: 0.1}
"""


@pytest.mark.parametrize(
    ("author", "korean"),
    [
        ({"always_hold": True}, "항상 보류 목록에 있는 작성자입니다."),
        (
            {"trusted": True},
            "운영자가 이 작성자를 신뢰하는 작성자로 표시했습니다. links, repeat 규칙으로는",
        ),
        ({}, "결정된 댓글 수가 기록되지 않아 적용되는 작성자 규칙이 없습니다."),
        (_record(2, 4), "최근 30일 동안 이 작성자의 결정된 댓글 6개 중 4개가 거부되었습니다"),
        (_record(1), "이 작성자의 댓글은 지금까지 1개 승인되었습니다."),
        (
            _record(20),
            "이 작성자는 승인된 댓글이 20개, 거부된 댓글이 0개라서 자동으로 신뢰합니다. "
            "유해성 규칙은 각 기준보다 0.10 높은 점수(최대 0.99)부터",
        ),
        (
            _record(3),
            "이 작성자는 승인된 댓글이 3개, 거부된 댓글이 0개이며, "
            "적용되는 작성자 규칙이 없습니다.",
        ),
    ],
)
def test_an_authors_standing_in_korean(author: dict[str, Any], korean: str) -> None:
    settings = policy_from(AUTHOR_RULES).author
    standing = author_standing(settings, author, locale="ko")
    assert standing.message.startswith(korean)
    english = author_standing(settings, author)
    assert (standing.state, standing.rule) == (english.state, english.rule)
    assert english.message != standing.message


def test_standing_with_the_author_rules_off_in_korean() -> None:
    settings = policy_from("author:\n  enabled: false\n").author
    standing = author_standing(settings, {"always_hold": True}, locale="ko")
    assert standing.message == "정책의 작성자 규칙이 꺼져 있습니다."
    assert standing.rule is None


def test_always_hold_standing_in_korean() -> None:
    settings = policy_from(AUTHOR_RULES).author
    standing = author_standing(settings, {"always_hold": True, "trusted": True}, locale="ko")
    assert (standing.state, standing.rule) == ("always_hold", ALWAYS_HOLD)
