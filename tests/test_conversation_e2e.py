"""Replies to our own mail, end to end over real SMTP: each kind of mail we send (a
listing, an invoice's detail, the balance, a statement, an alert, a digest) is produced
first, read back from the SMTP sink (its Message-ID and Subject), and answered the way
people answer mail, in English and German: "thanks" gets the short answer (or, with
email.answer_thanks = false, nothing), a new request gets exactly that request, and
neither our subject nor the quoted history is ever read as a request.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

import pytest

from tests.alerting import BERLIN, Alerting, alert_config, at, running_alerts, text_of
from tests.fakes import SmtpSink
from tests.harness import AUTHSERV, Running
from vault.models import AuditEvent, Contact, InboundMessage
from vault.pdf import PdfRenderer

ACME = "ap@acme.example"  # de_DE, daily digest by default
GLOBEX = "ap@globex.example"  # en_US, instant alerts by default
WELCOME = "You're welcome!"
HELP = "Here is what you can ask for"
# The short answer to thanks, in the language the thanks was written in (ACME's contact
# has no locale of her own: README "Languages"), and a word of its one line.
SHORT = {"en": (WELCOME, "invoice"), "de": ("Gern geschehen!", "rechnung"),
         "fr": ("Avec plaisir !", "facture")}


class Conversation:
    """The running service, and a contact who writes to it and answers its mail."""

    def __init__(self, alerting: Alerting) -> None:
        self.alerting = alerting
        self.running = Running(alerting.service, alerting.sink, alerting.config)

    async def world(self) -> None:
        """ACME: one invoice overdue, one open; GLOBEX: one open (its alert is instant)."""
        await self.alerting.invoices(("ACME", "INV-2026-1001", -40, -10, "100.00"),
                                     ("ACME", "INV-2026-1002", -5, 25, "250.00"),
                                     ("GLOBEX", "INV-2026-2001", -3, 27, "500.00"))

    async def write(self, sender: str, subject: str, body: str,
                    replying_to: EmailMessage | None = None) -> EmailMessage:
        """Send a mail (a reply when `replying_to`); our answer to it, or None."""
        msg = EmailMessage()
        domain = sender.rpartition("@")[2]
        msg["Authentication-Results"] = f"{AUTHSERV}; dmarc=pass header.from={domain}"
        msg["From"], msg["To"], msg["Subject"] = sender, "invoices@localhost", subject
        msg["Message-ID"] = make_msgid(domain=domain)
        if replying_to is not None:
            msg["In-Reply-To"] = replying_to["Message-ID"]
            msg["References"] = replying_to["Message-ID"]
        msg.set_content(body)
        await self.running.send(msg)
        await self.running.processed(msg)
        await self.alerting.settled()
        return msg

    def answer_to(self, msg: EmailMessage) -> EmailMessage | None:
        answers = [m for m in self.alerting.mails_to(str(msg["From"]))
                   if m["In-Reply-To"] == msg["Message-ID"]]
        assert len(answers) <= 1, "one message, at most one answer"
        return answers[0] if answers else None

    async def ask(self, sender: str, subject: str) -> EmailMessage:
        """A fresh request, and our answer to it (the mail the contact will reply to)."""
        answer = self.answer_to(await self.write(sender, subject, "Hi team,\n"))
        assert answer is not None
        return answer

    async def alert(self) -> EmailMessage:
        await self.alerting.tick()
        (alert,) = self.alerting.mails_to(GLOBEX)
        assert alert["Subject"].startswith("New invoice INV-2026-2001")
        return alert

    async def digest(self) -> EmailMessage:
        await self.alerting.tick()  # ACME's news waits for its daily digest
        self.alerting.clock.at = at(BERLIN, 8)
        await self.alerting.service.ticks.digests()
        await self.alerting.settled()
        (digest,) = self.alerting.mails_to(ACME)
        # No request to read: ACME's locale (de_DE) speaks (README "Languages").
        assert digest["Subject"].startswith("Ihre tägliche Rechnungsübersicht")
        return digest


@pytest.fixture
async def conversation(alerting: Alerting) -> Conversation:
    talk = Conversation(alerting)
    await talk.world()
    return talk


async def listing(talk: Conversation) -> EmailMessage:
    ours = await talk.ask(ACME, "unpaid invoices")
    assert ours["Subject"] == "Unpaid invoices: 2 invoices"
    return ours


async def detail(talk: Conversation) -> EmailMessage:
    ours = await talk.ask(ACME, "invoice INV-2026-1002")
    assert ours["Subject"] == "Invoice INV-2026-1002"
    return ours


async def balance(talk: Conversation) -> EmailMessage:
    ours = await talk.ask(ACME, "balance")
    assert ours["Subject"].startswith("Your balance: ")
    return ours


async def statement(talk: Conversation) -> EmailMessage:
    await Contact.filter(email=ACME).update(role="approver")  # statements need an approver
    ours = await talk.ask(ACME, "statement")
    assert ours["Subject"].startswith("Statement of account")
    return ours


async def alert(talk: Conversation) -> EmailMessage:
    return await talk.alert()


async def digest(talk: Conversation) -> EmailMessage:
    return await talk.digest()


KINDS: dict[str, Callable[[Conversation], Awaitable[EmailMessage]]] = {
    "listing": listing, "detail": detail, "balance": balance, "statement": statement,
    "alert": alert, "digest": digest,
}
# How people answer, per language: the reply prefix, thanks, a new request (and what its
# answer's subject says), and the attribution line of the quoted history.
LANGUAGES = {
    "en": ("Re: ", "Thanks!", "Could you also send the overdue invoices?", "Overdue invoices",
           "On Mon, 2 Mar 2026 at 10:00, Invoices <invoices@localhost> wrote:"),
    "de": ("AW: ", "Vielen Dank, passt so!", "Bitte schicken Sie mir noch die überfälligen "
           "Rechnungen.", "Überfällige Rechnungen",
           "Am Mo., 2. März 2026 um 10:00 Uhr schrieb Invoices <invoices@localhost>:"),
}


def quoted(ours: EmailMessage, attribution: str) -> str:
    """Our whole mail, quoted under the attribution, as a mail client quotes it."""
    lines = [f"> {line}" for line in text_of(ours).splitlines()]
    return f"{attribution}\n> {ours['Subject']}\n" + "\n".join(lines) + "\n"


def is_short_answer(answer: EmailMessage | None, language: str = "en") -> bool:
    assert answer is not None
    body = text_of(answer)
    welcome, word = SHORT[language]
    return answer["Subject"] == welcome and HELP not in body and word in body.lower() \
        and len(body) < 400


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", KINDS)
async def test_a_reply_to_our_mail_is_read_for_its_new_text_only(
    conversation: Conversation, kind: str, language: str,
) -> None:
    prefix, thanks, request, answered, attribution = LANGUAGES[language]
    ours = await KINDS[kind](conversation)
    contact = str(ours["To"])
    subject = prefix + str(ours["Subject"])
    if contact == GLOBEX:  # her own locale (en_US) wins over the language she writes in
        language, answered = "en", LANGUAGES["en"][3]

    # "thanks", bare and above the quoted history: the short answer, never the help.
    for body in (f"{thanks}\n", f"{thanks}\n\n{quoted(ours, attribution)}"):
        sent = await conversation.write(contact, subject, body, replying_to=ours)
        assert is_short_answer(conversation.answer_to(sent), language), (kind, body)

    # A new request above the quoted history: exactly that request, nothing from our
    # subject (a listing, a balance, an invoice) or from the quoted lines.
    sent = await conversation.write(contact, subject, f"{request}\n\n{quoted(ours, attribution)}",
                                    replying_to=ours)
    answer = conversation.answer_to(sent)
    assert answer is not None
    assert answer["Subject"].startswith(answered), answer["Subject"]
    assert "requests" not in answer["Subject"]  # one request: no combined answer
    assert HELP not in text_of(answer)


@pytest.mark.parametrize("kind", ["listing", "balance", "alert"])
async def test_our_subject_alone_marks_a_reply_even_without_threading_headers(
    conversation: Conversation, kind: str,
) -> None:
    ours = await KINDS[kind](conversation)
    contact = str(ours["To"])
    sent = await conversation.write(contact, f"Re: {ours['Subject']}", "ok thanks\n")
    assert is_short_answer(conversation.answer_to(sent))
    sent = await conversation.write(contact, f"SV: {ours['Subject']}", "overdue invoices\n")
    answer = conversation.answer_to(sent)
    assert answer is not None and answer["Subject"].startswith("Overdue invoices")


async def test_a_reply_with_only_the_quoted_history_gets_no_answer(
    conversation: Conversation,
) -> None:
    ours = await listing(conversation)
    sent = await conversation.write(ACME, f"Re: {ours['Subject']}",
                                    f"\n{quoted(ours, LANGUAGES['en'][4])}", replying_to=ours)
    assert conversation.answer_to(sent) is None
    row = await InboundMessage.get(message_key=str(sent["Message-ID"]).strip("<>"))
    assert row.outcome == "empty_reply"
    assert await AuditEvent.filter(action="bot.email.empty_reply").exists()


async def test_thanks_and_a_request_in_one_reply_answer_the_request_only(
    conversation: Conversation,
) -> None:
    ours = await balance(conversation)
    sent = await conversation.write(ACME, f"Re: {ours['Subject']}",
                                    "Thanks a lot! Could you send invoice INV-2026-1001 as well?\n",
                                    replying_to=ours)
    answer = conversation.answer_to(sent)
    assert answer is not None and answer["Subject"] == "Invoice INV-2026-1001"


async def test_a_fresh_thanks_is_answered_briefly_too(conversation: Conversation) -> None:
    sent = await conversation.write(ACME, "Merci beaucoup", "")
    assert is_short_answer(conversation.answer_to(sent), "fr")


@pytest.fixture
async def quiet(  # type: ignore[no-untyped-def]
    make_config: Any, sink: SmtpSink, renderer: PdfRenderer, orm: str, tmp_path: Path,
) -> AsyncIterator[Conversation]:
    """The same service with email.answer_thanks = false."""
    config = alert_config(make_config, sink, INVOICEBOT_EMAIL_ANSWER_THANKS="false")
    async with running_alerts(config, sink, renderer, tmp_path) as run:
        talk = Conversation(run)
        await talk.world()
        yield talk


async def test_with_answer_thanks_off_a_thanks_gets_no_reply_at_all(quiet: Conversation) -> None:
    ours = await listing(quiet)
    for language in LANGUAGES:
        prefix, thanks, request, answered, attribution = LANGUAGES[language]
        sent = await quiet.write(ACME, prefix + str(ours["Subject"]),
                                 f"{thanks}\n\n{quoted(ours, attribution)}", replying_to=ours)
        assert quiet.answer_to(sent) is None
        sent = await quiet.write(ACME, prefix + str(ours["Subject"]), f"{request}\n",
                                 replying_to=ours)
        answer = quiet.answer_to(sent)
        assert answer is not None and answer["Subject"].startswith(answered)
