"""The CLI's promises: one clear line and exit 3 on a missing dependency or a bad setting,
click's exit 2 on a command line it can't parse; --version; tokens."""

from __future__ import annotations

import random
import re
import stat
from pathlib import Path

import jwt
import pytest

from service.version import package_version
from tests.support.paths import REPO
from tests.support.processes import run_cli
from workers import child_failure
from workers.cli.common import EXIT_CONFIGURATION, EXIT_USAGE


def test_version_prints_the_installed_version() -> None:
    result = run_cli("--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"moderation {package_version()}\n"
    assert re.fullmatch(r"moderation \d+\.\d+\S*\n", result.stdout)


@pytest.mark.parametrize(
    "args",
    [["--no-such-option"], ["no-such-command"], ["worker", "--concurrency", "0"]],
    ids=["unknown-option", "unknown-command", "bad-value"],
)
def test_a_command_line_click_cannot_parse_exits_2(tmp_path: Path, args: list[str]) -> None:
    result = run_cli(*args, env={"MODERATION_VAR_DIR": str(tmp_path)})
    assert result.returncode == EXIT_USAGE == 2
    assert "Usage: " in result.stderr and "Error: " in result.stderr


def test_a_worker_child_that_cannot_start_exits_like_any_configuration_error() -> None:
    assert child_failure.EXIT_CODE == EXIT_CONFIGURATION == 3


def test_token_prints_only_a_jwt_signed_with_the_saved_dev_secret(tmp_path: Path) -> None:
    result = run_cli(
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
    result = run_cli(
        "token",
        "reader-8",
        env={"MODERATION_JWT_SECRET": secret, "MODERATION_VAR_DIR": str(tmp_path)},
    )
    claims = jwt.decode(result.stdout.strip(), secret, algorithms=["HS256"])
    assert "roles" not in claims
    assert not (tmp_path / "jwt-secret").exists()


def test_token_refuses_two_key_sources(tmp_path: Path) -> None:
    result = run_cli(
        "token",
        "x",
        env={
            "MODERATION_JWT_SECRET": "s" * 40,
            "MODERATION_JWT_PUBLIC_KEY": "-----BEGIN PUBLIC KEY-----",
            "MODERATION_VAR_DIR": str(tmp_path),
        },
    )
    assert result.returncode == 3
    assert "more than one JWT key source is set" in result.stderr
    assert result.stdout == ""


def test_token_refuses_when_only_a_public_key_is_configured(tmp_path: Path) -> None:
    result = run_cli(
        "token",
        "x",
        env={"MODERATION_JWKS_URL": "http://127.0.0.1:1/jwks", "MODERATION_VAR_DIR": str(tmp_path)},
    )
    assert result.returncode == 3
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
        (
            {"MODERATION_JWT_SECRET": "s" * 40, "MODERATION_JWKS_URL": "https://id.example/jwks"},
            "more than one JWT key source is set "
            "(MODERATION_JWT_SECRET, MODERATION_JWKS_URL): set exactly one",
        ),
        (
            {
                "MODERATION_JWT_PUBLIC_KEY": "-----BEGIN PUBLIC KEY-----",
                "MODERATION_JWKS_URL": "https://id.example/jwks",
            },
            "(MODERATION_JWT_PUBLIC_KEY, MODERATION_JWKS_URL)",
        ),
        (
            # What compose passes for the sources it leaves unset: empty means unset.
            {
                "MODERATION_JWT_SECRET": "s" * 40,
                "MODERATION_JWT_PUBLIC_KEY": "",
                "MODERATION_JWKS_URL": "",
                "MODERATION_JWT_ISSUER": "",
                "MODERATION_JWT_AUDIENCE": "",
                "MODERATION_DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:1/x",
            },
            "is not reachable",
        ),
        (
            {"MODERATION_JWT_SECRET": "", "MODERATION_JWKS_URL": ""},
            "no JWT key",
        ),
    ],
    ids=[
        "no-key",
        "short-secret",
        "database-down",
        "secret-and-jwks",
        "public-key-and-jwks",
        "empty-sources-are-unset",
        "all-empty-is-no-key",
    ],
)
def test_api_fails_at_start_with_one_line(
    tmp_path: Path, env: dict[str, str], expected: str
) -> None:
    result = run_cli("api", "--port", "0", env={"MODERATION_VAR_DIR": str(tmp_path), **env})
    assert result.returncode == 3
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert expected in lines[0]


