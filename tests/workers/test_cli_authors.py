"""`moderation authors export|erase ID`: the API's export and erasure from the command line,
with one-line errors and exit code 3 (configuration) like every command; and the dev erase key."""

from __future__ import annotations

import json
import os
import pty
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from service.authors.erase_key import dev_erase_key_path, ensure_dev_erase_key
from service.authors.pseudonyms import is_pseudonym
from service.db.tables import Comment, ModerationAudit, WebhookEvent
from service.settings import Settings
from tests.support.api import Api, api_with_webhooks
from tests.support.author_data import AUTHOR, EDITED, ERASE_KEY, NAME, build_world, moderator
from tests.support.holds import database
from tests.support.paths import REPO
from tests.support.processes import run_cli, without_settings


@pytest.fixture
def api(database_url: str, redis_server: str, tmp_path: Path) -> Iterator[Api]:
    with api_with_webhooks(database_url, redis_server, tmp_path, erase_key=ERASE_KEY) as client:
        yield client


def cli_env(api: Api, tmp_path: Path, **extra: str) -> dict[str, str]:
    settings = api.settings
    return {
        "MODERATION_DATABASE_URL": settings.effective_database_url,
        "MODERATION_REDIS_URL": settings.redis_url or "",
        "MODERATION_VAR_DIR": str(tmp_path / "cli-var"),
        "MODERATION_WEBHOOK_URL": "http://127.0.0.1:9/hooks",
        "MODERATION_WEBHOOK_SECRET": (
            settings.webhook_secret.get_secret_value() if settings.webhook_secret else ""
        ),
        "MODERATION_ERASE_KEY": ERASE_KEY,
        **extra,
    }


def comments_of(api: Api, author_id: str) -> int:
    with database(api).session() as session:
        return int(session.scalar(select(func.count()).where(Comment.author_id == author_id)) or 0)


def test_export_prints_the_document_the_api_gives(api: Api, tmp_path: Path) -> None:
    build_world(api)
    result = run_cli("authors", "export", AUTHOR, env=cli_env(api, tmp_path))
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    served = api.client.get(
        f"/v1/moderation/authors/{AUTHOR}/export", headers=moderator(api)
    ).json()
    assert {**printed, "exported_at": None} == {**served, "exported_at": None}
    assert json.dumps(EDITED, ensure_ascii=False)[1:-1] in result.stdout
    with database(api).session() as session:
        by = list(
            session.scalars(
                select(ModerationAudit.moderator_id).where(ModerationAudit.action == "export")
            )
        )
    assert len(by) == 2 and by[0].startswith("cli:")


def test_export_writes_to_a_file(api: Api, tmp_path: Path) -> None:
    build_world(api)
    out = tmp_path / "export.json"
    result = run_cli("authors", "export", AUTHOR, "--out", str(out), env=cli_env(api, tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert json.loads(out.read_text())["author_id"] == AUTHOR
    assert str(out) in result.stderr


def test_erase_with_yes_erases_then_says_already_erased(api: Api, tmp_path: Path) -> None:
    build_world(api)
    env = cli_env(api, tmp_path)

    result = run_cli("authors", "erase", AUTHOR, "--yes", env=env)

    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["erased"] is True and is_pseudonym(body["pseudonym"])
    assert comments_of(api, AUTHOR) == 0 and comments_of(api, body["pseudonym"]) == 2
    with database(api).session() as session:
        types = set(session.scalars(select(WebhookEvent.type)))
    assert "author.erased" in types
    again = run_cli("authors", "erase", AUTHOR, "--yes", env=env)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout) == {"already_erased": True}


def test_erase_without_a_terminal_or_yes_refuses(api: Api, tmp_path: Path) -> None:
    build_world(api)
    result = run_cli("authors", "erase", AUTHOR, env=cli_env(api, tmp_path))
    assert result.returncode == 3
    assert result.stderr.strip().splitlines() == [
        "moderation: not a terminal: confirm the erasure with --yes"
    ]
    assert comments_of(api, AUTHOR) == 2


def run_in_terminal(
    env: dict[str, str], *args: str, typed: str
) -> subprocess.CompletedProcess[str]:
    """`moderation *args` with a terminal as its stdin, on which `typed` is typed."""
    base = without_settings()
    leader, follower = pty.openpty()
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "workers", *args],
            stdin=follower,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**base, **env},
            cwd=REPO,
            text=True,
        )
        os.close(follower)
        os.write(leader, (typed + "\n").encode())
        out, err = process.communicate(timeout=60)
    finally:
        os.close(leader)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def test_erase_in_a_terminal_asks_for_the_id(api: Api, tmp_path: Path) -> None:
    build_world(api)
    env = cli_env(api, tmp_path)

    wrong = run_in_terminal(env, "authors", "erase", AUTHOR, typed=NAME)

    assert wrong.returncode == 3, wrong.stderr
    assert "Type the author's id to confirm" in wrong.stderr
    assert "moderation: confirm_mismatch" in wrong.stderr
    assert comments_of(api, AUTHOR) == 2

    right = run_in_terminal(env, "authors", "erase", AUTHOR, typed=AUTHOR)

    assert right.returncode == 0, right.stderr
    assert json.loads(right.stdout)["erased"] is True
    assert comments_of(api, AUTHOR) == 0


def test_erase_without_a_key_says_how_to_set_one(api: Api, tmp_path: Path) -> None:
    build_world(api)
    env = cli_env(api, tmp_path)
    del env["MODERATION_ERASE_KEY"]

    result = run_cli("authors", "erase", AUTHOR, "--yes", env=env)

    assert result.returncode == 3
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("moderation: ") and "MODERATION_ERASE_KEY" in line
    assert comments_of(api, AUTHOR) == 2
    assert not (tmp_path / "cli-var" / "erase-key").exists()


def test_erase_uses_the_key_moderation_dev_saved(api: Api, tmp_path: Path) -> None:
    env = cli_env(api, tmp_path)
    del env["MODERATION_ERASE_KEY"]
    ensure_dev_erase_key(Settings(var_dir=tmp_path / "cli-var"))

    result = run_cli("authors", "erase", "reader-5", "--yes", env=env)

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["erased"] is True


def test_a_bad_id_is_one_line(api: Api, tmp_path: Path) -> None:
    result = run_cli("authors", "export", "a" * 256, env=cli_env(api, tmp_path))
    assert result.returncode == 3
    assert result.stderr.strip() == "moderation: an author id is 1-255 printable characters"


def test_the_dev_erase_key_is_saved_once_and_private(tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path)
    key = ensure_dev_erase_key(settings)
    assert ensure_dev_erase_key(settings) == key
    path = dev_erase_key_path(settings)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # Long enough for the setting's own check.
    assert Settings(var_dir=tmp_path, erase_key=key).erase_key is not None
