"""The import structure of boltz, bridge and recipes: no circles, every module imports alone.

Two checks that keep the layering from regressing:

* the static import graph of the three packages (every ``import`` and ``from ... import``
  statement, also those inside functions, read with :mod:`ast`) has no cycle;
* every module imports on its own in a fresh interpreter, i.e. without another first-party
  module having been imported before it (a circle, or an import that only works in some
  order, fails here).
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("boltz", "bridge", "recipes")


def first_party_modules(root: Path = REPO) -> dict[str, Path]:
    """Dotted module name -> source file, for every module of :data:`PACKAGES`."""
    out = {}
    for pkg in PACKAGES:
        for path in sorted((root / pkg).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = path
    return out


def _imported(module: str, path: Path, known: Mapping[str, Path]) -> set[str]:
    """First-party modules that ``module`` imports anywhere in its source."""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                name = alias.name
                while name and name not in known:  # "import a.b.c" of a function-free path
                    name = name.rpartition(".")[0]
                if name:
                    found.add(name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = ".".join(
                    package[: len(package) - node.level + 1]
                    + ([node.module] if node.module else [])
                )
            else:
                base = node.module or ""
            for alias in node.names:
                if f"{base}.{alias.name}" in known:  # "from pkg import submodule"
                    found.add(f"{base}.{alias.name}")
                elif base in known:
                    found.add(base)
    found.discard(module)
    return found


def import_graph(root: Path = REPO) -> dict[str, set[str]]:
    """module -> the first-party modules it imports (see :func:`_imported`)."""
    known = first_party_modules(root)
    return {m: _imported(m, p, known) for m, p in known.items()}


def cycles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


def test_the_cycle_finder_finds_cycles():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e"}}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_import_graph_sees_relative_lazy_and_submodule_imports():
    graph = import_graph()
    # relative, top level: from .encoders import DBNEncoder
    assert "bridge.encoders" in graph["bridge.multimodal_export"]
    # inside a function: from boltz.rbm import RBM in to_torch
    assert "boltz.rbm" in graph["bridge.export"]
    # from .. import distributed as bd
    assert "bridge.distributed" in graph["bridge.models._training"]


def test_no_import_cycles():
    found = cycles(import_graph())
    assert not found, (
        "import circles (counting imports inside functions too): "
        + "; ".join(" <-> ".join(c) for c in found)
        + ". Move what both sides need into a module below them."
    )


#: Which packages each package may import: the core below the bridge below the recipes.
LAYERS = {"boltz": {"boltz"}, "bridge": {"boltz", "bridge"}, "recipes": set(PACKAGES)}


def test_the_core_imports_no_bridge_and_the_library_no_recipes():
    wrong = [
        f"{m} -> {d}"
        for m, deps in sorted(import_graph().items())
        for d in sorted(deps)
        if d.split(".")[0] not in LAYERS[m.split(".")[0]]
    ]
    assert not wrong, "imports against the layering boltz < bridge < recipes: " + ", ".join(wrong)


# A fresh interpreter that loads the third-party libraries once, then imports each
# first-party module in a forked child (so every child starts with no first-party module
# imported) and reports the modules that failed.
_ISOLATED = r"""
import importlib, json, os, sys, traceback
for lib in ("numpy", "scipy.sparse", "torch", "sklearn.base", "tqdm.auto"):
    try:
        importlib.import_module(lib)
    except ImportError:
        pass
assert not any(m.split(".")[0] in ("boltz", "bridge", "recipes") for m in sys.modules)
failed = {}
for name in json.loads(sys.argv[1]):
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            importlib.import_module(name)
            code = 0
        except BaseException:
            os.write(w, traceback.format_exc(limit=-3).encode())
            code = 1
        os._exit(code)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        message = f.read().decode()
    _, status = os.waitpid(pid, 0)
    if status != 0:
        failed[name] = message or f"exit status {status}"
print(json.dumps(failed))
"""


def _import_alone(names: list[str], cwd: Path) -> dict[str, str]:
    """Module name -> traceback, for the ``names`` that fail to import alone from ``cwd``."""
    done = subprocess.run(
        [sys.executable, "-c", _ISOLATED, json.dumps(names)],
        cwd=cwd,
        env={**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"},
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_every_module_imports_alone_in_a_fresh_interpreter():
    names = sorted(first_party_modules())
    assert "bridge.export" in names and "bridge.models._torch_model" in names
    failed = _import_alone(names, REPO)
    assert not failed, "modules that do not import on their own:\n" + "\n".join(
        f"{k}:\n{v}" for k, v in failed.items()
    )


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_the_isolated_import_check_reports_a_failing_module(tmp_path):
    pkg = tmp_path / "bridge"  # a stand-in package with a circle that fails at import
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from .b import B\n\nA = 1\n")
    (pkg / "b.py").write_text("from .a import A\n\nB = 2\n")
    (pkg / "c.py").write_text("C = 3\n")
    assert cycles(import_graph(tmp_path)) == [["bridge.a", "bridge.b"]]
    failed = _import_alone(["bridge.a", "bridge.b", "bridge.c"], tmp_path)
    assert sorted(failed) == ["bridge.a", "bridge.b"]
    assert "ImportError" in failed["bridge.a"]


def test_the_public_export_paths_are_kept():
    pytest.importorskip("torch")
    import bridge
    import bridge.export as export
    from bridge.encoders import DBNEncoder, RBMLayer
    from bridge.tensors import as_tensor

    assert bridge.to_torch is export.to_torch and bridge.unroll is export.unroll
    assert (export.RBMLayer, export.DBNEncoder, export.as_tensor) == (
        RBMLayer,
        DBNEncoder,
        as_tensor,
    )
    assert all(hasattr(export, name) for name in export.__all__)
