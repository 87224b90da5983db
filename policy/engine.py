"""The policy: every section's settings, and `evaluate`, which runs the rules in a fixed order."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from policy import rules
from policy.authors import figures_evaluable, toxicity_margin
from policy.decision import DEFAULT_MODEL_ID, Comment, Context, Decision, Reason
from policy.sections import (
    ArticleSettings,
    AuthorSettings,
    FloodSettings,
    LanguageSettings,
    LinksSettings,
    ModelSettings,
    PersonalInfoSettings,
    RepeatSettings,
    ReportsSettings,
    TermsSettings,
    ToxicitySettings,
)

__all__ = ["Comment", "Context", "Decision", "Policy", "Reason", "evaluate"]


@dataclass(frozen=True)
class Policy:
    """A loaded policy file. Build it with `load_policy`; it is immutable and thread-safe."""

    version: str
    source: str
    toxicity: ToxicitySettings = field(default_factory=ToxicitySettings)
    terms: TermsSettings = field(default_factory=TermsSettings)
    links: LinksSettings = field(default_factory=LinksSettings)
    personal_info: PersonalInfoSettings = field(default_factory=PersonalInfoSettings)
    repeat: RepeatSettings = field(default_factory=RepeatSettings)
    flood: FloodSettings = field(default_factory=FloodSettings)
    language: LanguageSettings = field(default_factory=LanguageSettings)
    author: AuthorSettings = field(default_factory=AuthorSettings)
    article: ArticleSettings = field(default_factory=ArticleSettings)
    reports: ReportsSettings = field(default_factory=ReportsSettings)
    # Every model of the registry the policy was loaded with, by id (`default` among them):
    # how its outputs become labels, and its thresholds.
    models: Mapping[str, ModelSettings] = field(
        default_factory=lambda: MappingProxyType({DEFAULT_MODEL_ID: ModelSettings()})
    )
    warnings: tuple[str, ...] = ()
    # Term-list files named with `file:`; they decide as much as the policy file (and count in
    # `version`), so whatever reloads the policy when its file changes should watch these too.
    term_files: tuple[Path, ...] = ()

    @property
    def thresholds(self) -> Mapping[str, float]:
        return self.toxicity.thresholds

    @property
    def flood_window_seconds(self) -> int:
        """The window the API counts an author's comments over (Redis counter TTL)."""
        return self.flood.window_seconds

    @property
    def flood_hold_after(self) -> int:
        """More comments than this within the window are held (the `flood` rule)."""
        return self.flood.hold_after

    @property
    def flood_hard_limit(self) -> int | None:
        """More comments than this within the window are refused by the API with 429.

        None: no limit. Independent of `flood.enabled`, which only switches the hold.
        """
        return self.flood.hard_limit

    @property
    def repeat_window_seconds(self) -> int:
        """How far back the worker looks for the author's earlier texts (`recent_digests`)."""
        return self.repeat.window_seconds

    @property
    def routes(self) -> Mapping[str, str]:
        """Language code → the id of the model that scores comments in it, fully resolved."""
        return self.language.routes

    def route(self, language: str | None) -> str | None:
        """The id of the model that scores a comment in `language`: `default` when the
        language can't be told (None); None when no model reads it (the `language` rule holds
        such a comment, and `default` scores it for the other rules)."""
        return self.language.route(language)

    def covered_languages(self, model: str) -> frozenset[str]:
        """The languages routed to the model with id `model` (an id the routes don't name is
        taken for `default`)."""
        return self.language.covered(model)

    def model_id(self, model: str) -> str:
        """`model` if the policy knows that id, else `default`: decisions stored before models
        had ids recorded a Detoxify variant name."""
        return model if model in self.models else DEFAULT_MODEL_ID

    def model_scores(
        self, model_id: str, outputs: Mapping[str, float], *, logits: bool
    ) -> dict[str, float]:
        """The scores `evaluate` reads, from what the model `model_id` output: its activation
        first when `outputs` are `logits`, then its label map (the outputs as they are when the
        policy gives none), rounded to 6 places. A label the map names from outputs the model
        didn't give is left out. An id the policy doesn't know: the outputs as is (sigmoid)."""
        return self.models.get(model_id, _AS_IS).scores(outputs, logits=logits)

    def model_thresholds(self, model: str) -> Mapping[str, float]:
        """The thresholds a model's scores are held at: `default`'s are `toxicity.thresholds`;
        another's are its `models.<id>.thresholds`. An unknown id gets `default`'s."""
        model = self.model_id(model)
        if model == DEFAULT_MODEL_ID:
            return self.toxicity.thresholds
        return self.models[model].thresholds

    def scores_evaluable(self, context: Context) -> bool:
        """Whether the scores stored with `context` are the ones this policy would judge: not
        when it routes the comment's language to another model than the one that scored it (a
        replay counts those as not evaluable: they would need scoring again)."""
        scored_by = self.route(context.language) or DEFAULT_MODEL_ID
        return scored_by == self.model_id(context.model)

    def author_rules_evaluable(self, context: Context) -> bool:
        """Whether this policy's author rules that read decided counts can be judged on
        `context`: not on one stored before the worker recorded them (a replay counts those
        as not evaluable rather than guess)."""
        return figures_evaluable(self.author, context.author)

    def evaluate(self, comment: Comment, scores: Mapping[str, float], context: Context) -> Decision:
        """Approve, or hold with every reason that applies, in a fixed order.

        Pure and deterministic: the same comment, scores, context and policy always give the
        same decision, reasons in the same order, so a stored decision can be replayed.
        `scores` are the labels' (`model_scores`); `context.model` picks their thresholds.
        """
        subject = rules.Subject(comment.text)
        trusted = self.author.enabled and bool(context.author.get("trusted"))
        margin = toxicity_margin(self.author, context.author)
        skip = self.author.trusted_skip if trusted else frozenset()
        skip_labels = self.author.trusted_skip_toxicity if trusted else frozenset()
        reasons = [
            *rules.article(self.article, context),
            *rules.author(self.author, context),
            *(rules.flood(self.flood, context) if "flood" not in skip else ()),
            *(rules.repeat(self.repeat, subject, context) if "repeat" not in skip else ()),
            *rules.toxicity(
                self.toxicity,
                scores,
                skip_labels,
                margin=margin,
                thresholds=self.model_thresholds(context.model),
            ),
            *(rules.terms(self.terms, subject) if "terms" not in skip else ()),
            *(rules.links(self.links, subject) if "links" not in skip else ()),
            *(
                rules.personal_info(self.personal_info, subject)
                if "personal_info" not in skip
                else ()
            ),
            *(rules.language(self.language, context) if "language" not in skip else ()),
        ]
        return Decision.from_reasons(tuple(reasons), policy_version=self.version)


_AS_IS = ModelSettings()


def evaluate(
    policy: Policy, comment: Comment, scores: Mapping[str, float], context: Context
) -> Decision:
    """`policy.evaluate(comment, scores, context)`, for callers that pass the policy along
    like any other argument (a replay over several policy versions, a `functools.partial`)."""
    return policy.evaluate(comment, scores, context)
