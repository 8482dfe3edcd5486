"""DESIGN's layering and the error tree, checked on the source (AST) rather than trusted:

- ``ingest`` and ``vectorstore`` never import each other or ``advisor``; ``prompts`` and
  ``textrules`` (the shared script ranges and numerals) import none of the project's
  packages; only ``app.py`` and ``pages/`` import streamlit;
- no module imports another top-level package's private name (``from x import _y``);
- ``bench/`` and ``scripts/`` import nothing from ``tests`` (what they share with the tests is
  in ``devkit``), and the product never imports ``devkit``;
- every exception class the product defines is in ``advisor/errors.py`` or under the root of
  a package that may not import ``advisor`` (``IngestError``, ``StoreError``, ``PromptError``),
  each such root is translated to an ``AdvisorError`` at the service boundary, and nothing
  derives from ``KeyError``.
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from advisor.errors import AdvisorError, boundary, translate

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("advisor", "ingest", "vectorstore", "prompts", "textrules", "pages", "devkit")
#: package -> the top-level packages it must not import
FORBIDDEN = {
    "ingest": {"vectorstore", "advisor", "pages", "streamlit", "devkit", "tests"},
    "vectorstore": {"ingest", "advisor", "pages", "streamlit", "devkit", "tests"},
    "prompts": {"ingest", "vectorstore", "advisor", "pages", "streamlit", "devkit", "tests"},
    "textrules": {
        "ingest",
        "vectorstore",
        "advisor",
        "prompts",
        "pages",
        "streamlit",
        "devkit",
        "tests",
    },
    "advisor": {"pages", "streamlit", "devkit", "tests"},
    "pages": {"devkit", "tests"},
    "devkit": {"tests", "pages"},
}
LIBRARY_ROOTS = {"ingest": "IngestError", "vectorstore": "StoreError", "prompts": "PromptError"}


def modules(*folders: str) -> Iterator[tuple[str, Path, ast.Module]]:
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if "__pycache__" not in path.parts and path.name != "__main__.py":
                yield folder, path, ast.parse(path.read_text(encoding="utf-8"), str(path))


def imports(tree: ast.Module) -> Iterator[tuple[str, list[str], int]]:
    """(module, names, line) of every import, at any depth (lazy imports count)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, [], node.lineno
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.module, [a.name for a in node.names], node.lineno


def test_packages_import_only_what_design_allows() -> None:
    broken = []
    for package, path, tree in modules(*FORBIDDEN):
        for module, _, line in imports(tree):
            if module.split(".")[0] in FORBIDDEN[package]:
                broken.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    assert broken == []


def test_no_private_name_is_imported_across_packages() -> None:
    broken = []
    for package, path, tree in modules(*PACKAGES, "bench", "scripts"):
        for module, names, line in imports(tree):
            top = module.split(".")[0]
            if top in PACKAGES and top != package:
                private = [n for n in names if n.startswith("_") and not n.startswith("__")]
                if private:
                    broken.append(f"{path.relative_to(ROOT)}:{line} {module}.{private}")
    assert broken == []


def test_bench_and_scripts_import_nothing_from_tests() -> None:
    broken = []
    for _, path, tree in modules("bench", "scripts"):
        for module, _, line in imports(tree):
            if module.split(".")[0] == "tests":
                broken.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    assert broken == []


def exception_classes() -> Iterator[tuple[str, type[BaseException]]]:
    """Every exception class defined in the packages, imported for real."""
    for package, path, tree in modules(*PACKAGES):
        if package == "pages":
            continue  # Streamlit scripts run on import
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        module = importlib.import_module(name)
        for node in tree.body:
            if isinstance(node, ast.ClassDef):
                cls = getattr(module, node.name)
                if isinstance(cls, type) and issubclass(cls, BaseException):
                    yield f"{name}.{node.name}", cls


def test_every_exception_belongs_to_the_documented_tree() -> None:
    found = dict(exception_classes())
    assert len(found) >= 20, sorted(found)
    roots = {
        package: importlib.import_module(
            {"ingest": "ingest.errors", "vectorstore": "vectorstore.store"}.get(package, package)
        ).__dict__[root]
        for package, root in LIBRARY_ROOTS.items()
    }
    for name, cls in found.items():
        assert not issubclass(cls, KeyError), f"{name} derives from KeyError"
        package = name.split(".")[0]
        if package == "advisor":
            assert name.startswith("advisor.errors."), name
            assert issubclass(cls, AdvisorError), name
        elif package in roots:
            assert issubclass(cls, roots[package]), f"{name} is outside {LIBRARY_ROOTS[package]}"


@pytest.mark.parametrize(
    ("make", "kind"),
    [
        ("ingest.errors:CorruptFileError", "InputFileError"),
        ("vectorstore.store:DocumentNotFoundError", "KnowledgeBaseError"),
        ("vectorstore.store:StoreError", "KnowledgeBaseError"),
        ("prompts:PromptNotFoundError", "PromptError"),
    ],
)
def test_library_errors_become_advisor_errors_at_the_boundary(make: str, kind: str) -> None:
    module, name = make.split(":")
    error = getattr(importlib.import_module(module), name)("plan.pdf: the file is damaged")
    with pytest.raises(AdvisorError) as caught, boundary():
        raise error
    assert type(caught.value).__name__ == kind
    assert "plan.pdf" in str(caught.value) and caught.value.__cause__ is error
    assert translate(error).__class__ is type(caught.value)


def test_a_bug_is_not_dressed_up_as_a_user_error() -> None:
    assert translate(ValueError("x")) is None
    with pytest.raises(ValueError), boundary():
        raise ValueError("a bug")


def test_the_han_range_is_defined_once() -> None:
    """The Han range had five definitions with different ranges; now textrules holds it."""
    import re

    pattern = re.compile(r"\\u4e00")  # the escape as written in a range, not the character
    holders = [
        str(path.relative_to(ROOT))
        for folder in ("advisor", "ingest", "vectorstore", "pages")
        for path in (ROOT / folder).rglob("*.py")
        if pattern.search(path.read_text(encoding="utf-8"))
    ]
    assert holders == []


def test_the_cli_handles_the_whole_tree_in_one_place(
    settings, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A library error that escaped the service is still one line and an exit code; a bug
    keeps its traceback."""
    from advisor.cli import main
    from advisor.service import AdvisorService
    from vectorstore.store import StoreError

    service = AdvisorService(settings)

    def unreachable(kb: str | None = None) -> list[object]:
        raise StoreError("the Chroma server at http://127.0.0.1:1 is unreachable")

    monkeypatch.setattr(service, "list_documents", unreachable)
    assert main(["kb", "docs"], service=service) == 1
    assert capsys.readouterr().err.strip() == (
        "error: the Chroma server at http://127.0.0.1:1 is unreachable"
    )

    def bug(kb: str | None = None) -> list[object]:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(service, "list_documents", bug)
    with pytest.raises(ZeroDivisionError):
        main(["kb", "docs"], service=service)
