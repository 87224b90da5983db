"""Reading the policy file: every section checked, every mistake one clear error.

Each section is optional; a missing one (or a missing key) takes the default in
`policy.sections`, which is what the shipped `standards-board.yaml` says too.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import regex
import yaml

from policy.decision import DEFAULT_MODEL_ID
from policy.engine import Policy
from policy.errors import PolicyError
from policy.normalize import fold
from policy.schema import NodeReader, child, line_of
from policy.sections import (
    ACTIVATIONS,
    AUTHOR_FIGURE_RULES,
    DEFAULT_THRESHOLDS,
    IDENTITY_LABELS,
    NEVER_SKIPPED_LABELS,
    PERSONAL_INFO_KINDS,
    SKIPPABLE_RULES,
    TOXICITY_LABELS,
    Activation,
    ArticleSettings,
    AuthorSettings,
    AutoTrustSettings,
    FloodSettings,
    LabelSource,
    LanguageSettings,
    LinksSettings,
    ModelSettings,
    NewCommenterSettings,
    PersonalInfoSettings,
    RecentRejectionsSettings,
    RegisteredModel,
    RepeatSettings,
    ReportsSettings,
    ToxicitySettings,
    default_routes,
    variant_languages,
)
from policy.wordlists import TermsReader

__all__ = ["PolicyError", "load_policy", "parse_policy"]

SCHEMA_VERSION = 1
SECTIONS = (
    "schema", "toxicity", "terms", "links", "personal_info", "repeat", "flood", "language",
    "models", "author", "article", "reports",
)  # fmt: skip
MODEL_KEYS = ("activation", "labels", "thresholds")
# A label a model's scores are given under: a service label, or one of the model's own.
_LABEL_SHAPE = regex.compile(r"[a-z][a-z0-9_]{0,63}")
MIN_WINDOW_SECONDS = 10
# A year and a day: longer windows are a typo, and past a point they overflow the worker's
# date arithmetic (`timedelta` stops at 999999999 days).
MAX_WINDOW_SECONDS = 366 * 86_400
MAX_DAYS = 366
_DOMAIN = regex.compile(r"(?:[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?\.)+\p{L}{2,63}")


def load_policy(
    path: Path,
    *,
    model_labels: Collection[str] | None = None,
    registry: Mapping[str, RegisteredModel] | None = None,
) -> Policy:
    """Read and check the policy file at `path` (see `parse_policy`)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise PolicyError(f"can't read the policy file ({exc.strerror})", source=str(path)) from exc
    return parse_policy(
        raw, source=str(path), base_dir=path.parent, model_labels=model_labels, registry=registry
    )


def parse_policy(
    raw: bytes,
    *,
    source: str,
    base_dir: Path = Path(),
    model_labels: Collection[str] | None = None,
    registry: Mapping[str, RegisteredModel] | None = None,
) -> Policy:
    """Check policy text; `base_dir` is where relative term-list `file:` paths start.

    `registry`: the models the service runs, by id (`default`, and those MODERATION_MODELS
    names). Routes and `models` entries may name only these ids, and label maps are checked
    against each model's outputs where they are known. None (callers from before the registry):
    `default` alone, outputting `model_labels`. A threshold in `toxicity.thresholds` for a label
    the default model lacks becomes a warning in `Policy.warnings` (one file serves every
    model), never an error.
    """
    if registry is None:
        labels = None if model_labels is None else tuple(model_labels)
        registry = {DEFAULT_MODEL_ID: RegisteredModel(outputs=labels, variant=None)}
    elif DEFAULT_MODEL_ID not in registry:
        raise ValueError(f"the model registry has no {DEFAULT_MODEL_ID!r} model")
    return _Loader(source, base_dir, registry).load(raw)


