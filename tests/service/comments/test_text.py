"""The comment-text checks that run on every POST: fast forms, checked against their
definitions."""

from __future__ import annotations

import unicodedata

import pytest

from service.comments.text import (
    MAX_GRAPHEMES,
    check_comment_text,
    count_graphemes,
    has_invalid_characters,
)


def test_invalid_characters_are_exactly_controls_but_newline_and_tab_and_surrogates() -> None:
    for code in range(0x110000):
        ch = chr(code)
        expected = (
            unicodedata.category(ch) == "Cc" and ch not in "\n\t"
        ) or 0xD800 <= code <= 0xDFFF
        assert has_invalid_characters(f"ok {ch} ok") is expected, hex(code)


@pytest.mark.parametrize(
    ("text", "too_long"),
    [
        ("a" * MAX_GRAPHEMES, False),
        ("a" * (MAX_GRAPHEMES + 1), True),
        # 251 code points, 250 graphemes: counted, and within the limit.
        ("e\u0301" + "a" * (MAX_GRAPHEMES - 1), False),
        ("\U0001f468\u200d\U0001f469\u200d\U0001f467" * MAX_GRAPHEMES, False),
        ("\U0001f468\u200d\U0001f469\u200d\U0001f467" * (MAX_GRAPHEMES + 1), True),
    ],
)
def test_the_limit_counts_graphemes_only_past_250_code_points(text: str, too_long: bool) -> None:
    problem = check_comment_text(text)
    assert (problem is not None and problem.code == "text_too_long") is too_long
    if too_long:
        assert problem is not None
        assert problem.figures["length"] == count_graphemes(text)
