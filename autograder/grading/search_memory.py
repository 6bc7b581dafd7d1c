"""Hypothesis' searches, remembered by outcome, so that a mistake seen before is not searched again.

Why
---
When a check fails, ``cases.search`` lets hypothesis search and shrink to the smallest failing
case. Hypothesis' own work there, not the check's, was the largest single cost of grading a wrong
submission (docs/scale.md, "Speed tricks"). In a class, the same mistake comes back again and
again, and so does the same search.

Why replaying is exact
----------------------
With ``derandomize=True``, no database, no deadline, no ``target()``, no ``event()`` and
``report_multiple_bugs=False`` (``cases._build``), what hypothesis does next depends only on
what the test did so far, and the test draws nothing but its one ``case``. What hypothesis
sees of a run is whether it passed and, if not, the exception's ``InterestingOrigin``
(type, raise site, and the same of its ``__context__`` chain). So the cases a search tries
form a tree: each node is the case tried next, each edge one outcome, and each leaf says
which call's ``Failed`` the search returned (or that it found none).

``search`` walks that tree for a new submission: it calls the check on the node's case
(through the same ``Student``, so the same calls reach the child in the same order, the
time budget is spent the same way, and the message is computed from this submission's own
values), and follows the edge of the outcome. At a leaf it returns the ``Failed`` that this
submission's own call raised there. When an outcome has no edge yet, the walk stops and the
real hypothesis search runs from the start; the calls already made are answered by the
``Student``'s memo (identical requests, identical replies), and the new path is added.

The walk never decides a verdict by itself: it only saves hypothesis the work of choosing
the next case. Tests grade the whole corpus in several orders with the memory on and
compare every message with a grading without it (``tests/test_search_memory.py``).

Self-check: if one node were ever reached with two different next cases (hypothesis not a
function of the outcomes after all: a new version, a timing rule), ``record`` raises
``Inconsistent`` in tests; in grading the memory of that check is switched off and the
real search is used from then on.

Outcomes as plain data. An edge is hypothesis' ``InterestingOrigin`` written out as a tuple
(``outcome``): the exception type by its qualified name, the file and line it was raised at, the
same of its ``__context__``, and of an exception group's members. Two origins are equal exactly
when these are, but for two distinct classes that share a qualified name: only a class made
inside a function can (``<locals>`` in its name), so such a type is kept as the class itself,
which is exact in this process, and a path through it is never shared nor saved.

Sharing: a grade-all worker sends the paths it added (``drain``) with each result, and the
batch hands them to every other worker with its next submission (``apply``), so a mistake
searched once in a run is replayed by all workers, on the local pool and on Dask alike. Paths are
plain data (cases of whole numbers and outcome tuples), made by the grader's own processes.

Saving: ``entries`` lists every path of the trees, and ``encode``/``decode`` turn such lists into
JSON-ready data and back; ``decode`` checks every field's type and size and raises ``ValueError``
naming the first that is wrong, since a saved memory is read back from a file
(platforms/batch_files.py decides whether the file may be trusted at all).

Limits: memory lives in the process (a grade-all worker keeps it across its submissions, a Dask
worker across runs; one ``grade`` starts empty), at most MAX_NODES nodes; a search in which the
time budget ran out (``TimeUp``) is neither replayed nor recorded.
"""

MAX_NODES = 50000       # nodes kept per process: ~520 bytes each, ~26 MB at the cap; the corpus needs 253
_END = object()          # a leaf's marker in place of a case
_UNSET = object()        # a leaf whose result is not known yet
MAX_CASE_FIELDS = 16     # a case has 4 or 5 fields (cases.strategies); more is not a case of ours
MAX_WHOLE = 2**63        # a case's numbers are sizes and seeds below 2**31: anything this large is not ours
MAX_NESTING = 16         # outcome tuples nest one level per __context__ link; hypothesis' own chains are short


class Inconsistent(AssertionError):
    """Hypothesis went two ways after the same outcomes: replaying it would not be exact."""


class _Node:
    __slots__ = ("case", "next", "result")

    def __init__(self, case):
        self.case, self.next, self.result = case, {}, _UNSET


