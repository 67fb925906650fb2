"""A cheap look at a message's shape before anything parses it: header count and size,
MIME part count and nesting depth.

It runs on the event loop at DATA (so mail over the caps gets a 554 before any 250) and
again in the parser worker (for rows stored before the caps, or under looser ones). It
never builds a tree and never recurses: regular expressions find the boundaries the
message declares and the delimiter lines that use them, and a list stands in for the
stack of open multiparts. Every loop ends at the first cap exceeded, so its cost is
bounded by the caps, not by the message.
"""

from __future__ import annotations

import re

from vault.config_mail import MailLimits

MAX_HEADER_BYTES = 100 * 1024  # Postfix's header_size_limit

_HEADER_END = re.compile(rb"\r?\n\r?\n")
_FIELD = re.compile(rb"^[^ \t\r\n]", re.MULTILINE)  # a line that starts a header field
_BOUNDARY = re.compile(rb"""boundary\s*=\s*(?:"([^"\r\n]{1,200})"|([^\s;"]{1,200}))""",
                       re.IGNORECASE)


def header_size(raw: bytes) -> int:
    """Where the top-level header block ends (the whole message if it has no body)."""
    match = _HEADER_END.search(raw)
    return match.start() if match else len(raw)


def over_limits(raw: bytes, limits: MailLimits) -> str | None:
    """Why this message is over the caps, in words a sender can act on; None if it is not."""
    size = header_size(raw)
    if size > MAX_HEADER_BYTES:
        return f"header section over {MAX_HEADER_BYTES // 1024} KB"
    fields = sum(1 for _ in zip(_FIELD.finditer(raw, 0, size), range(limits.max_headers + 1),
                                strict=False))
    if fields > limits.max_headers:
        return f"more than {limits.max_headers} header fields"
    return _over_mime_limits(raw, limits)


def _over_mime_limits(raw: bytes, limits: MailLimits) -> str | None:
    declared: list[bytes] = []
    for match in _BOUNDARY.finditer(raw):
        declared.append(match[1] or match[2])
        if len(declared) > limits.max_parts:  # each multipart declares one, so: too many
            return f"more than {limits.max_parts} MIME parts"
    if not declared:
        return None
    known = set(declared)
    delimiter = re.compile(
        rb"^--(" + b"|".join(re.escape(b) for b in sorted(known, key=len, reverse=True))
        + rb")(--)?[ \t]*\r?$", re.MULTILINE)
    open_multiparts: list[bytes] = []  # the stack, outermost first
    parts = 0
    for match in delimiter.finditer(raw):
        boundary, closing = match[1], match[2]
        if closing:
            if boundary in open_multiparts:  # closes it and anything left open inside it
                del open_multiparts[open_multiparts.index(boundary):]
            continue
        if boundary not in open_multiparts:
            open_multiparts.append(boundary)
            if len(open_multiparts) > limits.max_depth:
                return f"MIME nesting deeper than {limits.max_depth} levels"
        parts += 1
        if parts > limits.max_parts:
            return f"more than {limits.max_parts} MIME parts"
    return None
