"""The AR escalation digest, item by item, and what must never be in it.

Refusals come from the real pipeline and a dead delivery from the real outbox; disputes,
requests for a person, unclear requests, overdue questions and locked links are written
by other parts (the command language, the link lock) as Escalation rows of those kinds,
which is what this digest reads, so here they are made as those parts make them.
"""

from __future__ import annotations

import re
from datetime import timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy

import pytest

from bot.messages import Request
from bot.pipeline import Pipeline
from notifier import alerts, ar_digest, preferences
from notifier.delivery import dispatch_once
from notifier.email_send import wire
from notifier.message import Outgoing, chat_buttons, loads, plain_text
from tests.alerting import SELLER, at, text_of
from tests.harness import DATA
from tests.recording_sender import RecordingChatSender
from vault.clock import SYSTEM, FixedClock
from vault.config import Config
from vault.ingest.csv import import_csv
from vault.links import LinkSigner
from vault.models import (
    Account,
    AuditEvent,
    ChatLink,
    Contact,
    Digest,
    Document,
    Escalation,
    Invoice,
    InvoiceEvent,
    OutboxMessage,
)

SECRET = "PLEASE-WIRE-TO-IBAN-XX00-SECRET"
FAKE_TOKEN = "IlNFQ1JFVC1UT0tFTiI.aaaa.bbbbbbbb"
MORNING = at(SELLER, 8)


@pytest.fixture
def seller_config(make_config) -> Config:  # type: ignore[no-untyped-def]
    config: Config = make_config(INVOICEBOT_SELLER_TIMEZONE=SELLER.key,
                                 INVOICEBOT_AR_RECIPIENTS="ar@localhost,controller@localhost")
    return config


@pytest.fixture
async def vault(orm: str) -> None:
    for kind in ("accounts", "contacts"):
        await import_csv(kind, DATA / f"{kind}.csv", progress=False, clock=SYSTEM)


def context(config: Config) -> alerts.AlertContext:
    return alerts.AlertContext(config, LinkSigner(config.secret_keys))


async def refused(config: Config, address: str, authenticated: bool, n: int) -> None:
    """A request through the real pipeline; the body carries a secret and a link token."""
    pipeline = Pipeline(config, LinkSigner(config.secret_keys), FixedClock(at(SELLER, 6, n)))
    text = f"invoices March\n{SECRET}\nhttp://127.0.0.1:8080/d/{FAKE_TOKEN}"
    await pipeline.handle(Request(channel="email", address=address, text=text,
                                  authenticated=authenticated, received_at=at(SELLER, 6, n),
                                  reference=f"<msg-{n}@example>"))
    await pipeline.close()  # its own store: an S3 vault's connections


async def escalate(kind: str, email: str, summary: str, minute: int, days: int = 0) -> None:
    contact = await Contact.get(email=email)
    await Escalation.create(at=at(SELLER, 7, minute, days), kind=kind,
                            account_id=contact.account_id, contact_id=contact.id, address=email,
                            summary=summary, source_key=f"{kind}:{minute}:{days}:{summary}")


async def dead_chat_alert(config: Config, unlink_after_release: bool = False) -> None:
    """A real alert to Telegram whose bot was blocked: dead, buried, escalated. With
    `unlink_after_release`, the chat link is gone by the time the delivery dies, so
    nothing but the outbox row can say whose alert it was."""
    contact = await Contact.get(email="ap@globex.example")
    await ChatLink.create(contact=contact, platform="telegram", user_id="5", chat_id="55",
                          linked_at=at(SELLER, 5))
    await preferences.apply(contact, preferences.Change(channels=("telegram",)), None, via="t",
                            now=SYSTEM.now())
    account = await Account.get(account_id="GLOBEX")
    document = await Document.create(sha256="0" * 64, size=1, crc32=0, storage_key="x.pdf")
    invoice = await Invoice.create(account=account, number="G-9", issue_date=MORNING.date(),
                                   due_date=MORNING.date(), currency="USD", subtotal=1,
                                   tax_total=0, total=1, content_hash="x", document=document)
    await InvoiceEvent.create(at=at(SELLER, 7, 30), kind="invoice.issued", account=account,
                              invoice=invoice, cause="test")
    ctx = context(config)
    await alerts.expand(ctx, at(SELLER, 7, 40))
    await alerts.release(ctx, at(SELLER, 7, 40))
    if unlink_after_release:
        await ChatLink.filter(contact=contact).delete()
    blocked = RecordingChatSender(refuse_with="403 Forbidden: bot was blocked by the user")
    await dispatch_once(blocked, now=at(SELLER, 7, 45), signer=ctx.signer)


