"""The pure parts of the chat channels: platform text in, one neutral message out."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.channels.slack import plain_text
from bot.channels.slack_send import legacy_blocks
from bot.channels.telegram import request_text
from bot.messages import Link, ListingRow, Reply
from bot.outgoing import reply_message
from notifier import message as outgoing
from vault.vocabulary import Channel, OutboxKind

EXPIRES = datetime(2026, 11, 28, tzinfo=UTC)


@pytest.mark.parametrize(("slack", "typed"), [
    ("link <mailto:ap@acme.example|ap@acme.example>", "link ap@acme.example"),
    ("<@U0BOT> invoices   March", "invoices March"),
    ("invoices &lt;March&gt; &amp; April", "invoices <March> & April"),
    ("see <https://x.test/a|this>", "see this"),
])
def test_slack_text_reads_as_the_user_typed_it(slack: str, typed: str) -> None:
    assert plain_text(slack) == typed


@pytest.mark.parametrize(("telegram", "words"), [
    ("/invoices March", "invoices March"),
    ("/invoices@acme_invoices_bot March", "invoices March"),
    ("/start abc_123", "start abc_123"),
    ("/help", "help"),
    ("  unpaid ", "unpaid"),
])
def test_telegram_commands_read_as_words(telegram: str, words: str) -> None:
    assert request_text(telegram) == words


def test_a_reply_becomes_text_without_urls_and_one_button_per_link() -> None:
    link = Link("INV-1", "http://links.test/d/abc", EXPIRES)
    reply = Reply(subject="s", intro="Invoices in March 2026: 1 invoice.",
                  rows=(ListingRow("INV-1", "4 Mar 2026", "3 Apr 2026", "€10.00", "open", link),),
                  links=(Link("All as ZIP", "http://links.test/d/zip", EXPIRES),),
                  links_expire="28 Nov 2026", notes=("PO number: 7",), outro="Bye.")
    message = reply_message(reply, key="k", kind=OutboxKind.REPLY, channel=Channel.TELEGRAM,
                            recipient="42", contact_id=1)
    text = outgoing.plain_text(message)
    assert "INV-1 · issued 4 Mar 2026 · due 3 Apr 2026 · €10.00 · open" in text
    assert "http" not in text and "• PO number: 7" in text
    assert outgoing.chat_buttons(message) == ([
        outgoing.Link("Download INV-1", "http://links.test/d/abc"),
        outgoing.Link("All as ZIP", "http://links.test/d/zip")], 0)


def test_long_texts_and_many_buttons_fit_slacks_block_limits() -> None:
    buttons = [outgoing.Link(f"Download INV-{n}", f"http://x/{n}") for n in range(23)]
    blocks = legacy_blocks("x" * 7000, buttons)
    sections = [b for b in blocks if b["type"] == "section"]
    actions = [b for b in blocks if b["type"] == "actions"]
    assert [len(s["text"]["text"]) for s in sections] == [3000, 3000, 1000]
    assert [len(a["elements"]) for a in actions] == [5, 5, 5, 5, 3]
    ids = [e["action_id"] for a in actions for e in a["elements"]]
    assert len(set(ids)) == 23


@pytest.mark.parametrize("payload", [b"not json", b'{"buttons": []}',
                                     b'{"text": "x", "buttons": [{"label": 1}]}'])
def test_a_malformed_payload_is_refused(payload: bytes) -> None:
    with pytest.raises(ValueError):
        outgoing.legacy_chat(payload)
