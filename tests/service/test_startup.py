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
