"""A worker child's policy knows its model's labels: from the variant when MODERATION_MODEL
names one, else from the checkpoint once the child has loaded it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from structlog.testing import capture_logs

from service.policies import configured_model_labels
from tests.support.checkpoints import TinyCheckpoint
from workers.celery_app import build_runtime


def test_a_child_warns_of_thresholds_its_checkpoint_lacks(
    tiny_checkpoint: Callable[..., TinyCheckpoint], tmp_path: Path
) -> None:
    # No Redis: the child would start a heartbeat thread that outlives the test.
    settings = tiny_checkpoint("original").settings(
        var_dir=tmp_path, redis_url=None, broker_url="memory://"
    )
    assert configured_model_labels(settings) is None  # a checkpoint path: unknown unloaded
    with capture_logs() as logs:
        rt = build_runtime(settings, load_model=True)
    warnings = [entry for entry in logs if entry["event"] == "policy.warning"]
    assert len(warnings) == 1 and "sexual_explicit" in str(warnings[0]["warning"])
    assert rt.policies.current().warnings
    rt.db.dispose()
