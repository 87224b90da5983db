"""The CLI's promises: one clear line and exit 2 on a missing dependency; tokens."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import jwt
import pytest

from tests.conftest import REPO


def run(
    *args: str, env: dict[str, str] | None = None, cwd: Path = REPO, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("MODERATION_")}
    return subprocess.run(
        [sys.executable, "-m", "service", *args],
        env={**base, **(env or {})},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_token_prints_only_a_jwt_signed_with_the_saved_dev_secret(tmp_path: Path) -> None:
    result = run(
        "token",
        "reader-7",
        "--moderator",
        "--ttl",
        "120",
        env={"MODERATION_VAR_DIR": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip()
    assert result.stdout == token + "\n"
    secret_file = tmp_path / "jwt-secret"
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    claims = jwt.decode(token, secret_file.read_text().strip(), algorithms=["HS256"])
    assert claims["sub"] == "reader-7"
    assert claims["roles"] == ["moderator"]
    assert claims["exp"] - claims["iat"] == 120


def test_token_uses_the_configured_secret(tmp_path: Path) -> None:
    secret = "s" * 40
    result = run(
        "token",
        "reader-8",
        env={"MODERATION_JWT_SECRET": secret, "MODERATION_VAR_DIR": str(tmp_path)},
    )
    claims = jwt.decode(result.stdout.strip(), secret, algorithms=["HS256"])
    assert "roles" not in claims
    assert not (tmp_path / "jwt-secret").exists()


def test_token_refuses_when_only_a_public_key_is_configured(tmp_path: Path) -> None:
    result = run(
        "token",
        "x",
        env={"MODERATION_JWKS_URL": "http://127.0.0.1:1/jwks", "MODERATION_VAR_DIR": str(tmp_path)},
    )
    assert result.returncode == 2
    assert "identity provider" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "no JWT key"),
        ({"MODERATION_JWT_SECRET": "short"}, "at least 32 bytes"),
        (
            {
                "MODERATION_JWT_SECRET": "s" * 40,
                "MODERATION_DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:1/x",
            },
            "is not reachable",
        ),
    ],
    ids=["no-key", "short-secret", "database-down"],
)
def test_api_fails_at_start_with_one_line(
    tmp_path: Path, env: dict[str, str], expected: str
) -> None:
    result = run("api", "--port", "0", env={"MODERATION_VAR_DIR": str(tmp_path), **env})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert expected in lines[0]


def test_api_and_worker_refuse_an_unmigrated_database(tmp_path: Path) -> None:
    env = {"MODERATION_VAR_DIR": str(tmp_path), "MODERATION_JWT_SECRET": "s" * 40}
    for command in (["api"], ["worker"]):
        result = run(*command, env=env)
        assert result.returncode == 2
        assert "moderation migrate" in result.stderr


def test_api_and_worker_fail_when_redis_is_down(tmp_path: Path) -> None:
    env = {
        "MODERATION_VAR_DIR": str(tmp_path),
        "MODERATION_JWT_SECRET": "s" * 40,
        "MODERATION_REDIS_URL": "redis://127.0.0.1:1/0",
    }
    assert run("migrate", env=env).returncode == 0
    for command in (["api"], ["worker"], ["beat"]):
        result = run(*command, env=env)
        assert result.returncode == 2
        assert "Redis at redis://127.0.0.1:1/0 is not answering" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


def test_worker_without_weights_says_how_to_get_them(tmp_path: Path, redis_server: str) -> None:
    env = {
        "MODERATION_VAR_DIR": str(tmp_path),
        "MODERATION_REDIS_URL": f"{redis_server}/9",
        "MODERATION_MODEL": str(tmp_path / "missing.ckpt"),
    }
    assert run("migrate", env=env).returncode == 0
    result = run("worker", env=env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "MODERATION_MODEL" in lines[0] and "moderation models fetch" in lines[0]


def test_policy_check(tmp_path: Path) -> None:
    good = run("policy", "check", str(REPO / "policy" / "standards-board.yaml"))
    assert good.returncode == 0
    assert "valid" in good.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text("toxicity:\n  thresholds:\n    toxicity: 1.5\n")
    result = run("policy", "check", str(bad))
    assert result.returncode == 2
    assert str(bad) in result.stderr
