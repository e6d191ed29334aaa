"""docs/architecture.md stays the map: every path it names exists, and every module of
search/, trainables/ and benchmarks/ is named in it (a module added, moved or renamed without
the map fails here)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
DOC = PROJECT / "docs" / "architecture.md"
PACKAGES = ("basin", "search", "trainables", "benchmarks")

# A path in backticks: `search/lifecycle/run.py`, `benchmarks/replay/` (a template such as
# `search/stopping/<rule>.py` names no file).
NAMED_PATH = re.compile(r"`((?:basin|search|trainables|benchmarks|tests|docs|sweeps)/[^`\s<>]*)`")


def named_paths(text: str) -> list[str]:
    """Every project path the text names in backticks."""
    return NAMED_PATH.findall(text)


def unnamed_modules(text: str) -> list[str]:
    """The modules of the packages whose name (a package: its folder's) the text never says."""
    words = set(re.findall(r"\w+", text))
    missing = []
    for package in PACKAGES:
        for path in sorted((PROJECT / package).rglob("*.py")):
            name = path.parent.name if path.stem == "__init__" else path.stem
            if name not in words:
                missing.append(str(path.relative_to(PROJECT)))
    return missing


def test_every_path_the_map_names_exists() -> None:
    paths = named_paths(DOC.read_text())
    assert len(paths) > 20  # the map names its files (a parser that finds none checks nothing)
    missing = [path for path in paths if not (PROJECT / path).exists()]
    assert not missing, f"docs/architecture.md names paths that do not exist: {missing}"


def test_every_module_is_on_the_map() -> None:
    missing = unnamed_modules(DOC.read_text())
    assert not missing, f"modules docs/architecture.md does not name: {missing}"


def test_the_checks_see_a_stale_map() -> None:
    assert named_paths("see `search/nowhere.py` and `search/stopping/<rule>.py`") == [
        "search/nowhere.py"]
    assert "search/lifecycle/resume.py" in unnamed_modules("lifecycle confirm")


def test_every_package_says_what_it_is_for() -> None:
    """Each package's ``__init__`` opens with a docstring: what it is for, what it offers."""
    silent = [str(path.relative_to(PROJECT)) for package in PACKAGES
              for path in (PROJECT / package).rglob("__init__.py")
              if not ast.get_docstring(ast.parse(path.read_text()))]
    assert not silent, f"packages without a docstring: {silent}"


# A project file named in code: ``search/tune/freezing.py``, benchmarks/replay/.
NAMED_IN_CODE = re.compile(r"\b((?:search|trainables|benchmarks)/[\w/.-]*\w/?)")
# A results section cited by number ("RESULTS.md section 6", "RESULTS.md 9b"): numbers move.
SECTION_NUMBER = re.compile(r"RESULTS\.md,?\s+(?:section\s+)?\d")


def stale_references(text: str) -> list[str]:
    """Project paths ``text`` names that do not exist, and results sections cited by number."""
    stale = [f"no such path: {path}" for path in NAMED_IN_CODE.findall(text)
             if not (PROJECT / path).exists()]
    return stale + [f"a section by number: {m.group(0)!r}"
                    for m in SECTION_NUMBER.finditer(" ".join(text.split()))]


def test_the_product_names_files_that_exist_and_sections_by_title() -> None:
    stale = [f"{path.relative_to(PROJECT)}: {line}" for package in ("search", "trainables")
             for path in (PROJECT / package).rglob("*.py")
             for line in stale_references(path.read_text())]
    assert not stale, stale
    assert stale_references("see benchmarks/replay.py (RESULTS.md section\n 6)") == [
        "no such path: benchmarks/replay.py", "a section by number: 'RESULTS.md section 6'"]
