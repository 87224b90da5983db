"""The shadow policy against the real one, on the live comments both decided.

The worker records the shadow decisions (workers/shadow.py); this reads them back next to
the real automated decisions of the same revision and the moderators' labels. Only a
comment's current revision is compared: an edit superseded the decisions before it.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from service.comments.resources import isoformat
from service.db.engine import Database
from service.store.tuning import list_shadow_pairs_since
from service.tuning.comparison import Comparison, Pair, Verdict, excerpt
from service.tuning.judgements import collect_judgements
from service.tuning.replay import rules_of

SIDES = ("real", "shadow")


def shadow_report(db: Database, *, since: datetime) -> dict[str, Any]:
    """Agreement, the confusion matrix (rows: real action, columns: shadow action), changes by
    rule and the outcomes against moderators, over shadow decisions made since `since`."""
    with db.session() as session:
        rows = list_shadow_pairs_since(session, since=since)
        labels = collect_judgements(session, since=since)
    comparison = Comparison(names=SIDES)
    versions: Counter[str] = Counter()
    for shadow, real, text in rows:
        versions[shadow.policy_version] += 1
        label = labels.get(shadow.comment_id)
        comparison.add(
            Pair(
                comment_id=shadow.comment_id,
                excerpt=excerpt(text),
                current=Verdict(real.action, rules_of(real.reasons)),
                candidate=Verdict(shadow.action, rules_of(shadow.reasons)),
                outcome=None if label is None else label.outcome,
            )
        )
    return {
        "since": isoformat(since),
        "shadow_versions": dict(versions.most_common()),
        **comparison.report(),
    }
