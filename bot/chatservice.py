"""The chat side of the service: the enabled channels, their inbox worker, senders, routes
and the one-click link offers for email replies. bot.service wires this in."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from starlette.routing import BaseRoute

from bot.channels.slack import SlackChannel
from bot.channels.slack_link import SlackLinkPages
from bot.channels.slack_send import SlackSender
from bot.channels.telegram import TelegramChannel
from bot.channels.telegram_send import TelegramSender
from bot.chatguard import ChatUser, Guard
from bot.chatinbox import ChatInbox
from bot.chatlink import Linker
from bot.chatunlink import ChatUnlink
from bot.inbound import InboundQueue
from bot.messages import Link, Reply
from bot.outgoing import reply_message
from bot.pipeline import Pipeline
from notifier import outbox
from notifier.delivery import Sender
from vault.clock import Clock
from vault.config import Config
from vault.leases import Keeper, Leases
from vault.models import ChatLink, Contact
from vault.vocabulary import Channel, OutboxKind


class ChatChannels:
    def __init__(self, config: Config, pipeline: Pipeline,
                 wake_delivery: Callable[[], None],
                 clock: Clock, leases: Leases) -> None:
        self.wake_delivery = wake_delivery
        self.clock = clock
        self.leases = leases
        self.keepers: list[Keeper] = []
        self.offer_ttl = config.link_ttl  # one-click offers expire with the download links
        # The newest secret key keys the code HMACs (a rotation voids codes in flight:
        # they live ten minutes).
        self.unlink = ChatUnlink(config.secret_keys, config.public_url)
        self.linker = Linker(Guard(config.email, self.unlink.url), config.secret_keys[-1],
                             clock)
        self.inbox = ChatInbox(pipeline, self.linker, wake_delivery)
        self.slack = SlackChannel(config.slack, self.inbox.receive, clock) if config.slack else None
        self.telegram = (TelegramChannel(config.telegram, self.inbox.receive, clock)
                         if config.telegram else None)
        self.slack_pages = None
        if self.slack is not None and config.slack and config.slack.client_id:
            self.slack_pages = SlackLinkPages(config.slack, config.secret_keys,
                                              config.public_url, self.linker, self.slack.client,
                                              self._welcome)

    @property
    def enabled(self) -> bool:
        return self.slack is not None or self.telegram is not None

    def routes(self) -> list[BaseRoute]:
        routes: list[BaseRoute] = [*self.unlink.routes()] if self.enabled else []
        for part in (self.slack, self.slack_pages, self.telegram):
            if part is not None:
                routes += part.routes()
        return routes

    def senders(self) -> list[Sender]:
        senders: list[Sender] = []
        if self.slack is not None:
            senders.append(SlackSender(self.slack.client))
        if self.telegram is not None:
            senders.append(TelegramSender(self.telegram.application.bot))
        return senders

    def queues(self) -> list[InboundQueue[Any]]:
        """The stored chat messages the service retries (none with chat off: nothing is
        answered on a channel that is not running)."""
        return [self.inbox.queue] if self.enabled else []

    async def start(self) -> None:
        """Queue what arrived before a crash, then connect (call with HTTP listening:
        Telegram posts to the webhook as soon as it is set). Slack socket mode and
        Telegram polling receive in one instance only: the holder of their lease
        (vault.leases), which another instance takes over when the holder dies."""
        if not self.enabled:
            return
        await self.inbox.queue.start()
        if self.telegram is not None:
            await self.telegram.start()
        for name, channel in (("slack-socket", self.slack), ("telegram-polling", self.telegram)):
            if channel is not None and channel.runs_once:
                keeper = self.leases.keeper(name, channel.connect, channel.disconnect)
                self.keepers.append(keeper)
                await keeper.start()

    async def stop(self) -> None:
        for keeper in self.keepers:
            await keeper.stop()
        if self.telegram is not None:
            await self.telegram.stop()
        await self.inbox.queue.stop()

    async def offers(self, contact_id: int, platforms: Sequence[str]) -> list[Link]:
        """One-click links for the email reply to "connect telegram": for each channel
        asked for that is enabled and not linked yet, a fresh random token (Telegram deep
        link, Slack sign-in page), expiring with the download links (links.ttl)."""
        linked = {link.platform for link in await ChatLink.filter(contact_id=contact_id)}
        wanted = set(platforms) - linked
        contact = await Contact.get(id=contact_id)
        expires = self.clock.now() + self.offer_ttl
        offers = []
        if (self.telegram is not None and self.telegram.username
                and Channel.TELEGRAM in wanted):
            token = await self.linker.offer(contact, Channel.TELEGRAM, self.offer_ttl)
            offers.append(Link("Ask us in Telegram",
                               f"https://t.me/{self.telegram.username}?start={token}", expires))
        if self.slack_pages is not None and Channel.SLACK in wanted:
            token = await self.linker.offer(contact, Channel.SLACK, self.offer_ttl)
            offers.append(Link("Ask us in Slack", self.slack_pages.url(token), expires))
        return offers

    async def _welcome(self, user: ChatUser, reply: Reply, key: str) -> None:
        """After a one-click Slack link, say so in the DM, as any other answer."""
        link = await ChatLink.get_or_none(platform=user.platform, team_id=user.team_id,
                                          user_id=user.user_id)
        await outbox.enqueue(reply_message(
            reply, key=f"chat-linked:{key}", channel=user.platform, kind=OutboxKind.REPLY,
            recipient=user.chat_id, contact_id=link.contact_id if link else None),
            now=self.clock.now())
        self.wake_delivery()
