"""Banned and suspect term lists, compiled once and matched on folded text.

A list entry is written the way a dictionary spells the word (`fuck*`, `시발`); the spellings
readers use to slip past a filter are generated here rather than listed by hand:

- Latin-script words match whole words only, which is what keeps `Scunthorpe`, `class`,
  `cocktail` and `Sussex` clear of shorter entries. A `*` at either end of an entry lets the
  word continue on that side (`fuck*` also matches `fucking`).
- Each letter may be stretched (`fuuuck`) or written with a look-alike digit or symbol
  (`f4ck`, `$h1t`); a vowel may be replaced by any vowel stand-in (`f*ck`, `sh!t`).
- Letters may be spelled out with separators, as long as *every* gap has one (`f.u.c.k`,
  `f u c k`, `f*u*c*k`): a word that merely ends next to the rest of the term does not count, so
  `it's hit or miss` is not read as `s hit`.
- Hangul entries match anywhere (Korean attaches particles to words, so there are no word
  boundaries to rely on). Up to three digits or symbols may sit between syllables (`시1발`),
  but not spaces: `다시 발표` must not read as `시발`. An entry marked `[analysed]` (`시발
  [analysed]`) also needs the Korean analyser (`policy.korean`) to agree that no word runs
  across the match's edges, which clears compounds such as `도시발전` (도시 + 발전); the
  Scunthorpe cases left are listed as exceptions (`!시발점`).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Literal

import regex

from policy import korean
from policy.normalize import Folded, fold

Severity = Literal["banned", "suspect"]
SEVERITIES: tuple[Severity, ...] = ("banned", "suspect")

VOWELS = frozenset("aeiou")
VOWEL_STAND_INS = "@4310!*"
LOOKALIKES: dict[str, str] = {
    "a": "@4",
    "b": "8",
    "e": "3",
    "g": "69",
    "i": "1!|",
    "l": "1|!",
    "o": "0",
    "s": "$5",
    "t": "7+",
    "u": "v",
    "z": "2",
}
# The symbols above stand for letters, so they never count as a gap between letters; `*`
# is the exception, since readers use it both ways (`f*ck`, `f*u*c*k`).
_LETTER_GAP = r"[^\p{L}\p{N}@$!|+#]{1,3}"
_WORD_GAP = r"[^\p{L}\p{N}]*"
_HANGUL_GAP = r"[^\p{L}\s]{0,3}"
_JAMO_GAP = r"[^\p{L}]{0,3}"
_NOT_AFTER_WORD = r"(?<![\p{L}\p{N}])"
_NOT_BEFORE_WORD = r"(?![\p{L}\p{N}])"
_WORD_TAIL = r"[\p{L}\p{N}]*"

_ENTRY_SHAPE = regex.compile(r"\*?[\p{L}\p{N}]+(?:[\s-]+[\p{L}\p{N}]+)*\*?")
_HANGUL = regex.compile(r"\p{Hangul}")
_JAMO_ONLY = regex.compile("[\u1100-\u11ff\u3131-\u318e]+")
_WORDS = regex.compile(r"[\s-]+")
# After an entry: it counts only where no word the Korean analyser finds runs across it.
ANALYSED = "[analysed]"


def _skeleton_table() -> dict[int, str | None]:
    """For `skeleton`: vowels, their stand-ins, and any letter sharing a character with them
    (`l` shares `1` with `i`) are dropped; the remaining look-alikes become their letter."""
    classes = {
        letter: set(
            letter + LOOKALIKES.get(letter, "") + (VOWEL_STAND_INS if letter in VOWELS else "")
        )
        for letter in "abcdefghijklmnopqrstuvwxyz"
    }
    dropped: set[str] = set()
    for letter in VOWELS:
        dropped |= classes[letter]
    while overlapping := [
        letter for letter, chars in classes.items() if chars & dropped and not chars <= dropped
    ]:
        for letter in overlapping:
            dropped |= classes[letter]
    # Every other ASCII character that isn't a letter or digit goes here too, so ASCII text
    # needs no second pass.
    ascii_gaps = {chr(code) for code in range(128) if not chr(code).isalnum()}
    table: dict[int, str | None] = {ord(char): None for char in dropped | ascii_gaps}
    for letter, chars in classes.items():
        if letter not in dropped:
            table.update({ord(char): letter for char in chars})
    return table


_SKELETON_TABLE = _skeleton_table()
_NOT_LETTER_OR_DIGIT = regex.compile(r"[^\p{L}\p{N}]+")
# The standard library's engine squeezes runs faster than `regex` does.
_RUNS = re.compile(r"(.)\1+")


@dataclass(frozen=True, slots=True)
class TermHit:
    """Where an entry matched, in folded-text offsets."""

    start: int
    end: int
    entry: str


@dataclass(frozen=True, slots=True)
class _Entry:
    written: str
    pattern: regex.Pattern[str]
    # Strings the entry can't match without: in the skeleton (Latin) or in the folded text
    # (Hangul). Checking them is a few substring tests; running the pattern is a scan.
    needles: tuple[str, ...]
    hangul: bool
    analysed: bool


@dataclass(frozen=True)
class TermList:
    id: str
    language: str
    severity: Severity
    entries: tuple[str, ...]
    patterns: tuple[tuple[str, regex.Pattern[str]], ...]
    exceptions: tuple[str, ...]
    # The entries marked `[analysed]`.
    analysed: tuple[str, ...]
    _entries: tuple[_Entry, ...]
    _exceptions: regex.Pattern[str] | None

    def find(self, folded: Folded, *, skeleton_text: str | None = None) -> list[TermHit]:
        """Every match in `folded`; pass `skeleton(folded.text)` when checking several lists."""
        text = folded.text
        skeleton_text = skeleton(text) if skeleton_text is None else skeleton_text
        # (hit, whether the analyser must agree)
        found: list[tuple[TermHit, bool]] = []
        for entry in self._entries:
            haystack = text if entry.hangul else skeleton_text
            if all(map(haystack.__contains__, entry.needles)):
                found.extend(
                    (TermHit(match.start(), match.end(), entry.written), entry.analysed)
                    for match in entry.pattern.finditer(text)
                )
        for written, pattern in self.patterns:
            found.extend(
                (TermHit(match.start(), match.end(), written), False)
                for match in pattern.finditer(text)
                if match.end() > match.start()
            )
        if found and self._exceptions is not None:
            allowed = [match.span() for match in self._exceptions.finditer(text)]
            found = [
                (hit, analysed)
                for hit, analysed in found
                if not any(start <= hit.start and hit.end <= end for start, end in allowed)
            ]
        # Last, as the analyser is the slow part (and loads on first use).
        hits = [
            hit
            for hit, analysed in found
            if not (analysed and korean.crosses(text, hit.start, hit.end))
        ]
        return sorted(hits, key=lambda hit: (hit.start, hit.end, hit.entry))


def skeleton(folded_text: str) -> str:
    """Consonants only, look-alikes resolved, runs squeezed: what no spelling of an entry
    can do without.

    Vowels, their stand-ins, letters that share a stand-in with them (`l` shares `1` with
    `i`) and everything that may sit between letters are dropped, so whatever spelling an
    entry's pattern accepts, the entry's own skeleton is still in the text's skeleton.
    Looking for it there is far cheaper than running the pattern.
    """
    consonants = folded_text.translate(_SKELETON_TABLE)
    if not consonants.isascii():
        consonants = _NOT_LETTER_OR_DIGIT.sub("", consonants)
    return _RUNS.sub(r"\1", consonants)


def split_marker(entry: str) -> tuple[str, bool]:
    """The entry's word, and whether it is marked `[analysed]`."""
    word = entry.strip()
    if word.endswith(ANALYSED):
        return word.removesuffix(ANALYSED).rstrip(), True
    return word, False


