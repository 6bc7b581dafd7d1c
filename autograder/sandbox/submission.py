"""Find the student's code and turn it into one Python file the child can run.

This module only reads text: it never imports or executes the submission.

* ``.py``: graded as written (its ``if __name__ == "__main__":`` block is skipped,
  because the child runs it under the name ``submission``).
* ``.ipynb``: the notebook's JSON is parsed here (nbformat 4, or 3 with its worksheets; a
  UTF-8 BOM is fine). From its code cells we keep the top-level imports, function and class
  definitions, and assignments; every other statement (plots, training runs, prints, IPython
  magics and shell lines) is dropped. That keeps grading fast and lets a failing experiment
  cell cost nothing. Each kept statement runs on its own, so one broken import does not hide
  the functions after it. A cell that cannot be parsed (a syntax error, nesting too deep for
  the parser, a source that is not text) is skipped with a note.
* a folder: walked without recursion and without following links, looking only at regular
  files (never a FIFO or a device), each at most MAX_BYTES (a notebook: MAX_NOTEBOOK_BYTES on
  disk, and MAX_BYTES of code cells, so outputs and attachments never cost the grade). Among the
  ``.py`` and ``.ipynb``
  files that define the functions, the one the student worked on is graded: the most
  functions *written* (a body that is more than a docstring, ``pass`` or ``raise
  NotImplementedError``), judged on the code only (never a notebook's markdown), then a name
  like the assignment's, then the notebook. Notes say which file was graded, which were
  ignored and why, and what was skipped.

Everything that goes wrong here is a ``SubmissionError`` with a message, or a note: the
grader never crashes on a submission's files.
"""

import ast
import json
import os
import re
import stat

from .. import rubric
from . import safefs

STATEMENT_MARK = "\n# %%% statement\n"     # child.py splits on this
ASSIGNMENT_NAME = "random_init"
FUNCTIONS = rubric.FUNCTIONS
MAX_BYTES = 5 * 2**20       # largest file read: the assignment's notebook with outputs is far smaller
# A notebook's outputs and attachments are not code: a correct notebook with a 20 MB plot must be graded.
# Its file may be this large; MAX_BYTES then applies to its code cells alone.
MAX_NOTEBOOK_BYTES = 64 * 2**20
MAX_ENTRIES = 20000         # entries of a folder looked at before the walk stops
MAX_DEPTH = 12              # folder levels below the submission walked into
SKIP_DIRS = ("__pycache__", "node_modules", "site-packages")
TOO_DEEP = "code nested too deeply for Python's parser"


class SubmissionError(Exception):
    """The submission cannot be graded at all; the message says why and what to do."""


class Prepared:
    """What the child needs: the code to run, and how to run it."""

    def __init__(self, source, statements, origin, notes=()):
        self.source, self.statements, self.origin, self.notes = source, statements, origin, list(notes)


def prepare(path, rules):
    """Read SUBMISSION (file or folder) and return a Prepared; raises SubmissionError.

    ``rules`` is the module that decides which statements of a notebook run (the grader passes
    ``grading/grader_rules.py``, which the students' public checks share), so the sandbox imports
    nothing of the grading package.
    """
    try:
        st = safefs.lstat(path)
    except FileNotFoundError:
        raise SubmissionError("there is no file or folder named %s" % _name(path)) from None
    except OSError as exc:
        raise SubmissionError(str(exc) if isinstance(exc, safefs.Refused) else "%s cannot be read (%s)"
                              % (safefs.shown(os.path.basename(path)), exc.strerror or exc)) from None
    if stat.S_ISLNK(st.st_mode):
        raise SubmissionError(str(safefs.Refused(path, safefs.LINK)))
    notes, cells = [], {}       # cells: each notebook's code cells, read once for the choice and the grading
    if stat.S_ISDIR(st.st_mode):
        path, notes = _pick_from_folder(path, cells)
    if path.endswith(".ipynb"):
        prepared = _from_notebook(path, rules, cells.get(path))
    elif path.endswith(".py"):
        source, notes_py = _without_broken_blocks(_read_text(path), os.path.basename(path))
        prepared = Prepared(source, False, path, notes_py)
    else:
        raise SubmissionError("%s is neither a .py file nor a .ipynb notebook; submit random_init.py "
                              "or random_init.ipynb" % os.path.basename(path))
    prepared.notes = notes + prepared.notes
    return prepared


