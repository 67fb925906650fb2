"""handle(request) -> Answer: the one path every channel's question takes.

verify the contact -> parse the command -> query the vault (account-scoped) -> grant and
sign links -> build the reply. Channels only translate; they never query the vault.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from tortoise.transactions import in_transaction

from bot import replies
from bot.commands import Command, Help, ListInvoices, ShowInvoice, Unclear, parse
from bot.identity import Refusal, identify
from bot.messages import InvoiceLine, Link, Reply, Request
from bot.replies import Formats
from vault import audit, links
from vault.config import Config
from vault.invoices import AccountScope
from vault.models import Contact, Escalation, Invoice
from vault.timeutil import today_in, utcnow

RECENT = 20


@dataclass(frozen=True)
class Answer:
    """The reply and who may receive it: only ever an address on file (or nobody)."""

    reply: Reply
    recipient: str | None
    contact_id: int | None
    refused: str = ""  # the refusal kind, when the sender got no invoice data


class Pipeline:
    def __init__(
        self,
        config: Config,
        signer: links.LinkSigner,
        clock: Callable[[], datetime] = utcnow,
        today: Callable[[str], date] = today_in,
    ) -> None:
        self.config = config
        self.signer = signer
        self.clock = clock  # when links expire
        self.today = today  # what "March" means, in the contact's time zone

    async def handle(self, request: Request) -> Answer:
        who = await identify(request)
        if isinstance(who, Refusal):
            return await self._refuse(request, who)
        scope = await AccountScope.for_contact(who)
        fmt = Formats.of(who.locale or scope.account.locale, who.timezone or scope.account.timezone)
        command = self._command(request.text, fmt)
        reply = await self._answer(scope, command, fmt)
        await audit.record(
            "bot.request.answered", account_id=scope.account.id, contact_id=who.id,
            channel=request.channel, command=type(command).__name__, reference=request.reference,
        )
        return Answer(reply=reply, recipient=who.email, contact_id=who.id)

    def _command(self, text: str, fmt: Formats) -> Command | Unclear:
        """The first line that is understood; the subject comes first on email."""
        today = self.today(fmt.timezone)
        for line in text.splitlines() or [text]:
            command = parse(line, today, fmt.locale)
            if not isinstance(command, Unclear):
                return command
        return Unclear(text)

    async def _answer(self, scope: AccountScope, command: Command | Unclear, fmt: Formats) -> Reply:
        if isinstance(command, ListInvoices):
            return await self._listing(scope, command, fmt)
        if isinstance(command, ShowInvoice):
            return await self._detail(scope, command, fmt)
        return replies.help_reply(understood=isinstance(command, Help))

    async def _listing(self, scope: AccountScope, command: ListInvoices, fmt: Formats) -> Reply:
        title = _title(command, fmt)
        filters = command.filters
        if filters.period is not None:
            found = await scope.in_period(filters.period.start, filters.period.end,
                                          filters.statuses)
        elif filters.statuses:
            found = await scope.with_status(filters.statuses)
        else:
            found = await scope.recent(RECENT)
        if not found:
            return replies.empty_period(title, await scope.latest(), fmt)
        # One transaction for all the reply's grants: one commit (one fsync), not one each.
        async with in_transaction():
            rows = [await self._row(scope, invoice, fmt) for invoice in found]
        return replies.listing(title, rows, self._expiry(), fmt)

    async def _detail(self, scope: AccountScope, command: ShowInvoice, fmt: Formats) -> Reply:
        invoice = await scope.by_number(command.ref.text)
        if invoice is None:
            return replies.not_found(command.ref.text)
        return replies.detail(invoice, await self._row(scope, invoice, fmt), self._expiry(), fmt)

    async def _row(self, scope: AccountScope, invoice: Invoice, fmt: Formats) -> InvoiceLine:
        link = None
        if invoice.document_id is not None:
            documents = await scope.documents([invoice.document_id])
            grant = await links.grant(scope, documents, invoice.number, self.config.link_ttl,
                                      self.clock())
            url = links.link_url(self.config.public_url, self.signer, grant)
            link = Link(label=invoice.number, url=url, expires_at=grant.expires_at)
        return replies.invoice_row(invoice, link, fmt)

    def _expiry(self) -> datetime:
        return self.clock() + self.config.link_ttl

    async def _refuse(self, request: Request, refusal: Refusal) -> Answer:
        contact: Contact | None = refusal.contact
        account_id = contact.account_id if contact else None
        await Escalation.get_or_create(
            source_key=f"{request.channel}:{request.reference or request.received_at}:refusal",
            defaults={
                "at": self.clock(), "kind": refusal.kind, "account_id": account_id,
                "contact_id": contact.id if contact else None, "address": request.address,
                "summary": f"{refusal.kind.replace('_', ' ')} via {request.channel}",
            },
        )
        await audit.record("bot.request.refused", account_id=account_id,
                           contact_id=contact.id if contact else None, reason=refusal.kind,
                           channel=request.channel, reference=request.reference)
        # A notice only ever goes to an address on file, never to whoever wrote.
        recipient = contact.email if contact and contact.active else None
        return Answer(reply=replies.neutral_notice(), recipient=recipient,
                      contact_id=contact.id if contact else None, refused=refusal.kind)


def _title(command: ListInvoices, fmt: Formats) -> str:
    filters = command.filters
    status = "/".join(replies.STATUS_LABELS[s] for s in filters.statuses)
    if filters.period is not None:
        month = fmt.month(filters.period)
        return f"{status.capitalize()} invoices in {month}" if status else f"Invoices in {month}"
    if filters.statuses:
        return "Unpaid invoices" if len(filters.statuses) > 1 else f"{status.capitalize()} invoices"
    return "Your latest invoices"

