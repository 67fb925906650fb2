"""Watching how a contact's account page and links are used.

A contact becomes one AR item (EscalationKind.ACCESS_PATTERN), and step-up is required
for them (vault.stepup), when in the last 24 hours
  - their downloads, or their page views, reach access.watch_factor times their usual
    (the daily average over access.watch_baseline before those 24 hours, from the audit
    rows every download and page view writes, on the audit trail's clock) and at least
    access.watch_downloads_floor or access.watch_views_floor;
  - one page session, or one download link, is used from two networks within
    access.watch_networks_within (a network is an IPv4 /24 or an IPv6 /48, so a phone
    moving between addresses of one provider's block is one network);
  - access.watch_refused_codes wrong step-up codes are typed for them within 24 hours.
While a watch is open, further hits are counted on it, never a second AR item. It ends
when AR runs `invoicebot access clear --contact EMAIL`, or once access.watch_quiet has
passed since its last hit.
"""

from __future__ import annotations

import ipaddress
from datetime import datetime, timedelta

from vault import audit
from vault.config_access import WatchRules
from vault.escalations import escalate
from vault.models import AccessWatch, AccountSession, AuditEvent, Contact, StepUpFailure
from vault.vocabulary import EscalationKind

DAY = timedelta(days=1)
DOWNLOAD = "vault.document.download"
VIEW = "vault.account.viewed"
TOUCH_EVERY = timedelta(minutes=1)  # a session's network time is written at most this often


def network_of(ip: str) -> str:
    """The /24 (IPv4) or /48 (IPv6) an address belongs to; "" for no address."""
    try:
        address = ipaddress.ip_address(ip.strip())
    except ValueError:
        return ""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


async def active(contact_id: int, now: datetime, rules: WatchRules) -> AccessWatch | None:
    """The contact's open watch: not cleared, and hit within the quiet period."""
    return await AccessWatch.filter(contact_id=contact_id, cleared_at=None,
                                    last_hit_at__gt=now - rules.quiet).order_by("-id").first()


async def hit(contact: Contact, reason: str, now: datetime, rules: WatchRules) -> AccessWatch:
    """Record one hit: a new watch and its one AR item, or one more hit on the open one."""
    current = await active(contact.id, now, rules)
    if current is not None:
        await AccessWatch.filter(id=current.id).update(
            last_hit_at=now, hits=current.hits + 1, counted_until=audit.now())
        return current
    row = await AccessWatch.create(contact_id=contact.id, raised_at=now, last_hit_at=now,
                                   reason=reason[:200], counted_until=audit.now())
    await audit.record("vault.access.watched", account_id=contact.account_id,
                       contact_id=contact.id, reason=reason)
    await escalate(EscalationKind.ACCESS_PATTERN, f"access-watch:{row.id}", at=now,
                   account_id=contact.account_id, contact_id=contact.id,
                   address=contact.email,
                   summary=f"{reason}. Step-up is required for {contact.email} until "
                           f"`invoicebot access clear --contact {contact.email}` or "
                           f"{_span(rules.quiet)} without another such hit.")
    return row


async def clear(contact: Contact, now: datetime) -> int:
    """AR has checked with the contact: every open watch ends, its AR item resolved."""
    from vault.models import Escalation  # the AR item of each watch, by its key

    open_ids = await AccessWatch.filter(contact_id=contact.id, cleared_at=None
                                        ).values_list("id", flat=True)
    await AccessWatch.filter(id__in=list(open_ids)).update(cleared_at=now)
    keys = [f"access-watch:{i}" for i in open_ids]
    await Escalation.filter(source_key__in=keys).update(resolved=True)
    await audit.record("vault.access.cleared", account_id=contact.account_id,
                       contact_id=contact.id, watches=len(open_ids))
    return len(open_ids)


async def volume(contact: Contact, action: str, now: datetime, rules: WatchRules) -> None:
    """Hit when the last 24 hours' downloads (or page views) far exceed the usual."""
    floor = rules.downloads_floor if action == DOWNLOAD else rules.views_floor
    mine = AuditEvent.filter(account_id=contact.account_id, contact_id=contact.id,
                             action=action)
    # Audit rows carry the audit trail's clock, so the windows are measured on it. What
    # an earlier watch (cleared, or quiet) already counted does not count again.
    day = audit.now() - DAY
    last = await AccessWatch.filter(contact_id=contact.id).order_by("-id").first()
    since = max(day, last.counted_until or day) if last is not None else day
    recent = await mine.filter(at__gt=since).count()
    if recent < floor:
        return  # the cheap check first: most requests stop here
    before = await mine.filter(at__gt=day - rules.baseline, at__lte=day).count()
    usual = before / (rules.baseline / DAY)
    if recent >= rules.factor * usual:
        what = "downloads" if action == DOWNLOAD else "page views"
        await hit(contact, f"{recent} {what} within 24 hours; usual {usual:.1f} a day",
                  now, rules)


async def session_network(session: AccountSession, contact: Contact, ip: str,
                          now: datetime, rules: WatchRules) -> None:
    """Hit when one session moves to another network within networks_within."""
    network = network_of(ip)
    if not network:
        return
    seen = session.network_at
    if session.network and network != session.network and seen is not None \
            and now - seen <= rules.networks_within:
        await hit(contact, f"one account page session used from {session.network} and "
                           f"{network} within {_span(now - seen)}", now, rules)
    if network != session.network or seen is None or now - seen >= TOUCH_EVERY:
        await AccountSession.filter(id=session.id).update(network=network, network_at=now)
        session.network, session.network_at = network, now


async def link_networks(grant_id: str, contact: Contact, ip: str, now: datetime,
                        rules: WatchRules) -> None:
    """Hit when one download link was used from another network within networks_within
    (from its audit rows: every download names its grant and IP)."""
    network = network_of(ip)
    rows = await AuditEvent.filter(account_id=contact.account_id, contact_id=contact.id,
                                   action=DOWNLOAD, at__gte=audit.now() - rules.networks_within)
    others = {network_of(r.ip) for r in rows if r.data.get("grant") == grant_id} - {network, ""}
    if network and others:
        await hit(contact, f"one download link used from {sorted(others)[0]} and {network} "
                           f"within {_span(rules.networks_within)}", now, rules)


async def refused_codes(contact: Contact, now: datetime, rules: WatchRules) -> None:
    wrong = await StepUpFailure.filter(contact_id=contact.id, at__gt=now - DAY).count()
    if wrong >= rules.refused_codes:
        await hit(contact, f"{wrong} wrong step-up codes within 24 hours", now, rules)


def _span(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds % 86400 == 0 and seconds:
        return f"{seconds // 86400} days"
    if seconds >= 3600:
        return f"{seconds / 3600:g} hours"
    return f"{max(1, round(seconds / 60))} minutes"
