"""The library's import graph, read from the source (ast): every import, at the top of a module
or inside a function, is an arrow. No circles; the CLI is imported by nothing but
`python -m cnnexp`; cnnexp/experiments/ holds registered experiments and nothing else."""

import ast
import graphlib
from pathlib import Path

from cnnexp import experiments
from tests.conftest import ROOT

LIBRARY = ROOT / "cnnexp"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(LIBRARY.rglob("*.py"))}


def imported(name: str, path: Path) -> set[str]:
    """The library modules `name` imports. `from a import b` is an arrow to a.b where that is a
    module (as import-linter reads it), else to a; relative imports resolve from the package."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in _run_time_nodes(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(up + ([base] if base else []))
            for a in node.names:
                out.add(f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base)
    return {m for m in out if m in MODULES and m != name}


def _run_time_nodes(tree: ast.AST):
    """Every node but those under `if TYPE_CHECKING:`: imports there never run (the catalog
    names each experiment's Headline type for the type checker, while the experiments import
    the catalog), so they cannot make a circle at import time."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            yield from (n for child in node.orelse for n in _run_time_nodes_and(child))
            continue
        yield from _run_time_nodes_and(node)


def _run_time_nodes_and(node: ast.AST):
    yield node
    yield from _run_time_nodes(node)


GRAPH = {name: imported(name, path) for name, path in MODULES.items()}


def test_the_graph_is_read_from_every_kind_of_import():
    assert "cnnexp.probes.shift_errors" in GRAPH["cnnexp.probes.shift"]  # inside a function
    assert "cnnexp.experiments.equivariance" in GRAPH["cnnexp.probes.shift"]  # from a import b
    assert "cnnexp.fields" in GRAPH["cnnexp.experiments.receptive_field"]  # at the top
    # a type-only import (catalog names each experiment's Headline) runs never: no arrow
    assert "cnnexp.experiments.baseline" not in GRAPH["cnnexp.catalog"]


def test_no_module_of_the_library_imports_itself_in_a_circle():
    try:
        order = list(graphlib.TopologicalSorter(GRAPH).static_order())
    except graphlib.CycleError as e:
        raise AssertionError(f"an import circle: {' → '.join(e.args[1])}") from None
    assert set(order) == set(MODULES)


def test_only_python_m_cnnexp_imports_the_cli():
    """The CLI sits on top: a library module that imports it (as the probes' entry points
    did) points an arrow back up."""
    users = {name for name, targets in GRAPH.items() if "cnnexp.cli" in targets}
    assert users == {"cnnexp.__main__"}


def test_every_module_in_the_experiments_folder_is_a_registered_experiment():
    folder = {n for n in MODULES if n.startswith("cnnexp.experiments.")}
    assert folder == {m.__name__ for m in experiments.REGISTRY.values()}
