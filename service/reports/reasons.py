"""The coded reasons: what a reader reports a comment for, and what a moderator restricts one
for. One list, in the order the moderation page's digit keys pick them."""

from __future__ import annotations

from typing import Literal, get_args

ReportReason = Literal[
    "offensive",
    "abusive",
    "harassment",
    "hate_speech",
    "spam",
    "personal_info",
    "off_topic",
    "illegal",
    "other",
]
ReasonCode = Literal[ReportReason, "misinformation"]
"""A moderator's coded reason: a report reason, or misinformation (which readers don't report
as such: it takes a moderator's judgement)."""
REPORT_REASONS: tuple[str, ...] = get_args(ReportReason)
REASON_CODES: tuple[str, ...] = get_args(ReasonCode)
ILLEGAL = "illegal"
MAX_DETAIL_CHARS = 500
MAX_NOTICE_CHARS = 1000
"""legal_ground and explanation: a report's notice fields and a moderator's explanation."""
