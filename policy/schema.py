"""Reading YAML nodes with their line numbers, so every mistake points at the line to fix.

The file is composed into nodes rather than loaded into dicts: nodes keep their position,
and a duplicated key (which `yaml.safe_load` silently lets the last one win) can be caught.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Mapping

import regex
import yaml
from yaml.constructor import SafeConstructor

from policy.errors import PolicyError
from policy.language import LANGUAGE_CODES

# Ids of rules and names of models: lower case, digits, `-`, `_` and `.`.
ID_SHAPE = regex.compile(r"[a-z0-9][a-z0-9_.-]*")


def child(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


class NodeReader:
    def __init__(self, source: str) -> None:
        self.source = source
        self._constructor = SafeConstructor()

    def compose(self, raw: bytes) -> yaml.Node | None:
        try:
            return yaml.compose(raw, Loader=yaml.SafeLoader)
        except yaml.MarkedYAMLError as exc:
            line = None if exc.problem_mark is None else exc.problem_mark.line + 1
            problem = f"not valid YAML: {exc.problem or exc.context}"
            raise PolicyError(problem, source=self.source, line=line) from exc
        except yaml.YAMLError as exc:
            raise PolicyError(f"not valid YAML: {exc}", source=self.source) from exc

    def error(self, node: yaml.Node, path: str, problem: str) -> PolicyError:
        return PolicyError(problem, source=self.source, line=line_of(node), key_path=path or None)

    def mapping(
        self, node: yaml.Node, path: str, allowed: Collection[str] | None
    ) -> dict[str, yaml.Node]:
        """Keys to value nodes. `allowed=None` accepts any key (the caller checks them)."""
        if _is_null(node):
            return {}
        if not isinstance(node, yaml.MappingNode):
            raise self.error(node, path, "must be a set of `key: value` settings")
        values: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise self.error(key_node, path, "keys must be plain names")
            key = str(key_node.value)
            if allowed is not None and key not in allowed:
                raise self.error(key_node, child(path, key), _unknown_key(key, allowed))
            if key in values:
                raise self.error(key_node, child(path, key), "appears twice; keep one")
            values[key] = value_node
        return values

    def keys(self, node: yaml.Node | None) -> dict[str, yaml.Node]:
        """The key nodes of a mapping `mapping()` has read, by key: where to point at a key."""
        if not isinstance(node, yaml.MappingNode):
            return {}
        return {str(key.value): key for key, _ in node.value}

    def sequence(self, node: yaml.Node, path: str) -> list[yaml.Node]:
        if _is_null(node):
            return []
        if not isinstance(node, yaml.SequenceNode):
            raise self.error(node, path, "must be a list (one `- item` a line, or [a, b])")
        return list(node.value)

    def scalar(self, node: yaml.Node, path: str) -> object:
        if not isinstance(node, yaml.ScalarNode):
            raise self.error(node, path, "must be a single value, not a list or a mapping")
        try:
            return self._constructor.construct_object(node)
        except yaml.constructor.ConstructorError as exc:
            # A tag the safe loader refuses (`!!python/...`): constructs nothing, says so.
            raise self.error(node, path, f"has a tag this file can't use ({node.tag})") from exc

    def boolean(self, node: yaml.Node, path: str) -> bool:
        value = self.scalar(node, path)
        if not isinstance(value, bool):
            raise self.error(node, path, f"must be true or false, got {_shown(node)}")
        return value

    def integer(
        self, node: yaml.Node, path: str, *, minimum: int, maximum: int | None = None
    ) -> int:
        value = self.scalar(node, path)
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or value < minimum
            or (maximum is not None and value > maximum)
        ):
            allowed = f"from {minimum}" if maximum is None else f"from {minimum} to {maximum}"
            raise self.error(node, path, f"must be a whole number {allowed}, got {_shown(node)}")
        return value

    def fraction(self, node: yaml.Node, path: str) -> float:
        value = self.scalar(node, path)
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise self.error(node, path, f"must be a number from 0 to 1, got {_shown(node)}")
        return float(value)

    def text(self, node: yaml.Node, path: str) -> str:
        """The value as written. Read raw, so `no` (Norwegian) stays text rather than false."""
        self.scalar(node, path)
        if _is_null(node) or not str(node.value).strip():
            raise self.error(node, path, "must not be empty")
        return str(node.value).strip()

    def texts(self, node: yaml.Node, path: str) -> list[tuple[str, yaml.Node]]:
        return [
            (self.text(item, f"{path}[{index}]"), item)
            for index, item in enumerate(self.sequence(node, path))
        ]

    def choices(self, node: yaml.Node, path: str, allowed: tuple[str, ...]) -> list[str]:
        """A list of distinct values, each one of `allowed`."""
        chosen: list[str] = []
        for index, (value, item) in enumerate(self.texts(node, path)):
            if value not in allowed:
                raise self.error(
                    item, f"{path}[{index}]", f"{value!r} is not one of: {', '.join(allowed)}"
                )
            if value in chosen:
                raise self.error(item, f"{path}[{index}]", f"{value!r} is listed twice")
            chosen.append(value)
        return chosen

    def language_code(self, node: yaml.Node, path: str) -> str:
        code = self.text(node, path)
        if code not in LANGUAGE_CODES:
            raise self.error(
                node, path, f"{code!r} is not a language code like 'en' or 'ko' (ISO 639-1)"
            )
        return code

    def section(
        self, node: yaml.Node | None, name: str, keys: tuple[str, ...]
    ) -> dict[str, yaml.Node]:
        """A section's settings; every section also takes `enabled`."""
        return {} if node is None else self.mapping(node, name, (*keys, "enabled"))

    def enabled(self, values: Mapping[str, yaml.Node], name: str) -> bool:
        node = values.get("enabled")
        return True if node is None else self.boolean(node, child(name, "enabled"))


def line_of(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


def _is_null(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null"


def _shown(node: yaml.Node) -> str:
    return repr(node.value)


def _unknown_key(key: str, allowed: Collection[str]) -> str:
    close = difflib.get_close_matches(key, list(allowed), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown key {key!r}{hint}; expected one of: {', '.join(allowed)}"
