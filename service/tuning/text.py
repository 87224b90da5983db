"""Replay and shadow reports as text for a terminal: the same figures as `--json`."""

from __future__ import annotations

from typing import Any

EXAMPLE_TITLES = {
    "approve_to_hold": "approve → hold",
    "hold_to_approve": "hold → approve",
    "misses": "misses: rejected by moderators, would be approved",
    "extra_work": "extra work: approved by moderators, would be held",
}
MAX_RULE_ROWS = 15


def render_replay(report: dict[str, Any]) -> str:
    stored = ", ".join(
        f"{_short(version)} ({count:,})" for version, count in report["current_versions"].items()
    )
    lines = [
        f"Replayed {report['considered']:,} automated decisions made since {report['since']}",
        f"  decided under: {stored or 'nothing'}",
        f"  candidate:     {_short(report['candidate_version'])}",
        f"Skipped {report['skipped_purged']:,} whose text was purged; "
        f"compared {report['compared']:,}.",
    ]
    if report.get("not_evaluable"):
        reasons = report["not_evaluable_reasons"]
        figures, other_model = reasons["author_figures"], reasons["other_model"]
        lines.append(f"Not evaluable: {report['not_evaluable']:,}, left out:")
        if figures:
            lines.append(
                f"  {figures:,} decided before the worker recorded the author figures the "
                "candidate's author rules read (or over another window)"
            )
        if other_model:
            lines.append(
                f"  {other_model:,} in a language the candidate routes to another model than "
                "the one that scored them (they would need scoring again)"
            )
    lines.append("")
    lines += _comparison_lines(report, ("current", "candidate"))
    return "\n".join(lines)


def render_shadow(report: dict[str, Any]) -> str:
    versions = ", ".join(
        f"{_short(version)} ({count:,})" for version, count in report["shadow_versions"].items()
    )
    lines = [
        f"Shadow policy against the real one: {report['compared']:,} comments since "
        f"{report['since']}",
        f"  shadow versions: {versions or 'none recorded'}",
        "",
    ]
    agreement = report["agreement"]
    if report["compared"]:
        lines.append(
            f"Agreement: {agreement['count']:,} of {report['compared']:,} "
            f"({_percent(agreement['rate'])})"
        )
        confusion = report["confusion"]
        lines += [
            f"  {'':14}{'shadow approve':>16}{'shadow hold':>13}",
            *(
                f"  {'real ' + real:14}{confusion[real]['approve']:>16,}"
                f"{confusion[real]['hold']:>13,}"
                for real in ("approve", "hold")
            ),
            "",
        ]
    lines += _comparison_lines(report, ("real", "shadow"))
    return "\n".join(lines)


def _comparison_lines(report: dict[str, Any], names: tuple[str, str]) -> list[str]:
    first, second = names
    changes = report["changes"]
    compared = report["compared"]
    share = _percent(changes["total"] / compared if compared else None)
    lines = [
        f"Decisions that change: {changes['total']:,} of {compared:,} ({share})",
        f"  approve → hold  {changes['approve_to_hold']:>8,}",
        f"  hold → approve  {changes['hold_to_approve']:>8,}",
        "",
    ]
    changed = [row for row in report["by_rule"] if row["approve_to_hold"] or row["hold_to_approve"]]
    if changed:
        lines.append(f"By rule{'':22}{'approve → hold':>16}{'hold → approve':>16}")
        for row in changed[:MAX_RULE_ROWS]:
            lines.append(
                f"  {row['rule']:<27}{row['approve_to_hold']:>16,}{row['hold_to_approve']:>16,}"
            )
        if len(changed) > MAX_RULE_ROWS:
            lines.append(f"  … and {len(changed) - MAX_RULE_ROWS} more rules (see --json)")
        lines.append("")
    outcomes = report["outcomes"]
    lines.append(
        f"Against moderator outcomes: {outcomes['labelled']:,} labelled "
        f"({outcomes['rejected']:,} rejected, {outcomes['approved']:,} approved)"
    )
    if outcomes["labelled"]:
        lines.append(f"  {'':36}{first:>10}{second:>10}{'change':>8}")
        for key, title in (
            ("misses", "misses (rejected, would approve)"),
            ("extra_work", "extra work (approved, would hold)"),
        ):
            before, after = outcomes[key][first], outcomes[key][second]
            lines.append(f"  {title:<36}{before:>10,}{after:>10,}{after - before:>+8,}")
    for key, title in EXAMPLE_TITLES.items():
        examples = report["examples"][key]
        if not examples:
            continue
        lines += ["", f"Examples, {title}:"]
        for example in examples:
            rules = ", ".join(example["rules"]) or "-"
            lines.append(f"  {example['comment_id']}  {example['excerpt']!r}  [{rules}]")
    return lines


def _short(version: str) -> str:
    return version if len(version) <= 19 else version[:19] + "…"


def _percent(rate: float | None) -> str:
    return "n/a" if rate is None else f"{rate:.1%}"
