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
ALWAYS_HOLD_MESSAGE = "This author is on the always-hold list: every comment waits for a moderator."


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
        reasons.append(Reason(kind="author", rule=ALWAYS_HOLD, message=ALWAYS_HOLD_MESSAGE))
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


def author_standing(settings: AuthorSettings, author: Mapping[str, Any]) -> Standing:
    """The first state that applies, by precedence; `author` is a context's author record."""
    if not settings.enabled:
        return Standing("standard", None, "The policy's author rules are off.")
    if author.get("always_hold"):
        return Standing("always_hold", ALWAYS_HOLD, ALWAYS_HOLD_MESSAGE)
    if author.get("trusted"):
        skipped = ", ".join(sorted(settings.trusted_skip)) or "no"
        return Standing(
            "trusted",
            None,
            f"A moderator marked this author as trusted: {skipped} rules don't hold their "
            "comments; severe toxicity and threats are held as for everyone.",
        )
    figures = Figures.of(author)
    if figures is None:
        return Standing(
            "standard", None, "No decided counts were recorded, so no author rule applies."
        )
    recent = _recent_rejections(settings.recent_rejections, figures)
    if recent is not None:
        return Standing("recent_rejections", recent.rule, recent.message)
    new = _new_commenter(settings.new_commenter, figures)
    if new is not None:
        return Standing("new_commenter", new.rule, new.message)
    counts = (
        f"This author has {_comments(figures.approved, 'approved')} and {figures.rejected} rejected"
    )
    auto = settings.auto_trust
    if _auto_trusted(auto, figures):
        return Standing(
            "auto_trusted",
            AUTO_TRUST,
            f"{counts}, so they are trusted automatically: toxicity holds their comments only "
            f"{auto.toxicity_margin:.2f} above each threshold (at most "
            f"{MAX_AUTO_TRUST_THRESHOLD:.2f}); severe toxicity and threats as for everyone.",
        )
    return Standing("standard", None, f"{counts}; no author rule applies.")


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
    are = "is" if needed == 1 else "are"
    message = (
        f"This author has {_comments(figures.approved, 'approved')}; new commenters are held "
        f"until {needed} {are} approved."
    )
    evidence = {"approved": figures.approved, "hold_until_approved": needed}
    return Reason(kind="author", rule=NEW_COMMENTER, message=message, evidence=evidence)


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
    message = (
        f"In the last {settings.window_days} days, {rejected} of this author's "
        f"{_comments(decided, 'decided')} were rejected ({rate:.0%}); authors with more than "
        f"{settings.max_rate:.0%} rejected, of at least {settings.min_decided} decided, are held."
    )
    evidence = {
        "rejected": rejected,
        "decided": decided,
        "rate": round(rate, 4),
        "window_days": settings.window_days,
        "min_decided": settings.min_decided,
        "max_rate": settings.max_rate,
    }
    return Reason(kind="author", rule=RECENT_REJECTIONS, message=message, evidence=evidence)


def _auto_trusted(settings: AutoTrustSettings, figures: Figures) -> bool:
    # after_approved is at least 1, so an author who passes it has decided comments.
    return (
        settings.enabled
        and figures.approved >= settings.after_approved
        and figures.rejected / (figures.approved + figures.rejected) <= settings.max_rejection_rate
    )


def _comments(count: int, adjective: str) -> str:
    return f"{count} {adjective} comment{'' if count == 1 else 's'}"


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0
