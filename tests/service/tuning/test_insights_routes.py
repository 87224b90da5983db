"""GET /v1/moderation/insights over the seeded history (tests/support/tuning_history.py), and
the shadow report from recorded shadow decisions (the worker's side is tests/e2e/test_shadow.py).
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from typing import Any

import jsonschema
import pytest

from service.db.tables import utcnow
from service.store.tuning import add_shadow_decisions
from tests.support.api import Api, problem
from tests.support.holds import database
from tests.support.paths import REPO
from tests.support.processes import without_settings
from tests.support.tuning_history import seed_history


def insights(api: Api, **params: Any) -> Any:
    return api.client.get(
        "/v1/moderation/insights", params=params, headers=api.auth("mod-1", moderator=True)
    )


def validate(api: Api, body: Any) -> None:
    document = api.client.get("/openapi.json").json()
    jsonschema.Draft202012Validator(
        {"$ref": "#/components/schemas/Insights", "components": document["components"]}
    ).validate(body)


def test_the_evidence_over_the_window(api: Api) -> None:
    seed_history(database(api))
    response = insights(api)
    assert response.status_code == 200, response.text
    body = response.json()
    validate(api, body)
    assert body["target_precision"] == 0.9
    assert body["policy_version"].startswith("sha256:")
    assert body["labels"] == {
        "total": 6,
        "by_source": {"review": 4, "sample": 2},
        "approved": 3,
        "rejected": 3,
    }

    rules = {(row["rule"], row["threshold"]): row for row in body["rules"]}
    assert rules["links", None] | {"kind": "links"} == {
        "rule": "links",
        "kind": "links",
        "threshold": None,
        "holds": 2,
        "reviewed": 2,
        "overturned": 1,
        "upheld": 1,
        "overturn_rate": 0.5,
        "upheld_rate": 0.5,
    }
    insult = rules["toxicity.insult", 0.8]
    assert (insult["holds"], insult["reviewed"], insult["upheld"]) == (2, 1, 1)
    assert insult["overturn_rate"] == 0.0
    toxicity = rules["toxicity.toxicity", 0.8]
    assert (toxicity["holds"], toxicity["overturned"], toxicity["overturn_rate"]) == (1, 1, 1.0)
    assert rules["flood", None]["reviewed"] == 0
    assert rules["flood", None]["overturn_rate"] is None

    labels = {item["label"]: item for item in body["model_labels"]}
    assert list(labels) == ["threat", "insult", "toxicity"]
    insult_label = labels["insult"]
    assert insult_label["threshold"] == 0.8
    assert insult_label["labelled"] == 6
    # at 0.80: abusive held and rejected; close_call (sampled at 0.5: weight 2) and spam
    # missed; harmless (weight 2), trusted and rude correctly published
    assert insult_label["at_threshold"] == {
        "threshold": 0.8,
        "precision": 1.0,
        "recall": 0.25,
        "tp": 1.0,
        "fp": 0.0,
        "fn": 3.0,
        "tn": 4.0,
    }
    assert insult_label["suggested_threshold"] == 0.65
    assert len(insult_label["points"]) == 19
    rejected = [0] * 20
    approved = [0] * 20
    rejected[0] += 1  # spam 0.01
    rejected[13] += 1  # close_call 0.65
    rejected[19] += 1  # abusive 0.95
    approved[0] += 1  # trusted 0.01
    approved[6] += 1  # rude 0.30
    approved[12] += 1  # harmless 0.62
    assert insult_label["histogram"] == {"bins": 20, "approved": approved, "rejected": rejected}

    volume = body["volume"]
    assert volume["bucket"] == "day"
    assert len(volume["series"]) in (31, 32)
    assert sum(point["holds"] for point in volume["series"]) == 6
    assert sum(point["reviewed"] for point in volume["series"]) == 4
    # still waiting: purged and flooder from yesterday, and the 40-day-old hold
    last = volume["series"][-1]
    assert last["backlog"] == 3
    assert last["oldest_age_seconds"] > 39 * 86400

    assert body["sample"] == {"rate": 0.0, "sampled": 2, "labelled": 2, "fine": 1, "not_fine": 1}
    assert body["shadow"] is None


def test_a_short_window_has_hourly_buckets_and_a_target_moves_the_suggestion(api: Api) -> None:
    seed_history(database(api))
    body = insights(api, since="36h", target_precision="0.5").json()
    assert body["volume"]["bucket"] == "hour"
    assert 36 <= len(body["volume"]["series"]) <= 38
    insult = {item["label"]: item for item in body["model_labels"]}["insult"]
    # at 0.05: tp 3 (close_call x2, abusive), fp 3 (harmless x2, rude): exactly 0.5
    assert insult["suggested_threshold"] == 0.05
    assert insights(api, since="2026-01-01T00:00:00Z").status_code == 200


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"since": "yesterday"}, "invalid_since"),
        ({"since": "2026-01-01"}, "invalid_since"),
        ({"since": "2999-01-01T00:00:00Z"}, "invalid_since"),
        ({"target_precision": "0"}, "invalid_target_precision"),
        ({"target_precision": "1.2"}, "invalid_target_precision"),
        ({"target_precision": "nan"}, "invalid_target_precision"),
        ({"target_precision": "high"}, "invalid_target_precision"),
    ],
)
def test_bad_parameters(api: Api, params: dict[str, str], code: str) -> None:
    problem(insights(api, **params), 422, code)


def test_moderators_only(api: Api) -> None:
    problem(
        api.client.get("/v1/moderation/insights", headers=api.auth("reader-1")), 403, "forbidden"
    )
    problem(api.client.get("/v1/moderation/insights"), 401, "invalid_token")


def add_shadows(api: Api, made: dict[str, str]) -> None:
    """What a shadow policy that holds everything but links would have recorded."""
    held = [{"kind": "article", "rule": "article.premoderated", "message": "m"}]
    with database(api).session() as session:
        add_shadow_decisions(
            session,
            policy_version="sha256:shadow",
            decisions=[
                (made[key], 1, "approve", [])
                if key in ("trusted", "spam")
                else (made[key], 1, "hold", held)
                for key in (
                    "close_call",
                    "unjudged",
                    "trusted",
                    "spam",
                    "abusive",
                    "polite",
                    "rude",
                )
            ],
            now=utcnow() - timedelta(hours=20),
        )


SHADOW_EXPECTED = {
    "compared": 7,
    "agreement": {"count": 2, "rate": 2 / 7},
    "confusion": {"approve": {"approve": 0, "hold": 3}, "hold": {"approve": 2, "hold": 2}},
    "changes": {"total": 5, "approve_to_hold": 3, "hold_to_approve": 2},
    "outcomes": {
        "labelled": 5,
        "rejected": 3,
        "approved": 2,
        "misses": {"real": 1, "shadow": 1},
        "extra_work": {"real": 2, "shadow": 1},
    },
}


def test_the_shadow_report_in_the_insights(api: Api) -> None:
    made = seed_history(database(api))
    add_shadows(api, made)
    body = insights(api).json()
    validate(api, body)
    shadow = body["shadow"]
    assert shadow["shadow_versions"] == {"sha256:shadow": 7}
    for key, value in SHADOW_EXPECTED.items():
        assert shadow[key] == value, key
    by_rule = {row["rule"]: row for row in shadow["by_rule"]}
    assert by_rule["article.premoderated"] == {
        "rule": "article.premoderated",
        "real": 0,
        "shadow": 5,
        "approve_to_hold": 3,
        "hold_to_approve": 0,
    }
    assert by_rule["links"]["hold_to_approve"] == 2
    assert insights(api, since="1h").json()["shadow"] is None


def test_the_shadow_report_command(api: Api) -> None:
    made = seed_history(database(api))
    add_shadows(api, made)
    env = without_settings()
    env["MODERATION_DATABASE_URL"] = api.settings.effective_database_url
    command = [sys.executable, "-m", "workers", "policy", "shadow-report"]
    result = subprocess.run(
        [*command, "--json"], env=env, cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    for key, value in SHADOW_EXPECTED.items():
        assert report[key] == value, key
    text = subprocess.run(
        [*command, "--since", "2d"], env=env, cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert text.returncode == 0, text.stderr
    assert "Shadow policy against the real one: 7 comments" in text.stdout
    assert "Agreement: 2 of 7 (28.6%)" in text.stdout
    rows = [line.split() for line in text.stdout.splitlines() if line.startswith("  real ")]
    assert rows == [["real", "approve", "0", "3"], ["real", "hold", "2", "2"]]
    assert made["unjudged"] in text.stdout
