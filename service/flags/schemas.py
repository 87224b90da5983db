"""The flags routes' request bodies: every flag of an article or an author, set at once."""

from __future__ import annotations

from typing import Annotated

from service.http.bodies import Rules, StrictModel


def _flag_rules(name: str) -> Rules:
    # A flag sent as null has the wrong type; only a flag left out is `required`.
    return Rules(
        required=f"{name} is required.",
        invalid_type=f"{name} must be true or false.",
        null_is="invalid_type",
    )


class NewArticleFlags(StrictModel):
    """An article's flags, both given: `premoderated` holds its new comments for a moderator;
    `closed` refuses them (409 article_closed)."""

    premoderated: Annotated[bool, _flag_rules("premoderated")]
    closed: Annotated[bool, _flag_rules("closed")]


class NewAuthorFlags(StrictModel):
    """An author's flags, both given: `always_hold` holds their new comments for a moderator;
    `trusted` lets them off the rules the policy lets trusted authors skip."""

    always_hold: Annotated[bool, _flag_rules("always_hold")]
    trusted: Annotated[bool, _flag_rules("trusted")]
