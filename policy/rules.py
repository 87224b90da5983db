"""The rules: small functions, each turning one concern into zero or more reasons.

Messages are for a moderator, in plain words. Evidence never repeats the reader's personal
details or the matched words: a span's offsets are enough for a screen to highlight them, and
reasons travel further than the comment (logs, webhooks, exports).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Mapping
from typing import Any

from policy.authors import author_holds
from policy.decision import Context, Reason, text_digest
from policy.detectors import (
    Found,
    find_emails,
    find_links,
    find_phones,
    find_resident_numbers,
    host_allowed,
)
from policy.normalize import Folded, fold, normalize_folded
from policy.sections import (
    IDENTITY_LABELS,
    MAX_AUTO_TRUST_THRESHOLD,
    NEVER_SKIPPED_LABELS,
    PERSONAL_INFO_KINDS,
    TOXICITY_LABELS,
    ArticleSettings,
    AuthorSettings,
    FloodSettings,
    LanguageSettings,
    LinksSettings,
    PersonalInfoSettings,
    RepeatSettings,
    TermsSettings,
    ToxicitySettings,
)
from policy.termlists import skeleton

LABEL_WORDS = {
    "toxicity": "toxic",
    "severe_toxicity": "severely toxic",
    "obscene": "obscene",
    "threat": "a threat",
    "insult": "an insult",
    "identity_attack": "an attack on people for who they are",
    "sexual_explicit": "sexually explicit",
}
LANGUAGE_NAMES = {
    "en": "English", "fr": "French", "es": "Spanish", "it": "Italian", "pt": "Portuguese",
    "tr": "Turkish", "ru": "Russian", "de": "German", "nl": "Dutch", "ko": "Korean",
    "ja": "Japanese", "zh": "Chinese", "ar": "Arabic", "pl": "Polish", "uk": "Ukrainian",
}  # fmt: skip
_PERSONAL_INFO_WORDS = {
    "email": "an e-mail address",
    "phone": "a phone number",
    "resident_number": "a Korean resident registration number",
}


class Subject:
    """The comment's text with its folded and normalised forms, each worked out once."""

    def __init__(self, text: str) -> None:
        self.text = text

    @functools.cached_property
    def folded(self) -> Folded:
        return fold(self.text)

    @functools.cached_property
    def key(self) -> str:
        return normalize_folded(self.folded.text)

    @functools.cached_property
    def digest(self) -> str:
        return text_digest(self.key)


def article(settings: ArticleSettings, context: Context) -> list[Reason]:
    if not (settings.enabled and context.article.get("premoderated")):
        return []
    message = "This article is pre-moderated: every comment on it waits for a moderator."
    return [Reason(kind="article", rule="article.premoderated", message=message)]


def author(settings: AuthorSettings, context: Context) -> list[Reason]:
    return author_holds(settings, context.author)


def flood(settings: FloodSettings, context: Context) -> list[Reason]:
    if not settings.enabled or context.flood_count <= settings.hold_after:
        return []
    message = (
        f"This author posted {context.flood_count} comments in "
        f"{_duration(settings.window_seconds)}; more than {settings.hold_after} are held."
    )
    evidence = {
        "count": context.flood_count,
        "hold_after": settings.hold_after,
        "window_seconds": settings.window_seconds,
    }
    return [Reason(kind="flood", rule="flood", message=message, evidence=evidence)]


def repeat(settings: RepeatSettings, subject: Subject, context: Context) -> list[Reason]:
    if not (settings.enabled and context.recent_digests) or len(subject.key) < settings.min_chars:
        return []
    previous = context.recent_digests.count(subject.digest)
    if not previous:
        return []
    times = "once" if previous == 1 else f"{previous} times"
    message = (
        f"The same author already posted this text {times} in the last "
        f"{_duration(settings.window_seconds)}."
    )
    evidence = {"previous": previous, "window_seconds": settings.window_seconds}
    return [Reason(kind="repeat", rule="repeat", message=message, evidence=evidence)]


def toxicity(
    settings: ToxicitySettings,
    scores: Mapping[str, float],
    skip: Iterable[str] = (),
    *,
    margin: float = 0.0,
    thresholds: Mapping[str, float],
) -> list[Reason]:
    """`margin`: how far above each threshold an auto-trusted author is held (never on the
    labels held for everyone). `thresholds`: the scoring model's (`settings.thresholds` for
    `default`): the service's labels first, in severity order, then any of the model's own."""
    if not settings.enabled:
        return []
    skipped = frozenset(skip)
    identities = {
        label: score
        for label in IDENTITY_LABELS
        if (score := _score(scores, label)) is not None and score >= settings.identity_evidence_min
    }
    reasons = []
    own = [label for label in thresholds if label not in TOXICITY_LABELS]
    for label in (*TOXICITY_LABELS, *own):
        threshold = thresholds.get(label)
        score = _score(scores, label)
        if threshold is None or label in skipped or score is None:
            continue
        raised = _raised(threshold, margin, label)
        if score < raised:
            continue
        held = (
            f"comments at {threshold:.2f} or above are held"
            if raised == threshold
            else f"this author is trusted automatically, so theirs are held at {raised:.2f} "
            "or above"
        )
        message = (
            f"The model rates this comment {LABEL_WORDS[label]} (score {score:.2f}; {held})."
            if label in LABEL_WORDS
            else f"The model scores this comment {score:.2f} for {label!r} ({held})."
        )
        evidence: dict[str, Any] = {"label": label, "score": score, "threshold": raised}
        if raised != threshold:
            evidence["auto_trust_margin"] = margin
        if identities:
            evidence["identities"] = dict(identities)
        reasons.append(
            Reason(kind="toxicity", rule=f"toxicity.{label}", message=message, evidence=evidence)
        )
    return reasons


