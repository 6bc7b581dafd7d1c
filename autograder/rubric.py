"""The rubric: stable ids, points, titles, and where the lesson explains each idea.

docs/contract.md section 2 fixes the ids. Everything that names a rubric item
(properties, reports, results.json, the nbgrader grade cells, the CSV of a class)
reads it from here, so a change of points happens in one place.
"""

from collections import namedtuple

# id; points; title: what the student reads as the item's name (the one place titles live); function: the
# one student function this item grades; section: the notebook section that explains the idea.
Item = namedtuple("Item", "id points title function section")


# The notebook's sections (random_init.ipynb). Feedback points the student to them.
SECTION_SYMMETRY = "Section 1, 'Why zero weights fail'"
SECTION_SCALE = "Section 2, 'Small random weights'"
SECTION_SEEDING = "Section 2.1, 'Seeds make random draws reproducible'"
SECTION_BIASES = "Section 3, 'Biases can start at zero'"
SECTION_FORWARD = "Section 4, 'The forward pass'"
SECTION_BACKWARD = "Section 5, 'The backward pass'"
SECTION_SATURATION = "Section 6, 'Large weights saturate'"

ITEMS = (
    Item("init.shapes", 10, "initialize_parameters returns W1, b1, W2, b2 with the right shapes, as float64",
         "initialize_parameters", SECTION_SCALE),
    Item("init.zero_biases", 10, "initialize_parameters sets both biases to exactly zero",
         "initialize_parameters", SECTION_BIASES),
    Item("init.breaks_symmetry", 20, "initialize_parameters gives every hidden unit its own random weights",
         "initialize_parameters", SECTION_SYMMETRY),
    Item("init.small_scale", 15, "initialize_parameters draws weights from N(0, 0.01^2)",
         "initialize_parameters", SECTION_SCALE),
    Item("forward.values", 15, "forward computes A2 and the cache correctly",
         "forward", SECTION_FORWARD),
    Item("backward.shapes", 10, "backward returns dW1, db1, dW2, db2 shaped like their parameters",
         "backward", SECTION_BACKWARD),
    Item("backward.gradients", 20, "backward returns the true derivatives of the cost",
         "backward", SECTION_BACKWARD),
)

BY_ID = {item.id: item for item in ITEMS}
TOTAL = sum(item.points for item in ITEMS)
# The same list as grader_rules.FUNCTIONS, which the students' public checks read; this module imports
# nothing (some tools load it on its own) and tests/test_public_checks.py asserts that the two agree.
FUNCTIONS = ("initialize_parameters", "forward", "backward")

assert TOTAL == 100, "the rubric's points must add up to 100"


def grade_id(rubric_id):
    """The nbgrader grade_id of a rubric item: its id with "." replaced by "-".

    nbgrader 0.9 accepts only letters, digits, "_" and "-" in a grade_id; rubric ids hold no "-",
    so the mapping is one-to-one (init.breaks_symmetry <-> init-breaks_symmetry).
    """
    return rubric_id.replace(".", "-")


def rubric_id(grade_id):
    """The rubric id of an nbgrader grade_id made by grade_id(); the inverse mapping."""
    return grade_id.replace("-", ".")
