"""Slack end to end: the real slack-bolt app in our running service, signed Events API
requests posted to /slack/events, answers read from a fake Slack Web API on loopback,
link codes read from the mail that reached the SMTP sink, PDFs fetched over HTTP."""

from __future__ import annotations

import io
import json
import logging
import re
import time
from collections.abc import AsyncIterator
from urllib.parse import urlencode

import httpx
import pytest
from pypdf import PdfReader

from tests.chat_harness import (
    chat_env,
    dm_channel,
    emailed_code,
    post_slack,
    processed,
    running_service,
    slack_buttons,
    slack_dm,
    slack_text,
)
from tests.fake_slack import (
    BOT_TOKEN,
    OIDC_CLIENT_ID,
    OIDC_CLIENT_SECRET,
    SIGNING_SECRET,
    TEAM,
    FakeSlack,
)
from tests.fakes import SmtpSink
from tests.harness import PUBLIC_URL, Running, request_mail, until
from vault.clock import SYSTEM
from vault.models import AuditEvent, ChatInbound, ChatLink, Contact, OutboxMessage
from vault.pdf import PdfRenderer

ANNA = "U0ANNA"
OTHER_TEAM = "T0OTHER"


@pytest.fixture
async def running(  # type: ignore[no-untyped-def]
    make_config, slack: FakeSlack, sink: SmtpSink, renderer: PdfRenderer, orm: str
) -> AsyncIterator[Running]:
    config = make_config(**chat_env(slack, None, sink))
    async with running_service(config, sink, renderer) as service:
        yield service


async def say(running: Running, slack: FakeSlack, user: str, text: str,
              team: str = TEAM) -> str:
    """Send a DM as `user`; the text of the bot's answer in that DM."""
    before = len(slack.named("chat.postMessage"))
    body = slack_dm(user, text, team=team)
    assert (await post_slack(running, body)).status_code == 200
    call = (await slack.wait_for("chat.postMessage", before + 1))[before]
    assert call.params["channel"] == dm_channel(user)
    return slack_text(call)


async def link(running: Running, slack: FakeSlack, user: str = ANNA) -> None:
    mails = len(running.sink.messages)
    typed = "link <mailto:ap@acme.example|ap@acme.example>"  # how Slack sends an address
    assert "If ap@acme.example is on file" in await say(running, slack, user, typed)
    code = await emailed_code(running.sink, mails + 1)
    # In the contact's language (vault.answer_language); it names the account either way.
    assert "ACME Freight GmbH" in await say(running, slack, user, code)


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


async def test_unlinked_user_is_refused_then_links_by_emailed_code_and_gets_march_pdfs(
    running: Running, slack: FakeSlack,
) -> None:
    refused = await say(running, slack, ANNA, "invoices March")
    assert "not linked" in refused and "link you@company.example" in refused
    assert "INV-" not in refused

    await link(running, slack)
    contact = await Contact.get(email="ap@acme.example")
    stored = await ChatLink.get(platform="slack", team_id=TEAM, user_id=ANNA)
    assert stored.contact_id == contact.id and stored.chat_id == dm_channel(ANNA)

    before = len(slack.named("chat.postMessage"))
    assert (await post_slack(running, slack_dm(ANNA, "invoices March"))).status_code == 200
    call = (await slack.wait_for("chat.postMessage", before + 1))[before]
    text = slack_text(call)
    assert "INV-2026-0301" in text and "INV-2026-0302" in text
    assert "INV-2026-0210" not in text and "INV-2026-0305" not in text
    assert "INV-2026-0301" in call.params["text"]  # the plain-text fallback
    buttons = slack_buttons(call)
    # Every reply ends with the link to the contact's account page.
    assert buttons[-1]["text"]["text"] == "Open your account"
    buttons = buttons[:-1]
    assert sorted(b["text"]["text"] for b in buttons) == ["Download INV-2026-0301",
                                                          "Download INV-2026-0302"]
    for button in buttons:
        response = await running.download(button["url"])
        assert response.status_code == 200
        number = button["text"]["text"].removeprefix("Download ")
        assert number in pdf_text(response.content)
        assert f'filename="{number}.pdf"' in response.headers["content-disposition"]
    actions = [e.action for e in await AuditEvent.filter(contact_id=contact.id)]
    assert "bot.chat.link.linked" in actions and "bot.request.answered" in actions


