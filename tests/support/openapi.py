"""Two OpenAPI documents compared for what they promise, not how they are written.

Normalising: `$ref`s are resolved; titles, descriptions and examples are dropped;
`anyOf`/`oneOf` of X and null is `type: [X, "null"]`; and spellings that mean the same are
made one: `additionalProperties: true` (JSON Schema's default) is dropped, and so is a `type`
beside an `enum` or `const` whose values all have that type; an operation's parameters are keyed by
where they go and their name, in no order.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator
from typing import Any

_DROP = frozenset({"title", "description", "examples", "example"})
_JSON_TYPES: dict[str, type] = {"string": str, "boolean": bool}


def normalize(document: dict[str, Any]) -> dict[str, Any]:
    return {
        "info": _normal(document["info"]),
        "paths": _normal(_resolve(document["paths"], document, ())),
    }


def differences(old: Any, new: Any, at: str = "") -> Iterator[tuple[str, str]]:
    """(JSON pointer, added|removed|changed) for each place the two differ."""
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new), key=str):
            pointer = f"{at}/{str(key).replace('~', '~0').replace('/', '~1')}"
            if key not in old:
                yield pointer, "added"
            elif key not in new:
                yield pointer, "removed"
            else:
                yield from differences(old[key], new[key], pointer)
    elif old != new:
        yield at, "changed"


def matches(pointer: str, pattern: str) -> bool:
    """`*` stands for any characters within one segment of the pointer."""
    parts, wanted = pointer.split("/"), pattern.split("/")
    return len(parts) == len(wanted) and all(
        fnmatch.fnmatchcase(part, want) for part, want in zip(parts, wanted, strict=True)
    )


def _resolve(node: Any, root: dict[str, Any], seen: tuple[str, ...]) -> Any:
    if isinstance(node, dict):
        if "$ref" in node:
            name = node["$ref"].rpartition("/")[2]
            if name in seen:
                return {"$recursive": name}
            target = _resolve(root["components"]["schemas"][name], root, (*seen, name))
            rest = {key: value for key, value in node.items() if key != "$ref"}
            return {**target, **_resolve(rest, root, seen)}
        return {key: _resolve(value, root, seen) for key, value in node.items()}
    if isinstance(node, list):
        return [_resolve(item, root, seen) for item in node]
    return node


def _normal(node: Any) -> Any:
    if isinstance(node, list):
        return [_normal(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {
        key: _normal(value)
        for key, value in node.items()
        if not (key in _DROP and (isinstance(value, str) or key in ("examples", "example")))
    }
    for key in ("anyOf", "oneOf"):
        choices = node.get(key)
        if isinstance(choices, list) and len(choices) == 2 and {"type": "null"} in choices:
            other = next(choice for choice in choices if choice != {"type": "null"})
            rest = {name: value for name, value in node.items() if name != key}
            kind = other.get("type")
            node = {**other, **rest, "type": [kind, "null"] if isinstance(kind, str) else kind}
    if isinstance(node.get("type"), list):
        node["type"] = sorted(node["type"])
    if node.get("additionalProperties") is True:
        del node["additionalProperties"]
    values = node.get("enum", [node["const"]] if "const" in node else None)
    if (
        values
        and node.get("type") in _JSON_TYPES
        and all(type(value) is _JSON_TYPES[node["type"]] for value in values)
    ):
        del node["type"]
    if isinstance(node.get("parameters"), list):
        # A parameter is named by where it goes and its name; the list's order means nothing.
        node["parameters"] = {f"{p['in']}:{p['name']}": p for p in node["parameters"]}
    if isinstance(node.get("required"), list):
        node["required"] = sorted(node["required"])
    return node
