"""Cutting a comment into sentences and model-sized pieces, and Perspective's offsets.

Offsets here are Python string indices (code points). Perspective's `spanScores` count
UTF-16 code units (its API reference: "the UTF-16 codepoint range", `end` exclusive), as a
JavaScript string does: `utf16_offsets` converts, so an emoji outside the Basic Multilingual
Plane counts two there and one here.

Sentences end at terminal punctuation followed by a space or the end of the text (or at once,
for the ideographic full stop), or at a line break. It is a plain rule, not a linguistic
segmenter: "Mr. Smith" is two spans. Every span is trimmed of surrounding whitespace, so spans
never overlap and always hold text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

Span = tuple[int, int]

# Closing quotes, guillemets and brackets that may follow a sentence's full stop.
_CLOSERS = "\"'\u201d\u2019\u00bb)\\]"
# . ! ? and the ellipsis, double ! and ?, then the ideographic full stop and fullwidth ! ?.
_ENDS = ".!?\u2026\u203c\u2047\u2048\u2049"
_CJK_ENDS = "\u3002\uff01\uff1f"
_BOUNDARY = re.compile(rf"[{_ENDS}]+[{_CLOSERS}]*(?=\s|$)|[{_CJK_ENDS}]+[{_CLOSERS}]*|\n")
_SPACE = re.compile(r"\s+")


def sentence_spans(text: str) -> list[Span]:
    spans: list[Span] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        _add_trimmed(spans, text, start, match.end())
        start = match.end()
    _add_trimmed(spans, text, start, len(text))
    return spans


def segment_spans(text: str, *, max_chars: int) -> list[Span]:
    """Sentences, with any longer than `max_chars` cut at spaces (or hard, if it has none)."""
    segments: list[Span] = []
    for begin, end in sentence_spans(text):
        segments.extend(_cut(text, begin, end, max_chars))
    return segments


def piece_spans(segments: Sequence[Span], *, max_chars: int) -> list[Span]:
    """Consecutive segments packed into pieces of at most `max_chars` (a longer segment alone)."""
    pieces: list[Span] = []
    for begin, end in segments:
        if pieces and end - pieces[-1][0] <= max_chars:
            pieces[-1] = (pieces[-1][0], end)
        else:
            pieces.append((begin, end))
    return pieces


def utf16_offsets(text: str, offsets: Iterable[int]) -> list[int]:
    """Code-point offsets into `text` as UTF-16 code-unit offsets."""
    wanted = list(offsets)
    if text.isascii():
        return wanted
    units = [0]
    for char in text:
        units.append(units[-1] + (2 if ord(char) > 0xFFFF else 1))
    return [units[offset] for offset in wanted]


def _add_trimmed(spans: list[Span], text: str, begin: int, end: int) -> None:
    segment = text[begin:end]
    stripped = segment.strip()
    if stripped:
        left = begin + len(segment) - len(segment.lstrip())
        spans.append((left, left + len(stripped)))


def _cut(text: str, begin: int, end: int, max_chars: int) -> list[Span]:
    cuts: list[Span] = []
    while end - begin > max_chars:
        limit = begin + max_chars
        spaces = list(_SPACE.finditer(text, begin + 1, limit + 1))
        cut = spaces[-1].start() if spaces else limit
        cuts.append((begin, cut))
        begin = cut
        while begin < end and text[begin].isspace():
            begin += 1
    if begin < end:
        cuts.append((begin, end))
    return cuts
