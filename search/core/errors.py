"""The one error a user's mistake raises: it names the file, the field and the bad value, one
line per problem, and the command line prints it without a traceback."""

from __future__ import annotations


class SpecError(Exception):
    """A sweep file (or a command-line override) that cannot be run; one line per problem."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems
