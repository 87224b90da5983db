"""Scoring `suggestscore` feedback, so that each row counts as a label for tuning.

A feedback row says what a person thought of a text (Coral sends 1 for rejected, 0 for
approved) but not what the model thought: analyze stores nothing, so its scores are gone.
Here the worker scores the stored text as analyze would (long texts in pieces, each label
its highest piece's score) and keeps the summary on the row; the insights builder then
places it on each threshold of the label it names (service/tuning/judgements.py).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import structlog

from service.db.engine import Database
from service.store.perspective import list_unscored_feedback, set_feedback_scores
from workers.analyze import analyze_text
from workers.scoring.scorer import Scorer

log = structlog.get_logger(__name__)

# Feedback has no caller waiting and no language answer to give (`detected=None`: none is
# detected).
_NO_DEADLINE = math.inf


def score_feedback(db: Database, scorer: Scorer, feedback_ids: Sequence[int]) -> int:
    """How many rows got scores; rows already scored (a re-sent task) are left as they are."""
    with db.session() as session:
        rows = list_unscored_feedback(session, feedback_ids=feedback_ids)
        # One suggestscore stores a row per attribute, all with the same text: score it once.
        summaries: dict[str, dict[str, float]] = {}
        for row in rows:
            text = row.text
            assert text is not None, "list_unscored_feedback returns rows with their text"
            if text not in summaries:
                result = analyze_text(
                    scorer, text, spans=False, deadline=_NO_DEADLINE, detected=None
                )
                summaries[text] = result["summary"]
            set_feedback_scores(session, feedback=row, scores=summaries[text])
    log.info("perspective.feedback_scored", rows=len(rows), model=scorer.model_id)
    return len(rows)
