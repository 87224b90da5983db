"""`.env.example` lists every setting (and its `_FILE` where it has one) and nothing else."""

from __future__ import annotations

import re

from service.settings import Settings
from service.settings_check import valid_variables
from service.settings_doc import render
from tests.support.paths import REPO

EXAMPLE = REPO / ".env.example"


def test_the_example_names_every_setting_and_nothing_else() -> None:
    named = set(re.findall(r"^# (MODERATION_[A-Z0-9_]+)=", EXAMPLE.read_text(), re.MULTILINE))
    assert named == valid_variables()


def test_the_example_is_what_the_settings_say_today() -> None:
    assert EXAMPLE.read_text() == render(), (
        "regenerate it: python -m service.settings_doc > .env.example"
    )


def test_every_setting_says_what_it_is_for() -> None:
    assert [name for name, field in Settings.model_fields.items() if not field.description] == []
