"""Start-up checks: a webhook URL is refused without a secret that can sign."""

from __future__ import annotations

from typing import Any

import pytest

from service.errors import ConfigurationError
from service.settings import Settings
from service.startup import check_webhook

URL = "https://site.example/hooks/moderation"
GOOD_SECRET = "whsec_" + "c2VjcmV0LWZvci10ZXN0cy1vbmx5LTEyMzQ1Njc4"


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"webhook_url": URL}, "MODERATION_WEBHOOK_SECRET is not"),
        (
            {"webhook_url": URL, "webhook_secret": "c2VjcmV0LWZvci10ZXN0cy1vbmx5LTEyMzQ1Njc4"},
            "it must be whsec_",
        ),
        ({"webhook_url": URL, "webhook_secret": "whsec_not*base64*at+all"}, "not base64"),
        ({"webhook_url": URL, "webhook_secret": "whsec_"}, "the key is 0 bytes"),
        ({"webhook_url": URL, "webhook_secret": "whsec_c2hvcnQ="}, "the key is 5 bytes"),
        (
            {"webhook_url": "site.example/hooks", "webhook_secret": GOOD_SECRET},
            "http:// or https://",
        ),
    ],
    ids=["no-secret", "no-prefix", "not-base64", "empty", "short", "not-a-url"],
)
def test_a_misconfigured_webhook_is_refused(values: dict[str, Any], expected: str) -> None:
    with pytest.raises(ConfigurationError) as raised:
        check_webhook(Settings(**values))
    message = str(raised.value)
    assert expected in message
    assert "\n" not in message
    key = (values.get("webhook_secret") or "").removeprefix("whsec_")
    assert not key or key not in message


@pytest.mark.parametrize(
    "values",
    [
        {},
        {"webhook_secret": GOOD_SECRET},
        {"webhook_url": URL, "webhook_secret": GOOD_SECRET},
        # Unpadded base64, as some generators write it, is still the same key.
        {
            "webhook_url": "http://127.0.0.1:9/h",
            "webhook_secret": "whsec_a2tra2tra2tra2tra2tra2tra2tra2traw",
        },
    ],
    ids=["off", "secret-only", "configured", "unpadded"],
)
def test_a_working_webhook_configuration_passes(values: dict[str, Any]) -> None:
    check_webhook(Settings(**values))


ALL_EVENTS = {
    "comment.decided",
    "comment.reported",
    "comment.reviewed",
    "report.resolved",
    "comment.edited",
    "comment.deleted",
    "author.warned",
    "author.suspended",
    "author.banned",
    "author.sanction_lifted",
    "author.erased",
}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ALL_EVENTS),
        ("all", ALL_EVENTS),
        ("comment.decided", {"comment.decided"}),
        (" report.resolved , comment.reviewed ", {"report.resolved", "comment.reviewed"}),
    ],
    ids=["unset", "all", "one", "two-with-spaces"],
)
def test_the_webhook_events_chosen_are_the_ones_written(
    value: str | None, expected: set[str]
) -> None:
    settings = Settings(webhook_url=URL, webhook_secret=GOOD_SECRET, webhook_events=value)
    check_webhook(settings)
    assert settings.announced_events == expected
    assert all(settings.announces(name) for name in expected)
    # Without a URL nothing is written, whatever is chosen.
    assert Settings(webhook_events=value).announced_events == frozenset()


@pytest.mark.parametrize("values", [{}, {"webhook_url": URL, "webhook_secret": GOOD_SECRET}])
def test_an_unknown_webhook_event_is_refused_with_or_without_a_url(values: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError) as raised:
        check_webhook(Settings(webhook_events="comment.decided,comment.hidden", **values))
    message = str(raised.value)
    assert "'comment.hidden'" in message
    assert "comment.reported" in message  # the known ones are named
    assert "\n" not in message
