"""The scoring layer's exception family."""

from __future__ import annotations

from service.errors import ModerationError


class ScoringError(ModerationError):
    """Base of every error the scoring layer raises on purpose."""


class ModelUnavailable(ScoringError):
    """The configured model can't be loaded here; the message is one line saying what to do."""

    def __init__(self, message: str) -> None:
        # Operators read this in a start-up log line; a nested error's traceback text
        # would split it over several.
        super().__init__(" ".join(message.split()))
