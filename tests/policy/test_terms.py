# ruff: noqa: RUF001, RUF003 - look-alike letters are what these tests are about.
from __future__ import annotations

import pytest
import regex
from hypothesis import given
from hypothesis import strategies as st

from policy import Policy
from policy.normalize import fold
from policy.termlists import build_term_list, compile_pattern, entry_problem, term_pattern
from tests.support.policies import evaluate, policy_from

# A deliberately aggressive list: short entries inside innocent words are the Scunthorpe
# problem, and these must still not match them.
TOUGH = build_term_list(
    id="tough",
    language="en",
    severity="banned",
    entries=("fuck*", "*fuck*", "shit", "cunt*", "ass", "cock", "sex", "kill yourself"),
)
KOREAN = build_term_list(
    id="ko",
    language="ko",
    severity="banned",
    entries=("시발", "씨발", "ㅅㅂ", "병신"),
    exceptions=("시발점", "다시발"),
)


def matches(term_list: object, text: str) -> list[tuple[str, int, int]]:
    folded = fold(text)
    return [
        (hit.entry, *folded.span(hit.start, hit.end))
        for hit in term_list.find(folded)  # type: ignore[attr-defined]
    ]


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("fuck", (0, 4)),
        ("f4ck", (0, 4)),  # leetspeak
        ("f*ck", (0, 4)),  # a star for the vowel
        ("fvck", (0, 4)),
        ("fuuuuuck", (0, 8)),  # stretched
        ("ffuucckk", (0, 8)),
        ("f.u.c.k", (0, 7)),  # separators
        ("f*u*c*k", (0, 7)),  # a star between letters, not for a vowel
        ("F * U * C * K", (0, 13)),
        ("f u c k", (0, 7)),
        ("f-u-c-k", (0, 7)),
        ("f—u—c—k", (0, 7)),
        ("fu\u200bck", (0, 5)),  # zero-width space
        ("f\u200du\u200cck", (0, 6)),  # zero-width joiner and non-joiner
        ("f\u202eu\u202dck", (0, 6)),  # bidi overrides
        ("FUCK", (0, 4)),
        ("ＦＵＣＫ", (0, 4)),
        ("fück", (0, 4)),
        ("fսck", (0, 4)),  # Armenian ս
        ("fυck", (0, 4)),  # Greek υ
        ("so, fuck this", (4, 8)),
        ("you're fucking kidding", (7, 14)),  # fuck* continues the word
        ("motherfucker", (6, 12)),  # *fuck* inside a word
        ("#fuck", (1, 5)),
    ],
)
def test_obfuscated_fuck_is_found_with_its_span(text: str, span: tuple[int, int]) -> None:
    found = matches(TOUGH, text)
    assert found, text
    assert (found[0][1], found[0][2]) == span


@pytest.mark.parametrize(
    "text",
    [
        "$h1t",
        "sh!t",
        "5hit",
        "shiiiit",
        "s.h.i.t",
        "ｓｈｉｔ",
        "shіt",  # Cyrillic і
        "ѕhit",  # Cyrillic ѕ
        "cunt",
        "cսnt",  # Armenian ս
        "c\u200bunt",
        "ass",
        "a$$",
        "@ss",
        "a s s",
        "sex",
        "s3x",
        "kill yourself",
        "killyourself",
        "ki11 yourself",
        "kill+yourself",
    ],
)
def test_obfuscations_are_found(text: str) -> None:
    assert matches(TOUGH, text), text


