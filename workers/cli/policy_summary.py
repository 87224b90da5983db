"""What `moderation policy check` prints: every section of a loaded policy, in a few lines an
editor can compare with the file."""

from __future__ import annotations

from collections.abc import Mapping

from policy import Policy, RegisteredModel
from policy.sections import LabelSource


def summarize(
    policy: Policy,
    *,
    model: str,
    model_labels: tuple[str, ...] | None,
    registry: Mapping[str, RegisteredModel] | None = None,
) -> list[str]:
    """Lines describing `policy` as the configured `model` (the default model's variant name, or
    "custom") sees it; `registry`: what each model id is (the policy knows its ids alone)."""
    toxicity = policy.toxicity
    thresholds = ", ".join(
        f"{label} {threshold:.2f}"
        + ("" if model_labels is None or label in model_labels else " (model lacks it)")
        for label, threshold in toxicity.thresholds.items()
    )
    labels = "unknown until loaded" if model_labels is None else ", ".join(model_labels)
    lines = [
        f"model: {model} (labels: {labels})",
        f"toxicity: {_on(toxicity.enabled)}; thresholds: {thresholds or 'none'}; "
        f"identity evidence from {toxicity.identity_evidence_min:.2f}",
        f"terms: {_on(policy.terms.enabled)}; {len(policy.terms.lists)} list(s)",
    ]
    lines += [
        f"  {term_list.id} ({term_list.language}, {term_list.severity}): "
        f"{len(term_list.entries)} entries, {len(term_list.patterns)} patterns, "
        f"{len(term_list.exceptions)} exceptions"
        for term_list in policy.terms.lists
    ]
    flood, repeat, language = policy.flood, policy.repeat, policy.language
    hard_limit = "no hard limit" if flood.hard_limit is None else f"429 past {flood.hard_limit}"
    lines += [
        f"links: {_on(policy.links.enabled)}; allowed domains: "
        f"{', '.join(policy.links.allow_domains) or 'none'}",
        f"personal_info: {_on(policy.personal_info.enabled)}; detects "
        f"{', '.join(policy.personal_info.detect) or 'nothing'}",
        f"repeat: {_on(repeat.enabled)}; same text within {repeat.window_seconds}s, "
        f"texts of {repeat.min_chars}+ characters",
        f"flood: {_on(flood.enabled)}; held past {flood.hold_after} in "
        f"{flood.window_seconds}s; {hard_limit}",
        f"language: {_on(language.enabled)}; routes: "
        + (", ".join(f"{code} → {routed}" for code, routed in policy.routes.items()) or "none")
        + "; other languages are held for a person",
        "models:",
        *_model_lines(policy, registry or {}),
        f"author: {_on(policy.author.enabled)}; trusted authors skip "
        f"{', '.join(sorted(policy.author.trusted_skip)) or 'nothing'}"
        + (
            f" and toxicity on {', '.join(sorted(policy.author.trusted_skip_toxicity))}"
            if policy.author.trusted_skip_toxicity
            else ""
        ),
        *_author_rule_lines(policy),
        f"article: {_on(policy.article.enabled)}",
        _reports_line(policy),
    ]
    return lines


def _model_lines(policy: Policy, registry: Mapping[str, RegisteredModel]) -> list[str]:
    """Each model: what it is, the languages routed to it, its label map and thresholds."""
    lines = []
    for model_id, settings in policy.models.items():
        known = registry.get(model_id)
        kind = (
            "unknown"
            if known is None
            else f"Detoxify {known.variant}"
            if known.variant is not None
            else "a checkpoint of its own"
            if model_id == "default"
            else "Hugging Face checkpoint"
        )
        routed = sorted(code for code, routed in policy.routes.items() if routed == model_id)
        labels = (
            "as output"
            if settings.labels is None
            else ", ".join(
                f"{label} ← {_source(source)}" for label, source in settings.labels.items()
            )
        )
        thresholds = (
            "toxicity.thresholds"
            if model_id == "default"
            else ", ".join(f"{label} {value:.2f}" for label, value in settings.thresholds.items())
            or "none"
        )
        lines.append(
            f"  {model_id}: {kind}; reads {', '.join(routed) or 'no language'}; "
            f"{settings.activation}; labels {labels}; thresholds {thresholds}"
        )
    return lines


def _source(source: LabelSource) -> str:
    if source.kind == "one_minus":
        return f"1 - {source.outputs[0]}"
    if source.kind == "max_of":
        return f"max({', '.join(source.outputs)})"
    return source.outputs[0]


def _author_rule_lines(policy: Policy) -> list[str]:
    """The rules that go by an author's record, each with its rule id and figures."""
    author = policy.author
    new, recent, auto = author.new_commenter, author.recent_rejections, author.auto_trust
    return [
        f"  author.new_commenter: {_on(new.enabled)}; held until "
        f"{new.hold_until_approved} approved",
        f"  author.recent_rejections: {_on(recent.enabled)}; held past {recent.max_rate:.0%} "
        f"rejected of {recent.min_decided}+ decided in {recent.window_days} days",
        f"  author.auto_trust: {_on(auto.enabled)}; after {auto.after_approved} approved "
        f"with at most {auto.max_rejection_rate:.0%} rejected, toxicity thresholds "
        f"+{auto.toxicity_margin:.2f} (not severe_toxicity, threat)",
    ]


def _reports_line(policy: Policy) -> str:
    reports = policy.reports
    hide = "never hidden" if reports.hide_after is None else f"hidden at {reports.hide_after}"
    limit = (
        "no limit"
        if reports.flood_limit is None
        else f"429 past {reports.flood_limit} in {reports.flood_window_seconds}s"
    )
    return (
        f"reports: {_on(reports.enabled)}; queued at {reports.review_after} reporter(s); "
        f"{hide} (reporters with {reports.min_reporter_approved}+ approved comments); {limit}"
    )


def _on(enabled: bool) -> str:
    return "on" if enabled else "off"
