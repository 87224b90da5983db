"""Perspective's JSON as the pydantic models read and write it: proto3's JSON mapping.

Perspective's field names are camelCase on the wire (`requestedAttributes`), snake_case in
the code (`requested_attributes`). A request is read as Google reads it: types are strict
(`1` is not a boolean, `"1"` not a number), unknown fields are ignored (Google's clients send
fields this service has no use for), and null is a field's default, as if it were absent.
A reply leaves out a field it has no value for rather than writing null.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel
from pydantic.json_schema import SkipJsonSchema

from service.http.bodies import Resource

# Perspective's names → Detoxify's labels ("obscene" is Detoxify's profanity).
ATTRIBUTES: Mapping[str, str] = {
    "TOXICITY": "toxicity",
    "SEVERE_TOXICITY": "severe_toxicity",
    "IDENTITY_ATTACK": "identity_attack",
    "INSULT": "insult",
    "PROFANITY": "obscene",
    "THREAT": "threat",
    "SEXUALLY_EXPLICIT": "sexual_explicit",
}
# An attribute as a request may name it: `TOXICITY`, or with a model version, `TOXICITY@6`.
ATTRIBUTE_NAME = re.compile(r"[A-Z_]+(@[0-9]+)?")


def unversioned(name: str) -> str:
    """ "TOXICITY@6" → "TOXICITY": the version is read and ignored, since one model answers
    each attribute whatever version Perspective's clients pin."""
    return name.partition("@")[0]


T = TypeVar("T")


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


Omittable = Annotated[T | SkipJsonSchema[None], Field(json_schema_extra=_no_default)]
"""A field that may be absent (None in the code), documented as its type alone: a request's
null is taken for absent before validation, and a reply leaves the field out."""


class PerspectiveModel(BaseModel):
    """A Perspective request, or a part of one (see the module's docstring)."""

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True, alias_generator=to_camel)

    @model_validator(mode="before")
    @classmethod
    def _null_is_absent(cls, data: Any) -> Any:
        if data is None:
            return {}
        if isinstance(data, Mapping):
            return {key: value for key, value in data.items() if value is not None}
        return data


class PerspectiveResource(Resource):
    """A Perspective reply, rendered with `render`."""

    model_config = ConfigDict(frozen=True, alias_generator=to_camel)


def render(resource: PerspectiveResource) -> dict[str, Any]:
    """The reply's JSON: camelCase names, absent fields left out."""
    return resource.model_dump(mode="json", by_alias=True, exclude_none=True)