@pytest.mark.parametrize(
    "text",
    [
        "Scunthorpe United won",
        "a class act",
        "the assassin fled",
        "Sussex police",
        "cocktail hour",
        "Essex and Middlesex",
        "shiitake mushrooms",
        "his hit record",
        "it's hit or miss",  # `s hit` is not `shit`: only some gaps are spaced
        "as soon as possible",
        "as s",
        "cockpit",
        "shut up",
        "shot",
        "Dickensian",
        "passion",
        "the bass sounded",
        "I skill yourself up",
        "",
    ],
)
def test_innocent_words_are_not_found(text: str) -> None:
    assert matches(TOUGH, text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ㅅㅂ", [("ㅅㅂ", 0, 2)]),
        ("ㅅ ㅂ", [("ㅅㅂ", 0, 3)]),  # spaces between jamo are evasion too
        ("ㅅ1ㅂ", [("ㅅㅂ", 0, 3)]),
        ("시1발", [("시발", 0, 3)]),  # digit squeezed between syllables
        ("시.발", [("시발", 0, 3)]),
        ("씨~발", [("씨발", 0, 3)]),
        ("이 시발놈아", [("시발", 2, 4)]),  # particles attach to the word
        ("병1신 같은", [("병신", 0, 3)]),
        ("ㅅㅣ발", [("시발", 0, 3)]),  # jamo spelled out one by one
        ("시발", [("시발", 0, 2)]),
        ("병신", [("병신", 0, 2)]),
        ("아시발", [("시발", 1, 3)]),  # "ah, fuck" written without a space
        ("존나시발", [("시발", 2, 4)]),
        ("시발 진짜", [("시발", 0, 2)]),
        ("개시발놈", [("개시발놈", 0, 4), ("시발", 1, 3)]),  # 개시 + 발표 is news; this is not
        ("개시발", [("시발", 1, 3)]),  # 개- + 시발
        ("이 병신년아", [("병신년아", 2, 6)]),  # the year 병신년 used as an insult
        ("병신같은 기사", [("병신", 0, 2)]),
        ("시발점", []),  # exception: starting point
        ("다시발견했다", []),  # exception: found again
        ("다시 발표", []),  # spaces between whole syllables don't count
        ("시바견", []),
        ("시발점에서 시발", [("시발", 6, 8)]),
        # News words with 시발 inside: a word ending in 시, then one starting with 발 (the
        # analyser's word boundaries clear them, as they do words no exception lists).
        ("공시발표", []),
        ("입시발표 일정", []),
        ("실시발표", []),
        ("시발표에 따르면", []),  # 시 발표: the city announced
        ("지시발언", []),
        ("무시발언 논란", []),
        ("교시발", []),
        ("표시발", []),
        ("게시발행 규정", []),
        ("공사 개시발표", []),
        ("서비스 개시발령", []),
        ("도시발전 계획", []),
        ("동시발생", []),
        ("즉시발효", []),
        ("세종시발전위원회", []),
        ("여권 임시발급", []),
        ("김씨발언이 논란이 됐다", []),  # 김씨 + 발언
        ("볍씨발아 시기", []),
        ("서울시발주 공사", []),
        # 始發 itself: the first Korean-built car and its taxis.
        ("시발택시", []),
        ("시발자동차", []),
        ("시발 자동차를 복원했다", []),
        # 병신 inside news words.
        ("병신년", []),  # 丙申年, 2016
        ("2016년 병신년 새해", []),
        ("신병신고", []),
        ("질병신호", []),
        ("당뇨병신약 임상", []),
        ("감염병신고 건수", []),
        # 始發 for a line's first departure.
        ("첫차 시발 시각", []),
        ("시발역에서 첫차를 탔다", []),
    ],
)
def test_korean_terms(shipped: Policy, text: str, expected: list[tuple[str, int, int]]) -> None:
    (ko_banned,) = [term_list for term_list in shipped.terms.lists if term_list.id == "ko-banned"]
    assert matches(ko_banned, text) == expected


def test_spans_are_code_point_offsets_into_the_original_text() -> None:
    text = "👍🏽 good, but ｆ\u200bｕｃｋ that and 시1발"
    found = matches(TOUGH, text) + matches(KOREAN, text)
    spans = sorted({(start, end) for _, start, end in found})
    assert [text[start:end] for start, end in spans] == ["ｆ\u200bｕｃｋ", "시1발"]


def test_patterns_match_on_folded_text() -> None:
    term_list = build_term_list(
        id="spam", language="en", severity="suspect", entries=(), patterns=(r"buy\s+followers",)
    )
    assert matches(term_list, "BUY  ＦＯＬＬＯＷＥＲＳ now") == [("buy\\s+followers", 0, 14)]
    assert matches(term_list, "followers") == []


def test_empty_pattern_matches_are_ignored() -> None:
    term_list = build_term_list(
        id="odd", language="en", severity="suspect", entries=(), patterns=(r"(?=x)",)
    )
    assert matches(term_list, "xx") == []


def test_a_list_with_only_exceptions_that_do_not_apply() -> None:
    term_list = build_term_list(
        id="x", language="en", severity="banned", entries=("cunt",), exceptions=("scunthorpe",)
    )
    assert matches(term_list, "cunt") == [("cunt", 0, 4)]
    assert matches(term_list, "nothing here") == []


def test_entries_without_consonants_are_always_tried() -> None:
    term_list = build_term_list(id="x", language="fr", severity="suspect", entries=("oui",))
    assert matches(term_list, "0u1") == [("oui", 0, 3)]


@pytest.mark.parametrize("entry", ["fuck", "fuck*", "*fuck*", "kill yourself", "f-word", "시발"])
def test_plain_entries_are_accepted(entry: str) -> None:
    assert entry_problem(entry) is None


@pytest.mark.parametrize("entry", ["$h1t", "f.u.c.k", "a*b", "**", "!", "fu ck!"])
def test_entries_with_symbols_are_refused(entry: str) -> None:
    assert "can't be matched" in str(entry_problem(entry))


def test_compile_pattern_refuses_empty_matches() -> None:
    with pytest.raises(regex.error, match="empty text"):
        compile_pattern("x*")