def _read_bytes(path, limit=MAX_BYTES):
    """The bytes of a regular file, at most ``limit``, reached with no link followed (``safefs``)."""
    try:
        return safefs.read_regular(path, limit)
    except safefs.Refused as exc:
        if exc.reason.startswith("is larger"):
            raise SubmissionError("%s is larger than %d MB; submit only your code"
                                  % (safefs.shown(os.path.basename(path)), limit >> 20)) from None
        raise SubmissionError(str(exc)) from None
    except OSError as exc:
        raise SubmissionError("%s cannot be opened (%s)" % (safefs.shown(os.path.basename(path)),
                                                            exc.strerror or exc)) from None


def _read_text(path):
    data = _read_bytes(path)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SubmissionError("%s is not UTF-8 text (byte %d cannot be read); save it as UTF-8"
                              % (os.path.basename(path), exc.start)) from None
    if not text.strip():
        raise SubmissionError("%s is empty; it must define initialize_parameters, forward and backward"
                              % os.path.basename(path))
    return text


# -- a .py file with a syntax error ------------------------------------------------------------------
# A top-level block starts at a line in column 0 that does not continue the block before it.
MAX_BROKEN_BLOCKS = 20      # a file with more broken blocks than this is not worth grading in parts
_CONTINUES = re.compile(r"(else|elif|except|finally|case)\b|[)\]}#]")


def _blocks(lines):
    """[(first, end)] line ranges of the top-level blocks; decorators stay with what they decorate."""
    starts = [0]
    for i, line in enumerate(lines):
        if i and line[:1] and not line[:1].isspace() and not _CONTINUES.match(line):
            before = next((p for p in reversed(lines[:i]) if p.strip() and not p.lstrip().startswith("#")), "")
            if not before.startswith("@"):
                starts.append(i)
    return list(zip(starts, starts[1:] + [len(lines)]))


def _without_broken_blocks(text, name):
    """(source, notes): a .py that does not parse loses only its broken top-level blocks.

    A syntax error then costs what it costs in a notebook, where only the broken cell is skipped:
    every function that parses is graded. The parser names a line; the top-level block around it
    becomes blank lines (so the rest keeps the student's line numbers), and the parser tries again,
    at most MAX_BROKEN_BLOCKS times. A note names the lines skipped and the parser's message."""
    lines = text.splitlines(keepends=True)
    notes = []
    for _ in range(MAX_BROKEN_BLOCKS + 1):
        source = "".join(lines)
        try:
            ast.parse(source)
            break
        except SyntaxError as err:
            if not notes:
                whole = "%s has a syntax error (%s, line %s)" % (name, err.msg, err.lineno)
            at = min(max((err.lineno or 1) - 1, 0), len(lines) - 1)
            first, end = next((f, e) for f, e in _blocks(lines) if f <= at < e)
            last = max((k for k in range(first, end) if lines[k].strip()), default=first)
            notes.append("%s lines %d-%d have a syntax error (%s, line %s) and were skipped"
                         % (name, first + 1, last + 1, err.msg, err.lineno))
            lines[first:end] = ["\n"] * (end - first)
        except (RecursionError, MemoryError, ValueError):
            raise SubmissionError(TOO_DEEP) from None
    else:
        raise SubmissionError(whole + " and more broken blocks than the grader skips") from None
    if notes and not any(f for f, _ in _functions(source)):
        raise SubmissionError(whole)
    return text if not notes else source, notes


# -- picking the file from a folder --------------------------------------------------------------
def _name(path):
    """What a message shows of a path: its last part only, never the server's folders (a student reads it)."""
    return safefs.shown(os.path.basename(os.path.abspath(path)) or path)


