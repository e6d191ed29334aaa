"""The layering of the code (docs/architecture.md): every import, the function-level and
``TYPE_CHECKING`` ones included, goes downward, and no module imports itself back through
others. The benchmarks are held to the same rules as the product: they are its top layer
(nothing imports them but their own tests), their files and functions stay small, and no
module takes a private name from another."""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
PACKAGES = ("basin", "benchmarks", "search", "trainables")

# Top to bottom. A module may import modules of its own package and of any layer below its
# own; packages that share a layer are independent of each other.
LAYERS: list[tuple[str, ...]] = [
    ("benchmarks",),  # the lab: it measures the product and the product never needs it
    ("basin",),  # the Python API's public names (search.api holds the code)
    ("search.cli",),
    ("search.api",),  # Python calls; the commands use them where they print nothing else
    ("search.lifecycle",),
    ("search.tune",),
    ("search.report",),
    ("search.store",),
    ("search.spec",),
    ("search.selection", "search.trackers"),
    ("search.stopping", "search.sampling"),
    ("search.core",),
    # The trial side: it never imports the driver side (every layer of search is above it).
    ("trainables.trial",),
    ("trainables.check",),
    ("trainables.recipe",),
    ("trainables.tasks",),
    ("trainables.models",),
    ("trainables.warm",),
    ("trainables.data_files", "trainables.evaluation", "trainables.fingerprint"),
    ("trainables.contract", "trainables.settings"),
]


def project_modules() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in (PROJECT / package).rglob("*.py"):
            modules[module_of(path)] = path
    return modules


# A module named in a string: an import done later (``importlib.import_module``, or a task
# declaration's "package.module:name" that the registry imports on demand). "basin" alone is
# the product's name in many strings (a logger, a cache folder), not an import.
NAMED_MODULE = re.compile(r"^((?:basin(?=[.:])|benchmarks|search|trainables)(?:\.\w+)*)(?::\w+)?$")


def module_of(path: Path) -> str:
    parts = path.relative_to(PROJECT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, modules: dict[str, Path]) -> set[str]:
    """Every project module the module at ``path`` imports (``imports_in``)."""
    inside = path.is_relative_to(PROJECT)
    package = module_of(path).split(".") if inside else []
    if path.name != "__init__.py":
        package = package[:-1]
    return imports_in(path.read_text(), ".".join(package), modules)


def imports_in(source: str, package: str, modules: dict[str, Path]) -> set[str]:
    """Every project module ``source`` (a module of ``package``) imports, wherever the import
    statement stands: absolute and relative imports, and modules named in strings (imported
    later by name)."""
    found = set()
    parts = package.split(".") if package else []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # from . import x, from ..y import z: relative to the package
                base = ".".join(parts[:len(parts) - node.level + 1] + ([base] if base else []))
            names = [base] + [f"{base}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and \
                (named := NAMED_MODULE.match(node.value)):
            names = [named.group(1)]
        else:
            continue
        found |= {name for name in names if name in modules}
    return found


def test_imports_in_every_form_are_seen() -> None:
    source = ("from . import uris\nfrom ..core import errors as again\nimport importlib\n"
              "importlib.import_module('trainables.contract')\n"
              "WHERE = 'trainables.tasks.base:Task'\nTEXT = 'trainables.contract, and more'\n")
    assert imports_in(source, "search.core", project_modules()) == {
        "search.core", "search.core.uris", "search.core.errors", "trainables.contract",
        "trainables.tasks.base"}


def layer_of(module: str) -> tuple[int, str]:
    """(layer index, the layer package the module belongs to)."""
    best = None
    for index, packages in enumerate(LAYERS):
        for package in packages:
            if module == package or module.startswith(package + "."):
                if best is None or len(package) > len(best[1]):
                    best = (index, package)
    assert best is not None, f"{module} is in no layer: add its package to LAYERS"
    return best


def test_every_module_is_in_a_layer() -> None:
    for module in project_modules():
        if module not in PACKAGES:
            layer_of(module)


def test_imports_go_downward() -> None:
    modules = project_modules()
    wrong = []
    for module, path in modules.items():
        if module in PACKAGES:
            continue
        index, package = layer_of(module)
        for imported in imports_of(path, modules):
            if imported in PACKAGES:
                continue
            other_index, other_package = layer_of(imported)
            if other_package == package:
                continue
            if other_index < index or (other_index == index and other_package != package):
                wrong.append(f"{module} ({package}) imports {imported} ({other_package})")
    assert not wrong, "imports against the layering:\n" + "\n".join(sorted(wrong))


def test_trainables_never_import_search() -> None:
    modules = project_modules()
    wrong = [f"{module} imports {imported}" for module, path in modules.items()
             if module.startswith("trainables")
             for imported in imports_of(path, modules) if imported.startswith("search")]
    assert not wrong, wrong


def test_no_import_cycle() -> None:
    modules = project_modules()
    graph = defaultdict(set)
    for module, path in modules.items():
        graph[module] = {m for m in imports_of(path, modules) if m != module}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in sorted(modules):
        if module not in index:
            visit(module)
    assert not cycles, f"import cycles: {cycles}"


def test_the_checks_catch_what_they_are_for(tmp_path: Path) -> None:
    """A function-level import that goes upward is found (the layering's own check)."""
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from search.cli.main import main\n")
    assert imports_of(module, project_modules()) == {"search.cli.main"}
    assert layer_of("search.cli.main")[0] < layer_of("search.core.outcome")[0]


MAX_FILE_LINES, MAX_FUNCTION_LINES = 300, 60


def test_files_and_functions_stay_small() -> None:
    """No module over 300 lines, no function over 60 (its def line to its last, docstring
    included): the size at which a module or a function starts doing two jobs."""
    too_long = []
    for module, path in project_modules().items():
        text = path.read_text()
        if len(text.splitlines()) > MAX_FILE_LINES:
            too_long.append(f"{path.relative_to(PROJECT)}: {len(text.splitlines())} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    too_long.append(f"{module}.{node.name}: {length} lines")
    assert not too_long, too_long


def private_imports_in(source: str, module: str) -> list[str]:
    """Every ``from other import _name`` in ``source`` (the module ``module``): a private name
    taken from another project module."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level and \
                node.module.split(".")[0] in PACKAGES and node.module != module:
            found += [f"{module} imports {node.module}.{alias.name}" for alias in node.names
                      if alias.name.startswith("_") and not alias.name.startswith("__")]
    return found


def test_no_module_takes_a_private_name_from_another() -> None:
    wrong = [line for module, path in project_modules().items()
             for line in private_imports_in(path.read_text(), module)]
    assert not wrong, wrong
    # The check itself sees one.
    assert private_imports_in("def f():\n    from search.core.errors import _x\n", "m") == [
        "m imports search.core.errors._x"]


def test_only_the_benchmarks_tests_import_the_benchmarks() -> None:
    """The product's tests run without the lab: a benchmark that moves or goes does not break
    them. (Import statements only: a test may name the package in a string.)"""
    tests = PROJECT / "tests"
    wrong = []
    for path in tests.rglob("*.py"):
        if path.is_relative_to(tests / "benchmarks"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            wrong += [f"{path.relative_to(PROJECT)} imports {name}" for name in names
                      if name.split(".")[0] == "benchmarks"]
    assert not wrong, wrong
