"""`moderation models ...`: checkpoints for offline use, and a tiny demo model."""

from __future__ import annotations

import logging
import re
import sys
from pathlib import Path

import click

from workers.cli.common import load_settings, one_line_errors


@click.group()
def models() -> None:
    """Model checkpoints."""


@models.command("fetch")
@click.argument("variant")
@click.option("--to", "dest", required=True, type=click.Path(file_okay=False, path_type=Path))
@one_line_errors
def models_fetch(variant: str, dest: Path) -> None:
    """Download VARIANT's checkpoint and config into DIR, for offline use.

    VARIANT is a Detoxify variant (original, unbiased, multilingual, original-small,
    unbiased-small), or hf:ORG/NAME[@REVISION], a Hugging Face sequence-classification
    checkpoint: its config, tokenizer and safetensors weights (never a pickle) go to DIR/NAME
    with a manifest.json pinning the commit and each file's SHA-256, checked at load.

    Prints the settings to export; `eval "$(moderation models fetch ...)"` sets them.
    """
    from service.logging import configure_logging
    from workers.scoring.fetch import HF_PREFIX, fetch_hf_model, fetch_model

    settings = load_settings()
    # Log lines on stderr: stdout is the two lines to eval. httpx's line per request would
    # bury the command's own (and its one-line error).
    configure_logging(settings.log_level, json=settings.log_json)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    if variant.startswith(HF_PREFIX):
        directory = fetch_hf_model(
            variant,
            dest,
            hf_base_url=settings.model_hf_base_url,
            progress=sys.stderr.isatty(),
        )
        suggested = _model_id(directory.name)
        click.echo(f"export MODERATION_MODELS_DIR={directory.parent.resolve()}")
        click.echo(
            f'# register it: MODERATION_MODELS=\'{{"{suggested}": "{directory.name}"}}\' '
            "(with the models already there), then route a language to it in the policy"
        )
        return
    path = fetch_model(
        variant,
        dest,
        base_url=settings.model_base_url,
        hf_base_url=settings.model_hf_base_url,
        # A bar redrawn with carriage returns is noise in a Docker build log or a CI job's.
        progress=sys.stderr.isatty(),
    )
    click.echo(f"export MODERATION_MODEL={path.resolve()}")
    click.echo(f"export MODERATION_MODEL_CONFIG={(path.parent / 'config').resolve()}")


def _model_id(name: str) -> str:
    """A registry id for a fetched repo's directory name: lower case, only id characters."""
    lowered = re.sub(r"[^a-z0-9._-]+", "-", name.lower()).strip("-._") or "model"
    return lowered[:64]


@models.command("demo")
@click.option("--to", "dest", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--variant",
    default="original",
    show_default=True,
    type=click.Choice(["original", "unbiased", "multilingual", "original-small", "unbiased-small"]),
)
@one_line_errors
def models_demo(dest: Path, variant: str) -> None:
    """Build a tiny RANDOM-weight checkpoint to try the pipeline offline (it does not moderate).

    Prints the two settings to export; `eval "$(moderation models demo --to DIR)"` sets them.
    """
    from workers.scoring.synthetic import build_checkpoint

    built = build_checkpoint(dest.resolve(), variant)
    click.echo(
        "# random weights: every decision is meaningless; for trying the pipeline only", err=True
    )
    click.echo(f"export MODERATION_MODEL={built.checkpoint}")
    click.echo(f"export MODERATION_MODEL_CONFIG={built.config_dir}")