def _walk(folder):
    """(code files, skipped notes): regular .py/.ipynb files under ``folder``, no links (``safefs.walk``)."""
    try:
        files, skipped = safefs.walk(folder, MAX_DEPTH, MAX_ENTRIES, keep=_is_code, skip_dirs=SKIP_DIRS)
    except OSError as exc:
        raise SubmissionError(str(exc) if isinstance(exc, safefs.Refused) else "%s cannot be read (%s)"
                              % (_name(folder), exc.strerror or exc)) from None
    found, notes = [], ["%s (%s)" % (safefs.shown(rel), why) if rel else why for rel, why in skipped]
    for rel, st in files:
        limit = MAX_NOTEBOOK_BYTES if rel.endswith(".ipynb") else MAX_BYTES
        if st.st_size > limit:
            notes.append("%s (larger than %d MB)" % (safefs.shown(rel), limit >> 20))
        else:
            found.append(os.path.join(folder, rel))
    return sorted(found), notes


def _is_code(name):
    return name.endswith((".py", ".ipynb")) and not name.startswith("test_")


def _pick_from_folder(folder, cells):
    """(the file to grade, notes saying what was graded, ignored and skipped); ``cells`` gets the code cells
    of every notebook read, so that the one chosen is not read and decoded twice."""
    files, skipped = _walk(folder)
    scored = []
    for path in files:
        try:
            written, stubs = _progress(path, cells)
        except SubmissionError:
            continue
        if written or stubs:
            scored.append((path, written, stubs))
    notes = []
    if skipped:
        notes.append("skipped in %s: %s" % (_name(folder),
                                            "; ".join(skipped[:10]) + ("; ..." if len(skipped) > 10 else "")))
    if not scored:
        raise SubmissionError("no .py or .ipynb file in %s defines initialize_parameters, forward or backward; "
                              "put random_init.py or random_init.ipynb there" % _name(folder)
                              + ("" if not skipped else " (%s)" % notes[0]))
    # The file the student worked on: the most functions written, then the assignment's name, then the
    # notebook (where students work), then the path, so the choice never depends on the file system.
    scored.sort(key=lambda t: (-len(t[1]), not os.path.basename(t[0]).startswith(ASSIGNMENT_NAME),
                               not t[0].endswith(".ipynb"), t[0]))
    chosen = scored[0]
    rel = lambda p: os.path.relpath(p, folder)      # noqa: E731
    if len(scored) > 1:
        notes.insert(0, "graded %s: %s" % (rel(chosen[0]), _describe(chosen)))
        for other in scored[1:]:
            why = ("fewer functions written" if len(other[1]) < len(chosen[1])
                   else "as many functions written; %s is preferred" % rel(chosen[0]))
            notes.insert(1, "ignored %s (%s): %s" % (rel(other[0]), why, _describe(other)))
    return chosen[0], notes


def _describe(scored):
    _, written, stubs = scored
    parts = []
    if written:
        parts.append("%s written" % ", ".join(written))
    if stubs:
        parts.append("%s not written yet" % ", ".join(stubs))
    return "; ".join(parts)


def _progress(path, cells):
    """(functions written, functions still stubs), judged on the code cells' function bodies only; a
    notebook's ``_code_cells`` are kept in ``cells`` under its path."""
    if path.endswith(".ipynb"):
        cells[path] = _code_cells(path)
        sources = cells[path][0]
    else:
        sources = [_read_text(path)]
    written, stubs = set(), set()
    for src in sources:
        for name, done in _functions(src):
            (written if done else stubs).add(name)
    stubs -= written
    return [f for f in FUNCTIONS if f in written], [f for f in FUNCTIONS if f in stubs]


def _functions(src):
    """[(name, written?)] for the assignment's functions defined at top level of ``src``."""
    try:
        tree = _parse(src)
    except SubmissionError:
        return _functions_by_text(src)
    out = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in FUNCTIONS:
            out.append((node.name, _written(node.body)))
    return out


def _written(body):
    """A body is written if it has a statement beyond a docstring, pass, ... and raise NotImplementedError,
    and no raise NotImplementedError at its top level."""
    real = []
    for stmt in body:
        if isinstance(stmt, ast.Raise) and _names_not_implemented(stmt.exc):
            return False
        if isinstance(stmt, ast.Pass) or (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)):
            continue
        real.append(stmt)
    return bool(real)


def _names_not_implemented(exc):
    if isinstance(exc, ast.Call):
        exc = exc.func
    return isinstance(exc, ast.Name) and exc.id == "NotImplementedError"


