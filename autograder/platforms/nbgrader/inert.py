"""``SanitizeMarkup``: the autograded notebook is inert in every renderer, and no student cell looks like a verdict.

Design
------
The instructor opens autograded notebooks in the formgrader, served by their own logged-in Jupyter
server, and students open the feedback page made from the same notebook (issue 21). nbgrader's
templates render a markdown cell's source as HTML without sanitising it, so a ``<script>`` there
would run with the instructor's login. Outputs are already reduced to plain text and images
(``outputs.py``); this step, a sanitising step right after ``KeepStudentOutputs``, does the same
for every other part of the notebook a student wrote:

* **Markdown cells** keep their text, but no HTML: every ``<`` and ``&`` becomes an entity (an
  ``&`` that would start a character reference becomes a full-width ``\uff06``), so a
  tag (``script``, ``style``, ``iframe``, ``object``, ``embed``, ``form``, ``meta``, ``base``,
  ``link``, an ``onerror=`` handler, anything) is shown as the text the student typed, never
  parsed. Escaping everything, instead of guessing where code spans are, cannot be fooled by a
  construct the guesser reads differently from the renderer; the cost is that ``<`` and ``&``
  inside the student's own code spans show as ``&lt;`` and ``&amp;``. Link and image targets
  that would run script (``javascript:``, ``vbscript:``, backslash-escaped or not) are broken,
  and MathJax macros that make links, styles or HTML (``\\href``, ``\\style``, ``\\unicode``...)
  are shown as text.
* **Attachments** stay only as plain images (PNG, JPEG, GIF) whose data is base64 and no
  larger than ``MAX_ATTACHMENT_CHARS``; anything else is dropped, and the cell says so.
* **Raw cells** become preformatted text: escaped, in ``<pre>``, as ``text/html`` (so nbconvert
  shows them and never as LaTeX or anything else a later export would interpret).
* **Every student cell is framed and labelled**: a markdown or raw cell whose text is not the
  course's own (the source notebook's markdown, read from the course) is wrapped in a frame that
  says it is the student's. The frame's closing tag is ours; the student cannot write one (their
  ``<`` is escaped), so nothing they write can leave the frame and draw a fake score box.
* **Notebook metadata** is reduced to the kernelspec and the language's name; templates read
  the title and language from there.

The notes cell that ``GradeInIsolation`` writes is added after this step and escapes every note
it quotes with ``escape_markdown``. The feedback's exporter also gets nbconvert's own
``sanitize_html`` (``nbgrader_config.py``), a second layer for outputs.
"""

import base64
import binascii
import json
import os
import re

from nbformat.notebooknode import from_dict
from nbgrader.preprocessors import NbGraderPreprocessor

from .reading import coursedir_of
from .record import key_of, running

ATTACHMENT_MIMETYPES = ("image/png", "image/jpeg", "image/gif")
MAX_ATTACHMENT_CHARS = 2 * 2**20      # base64 characters of one attachment kept (1.5 MB of image)
FRAME_CLASS = "autograder-student-cell"
FRAME_LABEL = "Written by the student in the notebook handed in (not by the autograder); HTML in it is shown as text."
# Schemes a link or an image may not use: a click (or a renderer) would run them as script.
_SCHEMES = ("javascript:", "vbscript:")
# MathJax macros that make links, styles, classes, ids, HTML or load code.
_MATHJAX = re.compile(r"\\(href|url|style|class|cssId|unicode|require|html\w*|data|toggle|mmlToken)(?![A-Za-z])")
_REFERENCE = re.compile(r"&(?=[#A-Za-z])")
_BASE64 = re.compile(r"[A-Za-z0-9+/=\s]*")
_ATTACHMENT = re.compile(r"attachment:([^\s)\]\"'>]*)")


def _scheme_pattern(scheme):
    """A regex for ``scheme`` with optional backslashes (Markdown escapes) and case-insensitively."""
    return re.compile("".join(r"\\?" + re.escape(c) for c in scheme), re.IGNORECASE)


_SCHEME_RES = [_scheme_pattern(s) for s in _SCHEMES]


def escape_markdown(text):
    """Markdown ``text`` that renders the same words but can hold no HTML and no script link."""
    # An & that could start a character reference becomes a full-width ampersand: Markdown decodes
    # references in link targets, and a browser would decode what is left (jav&#x61;script:).
    text = _REFERENCE.sub("\uff06", str(text)).replace("&", "&amp;").replace("<", "&lt;")
    for pattern in _SCHEME_RES:
        text = pattern.sub(lambda m: m.group().replace(":", "-blocked-"), text)
    return _MATHJAX.sub(lambda m: "\\backslash\\text{%s}" % m.group(1), text)


