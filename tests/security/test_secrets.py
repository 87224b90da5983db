"""Secrets stay secret: API keys are kept only as SHA-256 and never logged (they travel in the
query string), tokens never reach a log line, and settings never print a secret."""

from __future__ import annotations

import json

import pytest
import structlog
from pydantic import ValidationError
from sqlalchemy import text

from service.db.tables import utcnow
from service.perspective.keys import create_key, hash_key
from service.settings import Settings
from tests.support.api import ApiFactory
from tests.support.holds import database


def test_api_keys_are_stored_hashed_and_never_logged(make_api: ApiFactory) -> None:
    api = make_api(analyze_timeout_seconds=0.2)
    with structlog.testing.capture_logs() as logs:
        key = create_key(database(api), name="site-1", qps=5, now=utcnow())
        for url, headers in [
            (f"/v1alpha1/comments:analyze?key={key}", {}),
            ("/v1alpha1/comments:analyze", {"X-Goog-Api-Key": key}),
            (f"/v1alpha1/comments:analyze?key={key}x", {}),
        ]:
            response = api.client.post(url, content=b"{not json", headers=headers)
            assert response.status_code in {400, 403}, response.text
            assert key not in response.text
    assert key not in json.dumps(logs, default=str)
    with database(api).engine.connect() as connection:
        rows = connection.execute(text("SELECT * FROM perspective_keys")).all()
    stored = json.dumps([list(row) for row in rows], default=str)
    assert key not in stored
    assert hash_key(key) in stored


def test_settings_never_show_a_secret() -> None:
    secret = "jwt-secret-of-thirty-two-bytes-or-more"
    webhook = "whsec_c2VjcmV0LXdlYmhvb2stc2lnbmluZy1rZXk="
    settings = Settings(jwt_secret=secret, webhook_secret=webhook)  # type: ignore[arg-type]
    for shown in [repr(settings), str(settings), settings.model_dump_json()]:
        assert secret not in shown
        assert webhook not in shown


@pytest.mark.parametrize("secret", ["short", "x" * 31, "\u00e9" * 15])
def test_a_jwt_secret_under_32_bytes_is_refused(secret: str) -> None:
    with pytest.raises(ValidationError, match="at least 32 bytes"):
        Settings(jwt_secret=secret)  # type: ignore[arg-type]