_DEF = re.compile(r"^(?:async\s+)?def\s+(%s)\b" % "|".join(FUNCTIONS), re.M)


def _functions_by_text(src):
    """For code the parser cannot read: a function is written if its block has no NotImplementedError."""
    marks = list(_DEF.finditer(src))
    out = []
    for i, m in enumerate(marks):
        block = src[m.end():marks[i + 1].start() if i + 1 < len(marks) else len(src)]
        block = re.split(r"^\S", block, maxsplit=1, flags=re.M)[0]
        out.append((m.group(1), "NotImplementedError" not in block))
    return out


def _parse(src):
    """ast.parse, with every way it can fail on hostile text turned into a SubmissionError."""
    try:
        return ast.parse(src)
    except SyntaxError as exc:
        raise SubmissionError("a syntax error (%s, line %s)" % (exc.msg, exc.lineno)) from None
    except (RecursionError, MemoryError, ValueError):
        raise SubmissionError(TOO_DEEP) from None


# -- notebooks --------------------------------------------------------------------------------------
def notebook_code_cells(path):
    """The sources of a notebook's code cells; raises SubmissionError for a broken notebook."""
    return _code_cells(path)[0]


def _code_cells(path):
    """([code cell sources], notes) for nbformat 4 (cells) or 3 (worksheets), BOM or not."""
    name = os.path.basename(path)
    try:
        nb = json.loads(_read_bytes(path, MAX_NOTEBOOK_BYTES).decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        raise SubmissionError("%s is not a readable notebook (its JSON is broken or cut off); "
                              "open it in Jupyter, save it again and resubmit" % name) from None
    except RecursionError:
        raise SubmissionError("%s is not a readable notebook (its JSON is nested too deeply); open it in "
                              "Jupyter, save it again and resubmit" % name) from None
    cells = nb.get("cells") if isinstance(nb, dict) else None
    if cells is None and isinstance(nb, dict) and isinstance(nb.get("worksheets"), list):
        cells = [c for w in nb["worksheets"] if isinstance(w, dict) and isinstance(w.get("cells"), list)
                 for c in w["cells"]]                                # nbformat 3
    if not isinstance(cells, list):
        raise SubmissionError("%s has no list of cells; is it really a Jupyter notebook?" % name)
    sources, notes = [], []
    for index, cell in enumerate(cells, 1):
        if not (isinstance(cell, dict) and cell.get("cell_type") == "code"):
            continue
        src = cell.get("source", cell.get("input", ""))
        if isinstance(src, list) and all(isinstance(line, str) for line in src):
            src = "".join(src)
        elif not isinstance(src, str):
            notes.append("cell %d of the notebook (counting every cell, Markdown too) has a source that is "
                         "not text and was skipped" % index)
            src = ""
        sources.append(src)
    if sum(len(src) for src in sources) > MAX_BYTES:      # the code itself; outputs and attachments are not
        raise SubmissionError("the code cells of %s hold more than %d MB of text; keep only your code in "
                              "them" % (name, MAX_BYTES >> 20))
    return sources, notes


def _from_notebook(path, rules, read=None):
    """The Prepared of a notebook; ``read``: its ``_code_cells`` if the folder's walk already read them."""
    sources, notes = read if read is not None else _code_cells(path)
    notes = list(notes)
    if not any(s.strip() for s in sources):
        raise SubmissionError("%s has no code cells with code in them" % os.path.basename(path))
    # Which statements run is shared with the students' public checks (grader_rules.kept_statements),
    # one cell at a time, so that each cell is parsed once: a cell that exhausts the parser is skipped
    # with a note (in these notes, after the notebook's own), a syntax error is the rules' to note.
    kept, rule_notes = [], []
    for src in sources:
        try:
            cell_kept, cell_notes = rules.kept_statements([src])
        except (RecursionError, MemoryError, ValueError):
            notes.append("%s has %s and was skipped" % (rules.cell_name(src), TOO_DEEP))
            continue
        kept += cell_kept
        rule_notes += cell_notes
    return Prepared(STATEMENT_MARK.join(kept) + "\n", True, path, notes + rule_notes)
