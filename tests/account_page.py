"""Helpers for the account page's tests: a contact's account link from a real reply
mail, and an HTTP client that keeps the page's cookie like a browser."""

from __future__ import annotations

import re

import httpx

from tests.alerting import Alerting, text_of
from tests.harness import PUBLIC_URL, request_mail
from tests.test_disputes_e2e import send

ACCOUNT_LINK = re.compile(r"Open your account: (\S+/a/\S+)")
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


async def account_link_by_mail(alerting: Alerting, sender: str, text: str = "unpaid") -> str:
    """Ask the bot by email and return the "Open your account" link of its reply."""
    before = len(alerting.mails_to(sender))
    await send(alerting, request_mail(sender, text))
    await alerting.settled()
    reply = alerting.mails_to(sender)[before]
    found = ACCOUNT_LINK.search(text_of(reply))
    assert found, text_of(reply)
    return found[1]


def browser(alerting: Alerting) -> httpx.AsyncClient:
    """A cookie-keeping client on the running service (the public URL mapped to it)."""
    return httpx.AsyncClient(base_url=f"http://127.0.0.1:{alerting.service.http_port}",
                             headers={"User-Agent": "account-test/1.0"})


def local(url: str) -> str:
    return url.removeprefix(PUBLIC_URL)


def csrf_of(page: str) -> str:
    found = CSRF.search(page)
    assert found, page
    return found[1]


async def open_session(client: httpx.AsyncClient, link: str) -> httpx.Response:
    """GET the link's page, click "Open my account"; the account page it lands on."""
    page = await client.get(local(link))
    assert page.status_code == 200, page.text
    opened = await client.post(local(link), data={"csrf": csrf_of(page.text)})
    assert opened.status_code == 303, opened.text
    return await client.get(opened.headers["location"])
