"""The settings of each section of the policy file, with the defaults a missing section gets.

The defaults here and the shipped `standards-board.yaml` say the same thing (a test holds
them to it), so a newsroom's file that sets only thresholds behaves like the shipped one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from policy.decision import DEFAULT_MODEL_ID
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
# The languages each Detoxify variant reads: where `default` is routed when the policy file
# writes no `language.routes`.
DEFAULT_MODEL_LANGUAGES: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "original": frozenset({"en"}),
        "unbiased": frozenset({"en"}),
        "multilingual": frozenset({"en", "fr", "es", "it", "pt", "tr", "ru"}),
    }
)
# A default model that is no published variant (a checkpoint of its own) is assumed to read
# English only, as every Detoxify model does; the worst case is that a person reads what the
# model could have scored.
FALLBACK_LANGUAGES = frozenset({"en"})
ACTIVATIONS = ("sigmoid", "softmax")
Activation = Literal["sigmoid", "softmax"]
SCORE_DIGITS = 6
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


def variant_languages(variant: str | None) -> frozenset[str]:
    """The languages a Detoxify variant reads; "-small" variants share their family's, and a
    model that is no published variant (None) reads English."""
    if variant is None:
        return FALLBACK_LANGUAGES
    return DEFAULT_MODEL_LANGUAGES.get(variant.split("-", 1)[0], FALLBACK_LANGUAGES)


def default_routes(variant: str | None) -> Mapping[str, str]:
    """Every language the default model's variant reads, routed to it."""
    return MappingProxyType(dict.fromkeys(sorted(variant_languages(variant)), DEFAULT_MODEL_ID))


@dataclass(frozen=True)
class LanguageSettings:
    """`routes`: language code → the id of the model that scores comments in it, fully
    resolved. A language no route names is read by no model: the `language` rule holds it."""

    enabled: bool = True
    routes: Mapping[str, str] = field(default_factory=lambda: default_routes(None))

    def route(self, language: str | None) -> str | None:
        """The model that scores a comment in `language`: `default` when the language can't
        be told (None), None when no model reads it."""
        if language is None:
            return DEFAULT_MODEL_ID
        return self.routes.get(language)

    @property
    def readable(self) -> frozenset[str]:
        """Every language some model reads."""
        return frozenset(self.routes)

    def covered(self, model: str) -> frozenset[str]:
        """The languages routed to the model with id `model`. An id no route names (a variant
        name recorded before models had ids) is taken for `default`."""
        target = model if model in self.routes.values() else DEFAULT_MODEL_ID
        return frozenset(code for code, routed in self.routes.items() if routed == target)


@dataclass(frozen=True)
class RegisteredModel:
    """What the policy knows of a model in the registry (MODERATION_MODELS and `default`)
    without loading it: the names of its `outputs` (None: unknown until it is loaded, and then
    label maps naming them aren't checked) and its Detoxify `variant` (None: a Hugging Face
    checkpoint, or a default checkpoint that is no published variant)."""

    outputs: tuple[str, ...] | None
    variant: str | None


@dataclass(frozen=True)
class LabelSource:
    """How one label's score comes from a model's outputs: an output `as_is`, `one_minus`
    an output (toxicity = 1 - clean), or the `max_of` several."""

    kind: Literal["as_is", "one_minus", "max_of"]
    outputs: tuple[str, ...]

    def score(self, probabilities: Mapping[str, float]) -> float | None:
        """None when the model gave none of the outputs it names."""
        values = [probabilities[name] for name in self.outputs if name in probabilities]
        if len(values) < len(self.outputs):
            return None
        if self.kind == "one_minus":
            return 1.0 - values[0]
        return max(values)


@dataclass(frozen=True)
class ModelSettings:
    """The policy's `models.<id>`: how the model's outputs become labels, and its thresholds.

    `labels` None: the outputs are the labels, as is (a Detoxify model). `thresholds`: fully
    resolved; for `default` they are `toxicity.thresholds`.
    """

    activation: Activation = "sigmoid"
    labels: Mapping[str, LabelSource] | None = None
    thresholds: Mapping[str, float] = field(default_factory=lambda: DEFAULT_THRESHOLDS)

    def scores(self, outputs: Mapping[str, float], *, logits: bool) -> dict[str, float]:
        """The labels' scores from the model's raw `outputs` (logits: the activation first)."""
        probabilities = activate(outputs, self.activation) if logits else dict(outputs)
        if self.labels is None:
            mapped: dict[str, float | None] = dict(probabilities)
        else:
            mapped = {label: source.score(probabilities) for label, source in self.labels.items()}
        return {
            label: round(value, SCORE_DIGITS)
            for label, value in mapped.items()
            if value is not None
        }


def activate(logits: Mapping[str, float], activation: Activation) -> dict[str, float]:
    """Probabilities from logits: each on its own (`sigmoid`, a multi-label model) or shared
    out among them (`softmax`, a model that picks one label)."""
    if activation == "sigmoid":
        return {name: _sigmoid(value) for name, value in logits.items()}
    if not logits:
        return {}
    top = max(logits.values())
    exps = {name: math.exp(value - top) for name, value in logits.items()}
    total = sum(exps.values())
    return {name: value / total for name, value in exps.items()}


def _sigmoid(value: float) -> float:
    # Written two ways so that neither overflows: exp(-value) for a large negative value would.
    if value >= 0:
        return 1.0 / (1.0 + math.exp(-value))
    small = math.exp(value)
    return small / (1.0 + small)


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
