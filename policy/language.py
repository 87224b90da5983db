"""Which language a comment is mostly written in.

Detection uses py3langid, whose model ships inside the package (nothing is downloaded). It
costs about 80 microseconds a comment and about a second to load once, so the worker
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
- at least `LONG_TEXT_WEIGHT` letters, and py3langid over every language it knows gives
  `DETECTABLE_LANGUAGES` together less than `MAX_DETECTABLE_SHARE` and one other language
  at least `MIN_CONFIDENCE_ELSEWHERE` → that language (two sentences of Swahili or Esperanto
  are plainly not English, whatever the detector restricted to news languages says about
  them; `hahaha hahaha ...` comes out Sesotho, but nowhere near that sure);
- otherwise py3langid, restricted to `DETECTABLE_LANGUAGES`, must be at least
  `MIN_CONFIDENCE` sure, or the answer is None. (A long text whose likeliest language over
  all is a detectable one, at least that sure, is answered without asking again: restricting
  the choice can't change the answer, and asking costs a second pass over the model's table,
  most of detection's cost in a worker whose caches the model has just flushed.)
"""

from __future__ import annotations

import copy
import functools
import math
import unicodedata
from collections import Counter
from typing import Any

import regex

MIN_LETTER_WEIGHT = 12
MIN_SCRIPT_SHARE = 0.75
MIN_CONFIDENCE = 0.8
# Past this many letters the unrestricted detector is trusted to say a text is in none of the
# detectable languages; below it, short English is too easily read as something else.
LONG_TEXT_WEIGHT = 40
MAX_DETECTABLE_SHARE = 0.01
MIN_CONFIDENCE_ELSEWHERE = 0.99
# Past float32 rounding: a probability this far above MIN_CONFIDENCE over every language is
# above it among the detectable ones, however the library's own sums round.
_ROUNDING_MARGIN = 1e-4
# The detector's answer for keyboard mash: "no linguistic content", which is no language.
_NO_LANGUAGE = "zxx"

# Languages readers of a news site plausibly write in. Restricting the detector to these keeps
# it from answering with creoles and regional languages that short English resembles.
DETECTABLE_LANGUAGES = (
    "en", "fr", "es", "it", "pt", "tr", "ru", "de", "nl", "sv", "da", "no", "fi", "pl", "cs",
    "sk", "hu", "ro", "uk", "bg", "sr", "hr", "sl", "el", "ko", "ja", "zh", "ar", "fa", "he",
    "hi", "id", "ms", "vi", "th", "tl", "ca", "et", "lv", "lt",
)  # fmt: skip

# Every code a policy file may name: ISO 639-1, and the few ISO 639-3 codes the detector
# answers with (`yue`, `arz`) for languages 639-1 has no code for. A code outside these could
# never be detected, so a file naming one has a typo in it.
LANGUAGE_CODES = frozenset(
    """
    aa ab ae af ak am an ar as av ay az ba be bg bi bm bn bo br bs ca ce ch co cr cs cu cv cy
    da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht
    hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky
    la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv ny
    oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr ss
    st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo
    za zh zu
    ace ary arz bcl crh ext fuv gcf gcr gom grc gug guw hbo kab kik lij ltg nso pcm sdh uzs
    vec wuu yue
    """.split()  # noqa: SIM905 - as a block of words, a missing or extra code stands out
)

# Not language: links, addresses and handles, removed before counting letters.
NOT_PROSE = regex.compile(r"(?:https?://|www\.)\S+|\S+@\S+|[@#][\p{L}\p{N}_]+")
# What every match of `NOT_PROSE` contains: most comments have none, and this is cheaper.
_MAY_HAVE_NON_PROSE = regex.compile(r"[@#]|://|www\.")
_ASCII_NOT_LETTERS = bytes(code for code in range(128) if not chr(code).isalpha())
_SCRIPT_WEIGHTS = {"HANGUL SYLLABLE": 3, "CJK": 3, "HIRAGANA": 2, "KATAKANA": 2}
# Japanese mixes kanji and kana in every sentence; they count as one script.
_SCRIPT_FAMILIES = {"CJK": "CJK", "HIRAGANA": "CJK", "KATAKANA": "CJK"}


def detect_language(text: str) -> str | None:
    """An ISO 639-1 code, or None when the text is too short or too mixed to tell."""
    prose = NOT_PROSE.sub(" ", text) if _MAY_HAVE_NON_PROSE.search(text) else text
    weights = script_weights(prose)
    total = sum(weights.values())
    if total < MIN_LETTER_WEIGHT:
        return None
    script, weight = weights.most_common(1)[0]
    if weight / total < MIN_SCRIPT_SHARE:
        return None
    if script == "HANGUL":
        return "ko"
    detector = language_detector()
    features = detector.features(prose)
    if total >= LONG_TEXT_WEIGHT:
        best, confidence, detectable = detector.unrestricted(features)
        if (
            detectable < MAX_DETECTABLE_SHARE
            and confidence >= MIN_CONFIDENCE_ELSEWHERE
            and best != _NO_LANGUAGE
        ):
            return best
        if best in DETECTABLE_LANGUAGES and confidence >= MIN_CONFIDENCE + _ROUNDING_MARGIN:
            # Restricted to the detectable languages, which include it, `best` stays the
            # likeliest and only grows surer: the restricted detector would answer `best`.
            return best
    language, confidence = detector.restricted(features)
    return language if confidence >= MIN_CONFIDENCE else None