async def test_second_workspace_gets_nothing(running: Running, slack: FakeSlack) -> None:
    # Linking from another workspace: the same words as ever, but no code is mailed.
    mails = len(running.sink.messages)
    answer = await say(running, slack, "U0EVE", "link ap@acme.example", team=OTHER_TEAM)
    assert "If ap@acme.example is on file" in answer
    (refusal,) = await AuditEvent.filter(action="bot.chat.link.refused")
    assert refusal.data["reason"] == "wrong_workspace"
    assert refusal.data["team_id"] == OTHER_TEAM
    # A link made before the account was restricted to its workspace: silence.
    contact = await Contact.get(email="ap@acme.example")
    await ChatLink.create(contact=contact, platform="slack", team_id=OTHER_TEAM,
                          user_id="U0OLD", chat_id="D0OLD", linked_at=SYSTEM.now())
    body = slack_dm("U0OLD", "invoices March", team=OTHER_TEAM)
    assert (await post_slack(running, body)).status_code == 200
    row = await processed(f"slack:{body['event_id']}")
    assert row.outcome == "refused:wrong_workspace"
    assert not await OutboxMessage.filter(recipient="D0OLD").exists()
    assert not [c for c in slack.named("chat.postMessage") if c.params["channel"] == "D0OLD"]
    assert len(running.sink.messages) == mails  # and no code went out


@pytest.mark.parametrize("forgery", ["bad-signature", "stale-timestamp", "unsigned"])
async def test_forged_or_stale_requests_change_nothing(
    running: Running, slack: FakeSlack, forgery: str
) -> None:
    body = slack_dm(ANNA, "link ap@acme.example")
    if forgery == "bad-signature":
        response = await post_slack(running, body, secret="not-our-signing-secret")
    elif forgery == "stale-timestamp":  # correctly signed, six minutes old: a replay
        response = await post_slack(running, body, timestamp=int(time.time()) - 360)
    else:
        response = await post_slack(running, body, headers={"X-Slack-Signature": ""})
    assert response.status_code == 401
    assert await ChatInbound.all().count() == 0
    assert not slack.named("chat.postMessage")
    assert await AuditEvent.filter(action__startswith="bot.chat").count() == 0


async def test_slack_retries_and_replays_of_an_event_are_answered_once(
    running: Running, slack: FakeSlack,
) -> None:
    body = slack_dm(ANNA, "help")
    assert (await post_slack(running, body)).status_code == 200
    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    assert (await post_slack(running, body, headers=retry)).status_code == 200
    assert (await post_slack(running, body)).status_code == 200  # replayed, freshly signed
    await processed(f"slack:{body['event_id']}")
    follow_up = slack_dm(ANNA, "help")
    assert (await post_slack(running, follow_up)).status_code == 200
    await processed(f"slack:{follow_up['event_id']}")
    await until(lambda: OutboxMessage.filter(channel="slack", state="sent").count())
    await slack.wait_for("chat.postMessage", 2)
    assert await ChatInbound.all().count() == 2
    assert await OutboxMessage.filter(channel="slack").count() == 2


async def test_the_sixth_code_fails_even_if_right(running: Running, slack: FakeSlack) -> None:
    await say(running, slack, ANNA, "link ap@acme.example")
    code = await emailed_code(running.sink, 1)
    wrong = f"{(int(code) + 1) % 100_000_000:08d}"
    for _ in range(5):
        assert "not valid" in await say(running, slack, ANNA, wrong)
    assert "not valid" in await say(running, slack, ANNA, code)
    assert not await ChatLink.exists()
    refused = [e.data["reason"] for e in await AuditEvent.filter(action="bot.chat.link.refused")]
    assert refused == ["wrong_code"] * 5 + ["no_code"]


