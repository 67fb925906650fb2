"""What the bot hands to AR (Escalation.kind), each with what AR reads and can do.

Every kind has its AR label and action here, next to it: the AR digest reads them from
the member, and a kind without them fails the vocabulary tests. `at_once_allowed` lists
the kinds a seller may ask to hear of at once (ar.escalate_at_once) rather than in the
morning digest.
"""

from __future__ import annotations

from enum import StrEnum


class EscalationKind(StrEnum):
    UNKNOWN_SENDER = "unknown_sender"
    UNAUTHENTICATED = "unauthenticated"
    INACTIVE_CONTACT = "inactive_contact"
    MALFORMED_SENDER = "malformed_sender"
    UNLINKED = "unlinked"
    WRONG_WORKSPACE = "wrong_workspace"
    DEAD_DELIVERY = "dead_delivery"
    BOUNCE = "bounce"
    DISPUTE = "dispute"
    PERSON = "person"
    UNPROCESSABLE = "unprocessable"
    UNCLEAR = "unclear"
    OVERDUE_QUESTION = "overdue_question"
    LINK_LOCKED = "link_locked"
    LINK_LIMITED = "link_limited"
    E_INVOICE = "e_invoice"
    REPEATED_HEADER = "repeated_header"
    BILLING = "billing"
    ACCESS_PATTERN = "access_pattern"

    @property
    def label(self) -> str:
        """What happened, as AR reads it."""
        return _AR[self][0]

    @property
    def action(self) -> str:
        """What AR can do about it."""
        return _AR[self][1]

    @classmethod
    def at_once_allowed(cls) -> frozenset[EscalationKind]:
        return _AT_ONCE


_AT_ONCE = frozenset({
    EscalationKind.DISPUTE, EscalationKind.PERSON, EscalationKind.UNCLEAR,
    EscalationKind.DEAD_DELIVERY, EscalationKind.LINK_LOCKED, EscalationKind.BOUNCE,
    EscalationKind.LINK_LIMITED, EscalationKind.ACCESS_PATTERN,
})

_AR: dict[EscalationKind, tuple[str, str]] = {
    EscalationKind.UNKNOWN_SENDER: (
        "Mail from an address that is not a contact on file",
        "If it is a customer's new AP contact, add them (import contacts); otherwise nothing."),
    EscalationKind.UNAUTHENTICATED: (
        "Mail from a contact's address that failed sender verification",
        "Confirm with the contact by phone; if they did write, their mail server's "
        "SPF/DKIM/DMARC needs fixing."),
    EscalationKind.INACTIVE_CONTACT: (
        "Request from a deactivated contact",
        "Reactivate the contact if they still work for the customer."),
    EscalationKind.MALFORMED_SENDER: (
        "Mail with a missing, forged or several From addresses",
        "Usually spam: nothing to do unless a customer asks."),
    EscalationKind.UNLINKED: (
        "A chat message from an account not linked to any contact",
        "Nothing, unless a customer says they cannot link their chat: they link it by "
        "writing their email address to the bot."),
    EscalationKind.WRONG_WORKSPACE: (
        "A linked contact wrote from a Slack workspace that is not their company's",
        "Check the account's Slack workspace (slack_team_id); someone may be using a "
        "linked chat from outside the customer."),
    EscalationKind.DEAD_DELIVERY: (
        "A message could not be delivered",
        "Check the address or chat; alerts on that channel stay off until the contact "
        "chooses it again."),
    EscalationKind.BOUNCE: (
        "A message bounced", "Check the contact's address and correct it."),
    EscalationKind.DISPUTE: (
        "Invoice disputed",
        "Review the dispute with the customer and update the invoice in the ledger."),
    EscalationKind.PERSON: (
        "Asked to talk to a person", "Call or write to the contact."),
    EscalationKind.UNPROCESSABLE: (
        "A message the bot could not process",
        "Read it in the inbound store (invoicebot audit export names it) and answer by hand."),
    EscalationKind.UNCLEAR: (
        "A request the bot did not understand", "Answer the contact yourself."),
    EscalationKind.OVERDUE_QUESTION: (
        "Asked about overdue invoices", "Follow up on the payment with the contact."),
    EscalationKind.LINK_LOCKED: (
        "Chat linking was locked after repeated wrong codes",
        "Check with the contact: someone may be trying to link a chat to their address. "
        "After 100 wrong codes in total it stays locked until `invoicebot chat unlock "
        "--contact EMAIL`."),
    EscalationKind.LINK_LIMITED: (
        "Chat linking was paused: too many wrong codes from one chat account, or overall",
        "Someone may be guessing codes across contacts: check the chat account named; "
        "linking resumes by itself when the window has passed."),
    EscalationKind.E_INVOICE: (
        "An invoice was issued as a plain PDF: its e-invoice (Factur-X XML) could not be made",
        "Read the reason, correct the invoice or the seller/account data (address with "
        "country, tax id, totals), and send the customer a corrected invoice if they need "
        "the e-invoice."),
    EscalationKind.REPEATED_HEADER: (
        "Mail refused unread: a header that must appear once came twice",
        "Usually a replayed or forged mail (a second Subject added to a signed one): nothing "
        "to do unless a customer says their mail went unanswered. If the reason names two "
        "Authentication-Results, check that your mail relay removes incoming ones with its "
        "id."),
    EscalationKind.BILLING: (
        "Stripe reported something the vault does not follow by itself (a failed payment, "
        "an invoice marked uncollectible, a refund or a credit note)",
        "Read the summary (it names the Stripe object) and settle it in Stripe and with the "
        "customer; the invoice's status here follows only Stripe's payments and voids."),
    EscalationKind.ACCESS_PATTERN: (
        "A contact's account page or links were used unusually (far more downloads or "
        "page views than their usual, one session or link from several networks within "
        "minutes, or repeated wrong step-up codes); step-up is now required for them",
        "Check with the contact whether it was them. When it was, or once settled, run "
        "`invoicebot access clear --contact EMAIL`; otherwise step-up stays required until "
        "access.watch_quiet passes without another such hit."),
}
