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

from policy.engine import Policy
from policy.errors import PolicyError
from policy.normalize import fold
from policy.schema import ID_SHAPE, NodeReader, child, line_of
from policy.sections import (
    AUTHOR_FIGURE_RULES,
    DEFAULT_MODEL_LANGUAGES,
    DEFAULT_THRESHOLDS,
    IDENTITY_LABELS,
    NEVER_SKIPPED_LABELS,
    PERSONAL_INFO_KINDS,
    SKIPPABLE_RULES,
    TOXICITY_LABELS,
    ArticleSettings,
    AuthorSettings,
    AutoTrustSettings,
    FloodSettings,
    LanguageSettings,
    LinksSettings,
    NewCommenterSettings,
    PersonalInfoSettings,
    RecentRejectionsSettings,
    RepeatSettings,
    ReportsSettings,
    ToxicitySettings,
)
from policy.wordlists import TermsReader

__all__ = ["PolicyError", "load_policy", "parse_policy"]

SCHEMA_VERSION = 1
SECTIONS = (
    "schema", "toxicity", "terms", "links", "personal_info", "repeat", "flood", "language",
    "author", "article", "reports",
)  # fmt: skip
MIN_WINDOW_SECONDS = 10
# A year and a day: longer windows are a typo, and past a point they overflow the worker's
# date arithmetic (`timedelta` stops at 999999999 days).
MAX_WINDOW_SECONDS = 366 * 86_400
MAX_DAYS = 366
_DOMAIN = regex.compile(r"(?:[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?\.)+\p{L}{2,63}")


def load_policy(path: Path, *, model_labels: Collection[str] | None = None) -> Policy:
    """Read and check the policy file at `path`.

    `model_labels`: the labels the configured Detoxify model outputs. A threshold the file sets
    for a label the model lacks becomes a warning in `Policy.warnings` (one file serves every
    model), never an error.
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise PolicyError(f"can't read the policy file ({exc.strerror})", source=str(path)) from exc
    return parse_policy(raw, source=str(path), base_dir=path.parent, model_labels=model_labels)


def parse_policy(
    raw: bytes,
    *,
    source: str,
    base_dir: Path = Path(),
    model_labels: Collection[str] | None = None,
) -> Policy:
    """Check policy text; `base_dir` is where relative term-list `file:` paths start."""
    return _Loader(source, base_dir).load(raw, model_labels)


class _Loader:
    def __init__(self, source: str, base_dir: Path) -> None:
        self.source = source
        self.base_dir = base_dir
        self.reader = NodeReader(source)
        self.terms = TermsReader(self.reader, base_dir)
        self.written_thresholds: dict[str, int] = {}

    def load(self, raw: bytes, model_labels: Collection[str] | None) -> Policy:
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
        language = self._language(sections.get("language"))
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
            warnings=self._warnings(model_labels),
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

    def _language(self, node: yaml.Node | None) -> LanguageSettings:
        values = self.reader.section(node, "language", ("models",))
        models = dict(DEFAULT_MODEL_LANGUAGES)
        path = "language.models"
        written = self.reader.mapping(values["models"], path, None) if "models" in values else {}
        for model, languages_node in written.items():
            model_path = child(path, model)
            if not ID_SHAPE.fullmatch(model):
                raise self.reader.error(
                    languages_node, model_path, f"{model!r} is not a model name like 'multilingual'"
                )
            models[model] = frozenset(
                self.reader.language_code(item, f"{model_path}[{index}]")
                for index, item in enumerate(self.reader.sequence(languages_node, model_path))
            )
        return LanguageSettings(
            enabled=self.reader.enabled(values, "language"), models=MappingProxyType(models)
        )

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

    def _warnings(self, model_labels: Collection[str] | None) -> tuple[str, ...]:
        if model_labels is None:
            return ()
        return tuple(
            f"{self.source}, line {line}: toxicity.thresholds.{label}: the configured model "
            f"has no {label!r} label, so this threshold never applies"
            for label, line in sorted(self.written_thresholds.items(), key=lambda item: item[1])
            if label not in model_labels
        )