async def test_slash_command_and_mentions_answer_in_the_users_dm(
    running: Running, slack: FakeSlack,
) -> None:
    await link(running, slack)
    form = {"token": "x", "team_id": TEAM, "channel_id": "C0GENERAL", "user_id": ANNA,
            "command": "/invoices", "text": "March", "trigger_id": "1.2.3",
            "response_url": "https://hooks.slack.test/x"}
    response = await post_slack(running, urlencode(form),
                                content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    assert "direct messages" in response.text  # the ack, seen only by the user
    before = len(slack.named("chat.postMessage"))
    call = (await slack.wait_for("chat.postMessage", before + 1))[before]
    assert call.params["channel"] == dm_channel(ANNA)  # the linked DM, never #general
    assert "INV-2026-0301" in slack_text(call)

    mention = slack_dm(ANNA, "<@U0BOT> unpaid")
    mention["event"] |= {"type": "app_mention", "channel": "C0GENERAL"}
    del mention["event"]["channel_type"]
    assert (await post_slack(running, mention)).status_code == 200
    call = (await slack.wait_for("chat.postMessage", before + 2))[before + 1]
    assert call.params["channel"] == dm_channel(ANNA)
    assert "Unpaid invoices" in slack_text(call)


async def test_button_clicks_are_acknowledged(running: Running, slack: FakeSlack) -> None:
    payload = {"type": "block_actions", "team": {"id": TEAM}, "user": {"id": ANNA},
               "actions": [{"action_id": "open_link_0", "type": "button"}],
               "trigger_id": "9.9.9", "api_app_id": "A0APP", "token": "x"}
    body = urlencode({"payload": json.dumps(payload)})
    response = await post_slack(running, body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    assert await ChatInbound.all().count() == 0  # a click is not a question


async def one_click_url(running: Running) -> str:
    """The Slack offer in the email answer to "connect slack", as the contact's mail shows
    it."""
    await running.send(request_mail("ap@acme.example", "connect slack"))
    (received,) = await running.sink.wait_for(1)
    body = received.message.get_body(preferencelist=("plain",))
    match = re.search(r"Ask us in Slack: (\S+)", str(body.get_content()))  # type: ignore[union-attr]
    assert match
    return match[1].replace(PUBLIC_URL, f"http://127.0.0.1:{running.service.http_port}")


async def test_an_ordinary_email_answer_carries_no_slack_link(running: Running) -> None:
    await running.send(request_mail("ap@acme.example", "invoices March"))
    (received,) = await running.sink.wait_for(1)
    assert "INV-2026-0301" in received.message.as_string()
    assert "/slack/link" not in received.message.as_string()
    assert "Ask us in Slack" not in received.message.as_string()


async def sign_in_with_slack(running: Running, slack: FakeSlack, url: str, team: str,
                             user: str) -> httpx.Response:
    """Open the emailed page, go through Slack's sign-in as `user`, come back."""
    async with httpx.AsyncClient() as browser:
        redirect = await browser.get(url)
        assert redirect.status_code == 303, redirect.text
        location = httpx.URL(redirect.headers["location"])
        assert str(location).startswith(slack.authorize_url)
        assert location.params["client_id"] == OIDC_CLIENT_ID
        assert location.params["team"] == TEAM  # the account's own workspace
        back = httpx.URL(location.params["redirect_uri"].replace(
            PUBLIC_URL, f"http://127.0.0.1:{running.service.http_port}"))
        code = slack.sign_in(team, user)
        return await browser.get(back, params={"code": code,
                                               "state": location.params["state"]})


async def test_email_offers_a_slack_page_that_links_whoever_signs_in_from_slack(
    running: Running, slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    url = await one_click_url(running)
    done = await sign_in_with_slack(running, slack, url, TEAM, ANNA)
    assert done.status_code == 200 and "Verknüpft:" in done.text
    link = await ChatLink.get(platform="slack", user_id=ANNA)
    assert link.team_id == TEAM and link.chat_id == dm_channel(ANNA)
    assert (await Contact.get(id=link.contact_id)).email == "ap@acme.example"
    welcome = (await slack.wait_for("chat.postMessage"))[0]
    assert welcome.params["channel"] == dm_channel(ANNA) and "Verknüpft:" in slack_text(welcome)
    assert "INV-2026-0301" in await say(running, slack, ANNA, "invoices March")
    async with httpx.AsyncClient() as browser:  # single use
        assert (await browser.get(url)).status_code == 410
    for secret in (BOT_TOKEN, OIDC_CLIENT_SECRET, SIGNING_SECRET):
        assert secret not in caplog.text


async def test_the_slack_page_refuses_another_workspace_and_a_missing_cookie(
    running: Running, slack: FakeSlack,
) -> None:
    url = await one_click_url(running)
    other = await sign_in_with_slack(running, slack, url, OTHER_TEAM, "U0EVE")
    assert other.status_code == 410
    async with httpx.AsyncClient() as browser:
        redirect = await browser.get(url)
    state = httpx.URL(redirect.headers["location"]).params["state"]
    async with httpx.AsyncClient() as stranger:  # the state without the browser's cookie
        done = await stranger.get(
            f"http://127.0.0.1:{running.service.http_port}/slack/link/done",
            params={"code": slack.sign_in(TEAM, ANNA), "state": state})
    assert done.status_code == 410
    tampered = url[:-3] + ("aaa" if not url.endswith("aaa") else "bbb")
    async with httpx.AsyncClient() as browser:
        assert (await browser.get(tampered)).status_code == 410
    assert not await ChatLink.exists()


async def test_slack_can_verify_our_request_url(running: Running) -> None:
    challenge = {"type": "url_verification", "token": "x", "challenge": "3eZbrw1aBm2rZgRNFdxV"}
    response = await post_slack(running, challenge)
    assert response.status_code == 200
    assert "3eZbrw1aBm2rZgRNFdxV" in response.text