def test_api_and_worker_stop_at_start_on_an_unknown_webhook_event(tmp_path: Path) -> None:
    env = {
        "MODERATION_VAR_DIR": str(tmp_path),
        "MODERATION_JWT_SECRET": "s" * 40,
        "MODERATION_WEBHOOK_EVENTS": "comment.decided,comment.hiden",
    }
    for command in (["api"], ["worker"]):
        result = run_cli(*command, env=env)
        assert result.returncode == 3
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert "MODERATION_WEBHOOK_EVENTS names no event 'comment.hiden'" in lines[0]


def test_api_and_worker_refuse_an_unmigrated_database(tmp_path: Path) -> None:
    env = {"MODERATION_VAR_DIR": str(tmp_path), "MODERATION_JWT_SECRET": "s" * 40}
    for command in (["api"], ["worker"]):
        result = run_cli(*command, env=env)
        assert result.returncode == 3
        assert "moderation migrate" in result.stderr


def test_api_and_worker_fail_when_redis_is_down(tmp_path: Path) -> None:
    env = {
        "MODERATION_VAR_DIR": str(tmp_path),
        "MODERATION_JWT_SECRET": "s" * 40,
        "MODERATION_REDIS_URL": "redis://127.0.0.1:1/0",
    }
    assert run_cli("migrate", env=env).returncode == 0
    for command in (["api"], ["worker"], ["beat"]):
        result = run_cli(*command, env=env)
        assert result.returncode == 3
        assert "Redis at redis://127.0.0.1:1/0 is not answering" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("secret", "expected"),
    [
        (None, "MODERATION_WEBHOOK_URL is set but MODERATION_WEBHOOK_SECRET is not"),
        ("whsec_not*base64*at+all", "invalid MODERATION_WEBHOOK_SECRET"),
    ],
    ids=["no-secret", "bad-secret"],
)
def test_api_worker_and_beat_refuse_a_webhook_they_cannot_sign(
    tmp_path: Path, secret: str | None, expected: str
) -> None:
    env = {
        "MODERATION_VAR_DIR": str(tmp_path),
        "MODERATION_JWT_SECRET": "s" * 40,
        "MODERATION_WEBHOOK_URL": "https://site.example/hooks",
        **({"MODERATION_WEBHOOK_SECRET": secret} if secret else {}),
    }
    for command in (["api"], ["worker"], ["beat"]):
        result = run_cli(*command, env=env)
        assert result.returncode == 3, (command, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert expected in lines[0]


def test_worker_without_weights_says_how_to_get_them(tmp_path: Path, redis_server: str) -> None:
    env = {
        "MODERATION_VAR_DIR": str(tmp_path),
        "MODERATION_REDIS_URL": f"{redis_server}/9",
        "MODERATION_MODEL": str(tmp_path / "missing.ckpt"),
    }
    assert run_cli("migrate", env=env).returncode == 0
    result = run_cli("worker", env=env)
    assert result.returncode == 3
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "MODERATION_MODEL" in lines[0] and "moderation models fetch" in lines[0]


def test_worker_whose_model_fails_to_load_stops_with_one_line(
    tmp_path: Path, redis_server: str
) -> None:
    """The file exists, so only a worker child's real load finds it corrupt, after fork."""
    checkpoint = tmp_path / "corrupt.ckpt"
    checkpoint.write_bytes(random.Random(0).randbytes(4096))
    env = {
        "MODERATION_VAR_DIR": str(tmp_path),
        "MODERATION_REDIS_URL": f"{redis_server}/9",
        "MODERATION_MODEL": str(checkpoint),
    }
    assert run_cli("migrate", env=env).returncode == 0
    result = run_cli("worker", "--concurrency", "2", env=env, timeout=180)
    assert result.returncode == 3, result.stderr
    naming = [line for line in result.stderr.splitlines() if str(checkpoint) in line]
    assert len(naming) == 1, result.stderr
    assert naming[0].startswith("moderation: a worker process can't start: ")
    assert "can't read the checkpoint" in naming[0]


def test_policy_check(tmp_path: Path) -> None:
    good = run_cli("policy", "check", str(REPO / "policy" / "standards-board.yaml"))
    assert good.returncode == 0
    assert "valid" in good.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text("toxicity:\n  thresholds:\n    toxicity: 1.5\n")
    result = run_cli("policy", "check", str(bad))
    assert result.returncode == 3
    assert str(bad) in result.stderr


def test_policy_check_warns_of_thresholds_the_configured_model_lacks(tmp_path: Path) -> None:
    shipped = str(REPO / "policy" / "standards-board.yaml")
    original = run_cli("policy", "check", shipped, env={"MODERATION_MODEL": "original"})
    assert original.returncode == 0, original.stderr
    lines = original.stdout.splitlines()
    (warning,) = [line for line in lines if line.startswith("warning: ")]
    assert "toxicity.thresholds.sexual_explicit" in warning
    assert "has no 'sexual_explicit' label" in warning
    assert "model: original (labels: toxicity, severe_toxicity," in original.stdout
    assert "sexual_explicit 0.60 (model lacks it)" in original.stdout
    unbiased = run_cli("policy", "check", shipped, env={"MODERATION_MODEL": "unbiased"})
    assert "warning" not in unbiased.stdout


def test_policy_check_summarizes_every_section(tmp_path: Path) -> None:
    words = tmp_path / "words.txt"
    words.write_text("blorf\nzarp\n")
    path = tmp_path / "policy.yaml"
    path.write_text(
        "schema: 1\n"
        "toxicity:\n  thresholds:\n    insult: 0.7\n"
        "terms:\n  lists:\n    - id: local\n      language: en\n      severity: banned\n"
        f"      file: {words}\n"
        "links:\n  allow_domains: [example.org]\n"
        "repeat: {window_seconds: 600, min_chars: 4}\n"
        "flood: {window_seconds: 60, hold_after: 3, hard_limit: null}\n"
        "language:\n  routes:\n    ko: default\n    ru: off\n"
        "reports: {review_after: 2, hide_after: 4, flood: {window_seconds: 600, limit: 5}}\n"
        "author:\n  new_commenter: {hold_until_approved: 3}\n  auto_trust: {after_approved: 5}\n"
    )
    result = run_cli("policy", "check", str(path), env={"MODERATION_MODEL": "multilingual"})
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "insult 0.70" in out and "severe_toxicity 0.50" in out
    assert "  local (en, banned): 2 entries" in out
    assert "links: on; allowed domains: example.org" in out
    assert "repeat: on; same text within 600s, texts of 4+ characters" in out
    assert "flood: on; held past 3 in 60s; no hard limit" in out
    assert (
        "language: on; routes: en → default, es → default, fr → default, it → default, "
        "ko → default, pt → default, tr → default; other languages are held for a person"
    ) in out
    assert (
        "  default: Detoxify multilingual; reads en, es, fr, it, ko, pt, tr; sigmoid; labels as "
        "output; thresholds toxicity.thresholds"
    ) in out
    assert (
        "reports: on; queued at 2 reporter(s); hidden at 4 (reporters with 1+ approved "
        "comments); 429 past 5 in 600s"
    ) in out
    assert "  author.new_commenter: on; held until 3 approved" in out
    assert "  author.recent_rejections: off; held past 50% rejected of 5+ decided in 30 days" in out
    assert (
        "  author.auto_trust: on; after 5 approved with at most 5% rejected, toxicity "
        "thresholds +0.10 (not severe_toxicity, threat)"
    ) in out
