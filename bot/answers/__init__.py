"""The answers to each command, one module per kind; Context is what they all receive.

An answer reads the vault only through ctx.scope (the contact's account), makes links
only through ctx.link (a grant re-checked against that scope) and returns a Reply.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from bot.messages import Link, Request
from vault import links, render_queue
from vault.clock import Clock
from vault.config import Config
from vault.documents import DocumentStore
from vault.formats import Formats
from vault.invoices import AccountScope
from vault.models import Document, Invoice
from vault.statements import DocumentRenderer

MAX_ROWS = 20  # a reply lists at most this many invoices; more are summarised and zipped


@dataclass(frozen=True)
class Tools:
    """What answers share across requests: config, link signing, clock, PDFs."""

    config: Config
    signer: links.LinkSigner
    clock: Clock  # the service's; a fixed past one for `invoicebot ask --today`
    renderer: DocumentRenderer
    store: DocumentStore

    async def ensure_pdfs(self, invoices: list[Invoice]) -> None:
        """Render now the PDFs these invoices are still waiting for (history the render
        queue has not reached yet): the reply links them."""
        await render_queue.ensure_pdfs(invoices, self.renderer, self.store, self.config.seller,
                                       clock=self.clock)


@dataclass(frozen=True)
class Context:
    """One request line of one contact's message."""

    scope: AccountScope
    fmt: Formats
    today: date
    request: Request
    line: int  # position of this request in the message, for idempotency keys
    tools: Tools

    @property
    def now(self) -> datetime:
        return self.tools.clock.now()

    @property
    def key(self) -> str:
        """Stable for this request line across reprocessing of the same message."""
        reference = self.request.reference or self.request.received_at.isoformat()
        return f"{self.request.channel}:{reference}:{self.line}"

    async def link(self, documents: list[Document], label: str) -> Link:
        """A signed link letting this contact fetch these documents (same account only)."""
        return (await self.links([(documents, label)]))[0]

    async def links(self, wanted: list[tuple[list[Document], str]]) -> list[Link]:
        """link() for each (documents, label), granted together (links.grant_each)."""
        grants = await links.grant_each(self.scope, wanted, self.tools.config.link_ttl,
                                        self.now)
        return [Link(label=label, expires_at=grant.expires_at, url=links.link_url(
                    self.tools.config.public_url, self.tools.signer, grant))
                for (_, label), grant in zip(wanted, grants, strict=True)]

    def expiry(self) -> str:
        return self.fmt.moment(self.now + self.tools.config.link_ttl)
