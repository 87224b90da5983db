"""`--since 30d` and `?since=7d`: how far back a report looks, as a duration or a moment."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from service.errors import ModerationError

DURATION = re.compile(r"(\d{1,5})([mhdw])")
UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
MAX_WINDOW = timedelta(days=3660)


class InvalidWindow(ModerationError):
    """The text is neither a duration such as 30d nor an ISO 8601 moment with a time zone."""


def parse_since(value: str, *, now: datetime) -> datetime:
    """`30d`, `12h`, `90m`, `2w` back from `now`, or an ISO 8601 moment such as
    `2026-11-01T00:00:00Z`."""
    text = value.strip()
    match = DURATION.fullmatch(text)
    if match:
        span = timedelta(**{UNITS[match[2]]: int(match[1])})
        if not timedelta(0) < span <= MAX_WINDOW:
            raise InvalidWindow(f"{value!r} is not a window from 1m to {MAX_WINDOW.days}d")
        return now - span
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise InvalidWindow(
            f"{value!r} is neither a duration (30d, 12h, 90m, 2w) nor an ISO 8601 moment"
        ) from exc
    if moment.tzinfo is None:
        raise InvalidWindow(f"{value!r} has no time zone (end it with Z or +00:00)")
    return moment.astimezone(UTC)
