"""axe-core (vendored: tests/browser/vendor/axe-core/) run on a page in Chromium: the
violations of serious or critical impact, each named by the view it was found on, its rule
and the nodes it was found at, so a failing test says what to fix and where.

The pages' CSP is `script-src 'self'`: the browser context that audits must be opened with
Playwright's `bypass_csp=True`, or the injected script is refused."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.support.paths import REPO

AXE_VERSION = "4.14.1"
AXE_JS = REPO / "tests" / "browser" / "vendor" / "axe-core" / "axe.min.js"
BLOCKING_IMPACTS = frozenset({"serious", "critical"})

# Every WCAG 2.x A and AA rule and axe's best practices; rules tagged "experimental" stay off
# (axe's own default).
_RUN = """async () => {
  const results = await axe.run(document, { resultTypes: ["violations"] });
  return results.violations.map((violation) => ({
    rule: violation.id,
    impact: violation.impact || "",
    help: violation.help,
    targets: violation.nodes.map((node) => node.target.join(" ")),
  }));
}"""


@dataclass(frozen=True)
class Violation:
    view: str
    rule: str
    impact: str
    help: str
    targets: tuple[str, ...]

    def __str__(self) -> str:
        nodes = ", ".join(self.targets)
        return f"[{self.view}] {self.rule} ({self.impact}): {self.help} — at {nodes}"


def audit(page: Any, view: str) -> list[Violation]:
    """The serious and critical violations axe finds on the page as it is now."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.add_script_tag(path=str(AXE_JS))
    assert page.evaluate("axe.version") == AXE_VERSION
    found: list[dict[str, Any]] = page.evaluate(_RUN)
    return [
        Violation(
            view=view,
            rule=item["rule"],
            impact=item["impact"],
            help=item["help"],
            targets=tuple(item["targets"]),
        )
        for item in found
        if item["impact"] in BLOCKING_IMPACTS
    ]


def report(violations: list[Violation]) -> str:
    return "axe found serious or critical violations:\n" + "\n".join(map(str, violations))
