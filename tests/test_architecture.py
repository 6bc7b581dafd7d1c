"""The import graph, read from the code: no cycles, and the data flows one way.

Every ``import`` and ``from ... import`` in autograder/ is read with ``ast`` (inside functions too), and
the edges between the grader's own modules form a graph. The test fails on:

* a cycle between modules, or between the packages grading/, sandbox/, platforms/ and mutation/;
* an import from sandbox/ into grading/ (the sandbox runs student code and hands back plain values;
  it knows nothing of the checks) or from the engine (grading/, sandbox/) into platforms/.

Imports inside functions count as edges too, so a cycle cannot hide in a function body.

Imports sit at the top of the file (issue 22). One that does not (inside a function or a class, or
under a module-level ``if`` or ``try``) must say why on its own line or in the comment just above it,
as ``# lazy: <reason>``: an optional extra (matplotlib, nbgrader, dask), or a measured saving of at
least 3 % of a grade (numpy and hypothesis are imported only when grading needs them). A comment
above a run of consecutive imports covers the run. And a name is imported from the module that
defines it, not through another module that merely imported it (``Pool`` comes from batch_pool,
not batch), so the graph shows the real dependency.
"""

import ast
import os
import re

from conftest import ROOT

PACKAGE = os.path.join(ROOT, "autograder")
LAYERS = ("grading", "sandbox", "platforms", "mutation")
LAZY = re.compile(r"#\s*lazy:\s*\S")
# Modules that exist to re-export names: grade cells in notebooks already handed out import these.
ALIASES = {"autograder.notebook"}


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


def lazy_imports_without_reason(source, name="<source>"):
    """["file:line: what, where; the fix"] for every import not in the module's header that carries no
    ``# lazy: <reason>`` (on its lines, or in the comments just above it or above its run of imports)."""
    lines = source.splitlines()
    found = []

    def reason_above(node, siblings):
        first = node
        for prev in reversed(siblings[:siblings.index(node)]):     # the run of imports this one ends
            if not isinstance(prev, (ast.Import, ast.ImportFrom)) or prev.end_lineno < first.lineno - 1:
                break
            first = prev
        for k in range(first.lineno - 2, -1, -1):                  # the comment block above the run
            text = lines[k].strip()
            if not text.startswith("#"):
                return False
            if LAZY.search(text):
                return True
        return False

    def visit(body, where):
        for node in body:
            if isinstance(node, (ast.Import, ast.ImportFrom)) and where:
                own = "\n".join(lines[node.lineno - 1:node.end_lineno])
                if not LAZY.search(own) and not reason_above(node, body):
                    found.append("%s:%d: %r %s: move it to the top of the file, or, if it must stay (an optional "
                                 "extra, or a measured saving of >= 3%% of a grade), say why with a comment "
                                 "'# lazy: <reason>' on its line or the line above"
                                 % (name, node.lineno, lines[node.lineno - 1].strip(), where))
            inner = where
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                inner = "inside function %s" % node.name
            elif isinstance(node, ast.ClassDef):
                inner = "inside class %s" % node.name
            elif not where and isinstance(node, (ast.If, ast.Try, ast.With, ast.For, ast.While)):
                inner = "under a module-level %s (line %d)" % (type(node).__name__.lower(), node.lineno)
            for field in ("body", "orelse", "finalbody", "handlers"):
                block = getattr(node, field, None)
                if isinstance(block, list) and block and isinstance(block[0], ast.AST):
                    if field == "handlers":
                        for handler in block:
                            visit(handler.body, inner)
                    else:
                        visit(block, inner)

    visit(ast.parse(source).body, "")
    return found


def test_imports_outside_the_header_say_why():
    found = []
    for module, path in sorted(_modules().items()):
        with open(path, encoding="utf-8") as f:
            found += lazy_imports_without_reason(f.read(), os.path.relpath(path, ROOT))
    assert not found, "imports outside the header without a reason:\n" + "\n".join(found)


def test_the_lazy_rule_can_fail():
    """The rule itself, on sources made for it: each unexplained import is named by line, nothing else."""
    source = (
        "import os\n"
        "if os.name:\n"
        "    import json\n"                                   # 3: under a module-level if
        "try:\n"
        "    import numpy  # lazy: optional extra\n"
        "except ImportError:\n"
        "    import math\n"                                   # 7: in a handler
        "def f():\n"
        "    import re\n"                                     # 9: inside a function
        "    # lazy: hypothesis only when a check fails\n"
        "    import hypothesis\n"
        "    from hypothesis import given\n"                  # same run as line 11: covered
        "    x = 1\n"
        "    import shutil\n"                                 # 14: a new run, no comment
        "class C:\n"
        "    def m(self):\n"
        "        from os import (path,\n"
        "                        sep)  # lazy: a reason on a later line of the statement\n"
        "        # lazy:\n"
        "        import glob\n")                              # 20: a marker without a reason
    found = lazy_imports_without_reason(source, "x.py")
    assert [line.split(":")[1] for line in found] == ["3", "7", "9", "14", "20"], found
    assert "inside function f" in found[2] and "under a module-level if" in found[0]
    assert "move it to the top of the file" in found[0] and "# lazy: <reason>" in found[0]


def _reexports(module, path, known):
    """{name: the module it came from} for names that ``module`` binds by importing them (not defining them)."""
    tree = ast.parse(open(path, encoding="utf-8").read())
    return {a.asname or a.name: node.module for node in tree.body if isinstance(node, ast.ImportFrom)
            for a in node.names}


def test_names_come_from_the_module_that_defines_them():
    known, graph = _graph()
    imported = {m: _reexports(m, p, known) for m, p in known.items()}
    found = []
    for module, path in sorted(known.items()):
        package = module if path.endswith("__init__.py") else module.rpartition(".")[0]
        for node in ast.walk(ast.parse(open(path, encoding="utf-8").read())):
            if not isinstance(node, ast.ImportFrom) or not node.level and not (node.module or "").startswith(
                    "autograder"):
                continue
            base = node.module or ""
            if node.level:
                parts = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([node.module] if node.module else []))
            if base not in known or base in ALIASES:
                continue
            for alias in node.names:
                if base + "." + alias.name in known:
                    continue                                   # a module, not a name
                if alias.name in imported[base]:
                    found.append("%s:%d: %s is taken from %s, which imports it; import it from where it is "
                                 "defined" % (os.path.relpath(path, ROOT), node.lineno, alias.name, base))
        found += _attributes_taken_through(module, path, known, imported)
    assert not found, "\n".join(found)


def _attributes_taken_through(module, path, known, imported):
    """``batch.Pool`` after ``from .. import batch``, where batch only imported Pool: the same finding."""
    tree = ast.parse(open(path, encoding="utf-8").read())
    package = module if path.endswith("__init__.py") else module.rpartition(".")[0]
    bound = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            parts = package.split(".")[:len(package.split(".")) - node.level + 1]
            base = ".".join(parts + ([node.module] if node.module else []))
            bound.update((a.asname or a.name, base + "." + a.name) for a in node.names
                         if base + "." + a.name in known)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in bound:
            target = bound[node.value.id]
            if target not in ALIASES and node.attr in imported[target]:
                found.append("%s:%d: %s.%s is taken through %s, which imports it; import it from where it is "
                             "defined" % (os.path.relpath(path, ROOT), node.lineno, node.value.id, node.attr,
                                          target))
    return found