async def mails(key_prefix: str) -> dict[str, EmailMessage]:
    rows = await OutboxMessage.filter(key__startswith=key_prefix, channel="email")
    return {r.recipient: message_from_bytes(wire(bytes(r.payload)), policy=default_policy)
            for r in rows}  # type: ignore[misc]


async def test_the_ar_digest_lists_each_item_with_account_who_when_and_what_to_do(
    seller_config: Config, vault: None
) -> None:
    await refused(seller_config, "stranger@unknown.example", True, 1)
    await refused(seller_config, "ap@globex.example", False, 2)
    await refused(seller_config, "former@acme.example", True, 3)
    await escalate("dispute", "ap@acme.example", "INV-2026-0301: amount differs from PO", 10)
    await escalate("person", "ap@acme.example", "asked to talk to a person", 11)
    await escalate("unclear", "ap@globex.example", "request not understood", 12)
    await escalate("overdue_question", "ap@globex.example", "asked about overdue invoices", 13)
    await escalate("link_locked", "ap@acme.example",
                   "100 wrong chat-link codes within an hour; linking locked", 14)
    await dead_chat_alert(seller_config)

    count = await ar_digest.ar_digest(context(seller_config), MORNING)

    assert count == 9
    sent = await mails("digest:ar:")
    assert set(sent) == {"ar@localhost", "controller@localhost"}
    digest = sent["ar@localhost"]
    assert digest["Subject"] == f"AR digest {MORNING.date().isoformat()}: 9 items"
    blocks = [b.strip("\n") for b in text_of(digest).split("\n\n")[1:] if b.strip()]
    # Last, the week's figures (vault.report): the three refused requests above.
    assert blocks[-2:] == ["The last 7 days\n---------------",
                           "3 requests: 0 answered automatically (tickets avoided), 0 escalated,"
                           " 0 not understood, 3 refused or unverified; 0 downloads; 0 disputes"]
    blocks = blocks[:-2]
    day = MORNING.date().isoformat()
    assert blocks == [
        "Mail from an address that is not a contact on file - no account\n"
        "  who: stranger@unknown.example\n"
        f"  when: {day} 06:01 GMT\n"
        "  details: unknown sender via email\n"
        "  what you can do: If it is a customer's new AP contact, add them (import contacts); "
        "otherwise nothing.",
        "Mail from a contact's address that failed sender verification - Globex Corporation "
        "(GLOBEX)\n"
        "  who: ap@globex.example\n"
        f"  when: {day} 06:02 GMT\n"
        "  details: unauthenticated via email\n"
        "  what you can do: Confirm with the contact by phone; if they did write, their mail "
        "server's SPF/DKIM/DMARC needs fixing.",
        "Request from a deactivated contact - ACME Freight GmbH (ACME)\n"
        "  who: former@acme.example\n"
        f"  when: {day} 06:03 GMT\n"
        "  details: inactive contact via email\n"
        "  what you can do: Reactivate the contact if they still work for the customer.",
        "Invoice disputed - ACME Freight GmbH (ACME)\n"
        "  who: ap@acme.example\n"
        f"  when: {day} 07:10 GMT\n"
        "  details: INV-2026-0301: amount differs from PO\n"
        "  what you can do: Review the dispute with the customer and update the invoice in "
        "the ledger.",
        "Asked to talk to a person - ACME Freight GmbH (ACME)\n"
        "  who: ap@acme.example\n"
        f"  when: {day} 07:11 GMT\n"
        "  details: asked to talk to a person\n"
        "  what you can do: Call or write to the contact.",
        "A request the bot did not understand - Globex Corporation (GLOBEX)\n"
        "  who: ap@globex.example\n"
        f"  when: {day} 07:12 GMT\n"
        "  details: request not understood\n"
        "  what you can do: Answer the contact yourself.",
        "Asked about overdue invoices - Globex Corporation (GLOBEX)\n"
        "  who: ap@globex.example\n"
        f"  when: {day} 07:13 GMT\n"
        "  details: asked about overdue invoices\n"
        "  what you can do: Follow up on the payment with the contact.",
        "Chat linking was locked after repeated wrong codes - ACME Freight GmbH (ACME)\n"
        "  who: ap@acme.example\n"
        f"  when: {day} 07:14 GMT\n"
        "  details: 100 wrong chat-link codes within an hour; linking locked\n"
        "  what you can do: Check with the contact: someone may be trying to link a chat to "
        "their address. After 100 wrong codes in total it stays locked until `invoicebot chat "
        "unlock --contact EMAIL`.",
        "A message could not be delivered - Globex Corporation (GLOBEX)\n"
        "  who: ap@globex.example (at 55)\n"
        f"  when: {day} 07:45 GMT\n"
        "  details: alert via telegram undeliverable after 1 attempt(s): 403 Forbidden: bot "
        "was blocked by the user\n"
        "  what you can do: Check the address or chat; alerts on that channel stay off until "
        "the contact chooses it again.",
    ]


