"""What the engine takes and returns: a comment, its scores and context in; a decision out."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from policy.messages import DEFAULT_LOCALE, catalogue

Action = Literal["approve", "hold"]
ReasonKind = Literal[
    "toxicity",
    "terms",
    "links",
    "personal_info",
    "repeat",
    "flood",
    "language",
    "author",
    "article",
    # Not a rule of the policy: the worker could not score the comment (its scoring was
    # killed too often, rule `worker_killed`), so a person must look.
    "error",
]

# The id of the model MODERATION_MODEL names. Contexts stored before `model` existed were all
# scored by it; so were those that recorded a Detoxify variant name ("unbiased"), before models
# had ids.
DEFAULT_MODEL_ID = "default"
# 64 bits: a chance collision between two of one author's comments in a window is negligible.
DIGEST_HEX_CHARS = 16


def text_digest(key: str) -> str:
    """What the repeat rule compares: a digest of a `normalize()`d text, never the text.

    The context is stored with every decision and outlives the comments it mentions; a
    digest lets a replay compare texts without keeping any, so purging a comment's text
    leaves none of it behind in other comments' decisions.
    """
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:DIGEST_HEX_CHARS]


@dataclass(frozen=True)
class Comment:
    text: str
    author_id: str
    article_id: str


@dataclass(frozen=True)
class Context:
    """What the caller looked up for this comment, recorded so a decision can be replayed.

    `author`: {"approved", "rejected", "held": int, "always_hold", "trusted": bool,
    "recent": {"window_days", "decided", "rejected": int}} (`policy.authors` reads it; records
    stored before had no `recent`).
    `article`: {"premoderated", "closed": bool}.
    `flood_count`: the author's comments within the flood window, this one included.
    `recent_digests`: `text_digest(normalize(text))` of the author's comments within the repeat
    window posted before this one.
    `language`: `detect_language(comment.text)`; None when too short or mixed to tell.
    `model`: the id of the model that produced the scores (a key of the model registry:
    "default", or one MODERATION_MODELS names, e.g. "ko-hate"); it picks the thresholds the
    scores are held at. Decisions stored before ids recorded a Detoxify variant name
    ("unbiased"): an id the policy doesn't know counts as "default".
    """

    author: Mapping[str, Any] = field(default_factory=dict)
    article: Mapping[str, Any] = field(default_factory=dict)
    flood_count: int = 0
    recent_digests: tuple[str, ...] = ()
    language: str | None = None
    model: str = DEFAULT_MODEL_ID

    def to_dict(self) -> dict[str, Any]:
        return {
            "author": dict(self.author),
            "article": dict(self.article),
            "flood_count": self.flood_count,
            "recent_digests": list(self.recent_digests),
            "language": self.language,
            "model": self.model,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Context:
        language = data.get("language")
        digests = [str(digest) for digest in data.get("recent_digests") or ()]
        # Contexts recorded before digests kept the normalised texts themselves.
        digests += [text_digest(str(text)) for text in data.get("recent_texts") or ()]
        return cls(
            author=dict(data.get("author") or {}),
            article=dict(data.get("article") or {}),
            flood_count=int(data.get("flood_count") or 0),
            recent_digests=tuple(digests),
            language=None if language is None else str(language),
            model=str(data.get("model") or DEFAULT_MODEL_ID),
        )


@dataclass(frozen=True)
class Reason:
    """Why a comment is held: `kind` of rule, `rule` id from the policy file, evidence, and
    `message`, which `policy.messages` renders from those three in a locale."""

    kind: ReasonKind
    rule: str
    message: str
    evidence: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, kind: ReasonKind, rule: str, evidence: Mapping[str, Any] | None = None) -> Reason:
        """A rule's reason, its message in the default locale."""
        evidence = evidence or {}
        message = catalogue(DEFAULT_LOCALE).reason(kind, rule, evidence)
        return cls(kind=kind, rule=rule, message=message, evidence=evidence)

    def in_locale(self, locale: str) -> Reason:
        return replace(self, message=catalogue(locale).reason(self.kind, self.rule, self.evidence))

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "rule": self.rule, "message": self.message, **self.evidence}


@dataclass(frozen=True)
class Decision:
    action: Action
    reasons: tuple[Reason, ...]
    policy_version: str = ""

    @classmethod
    def from_reasons(cls, reasons: tuple[Reason, ...], *, policy_version: str = "") -> Decision:
        return cls(
            action="hold" if reasons else "approve",
            reasons=reasons,
            policy_version=policy_version,
        )

    def in_locale(self, locale: str) -> Decision:
        """The decision with its reasons' messages in `locale` (as the worker stores it)."""
        return replace(self, reasons=tuple(reason.in_locale(locale) for reason in self.reasons))

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "reasons": [reason.to_dict() for reason in self.reasons],
            "policy_version": self.policy_version,
        }