def test_term_pattern_is_a_plain_regular_expression() -> None:
    assert regex.search(term_pattern("fuck*"), "f4cking")
    assert regex.search(term_pattern("시발"), "시1발")


# The consonant skeleton only decides which entries are worth running; it must never hide a
# match. Compare with running every entry's pattern on every text.
PIECES = st.sampled_from(
    [
        "f", "u", "c", "k", "4", "*", ".", " ", "s", "h", "i", "t", "$", "1", "!", "a", "5",
        "l", "y", "o", "r", "e", "-", "+", "ｆ", "ս", "\u200b", "v", "0", "3", "|", "@", "é",
        "시", "발", "1", "ㅅ", "ㅂ", "ㅣ", "—", "\x01", "\x7f", "#", "_", "\u3000", "٣",
    ]
)  # fmt: skip


@given(st.lists(st.one_of(PIECES, st.characters()), max_size=40).map("".join))
def test_skeleton_prefilter_never_hides_a_match(text: str) -> None:
    folded = fold(text)
    for term_list in (TOUGH, KOREAN):
        expected = set()
        for entry in term_list.entries:
            for match in regex.finditer(term_pattern(entry), folded.text):
                expected.add((match.start(), match.end(), entry))
        found = {(hit.start, hit.end, hit.entry) for hit in term_list.find(folded)}
        exceptions = [regex.escape(fold(word).text) for word in term_list.exceptions]
        allowed = (
            [m.span() for m in regex.finditer("|".join(exceptions), folded.text)]
            if exceptions
            else []
        )
        expected = {
            hit for hit in expected if not any(s <= hit[0] and hit[1] <= e for s, e in allowed)
        }
        assert found == expected


@pytest.mark.parametrize(
    "text",
    [
        "Scunthorpe", "class", "assassin", "Sussex", "cocktail", "shiitake", "niggardly",
        "retardant", "Dickens", "spick and span", "cockney", "analysis", "therapist",
        "grape", "title", "circumstance", "twattle", "hello", "shuttlecock",
        "다시 발표합니다", "시발점", "출시발표", "불이 꺼져",
        "spic and span", "Spic-and-span kitchens", "a chink in his armour",
        "a Chink in the Armor", "a chink of light", "공시발표", "병신년 새해", "naver 검색",
    ],
)  # fmt: skip
def test_shipped_lists_leave_innocent_words_alone(shipped: Policy, text: str) -> None:
    assert evaluate(shipped, text).action == "approve"


@pytest.mark.parametrize(
    ("text", "rule", "severity"),
    [
        ("f4ck off", "en-banned", "banned"),
        ("what a load of $h1t", "en-suspect", "suspect"),
        ("bullshit", "en-suspect", "suspect"),
        ("이 ㅅㅂ", "ko-banned", "banned"),
        ("시1발", "ko-banned", "banned"),
        ("미친놈", "ko-suspect", "suspect"),
        ("f*u*c*k off", "en-banned", "banned"),
        ("spic", "en-banned", "banned"),
        ("spic and span, then a spic", "en-banned", "banned"),
        ("a chink", "en-suspect", "suspect"),
        ("chink in the armour, he called him a chink", "en-suspect", "suspect"),
        ("개시발놈", "ko-banned", "banned"),
    ],
)
def test_shipped_lists_hold(shipped: Policy, text: str, rule: str, severity: str) -> None:
    decision = evaluate(shipped, text)
    assert decision.action == "hold"
    (reason,) = decision.reasons
    assert (reason.kind, reason.rule, reason.evidence["severity"]) == ("terms", rule, severity)


def test_terms_reason_shape(shipped: Policy) -> None:
    text = "F.U.C.K this, f4ck that"
    (reason,) = evaluate(shipped, text).reasons
    assert reason.to_dict() == {
        "kind": "terms",
        "rule": "en-banned",
        "message": "Uses a word on the banned list (English).",
        "severity": "banned",
        "language": "en",
        "terms": ["*fuck*"],
        "spans": [{"start": 0, "end": 7}, {"start": 14, "end": 18}],
    }


def test_suspect_message_asks_for_judgement(shipped: Policy) -> None:
    (reason,) = evaluate(shipped, "bastards").reasons
    assert "watch list (English)" in reason.message


def test_unknown_language_code_is_shown_as_is() -> None:
    policy = policy_from(
        "terms:\n  lists:\n    - {id: x, language: sw, severity: banned, words: [zork]}\n"
    )
    (reason,) = evaluate(policy, "zork").reasons
    assert reason.message == "Uses a word on the banned list (sw)."


def test_terms_can_be_switched_off() -> None:
    policy = policy_from("terms:\n  enabled: false\n")
    assert evaluate(policy, "fuck").action == "approve"
