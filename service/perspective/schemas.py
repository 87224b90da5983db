"""Perspective's request bodies as pydantic models, and their faults in Google's words.

The models read proto3's JSON as Google does (service/perspective/wire.py): strict types,
unknown fields ignored, null taken for absent. A request with faults gets one answer, as
Perspective sends: Google's 400 for the first fault in the order Perspective checks them,
which is the order the fields are declared in (a dict's entries in the order the request
lists them, an entry's name before its value), with Google's English message. This is not
the problem+json of `StrictModel.parse`: Perspective's clients read nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal, Self, TypeVar, get_args, get_origin

from pydantic import AfterValidator, Field, ValidationError, ValidationInfo, model_validator
from pydantic_core import ErrorDetails, PydanticCustomError

from service.perspective.errors import PerspectiveError, invalid, wrong_type
from service.perspective.wire import (
    ATTRIBUTE_NAME,
    ATTRIBUTES,
    Omittable,
    PerspectiveModel,
    unversioned,
)

MAX_TEXT_BYTES = 20_480
MAX_LANGUAGE_CHARS = 35


def _known_attribute(name: str, info: ValidationInfo) -> str:
    """An attribute we score, by its unversioned name, and that the configured model has
    (context: its labels, when known without loading it); kept as asked, version included."""
    label = ATTRIBUTES.get(unversioned(name)) if ATTRIBUTE_NAME.fullmatch(name) else None
    labels = (info.context or {}).get("labels")
    if label is None or (labels is not None and label not in labels):
        raise PydanticCustomError("unknown_attribute", "{name} is not scored", {"name": name})
    return name


Attribute = Annotated[str, AfterValidator(_known_attribute)]
Probability = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
LanguageCode = Annotated[str, Field(min_length=1, max_length=MAX_LANGUAGE_CHARS)]


class PerspectiveComment(PerspectiveModel):
    """The comment to read, as plain text."""

    text: Annotated[str, Field(min_length=1, description=f"1 to {MAX_TEXT_BYTES} UTF-8 bytes.")]
    type: Literal["PLAIN_TEXT", "TEXT_TYPE_UNSPECIFIED"] = "PLAIN_TEXT"

    @model_validator(mode="after")
    def _within_the_limit(self) -> Self:
        # After the text's and the type's own checks, as Perspective measures it.
        size = len(self.text.encode("utf-8"))
        if size > MAX_TEXT_BYTES:
            raise PydanticCustomError(
                "comment_too_long",
                "Comment text was too many bytes. Value ({size}) exceeded limit ({limit}).",
                {"size": size, "limit": MAX_TEXT_BYTES},
            )
        return self


class TextEntry(PerspectiveModel):
    """A text of the context: read as Perspective reads it, and unused."""

    text: Omittable[str] = None
    type: Omittable[str] = None


class ArticleAndParentComment(PerspectiveModel):
    article: Omittable[TextEntry] = None
    parent_comment: Omittable[TextEntry] = None


class Context(PerspectiveModel):
    """What the comment replies to. Accepted and unused: the models read the comment alone."""

    entries: Omittable[list[TextEntry]] = None
    article_and_parent_comment: Omittable[ArticleAndParentComment] = None


class AttributeParameters(PerspectiveModel):
    """What analyze is asked about one attribute: only probabilities are scored."""

    score_type: Literal["PROBABILITY", "SCORE_TYPE_UNSPECIFIED"] = "PROBABILITY"
    score_threshold: Omittable[Probability] = None


class AnalyzeCommentRequest(PerspectiveModel):
    comment: PerspectiveComment
    requested_attributes: Annotated[dict[Attribute, AttributeParameters], Field(min_length=1)]
    languages: list[LanguageCode] = Field(default_factory=list)
    span_annotations: bool = False
    do_not_store: Annotated[
        bool, Field(description="Accepted; analyze never stores the text either way.")
    ] = False
    drop_unsupported_attributes: bool = False
    client_token: Omittable[str] = None
    session_id: Omittable[str] = None
    community_id: Omittable[str] = None
    context: Annotated[Omittable[Context], Field(description="Accepted, unused.")] = None

    @property
    def text(self) -> str:
        return self.comment.text


class SummaryScore(PerspectiveModel):
    value: Probability


class SuggestedScore(PerspectiveModel):
    summary_score: SummaryScore


class SuggestCommentScoreRequest(PerspectiveModel):
    comment: PerspectiveComment
    attribute_scores: Annotated[dict[Attribute, SuggestedScore], Field(min_length=1)]
    languages: list[LanguageCode] = Field(default_factory=list)
    session_id: Omittable[str] = None
    context: Omittable[Context] = None
    community_id: Omittable[str] = None
    client_token: Omittable[str] = None

    @property
    def text(self) -> str:
        return self.comment.text


Request = TypeVar("Request", AnalyzeCommentRequest, SuggestCommentScoreRequest)


def parse(
    model: type[Request], body: Mapping[str, Any], *, labels: frozenset[str] | None = None
) -> Request:
    """The request, or Google's 400 for its first fault. `labels`: what the model scores
    (analyze.labels_of_model), when known; other attributes are unknown ones."""
    try:
        return model.model_validate(body, context={"labels": labels})
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
    _, first = min(enumerate(errors), key=lambda item: (_rank(model, item[1], body), item[0]))
    raise _google_error(first)


def _rank(model: type[PerspectiveModel], error: ErrorDetails, body: Any) -> tuple[int, ...]:
    """Where a fault comes in Perspective's order, step by step along its location: a field
    by its place in its model, an entry of an object by its place in the request, its name
    (0) before the entry itself (1) and the entry's fields (2 on); a value's own fault before
    its parts'."""
    rank: list[int] = []
    given: Any = body
    current: type[PerspectiveModel] | None = model
    entries = False
    for step in error["loc"]:
        if entries and isinstance(given, Mapping) and step in given:
            rank.append(list(given).index(step))
            given, entries = given[step], False
            continue
        if step == "[key]":
            rank.append(0)
            break
        fields = {
            field.alias or name: field.annotation
            for name, field in (current.model_fields.items() if current else ())
        }
        if step not in fields or not isinstance(given, Mapping):
            break
        rank.append(2 + list(fields).index(str(step)))
        given = given.get(str(step))
        current, entries = _inner(fields[str(step)])
    rank.append(1)
    return tuple(rank)