def escape_html(text):
    """``text`` as HTML text: no tag, no entity."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def without_missing_attachments(markdown, kept):
    """``markdown`` whose references to attachments it does not have are plain (broken) links: nbconvert
    stops the whole page at a missing attachment, so a student could otherwise break their own feedback."""
    return _ATTACHMENT.sub(lambda m: m.group() if m.group(1) in kept else "removed-" + m.group(), markdown)


def framed(markdown):
    """``markdown`` (already escaped) inside the labelled frame of a student's cell. Only tags that
    nbconvert's own sanitiser keeps (it cleans raw cells) are used, so the label shows everywhere."""
    return ('<blockquote class="%s" style="border: 2px dashed #888; padding: 0.4em 0.8em;">\n'
            '<em>%s</em>\n\n%s\n\n</blockquote>' % (FRAME_CLASS, FRAME_LABEL, markdown))


def plain_image(mimetype, data, limit=MAX_ATTACHMENT_CHARS):
    """True when ``data`` is a plain image of an allowed type, as valid base64 of at most ``limit`` characters."""
    if mimetype not in ATTACHMENT_MIMETYPES or not isinstance(data, str) or len(data) > limit:
        return False
    if not _BASE64.fullmatch(data):
        return False
    try:
        base64.b64decode("".join(data.split()), validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def clean_attachments(attachments):
    """(attachments kept, names dropped): only plain images survive, one type each."""
    kept, dropped = {}, []
    if not isinstance(attachments, dict):
        return kept, ["(attachments that were not a list of files)"] if attachments else []
    for name, bundle in attachments.items():
        images = {m: d for m, d in (bundle.items() if isinstance(bundle, dict) else []) if plain_image(m, d)}
        if images and re.fullmatch(r"[\w.\- ]{1,100}", str(name)):
            mimetype = sorted(images)[0]
            kept[name] = {mimetype: images[mimetype]}
        else:
            dropped.append(str(name)[:100])
    return kept, dropped


def course_markdown(coursedir, assignment, notebook):
    """The markdown sources of the course's own notebook (trusted: the course wrote them); empty if unknown."""
    if coursedir is None or None in (assignment, notebook):
        return set()
    path = os.path.join(coursedir.format_path(coursedir.source_directory, ".", assignment), notebook + ".ipynb")
    try:
        with open(path, encoding="utf-8") as f:
            nb = json.load(f)
    except (OSError, ValueError):
        return set()
    return {_text(c.get("source", "")) for c in nb.get("cells", []) if c.get("cell_type") == "markdown"}


def _text(source):
    return "".join(source) if isinstance(source, list) else str(source)


class SanitizeMarkup(NbGraderPreprocessor):
    """Make markdown and raw cells inert, frame the student's, keep plain image attachments only."""

    def preprocess(self, nb, resources):
        _, assignment, notebook = key_of(resources)
        ours = course_markdown(coursedir_of(self), assignment, notebook)
        notes = []
        for index, cell in enumerate(nb.cells):
            note = self.sanitize_cell(cell, ours)
            if note:
                notes.append("Cell %d: %s" % (index + 1, note))
        kernelspec = nb.metadata.get("kernelspec")
        metadata = {"language_info": {"name": "python"}}
        if isinstance(kernelspec, dict):
            metadata["kernelspec"] = kernelspec
        nb.metadata = from_dict(metadata)
        if notes:
            state = running.setdefault(key_of(resources), {"notes": []})
            state.setdefault("notes", []).extend(notes)
        return nb, resources

    def sanitize_cell(self, cell, ours):
        """Sanitise one cell in place; returns a note for the student, or ''."""
        kind = cell.get("cell_type")
        if kind not in ("markdown", "raw"):
            cell.pop("attachments", None)       # nbformat allows attachments on markdown and raw cells only
            return ""
        source = _text(cell.get("source", ""))
        kept, dropped = clean_attachments(cell.get("attachments"))
        cell.pop("attachments", None)
        if kind == "raw":
            cell.source = framed("<pre>%s</pre>" % escape_html(source))
            cell.metadata = from_dict({"raw_mimetype": "text/html"})
        else:
            if kept:
                cell.attachments = from_dict(kept)
            text = without_missing_attachments(escape_markdown(source), kept)
            if source not in ours:
                cell.source = framed(text)
            elif text != source:     # the course's text holds no HTML; keep it inert anyway
                cell.source = text
            cell.metadata = from_dict({k: v for k, v in cell.get("metadata", {}).items() if k == "nbgrader"})
        if dropped:
            return "attachment%s %s dropped: only PNG, JPEG and GIF images of at most %d MB are shown" % (
                "s" if len(dropped) > 1 else "", ", ".join(dropped[:5]), MAX_ATTACHMENT_CHARS * 3 // 4 >> 20)
        return ""
