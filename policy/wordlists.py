"""Reading the `terms` section: lists shipped with the service, the editor's own list files,
or words written in the policy file itself.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path

import regex
import yaml

from policy.authors import ALWAYS_HOLD, AUTO_TRUST, NEW_COMMENTER, RECENT_REJECTIONS
from policy.errors import PolicyError
from policy.schema import ID_SHAPE, NodeReader, child
from policy.sections import (
    DEFAULT_TERM_LISTS,
    PERSONAL_INFO_KINDS,
    TOXICITY_LABELS,
    TermsSettings,
)
from policy.termlists import (
    SEVERITIES,
    Severity,
    TermList,
    build_term_list,
    compile_pattern,
    entry_problem,
)

# A list's id names it in reasons, next to the fixed rule ids, so it can't be one of them.
FIXED_RULE_IDS = frozenset(
    {"links", "repeat", "flood", "language", "article.premoderated"}
    | {ALWAYS_HOLD, NEW_COMMENTER, RECENT_REJECTIONS, AUTO_TRUST}
    | {f"toxicity.{label}" for label in TOXICITY_LABELS}
    | {f"personal_info.{kind}" for kind in PERSONAL_INFO_KINDS}
)
_BUILTIN_LISTS = importlib.resources.files("policy") / "terms"


class TermsReader:
    def __init__(self, reader: NodeReader, base_dir: Path) -> None:
        self.reader = reader
        self.base_dir = base_dir
        # Every list file read, in order, for the policy version: they decide as much as the
        # policy file does.
        self.list_files: list[tuple[str, bytes]] = []
        # The editor's own (`file:`) lists, which whatever reloads the policy should watch.
        self.files: list[Path] = []

    def read(self, node: yaml.Node | None) -> TermsSettings:
        values = self.reader.section(node, "terms", ("lists",))
        if "lists" not in values:
            lists = tuple(self._builtin_list(*default) for default in DEFAULT_TERM_LISTS)
            return TermsSettings(enabled=self.reader.enabled(values, "terms"), lists=lists)
        lists_node = values["lists"]
        built: list[TermList] = []
        for index, item in enumerate(self.reader.sequence(lists_node, "terms.lists")):
            term_list = self._term_list(item, f"terms.lists[{index}]")
            if any(other.id == term_list.id for other in built):
                raise self.reader.error(
                    item, f"terms.lists[{index}].id", f"{term_list.id!r} is used by another list"
                )
            built.append(term_list)
        return TermsSettings(enabled=self.reader.enabled(values, "terms"), lists=tuple(built))

    def _term_list(self, node: yaml.Node, path: str) -> TermList:
        keys = ("id", "language", "severity", "builtin", "file", "words", "patterns", "exceptions")
        values = self.reader.mapping(node, path, keys)
        for required in ("id", "language", "severity"):
            if required not in values:
                raise self.reader.error(node, path, f"needs {required!r}")
        list_id = self.reader.text(values["id"], child(path, "id"))
        if not ID_SHAPE.fullmatch(list_id) or list_id in FIXED_RULE_IDS:
            raise self.reader.error(
                values["id"],
                child(path, "id"),
                f"{list_id!r} can't be a list id: use lower-case letters, digits, '-', '_' or "
                "'.', and not the id of another rule",
            )
        language = self.reader.language_code(values["language"], child(path, "language"))
        severity = self._severity(values["severity"], child(path, "severity"))
        sources = [key for key in ("builtin", "file", "words") if key in values]
        if len(sources) > 1 or not (sources or "patterns" in values):
            raise self.reader.error(
                node, path, "needs exactly one of 'builtin', 'file' or 'words' (or only 'patterns')"
            )
        entries: list[str] = []
        exceptions: list[str] = []
        if "builtin" in values:
            entries, exceptions = self._builtin_entries(values["builtin"], child(path, "builtin"))
        elif "file" in values:
            entries, exceptions = self._file_entries(values["file"], child(path, "file"))
        elif "words" in values:
            entries = self._words(values["words"], child(path, "words"))
        if "exceptions" in values:
            exceptions += self._words(
                values["exceptions"], child(path, "exceptions"), exception=True
            )
        patterns = [
            self._pattern(item, pattern, f"{child(path, 'patterns')}[{index}]")
            for index, (pattern, item) in enumerate(
                self.reader.texts(values["patterns"], child(path, "patterns"))
                if "patterns" in values
                else []
            )
        ]
        return build_term_list(
            id=list_id,
            language=language,
            severity=severity,
            entries=tuple(dict.fromkeys(entries)),
            patterns=tuple(patterns),
            exceptions=tuple(exceptions),
        )

    def _severity(self, node: yaml.Node, path: str) -> Severity:
        value = self.reader.text(node, path)
        for severity in SEVERITIES:
            if value == severity:
                return severity
        raise self.reader.error(
            node, path, f"must be one of {', '.join(SEVERITIES)}, got {value!r}"
        )

    def _words(self, node: yaml.Node, path: str, *, exception: bool = False) -> list[str]:
        words = []
        for index, (word, item) in enumerate(self.reader.texts(node, path)):
            problem = entry_problem(word, exception=exception)
            if problem:
                raise self.reader.error(item, f"{path}[{index}]", problem)
            words.append(word)
        return words

    def _pattern(self, node: yaml.Node, pattern: str, path: str) -> str:
        try:
            compile_pattern(pattern)
        except regex.error as exc:
            raise self.reader.error(node, path, f"invalid pattern: {exc}") from exc
        return pattern

    def _builtin_entries(self, node: yaml.Node, path: str) -> tuple[list[str], list[str]]:
        name = self.reader.text(node, path)
        available = sorted(
            entry.name.removesuffix(".txt")
            for entry in _BUILTIN_LISTS.iterdir()
            if entry.name.endswith(".txt")
        )
        if name not in available:
            raise self.reader.error(
                node, path, f"no shipped list {name!r}; shipped lists: {', '.join(available)}"
            )
        return self._read_builtin(name)

    def _read_builtin(self, name: str) -> tuple[list[str], list[str]]:
        file = _BUILTIN_LISTS / f"{name}.txt"
        return self._read_entries(f"builtin:{name}", file.read_bytes(), source=str(file))

    def _builtin_list(self, name: str, language: str, severity: Severity) -> TermList:
        entries, exceptions = self._read_builtin(name)
        return build_term_list(
            id=name,
            language=language,
            severity=severity,
            entries=tuple(dict.fromkeys(entries)),
            exceptions=tuple(exceptions),
        )

    def _file_entries(self, node: yaml.Node, path: str) -> tuple[list[str], list[str]]:
        relative = self.reader.text(node, path)
        file_path = self.base_dir / relative
        try:
            content = file_path.read_bytes()
        except OSError as exc:
            raise self.reader.error(
                node, path, f"can't read {str(file_path)!r} ({exc.strerror})"
            ) from exc
        self.files.append(file_path)
        return self._read_entries(f"file:{relative}", content, source=str(file_path))

    def _read_entries(
        self, name: str, content: bytes, *, source: str
    ) -> tuple[list[str], list[str]]:
        """Entries and `!exceptions` of a term-list file: one a line, `#` starts a comment."""
        self.list_files.append((name, content))
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise PolicyError("term lists must be UTF-8 text", source=source) from exc
        entries: list[str] = []
        exceptions: list[str] = []
        for number, line in enumerate(text.splitlines(), start=1):
            word = line.split("#", 1)[0].strip()
            if not word:
                continue
            target = exceptions if word.startswith("!") else entries
            word = word.removeprefix("!").strip()
            problem = entry_problem(word, exception=target is exceptions)
            if problem:
                raise PolicyError(problem, source=source, line=number)
            target.append(word)
        return entries, exceptions
