"""The one error a command raises when it was used wrongly.

Every subcommand raises ``UsageError`` (or a subclass) with a sentence that names what is wrong
and how to fix it; ``__main__`` prints it as ``autograder <command>: <sentence>`` and exits 2,
in one place. Student mistakes are never UsageErrors: they get a report and exit 1.
"""


class UsageError(Exception):
    """The command was used wrongly, or its environment is unusable (exit status 2)."""
