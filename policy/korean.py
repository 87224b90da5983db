"""Where Korean words begin and end, read by a morphological analyser (Kiwi).

Korean writes particles and compounds without spaces, so a banned pair of syllables can sit
across two innocent words: `도시발전` is 도시 (city) + 발전 (development), not 시발. A list
entry marked `[analysed]` counts only where no word the analyser finds runs across the
match's edges.

Kiwi's model (in the `kiwipiepy_model` package, read from site-packages: no network) costs
a few seconds and about 330 MB to load, so it is loaded on the first match that needs it
and kept for the life of the process. Its typo-correction and multi-word dictionaries stay
unloaded: they cost memory and aren't needed to find where a word ends.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import regex

if TYPE_CHECKING:
    from kiwipiepy import Kiwi

# How much text either side of a match the analyser reads: enough for the words around it,
# which is what it needs to choose between readings, without reading a whole long comment.
CONTEXT = 32

_SPACE = regex.compile(r"\s")


def crosses(text: str, start: int, end: int) -> bool:
    """Whether a morpheme runs across either edge of `text[start:end]`: the match's first or
    last syllable belongs to a word outside it (도시|발전 across 시발).

    Boundaries inside the match don't count: the analyser often reads a lone insult as two
    short words (시 + 발), and a digit squeezed between syllables (`시1발`) splits them too.
    """
    low, high = _window(text, start, end)
    start, end = start - low, end - low
    return any(
        (first < start < last or first < end < last) and not (first <= start and end <= last)
        for first, last in _morphemes(text[low:high])
    )


def _window(text: str, start: int, end: int) -> tuple[int, int]:
    """`CONTEXT` characters either side of the match, without the partial words at the edges
    (a half word would be analysed as some other word)."""
    low = max(0, start - CONTEXT)
    if low > 0 and (space := _SPACE.search(text, low, start)):
        low = space.end()
    high = min(len(text), end + CONTEXT)
    if high < len(text) and (space := _SPACE.search(text[end:high][::-1])):
        high -= space.end()
    return low, high


@functools.lru_cache(maxsize=64)
def _morphemes(text: str) -> tuple[tuple[int, int], ...]:
    """Each morpheme's span in `text` (a contracted one may overlap the next: `미친` is 미치
    (0-2) + ㄴ (1-2))."""
    return tuple((token.start, token.end) for token in _analyser().tokenize(text) if token.len > 0)


@functools.cache
def _analyser() -> Kiwi:
    # Imported here, not at the top: importing is cheap, but only a process that meets a
    # match needing the analyser should pay for its model.
    from kiwipiepy import Kiwi

    return Kiwi(load_multi_dict=False, load_typo_dict=False)
