"""Which model answers an analyze request: the policy's language routes, as for comments.

A request that names `languages` is scored by the model the policy routes the first of them
a model reads to (`Policy.route`, on each code's primary subtag: `en-US` is `en`); the API
picks it and the analyze task carries its id. Only when no model reads any of them is the
request refused as Perspective refuses a language an attribute doesn't support. A request
that names none is routed by the worker, as a comment is: it detects the text's language
and routes that (a text too short or mixed to tell goes to `default`).

What a model scores is known here without loading it: the labels its `models.<id>` map in
the policy names, or else its outputs as the registry reads them (a variant's published
labels, a checkpoint's `config.json`). An attribute the routed model lacks is then an
unknown one before any worker is asked; where the worker routes, an attribute that no model
it could pick scores is. A model whose outputs only loading can tell (a `MODERATION_MODEL`
checkpoint of no published variant) is left to the worker's answer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeGuard

import structlog

from policy import Policy
from service.errors import ConfigurationError
from service.models.registry import DEFAULT_ID, registered_models
from service.perspective.errors import PerspectiveError, invalid
from service.perspective.schemas import MAX_LANGUAGE_CHARS, AnalyzeCommentRequest
from service.settings import Settings

log = structlog.get_logger(__name__)

# Each registry's outputs, by the settings that name it: read once a process.
_OUTPUTS: dict[tuple[str, str | None, str], Mapping[str, tuple[str, ...] | None]] = {}


@dataclass(frozen=True)
class Route:
    """`model`: the id the request's languages route to; None when the request names no
    language (the worker detects it and routes) or when no model reads any it names
    (`readable` False: nothing is scored, the worker only detects the language)."""

    model: str | None
    readable: bool = True


def primary(language: str) -> str:
    """ "en-US" → "en": Perspective takes ISO 639-1 and BCP-47 codes alike."""
    return language.replace("_", "-").split("-", 1)[0].lower()


def route_languages(policy: Policy, languages: Sequence[str]) -> str | None:
    """The model the first of `languages` a model reads is routed to; None if none is."""
    for language in languages:
        model = policy.route(primary(language))
        if model is not None:
            return model
    return None


def route_request(policy: Policy, request: AnalyzeCommentRequest) -> Route:
    """Where the request goes; Google's 400 when no model reads any language it names
    (unless it asks for unsupported attributes to be dropped: then nothing is scored)."""
    if not request.languages:
        return Route(None)
    model = route_languages(policy, request.languages)
    if model is not None:
        return Route(model)
    if request.drop_unsupported_attributes:
        return Route(None, readable=False)
    requested = list(dict.fromkeys(primary(language) for language in request.languages))
    raise language_not_supported(request, requested, detected=[])


def language_not_supported(
    request: AnalyzeCommentRequest, languages: Sequence[str], *, detected: list[str]
) -> PerspectiveError:
    """Perspective's answer for languages the (first) requested attribute doesn't read."""
    name = next(iter(request.requested_attributes))
    return invalid(
        f"Attribute {name} does not support request languages: {', '.join(languages)}",
        "LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE",
        languageNotSupportedByAttributeError={
            "detectedLanguages": detected,
            "requestedLanguages": list(request.languages),
            "attribute": name,
        },
    )


def attribute_labels(
    policy: Policy, outputs: Mapping[str, tuple[str, ...] | None], body: Mapping[str, Any]
) -> frozenset[str] | None:
    """The labels a request's attributes are checked against while its body is read (so that
    an unknown attribute comes in Perspective's order among the body's faults): the routed
    model's when the body's `languages` route to one, else every label of a model the
    request could be routed to. None: some such model's labels are known only to a worker."""
    languages = body.get("languages")
    if _language_codes(languages):
        model = route_languages(policy, languages)
        if model is not None:
            return model_labels(policy, outputs, model)
    candidates = {DEFAULT_ID, *policy.routes.values()}
    found: set[str] = set()
    for model in candidates:
        labels = model_labels(policy, outputs, model)
        if labels is None:
            return None
        found |= labels
    return frozenset(found)


def model_labels(
    policy: Policy, outputs: Mapping[str, tuple[str, ...] | None], model: str
) -> frozenset[str] | None:
    """What the model with id `model` scores: its label map's labels, or its outputs as they
    are; None when only loading it can tell."""
    spec = policy.models.get(model)
    if spec is not None and spec.labels is not None:
        return frozenset(spec.labels)
    known = outputs.get(model)
    return None if known is None else frozenset(known)


def registry_outputs(settings: Settings) -> Mapping[str, tuple[str, ...] | None]:
    """Each registered model's outputs, read once a process (no torch: the registry reads
    `config.json` as JSON). A registry that can't be read leaves every check to the worker
    (the process's start-up check has reported it already)."""
    key = (settings.model, settings.models, str(settings.models_dir))
    found = _OUTPUTS.get(key)
    if found is None:
        try:
            registry = registered_models(settings)
        except ConfigurationError as exc:
            log.warning("perspective.registry_unreadable", error=str(exc))
            registry = {}
        found = {model_id: entry.outputs for model_id, entry in registry.items()}
        _OUTPUTS[key] = found
    return found


def _language_codes(value: Any) -> TypeGuard[list[str]]:
    """Whether `value` is a list the request's `languages` would be read as."""
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(code, str) and 0 < len(code) <= MAX_LANGUAGE_CHARS for code in value)
    )
