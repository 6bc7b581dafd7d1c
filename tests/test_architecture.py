"""The import graph, read from the code: no cycles, and the data flows one way.

Every ``import`` and ``from ... import`` in autograder/ is read with ``ast`` (inside functions too), and
the edges between the grader's own modules form a graph. The test fails on:

* a cycle between modules, or between the packages grading/, sandbox/, platforms/ and mutation/;
* an import from sandbox/ into grading/ (the sandbox runs student code and hands back plain values;
  it knows nothing of the checks) or from the engine (grading/, sandbox/) into platforms/.

Imports inside functions count as edges too, so a cycle cannot hide in a function body.
"""

import ast
import os

from conftest import ROOT

PACKAGE = os.path.join(ROOT, "autograder")
LAYERS = ("grading", "sandbox", "platforms", "mutation")


def _modules():
    found = {}
    for folder, _, files in os.walk(PACKAGE):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                dotted = os.path.relpath(path[:-3], ROOT).replace(os.sep, ".")
                found[dotted[:-len(".__init__")] if dotted.endswith(".__init__") else dotted] = path
    return found


def _imports(module, path, known):
    """[(target module, line, inside a function?)] for the grader's own modules imported by ``module``."""
    tree = ast.parse(open(path, encoding="utf-8").read())
    package = module if path.endswith("__init__.py") else module.rpartition(".")[0]
    nested = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            nested.update(id(n) for n in ast.walk(node) if n is not node)
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([node.module] if node.module else []))
            names = [base + "." + a.name for a in node.names] + [base]
        else:
            continue
        targets = {n for n in names if n in known}
        # "from . import x" names the module x; "from .m import f" names m
        targets = {t for t in targets if not any(o != t and o.startswith(t + ".") for o in targets)} or targets
        out.extend((t, node.lineno, id(node) in nested) for t in sorted(targets) if t != module)
    return out


def _graph():
    known = _modules()
    return known, {m: _imports(m, p, known) for m, p in known.items()}


def _cycle(edges):
    """One cycle in {node: {nodes}} as a list, or None (iterative depth-first search)."""
    state = {}
    for start in sorted(edges):
        if state.get(start):
            continue
        stack, path = [(start, iter(sorted(edges[start])))], [start]
        state[start] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                stack.pop()
                path.pop()
            elif state.get(child) == 1:
                return path[path.index(child):] + [child]
            elif not state.get(child):
                state[child] = 1
                stack.append((child, iter(sorted(edges.get(child, ())))))
                path.append(child)
    return None


def _layer(module):
    parts = module.split(".")
    return parts[1] if len(parts) > 2 and parts[1] in LAYERS else None


def test_no_module_cycle():
    _, graph = _graph()
    cycle = _cycle({m: {t for t, _, _ in imps} for m, imps in graph.items()})
    assert cycle is None, "import cycle between modules: " + " -> ".join(cycle or [])


def test_no_package_cycle_and_one_way_flow():
    _, graph = _graph()
    edges = {}
    for module, imps in graph.items():
        for target, line, _ in imps:
            a, b = _layer(module), _layer(target)
            if a and b and a != b:
                edges.setdefault(a, set()).add(b)
    cycle = _cycle(edges)
    assert cycle is None, "import cycle between packages: " + " -> ".join(cycle or [])
    assert "grading" not in edges.get("sandbox", ()), "sandbox/ imports grading/: " + repr(edges)
    assert "platforms" not in edges.get("grading", set()) | edges.get("sandbox", set()), repr(edges)