class SearchMemory:
    """Trees of past searches, one per (check, kind of search)."""

    def __init__(self, max_nodes=MAX_NODES, strict=False):
        self.roots, self.off, self.nodes, self.journal = {}, set(), 0, []
        self.sharing = False            # keep a journal of new paths for drain() (grade-all workers set it)
        self.max_nodes, self.strict = max_nodes, strict
        self.hits = self.misses = 0

    def replay(self, key, call):
        """Walk the tree of ``key``; ``(True, Failed or None)`` at a leaf, ``(False, None)`` on a new path.

        ``call(case)`` runs the check on one case and returns ``(outcome, exception or None)``;
        it lets ``TimeUp`` through, which ends the walk (the caller then searches for real).
        """
        node = self.roots.get(key)
        if node is None or key in self.off:
            self.misses += 1
            return False, None
        raised = []
        while node.case is not _END:
            edge, exc = call(node.case)
            raised.append(exc)
            node = node.next.get(edge)
            if node is None:
                self.misses += 1
                return False, None
        if node.result is _UNSET:
            self.misses += 1
            return False, None
        self.hits += 1
        return True, None if node.result is None else raised[node.result]

    def record(self, key, steps, result):
        """Add one real search: ``steps`` = [(case, outcome, exception or None)] in the order hypothesis ran
        them (the outcome taken when the exception was raised: hypothesis may re-raise it later, which
        changes its ``__context__``), ``result`` = the Failed the search returned, or None."""
        index = None
        if result is not None:
            found = [i for i, (_, _, exc) in enumerate(steps) if exc is result]
            if not found:
                return                      # hypothesis returned an exception the test did not raise
            index = found[-1]
        path = [(dict(case), edge) for case, edge, _ in steps]
        if self._insert(key, path, index) and self.sharing and all(_plain(edge) for _, edge in path):
            self.journal.append((key, path, index))

    def apply(self, entries):
        """Add paths another process recorded (its ``drain()``): a grade-all worker learns from the others."""
        for key, path, index in entries:
            self._insert(key, path, index)

    def drain(self):
        """The paths recorded here since the last drain, as plain picklable data."""
        entries, self.journal = self.journal, []
        return entries

    def entries(self):
        """Every path of every tree that ends in a known result, as ``apply`` takes them: what is saved."""
        out = []
        for key, root in self.roots.items():
            if key in self.off:
                continue
            stack = [(root, [])]
            while stack:
                node, path = stack.pop()
                if node.case is _END:
                    if node.result is not _UNSET:
                        out.append((key, path, node.result))
                    continue
                for edge, nxt in node.next.items():
                    if _plain(edge):
                        stack.append((nxt, path + [(node.case, edge)]))
        return out

    def _insert(self, key, path, index):
        """Add ``path`` = [(case, outcome)] ending in ``index``; True if it was new. Checks consistency. The cases
        are kept as they are: ``record`` copied them from the search, and ``apply`` got them unpickled."""
        if key in self.off:
            return False
        if key not in self.roots:
            if self.nodes >= self.max_nodes:
                return False
            self.roots[key] = _Node(path[0][0] if path else _END)
            self.nodes += 1
        node, new = self.roots[key], False
        try:
            for i, (case, edge) in enumerate(path):
                if node.case is _END or node.case != case:
                    raise Inconsistent("check %s: after %d outcomes hypothesis tried %r where it tried %r "
                                       "before" % (key[0], i, case, node.case))
                if edge not in node.next:
                    if self.nodes >= self.max_nodes:
                        return new
                    node.next[edge] = _Node(path[i + 1][0] if i + 1 < len(path) else _END)
                    self.nodes += 1
                    new = True
                node = node.next[edge]
            if node.case is not _END:
                raise Inconsistent("check %s: hypothesis stopped after %d outcomes where it went on before"
                                   % (key[0], len(path)))
            if node.result is _UNSET:
                node.result, new = index, True
            elif node.result != index:
                raise Inconsistent("check %s: the same outcomes ended in another result" % key[0])
        except Inconsistent:
            if self.strict:
                raise
            self.off.add(key)               # never replay this check again in this process
            return False
        return new


def outcome(exc):
    """What hypothesis sees of one run: None when it passed, else the exception's InterestingOrigin as a tuple."""
    if exc is None:
        return None
    # lazy: hypothesis is imported only when a check fails; a passing grade never imports it (cases.py)
    from hypothesis.internal.escalation import InterestingOrigin
    return _origin(InterestingOrigin.from_exception(exc))


def _origin(origin):
    """(type's qualified name, file, line, context's origin or None, group members' origins): see the design."""
    kind = origin.exc_type
    name = "%s.%s" % (kind.__module__, kind.__qualname__)
    return (kind if "<locals>" in name else name, origin.filename, origin.lineno,
            _origin(origin.context) if origin.context else None, tuple(_origin(e) for e in origin.group_elems))


def _plain(edge):
    """Is this outcome plain data (no class object in it), so that it may be shared and saved?"""
    return edge is None or (isinstance(edge[0], str) and _plain(edge[3]) and all(_plain(e) for e in edge[4]))


# -- saved memories: plain JSON data, checked field by field when read back ---------------------------
def encode(entries):
    """``entries`` (as ``entries()`` lists them) as JSON-ready lists: [[key, [[case, outcome], ...], result]]."""
    return [[list(key), [[case, edge] for case, edge in path], index] for key, path, index in entries]


def decode(data):
    """The entries of ``encode``'s output read back from JSON; raises ValueError naming what is wrong."""
    if not isinstance(data, list):
        raise ValueError("the paths are not a list")
    return [_entry(i, item) for i, item in enumerate(data)]


def _entry(i, item):
    if not (isinstance(item, list) and len(item) == 3 and isinstance(item[0], list) and isinstance(item[1], list)):
        raise ValueError("path %d is not [check, steps, result]" % i)
    key, steps, index = item
    if not key or not all(isinstance(k, str) and len(k) <= 4096 for k in key):
        raise ValueError("path %d names no check" % i)
    if not (index is None or type(index) is int and 0 <= index < len(steps)):
        raise ValueError("path %d ends in result %r, not a step of its own" % (i, index))
    path = []
    for step in steps:
        if not (isinstance(step, list) and len(step) == 2):
            raise ValueError("path %d has a step that is not [case, outcome]" % i)
        path.append((_case(i, step[0]), _edge(i, step[1], 0)))
    return tuple(key), path, index


def _case(i, case):
    if not (isinstance(case, dict) and len(case) <= MAX_CASE_FIELDS and all(
            type(v) is int and -MAX_WHOLE < v < MAX_WHOLE and len(k) <= 64 for k, v in case.items())):
        raise ValueError("path %d has a case that is not a few named whole numbers" % i)
    return case


def _edge(i, edge, depth):
    if edge is None:
        return None
    if not (depth < MAX_NESTING and isinstance(edge, list) and len(edge) == 5 and isinstance(edge[0], str)
            and (edge[1] is None or isinstance(edge[1], str)) and (edge[2] is None or type(edge[2]) is int)
            and isinstance(edge[4], list)):
        raise ValueError("path %d has an outcome that is not [type, file, line, context, group]" % i)
    return (edge[0], edge[1], edge[2], _edge(i, edge[3], depth + 1), tuple(_edge(i, e, depth + 1) for e in edge[4]))


MEMORY = SearchMemory()
