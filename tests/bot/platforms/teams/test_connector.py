"""The Bot Connector client retries what Teams says to retry, and gives up clearly otherwise."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.platforms.teams.connector import BotConnector, RetryPolicy
from bot.platforms.teams.origin import ServiceHosts
from bot.transport import DeliveryFailed
from tests.fakes.bot_connector import FakeBotConnector

MESSAGE = {"type": "message", "summary": "hello"}


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotConnector]:
    connector = FakeBotConnector()
    await connector.start()
    yield connector
    await connector.stop()


class Waits:
    def __init__(self) -> None:
        self.seconds: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)


async def client(waits: Waits, host: str, **policy: float) -> BotConnector:
    """A connector allowed to call ``host`` (the fake's), as an operator lists an extra host."""
    hosts = ServiceHosts.from_setting(host)
    return BotConnector(policy=RetryPolicy(**policy), sleep=waits, hosts=hosts)  # type: ignore[arg-type]


async def test_429_is_retried_after_the_time_teams_asks_for(fake: FakeBotConnector) -> None:
    waits = Waits()
    connector = await client(waits, fake.host)
    fake.fail(429, times=2, retry_after="3")
    activity_id = await connector.send(fake.url, "a:personal-1", MESSAGE)
    await connector.close()
    assert activity_id.startswith("act-")
    assert len(fake.sends()) == 3
    assert waits.seconds == [3.0, 3.0]


@pytest.mark.parametrize("status", [412, 502, 504])
async def test_transient_statuses_are_retried_with_bounded_jittered_backoff(
    fake: FakeBotConnector, status: int
) -> None:
    waits = Waits()
    connector = await client(waits, fake.host, base_delay=1.0, max_delay=3.0)
    fake.fail(status, times=3)
    await connector.send(fake.url, "a:personal-1", MESSAGE)
    await connector.close()
    assert len(fake.sends()) == 4
    assert len(waits.seconds) == 3
    assert all(0 <= w <= bound for w, bound in zip(waits.seconds, (1.0, 2.0, 3.0), strict=True))


async def test_delivery_fails_after_the_last_attempt(fake: FakeBotConnector) -> None:
    waits = Waits()
    connector = await client(waits, fake.host, attempts=3)
    fake.fail(502, times=10)
    with pytest.raises(DeliveryFailed) as failed:
        await connector.update(fake.url, "a:personal-1", "act-9", MESSAGE)
    await connector.close()
    assert len(fake.updates()) == 3
    assert "502" in failed.value.reason
    assert "hello" not in failed.value.reason


async def test_a_permanent_error_is_not_retried(fake: FakeBotConnector) -> None:
    waits = Waits()
    connector = await client(waits, fake.host)
    fake.fail(500)
    with pytest.raises(DeliveryFailed):
        await connector.send(fake.url, "a:personal-1", MESSAGE)
    fake.fail(403)  # MessageWritesBlocked: the person blocked the bot
    with pytest.raises(DeliveryFailed):
        await connector.send(fake.url, "a:personal-1", MESSAGE)
    await connector.close()
    assert len(fake.sends()) == 2
    assert waits.seconds == []


async def test_a_very_long_retry_after_is_handed_back_instead_of_blocking(
    fake: FakeBotConnector,
) -> None:
    waits = Waits()
    connector = await client(waits, fake.host)
    fake.fail(429, retry_after="3600")
    with pytest.raises(DeliveryFailed) as failed:
        await connector.send(fake.url, "a:personal-1", MESSAGE)
    await connector.close()
    assert failed.value.retry_after == 3600.0
    assert waits.seconds == []


async def test_an_unreachable_connector_is_retried_then_reported() -> None:
    waits = Waits()
    connector = await client(waits, "127.0.0.1:9", attempts=2)
    with pytest.raises(DeliveryFailed) as failed:
        await connector.send("http://127.0.0.1:9/", "a:personal-1", MESSAGE)
    await connector.close()
    assert "unreachable" in failed.value.reason
    assert len(waits.seconds) == 1


async def test_replies_updates_and_creates_use_the_bot_framework_paths(
    fake: FakeBotConnector,
) -> None:
    connector = BotConnector(hosts=ServiceHosts.from_setting(fake.host))
    conversation = "19:abc@thread.tacv2;messageid=17"
    await connector.reply(fake.url, conversation, "17", MESSAGE)
    await connector.update(fake.url, "a:p", "act-3", MESSAGE)
    created = await connector.create_conversation(fake.url, {"members": [{"id": "29:x"}]})
    await connector.close()
    paths = [(c.method, c.path) for c in fake.calls]
    assert paths == [
        ("POST", f"/v3/conversations/{conversation}/activities/17"),
        ("PUT", "/v3/conversations/a:p/activities/act-3"),
        ("POST", "/v3/conversations"),
    ]
    assert fake.calls[0].body["replyToId"] == "17"
    assert fake.calls[1].body["id"] == "act-3"
    assert created.startswith("a:personal-")
