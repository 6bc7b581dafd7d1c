"""``from autograder.notebook import check``: the import every released grade cell carries.

Grade cells in notebooks already handed out name this module, so it stays as a stable alias of
``autograder.platforms.nbgrader.cells``, where the code lives. It imports nothing heavy.
"""

from .platforms.nbgrader.cells import (BEGIN_HIDDEN, END_HIDDEN, GradedElsewhere, check,  # noqa: F401
                                       hidden_part, scrub, split_hidden)
