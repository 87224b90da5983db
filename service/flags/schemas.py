"""The flags routes' request bodies: every flag of an article or an author, set at once."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import ValidationInfo, field_validator

from service.http.bodies import Rules, StrictModel, fault


def _flag_rules(name: str) -> Rules:
    return Rules(required=f"{name} is required.", invalid_type=_not_a_boolean(name))


def _not_a_boolean(name: str) -> str:
    return f"{name} must be true or false."


class _Flags(StrictModel):
    @field_validator("*", mode="before")
    @classmethod
    def _null_is_not_a_flag(cls, value: Any, info: ValidationInfo) -> Any:
        # A flag sent as null has the wrong type; only a flag left out is `required`.
        if value is None:
            raise fault("invalid_type", _not_a_boolean(str(info.field_name)))
        return value


class NewArticleFlags(_Flags):
    """An article's flags, both given: `premoderated` holds its new comments for a moderator;
    `closed` refuses them (409 article_closed)."""

    premoderated: Annotated[bool, _flag_rules("premoderated")]
    closed: Annotated[bool, _flag_rules("closed")]


class NewAuthorFlags(_Flags):
    """An author's flags, both given: `always_hold` holds their new comments for a moderator;
    `trusted` lets them off the rules the policy lets trusted authors skip."""

    always_hold: Annotated[bool, _flag_rules("always_hold")]
    trusted: Annotated[bool, _flag_rules("trusted")]
