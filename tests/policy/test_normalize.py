# ruff: noqa: RUF001, RUF003 - look-alike letters are what these tests are about.
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from policy import normalize
from policy.normalize import fold


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("FUCK", "fuck"),
        ("ｆｕｃｋ", "fuck"),  # full width
        ("𝐟𝐮𝐜𝐤", "fuck"),  # mathematical bold
        ("fück", "fuck"),  # precomposed accent
        ("fu\u0308ck", "fuck"),  # combining accent
        ("fu\u200bck", "fuck"),  # zero-width space
        ("f\u202eu\u202ck", "fuk"),  # bidi override and pop
        ("f\u2066u\u2069ck", "fuck"),  # bidi isolates
        ("f\u00adu\u2060ck", "fuck"),  # soft hyphen, word joiner
        ("fаck", "fack"),  # Cyrillic а
        ("fսck", "fuck"),  # Armenian ս
        ("ΚΙΛΛ", "kiλλ"),  # Greek capitals fold, then look-alikes map
        ("ﬁne", "fine"),  # ligature expands
        ("Straße", "strasse"),
        ("łódź", "lodz"),
        ("０１０", "010"),  # full-width digits
        ("٠١٠", "010"),  # Arabic-Indic digits
        ("example。com", "example.com"),
        ("시발", "시발"),  # Hangul syllables stay whole
        ("ㅅㅂ", "\u1109\u1107"),  # compatibility jamo become conjoining jamo
        ("ㅅㅣ발", "시발"),  # spelled-out jamo join into a syllable
        ("\u1109\u1175\u1107\u1161\u11af", "시발"),  # lead, vowel and tail jamo
        ("시\u3164발", "시발"),  # Hangul filler is invisible
    ],
)
def test_fold_removes_disguises(text: str, folded: str) -> None:
    assert fold(text).text == folded


def test_fold_remembers_where_each_character_came_from() -> None:
    folded = fold("ﬁ\u200bx")
    assert folded.text == "fix"
    assert folded.origin == (0, 0, 2)


def test_span_maps_back_to_the_original_and_keeps_accents_on_their_letter() -> None:
    text = "a fu\u200bcke\u0301 b"
    folded = fold(text)
    start = folded.text.index("fucke")
    assert folded.span(start, start + 5) == (2, 9)
    assert text[2:9] == "fu\u200bcke\u0301"


def test_span_at_the_end_of_the_text() -> None:
    folded = fold("ab")
    assert folded.span(0, 2) == (0, 2)


def test_jamo_composition_keeps_offsets() -> None:
    folded = fold("x ㅅㅣ발")
    assert folded.text == "x 시발"
    assert folded.origin == (0, 1, 2, 4)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Buyyy NOW!!! at example", "buy now at example"),
        ("Great   article,\nthanks", "great article thanks"),
        ("ＧＲＥＡＴ ａｒｔｉｃｌｅ", "great article"),
        ("gr\u200beat article 👍", "great article 👍"),
        ("Fantastic", "fantastic"),
    ],
)
def test_normalize_gives_one_key_for_the_same_words(first: str, second: str) -> None:
    assert normalize(first) == normalize(second)


@pytest.mark.parametrize(
    ("first", "second"),
    [("vote 1", "vote 2"), ("I agree", "I disagree"), ("1000", "10")],
)
def test_normalize_keeps_different_texts_apart(first: str, second: str) -> None:
    assert normalize(first) != normalize(second)


@given(st.text(max_size=300))
def test_normalize_is_idempotent(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once


@given(st.text(max_size=300))
def test_fold_origin_is_monotonic_and_in_range(text: str) -> None:
    folded = fold(text)
    assert len(folded.origin) == len(folded.text)
    assert list(folded.origin) == sorted(folded.origin)
    assert all(0 <= index < len(text) for index in folded.origin)
