"""The settings of each section of the policy file, with the defaults a missing section gets.

The defaults here and the shipped `standards-board.yaml` say the same thing (a test holds
them to it), so a newsroom's file that sets only thresholds behaves like the shipped one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from policy.termlists import Severity, TermList

# Labels that can hold a comment, in the order reasons are listed.
TOXICITY_LABELS: tuple[str, ...] = (
    "severe_toxicity",
    "threat",
    "identity_attack",
    "sexual_explicit",
    "insult",
    "obscene",
    "toxicity",
)
# Labels that say which group a comment mentions. They are evidence, never a threshold: a
# comment that mentions Muslims or gay people is not harmful for that, and holding on it
# would silence exactly the readers the labels exist to protect.
IDENTITY_LABELS: tuple[str, ...] = (
    "male",
    "female",
    "homosexual_gay_or_lesbian",
    "christian",
    "jewish",
    "muslim",
    "black",
    "white",
    "psychiatric_or_mental_illness",
)
# Severe toxicity and threats are held for everyone, trusted authors included.
NEVER_SKIPPED_LABELS = frozenset({"severe_toxicity", "threat"})
# Rules a trusted author may be let off; toxicity, author and article rules are not among them.
SKIPPABLE_RULES = ("terms", "links", "personal_info", "repeat", "flood", "language")
PERSONAL_INFO_KINDS = ("email", "phone", "resident_number")


DEFAULT_THRESHOLDS: Mapping[str, float] = MappingProxyType(
    {
        "severe_toxicity": 0.5,
        "threat": 0.5,
        "identity_attack": 0.6,
        "sexual_explicit": 0.6,
        "insult": 0.8,
        "obscene": 0.8,
        "toxicity": 0.8,
    }
)
DEFAULT_MODEL_LANGUAGES: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "original": frozenset({"en"}),
        "unbiased": frozenset({"en"}),
        "multilingual": frozenset({"en", "fr", "es", "it", "pt", "tr", "ru"}),
    }
)
# A model the policy file doesn't name is assumed to read English only, as every Detoxify
# model does; the worst case is that a person reads what the model could have scored.
FALLBACK_LANGUAGES = frozenset({"en"})
# Shipped lists in force when the file has no `terms.lists`: (id and file name, language, severity).
DEFAULT_TERM_LISTS: tuple[tuple[str, str, Severity], ...] = (
    ("en-banned", "en", "banned"),
    ("en-suspect", "en", "suspect"),
    ("ko-banned", "ko", "banned"),
    ("ko-suspect", "ko", "suspect"),
)


@dataclass(frozen=True)
class ToxicitySettings:
    enabled: bool = True
    thresholds: Mapping[str, float] = field(default_factory=lambda: DEFAULT_THRESHOLDS)
    identity_evidence_min: float = 0.5


@dataclass(frozen=True)
class TermsSettings:
    enabled: bool = True
    lists: tuple[TermList, ...] = ()


@dataclass(frozen=True)
class LinksSettings:
    enabled: bool = True
    allow_domains: tuple[str, ...] = ()


@dataclass(frozen=True)
class PersonalInfoSettings:
    enabled: bool = True
    detect: tuple[str, ...] = PERSONAL_INFO_KINDS


@dataclass(frozen=True)
class RepeatSettings:
    enabled: bool = True
    window_seconds: int = 86_400
    min_chars: int = 10


@dataclass(frozen=True)
class FloodSettings:
    enabled: bool = True
    window_seconds: int = 300
    hold_after: int = 5
    hard_limit: int | None = 15


@dataclass(frozen=True)
class LanguageSettings:
    enabled: bool = True
    models: Mapping[str, frozenset[str]] = field(default_factory=lambda: DEFAULT_MODEL_LANGUAGES)

    def covered(self, model: str) -> frozenset[str]:
        """Languages `model` scores; "-small" and other suffixed variants share their family's."""
        if model in self.models:
            return self.models[model]
        return self.models.get(model.split("-", 1)[0], FALLBACK_LANGUAGES)


@dataclass(frozen=True)
class NewCommenterSettings:
    """Hold an author's comments until `hold_until_approved` of theirs have been approved."""

    enabled: bool = False
    hold_until_approved: int = 3


@dataclass(frozen=True)
class RecentRejectionsSettings:
    """Hold an author more than `max_rate` of whose comments decided (approved or rejected)
    in the last `window_days` were rejected, once at least `min_decided` were. The worker
    counts the window's figures even when this is off, so a replay can switch it on."""

    enabled: bool = False
    window_days: int = 30
    min_decided: int = 5
    max_rate: float = 0.5


@dataclass(frozen=True)
class AutoTrustSettings:
    """An author with `after_approved` approved comments, no more than `max_rejection_rate` of
    their decided ones rejected, is held for toxicity only `toxicity_margin` above each
    threshold (at most `MAX_AUTO_TRUST_THRESHOLD`); never for severe toxicity or threats."""

    enabled: bool = False
    after_approved: int = 20
    max_rejection_rate: float = 0.05
    toxicity_margin: float = 0.1


# An auto-trusted author's raised thresholds stop here: a score of 0.99 is always held.
MAX_AUTO_TRUST_THRESHOLD = 0.99
AUTHOR_FIGURE_RULES = ("new_commenter", "recent_rejections", "auto_trust")


@dataclass(frozen=True)
class AuthorSettings:
    enabled: bool = True
    trusted_skip: frozenset[str] = frozenset({"terms", "links", "repeat"})
    trusted_skip_toxicity: frozenset[str] = frozenset()
    new_commenter: NewCommenterSettings = field(default_factory=NewCommenterSettings)
    recent_rejections: RecentRejectionsSettings = field(default_factory=RecentRejectionsSettings)
    auto_trust: AutoTrustSettings = field(default_factory=AutoTrustSettings)

    @property
    def uses_figures(self) -> bool:
        """Whether a rule that reads the author's decided counts is on."""
        return self.enabled and (
            self.new_commenter.enabled or self.recent_rejections.enabled or self.auto_trust.enabled
        )


@dataclass(frozen=True)
class ArticleSettings:
    enabled: bool = True


@dataclass(frozen=True)
class ReportsSettings:
    """What readers' reports do to a published comment. `enabled: false` stores reports but
    never queues or hides a comment for them; the flood limit applies either way."""

    enabled: bool = True
    review_after: int = 1
    hide_after: int | None = None
    min_reporter_approved: int = 1
    flood_window_seconds: int = 3600
    flood_limit: int | None = 20
