"""What the policy needs to know beyond the text: looked up here, recorded with the decision."""

from __future__ import annotations

from datetime import datetime

import policy
from workers.runtime import WorkerRuntime


def gather_context(
    rt: WorkerRuntime,
    subject: policy.Comment,
    *,
    comment_id: str,
    created_at: datetime,
    policy: policy.Policy,
) -> policy.Context:
    return policy_context()


def policy_context() -> policy.Context:
    return policy.Context()