def entry_problem(entry: str, *, exception: bool = False) -> str | None:
    """Why a list entry (or exception) can't be matched, or None when it can."""
    word, analysed = split_marker(entry)
    if not _ENTRY_SHAPE.fullmatch(fold(word).text):
        return (
            f"{entry!r} can't be matched: write the word plainly with letters, digits, "
            "spaces or hyphens, and an optional * at either end (look-alike spellings such "
            "as f4ck or $h1t are matched automatically)"
        )
    if analysed and (exception or not _HANGUL.search(word) or _JAMO_ONLY.fullmatch(word)):
        return (
            f"{entry!r}: only entries written in Hangul syllables can be {ANALYSED} "
            "(the Korean analyser reads words, not initials), and exceptions can't be"
        )
    return None


def compile_pattern(pattern: str) -> regex.Pattern[str]:
    """An editor's own regular expression; raises `regex.error` when it is invalid."""
    compiled = regex.compile(pattern, regex.IGNORECASE)
    if compiled.search("") is not None:
        raise regex.error("it matches empty text, so it would match every comment")
    return compiled


def build_term_list(
    *,
    id: str,
    language: str,
    severity: Severity,
    entries: tuple[str, ...],
    patterns: tuple[str, ...] = (),
    exceptions: tuple[str, ...] = (),
) -> TermList:
    """Compile a list whose entries and patterns have already been checked.

    `entries` may carry the `[analysed]` marker; the list's `entries` are the words alone,
    as reasons name them.
    """
    compiled = tuple(_entry(*split_marker(entry)) for entry in entries)
    allowed = None
    if exceptions:
        allowed = regex.compile("|".join(regex.escape(fold(word).text) for word in exceptions))
    return TermList(
        id=id,
        language=language,
        severity=severity,
        entries=tuple(dict.fromkeys(entry.written for entry in compiled)),
        patterns=tuple((pattern, compile_pattern(pattern)) for pattern in patterns),
        exceptions=exceptions,
        analysed=tuple(dict.fromkeys(entry.written for entry in compiled if entry.analysed)),
        _entries=compiled,
        _exceptions=allowed,
    )


