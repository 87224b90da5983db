"""How the code is laid out, read from the source (nothing is imported): tests share helpers
through tests/support/, never through a test module or a conftest; no module reaches into
another's private names; and the tests mirror the folders of the code they test."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.paths import REPO

SCANNED = ("tests", "service", "workers", "policy", "bench")
# Suites about the whole service rather than one source folder.
CROSS_CUTTING = {"e2e", "faults", "security", "browser", "policy", "deploy"}


@dataclass(frozen=True)
class Source:
    module: str  # dotted, e.g. tests.service.comments.test_routes
    is_package: bool
    text: str

    @classmethod
    def of(cls, path: Path) -> Source:
        parts = list(path.relative_to(REPO).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        module = ".".join(parts[:-1] if is_package else parts)
        return cls(module, is_package, path.read_text(encoding="utf-8"))

    def trees(self) -> Iterator[ast.AST]:
        """The module's syntax tree, and that of each string in it that is a script: what a
        test runs in a fresh interpreter imports as a module does."""
        tree = ast.parse(self.text, self.module)
        yield tree
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and "import" in node.value
            ):
                try:
                    yield ast.parse(node.value)
                except (SyntaxError, ValueError):
                    continue

    def imports(self) -> Iterator[tuple[int, str, str | None, str]]:
        """(line, absolute module, name imported from it or None, local name bound)."""
        package = self.module if self.is_package else self.module.rpartition(".")[0]
        for tree in self.trees():
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    for alias in node.names:
                        bound = alias.asname or alias.name.partition(".")[0]
                        yield node.lineno, alias.name, None, bound
                elif isinstance(node, ast.ImportFrom):
                    module = node.module or ""
                    if node.level:
                        base = package.split(".")[: len(package.split(".")) - node.level + 1]
                        module = ".".join([*base, module] if module else base)
                    for alias in node.names:
                        yield node.lineno, module, alias.name, alias.asname or alias.name


def python_files() -> list[Path]:
    """Every module scanned but this one, whose examples of what is forbidden are scripts."""
    this = Path(__file__).resolve()
    return sorted(
        path for root in SCANNED for path in (REPO / root).rglob("*.py") if path.resolve() != this
    )


def is_module(dotted: str) -> bool:
    """Whether `dotted` names one of our modules or packages (not a name inside one)."""
    path = REPO.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def is_test_or_conftest(dotted: str) -> bool:
    last = dotted.rpartition(".")[2]
    return dotted.startswith("tests.") and (last == "conftest" or last.startswith("test_"))


def imports_of_tests(source: Source) -> list[str]:
    """What `source` imports of a test module or a conftest."""
    found = []
    for line, module, name, _bound in source.imports():
        named = module if name is None else f"{module}.{name}"
        if is_test_or_conftest(module) or is_test_or_conftest(named):
            found.append(f"{source.module}:{line} imports {named}")
    return found


def private_uses(source: Source) -> list[str]:
    """Another module's private names that `source` imports or reads (`module._name`)."""
    found = []
    modules: dict[str, str] = {}  # local name -> the module of ours it is bound to
    for line, module, name, bound in source.imports():
        if name is None:
            if any(is_private(part) for part in module.split(".")):
                found.append(f"{source.module}:{line} imports {module}")
            modules[bound] = module if bound != module.partition(".")[0] else bound
        elif is_private(name):
            found.append(f"{source.module}:{line} imports {name} from {module}")
        elif is_module(f"{module}.{name}"):
            modules[bound] = f"{module}.{name}"
    for tree in source.trees():
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Attribute) and is_private(node.attr)):
                continue
            chain, value = [], node.value
            while isinstance(value, ast.Attribute):
                chain.insert(0, value.attr)
                value = value.value
            if isinstance(value, ast.Name) and value.id in modules:
                owner = ".".join([modules[value.id], *chain])
                if is_module(owner):
                    found.append(f"{source.module}:{node.lineno} reads {owner}.{node.attr}")
    return found


def test_no_test_support_or_conftest_module_imports_a_test_module_or_a_conftest() -> None:
    offenders = [
        offence
        for path in python_files()
        if path.is_relative_to(REPO / "tests")
        for offence in imports_of_tests(Source.of(path))
    ]
    assert offenders == [], "shared helpers belong in tests/support/"


def test_no_module_uses_another_modules_private_name() -> None:
    offenders = [offence for path in python_files() for offence in private_uses(Source.of(path))]
    assert offenders == [], "make the name public where it is an API, or move it"


def test_the_checks_find_what_they_look_for() -> None:
    """A check that finds nothing proves nothing unless it would have found something."""
    imports_tests = Source(
        "tests.service.example",
        False,
        "from tests.e2e import conftest\n"
        "import tests.faults.conftest\n"
        "from tests.service.test_metrics import sample\n"
        "from .conftest import api\n"
        "from tests.support.api import Api\n",
    )
    assert [offence.partition(" ")[2] for offence in imports_of_tests(imports_tests)] == [
        "imports tests.e2e.conftest",
        "imports tests.faults.conftest",
        "imports tests.service.test_metrics.sample",
        "imports tests.service.conftest.api",
    ]
    reaches_in = Source(
        "tests.policy.example",
        False,
        "from policy.language import _NOT_PROSE, detect_language\n"
        "from policy import language\n"
        "import policy.language as lang\n"
        "language._detector()\n"
        "lang._identifiers()\n"
        "detect_language._cache\n"
        "self._private = 1\n"
        # \x5f is "_": a grep of the tree for private imports finds none here.
        "SCRIPT = 'from workers.scoring.detoxify_scorer import \\x5fquantize_int8'\n",
    )
    assert [offence.partition(" ")[2] for offence in private_uses(reaches_in)] == [
        "imports _NOT_PROSE from policy.language",
        "imports _quantize_int8 from workers.scoring.detoxify_scorer",
        "reads policy.language._detector",
        "reads policy.language._identifiers",
    ]


def folders_with_tests() -> list[Path]:
    return sorted({path.parent for path in (REPO / "tests").rglob("test_*.py")})


@pytest.mark.parametrize(
    "folder", folders_with_tests(), ids=lambda folder: str(folder.relative_to(REPO))
)
def test_tests_mirror_the_source_tree(folder: Path) -> None:
    """tests/<path>/ tests the package <path>/ (tests/service/comments/ tests service/comments/);
    the cross-cutting suites and the top level of tests/ test the whole."""
    relative = folder.relative_to(REPO / "tests")
    assert (folder / "__init__.py").is_file(), f"{folder} needs an __init__.py"
    if relative.parts and relative.parts[0] not in CROSS_CUTTING:
        assert (REPO / relative / "__init__.py").is_file(), f"no package {relative} to mirror"
