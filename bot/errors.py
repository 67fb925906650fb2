"""Errors the command line reports as bad input (exit code 2)."""


class UsageError(Exception):
    """Bad input the user can fix: the message names what and where."""


class StartupError(Exception):
    """`serve` cannot start: a port in use, a database or vault it cannot write, a schema it
    does not know. One line naming what and where; exit 2, with nothing left running."""
