"""A Reply as a chat message: platform-neutral UTF-8 JSON for the outbox. Pure.

    {"text": "...", "buttons": [{"label": "...", "url": "..."}]}

Those two keys are the whole contract with the chat senders (the notifier's alerts
produce exactly them); links become buttons, so the text carries no URLs.
"""

from __future__ import annotations

import json
from typing import Any

from bot.messages import Reply


def chat_text(reply: Reply) -> str:
    lines = [reply.intro]
    if reply.rows:
        lines.append("")
    for row in reply.rows:
        lines.append(f"{row.number} · issued {row.issue_date} · due {row.due_date} · "
                     f"{row.amount} · {row.status}")
    if reply.links_expire:
        lines += ["", f"Links expire {reply.links_expire}. Ask again for fresh ones."]
    if reply.notes:
        lines.append("")
        lines += [f"• {note}" for note in reply.notes]
    if reply.outro:
        lines += ["", reply.outro]
    return "\n".join(lines).strip()


def chat_buttons(reply: Reply) -> list[dict[str, str]]:
    buttons = [
        {"label": f"Download {row.number}", "url": row.link.url}
        for row in reply.rows
        if row.link is not None
    ]
    return buttons + [{"label": link.label, "url": link.url} for link in reply.links]


def chat_payload(reply: Reply) -> bytes:
    """What the outbox stores for a chat reply."""
    return encode_payload(chat_text(reply), chat_buttons(reply))


def encode_payload(text: str, buttons: list[dict[str, str]] | None = None) -> bytes:
    return json.dumps({"text": text, "buttons": buttons or []}, ensure_ascii=False).encode()


def decode_payload(payload: bytes) -> dict[str, Any]:
    """The message a sender delivers; ValueError if it is not the contract's shape."""
    message = json.loads(payload.decode("utf-8"))
    if not isinstance(message, dict) or not isinstance(message.get("text"), str):
        raise ValueError("chat payload: expected a JSON object with a text string")
    buttons = message.get("buttons") or []
    if not isinstance(buttons, list) or not all(
        isinstance(b, dict) and isinstance(b.get("label"), str) and isinstance(b.get("url"), str)
        for b in buttons
    ):
        raise ValueError("chat payload: buttons must be a list of {label, url}")
    message["buttons"] = buttons
    return message
