"""A comment's revisions as clients see them: every text its author gave it, oldest first."""

from __future__ import annotations

from pydantic import Field

from service.http.bodies import DateTime, Resource


class Revision(Resource):
    revision: int = Field(description="1 as posted, + 1 for each edit.")
    text: str | None = Field(description="null once erased (deletion, retention).")
    created_at: DateTime = Field(description="When this text was posted or edited in.")


class Revisions(Resource):
    items: list[Revision] = Field(description="Oldest first; the last is the current text.")