async def test_nothing_secret_reaches_the_ar_digest(seller_config: Config, vault: None) -> None:
    await refused(seller_config, "stranger@unknown.example", True, 1)
    await refused(seller_config, "ap@globex.example", False, 2)
    await dead_chat_alert(seller_config)
    dead = await OutboxMessage.get(state="dead")
    stored = loads(bytes(dead.payload))
    assert isinstance(stored, Outgoing)
    ((button,), _) = chat_buttons(stored)
    token = button.url.rpartition("/d/")[2]  # the alert's real download token

    await ar_digest.ar_digest(context(seller_config), MORNING)
    text = text_of((await mails("digest:ar:"))["ar@localhost"])
    assert "stranger@unknown.example" in text  # the address, yes
    for secret in (SECRET, FAKE_TOKEN, token, "invoices March", "/d/", "/u/"):
        assert secret not in text
    assert not re.search(r"[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{4,}\.", text)  # no signed token


async def test_a_flood_from_one_sender_is_capped_and_counted_in_the_digest(
    seller_config: Config, vault: None
) -> None:
    for n in range(1, 13):
        await refused(seller_config, "spam@flood.example", True, n)
    await escalate("person", "ap@acme.example", "asked to talk to a person", 20)

    assert await ar_digest.ar_digest(context(seller_config), MORNING) == 13
    digest = (await mails("digest:ar:"))["ar@localhost"]
    assert digest["Subject"].endswith(": 13 items")  # every item counted
    text = text_of(digest)
    assert text.count("who: spam@flood.example") == ar_digest.PER_SENDER
    assert "and 7 more from spam@flood.example" in text
    assert "who: ap@acme.example" in text  # the flood does not push out the real request


def test_a_digest_lists_at_most_max_items_and_names_at_most_max_sender_lines() -> None:
    items = [ar_digest.Item(kind="unknown_sender", what="Mail", account="no account",
                            who=f"s{n}@flood.example", when="-", summary="-", action="-")
             for n in range(60) for _ in range(3)]  # 60 senders, 3 mails each
    sections = ar_digest.sections_of(items)
    *listed, rest = sections
    assert len(listed) == ar_digest.MAX_ITEMS
    assert len(rest.notes) == ar_digest.MAX_SENDER_LINES + 1
    counted = sum(int(note.split()[1]) for note in rest.notes)
    assert counted + len(listed) == 180
    assert rest.notes[-1].endswith("other senders")


async def test_an_empty_digest_is_not_sent_and_each_period_is_sent_once(
    seller_config: Config, vault: None
) -> None:
    ctx = context(seller_config)
    assert await ar_digest.ar_digest(ctx, MORNING) == 0
    assert not await OutboxMessage.exists()
    assert (await Digest.get(recipient="ar")).state == "empty"

    # Stamped 07:30 but stored after this morning's digest: it goes in tomorrow's.
    await escalate("person", "ap@acme.example", "asked to talk to a person", 30)
    assert await ar_digest.ar_digest(ctx, MORNING + timedelta(hours=3)) == 0
    tomorrow = MORNING + timedelta(days=1)
    assert await ar_digest.ar_digest(ctx, tomorrow) == 1
    assert await ar_digest.ar_digest(ctx, tomorrow + timedelta(minutes=5)) == 0
    await escalate("person", "ap@acme.example", "asked again", 0, days=1)  # resolved below
    await Escalation.filter(summary="asked again").update(resolved=True)
    assert await ar_digest.ar_digest(ctx, tomorrow + timedelta(days=1)) == 0
    assert await OutboxMessage.filter(kind="digest").count() == 2  # tomorrow's, two recipients


