"""The generated OpenAPI document promises what version 0.1.0's hand-written one did.

Both are normalised (tests/support/openapi.py) and compared; every remaining difference must be
listed, with its reason, in tests/data/openapi-0.1.0-differences.json, and every listed one must
still be there. The document itself comes from the route table and the pydantic models alone."""

from __future__ import annotations

import ast
import json
from typing import Any

import pytest
from starlette.routing import Mount, Route

from service.app import ROUTES, api_document
from service.http.openapi import operation_of
from service.version import package_version
from tests.support.openapi import differences, matches, normalize
from tests.support.paths import REPO

DATA = REPO / "tests" / "data"
SNAPSHOT = DATA / "openapi-0.1.0.json"
LISTED = DATA / "openapi-0.1.0-differences.json"


def test_every_difference_from_0_1_0_is_listed_with_a_reason_and_every_listed_one_is_real() -> None:
    found = list(
        differences(normalize(json.loads(SNAPSHOT.read_text())), normalize(api_document()))
    )
    listed = json.loads(LISTED.read_text())

    unlisted = [
        (where, kind)
        for where, kind in found
        if not any(matches(where, entry["where"]) and kind == entry["kind"] for entry in listed)
    ]
    stale = [
        entry["where"]
        for entry in listed
        if not any(
            matches(where, entry["where"]) and kind == entry["kind"] for where, kind in found
        )
    ]
    assert unlisted == [], "differences from 0.1.0 without a reason"
    assert stale == [], "listed differences that are gone"
    assert all(entry["reason"].strip() for entry in listed)


def test_every_route_is_documented_and_every_documented_path_is_routed() -> None:
    document = api_document()
    routed = {
        (route.path, method.lower())
        for route in ROUTES
        if isinstance(route, Route)
        for method in (route.methods or set()) - {"HEAD"}
    }
    documented = {(path, method) for path, item in document["paths"].items() for method in item}
    assert routed == documented
    assert all(operation_of(route.endpoint) for route in ROUTES if isinstance(route, Route))
    assert [route.path for route in ROUTES if isinstance(route, Mount)] == ["/static"]


def test_the_version_is_the_packages() -> None:
    assert api_document()["info"]["version"] == package_version() != "0+unknown"


def test_the_document_holds_no_dangling_reference() -> None:
    document = api_document()
    names = set(document["components"]["schemas"])

    def refs(node: Any) -> list[str]:
        if isinstance(node, dict):
            own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
            return own + [ref for value in node.values() for ref in refs(value)]
        if isinstance(node, list):
            return [ref for item in node for ref in refs(item)]
        return []

    for ref in refs(document):
        assert ref.rpartition("/")[2] in names, ref


def test_no_hand_written_schema_literals_remain() -> None:
    """No dict literal in service/ spells out an object schema or a component reference."""
    literals = []
    for path in (REPO / "service").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Dict):
                continue
            keys = {key.value for key in node.keys if isinstance(key, ast.Constant)}
            refs = [
                value.value
                for key, value in zip(node.keys, node.values, strict=True)
                if isinstance(key, ast.Constant) and key.value == "$ref"
                if isinstance(value, ast.Constant)
            ]
            if "properties" in keys or refs:
                literals.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert literals == []


@pytest.mark.parametrize("limit", ["ARTICLE_ID_PATTERN", "COMMENT_ID_MAX"])
def test_a_limit_is_one_constant_the_model_and_the_document_share(limit: str) -> None:
    from service.comments import schemas

    value = getattr(schemas, limit)
    body = api_document()["components"]["schemas"]["NewComment"]["properties"]
    assert value in (body["article_id"].get("pattern"), body["parent_id"].get("maxLength"))
