"""Reason messages in words, from a catalogue per language (`policy/locales/<locale>.json`).

A reason is kept as kind, rule and evidence; its `message` is rendered from those in a locale,
so the same stored reason reads in English to one moderator and in Korean to another. A
catalogue is a flat JSON object, key -> message: a `str.format` string with `{name}`
placeholders, or an object of plural forms chosen by the `count` parameter (`one` where the
language has it and the count is 1, else `other`; Korean has only `other`).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

LOCALES = ("en", "ko")
"""The shipped catalogues; the first is the default."""
DEFAULT_LOCALE = LOCALES[0]
PLURAL_FORMS = ("one", "other")

Message = str | Mapping[str, str]


@dataclass(frozen=True)
class Catalogue:
    locale: str
    messages: Mapping[str, Message]

    def has(self, key: str) -> bool:
        return key in self.messages

    def text(self, key: str, /, **params: Any) -> str:
        """The message `key` with `params` filled in. KeyError: no such key, or a parameter
        the message names is missing."""
        message = self.messages[key]
        if not isinstance(message, str):
            form = "one" if params["count"] == 1 and "one" in message else "other"
            message = message[form]
        return message.format(**params)

    def reason(self, kind: str, rule: str, evidence: Mapping[str, Any]) -> str:
        """The message of a reason of `kind` and `rule` with this evidence. KeyError,
        TypeError or ValueError: the evidence lacks what the message needs (a reason stored
        before the message read it), or no policy rule gives such reasons."""
        return _RENDERERS[kind](self, rule, evidence)

    def language_name(self, code: str) -> str:
        key = f"language.{code}"
        return self.text(key) if self.has(key) else code

    def duration(self, seconds: int) -> str:
        """`86400` → "24 hours": the largest unit that divides it at least twice over."""
        for unit, size in (("days", 86_400), ("hours", 3_600), ("minutes", 60)):
            if seconds % size == 0 and seconds // size >= 2:
                return self.text(f"duration.{unit}", count=seconds // size)
        return self.text("duration.seconds", count=seconds)


def catalogue(locale: str) -> Catalogue:
    """The catalogue of one of LOCALES; ValueError for any other."""
    if locale not in LOCALES:
        raise ValueError(f"no reason messages in {locale!r}: the catalogues are {LOCALES}")
    return _load(locale)


def reason_message(reason: Mapping[str, Any], locale: str) -> str | None:
    """A stored reason's message (`Reason.to_dict()`: kind, rule, message and the evidence
    beside them) rendered in `locale`; None when it can't be (a reason stored before its
    evidence held what the message reads, or one no policy rule gives: a moderator's, the
    readers' reports'), so the caller keeps the stored message."""
    words = catalogue(locale)
    try:
        return words.reason(str(reason["kind"]), str(reason["rule"]), reason)
    except (KeyError, TypeError, ValueError):
        return None


@functools.cache
def _load(locale: str) -> Catalogue:
    source = resources.files("policy").joinpath("locales", f"{locale}.json")
    messages: dict[str, Message] = json.loads(source.read_text(encoding="utf-8"))
    return Catalogue(locale, messages)


def _article(words: Catalogue, rule: str, evidence: Mapping[str, Any]) -> str:
    return words.text(f"reason.{rule}")


def _author(words: Catalogue, rule: str, evidence: Mapping[str, Any]) -> str:
    if rule == "author.always_hold":
        return words.text("reason.author.always_hold")
    if rule == "author.new_commenter":
        approved = int(evidence["approved"])
        return words.text(
            "reason.author.new_commenter",
            approved=approved,
            approved_comments=words.text("count.approved_comments", count=approved),
            count=int(evidence["hold_until_approved"]),
        )
    decided = int(evidence["decided"])
    return words.text(
        f"reason.{rule}",
        rejected=int(evidence["rejected"]),
        decided=decided,
        decided_comments=words.text("count.decided_comments", count=decided),
        rate=float(evidence["rate"]),
        window_days=int(evidence["window_days"]),
        min_decided=int(evidence["min_decided"]),
        max_rate=float(evidence["max_rate"]),
    )


def _flood(words: Catalogue, rule: str, evidence: Mapping[str, Any]) -> str:
    return words.text(
        "reason.flood",
        count=int(evidence["count"]),
        hold_after=int(evidence["hold_after"]),
        window=words.duration(int(evidence["window_seconds"])),
    )


def _repeat(words: Catalogue, rule: str, evidence: Mapping[str, Any]) -> str:
    return words.text(
        "reason.repeat",
        count=int(evidence["previous"]),
        window=words.duration(int(evidence["window_seconds"])),
    )


def _toxicity(words: Catalogue, rule: str, evidence: Mapping[str, Any]) -> str:
    label, threshold = str(evidence["label"]), float(evidence["threshold"])
    trusted = "auto_trust_margin" in evidence
    held = words.text(
        "toxicity.held_auto_trust" if trusted else "toxicity.held", threshold=threshold
    )
    score = float(evidence["score"])
    key = f"toxicity.label.{label}"
    if words.has(key):
        return words.text("reason.toxicity", label_words=words.text(key), score=score, held=held)
    return words.text("reason.toxicity.other_label", label=label, score=score, held=held)


def _terms(words: Catalogue, rule: str, evidence: Mapping[str, Any]) -> str:
    language = words.language_name(str(evidence["language"]))
    return words.text(f"reason.terms.{evidence['severity']}", language=language)


def _links(words: Catalogue, rule: str, evidence: Mapping[str, Any]) -> str:
    domains = ", ".join(str(domain) for domain in evidence["domains"])
    return words.text("reason.links", domains=domains)


def _personal_info(words: Catalogue, rule: str, evidence: Mapping[str, Any]) -> str:
    return words.text(f"reason.{rule}")


def _language(words: Catalogue, rule: str, evidence: Mapping[str, Any]) -> str:
    written = str(evidence["language"])
    key = f"language.{written}"
    name = words.text(key) if words.has(key) else words.text("language.unknown", code=written)
    covered = [words.language_name(str(code)) for code in evidence["covered"]]
    readable = ", ".join(covered) or words.text("language.none")
    return words.text("reason.language", name=name, readable=readable)


def _reports(words: Catalogue, rule: str, evidence: Mapping[str, Any]) -> str:
    return words.text(f"reason.{rule}", count=int(evidence["count"]))


def _error(words: Catalogue, rule: str, evidence: Mapping[str, Any]) -> str:
    return words.text(f"reason.error.{rule}", count=int(evidence["kills"]))


_RENDERERS: Mapping[str, Callable[[Catalogue, str, Mapping[str, Any]], str]] = {
    "article": _article,
    "author": _author,
    "flood": _flood,
    "repeat": _repeat,
    "toxicity": _toxicity,
    "terms": _terms,
    "links": _links,
    "personal_info": _personal_info,
    "language": _language,
    "reports": _reports,
    "error": _error,
}
