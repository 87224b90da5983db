"""After an author deletes a comment, a dump of the whole database holds no trace of its text:
not the text of any revision, raw or JSON-escaped, in any table. The comment had been edited,
held, approved by a moderator, reported by a reader quoting it, and announced by webhook events
both delivered and still pending. (Dead tuples, the WAL and backups are out of reach of any
UPDATE: docs/SECURITY.md.)"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.api import Api, api_with_webhooks
from tests.support.databases import BACKENDS
from tests.support.deletion import delete, fully_copied
from tests.support.dumps import dump, spellings

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)

# A quote, an apostrophe and non-ASCII: JSON, SQL literals and COPY each escape it differently.
TEXT = 'Ça "brûle" — l\'appel de Zorblax au 010-1234-5678'
EARLIER = "Brouillon de Zorblax, « première » version"


@pytest.fixture
def api(database_url: str, redis_server: str, tmp_path: Path) -> Iterator[Api]:
    with api_with_webhooks(database_url, redis_server, tmp_path) as client:
        yield client


def traces(text: str) -> list[str]:
    return sorted(
        form for form in spellings(TEXT) | spellings(EARLIER) | {"Zorblax"} if form in text
    )


def test_a_dump_after_deletion_holds_no_trace_of_the_text(api: Api, database_url: str) -> None:
    comment_id = fully_copied(api, text=TEXT, earlier=EARLIER)
    before = dump(database_url)
    # The search finds what is there: the text as stored, and its JSON form in the payloads.
    assert TEXT.replace("'", "''") in before or TEXT in before
    assert "Zorblax" in before and EARLIER.replace("'", "''") in before
    assert any(form in before for form in spellings(TEXT) - {TEXT, TEXT.replace("'", "''")})

    assert delete(api, comment_id).status_code == 204

    after = dump(database_url)
    assert comment_id in after
    assert traces(after) == []
