"""`moderation policy ...`: check a policy file, replay it on past comments, report the shadow
policy."""

from __future__ import annotations

from pathlib import Path

import click

from service.errors import ConfigurationError
from workers.cli.common import load_settings, one_line_errors


@click.group(name="policy")
def policy_group() -> None:
    """The standards-board policy file."""


@policy_group.command("check")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@one_line_errors
def policy_check(file: Path) -> None:
    """Validate FILE and print a summary, as the configured models (MODERATION_MODEL as
    `default`, and MODERATION_MODELS) see it: routes and label maps are checked against them."""
    from policy import PolicyError, load_policy
    from service.model_catalogue import variant_of
    from service.models.registry import registered_models
    from workers.cli.policy_summary import summarize

    settings = load_settings()
    registry = registered_models(settings)
    labels = registry["default"].outputs
    try:
        loaded = load_policy(file, registry=registry)
    except PolicyError as exc:
        raise ConfigurationError(str(exc)) from exc
    click.echo(f"{file}: valid, version {loaded.version}")
    model = variant_of(settings.model) or "custom"
    for line in summarize(loaded, model=model, model_labels=labels, registry=registry):
        click.echo(line)
    for warning in loaded.warnings:
        click.echo(f"warning: {warning}")


SINCE_HELP = "How far back: 30d, 12h, 90m, 2w, or an ISO 8601 moment."


@policy_group.command("replay")
@click.argument("candidate", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--since", default="30d", show_default=True, help=SINCE_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@one_line_errors
def policy_replay(candidate: Path, since: str, as_json: bool) -> None:
    """Re-decide stored comments under CANDIDATE, with their stored scores and context."""
    from service.tuning.commands import run_replay

    run_replay(load_settings(), candidate, since=since, as_json=as_json)


@policy_group.command("shadow-report")
@click.option("--since", default="7d", show_default=True, help=SINCE_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@one_line_errors
def policy_shadow_report(since: str, as_json: bool) -> None:
    """Compare MODERATION_SHADOW_POLICY's recorded decisions with the real ones."""
    from service.tuning.commands import run_shadow_report

    run_shadow_report(load_settings(), since=since, as_json=as_json)
