"""Reloading the policy without a restart: a good new file takes over, a broken one doesn't."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from service.app import create_app
from service.policies import PolicyHolder
from tests.service.conftest import api_settings

GOOD = "toxicity:\n  thresholds:\n    insult: 0.8\n"
STRICTER = "toxicity:\n  thresholds:\n    insult: 0.5\n"
BROKEN = "toxicity:\n  thresholds:\n    insult: 1.5\n"


def test_reload_on_change_and_keep_the_old_policy_on_a_broken_file(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(GOOD)
    holder = PolicyHolder(path)
    first = holder.current()
    path.write_text(STRICTER)
    second = holder.current()
    assert second.version != first.version
    assert second.thresholds["insult"] == 0.5
    path.write_text(BROKEN)
    assert holder.current() is second
    path.unlink()
    assert holder.current() is second


def test_term_list_files_count_as_the_policy(tmp_path: Path) -> None:
    words = tmp_path / "words.txt"
    words.write_text("blorf\n")
    path = tmp_path / "policy.yaml"
    path.write_text(
        "terms:\n  lists:\n    - id: local\n      language: en\n      severity: banned\n"
        f"      file: {words}\n"
    )
    holder = PolicyHolder(path)
    before = holder.current().version
    words.write_text("blorf\nzarp\n")
    assert holder.current().version != before


def test_api_checks_at_most_once_a_second_and_at_once_on_sighup(
    tmp_path: Path, database_url: str, redis_server: str
) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(GOOD)
    settings = api_settings(database_url, redis_server, tmp_path, policy=path)
    with TestClient(create_app(settings)) as client:
        holder = client.app.state.services.policies  # type: ignore[attr-defined]
        before = client.get("/readyz").json()["checks"]["policy"]["version"]
        path.write_text(STRICTER)
        holder.reload_if_changed()  # what the SIGHUP handler calls
        after = client.get("/readyz").json()["checks"]["policy"]["version"]
        assert after != before
        path.write_text(BROKEN)
        time.sleep(1.1)
        assert client.get("/readyz").json()["checks"]["policy"]["version"] == after


def test_api_refuses_to_start_on_an_invalid_policy(
    tmp_path: Path, database_url: str, redis_server: str
) -> None:
    from policy import PolicyError

    path = tmp_path / "policy.yaml"
    path.write_text(BROKEN)
    with pytest.raises(PolicyError, match="insult"):
        create_app(api_settings(database_url, redis_server, tmp_path, policy=path))
