"""Hostile input and faults against the running service, over real sockets (issue 12).

Marked `hostile` (pytest -m hostile runs only these); they run in `make test` like the rest.
"""