async def test_disputes_and_requests_for_a_person_also_go_to_ar_at_once(
    make_config, vault: None
) -> None:  # type: ignore[no-untyped-def]
    config = make_config(INVOICEBOT_SELLER_TIMEZONE=SELLER.key,
                         INVOICEBOT_AR_SLACK_CHANNEL="C0AR", INVOICEBOT_SLACK_ENABLED="true",
                         SLACK_BOT_TOKEN="xoxb-fake",
                         SLACK_SIGNING_SECRET="signing-secret-value")
    ctx = context(config)
    now = at(SELLER, 7, 20)
    await escalate("dispute", "ap@acme.example", "INV-2026-0301: wrong quantity", 15)
    await escalate("person", "ap@globex.example", "asked to talk to a person", 16)
    await escalate("unknown_sender", "ap@globex.example", "unknown sender via email", 17)

    assert await ar_digest.escalate_at_once(ctx, now) == 2
    assert await ar_digest.escalate_at_once(ctx, now + timedelta(minutes=1)) == 0
    rows = await OutboxMessage.filter(key__startswith="ar-now:").order_by("id")
    assert [(r.channel, r.recipient) for r in rows] == [
        ("email", "ar@localhost"), ("slack", "C0AR"), ("email", "ar@localhost"),
        ("slack", "C0AR")]
    dispute = message_from_bytes(wire(bytes(rows[0].payload)), policy=default_policy)
    assert dispute["Subject"] == "AR: Invoice disputed - ACME Freight GmbH (ACME)"
    assert "INV-2026-0301: wrong quantity" in text_of(dispute)  # type: ignore[arg-type]
    slack = loads(bytes(rows[3].payload))
    assert isinstance(slack, Outgoing) and slack.contact_id is None  # AR's, no contact's
    assert "Asked to talk to a person - Globex Corporation (GLOBEX)" in plain_text(slack)


async def test_a_contacts_dead_chat_alert_names_the_route_it_switched_off(
    seller_config: Config, vault: None
) -> None:
    await dead_chat_alert(seller_config)
    assert await alerts.reconcile(context(seller_config), SYSTEM.now()) == 1
    contact = await Contact.get(email="ap@globex.example")
    settings = await preferences.settings_for(contact, None)
    assert settings.disabled == ("telegram",)
    assert settings.routes({"email", "telegram"}) == ()  # telegram was the only channel
    assert (await AuditEvent.get(action="notifier.route.disabled")).data["reason"] == (
        "403 Forbidden: bot was blocked by the user")


async def test_a_dead_alert_names_its_contact_from_its_outbox_row(
    seller_config: Config, vault: None
) -> None:
    await dead_chat_alert(seller_config, unlink_after_release=True)
    contact = await Contact.get(email="ap@globex.example")
    dead = await OutboxMessage.get(state="dead")
    assert (dead.kind, dead.recipient, dead.contact_id) == ("alert", "55", contact.id)
    escalation = await Escalation.get(kind="dead_delivery")
    assert (escalation.account_id, escalation.contact_id) == (contact.account_id, contact.id)

    assert await alerts.reconcile(context(seller_config), MORNING) == 1  # its route: off
    assert (await preferences.settings_for(contact, None)).disabled == ("telegram",)
    await ar_digest.ar_digest(context(seller_config), MORNING)
    text = text_of((await mails("digest:ar:"))["ar@localhost"])
    assert "A message could not be delivered - Globex Corporation (GLOBEX)\n" \
           "  who: ap@globex.example (at 55)\n" in text


async def test_chat_refusals_have_their_own_label_and_action(
    seller_config: Config, vault: None
) -> None:
    """An unlinked chat account, and a linked contact writing from another Slack workspace,
    reach AR as what they are, through the real pipeline."""
    account = await Account.get(account_id="ACME")
    account.slack_team_id = "TACME"
    await account.save()
    contact = await Contact.get(email="ap@acme.example")
    await ChatLink.create(contact=contact, platform="slack", team_id="TOTHER", user_id="U7",
                          chat_id="D7", linked_at=at(SELLER, 5))
    pipeline = Pipeline(seller_config, LinkSigner(seller_config.secret_keys),
                        FixedClock(at(SELLER, 6)))
    for n, (channel, address) in enumerate((("telegram", "telegram:4242"),
                                            ("slack", "slack:TOTHER:U7"))):
        await pipeline.handle(Request(channel=channel, address=address, text="unpaid",
                                      authenticated=True, received_at=at(SELLER, 6, n),
                                      reference=f"{channel}-{n}"))
    await pipeline.close()

    assert await ar_digest.ar_digest(context(seller_config), MORNING) == 2
    text = text_of((await mails("digest:ar:"))["ar@localhost"])
    assert ("A chat message from an account not linked to any contact - no account\n"
            "  who: telegram:4242\n") in text
    assert "  details: unlinked via telegram\n" in text
    assert ("they link it by writing their email address to the bot.") in text
    assert ("A linked contact wrote from a Slack workspace that is not their company's - "
            "ACME Freight GmbH (ACME)\n  who: ap@acme.example (at slack:TOTHER:U7)\n") in text
    assert "Check the account's Slack workspace (slack_team_id)" in text
    assert "Unlinked" not in text and "Wrong workspace" not in text  # no made-up labels
