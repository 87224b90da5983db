"""Reloading the policy without a restart: a good new file takes over, a broken one doesn't."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from starlette.testclient import TestClient
from structlog.testing import capture_logs

from policy import Policy, PolicyError
from service.app import create_app
from service.policies import (
    LAST_GOOD_NAME,
    PolicyHolder,
    check_policy_file,
    configured_model_labels,
    policy_holder,
)
from service.settings import Settings
from tests.support.api import api_settings

GOOD = "toxicity:\n  thresholds:\n    insult: 0.8\n"
STRICTER = "toxicity:\n  thresholds:\n    insult: 0.5\n"
BROKEN = "toxicity:\n  thresholds:\n    insult: 1.5\n"
SEXUAL = "toxicity:\n  thresholds:\n    sexual_explicit: 0.6\n"


def events(logs: list[dict[str, object]], name: str) -> list[dict[str, object]]:
    return [entry for entry in logs if entry["event"] == name]


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


def test_api_takes_up_a_changed_file_within_a_second_and_logs_a_rejected_one(
    tmp_path: Path, database_url: str, redis_server: str
) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(GOOD)
    settings = api_settings(database_url, redis_server, tmp_path, policy=path)
    with TestClient(create_app(settings)) as client:
        before = client.get("/readyz").json()["checks"]["policy"]["version"]
        path.write_text(STRICTER)
        time.sleep(1.1)
        after = client.get("/readyz").json()["checks"]["policy"]["version"]
        assert after != before
        assert client.app.state.services.policies.current().thresholds["insult"] == 0.5  # type: ignore[attr-defined]
        with capture_logs() as logs:
            path.write_text(BROKEN)
            time.sleep(1.1)
            assert client.get("/readyz").json()["checks"]["policy"]["version"] == after
    (rejected,) = events(logs, "policy.reload_rejected")
    assert rejected["version_in_force"] == after
    assert "toxicity.thresholds.insult" in str(rejected["error"])


def test_api_refuses_to_start_on_an_invalid_policy(
    tmp_path: Path, database_url: str, redis_server: str
) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(BROKEN)
    with pytest.raises(PolicyError, match="insult"):
        create_app(api_settings(database_url, redis_server, tmp_path, policy=path))


# ── the configured model's labels ─────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("model", "has_sexual_explicit"),
    [
        ("original", False),
        ("unbiased", True),
        ("/models/original-small/original-albert-0e1d6498.ckpt", False),  # `models fetch` dir
        ("/models/toxic_debiased-c7548aa0.ckpt", True),
    ],
)
def test_labels_of_the_configured_model_are_known_without_loading_it(
    model: str, has_sexual_explicit: bool
) -> None:
    labels = configured_model_labels(Settings(model=model))
    assert labels is not None and "toxicity" in labels
    assert ("sexual_explicit" in labels) is has_sexual_explicit


def test_a_checkpoint_of_unknown_variant_gives_no_warnings(tmp_path: Path) -> None:
    settings = Settings(model=str(tmp_path / "mine.ckpt"), policy=write(tmp_path, SEXUAL))
    assert configured_model_labels(settings) is None
    assert policy_holder(settings).current().warnings == ()


def test_warnings_are_logged_at_load_and_at_reload(tmp_path: Path) -> None:
    path = write(tmp_path, SEXUAL)
    with capture_logs() as logs:
        holder = policy_holder(Settings(model="original", policy=path, var_dir=tmp_path))
    (first,) = events(logs, "policy.warning")
    assert "sexual_explicit" in str(first["warning"]) and first["log_level"] == "warning"
    assert first["version"] == holder.current().version
    with capture_logs() as logs:
        path.write_text(SEXUAL + "    insult: 0.5\n")
        reloaded = holder.current()
    (again,) = events(logs, "policy.warning")
    assert again["version"] == reloaded.version != first["version"]


def test_the_api_and_its_start_up_check_use_the_configured_models_labels(
    tmp_path: Path, database_url: str, redis_server: str
) -> None:
    path = write(tmp_path, SEXUAL)
    settings = api_settings(database_url, redis_server, tmp_path, policy=path, model="original")
    with capture_logs() as logs:
        check_policy_file(settings)
        app = create_app(settings)
    assert len(events(logs, "policy.warning")) == 2
    assert app.state.services.policies.current().warnings


# ── the last good copy, for a process started while the file is broken ─────────────────────


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(text)
    return path


def test_a_respawned_process_falls_back_to_the_last_good_copy(tmp_path: Path) -> None:
    settings = Settings(policy=write(tmp_path, STRICTER), var_dir=tmp_path / "var")
    good = check_policy_file(settings)  # the start-up check saves the file it passed
    assert (settings.var_dir / LAST_GOOD_NAME).read_text() == STRICTER
    settings.policy.write_text(BROKEN)
    with capture_logs() as logs:
        respawned = policy_holder(settings)
    assert respawned.current().version == good.version
    (used,) = events(logs, "policy.last_good_used")
    assert used["log_level"] == "warning" and "insult" in str(used["error"])
    settings.policy.unlink()
    assert policy_holder(settings).current().version == good.version
    with pytest.raises(PolicyError, match="insult"):
        settings.policy.write_text(BROKEN)
        check_policy_file(settings)  # a fresh start never falls back


def test_a_reload_updates_the_last_good_copy(tmp_path: Path) -> None:
    settings = Settings(policy=write(tmp_path, GOOD), var_dir=tmp_path / "var")
    holder = policy_holder(settings)
    settings.policy.write_text(STRICTER)
    reloaded = holder.current()
    settings.policy.write_text(BROKEN)
    assert holder.current() is reloaded
    assert (settings.var_dir / LAST_GOOD_NAME).read_text() == STRICTER
    assert policy_holder(settings).current().version == reloaded.version


def test_without_a_last_good_copy_a_broken_file_fails_the_process(tmp_path: Path) -> None:
    settings = Settings(policy=write(tmp_path, BROKEN), var_dir=tmp_path / "var")
    with pytest.raises(PolicyError, match="insult"):
        policy_holder(settings)
    settings.policy.unlink()
    with pytest.raises(PolicyError, match="can't read the policy file"):
        policy_holder(settings)


@pytest.mark.parametrize("blank", ["", "\n  \n", "# being edited\n"])
def test_an_empty_file_never_puts_the_defaults_in_force(tmp_path: Path, blank: str) -> None:
    settings = Settings(policy=write(tmp_path, STRICTER), var_dir=tmp_path / "var")
    holder = policy_holder(settings)
    in_force = holder.current()
    with capture_logs() as logs:
        settings.policy.write_text(blank)
        assert holder.current() is in_force
        assert policy_holder(settings).current().version == in_force.version  # a respawn
    (rejected,) = events(logs, "policy.reload_rejected")
    assert "the file is empty" in str(rejected["error"])
    assert events(logs, "policy.last_good_used")


def test_an_empty_file_at_a_fresh_start_is_the_defaults(tmp_path: Path) -> None:
    settings = Settings(policy=write(tmp_path, ""), var_dir=tmp_path / "var")
    check_policy_file(settings)
    with capture_logs() as logs:
        holder = policy_holder(settings)
    assert holder.current().thresholds["insult"] == 0.8
    assert not events(logs, "policy.last_good_used")


def test_a_policy_before_swap_rejects_is_not_put_in_force_and_is_retried_later(
    tmp_path: Path,
) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(GOOD)
    tried: list[float] = []
    fixed = False

    def before_swap(candidate: Policy) -> None:
        tried.append(candidate.thresholds["insult"])
        if candidate.thresholds["insult"] == 0.5 and not fixed:
            raise RuntimeError("model 'ko-hate' could not be loaded: no weights")

    holder = PolicyHolder(path, before_swap=before_swap, last_good=tmp_path / LAST_GOOD_NAME)
    first = holder.current()
    path.write_text(STRICTER)
    with capture_logs() as logs:
        assert holder.current() is first
        assert holder.current() is first  # not tried again at once
    (rejected,) = events(logs, "policy.reload_rejected")
    assert "model 'ko-hate' could not be loaded" in str(rejected["error"])
    assert rejected["version_in_force"] == first.version
    assert tried == [0.8, 0.5]
    # The file is unchanged, but the model may have been fixed: tried again after a while.
    fixed = True
    holder._retry_at = time.monotonic()  # REJECTED_RETRY_SECONDS later
    assert holder.current().thresholds["insult"] == 0.5

    # A process started while the file's policy is rejected falls back to the last good copy.
    path.write_text(GOOD.replace("0.8", "0.3"))

    def rejects_the_file(candidate: Policy) -> None:
        if candidate.thresholds["insult"] == 0.3:
            raise RuntimeError("model 'ko-hate' could not be loaded: no weights")

    with capture_logs() as logs:
        fresh = PolicyHolder(
            path, before_swap=rejects_the_file, last_good=tmp_path / LAST_GOOD_NAME
        )
    assert fresh.current().thresholds["insult"] == 0.5
    (fallback,) = events(logs, "policy.last_good_used")
    assert "model 'ko-hate' could not be loaded" in str(fallback["error"])
