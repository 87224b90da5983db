"""The pages' message catalogues (service/locales/): every language says everything English
says, with the same placeholders, and every key the templates and scripts ask for is there. A
missing message shows on the page as its key, so it is caught here rather than by a reader."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from service.http.pages import LOCALES_DIR, PAGE_LOCALES, STATIC_DIR, TEMPLATES, page_catalogues
from service.reports.reasons import REASON_CODES

PAGES = ("common", "moderate", "insights")
TEMPLATE_DIR = Path(str(TEMPLATES.env.loader.searchpath[0]))  # type: ignore[union-attr]
# Each page's template and scripts.
SOURCES = {
    "moderate": ("moderate.html", sorted(STATIC_DIR.glob("moderate*.js"))),
    "insights": ("insights.html", [STATIC_DIR / "insights.js"]),
}
PLURAL_FORMS = {"zero", "one", "two", "few", "many", "other"}
PLACEHOLDER = re.compile(r"\{(\w+)\}")
# data-i18n="key", data-i18n-aria-label="key", ...
TEMPLATE_KEY = re.compile(r'\bdata-i18n(?:-[a-z-]+)?="([^"]+)"')
# t("key") and i18n.t("key"), not a method of another name ending in t.
SCRIPT_KEY = re.compile(r'(?<![\w$])t\(\s*"([^"]+)"')


def load(page: str, locale: str) -> dict[str, Any]:
    messages: dict[str, Any] = json.loads(
        (LOCALES_DIR / f"{page}.{locale}.json").read_text(encoding="utf-8")
    )
    return messages


def placeholders(message: Any) -> set[str]:
    forms = message.values() if isinstance(message, dict) else [message]
    return {name for form in forms for name in PLACEHOLDER.findall(form)}


@pytest.mark.parametrize("page", PAGES)
def test_every_language_has_the_english_keys_and_placeholders(page: str) -> None:
    english = load(page, "en")
    for locale in PAGE_LOCALES[1:]:
        other = load(page, locale)
        assert sorted(other) == sorted(english), locale
        for key, message in english.items():
            missing = placeholders(message) - placeholders(other[key])
            assert not missing, (locale, key, missing)


@pytest.mark.parametrize("locale", PAGE_LOCALES)
@pytest.mark.parametrize("page", PAGES)
def test_messages_are_strings_or_plural_forms(page: str, locale: str) -> None:
    raw = (LOCALES_DIR / f"{page}.{locale}.json").read_text(encoding="utf-8")
    assert "\\u" not in raw, "write the characters, not escapes"
    for key, message in load(page, locale).items():
        assert re.fullmatch(r"[a-z0-9_]+(\.[a-z0-9_]+)*", key), key
        if isinstance(message, dict):
            assert "other" in message and set(message) <= PLURAL_FORMS, key
            assert all(isinstance(form, str) and form for form in message.values()), key
        else:
            assert isinstance(message, str) and message, key


@pytest.mark.parametrize("page", sorted(SOURCES))
def test_every_key_the_page_asks_for_is_catalogued(page: str) -> None:
    template, scripts = SOURCES[page]
    asked = set(TEMPLATE_KEY.findall((TEMPLATE_DIR / template).read_text(encoding="utf-8")))
    for script in scripts:
        asked |= set(SCRIPT_KEY.findall(script.read_text(encoding="utf-8")))
    for locale, messages in page_catalogues(page).items():
        assert not sorted(asked - set(messages)), locale


def test_the_moderation_page_names_every_reason_code_and_each_language_itself() -> None:
    for locale, messages in page_catalogues("moderate").items():
        assert {f"code.{code}" for code in REASON_CODES} <= set(messages), locale
        assert messages["locale.name"] != "locale.name"
    names = [messages["locale.name"] for messages in page_catalogues("moderate").values()]
    assert len(set(names)) == len(PAGE_LOCALES)
