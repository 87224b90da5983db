"""What `moderation policy replay` and `moderation policy shadow-report` do once parsed."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path

import click
from tqdm import tqdm

from service.db.engine import Database
from service.db.tables import utcnow
from service.errors import ConfigurationError
from service.settings import Settings
from service.tuning.replay import count_replayable, replay_policy
from service.tuning.shadow_report import shadow_report
from service.tuning.text import render_replay, render_shadow
from service.tuning.windows import InvalidWindow, parse_since


def run_replay(settings: Settings, candidate_file: Path, *, since: str, as_json: bool) -> None:
    from policy import PolicyError, load_policy
    from service.models.registry import registered_models

    start = _since(since)
    try:
        # The registry decides where the candidate routes each language, as in the workers.
        candidate = load_policy(candidate_file, registry=registered_models(settings))
    except PolicyError as exc:
        raise ConfigurationError(str(exc)) from exc
    database = Database(settings.effective_database_url)
    try:
        total = count_replayable(database, since=start)
        with tqdm(total=total, unit="comment", file=sys.stderr, desc="replay") as bar:
            report = replay_policy(
                database, candidate=candidate, since=start, on_progress=bar.update
            )
    finally:
        database.dispose()
    body = report.to_dict()
    click.echo(json.dumps(body, indent=2) if as_json else render_replay(body))


def run_shadow_report(settings: Settings, *, since: str, as_json: bool) -> None:
    start = _since(since)
    database = Database(settings.effective_database_url)
    try:
        report = shadow_report(database, since=start)
    finally:
        database.dispose()
    click.echo(json.dumps(report, indent=2) if as_json else render_shadow(report))


def _since(value: str) -> datetime:
    try:
        return parse_since(value, now=utcnow())
    except InvalidWindow as exc:
        raise click.BadParameter(str(exc), param_hint="--since") from exc
