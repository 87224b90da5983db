"""Who wrote the comment: the `author` rules, and an author's standing under them.

The figures come from the context's `author` record, as the worker gathered them from the
decision rows (each comment's latest approve, reject or hold, whoever made it):
`{"approved", "rejected", "held": int, "always_hold", "trusted": bool,
"recent": {"window_days", "decided", "rejected": int}}`. A record without `recent` was stored
before the figure rules existed: they can't be judged on it, so they never fire on it, and
`figures_evaluable` tells a replay so.

Precedence: always-hold > trusted (by a moderator) > the figure holds (recent rejections, new
commenter) > auto-trust > standard.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from policy.decision import Reason
from policy.messages import DEFAULT_LOCALE, Catalogue, catalogue
from policy.sections import (
    MAX_AUTO_TRUST_THRESHOLD,
    AuthorSettings,
    AutoTrustSettings,
    NewCommenterSettings,
    RecentRejectionsSettings,
)

TrustState = Literal[
    "always_hold", "trusted", "auto_trusted", "new_commenter", "recent_rejections", "standard"
]
ALWAYS_HOLD = "author.always_hold"
NEW_COMMENTER = "author.new_commenter"
RECENT_REJECTIONS = "author.recent_rejections"
AUTO_TRUST = "author.auto_trust"


@dataclass(frozen=True)
class Figures:
    """An author's decided comments: all time, and within the last `window_days`."""

    approved: int
    rejected: int
    held: int
    window_days: int
    recent_decided: int
    recent_rejected: int

    @classmethod
    def of(cls, author: Mapping[str, Any]) -> Figures | None:
        """The figures of a context's author record; None when it has none (stored before)."""
        recent = author.get("recent")
        if not isinstance(recent, Mapping):
            return None
        return cls(
            approved=_count(author.get("approved")),
            rejected=_count(author.get("rejected")),
            held=_count(author.get("held")),
            window_days=_count(recent.get("window_days")),
            recent_decided=_count(recent.get("decided")),
            recent_rejected=_count(recent.get("rejected")),
        )


@dataclass(frozen=True)
class Standing:
    """Where an author stands: the state, the rule behind it (None: no rule), in words."""

    state: TrustState
    rule: str | None
    message: str


def author_holds(settings: AuthorSettings, author: Mapping[str, Any]) -> list[Reason]:
    """Every author rule that holds this author's comment, in a fixed order."""
    if not settings.enabled:
        return []
    reasons = []
    if author.get("always_hold"):
        reasons.append(Reason.of("author", ALWAYS_HOLD))
    figures = Figures.of(author)
    if figures is not None and not author.get("trusted"):
        reasons += [
            reason
            for reason in (
                _recent_rejections(settings.recent_rejections, figures),
                _new_commenter(settings.new_commenter, figures),
            )
            if reason is not None
        ]
    return reasons


def author_standing(
    settings: AuthorSettings, author: Mapping[str, Any], *, locale: str = DEFAULT_LOCALE
) -> Standing:
    """The first state that applies, by precedence; `author` is a context's author record.
    `locale`: the language of the message (one of `policy.messages.LOCALES`)."""
    words = catalogue(locale)
    if not settings.enabled:
        return Standing("standard", None, words.text("standing.off"))
    if author.get("always_hold"):
        return Standing("always_hold", ALWAYS_HOLD, words.reason("author", ALWAYS_HOLD, {}))
    if author.get("trusted"):
        skipped = ", ".join(sorted(settings.trusted_skip))
        message = (
            words.text("standing.trusted", skipped=skipped)
            if skipped
            else words.text("standing.trusted_skips_none")
        )
        return Standing("trusted", None, message)
    figures = Figures.of(author)
    if figures is None:
        return Standing("standard", None, words.text("standing.unrecorded"))
    recent = _recent_rejections(settings.recent_rejections, figures)
    if recent is not None:
        return Standing("recent_rejections", recent.rule, recent.in_locale(locale).message)
    new = _new_commenter(settings.new_commenter, figures)
    if new is not None:
        return Standing("new_commenter", new.rule, new.in_locale(locale).message)
    auto = settings.auto_trust
    if _auto_trusted(auto, figures):
        return Standing(
            "auto_trusted",
            AUTO_TRUST,
            _counted(
                words,
                "standing.auto_trusted",
                figures,
                margin=auto.toxicity_margin,
                maximum=MAX_AUTO_TRUST_THRESHOLD,
            ),
        )
    return Standing("standard", None, _counted(words, "standing.standard", figures))


def toxicity_margin(settings: AuthorSettings, author: Mapping[str, Any]) -> float:
    """How far above each toxicity threshold this author's comments are held: auto-trust's
    margin for an auto-trusted author, else 0."""
    if author_standing(settings, author).state != "auto_trusted":
        return 0.0
    return settings.auto_trust.toxicity_margin


def figures_evaluable(settings: AuthorSettings, author: Mapping[str, Any]) -> bool:
    """Whether the figure rules `settings` has on can be judged on this stored author record:
    not on one stored before they existed, nor on recent figures counted over another window."""
    if not settings.uses_figures:
        return True
    figures = Figures.of(author)
    if figures is None:
        return False
    recent = settings.recent_rejections
    return not recent.enabled or figures.window_days == recent.window_days


def _new_commenter(settings: NewCommenterSettings, figures: Figures) -> Reason | None:
    needed = settings.hold_until_approved
    if not settings.enabled or figures.approved >= needed:
        return None
    evidence = {"approved": figures.approved, "hold_until_approved": needed}
    return Reason.of("author", NEW_COMMENTER, evidence)


def _recent_rejections(settings: RecentRejectionsSettings, figures: Figures) -> Reason | None:
    decided, rejected = figures.recent_decided, figures.recent_rejected
    if (
        not settings.enabled
        or figures.window_days != settings.window_days
        or decided < settings.min_decided
        or rejected / decided <= settings.max_rate
    ):
        return None
    rate = rejected / decided
    evidence = {
        "rejected": rejected,
        "decided": decided,
        "rate": round(rate, 4),
        "window_days": settings.window_days,
        "min_decided": settings.min_decided,
        "max_rate": settings.max_rate,
    }
    return Reason.of("author", RECENT_REJECTIONS, evidence)


def _auto_trusted(settings: AutoTrustSettings, figures: Figures) -> bool:
    # after_approved is at least 1, so an author who passes it has decided comments.
    return (
        settings.enabled
        and figures.approved >= settings.after_approved
        and figures.rejected / (figures.approved + figures.rejected) <= settings.max_rejection_rate
    )


def _counted(words: Catalogue, key: str, figures: Figures, **params: float) -> str:
    approved = words.text("count.approved_comments", count=figures.approved)
    return words.text(
        key,
        approved=figures.approved,
        approved_comments=approved,
        rejected=figures.rejected,
        **params,
    )


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0
