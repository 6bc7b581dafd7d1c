"""nbgrader: the autograde and feedback steps (``steps.py``), what a grade cell calls (``cells.py``)
and the audit of a course's gradebook (``audit.py``). Imported only by nbgrader_config.py."""
