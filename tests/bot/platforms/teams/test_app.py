"""``POST /api/messages`` on the real server: authentication, malformed input, dedupe, install."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from typing import Any

import aiohttp
import pytest
from sqlmodel import select

from bot.platforms.teams.app import HANDLING_SLOTS
from handlers.base.core import Core
from storage.models import ConversationRef
from tests.bot.platforms.teams.teams_harness import (
    CHANNEL,
    TENANT_A,
    Person,
    running,
)

SAM = Person("Sam Social Worker", "aad-sam")


async def get(url: str) -> int:
    async with aiohttp.ClientSession() as http, http.get(url) as resp:
        return resp.status


def slack_signed(body: str, secret: str) -> dict[str, str]:
    ts = str(int(time.time()))
    sig = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={sig}",
    }


async def test_without_credentials_teams_refuses_while_slack_and_health_keep_working(
    core: Core,
) -> None:
    async with running(
        core,
        teams_allow_unauthenticated=False,
        slack_signing_secret="slack-secret",
        slack_bot_token="xoxb-test",
    ) as h:
        status, _ = await h.post(h.personal(SAM, "reflect help"))
        assert status == 401
        assert h.connector.calls == []
        assert await get(h.base + "/healthz") == 200
        body = json.dumps({"type": "url_verification", "challenge": "c-1", "token": "t"})
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                h.base + "/slack/events", data=body, headers=slack_signed(body, "slack-secret")
            ) as resp,
        ):
            assert resp.status == 200
            assert "c-1" in await resp.text()


async def test_with_an_app_id_an_unsigned_or_badly_signed_request_is_rejected(core: Core) -> None:
    async with running(
        core,
        microsoft_app_id="00000000-0000-0000-0000-000000000001",
        microsoft_app_password="secret",
        microsoft_app_tenant_id="tenant-x",
        teams_allow_unauthenticated=True,  # credentials win: never anonymous
    ) as h:
        status, _ = await h.post(h.personal(SAM, "reflect help"))
        assert status == 401
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                h.base + "/api/messages",
                json=h.personal(SAM, "reflect help"),
                headers={"Authorization": "Bearer not-a-jwt"},
            ) as resp,
        ):
            assert resp.status == 401
        assert h.connector.calls == []


async def test_running_unauthenticated_is_announced_loudly(
    core: Core, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        async with running(core, teams_allow_unauthenticated=True):
            pass
    assert any(
        "TEAMS_ALLOW_UNAUTHENTICATED" in r.getMessage() and r.levelno >= logging.WARNING
        for r in caplog.records
    )


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b"[1, 2]",
        b'{"type": "message"}',
        b'{"type": "message", "conversation": {"id": "a:1"}, "from": {"id": "29:x"}}',
        b'{"type": 42, "id": "x"}',
        '{"type": "message", "text": "\xff"}'.encode("latin-1"),
    ],
)
async def test_malformed_activities_get_400_never_500(core: Core, raw: bytes) -> None:
    async with running(core) as h:
        status, _ = await h.post(None, raw=raw)
        assert status == 400
        assert h.connector.calls == []


async def test_a_repeated_activity_is_handled_once(core: Core) -> None:
    async with running(core) as h:
        activity = h.personal(SAM, "reflect help", activity_id="dup-1")
        assert (await h.post(activity))[0] == 200
        assert (await h.post(activity))[0] == 200
        assert len(h.connector.sends()) == 1
        reply = h.connector.sends()[0]
        assert reply.conversation == SAM.personal
        assert "reflect" in json.dumps(reply.card()).lower()


async def test_install_in_a_team_stores_references_for_the_channel_and_its_members(
    core: Core,
) -> None:
    async with running(core) as h:
        h.connector.members["19:team-general@thread.tacv2"] = [
            {"id": "29:aad-hv", "aadObjectId": "aad-hv", "name": "Health Visitor"},
        ]
        status, _ = await h.post(h.install_in_team(SAM))
        assert status == 200
    async with core.db.read() as s:
        rows = (await s.exec(select(ConversationRef))).all()
    refs = {(r.org_external_id, r.target): r.data for r in rows}
    assert refs[(TENANT_A, "tenant")]["service_url"] == h.connector.url
    assert refs[(TENANT_A, "tenant")]["bot_id"] == "28:bot-app-id"
    assert refs[(TENANT_A, CHANNEL)]["conversation_type"] == "channel"
    assert refs[(TENANT_A, "aad-hv")]["teams_id"] == "29:aad-hv"
    assert refs[(TENANT_A, "aad-sam")]["teams_id"] == "29:aad-sam"


async def test_a_direct_message_to_someone_new_creates_their_personal_chat_once(
    core: Core,
) -> None:
    from handlers.base.messages import plain

    async with running(core) as h:
        await h.post(h.install_in_team(SAM))
        transport = h.adapter.transport
        first = await transport.direct(TENANT_A, "aad-hv", plain("Hello"))
        second = await transport.direct(TENANT_A, "aad-hv", plain("Again"))
        [create] = h.connector.creates()
        assert create.body["members"] == [{"id": "aad-hv"}]
        assert create.body["tenantId"] == TENANT_A
        assert create.body["bot"] == {"id": "28:bot-app-id"}
        assert first["conversation_id"] == second["conversation_id"]
        assert [c.conversation for c in h.connector.sends()] == [first["conversation_id"]] * 2


async def test_a_throttled_reply_is_retried_as_teams_asks_and_then_arrives(core: Core) -> None:
    async with running(core) as h:
        h.connector.fail(429, times=2, retry_after="2", path_contains="/activities")
        status, _ = await h.post(h.personal(SAM, "reflect help"))
        assert status == 200
        assert h.sleeps == [2.0, 2.0]
        assert len(h.connector.sends()) == 3
        assert h.connector.sends()[-1].card() is not None


async def test_a_reply_that_keeps_failing_is_given_up_without_failing_the_request(
    core: Core, caplog: pytest.LogCaptureFixture
) -> None:
    async with running(core) as h:
        h.connector.fail(502, times=50)
        with caplog.at_level(logging.WARNING):
            status, _ = await h.post(h.personal(SAM, "reflect help"))
        assert status == 200
        attempts = h.adapter.transport.connector.policy.attempts
        assert len(h.connector.sends()) == attempts
        assert any(r.getMessage() == "delivery failed" for r in caplog.records)


async def test_a_burst_is_handled_a_few_at_a_time_and_everyone_is_answered(core: Core) -> None:
    async with running(core) as h:
        adapter = h.adapter
        real = adapter.runtime.dispatch
        running_now, most = 0, 0

        async def counted(*args: Any, **kwargs: Any) -> None:
            nonlocal running_now, most
            running_now += 1
            most = max(most, running_now)
            try:
                await asyncio.sleep(0.02)  # long enough for the burst to pile up
                await real(*args, **kwargs)
            finally:
                running_now -= 1

        adapter.runtime.dispatch = counted
        people = [Person(f"P{n}", f"aad-{n:04d}") for n in range(12)]
        statuses = await asyncio.gather(
            *(
                h.post(h.personal(p, "reflect help", activity_id=f"burst-{n}"))
                for n, p in enumerate(people)
            )
        )
        await adapter.drain()

    assert [status for status, _ in statuses] == [200] * 12
    answered = {str(send.conversation) for send in h.connector.sends()}
    assert answered == {str(p.personal) for p in people}  # one reply each, nobody left out
    assert len(h.connector.sends()) == 12
    assert most == HANDLING_SLOTS