def _inner(annotation: Any) -> tuple[type[PerspectiveModel] | None, bool]:
    """The model inside a field's type, and whether the field is an object of entries."""
    if isinstance(annotation, type) and issubclass(annotation, PerspectiveModel):
        return annotation, False
    if get_origin(annotation) is dict:
        value = get_args(annotation)[1]
        if isinstance(value, type) and issubclass(value, PerspectiveModel):
            return value, True
    return None, False


def _google_error(error: ErrorDetails) -> PerspectiveError:
    """A fault in Perspective's words, as this service has always answered it."""
    field, *rest = [str(step) for step in error["loc"]]
    kind = error["type"]
    empty = kind in ("missing", "too_short", "string_too_short")
    if field == "comment":
        return _comment_fault(rest, kind, error, empty)
    if field in ("requestedAttributes", "attributeScores"):
        return _attribute_fault(field, rest, error, empty)
    if field == "languages":
        return wrong_type(field, "a list of language codes")
    return wrong_type(field, _EXPECTED[field])


def _comment_fault(
    rest: list[str], kind: str, error: ErrorDetails, empty: bool
) -> PerspectiveError:
    if kind == "comment_too_long":
        return invalid(error["msg"], "COMMENT_TOO_LONG")
    if rest == ["type"]:
        if error["input"] == "HTML":
            return invalid("Currently, only 'PLAIN_TEXT' comments are supported")
        return invalid("Unknown text type")
    if empty:
        return invalid("Comment must be non-empty.", "COMMENT_EMPTY")
    if rest:
        return wrong_type("comment.text", "a string")
    return wrong_type("comment", "an object")


def _attribute_fault(
    field: str, rest: list[str], error: ErrorDetails, empty: bool
) -> PerspectiveError:
    analyze = field == "requestedAttributes"
    google = "requested_attributes" if analyze else "attribute_scores"
    if not rest and empty:
        if analyze:
            return invalid("Missing requested_attributes", "NO_REQUESTED_ATTRIBUTES")
        return invalid("attribute_scores must not be empty.")
    if not rest:
        return wrong_type(google, "an object")
    name, inside = rest[0], rest[1:2]
    if inside == ["[key]"]:
        return invalid(f"Unknown requested attribute: {name}")
    if not analyze:
        return invalid(f"{google}[{name}].summary_score.value must be set, between 0 and 1.")
    if inside == ["scoreType"]:
        given = error["input"]
        return invalid(f"Requested score type {given} is not supported by attribute {name}")
    if inside == ["scoreThreshold"]:
        return wrong_type(f"{google}[{name}].score_threshold", "a number 0-1")
    return wrong_type(f"{google}[{name}]", "an object")


# What a wrong type at the top level is said to have expected: Python's type names, as this
# service's answers have always put it.
_EXPECTED: Mapping[str, str] = {
    "spanAnnotations": "bool",
    "doNotStore": "bool",
    "dropUnsupportedAttributes": "bool",
    "clientToken": "str",
    "sessionId": "str",
    "communityId": "str",
    "context": "dict",
}