def script_weights(prose: str) -> Counter[str]:
    """The text's letters counted by script, each weighted by how much one letter says."""
    if prose.isascii():
        # Every ASCII letter is Latin: counted without a lookup per character.
        letters = len(prose.encode("ascii").translate(None, _ASCII_NOT_LETTERS))
        return Counter({"LATIN": letters} if letters else {})
    weights: Counter[str] = Counter()
    for char in prose:
        if char.isalpha():
            script, weight = _script(char)
            weights[script] += weight
    return weights


class _Detector:
    """py3langid's two answers, over every language (`rank`) and restricted to
    `DETECTABLE_LANGUAGES` (a restricted identifier's `classify`), from one walk over the text.

    Each of the library's calls encodes the text and walks it through its byte automaton,
    which is most of their cost; here the walk is shared, and each answer is then scored and
    normalized exactly as the library does (tests/policy/test_language.py compares them).
    """

    def __init__(self, restricted: Any, unrestricted: Any) -> None:
        import numpy as np

        self._np = np
        self._restricted = restricted
        self._unrestricted = unrestricted
        self._detectable = np.array(
            [code in DETECTABLE_LANGUAGES for code in unrestricted.nb_classes]
        )

    def features(self, prose: str) -> tuple[Any, int]:
        """The text's feature counts (None if it has none) and its length in bytes."""
        from py3langid.langid import visit_counts

        identifier = self._unrestricted
        encoded = identifier._encode(prose)
        visits = visit_counts(
            identifier.tk_nextmove, identifier._rowbase, identifier.tk_output, encoded
        )
        return visits, len(encoded)

    def unrestricted(self, features: tuple[Any, int]) -> tuple[str, float, float]:
        """The likeliest language of all, its probability, and the detectable languages'
        probability together."""
        probabilities = self._probabilities(self._unrestricted, features)
        best = int(probabilities.argmax())
        detectable = float(probabilities[self._detectable].sum())
        return str(self._unrestricted.nb_classes[best]), float(probabilities[best]), detectable

    def restricted(self, features: tuple[Any, int]) -> tuple[str, float]:
        """The likeliest detectable language and its probability among them."""
        probabilities = self._probabilities(self._restricted, features)
        best = int(probabilities.argmax())
        return str(self._restricted.nb_classes[best]), float(probabilities[best])

    def _probabilities(self, identifier: Any, features: tuple[Any, int]) -> Any:
        # py3langid's `_decide` with norm_probs, from the shared walk: a softmax at
        # temperature sqrt(bytes), a label's second column (srl -> sr) folded into its first.
        visits, length = features
        if visits:
            scores = identifier._sparse_score(visits, identifier.nb_ptc)
        else:
            # No features: every language alike, as the library scores it.
            scores = self._np.zeros(len(identifier.nb_classes), dtype=self._np.float32)
        scores *= 1.0 / math.sqrt(length or 1)
        self._np.exp(scores - scores.max(), out=scores)
        scores /= scores.sum()
        for first, dupe in identifier._alias_pairs:
            scores[first] += scores[dupe]
            scores[dupe] = 0.0
        return scores


def preload_language_detector() -> None:
    """Load the detector's model now (about a second) rather than on the first comment."""
    language_detector()


@functools.lru_cache(maxsize=4096)
def _script(char: str) -> tuple[str, int]:
    name = unicodedata.name(char, "")
    weight = next(
        (weight for prefix, weight in _SCRIPT_WEIGHTS.items() if name.startswith(prefix)), 1
    )
    script = name.split(" ", 1)[0]
    return _SCRIPT_FAMILIES.get(script, script), weight


@functools.cache
def language_detector() -> _Detector:
    """The detector, loaded once: both of py3langid's answers from one walk of a text."""
    return _Detector(*language_identifiers())


@functools.cache
def language_identifiers() -> tuple[Any, Any]:
    """The detector restricted to `DETECTABLE_LANGUAGES`, and over every language it knows."""
    # Imported here: it pulls in numpy, which the API process (it only evaluates) never needs.
    from py3langid.langid import (
        MODEL_FILE,
        LanguageIdentifier,
    )

    unrestricted = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    # A shallow copy shares the model's arrays; restricting it slices its own.
    restricted = copy.copy(unrestricted)
    restricted.set_languages(list(DETECTABLE_LANGUAGES))
    return restricted, unrestricted
