"""Reading Prometheus' text format."""

from __future__ import annotations

import re


def sample(text: str, name: str, labels: str = "") -> float:
    pattern = re.escape(name) + (r"\{" + labels + r"\}" if labels else r"(\{[^}]*\})?")
    match = re.search(r"^" + pattern + r" ([0-9.e+-]+)$", text, re.M)
    assert match, f"{name}{{{labels}}} not in metrics"
    return float(match.groups()[-1])
