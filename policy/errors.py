"""The one exception the policy package raises."""

from __future__ import annotations


class PolicyError(Exception):
    """The policy file can't be used. The message names the file, the line and the key.

    `source`, `line` (1-based, None when the problem is the file as a whole), `key_path`
    (`terms.lists[0].severity`, None for the whole file) and `problem` are kept apart for
    callers that render them differently from the one-line message.
    """

    def __init__(
        self, problem: str, *, source: str, line: int | None = None, key_path: str | None = None
    ) -> None:
        self.problem = problem
        self.source = source
        self.line = line
        self.key_path = key_path
        where = source if line is None else f"{source}, line {line}"
        super().__init__(f"{where}: {key_path}: {problem}" if key_path else f"{where}: {problem}")