class _Loader:
    def __init__(
        self, source: str, base_dir: Path, registry: Mapping[str, RegisteredModel]
    ) -> None:
        self.source = source
        self.base_dir = base_dir
        self.registry = registry
        self.reader = NodeReader(source)
        self.terms = TermsReader(self.reader, base_dir)
        self.written_thresholds: dict[str, int] = {}

    def load(self, raw: bytes) -> Policy:
        root = self.reader.compose(raw)
        sections = {} if root is None else self.reader.mapping(root, "", SECTIONS)
        if "schema" in sections:
            self._schema(sections["schema"])
        toxicity = self._toxicity(sections.get("toxicity"))
        terms = self.terms.read(sections.get("terms"))
        links = self._links(sections.get("links"))
        personal_info = self._personal_info(sections.get("personal_info"))
        repeat = self._repeat(sections.get("repeat"))
        flood = self._flood(sections.get("flood"))
        models = self._models(sections.get("models"), toxicity)
        language = self._language(sections.get("language"), models)
        author = self._author(sections.get("author"))
        article = self._article(sections.get("article"))
        reports = self._reports(sections.get("reports"))
        digest = hashlib.sha256(raw)
        for name, content in self.terms.list_files:
            digest.update(b"\0" + name.encode() + b"\0" + content)
        return Policy(
            version="sha256:" + digest.hexdigest()[:16],
            source=self.source,
            toxicity=toxicity,
            terms=terms,
            links=links,
            personal_info=personal_info,
            repeat=repeat,
            flood=flood,
            language=language,
            author=author,
            article=article,
            reports=reports,
            models=MappingProxyType(models),
            warnings=self._warnings(models[DEFAULT_MODEL_ID]),
            term_files=tuple(self.terms.files),
        )

    def _schema(self, node: yaml.Node) -> None:
        value = self.reader.scalar(node, "schema")
        # `true == 1` and `1.0 == 1` in Python, but neither is how a version is written.
        if type(value) is not int or value != SCHEMA_VERSION:
            raise self.reader.error(
                node, "schema", f"this service reads schema {SCHEMA_VERSION}, got {node.value!r}"
            )

    def _toxicity(self, node: yaml.Node | None) -> ToxicitySettings:
        values = self.reader.section(node, "toxicity", ("thresholds", "identity_evidence_min"))
        thresholds = dict(DEFAULT_THRESHOLDS)
        path = "toxicity.thresholds"
        written = (
            self.reader.mapping(values["thresholds"], path, None) if "thresholds" in values else {}
        )
        for label, value_node in written.items():
            label_path = child(path, label)
            self._check_label(value_node, label_path, label)
            if self.reader.scalar(value_node, label_path) is False:
                thresholds.pop(label)
                continue
            thresholds[label] = self.reader.fraction(value_node, label_path)
            self.written_thresholds[label] = line_of(value_node)
        evidence_min = ToxicitySettings.identity_evidence_min
        if "identity_evidence_min" in values:
            evidence_min = self.reader.fraction(
                values["identity_evidence_min"], "toxicity.identity_evidence_min"
            )
        return ToxicitySettings(
            enabled=self.reader.enabled(values, "toxicity"),
            thresholds=MappingProxyType(thresholds),
            identity_evidence_min=evidence_min,
        )

    def _check_label(self, node: yaml.Node, path: str, label: str) -> None:
        if label in IDENTITY_LABELS:
            raise self.reader.error(
                node,
                path,
                f"{label!r} is an identity label: it says which group a comment mentions, "
                "not whether it is harmful, so it can't hold a comment. Remove this line; "
                "identity scores are shown as evidence on the other reasons",
            )
        if label not in TOXICITY_LABELS:
            raise self.reader.error(
                node,
                path,
                f"no Detoxify model has a label {label!r}; "
                f"labels are: {', '.join(TOXICITY_LABELS)}",
            )

    def _links(self, node: yaml.Node | None) -> LinksSettings:
        values = self.reader.section(node, "links", ("allow_domains",))
        domains = []
        path = "links.allow_domains"
        if "allow_domains" in values:
            for index, (domain, item) in enumerate(
                self.reader.texts(values["allow_domains"], path)
            ):
                folded = fold(domain.lower().rstrip(".").removeprefix("*.")).text
                if not _DOMAIN.fullmatch(folded):
                    raise self.reader.error(
                        item,
                        f"{path}[{index}]",
                        f"{domain!r} is not a domain: write it alone, like example.com "
                        "(no http://, no path); its subdomains are allowed too",
                    )
                domains.append(folded)
        return LinksSettings(
            enabled=self.reader.enabled(values, "links"), allow_domains=tuple(domains)
        )

    def _personal_info(self, node: yaml.Node | None) -> PersonalInfoSettings:
        values = self.reader.section(node, "personal_info", ("detect",))
        detect = PersonalInfoSettings.detect
        if "detect" in values:
            detect = tuple(
                self.reader.choices(values["detect"], "personal_info.detect", PERSONAL_INFO_KINDS)
            )
        return PersonalInfoSettings(
            enabled=self.reader.enabled(values, "personal_info"), detect=detect
        )

    def _repeat(self, node: yaml.Node | None) -> RepeatSettings:
        values = self.reader.section(node, "repeat", ("window_seconds", "min_chars"))
        defaults = RepeatSettings()
        return RepeatSettings(
            enabled=self.reader.enabled(values, "repeat"),
            window_seconds=self._window(values, "repeat", defaults.window_seconds),
            min_chars=self._int(values, "repeat", "min_chars", defaults.min_chars, 1),
        )

    def _flood(self, node: yaml.Node | None) -> FloodSettings:
        values = self.reader.section(node, "flood", ("window_seconds", "hold_after", "hard_limit"))
        defaults = FloodSettings()
        hold_after = self._int(values, "flood", "hold_after", defaults.hold_after, 1)
        hard_limit = defaults.hard_limit
        if "hard_limit" in values:
            hard_limit_node = values["hard_limit"]
            hard_limit = (
                None
                if self.reader.scalar(hard_limit_node, "flood.hard_limit") is None
                else self.reader.integer(hard_limit_node, "flood.hard_limit", minimum=1)
            )
        if hard_limit is not None and hard_limit <= hold_after:
            key = "hard_limit" if "hard_limit" in values else "hold_after"
            raise self.reader.error(
                values[key],
                child("flood", key),
                f"hard_limit ({hard_limit}) must be more than hold_after ({hold_after}), or "
                "comments would be refused before any is held",
            )
        return FloodSettings(
            enabled=self.reader.enabled(values, "flood"),
            window_seconds=self._window(values, "flood", defaults.window_seconds),
            hold_after=hold_after,
            hard_limit=hard_limit,
        )

    def _language(
        self, node: yaml.Node | None, models: Mapping[str, ModelSettings]
    ) -> LanguageSettings:
        values = self.reader.section(node, "language", ("routes", "models"))
        if "models" in values:
            raise self._old_language_form(self.reader.keys(node)["models"], values["models"])
        variant = self.registry[DEFAULT_MODEL_ID].variant
        routes = dict(default_routes(variant))
        path = "language.routes"
        written = self.reader.mapping(values["routes"], path, None) if "routes" in values else {}
        keys = self.reader.keys(values["routes"]) if "routes" in values else {}
        for code, model_node in written.items():
            route_path = child(path, code)
            self.reader.language_code(keys[code], route_path)
            if self.reader.scalar(model_node, route_path) is False:
                routes.pop(code, None)  # `off`: no model reads it, a person does
                continue
            routes[code] = self._route(model_node, route_path, models)
        return LanguageSettings(
            enabled=self.reader.enabled(values, "language"),
            routes=MappingProxyType(dict(sorted(routes.items()))),
        )

    def _route(self, node: yaml.Node, path: str, models: Mapping[str, ModelSettings]) -> str:
        model = self.reader.text(node, path)
        if model not in self.registry:
            raise self.reader.error(node, path, self._unknown_model(model))
        if self._is_checkpoint(model) and models[model].labels is None:
            raise self.reader.error(
                node,
                path,
                f"{model!r} is a Hugging Face checkpoint: write `models: {{{model}: ...}}` "
                "with its `activation` and `labels` (docs/languages.md shows how)",
            )
        return model

    def _old_language_form(self, key: yaml.Node, node: yaml.Node) -> PolicyError:
        """`language.models` (model → languages) is refused, with the `routes` to write."""
        variant = self.registry[DEFAULT_MODEL_ID].variant
        family = None if variant is None else variant.split("-", 1)[0]
        languages = sorted(variant_languages(variant))
        pairs = node.value if isinstance(node, yaml.MappingNode) else []
        for name, value in pairs:
            if name.value == family and isinstance(value, yaml.SequenceNode):
                languages = [str(item.value) for item in value.value]
        example = ", ".join(f"{code}: default" for code in languages)
        return self.reader.error(
            key,
            "language.models",
            "the model → languages list is now written the other way round: replace "
            "`models:` with `routes:`, each language → the id of the model that reads it "
            f"(`default` is MODERATION_MODEL), e.g. `routes: {{{example}}}`; left out, "
            "`default` reads the languages its Detoxify variant reads",
        )

    def _unknown_model(self, model: str) -> str:
        others = ", ".join(sorted(self.registry))
        return (
            f"no model has the id {model!r}; the ids are: {others} (`default` is "
            "MODERATION_MODEL; the others are the keys of MODERATION_MODELS)"
        )

    def _is_checkpoint(self, model: str) -> bool:
        """A Hugging Face checkpoint: its outputs are logits under names of its own."""
        return model != DEFAULT_MODEL_ID and self.registry[model].variant is None

    def _models(
        self, node: yaml.Node | None, toxicity: ToxicitySettings
    ) -> dict[str, ModelSettings]:
        """Every registered model's settings, those `models:` writes checked against it."""
        written = {} if node is None else self.reader.mapping(node, "models", None)
        keys = {} if node is None else self.reader.keys(node)
        for model in written:
            if model not in self.registry:
                raise self.reader.error(
                    keys[model], child("models", model), self._unknown_model(model)
                )
        models = {}
        for model in self.registry:
            settings = (
                self._model(written[model], model)
                if model in written
                else ModelSettings(thresholds=self._base_thresholds(model, None))
            )
            if model == DEFAULT_MODEL_ID:
                settings = ModelSettings(settings.activation, settings.labels, toxicity.thresholds)
            models[model] = settings
        return models

    def _model(self, node: yaml.Node, model: str) -> ModelSettings:
        path = child("models", model)
        values = self.reader.mapping(node, path, MODEL_KEYS)
        checkpoint = self._is_checkpoint(model)
        if checkpoint:
            missing = [key for key in ("activation", "labels") if key not in values]
            if missing:
                raise self.reader.error(
                    node,
                    path,
                    f"{model!r} is a Hugging Face checkpoint: write its "
                    f"{' and '.join(f'`{key}`' for key in missing)} (sigmoid or softmax; each "
                    "label ← an output of the model); docs/languages.md shows how",
                )
        activation: Activation = "sigmoid"
        if "activation" in values:
            activation = self._activation(
                values["activation"], child(path, "activation"), checkpoint
            )
        labels = self._labels(values["labels"], model) if "labels" in values else None
        thresholds = self._base_thresholds(model, labels)
        if "thresholds" in values:
            thresholds = self._model_thresholds(values["thresholds"], model, labels, thresholds)
        return ModelSettings(
            activation=activation, labels=labels, thresholds=MappingProxyType(thresholds)
        )

    def _activation(self, node: yaml.Node, path: str, checkpoint: bool) -> Activation:
        value = self.reader.text(node, path)
        if value == "sigmoid":
            return "sigmoid"
        if value not in ACTIVATIONS:
            raise self.reader.error(
                node,
                path,
                f"{value!r} is not an activation: write sigmoid (each label scored on its own, "
                "a multi-label model) or softmax (the labels share one score out, e.g. a "
                "model with a `clean` label)",
            )
        if not checkpoint:
            raise self.reader.error(
                node,
                path,
                "a Detoxify model's scores are probabilities already (sigmoid); "
                "leave `activation` out",
            )
        return "softmax"

    def _labels(self, node: yaml.Node, model: str) -> dict[str, LabelSource]:
        path = child(child("models", model), "labels")
        written = self.reader.mapping(node, path, None)
        keys = self.reader.keys(node)
        if not written:
            raise self.reader.error(node, path, "must map at least one label to an output")
        labels = {}
        for label, source_node in written.items():
            label_path = child(path, label)
            if not _LABEL_SHAPE.fullmatch(label):
                raise self.reader.error(
                    keys[label],
                    label_path,
                    f"{label!r} is not a label name: lower case letters, digits and `_`, "
                    "like toxicity or hate_speech",
                )
            labels[label] = self._label_source(source_node, label_path, model)
        return labels

    def _label_source(self, node: yaml.Node, path: str, model: str) -> LabelSource:
        if isinstance(node, yaml.ScalarNode):
            return LabelSource("as_is", (self._output(node, path, model),))
        forms = "an output of the model, `{one_minus: OUTPUT}` or `{max_of: [OUTPUT, ...]}`"
        written = self.reader.mapping(node, path, ("one_minus", "max_of"))
        if len(written) != 1:
            raise self.reader.error(node, path, f"write one of: {forms}")
        if "one_minus" in written:
            return LabelSource(
                "one_minus",
                (self._output(written["one_minus"], child(path, "one_minus"), model),),
            )
        max_path = child(path, "max_of")
        items = self.reader.sequence(written["max_of"], max_path)
        if not items:
            raise self.reader.error(written["max_of"], max_path, "must name at least one output")
        return LabelSource(
            "max_of",
            tuple(
                self._output(item, f"{max_path}[{index}]", model)
                for index, item in enumerate(items)
            ),
        )

    def _output(self, node: yaml.Node, path: str, model: str) -> str:
        name = self.reader.text(node, path)
        outputs = self.registry[model].outputs
        if outputs is not None and name not in outputs:
            raise self.reader.error(
                node,
                path,
                f"model {model!r} has no output {name!r}; its outputs are: {', '.join(outputs)}",
            )
        return name

    def _labels_of(self, model: str, labels: Mapping[str, LabelSource] | None) -> tuple[str, ...]:
        """The labels a model's scores come under: its map's, else its outputs' (all the
        service's labels when they are unknown)."""
        if labels is not None:
            return tuple(labels)
        outputs = self.registry[model].outputs
        return TOXICITY_LABELS if outputs is None else outputs

    def _base_thresholds(
        self, model: str, labels: Mapping[str, LabelSource] | None
    ) -> dict[str, float]:
        """The shipped threshold of each service label the model scores: thresholds are
        tuned per model, so another model's (`toxicity.thresholds`) are never inherited."""
        scored = self._labels_of(model, labels)
        return {label: DEFAULT_THRESHOLDS[label] for label in TOXICITY_LABELS if label in scored}

    def _model_thresholds(
        self,
        node: yaml.Node,
        model: str,
        labels: Mapping[str, LabelSource] | None,
        thresholds: dict[str, float],
    ) -> dict[str, float]:
        path = child(child("models", model), "thresholds")
        if model == DEFAULT_MODEL_ID:
            raise self.reader.error(
                node,
                path,
                "the default model's thresholds are `toxicity.thresholds`; set them there",
            )
        scored = self._labels_of(model, labels)
        for label, value_node in self.reader.mapping(node, path, None).items():
            label_path = child(path, label)
            if label in IDENTITY_LABELS:
                self._check_label(value_node, label_path, label)
            if label not in scored:
                raise self.reader.error(
                    value_node,
                    label_path,
                    f"model {model!r} gives no {label!r} score; its labels are: "
                    f"{', '.join(scored)}",
                )
            if self.reader.scalar(value_node, label_path) is False:
                thresholds.pop(label, None)
                continue
            thresholds[label] = self.reader.fraction(value_node, label_path)
        return thresholds

    def _author(self, node: yaml.Node | None) -> AuthorSettings:
        values = self.reader.section(
            node, "author", ("trusted_skip", "trusted_skip_toxicity", *AUTHOR_FIGURE_RULES)
        )
        defaults = AuthorSettings()
        skip = defaults.trusted_skip
        if "trusted_skip" in values:
            skip = frozenset(
                self.reader.choices(values["trusted_skip"], "author.trusted_skip", SKIPPABLE_RULES)
            )
        skip_labels = defaults.trusted_skip_toxicity
        if "trusted_skip_toxicity" in values:
            allowed = tuple(label for label in TOXICITY_LABELS if label not in NEVER_SKIPPED_LABELS)
            skip_labels = frozenset(
                self.reader.choices(
                    values["trusted_skip_toxicity"], "author.trusted_skip_toxicity", allowed
                )
            )
        return AuthorSettings(
            enabled=self.reader.enabled(values, "author"),
            trusted_skip=skip,
            trusted_skip_toxicity=skip_labels,
            **self._author_figure_rules(values),
        )

    def _author_figure_rules(self, values: Mapping[str, yaml.Node]) -> dict[str, Any]:
        """`new_commenter`, `recent_rejections` and `auto_trust`: each off when left out or
        written `off`; a mapping switches it on (unless it says `enabled: false`), its
        missing keys taking the defaults."""
        on, new = self._switch(values, "new_commenter", ("hold_until_approved",))
        path = "author.new_commenter"
        defaults = NewCommenterSettings()
        new_commenter = NewCommenterSettings(
            enabled=on,
            hold_until_approved=self._int(
                new, path, "hold_until_approved", defaults.hold_until_approved, 1
            ),
        )
        on, recent = self._switch(
            values, "recent_rejections", ("window_days", "min_decided", "max_rate")
        )
        path, rejections = "author.recent_rejections", RecentRejectionsSettings()
        window_days = rejections.window_days
        if "window_days" in recent:
            window_days = self.reader.integer(
                recent["window_days"], child(path, "window_days"), minimum=1, maximum=MAX_DAYS
            )
        recent_rejections = RecentRejectionsSettings(
            enabled=on,
            window_days=window_days,
            min_decided=self._int(recent, path, "min_decided", rejections.min_decided, 1),
            max_rate=self._fraction(recent, path, "max_rate", rejections.max_rate),
        )
        on, auto = self._switch(
            values, "auto_trust", ("after_approved", "max_rejection_rate", "toxicity_margin")
        )
        path, trust = "author.auto_trust", AutoTrustSettings()
        auto_trust = AutoTrustSettings(
            enabled=on,
            after_approved=self._int(auto, path, "after_approved", trust.after_approved, 1),
            max_rejection_rate=self._fraction(
                auto, path, "max_rejection_rate", trust.max_rejection_rate
            ),
            toxicity_margin=self._fraction(auto, path, "toxicity_margin", trust.toxicity_margin),
        )
        if (
            new_commenter.enabled
            and auto_trust.enabled
            and auto_trust.after_approved < new_commenter.hold_until_approved
        ):
            node, at = (
                (auto["after_approved"], f"{path}.after_approved")
                if "after_approved" in auto
                else (new["hold_until_approved"], "author.new_commenter.hold_until_approved")
            )
            raise self.reader.error(
                node,
                at,
                f"auto_trust.after_approved ({auto_trust.after_approved}) must be at least "
                f"new_commenter.hold_until_approved ({new_commenter.hold_until_approved}): "
                "an author can't be trusted automatically while still held as new",
            )
        return {
            "new_commenter": new_commenter,
            "recent_rejections": recent_rejections,
            "auto_trust": auto_trust,
        }

    def _switch(
        self, values: Mapping[str, yaml.Node], key: str, keys: tuple[str, ...]
    ) -> tuple[bool, dict[str, yaml.Node]]:
        """(on, its settings) of a rule written `off` or as a mapping of settings."""
        node, path = values.get(key), child("author", key)
        if node is None:
            return False, {}
        if isinstance(node, yaml.ScalarNode):
            value = self.reader.scalar(node, path)
            if value is False or value is None:
                return False, {}
        written = self.reader.mapping(node, path, (*keys, "enabled"))
        return self.reader.enabled(written, path), written

    def _fraction(
        self, values: Mapping[str, yaml.Node], section: str, key: str, default: float
    ) -> float:
        if key not in values:
            return default
        return self.reader.fraction(values[key], child(section, key))

    def _article(self, node: yaml.Node | None) -> ArticleSettings:
        values = self.reader.section(node, "article", ())
        return ArticleSettings(enabled=self.reader.enabled(values, "article"))

    def _reports(self, node: yaml.Node | None) -> ReportsSettings:
        values = self.reader.section(
            node, "reports", ("review_after", "hide_after", "min_reporter_approved", "flood")
        )
        defaults = ReportsSettings()
        review_after = self._int(values, "reports", "review_after", defaults.review_after, 1)
        hide_after = self._optional_int(values, "reports", "hide_after", defaults.hide_after)
        # Off by default: a hide_after to compare is one the file wrote.
        if hide_after is not None and hide_after < review_after:
            raise self.reader.error(
                values["hide_after"],
                "reports.hide_after",
                f"hide_after ({hide_after}) must be at least review_after ({review_after}): "
                "a comment hidden before it enters the reported queue would be taken down "
                "without a moderator ever seeing it",
            )
        flood = (
            self.reader.mapping(values["flood"], "reports.flood", ("window_seconds", "limit"))
            if "flood" in values
            else {}
        )
        return ReportsSettings(
            enabled=self.reader.enabled(values, "reports"),
            review_after=review_after,
            hide_after=hide_after,
            min_reporter_approved=self._int(
                values, "reports", "min_reporter_approved", defaults.min_reporter_approved, 0
            ),
            flood_window_seconds=self._window(
                flood, "reports.flood", defaults.flood_window_seconds
            ),
            flood_limit=self._optional_int(flood, "reports.flood", "limit", defaults.flood_limit),
        )

    def _optional_int(
        self, values: Mapping[str, yaml.Node], section: str, key: str, default: int | None
    ) -> int | None:
        """A whole number from 1, or `null` / `false` for none."""
        if key not in values:
            return default
        path = child(section, key)
        value = self.reader.scalar(values[key], path)
        if value is None or value is False:
            return None
        return self.reader.integer(values[key], path, minimum=1)

    def _int(
        self, values: Mapping[str, yaml.Node], section: str, key: str, default: int, minimum: int
    ) -> int:
        if key not in values:
            return default
        return self.reader.integer(values[key], child(section, key), minimum=minimum)

    def _window(self, values: Mapping[str, yaml.Node], section: str, default: int) -> int:
        if "window_seconds" not in values:
            return default
        return self.reader.integer(
            values["window_seconds"],
            child(section, "window_seconds"),
            minimum=MIN_WINDOW_SECONDS,
            maximum=MAX_WINDOW_SECONDS,
        )

    def _warnings(self, default: ModelSettings) -> tuple[str, ...]:
        model_labels = (
            self.registry[DEFAULT_MODEL_ID].outputs if default.labels is None else default.labels
        )
        if model_labels is None:
            return ()
        return tuple(
            f"{self.source}, line {line}: toxicity.thresholds.{label}: the configured model "
            f"has no {label!r} label, so this threshold never applies"
            for label, line in sorted(self.written_thresholds.items(), key=lambda item: item[1])
            if label not in model_labels
        )
