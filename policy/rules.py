"""The rules: small functions, each turning one concern into zero or more reasons.

Messages are for a moderator, in plain words: `policy.messages` renders them from the evidence
(in the default locale here; a reader of another language gets them rendered again). Evidence
never repeats the reader's personal details or the matched words: a span's offsets are enough
for a screen to highlight them, and reasons travel further than the comment (logs, webhooks,
exports).
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
    return [Reason.of("article", "article.premoderated")]


def author(settings: AuthorSettings, context: Context) -> list[Reason]:
    return author_holds(settings, context.author)


def flood(settings: FloodSettings, context: Context) -> list[Reason]:
    if not settings.enabled or context.flood_count <= settings.hold_after:
        return []
    evidence = {
        "count": context.flood_count,
        "hold_after": settings.hold_after,
        "window_seconds": settings.window_seconds,
    }
    return [Reason.of("flood", "flood", evidence)]


def repeat(settings: RepeatSettings, subject: Subject, context: Context) -> list[Reason]:
    if not (settings.enabled and context.recent_digests) or len(subject.key) < settings.min_chars:
        return []
    previous = context.recent_digests.count(subject.digest)
    if not previous:
        return []
    evidence = {"previous": previous, "window_seconds": settings.window_seconds}
    return [Reason.of("repeat", "repeat", evidence)]


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
        evidence: dict[str, Any] = {"label": label, "score": score, "threshold": raised}
        if raised != threshold:
            evidence["auto_trust_margin"] = margin
        if identities:
            evidence["identities"] = dict(identities)
        reasons.append(Reason.of("toxicity", f"toxicity.{label}", evidence))
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
        matched = {hit.entry for hit in hits}
        written = [*term_list.entries, *(pattern for pattern, _ in term_list.patterns)]
        evidence = {
            "severity": term_list.severity,
            "language": term_list.language,
            "terms": [entry for entry in dict.fromkeys(written) if entry in matched],
            "spans": _spans(subject.folded, ((hit.start, hit.end) for hit in hits)),
        }
        reasons.append(Reason.of("terms", term_list.id, evidence))
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
    evidence = {"domains": domains, "spans": _found_spans(subject.folded, found)}
    return [Reason.of("links", "links", evidence)]


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
        evidence: dict[str, Any] = {"spans": _found_spans(subject.folded, found[kind])}
        if kind == "resident_number":
            evidence["checksum_valid"] = [item.checksum_valid for item in found[kind]]
        reasons.append(Reason.of("personal_info", f"personal_info.{kind}", evidence))
    return reasons


def language(settings: LanguageSettings, context: Context) -> list[Reason]:
    """Hold a comment in a language no configured model reads (its scores mean nothing)."""
    if not settings.enabled or settings.route(context.language) is not None:
        return []
    evidence = {"language": str(context.language), "covered": sorted(settings.readable)}
    return [Reason.of("language", "language", evidence)]


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
