"""nbgrader's feedback as a person sees it: verdicts that wrap and say pass or fail in a word (issue 27, item 3).

The feedback page of a submission with failed items (``ben`` of test_ui_browser.py's small class:
zero weights) is opened in headless chromium. Every grade cell's verdict box must fit its width
(``scrollWidth <= clientWidth``, and the same text unwrapped would not fit, so the check is not
empty), start with the word FAILED or PASSED that matches the command line's verdict, and show a
failed item's word in another colour than a passed one's, each at least 4.5:1 (WCAG AA) on its
box. The formgrader shows the same words in the same grade cells. A full-page screenshot and one
of a failed box are saved where test_ui_browser.py saves its screenshots.

The class, the browser and the formgrader server are test_ui_browser.py's fixtures, imported.
"""

import re

import nbgrader_support as ns
import ui_support as ui
from autograder import rubric
from test_ui_browser import STUDENTS, cli_verdicts, submission_id, wait_for
from test_ui_browser import course, driver, formgrader, shots  # noqa: F401  (fixtures, used by name)

AA_CONTRAST = 4.5           # WCAG 2 AA, normal text
STUDENT = "ben"             # zero weights: loses init.breaks_symmetry and init.small_scale
BOXES = ("return Array.from(document.querySelectorAll('.autograder-verdict')).map(function (b) {"
         " var word = b.querySelector('strong'), pre = b.querySelector('pre');"
         " return {text: b.innerText, word: word.innerText, color: getComputedStyle(word).color,"
         " background: getComputedStyle(b).backgroundColor, failed: b.classList.contains('autograder-failed'),"
         " scroll: pre.scrollWidth, client: pre.clientWidth}; });")
SOME = "var r = (function () { %s })(); return r.length >= %d ? r : null;"
# The same boxes with wrapping turned off: their widest text, to show the wrap is needed.
UNWRAPPED = ("var out = Array.from(document.querySelectorAll('.autograder-verdict pre')).map(function (p) {"
             " var c = p.querySelector('code'); c.style.whiteSpace = 'pre'; var w = p.scrollWidth;"
             " c.style.whiteSpace = ''; return w; }); return out;")


def rgb(css):
    """(r, g, b) of a computed CSS colour such as 'rgb(169, 68, 66)'."""
    return tuple(int(v) for v in re.findall(r"\d+", css)[:3])


def contrast(a, b):
    """WCAG 2 contrast ratio of two sRGB colours."""
    def luminance(c):
        lin = [(v / 255) / 12.92 if v / 255 <= 0.04045 else ((v / 255 + 0.055) / 1.055) ** 2.4 for v in c]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def item_of(text):
    """The rubric id a verdict box is about (its text names it before ': n/m points')."""
    found = [i.id for i in rubric.ITEMS if re.search(r"\b%s: [\d.]+/[\d.]+ points" % re.escape(i.id), text)]
    assert len(found) == 1, text[:300]
    return found[0]


def lost_items(student):
    return {i for i, (points, _) in cli_verdicts(STUDENTS[student]).items() if points < rubric.BY_ID[i].points}


def test_contrast_is_computed_as_wcag_says():
    assert round(contrast((0, 0, 0), (255, 255, 255)), 1) == 21.0
    assert 4.1 < contrast((0x1e, 0x8e, 0x3e), (255, 255, 255)) < 4.3       # the green that failed axe


def test_feedback_verdicts_wrap_and_say_pass_or_fail(course, driver, shots):
    from selenium.webdriver.common.by import By
    driver.set_window_size(1280, 1000)
    driver.get("file://" + course.path("feedback", STUDENT, ns.ASSIGNMENT, ns.ASSIGNMENT + ".html"))
    boxes = wait_for(driver, SOME % (BOXES, len(rubric.ITEMS)), 60, "the verdict boxes")
    assert sorted(item_of(b["text"]) for b in boxes) == sorted(i.id for i in rubric.ITEMS), boxes
    lost = lost_items(STUDENT)
    assert lost, "the test needs a submission that fails an item"
    for box in boxes:
        failed = item_of(box["text"]) in lost
        assert box["failed"] == failed and box["word"] == ("FAILED" if failed else "PASSED"), box
        assert box["text"].split()[0] == box["word"], box        # the word comes first
        assert box["scroll"] <= box["client"], ("the verdict runs off the right edge", box)
        assert contrast(rgb(box["color"]), rgb(box["background"])) >= AA_CONTRAST, box
    unwrapped = driver.execute_script(UNWRAPPED)
    assert max(unwrapped) > max(b["client"] for b in boxes), "no verdict is long enough to need wrapping"
    passed = {(b["color"], b["background"]) for b in boxes if not b["failed"]}
    failed = {(b["color"], b["background"]) for b in boxes if b["failed"]}
    assert len(passed) == len(failed) == 1 and not passed & failed, (passed, failed)
    ui.save_shot(driver, shots, "feedback_look")
    box = driver.find_elements(By.CSS_SELECTOR, ".autograder-failed")[0]
    driver.execute_script("arguments[0].scrollIntoView();", box)
    box.screenshot(shots + "/feedback_look_failed_box.png")


def test_formgrader_shows_the_same_words(course, formgrader, driver, shots):
    driver.set_window_size(1280, 1000)
    driver.get(formgrader.url("/formgrader"))           # logs in
    wait_for(driver, "return document.readyState === 'complete'", 60, "formgrader's first page")
    driver.get(formgrader.url("/formgrader/submissions/%s" % submission_id(course, STUDENT)))
    boxes = wait_for(driver, SOME % (BOXES, len(rubric.ITEMS)), 120, "the verdict boxes in the formgrader")
    lost = lost_items(STUDENT)
    words = {item_of(b["text"]): b["word"] for b in boxes}
    assert words == {i.id: "FAILED" if i.id in lost else "PASSED" for i in rubric.ITEMS}, words
    assert all(b["scroll"] <= b["client"] for b in boxes), boxes
    ui.save_shot(driver, shots, "feedback_look_formgrader")