def term_pattern(entry: str) -> str:
    """The regular expression (over folded text) for one plainly written entry."""
    folded = fold(entry).text
    core = folded.strip("*")
    if _HANGUL.search(core):
        chars = [char for char in core if not char.isspace()]
        # Jamo alone are never a word of their own, so spaces between them are evasion too.
        gap = _JAMO_GAP if _JAMO_ONLY.fullmatch("".join(chars)) else _HANGUL_GAP
        return gap.join(regex.escape(char) for char in chars)
    body = _WORD_GAP.join(_word_pattern(word) for word in _WORDS.split(core))
    if not folded.startswith("*"):
        body = _NOT_AFTER_WORD + body
    return body + (_WORD_TAIL if folded.endswith("*") else _NOT_BEFORE_WORD)


def _entry(written: str, analysed: bool) -> _Entry:
    core = fold(written).text.strip("*")
    hangul = bool(_HANGUL.search(core))
    if hangul:
        needles = tuple(dict.fromkeys(char for char in core if not char.isspace()))
    else:
        needles = tuple(filter(None, (skeleton(word) for word in _WORDS.split(core))))
    return _Entry(written, regex.compile(term_pattern(written)), needles, hangul, analysed)


def _word_pattern(word: str) -> str:
    # A doubled letter stays doubled (`ass` must not match `as`) but may stretch further.
    runs = [(_letter_class(letter), len(list(run))) for letter, run in itertools.groupby(word)]
    tight = "".join(f"{cls}+" if count == 1 else f"{cls}{{{count},}}" for cls, count in runs)
    if len(word) == 1:
        return tight
    spelled_out = _LETTER_GAP.join(f"{_letter_class(letter)}+" for letter in word)
    return f"(?:{tight}|{spelled_out})"


def _letter_class(letter: str) -> str:
    chars = letter + LOOKALIKES.get(letter, "")
    if letter in VOWELS:
        chars += VOWEL_STAND_INS
    return "[" + "".join(regex.escape(char) for char in dict.fromkeys(chars)) + "]"
