"""`moderation policy replay`: a candidate policy over the stored history (the table of
tests/support/tuning_history.py), with the stored scores and context, judged against the
moderators' labels."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

import policy
from service.db.engine import Database
from service.db.tables import utcnow
from service.settings import DEFAULT_POLICY
from service.tuning.replay import count_replayable, replay_policy
from tests.support.databases import BACKENDS
from tests.support.edited_history import (
    ABUSIVE,
    ABUSIVE_AGAIN,
    CLEAN,
    EDIT_AFTER,
    edit_and_decide,
    edited_comment,
    review,
)
from tests.support.paths import REPO
from tests.support.processes import without_settings
from tests.support.tuning_history import seed_history, write_candidate


def ids(examples: list[dict[str, Any]]) -> set[str]:
    return {example["comment_id"] for example in examples}


def check_report(report: dict[str, Any], made: dict[str, str]) -> None:
    assert report["considered"] == 10  # "old" is outside the window
    assert report["skipped_purged"] == 1
    assert report["compared"] == 9
    assert report["current_versions"] == {policy.load_policy(DEFAULT_POLICY).version: 10}
    assert report["changes"] == {"total": 5, "approve_to_hold": 3, "hold_to_approve": 2}
    assert report["confusion"] == {
        "approve": {"approve": 1, "hold": 3},
        "hold": {"approve": 2, "hold": 3},
    }
    assert report["agreement"]["count"] == 4
    assert report["agreement"]["rate"] == pytest.approx(4 / 9)
    by_rule = {row["rule"]: row for row in report["by_rule"]}
    assert by_rule["toxicity.insult"] == {
        "rule": "toxicity.insult",
        "current": 1,
        "candidate": 4,
        "approve_to_hold": 3,
        "hold_to_approve": 0,
    }
    assert by_rule["links"] == {
        "rule": "links",
        "current": 2,
        "candidate": 1,
        "approve_to_hold": 0,
        "hold_to_approve": 1,
    }
    assert by_rule["toxicity.toxicity"]["hold_to_approve"] == 1
    # the flood count comes from the stored context: re-gathered, it would be 1, not held
    assert by_rule["flood"] == {
        "rule": "flood",
        "current": 1,
        "candidate": 1,
        "approve_to_hold": 0,
        "hold_to_approve": 0,
    }
    assert next(row["rule"] for row in report["by_rule"]) == "toxicity.insult"
    assert report["outcomes"] == {
        "labelled": 6,
        "rejected": 3,
        "approved": 3,
        "misses": {"current": 1, "candidate": 0},
        "extra_work": {"current": 2, "candidate": 1},
    }
    examples = report["examples"]
    assert ids(examples["approve_to_hold"]) == {
        made["close_call"],
        made["unjudged"],
        made["harmless"],
    }
    assert ids(examples["hold_to_approve"]) == {made["trusted"], made["rude"]}
    assert examples["misses"] == []
    (extra,) = examples["extra_work"]
    assert extra == {
        "comment_id": made["harmless"],
        "excerpt": "Fine, whatever you say, you win this round.",
        "current": "approve",
        "candidate": "hold",
        "rules": ["toxicity.insult"],
        "outcome": "approved",
    }


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_replay_gives_the_exact_counts_on_the_seeded_history(
    database_url: str, tmp_path: Path
) -> None:
    database = Database(database_url)
    try:
        made = seed_history(database)
        candidate = policy.load_policy(write_candidate(tmp_path))
        since = utcnow() - timedelta(days=30)
        progress: list[int] = []
        report = replay_policy(
            database, candidate=candidate, since=since, on_progress=progress.append
        )
        assert count_replayable(database, since=since) == 10
    finally:
        database.dispose()
    assert sum(progress) == 10
    body = report.to_dict()
    assert body["candidate_version"] == candidate.version
    check_report(body, made)


def test_replaying_the_policy_in_force_changes_nothing(database_url: str) -> None:
    database = Database(database_url)
    try:
        seed_history(database)
        report = replay_policy(
            database,
            candidate=policy.load_policy(DEFAULT_POLICY),
            since=utcnow() - timedelta(days=60),
        ).to_dict()
    finally:
        database.dispose()
    assert report["considered"] == 11
    assert report["changes"]["total"] == 0
    assert report["agreement"]["rate"] == 1.0
    assert report["outcomes"]["misses"] == {"current": 1, "candidate": 1}


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_an_edited_comment_is_replayed_once_on_its_current_revision(
    database_url: str, tmp_path: Path
) -> None:
    """judged: approved as posted, edited into abuse, held, rejected by a moderator on
    revision 2. reheld: held as posted and approved, then edited into abuse and held again,
    unreviewed: the approval was of revision 1, so revision 2 carries no label."""
    database = Database(database_url)
    posted = utcnow() - timedelta(hours=3)
    try:
        judged = edited_comment(database, takes=[CLEAN, ABUSIVE], posted_at=posted)
        review(database, comment_id=judged, action="reject", at=posted + 2 * EDIT_AFTER)
        reheld = edited_comment(database, takes=[ABUSIVE], posted_at=posted)
        review(database, comment_id=reheld, action="approve", at=posted + EDIT_AFTER / 2)
        edit_and_decide(database, comment_id=reheld, take=ABUSIVE_AGAIN, at=posted + EDIT_AFTER)
        since = utcnow() - timedelta(days=1)
        assert count_replayable(database, since=since) == 2
        report = replay_policy(
            database, candidate=policy.load_policy(write_candidate(tmp_path)), since=since
        ).to_dict()
    finally:
        database.dispose()
    assert (report["considered"], report["compared"]) == (2, 2)
    assert report["confusion"]["hold"] == {"approve": 0, "hold": 2}
    assert report["outcomes"] == {
        "labelled": 1,
        "rejected": 1,
        "approved": 0,
        "misses": {"current": 0, "candidate": 0},
        "extra_work": {"current": 0, "candidate": 0},
    }


def cli(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    env = without_settings()
    env["MODERATION_DATABASE_URL"] = database_url
    return subprocess.run(
        [sys.executable, "-m", "workers", "policy", *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_cli_prints_json_text_and_a_progress_bar(database_url: str, tmp_path: Path) -> None:
    database = Database(database_url)
    try:
        made = seed_history(database)
    finally:
        database.dispose()
    candidate = write_candidate(tmp_path)

    result = cli("replay", str(candidate), "--since", "30d", "--json", database_url=database_url)
    assert result.returncode == 0, result.stderr
    check_report(json.loads(result.stdout), made)
    assert "replay" in result.stderr and "10/10" in result.stderr

    text = cli("replay", str(candidate), database_url=database_url)
    assert text.returncode == 0, text.stderr
    out = text.stdout
    assert "Replayed 10 automated decisions" in out
    assert "Skipped 1 whose text was purged; compared 9." in out
    assert "Decisions that change: 5 of 9 (55.6%)" in out
    assert "misses (rejected, would approve)" in out
    assert made["harmless"] in out
    # an excerpt, never a whole comment above it
    assert all(len(line) < 160 for line in out.splitlines())


def test_a_bad_window_is_a_usage_error(database_url: str, tmp_path: Path) -> None:
    result = cli(
        "replay", str(write_candidate(tmp_path)), "--since", "soon", database_url=database_url
    )
    assert result.returncode == 2
    assert "neither a duration" in result.stderr


def test_a_broken_candidate_ends_in_one_line(database_url: str, tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("schema: 1\ntoxicity:\n  thresholds:\n    insult: 1.5\n")
    result = cli("replay", str(broken), database_url=database_url)
    assert result.returncode == 3
    assert result.stderr.startswith("moderation: ")
    assert "insult" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
