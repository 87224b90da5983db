"""The moderators' pages served for a browser: the API and page by uvicorn on 127.0.0.1, in a
thread, over a SQLite database the tests seed; and Debian's Chromium to look at them.

Chromium is never downloaded: without /usr/bin/chromium the browser tests skip on a
developer's machine and fail when CI=true.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from service.app import create_app
from service.comments.decisions import AutomatedDecision, record_automated_decisions
from service.db.engine import Database
from service.db.migrate import upgrade_head
from service.db.tables import utcnow
from service.http.tokens import issue_token
from service.settings import Settings
from service.store.comments import create_comment
from tests.support.net import free_port
from tests.support.paths import REPO

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = REPO / "test-artifacts"
SECRET = "browser-secret-that-is-long-enough-for-hs256"
SERVER_START_SECONDS = 20


@dataclass
class Site:
    url: str
    settings: Settings
    db: Database
    made: dict[str, str] = field(default_factory=dict)

    def token(self, sub: str = "mod-1", *, moderator: bool = True) -> str:
        return issue_token(self.settings, sub, moderator=moderator, ttl=600)

    def api(self, path: str, *, sub: str = "mod-1") -> dict[str, Any]:
        response = httpx.get(
            self.url + path, headers={"Authorization": f"Bearer {self.token(sub)}"}, timeout=10
        )
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    def hold(
        self,
        text: str,
        *,
        author: str = "reader-1",
        article: str = "politics-2026-budget",
        reasons: list[dict[str, Any]],
        scores: dict[str, float],
        minutes_ago: float = 0,
        action: str = "hold",
        parent: str | None = None,
    ) -> str:
        with self.db.session() as session:
            comment = create_comment(
                session,
                article_id=article,
                parent_id=parent,
                author_id=author,
                author_name=None,
                text=text,
                idempotency_key=None,
                body_hash=None,
                now=utcnow() - timedelta(minutes=minutes_ago),
            )
            comment_id = comment.id
        (recorded,) = record_automated_decisions(
            self.db,
            decisions=[
                AutomatedDecision(comment_id, action, reasons, scores, context={}, revision=1)
            ],
            policy_version="sha256:browser",
            model="unbiased",
            webhooks=False,
            now=utcnow(),
        )
        assert recorded is not None
        return comment_id


@contextmanager
def serve_site(tmp_path: Path) -> Iterator[Site]:
    """The API and page on a free port, in a thread: no Redis (a filesystem broker), SQLite."""
    url = f"sqlite:///{tmp_path / 'moderation.db'}"
    database = Database(url)
    upgrade_head(database)
    settings = Settings(
        database_url=url,
        redis_url="",
        broker_url="filesystem://",
        jwt_secret=SECRET,  # type: ignore[arg-type]
        var_dir=tmp_path / "var",
        log_json=True,
        log_level="WARNING",
    )
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            ws="none",
            lifespan="on",
        )
    )
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + SERVER_START_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the test server did not start", pytrace=False)
        time.sleep(0.05)
    try:
        yield Site(url=f"http://127.0.0.1:{port}", settings=settings, db=database)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        database.dispose()


@contextmanager
def moderator_page(chromium: Any, site: Site, console_errors: list[str]) -> Iterator[Any]:
    """A Chromium page signed in on the site's /moderate as mod-1, on the Held view, its
    console errors and uncaught exceptions appended to `console_errors`."""
    from playwright.sync_api import expect

    context = chromium.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.on(
        "console",
        lambda message: console_errors.append(message.text) if message.type == "error" else None,
    )
    page.on("pageerror", lambda error: console_errors.append(str(error)))
    page.goto(site.url + "/moderate")
    page.get_by_label("Token").fill(site.token("mod-1"))
    page.get_by_label("Token").press("Enter")
    expect(page.get_by_role("tab", name="Held")).to_be_visible()
    try:
        yield page
    finally:
        context.close()
