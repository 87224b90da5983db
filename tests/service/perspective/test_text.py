"""Sentences, pieces and Perspective's UTF-16 offsets, on any Unicode."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.perspective.text import piece_spans, segment_spans, sentence_spans, utf16_offsets


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        ("One sentence", ["One sentence"]),
        ("First one. Second one! Third?", ["First one.", "Second one!", "Third?"]),
        ("  padded.   Next.  ", ["padded.", "Next."]),
        ('He said "stop." Then left.', ['He said "stop."', "Then left."]),
        ("Version 2.5 is out. Yes", ["Version 2.5 is out.", "Yes"]),
        ("line one\nline two\n\n", ["line one", "line two"]),
        ("Wait... what?! Ok", ["Wait...", "what?!", "Ok"]),
        ("첫 문장입니다. 두 번째", ["첫 문장입니다.", "두 번째"]),
        ("最初の文。次の文", ["最初の文。", "次の文"]),
        ("   ", []),
        ("", []),
    ],
)
def test_sentences(text: str, sentences: list[str]) -> None:
    assert [text[b:e] for b, e in sentence_spans(text)] == sentences


def test_long_sentences_are_cut_at_spaces_within_the_limit() -> None:
    text = "word " * 50 + "end."
    segments = segment_spans(text, max_chars=42)
    assert all(e - b <= 42 for b, e in segments)
    assert " ".join(text[b:e] for b, e in segments) == text.strip()


def test_a_sentence_without_spaces_is_cut_hard() -> None:
    text = "x" * 100
    assert segment_spans(text, max_chars=30) == [(0, 30), (30, 60), (60, 90), (90, 100)]


def test_pieces_pack_whole_segments_up_to_the_limit() -> None:
    text = "Aaaa. Bbbb. Cccc. Dddd."
    segments = segment_spans(text, max_chars=100)
    assert [text[b:e] for b, e in piece_spans(segments, max_chars=11)] == [
        "Aaaa. Bbbb.",
        "Cccc. Dddd.",
    ]


def test_utf16_offsets_count_astral_characters_twice() -> None:
    text = "a😀b é👍🏽c"
    offsets = utf16_offsets(text, range(len(text) + 1))
    assert offsets == [0, 1, 3, 4, 5, 6, 8, 10, 11]
    assert offsets[-1] == len(text.encode("utf-16-le")) // 2


def _utf16_slice(text: str, begin: int, end: int) -> str:
    return text.encode("utf-16-le")[2 * begin : 2 * end].decode("utf-16-le")


@given(st.text(max_size=300), st.integers(min_value=1, max_value=80))
def test_spans_hold_all_the_text_in_order_and_line_up_in_utf16(text: str, limit: int) -> None:
    spans = segment_spans(text, max_chars=limit)
    previous_end = 0
    for begin, end in spans:
        assert previous_end <= begin < end <= len(text)
        assert end - begin <= limit
        assert text[begin:end] == text[begin:end].strip()
        previous_end = end
    visible = "".join(char for char in text if not char.isspace())
    assert "".join(c for b, e in spans for c in text[b:e] if not c.isspace()) == visible
    offsets = utf16_offsets(text, [offset for span in spans for offset in span])
    for (begin, end), u_begin, u_end in zip(spans, offsets[::2], offsets[1::2], strict=True):
        assert _utf16_slice(text, u_begin, u_end) == text[begin:end]
