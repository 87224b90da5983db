"""The API process never loads the model stack (torch alone costs hundreds of MB per process),
nor anything of workers/: tasks, the Celery app and the scorer are the worker's."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.support.paths import REPO
from tests.support.processes import without_settings

FORBIDDEN = ("torch", "transformers", "detoxify")

# Import the ASGI module as uvicorn does (it builds the app), run its lifespan, and serve a
# health check and a comment, so that imports made lazily on those paths count too.
PROBE = """
import json, sys
from starlette.testclient import TestClient
import service.asgi
from service.http.tokens import issue_token

with TestClient(service.asgi.app) as client:
    client.get("/healthz")
    token = issue_token(service.asgi.settings, "reader-1")
    posted = client.post(
        "/v1/comments",
        json={"article_id": "a-1", "text": "Hello"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert posted.status_code == 202, posted.text
print(json.dumps(sorted(sys.modules)))
"""


def test_the_api_imports_no_model_code(tmp_path: Path, redis_server: str) -> None:
    env = without_settings()
    env.update(
        {
            "MODERATION_VAR_DIR": str(tmp_path),
            "MODERATION_JWT_SECRET": "s" * 40,
            "MODERATION_REDIS_URL": f"{redis_server}/8",
        }
    )
    subprocess.run(
        [sys.executable, "-m", "workers", "migrate"],
        env=env,
        cwd=REPO,
        check=True,
        capture_output=True,
        timeout=60,
    )
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    modules = json.loads(result.stdout.strip().splitlines()[-1])
    loaded = [m for m in modules if m.split(".")[0] in FORBIDDEN or m.startswith(FORBIDDEN)]
    assert loaded == []
    assert [m for m in modules if m.split(".")[0] == "workers"] == [], (
        "the API imports no task, Celery app or scorer code"
    )
    assert "service.app" in modules


# The start-up check and the app's policy holder read a Hugging Face model's outputs from its
# config.json: label maps are checked against them with no model code imported.
ROUTED_POLICY = """\
language:
  routes:
    ko: ko-hate
models:
  ko-hate:
    activation: softmax
    labels:
      toxicity: {one_minus: clean}
      OWN_LABEL: hate
"""

CHECK_PROBE = """
import json, sys
from starlette.testclient import TestClient
from service import startup
from service.errors import ConfigurationError
from service.settings import Settings
try:
    startup.check_policy(Settings())
except ConfigurationError as exc:
    print(json.dumps({"error": str(exc)}))
    raise SystemExit(0)
import service.asgi
with TestClient(service.asgi.app) as client:
    assert client.get("/healthz").status_code == 200
route = service.asgi.app.state.services.policies.current().route("ko")
print(json.dumps({"route": route, "modules": sorted(sys.modules)}))
"""


def test_the_api_checks_a_checkpoints_label_map_without_model_code(
    tmp_path: Path, redis_server: str
) -> None:
    from tests.support.hf_checkpoints import tiny_hf_checkpoint

    checkpoint = tiny_hf_checkpoint(
        tmp_path / "models" / "ko-hate",
        "electra",
        ("clean", "offensive", "hate"),
        "single_label_classification",
    )
    policy = tmp_path / "policy.yaml"
    env = without_settings()
    env.update(
        {
            "MODERATION_VAR_DIR": str(tmp_path),
            "MODERATION_JWT_SECRET": "s" * 40,
            "MODERATION_REDIS_URL": f"{redis_server}/8",
            "MODERATION_POLICY": str(policy),
            **checkpoint.registry_env("ko-hate"),
        }
    )
    subprocess.run(
        [sys.executable, "-m", "workers", "migrate"],
        env=env,
        cwd=REPO,
        check=True,
        capture_output=True,
        timeout=60,
    )

    def probe(own_label: str) -> dict[str, object]:
        policy.write_text(ROUTED_POLICY.replace("OWN_LABEL", own_label))
        result = subprocess.run(
            [sys.executable, "-c", CHECK_PROBE],
            env=env,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        answer: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
        return answer

    good = probe("hate")
    assert good["route"] == "ko-hate"
    modules = good["modules"]
    assert isinstance(modules, list)
    assert [m for m in modules if m.split(".")[0] in FORBIDDEN] == []

    bad = probe("insult: insult\n      hate")
    assert "insult" in str(bad["error"]) and "\n" not in str(bad["error"])
