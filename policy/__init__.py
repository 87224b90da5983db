"""The standards-board policy: pure decision rules over text, scores and context.

Imports nothing from `service/` or `workers/` and does no I/O beyond reading the policy file
and the term lists it names (shipped inside this package, or beside the file).
"""

from __future__ import annotations

from policy.authors import Standing, author_standing
from policy.decision import DEFAULT_MODEL_ID, Comment, Context, Decision, Reason, text_digest
from policy.engine import Policy, evaluate
from policy.errors import PolicyError
from policy.language import detect_language, preload_language_detector
from policy.loader import load_policy, parse_policy
from policy.normalize import normalize
from policy.sections import RegisteredModel

__all__ = [
    "DEFAULT_MODEL_ID",
    "Comment",
    "Context",
    "Decision",
    "Policy",
    "PolicyError",
    "Reason",
    "RegisteredModel",
    "Standing",
    "author_standing",
    "detect_language",
    "evaluate",
    "load_policy",
    "normalize",
    "parse_policy",
    "preload_language_detector",
    "text_digest",
]
