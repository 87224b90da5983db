"""Which language a comment is mostly written in.

Detection uses py3langid, whose model ships inside the package (nothing is downloaded). It
costs a few hundred microseconds a comment and about a second to load once, so the worker
calls `detect_language` and passes the answer in `Context.language`; `evaluate` never
detects by itself.

Short texts are where detectors guess: `Good riddance` comes out Danish, `lol ok` Volapük.
Since a wrong guess holds an English comment for no reason, the detector answers only when
it is sure, and None ("too short or mixed to tell") counts as covered by the model:

- fewer than `MIN_LETTER_WEIGHT` letters (a Hangul or Chinese character counts three, a
  kana two, since each carries about a syllable) → None;
- no single script with at least `MIN_SCRIPT_SHARE` of the letters (`great article,
  감사합니다`) → None;
- mostly Hangul → "ko" without asking the model (nothing else is written in Hangul);
- otherwise py3langid, restricted to `DETECTABLE_LANGUAGES`, must be at least
  `MIN_CONFIDENCE` sure, or the answer is None.
"""

from __future__ import annotations

import functools
import unicodedata
from collections import Counter
from typing import Any

import regex

MIN_LETTER_WEIGHT = 12
MIN_SCRIPT_SHARE = 0.75
MIN_CONFIDENCE = 0.8

# Languages readers of a news site plausibly write in. Restricting the detector to these keeps
# it from answering with creoles and regional languages that short English resembles.
DETECTABLE_LANGUAGES = (
    "en", "fr", "es", "it", "pt", "tr", "ru", "de", "nl", "sv", "da", "no", "fi", "pl", "cs",
    "sk", "hu", "ro", "uk", "bg", "sr", "hr", "sl", "el", "ko", "ja", "zh", "ar", "fa", "he",
    "hi", "id", "ms", "vi", "th", "tl", "ca", "et", "lv", "lt",
)  # fmt: skip

# Not language: links, addresses and handles, removed before counting letters.
_NOT_PROSE = regex.compile(r"(?:https?://|www\.)\S+|\S+@\S+|[@#][\p{L}\p{N}_]+")
_SCRIPT_WEIGHTS = {"HANGUL SYLLABLE": 3, "CJK": 3, "HIRAGANA": 2, "KATAKANA": 2}
# Japanese mixes kanji and kana in every sentence; they count as one script.
_SCRIPT_FAMILIES = {"CJK": "CJK", "HIRAGANA": "CJK", "KATAKANA": "CJK"}


def detect_language(text: str) -> str | None:
    """An ISO 639-1 code, or None when the text is too short or too mixed to tell."""
    prose = _NOT_PROSE.sub(" ", text)
    weights: Counter[str] = Counter()
    for char in prose:
        if char.isalpha():
            script, weight = _script(char)
            weights[script] += weight
    total = sum(weights.values())
    if total < MIN_LETTER_WEIGHT:
        return None
    script, weight = weights.most_common(1)[0]
    if weight / total < MIN_SCRIPT_SHARE:
        return None
    if script == "HANGUL":
        return "ko"
    language, confidence = _identifier().classify(prose)
    return str(language) if confidence >= MIN_CONFIDENCE else None


def preload_language_detector() -> None:
    """Load the detector's model now (about a second) rather than on the first comment."""
    _identifier()


@functools.lru_cache(maxsize=4096)
def _script(char: str) -> tuple[str, int]:
    name = unicodedata.name(char, "")
    weight = next(
        (weight for prefix, weight in _SCRIPT_WEIGHTS.items() if name.startswith(prefix)), 1
    )
    script = name.split(" ", 1)[0]
    return _SCRIPT_FAMILIES.get(script, script), weight


@functools.cache
def _identifier() -> Any:
    # Imported here: it pulls in numpy, which the API process (it only evaluates) never needs.
    from py3langid.langid import (  # type: ignore[import-untyped]
        MODEL_FILE,
        LanguageIdentifier,
    )

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(DETECTABLE_LANGUAGES))
    return identifier
