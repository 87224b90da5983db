# ruff: noqa: RUF001, RUF002 - the look-alike letters below are the point of this module.
"""Folding text to a plain form for matching, and back to the writer's own offsets.

Evasion lives in how a word is *written*, not in which word it is: `ＦＵＣＫ`, `fück`, `fսck`
(Armenian `ս`), `fu\u200bck`. Every rule that matches text therefore runs on the folded form,
and every span it reports is mapped back to code-point offsets in the text the reader wrote,
so a moderator's screen highlights what the reader actually typed.

Folding is character by character (never across characters), which is what keeps the map back
to the original exact: each folded character remembers the index of the character it came from.
"""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass

import regex

# Letters from other scripts that readers swap in for Latin ones because they look the same.
# Applied after case folding, so only lower-case forms are listed. Deliberately small: these are
# the look-alikes seen in evasion, not Unicode's full confusables table, which also folds
# ordinary letters of those scripts and would turn Russian or Greek prose into Latin noise.
# fmt: off
CONFUSABLES: dict[str, str] = {
    # Cyrillic
    "а": "a", "в": "b", "е": "e", "і": "i", "ј": "j", "к": "k",
    "м": "m", "н": "h", "о": "o", "р": "p", "с": "c", "ѕ": "s", "т": "t", "у": "y", "х": "x",
    "ь": "b", "ԁ": "d", "ԛ": "q", "ԝ": "w", "һ": "h", "ӏ": "l",
    # Greek
    "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p",
    "τ": "t", "υ": "u", "χ": "x", "ω": "w", "γ": "y",
    # Armenian
    "ա": "w", "հ": "h", "ո": "n", "ս": "u", "օ": "o", "ց": "g", "զ": "q", "ք": "p",
    # Latin letters with no decomposition, and IPA
    "ı": "i", "ł": "l", "ø": "o", "đ": "d", "ħ": "h", "ƒ": "f", "ɑ": "a", "ɡ": "g", "ɩ": "i",
    "ʏ": "y", "ɪ": "i", "ᴄ": "c", "ᴋ": "k", "ᴜ": "u",
    # A full stop that NFKD leaves alone, used to disguise domains (`example。com`).
    "。": ".",
}
# fmt: on

# Characters that render as nothing (or as blank Hangul) and so hide inside a word. Format
# characters (category Cf: zero-width space and joiners, bidi controls, soft hyphen) are
# dropped by category; these are the blank *letters* that category alone would keep.
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0")

_HANGUL_SYLLABLES = ("\uac00", "\ud7a3")
_JAMO_LEAD = ("\u1100", "\u1112")
_JAMO_VOWEL = ("\u1161", "\u1175")
_JAMO_TAIL = ("\u11a8", "\u11c2")
_LEAD_VOWEL = regex.compile("[\u1100-\u1112][\u1161-\u1175]")

_REPEAT_TOKEN = regex.compile(r"[\p{L}\p{N}\p{So}]+")
_LETTER_RUN = regex.compile(r"(\p{L})\1+")


@dataclass(frozen=True, slots=True)
class Folded:
    """A text folded for matching, with each folded character's index in the original."""

    source: str
    text: str
    origin: tuple[int, ...]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original code-point range behind folded `[start, end)`, whole graphemes only.

        The end widens over combining marks that followed the last matched character, so a
        highlight never cuts an accent off its letter.
        """
        original_start = self.origin[start]
        original_end = self.origin[end - 1] + 1
        while original_end < len(self.source) and _is_mark(self.source[original_end]):
            original_end += 1
        return original_start, original_end


def fold(text: str) -> Folded:
    """Case, width, accents, digits and look-alike letters folded away; invisibles dropped."""
    if text.isascii():
        return Folded(source=text, text=text.lower(), origin=tuple(range(len(text))))
    pieces = [_fold_char(char) for char in text]
    folded = "".join(pieces)
    origin = [index for index, piece in enumerate(pieces) for _ in piece]
    if _LEAD_VOWEL.search(folded):
        folded, origin = _compose_jamo(folded, origin)
    return Folded(source=text, text=folded, origin=tuple(origin))


def normalize(text: str) -> str:
    """The key two comments share when they say the same thing: used by the `repeat` rule.

    Folded, with punctuation and spacing reduced to single spaces between words and stretched
    letters squeezed (`Buyyy NOW!!!` and `buy now` share a key). Digits are kept as they are, so
    `vote 1` and `vote 2` stay different. Applying it twice changes nothing, so a stored key
    can be normalised again safely. It is a comparison key, never text to show.
    """
    return normalize_folded(fold(text).text)


def normalize_folded(folded: str) -> str:
    """`normalize` for text already folded."""
    return _LETTER_RUN.sub(r"\1", " ".join(_REPEAT_TOKEN.findall(folded)))


@functools.lru_cache(maxsize=16384)
def _fold_char(char: str) -> str:
    category = unicodedata.category(char)
    if category == "Cf" or char in _BLANK_LETTERS:
        return ""
    if category == "Nd":
        return str(unicodedata.decimal(char))
    if _HANGUL_SYLLABLES[0] <= char <= _HANGUL_SYLLABLES[1]:
        # NFKD would split a syllable into jamo; Korean terms are matched whole.
        return char
    out: list[str] = []
    for part in unicodedata.normalize("NFKD", char):
        if _is_mark(part):
            continue
        for lower in part.casefold():
            out.append(CONFUSABLES.get(lower, lower))
    return "".join(out)


def _is_mark(char: str) -> bool:
    return unicodedata.category(char).startswith("M")


def _compose_jamo(folded: str, origin: list[int]) -> tuple[str, list[int]]:
    """Join lead+vowel(+tail) jamo into syllables, so jamo spelled out one by one match too."""
    pieces: list[str] = []
    new_origin: list[int] = []
    index = 0
    while index < len(folded):
        char = folded[index]
        if (
            index + 1 < len(folded)
            and _JAMO_LEAD[0] <= char <= _JAMO_LEAD[1]
            and _JAMO_VOWEL[0] <= folded[index + 1] <= _JAMO_VOWEL[1]
        ):
            lead = ord(char) - ord(_JAMO_LEAD[0])
            vowel = ord(folded[index + 1]) - ord(_JAMO_VOWEL[0])
            tail = 0
            step = 2
            if index + 2 < len(folded) and _JAMO_TAIL[0] <= folded[index + 2] <= _JAMO_TAIL[1]:
                tail = ord(folded[index + 2]) - ord(_JAMO_TAIL[0]) + 1
                step = 3
            pieces.append(chr(ord(_HANGUL_SYLLABLES[0]) + (lead * 21 + vowel) * 28 + tail))
            new_origin.append(origin[index])
            index += step
        else:
            pieces.append(char)
            new_origin.append(origin[index])
            index += 1
    return "".join(pieces), new_origin
