"""A whole database as text (SQLite's `.dump`, PostgreSQL's `pg_dump --data-only`), and the
ways such a dump may spell a comment's text: to prove a deletion left none behind."""

from __future__ import annotations

import glob
import json
import shutil
import sqlite3
import subprocess

from sqlalchemy.engine import make_url

from tests.support.ci import unavailable


def spellings(text: str) -> set[str]:
    """The ways a dump may spell `text`: as written, JSON-escaped (ASCII or not), and those
    as a SQL literal (apostrophes doubled) or in COPY's text format (backslashes doubled)."""
    forms = {text, json.dumps(text)[1:-1], json.dumps(text, ensure_ascii=False)[1:-1]}
    return forms | {f.replace("'", "''") for f in forms} | {f.replace("\\", "\\\\") for f in forms}


def dump(database_url: str) -> str:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        with sqlite3.connect(str(url.database)) as connection:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            return "\n".join(connection.iterdump())
    binary = shutil.which("pg_dump") or max(
        glob.glob("/usr/lib/postgresql/*/bin/pg_dump"), default=None
    )
    if binary is None:
        unavailable("pg_dump")
    assert binary is not None
    plain = url.set(drivername="postgresql").render_as_string(hide_password=False)
    result = subprocess.run(
        [binary, "--data-only", "--no-owner", f"--dbname={plain}"],
        capture_output=True,
        check=True,
        text=True,
        encoding="utf-8",
    )
    return result.stdout
