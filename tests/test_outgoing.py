"""One outgoing message, three renderers: what each channel shows of the same Outgoing,
the headers email needs, and rows queued before Outgoing still delivered."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy

from bot.channels import slack_send, telegram_send
from bot.channels.slack_send import SlackSender, web_client
from notifier import email_send
from notifier.delivery import SmtpSender, dispatch_once
from notifier.message import (
    InvoiceRow,
    Link,
    MailHeaders,
    Outgoing,
    Section,
    dumps,
    loads,
)
from notifier.outbox import enqueue
from tests import fake_slack
from tests.fake_slack import FakeSlack
from tests.fakes import SmtpSink
from vault.models import Account, Contact, OutboxMessage
from vault.vocabulary import Channel, OutboxKind

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
ROWS = (InvoiceRow("INV-1", "4 Mar 2026", "3 Apr 2026", "€10.00", "open", "http://l.test/d/1"),
        InvoiceRow("INV-2", "5 Mar 2026", "4 Apr 2026", "€20.00", "paid", "http://l.test/d/2"))
ZIP = Link("All as ZIP", "http://l.test/d/zip")
REPLY = Outgoing(
    kind=OutboxKind.REPLY, channel=Channel.EMAIL, recipient="ap@acme.example",
    key="email-reply:1", title="Invoices in March 2026: 2 invoices", contact_id=7,
    sections=(Section(heading="March 2026", text=("2 invoices.",), rows=ROWS, links=(ZIP,),
                      notes=("PO number: 7 & <8>",), after=("Bye.",)),),
    mail=MailHeaders(sender="invoices@localhost", auto_replied=True,
                     in_reply_to="<in.1@acme.example>", references="<r.0@acme.example>"),
).stamped("out.1@localhost", NOW)
ALERT = replace(REPLY, kind=OutboxKind.ALERT, title="New invoice INV-1: €10.00, due 3 Apr 2026",
                sections=(Section(details=("Amount: €10.00 (open: €10.00)", "Status: open"),
                                  links=(Link("Download Invoice INV-1 (PDF)", "http://l.test/d/1",
                                              "link valid until 1 Dec 2026 09:00"),)),),
                mail=MailHeaders(sender="invoices@localhost", display_name="Northwind Supply Co.",
                                 unsubscribe_url="https://l.test/u/tok",
                                 unsubscribe_mailto="invoices@localhost"))
URLS = ["http://l.test/d/1", "http://l.test/d/2", "http://l.test/d/zip"]


def email(message: Outgoing) -> EmailMessage:
    parsed: EmailMessage = message_from_bytes(email_send.wire(dumps(message)),
                                              policy=default_policy)  # type: ignore[assignment]
    return parsed


def body(message: EmailMessage, kind: str) -> str:
    part = message.get_body(preferencelist=(kind,))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]


def test_every_channel_shows_the_same_title_rows_and_links() -> None:
    mail = email(REPLY)
    text, html = body(mail, "plain"), body(mail, "html")
    assert mail["Subject"] == REPLY.title and text.startswith(REPLY.title + "\n\nMarch 2026\n")
    assert f">{REPLY.title}</h2>" in html
    for row in ROWS:
        assert f"{row.number}  issued {row.issued}  due {row.due}  {row.amount}" in text
        assert f">{row.number}</strong>" in html and f">{row.amount}<" in html
    assert all(url in text and f'href="{url}"' in html for url in URLS)
    assert "PO number: 7 &amp; &lt;8&gt;" in html

    fallback, blocks = slack_send.render(replace(REPLY, channel=Channel.SLACK, mail=None))
    assert blocks[0] == {"type": "header", "text": {"type": "plain_text", "text": REPLY.title,
                                                    "emoji": False}}
    shown = "\n".join(b["text"]["text"] for b in blocks if b["type"] == "section")
    assert "INV-2 · issued 5 Mar 2026 · due 4 Apr 2026 · €20.00 · paid" in shown
    assert "• PO number: 7 &amp; &lt;8&gt;" in shown and "http" not in shown + fallback
    buttons = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert [b["url"] for b in buttons] == URLS
    assert [b["text"]["text"] for b in buttons] == ["Download INV-1", "Download INV-2",
                                                    "All as ZIP"]

    tg_text, tg_buttons = telegram_send.render(replace(REPLY, channel=Channel.TELEGRAM))
    assert tg_text.startswith(f"<b>{REPLY.title}</b>\n")
    assert "INV-1 · issued 4 Mar 2026 · due 3 Apr 2026 · €10.00 · open" in tg_text
    assert "• PO number: 7 &amp; &lt;8&gt;" in tg_text and "http" not in tg_text
    assert [b.url for b in tg_buttons] == URLS


def test_a_title_the_first_line_already_says_is_not_repeated() -> None:
    intro = replace(REPLY, sections=(Section(text=("Invoices in March 2026: 2 invoices.",),
                                             rows=ROWS),))
    single = replace(ALERT, sections=(replace(ALERT.sections[0], heading=ALERT.title),))
    for message in (intro, single):
        first = "Invoices in March 2026: 2 invoices." if message is intro else ALERT.title
        assert body(email(message), "plain").startswith(first)
        assert email_send.html(message).count(first) == 1
        tg_text, _ = telegram_send.render(replace(message, channel=Channel.TELEGRAM))
        assert message.title not in tg_text.replace(first, "", 1)
        _, blocks = slack_send.render(replace(message, channel=Channel.SLACK, mail=None))
        assert blocks[0]["type"] == "section"


def test_a_reply_is_threaded_and_marked_auto_replied() -> None:
    mail = email(REPLY)
    assert (mail["From"], mail["To"]) == ("invoices@localhost", "ap@acme.example")
    assert mail["Message-ID"] == "<out.1@localhost>" and mail["Date"].datetime == NOW
    assert mail["Auto-Submitted"] == "auto-replied"
    assert mail["In-Reply-To"] == "<in.1@acme.example>"
    assert mail["References"] == "<r.0@acme.example> <in.1@acme.example>"
    assert mail["List-Unsubscribe"] is None


def test_an_alert_has_a_one_click_unsubscribe_and_its_sellers_name() -> None:
    mail = email(ALERT)
    assert mail["From"] == '"Northwind Supply Co." <invoices@localhost>'
    assert mail["Auto-Submitted"] == "auto-generated"
    assert mail["List-Unsubscribe"] == ("<https://l.test/u/tok>, "
                                        "<mailto:invoices@localhost?subject=stop%20alerts>")
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = body(mail, "plain")
    assert ("  Amount: €10.00 (open: €10.00)\n  Status: open\n"
            "  Download Invoice INV-1 (PDF): http://l.test/d/1\n"
            "  (link valid until 1 Dec 2026 09:00)\n") in text
    assert text.endswith("Stop these alerts: https://l.test/u/tok\n")


def test_threading_headers_keep_message_ids_only() -> None:
    """An inbound References that decodes to CR/LF cannot add a header or break rendering."""
    inbound = message_from_bytes(
        b"From: ap@acme.example\r\nMessage-ID: <in.2@acme.example>\r\n"
        b"References: =?utf-8?q?<r.1@acme.example>=0D=0ABcc:_evil@attacker.test?=\r\n\r\nhi\r\n",
        policy=default_policy)
    references = str(inbound["References"])
    assert REPLY.mail is not None
    assert "\r\n" in references or "\n" in references  # what an attacker can send us
    mail = email(replace(REPLY, mail=replace(REPLY.mail, references=references,
                                             in_reply_to=str(inbound["Message-ID"]))))
    assert mail["References"] == "<r.1@acme.example> <in.2@acme.example>"
    assert mail["Bcc"] is None and b"attacker" not in email_send.wire(dumps(REPLY))
    garbage = email(replace(REPLY, mail=replace(REPLY.mail, in_reply_to="not an id\r\nX: y")))
    assert garbage["In-Reply-To"] is None and garbage["X"] is None


def test_a_message_renders_the_same_bytes_every_time_and_survives_storage() -> None:
    assert loads(dumps(ALERT)) == ALERT
    assert email_send.wire(dumps(ALERT)) == email_send.wire(dumps(ALERT))


def test_a_long_telegram_message_is_cut_between_lines() -> None:
    rows = tuple(replace(ROWS[0], number=f"INV-{n}", link=f"http://l.test/d/{n}")
                 for n in range(120))
    many = replace(REPLY, channel=Channel.TELEGRAM, sections=(Section(rows=rows),))
    text, buttons = telegram_send.render(many)
    assert len(text) <= telegram_send.TEXT_MAX and text.endswith("\n…")
    assert len(buttons) == 120  # a reply links every invoice; only alerts are capped


async def test_enqueue_stores_the_contact_and_a_stable_stamp(orm: str) -> None:
    account = await Account.create(account_id="ACME", name="Acme")
    contact = await Contact.create(account=account, email="ap@acme.example")
    row = await enqueue(replace(REPLY, message_id="", contact_id=contact.id), now=NOW)
    assert (row.contact_id, row.kind, row.channel) == (contact.id, "reply", "email")
    stored = loads(bytes(row.payload))
    assert isinstance(stored, Outgoing) and stored.queued_at == NOW
    assert stored.message_id == row.message_id and row.message_id.endswith("@localhost")


async def test_rows_queued_before_outgoing_still_deliver(orm: str, slack: FakeSlack) -> None:
    raw = (b"From: invoices@localhost\r\nTo: ap@acme.example\r\nSubject: Old\r\n"
           b"Message-ID: <old.1@localhost>\r\n\r\nQueued before the upgrade.\r\n")
    chat = json.dumps({"text": "Invoice INV-1 is overdue.",
                       "buttons": [{"label": "Download INV-1", "url": "http://l.test/d/1"}]})
    for key, channel, recipient, payload in (("old-mail", "email", "ap@acme.example", raw),
                                             ("old-chat", "slack", "D0ANNA", chat.encode())):
        await OutboxMessage.create(key=key, channel=channel, kind="reply", recipient=recipient,
                                   message_id="old.1@localhost", payload=payload,
                                   state="pending", next_attempt_at=NOW, created_at=NOW)
    async with SmtpSink() as sink:
        smtp = SmtpSender("127.0.0.1", sink.port, timeout=5)
        assert await dispatch_once(smtp, now=NOW) == 1
        (received,) = await sink.wait_for(1)
    assert received.message["Subject"] == "Old" and received.rcpt_tos == ["ap@acme.example"]
    assert "Queued before the upgrade." in received.message.get_content()
    sender = SlackSender(web_client(fake_slack.BOT_TOKEN, slack.api_url))
    assert await dispatch_once(sender, now=NOW) == 1
    (call,) = slack.named("chat.postMessage")
    assert call.params["text"] == "Invoice INV-1 is overdue."
    assert call.params["blocks"][-1]["elements"][0]["url"] == "http://l.test/d/1"
    assert {row.state for row in await OutboxMessage.all()} == {"sent"}


def test_a_digest_in_chat_links_each_document_once_and_ten_at_most() -> None:
    cards = tuple(Section(heading=f"Invoice G-{n}: open -> paid",
                          links=(Link(f"Download Invoice G-{n} (PDF)", f"http://l.test/d/{n}"),))
                  for n in (*range(12), 3))  # two events of G-3: one button
    digest = replace(ALERT, kind=OutboxKind.DIGEST, channel=Channel.TELEGRAM, mail=None,
                     title="Your daily invoice digest", sections=cards)
    text, buttons = telegram_send.render(digest)
    assert [b.url for b in buttons] == [f"http://l.test/d/{n}" for n in range(10)]
    assert text.endswith("(+2 more: ask me for any invoice)")
    _, blocks = slack_send.render(replace(digest, channel=Channel.SLACK))
    assert blocks[-3]["elements"][0]["text"] == "(+2 more: ask me for any invoice)"
