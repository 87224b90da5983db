"""Comment text as the contract defines it: normalised, then counted in user-perceived
characters (extended grapheme clusters), so an emoji family or a flag counts as one."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import regex

MAX_GRAPHEMES = 250
MAX_CODE_POINTS = 2_000
ALLOWED_CONTROLS = frozenset("\n\t")
# Trimming removes whitespace, and of the control characters only newline and tab:
# str.strip() would also eat \x0b, \x0c, \x1c-\x1f and \x85, which must answer 422 instead.
# No whitespace lies above U+3000.
TRIMMED = "".join(
    ch
    for ch in map(chr, range(0x3001))
    if ch.isspace() and (unicodedata.category(ch) != "Cc" or ch in ALLOWED_CONTROLS)
)
_GRAPHEME = regex.compile(r"\X")
# Category Cc is exactly U+0000-U+001F and U+007F-U+009F: one scan in C, not a Python loop
# over every character (tests/service/comments/test_text.py checks it against unicodedata).
_INVALID = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class TextProblem:
    code: str
    detail: str
    figures: dict[str, int]


def normalize_comment_text(raw: str) -> str:
    r"""NFC, `\r\n` as `\n`, trimmed; a lone `\r` stays, for validation to refuse."""
    text = raw.replace("\r\n", "\n")
    if _has_lone_surrogate(text):
        # NFC can't take lone surrogates; validation reports them.
        return text.strip(TRIMMED)
    return unicodedata.normalize("NFC", text).strip(TRIMMED)


def count_graphemes(text: str) -> int:
    return len(_GRAPHEME.findall(text))


def has_invalid_characters(text: str) -> bool:
    """Control characters but newline and tab, or lone surrogates: nothing a person typed,
    and NUL or a surrogate can't even be stored (PostgreSQL, UTF-8)."""
    return _INVALID.search(text) is not None


def check_comment_text(text: str) -> TextProblem | None:
    """The first thing wrong with an already-normalised text, or None."""
    if has_invalid_characters(text):
        return TextProblem(
            "text_invalid_characters",
            "The text contains control characters or lone surrogates.",
            {},
        )
    if not text:
        return TextProblem("text_empty", "The text is empty once trimmed.", {})
    if len(text) > MAX_CODE_POINTS:
        return TextProblem(
            "text_too_long",
            f"The text has {len(text)} code points; at most {MAX_CODE_POINTS} are accepted.",
            {
                "limit": MAX_GRAPHEMES,
                "length": count_graphemes(text),
                "code_points": len(text),
                "code_point_limit": MAX_CODE_POINTS,
            },
        )
    # A grapheme cluster holds one code point or more: a text of at most MAX_GRAPHEMES code
    # points is within the limit without counting (counting is the costly part).
    length = count_graphemes(text) if len(text) > MAX_GRAPHEMES else len(text)
    if length > MAX_GRAPHEMES:
        return TextProblem(
            "text_too_long",
            f"The text has {length} characters; the limit is {MAX_GRAPHEMES}.",
            {"limit": MAX_GRAPHEMES, "length": length},
        )
    return None


def _has_lone_surrogate(text: str) -> bool:
    return _SURROGATE.search(text) is not None
