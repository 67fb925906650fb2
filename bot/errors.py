"""Errors the command line reports as bad input (exit code 2)."""


class UsageError(Exception):
    """Bad input the user can fix: the message names what and where."""
