"""The OpenAPI document clients generate code from: byte for byte what version 0.1.0 served."""

from __future__ import annotations

from pathlib import Path

from starlette.responses import JSONResponse

from service.openapi import openapi_document

SNAPSHOT = Path(__file__).parent / "data" / "openapi-0.1.0.json"


def test_the_document_is_byte_for_byte_the_published_one() -> None:
    assert JSONResponse(openapi_document()).body == SNAPSHOT.read_bytes()