def terms(settings: TermsSettings, subject: Subject) -> list[Reason]:
    if not settings.enabled:
        return []
    reasons = []
    consonants = skeleton(subject.folded.text)
    for term_list in settings.lists:
        hits = term_list.find(subject.folded, skeleton_text=consonants)
        if not hits:
            continue
        language = LANGUAGE_NAMES.get(term_list.language, term_list.language)
        if term_list.severity == "banned":
            message = f"Uses a word on the banned list ({language})."
        else:
            message = (
                f"Uses a word on the watch list ({language}): often abusive, "
                "so a moderator should check how it is used."
            )
        matched = {hit.entry for hit in hits}
        written = [*term_list.entries, *(pattern for pattern, _ in term_list.patterns)]
        evidence = {
            "severity": term_list.severity,
            "language": term_list.language,
            "terms": [entry for entry in dict.fromkeys(written) if entry in matched],
            "spans": _spans(subject.folded, ((hit.start, hit.end) for hit in hits)),
        }
        reasons.append(Reason(kind="terms", rule=term_list.id, message=message, evidence=evidence))
    return reasons


def links(settings: LinksSettings, subject: Subject) -> list[Reason]:
    if not settings.enabled:
        return []
    found = [
        link
        for link in find_links(subject.folded.text)
        if not host_allowed(link.value, settings.allow_domains)
    ]
    if not found:
        return []
    domains = list(dict.fromkeys(link.value for link in found))
    message = f"Links to {', '.join(domains)}, not on the list of allowed sites."
    evidence = {"domains": domains, "spans": _found_spans(subject.folded, found)}
    return [Reason(kind="links", rule="links", message=message, evidence=evidence)]


def personal_info(settings: PersonalInfoSettings, subject: Subject) -> list[Reason]:
    if not settings.enabled:
        return []
    text = subject.folded.text
    resident_numbers = find_resident_numbers(text)
    emails = find_emails(text)
    found: dict[str, list[Found]] = {
        "email": emails,
        "phone": find_phones(text, skip=[*resident_numbers, *emails]),
        "resident_number": resident_numbers,
    }
    reasons = []
    for kind in PERSONAL_INFO_KINDS:
        if kind not in settings.detect or not found[kind]:
            continue
        message = (
            f"Contains what looks like {_PERSONAL_INFO_WORDS[kind]}; "
            "readers' personal details are not published."
        )
        evidence: dict[str, Any] = {"spans": _found_spans(subject.folded, found[kind])}
        if kind == "resident_number":
            evidence["checksum_valid"] = [item.checksum_valid for item in found[kind]]
        reasons.append(
            Reason(
                kind="personal_info",
                rule=f"personal_info.{kind}",
                message=message,
                evidence=evidence,
            )
        )
    return reasons


def language(settings: LanguageSettings, context: Context) -> list[Reason]:
    """Hold a comment in a language no configured model reads (its scores mean nothing)."""
    if not settings.enabled or settings.route(context.language) is not None:
        return []
    written = str(context.language)
    name = LANGUAGE_NAMES.get(written, f"language '{written}'")
    covered = sorted(settings.readable)
    readable = ", ".join(LANGUAGE_NAMES.get(code, code) for code in covered) or "none"
    message = (
        f"Written in {name}, which no model configured here reads (they read: {readable}), "
        "so a person should read it."
    )
    evidence = {"language": written, "covered": covered}
    return [Reason(kind="language", rule="language", message=message, evidence=evidence)]


def _raised(threshold: float, margin: float, label: str) -> float:
    """An auto-trusted author's threshold: `margin` higher, at most 0.99, never lowered; the
    labels held for everyone keep theirs."""
    if margin <= 0 or label in NEVER_SKIPPED_LABELS:
        return threshold
    # Rounded, so that 0.8 + 0.1 holds a score of 0.9.
    return max(threshold, round(min(threshold + margin, MAX_AUTO_TRUST_THRESHOLD), 6))


def _score(scores: Mapping[str, float], label: str) -> float | None:
    value: object = scores.get(label)
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        return None
    return float(value)


def _spans(folded: Folded, ranges: Iterable[tuple[int, int]]) -> list[dict[str, int]]:
    originals = sorted({folded.span(start, end) for start, end in ranges})
    return [{"start": start, "end": end} for start, end in originals]


def _found_spans(folded: Folded, found: Iterable[Found]) -> list[dict[str, int]]:
    return _spans(folded, ((item.start, item.end) for item in found))


def _duration(seconds: int) -> str:
    """`86400` → "24 hours": the largest unit that divides it at least twice over."""
    for unit, size in (("days", 86_400), ("hours", 3_600), ("minutes", 60)):
        if seconds % size == 0 and seconds // size >= 2:
            return f"{seconds // size} {unit}"
    return f"{seconds} seconds"
