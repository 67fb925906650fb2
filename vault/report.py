"""The figures a seller's finance lead asks for, from stored rows, for any past period:
`invoicebot report` prints them and the AR digest carries a one-line summary.

Sources (each fact read where it is stored, so any period can be reported while its rows
are kept, [retention]): requests and their outcomes, and who asked on which channel, from
the audit rows bot.request.answered / bot.request.refused; downloads from
vault.document.download; disputes from vault.invoice.disputed; time to retrieval from
each reply's outbox row (request_received_at -> sent_at); the requests not understood from
AR's `unclear` escalations (a verified contact's words, redacted of numbers and tokens).

"Tickets avoided" estimates the requests AR would otherwise have answered by hand: those
answered automatically. Escalated requests reached a person anyway. What the operator asks
with `invoicebot ask` (channel cli) is not a contact's request and is left out.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tortoise.queryset import QuerySet

from vault.escalations import redact
from vault.models import AuditEvent, Contact, Escalation, OutboxMessage
from vault.vocabulary import Channel, EscalationKind, OutboxKind, OutboxState, RequestOutcome

REQUEST_ACTIONS = ("bot.request.answered", "bot.request.refused")
DOWNLOAD_ACTION = "vault.document.download"
DISPUTE_ACTION = "vault.invoice.disputed"
PAGE_LOGIN_ACTION = "vault.account.session_started"  # a sign-in to the account page
TOP_NOT_UNDERSTOOD = 10
_UNVERIFIED_REASONS = {EscalationKind.UNAUTHENTICATED.value, EscalationKind.UNLINKED.value}
_NUMBER = re.compile(r"\d[\d.,:/-]*")
_TOKENISH = re.compile(r"\b[A-Za-z0-9_-]{20,}\b")  # a pasted token or id, letters and digits
_EMAIL = re.compile(r"\S+@\S+")


@dataclass
class Report:
    since: datetime | None
    account: str | None
    outcomes: Counter[str] = field(default_factory=Counter)
    retrieval_ms: list[float] = field(default_factory=list)
    downloads: int = 0
    downloads_by_contact: Counter[str] = field(default_factory=Counter)
    page_logins_by_contact: Counter[str] = field(default_factory=Counter)
    active_contacts: dict[str, set[int]] = field(default_factory=dict)
    disputes: int = 0
    not_understood_texts: Counter[str] = field(default_factory=Counter)

    @property
    def requests(self) -> int:
        return sum(self.outcomes.values())

    def figures(self) -> dict[str, Any]:
        """Every figure by name: the JSON document, and what text and CSV print."""
        count = self.outcomes.__getitem__
        return {
            "since": self.since.date().isoformat() if self.since else None,
            "account": self.account,
            "requests": self.requests,
            "answered": count(RequestOutcome.ANSWERED),
            "escalated": count(RequestOutcome.ESCALATED),
            "not_understood": count(RequestOutcome.NOT_UNDERSTOOD),
            "unverified": count(RequestOutcome.UNVERIFIED),
            "refused": count(RequestOutcome.REFUSED),
            "tickets_avoided": count(RequestOutcome.ANSWERED),
            "replies_timed": len(self.retrieval_ms),
            "time_to_retrieval_p50_ms": percentile(self.retrieval_ms, 50),
            "time_to_retrieval_p90_ms": percentile(self.retrieval_ms, 90),
            "downloads": self.downloads,
            "downloads_per_contact": dict(sorted(self.downloads_by_contact.items())),
            "page_logins": sum(self.page_logins_by_contact.values()),
            "page_logins_per_contact": dict(sorted(self.page_logins_by_contact.items())),
            "active_contacts_by_channel": {c: len(ids) for c, ids in
                                           sorted(self.active_contacts.items())},
            "disputes": self.disputes,
            "top_not_understood": [{"text": t, "count": n} for t, n in
                                   self.not_understood_texts.most_common(TOP_NOT_UNDERSTOOD)],
        }

    def summary_line(self) -> str:
        """One line for the AR digest."""
        f = self.figures()
        p50 = f["time_to_retrieval_p50_ms"]
        speed = f", median time to retrieval {p50 / 1000:.1f} s" if p50 is not None else ""
        return (f"{f['requests']} requests: {f['answered']} answered automatically (tickets "
                f"avoided), {f['escalated']} escalated, {f['not_understood']} not understood, "
                f"{f['unverified'] + f['refused']} refused or unverified{speed}; "
                f"{f['downloads']} downloads; {f['disputes']} disputes")


def percentile(values: list[float], p: int) -> float | None:
    """Nearest-rank percentile; None without values."""
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[max(math.ceil(p / 100 * len(ordered)) - 1, 0)], 1)


def redact_request(text: str) -> str:
    """A request as AR may read it in a report: no numbers, tokens, codes or addresses."""
    text = _EMAIL.sub("<address>", redact(text))
    text = _TOKENISH.sub("<token>", text)
    return " ".join(_NUMBER.sub("#", text).lower().split())[:200]


async def build(since: datetime | None, account_id: int | None = None,
                account_label: str | None = None) -> Report:
    """The report over rows at or after `since` (None: all kept), for one account or all."""
    report = Report(since, account_label)

    def scoped(query: QuerySet[Any], at: str = "at") -> QuerySet[Any]:
        if since is not None:
            query = query.filter(**{f"{at}__gte": since})
        return query if account_id is None else query.filter(account_id=account_id)

    await _requests(report, scoped(AuditEvent.filter(action__in=REQUEST_ACTIONS)))
    await _per_contact(report.downloads_by_contact,
                       scoped(AuditEvent.filter(action=DOWNLOAD_ACTION)))
    report.downloads = sum(report.downloads_by_contact.values())
    await _per_contact(report.page_logins_by_contact,
                       scoped(AuditEvent.filter(action=PAGE_LOGIN_ACTION)))
    report.disputes = await scoped(AuditEvent.filter(action=DISPUTE_ACTION)).count()
    for summary in await scoped(Escalation.filter(kind=EscalationKind.UNCLEAR)) \
            .values_list("summary", flat=True):
        report.not_understood_texts[redact_request(str(summary))] += 1
    replies = OutboxMessage.filter(kind=OutboxKind.REPLY, state=OutboxState.SENT,
                                   request_received_at__isnull=False)
    if since is not None:
        replies = replies.filter(sent_at__gte=since)
    if account_id is not None:
        replies = replies.filter(contact__account_id=account_id)
    for sent, received in await replies.values_list("sent_at", "request_received_at"):
        report.retrieval_ms.append(max((sent - received).total_seconds() * 1000, 0.0))
    return report


async def _requests(report: Report, query: QuerySet[Any]) -> None:
    for action, contact_id, data in await query.values_list("action", "contact_id", "data"):
        if data.get("channel") == Channel.CLI:  # the operator trying `invoicebot ask`
            continue
        report.outcomes[_outcome(str(action), data)] += 1
        if action == "bot.request.answered" and contact_id is not None:
            channel = str(data.get("channel", "")) or "unknown"
            report.active_contacts.setdefault(channel, set()).add(int(contact_id))


def _outcome(action: str, data: dict[str, Any]) -> str:
    """The stored outcome; rows written before outcomes were stored are read by action."""
    if data.get("outcome"):
        return str(data["outcome"])
    if action == "bot.request.answered":
        return RequestOutcome.ANSWERED.value
    return (RequestOutcome.UNVERIFIED if data.get("reason") in _UNVERIFIED_REASONS
            else RequestOutcome.REFUSED).value


async def _per_contact(counts: Counter[str], query: QuerySet[Any]) -> None:
    ids: list[Any] = await query.values_list("contact_id", flat=True)
    by_id = Counter(int(c) for c in ids if c is not None)
    emails = dict(await Contact.filter(id__in=list(by_id)).values_list("id", "email"))
    for contact_id, n in by_id.items():
        counts[str(emails.get(contact_id, f"contact {contact_id}"))] += n
