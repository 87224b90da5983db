"""`--since` and `?since=`: durations back from now, or a moment with a time zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from service.tuning.windows import InvalidWindow, parse_since

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30d", NOW - timedelta(days=30)),
        ("12h", NOW - timedelta(hours=12)),
        ("90m", NOW - timedelta(minutes=90)),
        ("2w", NOW - timedelta(weeks=2)),
        (" 7d ", NOW - timedelta(days=7)),
        ("2026-11-01T00:00:00Z", datetime(2026, 11, 1, tzinfo=UTC)),
        ("2026-11-01T09:00:00+09:00", datetime(2026, 11, 1, tzinfo=UTC)),
    ],
)
def test_windows(text: str, expected: datetime) -> None:
    assert parse_since(text, now=NOW) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("soon", "neither a duration"),
        ("0d", "not a window"),
        ("99999w", "not a window"),
        ("30", "neither a duration"),
        ("-3d", "neither a duration"),
        ("2026-11-01T00:00:00", "no time zone"),
        ("", "neither a duration"),
    ],
)
def test_bad_windows(text: str, message: str) -> None:
    with pytest.raises(InvalidWindow, match=message):
        parse_since(text, now=NOW)
