"""Teams activities may only name a Bot Connector the bot trusts (issue 17, item 1).

Over real HTTP against the running server: the fake Bot Connector is the one extra host the
operator allowed; a second fake connector plays the attacker's endpoint; a fake Bot Framework
token service signs real JWTs that the Agents SDK verifies with keys it fetches over HTTP.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pydantic import ValidationError
from sqlmodel import col, select

from bot.platforms.teams.origin import OriginRefused, ServiceHosts
from bot.platforms.teams.refs import TENANT_TARGET, ReferenceStore
from bot.settings import Settings
from bot.transport import DeliveryFailed
from handlers.base.core import Core
from handlers.base.messages import plain
from storage.models import AuditEvent
from tests.bot.platforms.teams.teams_harness import TENANT_A, Harness, Person, running
from tests.fakes.bot_connector import FakeBotConnector
from tests.fakes.bot_framework_tokens import FakeTokenIssuer

SAM = Person("Sam Social Worker", "aad-sam")
APP_ID = "00000000-0000-0000-0000-0000000000aa"
WITH_CREDENTIALS: dict[str, Any] = {
    "microsoft_app_id": APP_ID,
    "microsoft_app_password": "secret",
    "microsoft_app_tenant_id": "tenant-x",
    "teams_allow_unauthenticated": False,
}


@pytest.fixture
async def attacker() -> AsyncIterator[FakeBotConnector]:
    """An endpoint on another port that nobody listed: nothing may ever reach it."""
    evil = FakeBotConnector()
    await evil.start()
    yield evil
    await evil.stop()


@pytest.fixture
async def tokens(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeTokenIssuer]:
    issuer = FakeTokenIssuer()
    await issuer.start()
    issuer.point_sdk_here(monkeypatch)
    yield issuer
    await issuer.stop()


async def stored_refs(core: Core) -> dict[str, dict[str, Any] | None]:
    refs = ReferenceStore(core.db)
    return {t: await refs.find(TENANT_A, t) for t in (TENANT_TARGET, SAM.aad)}


async def refusals(core: Core) -> list[AuditEvent]:
    async with core.db.read() as s:
        query = select(AuditEvent).where(col(AuditEvent.action) == "teams.origin_refused")
        return list((await s.exec(query)).all())


async def bot_token() -> str:
    return "bot-outbound-token"  # what MSAL would hand the bot for calling the connector


def with_credentials(h: Harness) -> Harness:
    h.adapter.transport.connector.token = bot_token
    return h


# ---- development mode (no JWT): the host allowlist still holds ----------------------------------


@pytest.mark.parametrize(
    ("tail", "reason"),
    [("evil/path", "host_not_allowed"), ("evil/path?x=", "malformed_service_url")],
)
async def test_an_activity_naming_an_unlisted_url_reaches_nothing_and_changes_no_reference(
    core: Core, attacker: FakeBotConnector, tail: str, reason: str
) -> None:
    async with running(core) as h:
        assert (await h.post(h.personal(SAM, "reflect help")))[0] == 200
        before = await stored_refs(core)
        h.connector.clear()
        activity = h.personal(SAM, "reflect help")
        activity["serviceUrl"] = attacker.url + tail
        status, _ = await h.post(activity)
        await h.adapter.drain()
    assert status == 403
    assert attacker.calls == []  # no reply, no roster lookup, no token sent there
    assert h.connector.calls == []
    assert await stored_refs(core) == before
    assert before[SAM.aad] and before[SAM.aad]["service_url"] == h.connector.url
    [event] = await refusals(core)
    assert event.detail == {"reason": reason}
    assert event.actor == SAM.aad and event.subject == f"tenant:{TENANT_A}"
    assert attacker.host not in json.dumps([event.detail, event.subject, event.actor])


async def test_a_microsoft_host_over_plain_http_is_refused(core: Core) -> None:
    async with running(core) as h:
        activity = h.personal(SAM, "reflect help")
        activity["serviceUrl"] = "http://smba.trafficmanager.net/emea/"
        status, _ = await h.post(activity)
    assert status == 403
    assert await stored_refs(core) == {TENANT_TARGET: None, SAM.aad: None}
    assert [e.detail["reason"] for e in await refusals(core)] == ["not_https"]


async def test_a_stored_reference_to_an_unlisted_host_is_never_called(
    core: Core, attacker: FakeBotConnector
) -> None:
    # A reference written before these checks existed must not be used to reach anyone.
    await ReferenceStore(core.db).merge(
        TENANT_A, SAM.aad, {"service_url": attacker.url, "conversation_id": SAM.personal}
    )
    async with running(core) as h:
        with pytest.raises(DeliveryFailed) as failed:
            await h.adapter.transport.direct(TENANT_A, SAM.aad, plain("Hello"))
    assert "host_not_allowed" in failed.value.reason
    assert attacker.calls == []


# ---- with credentials: the token must be for this very service URL ------------------------------


async def test_a_legitimate_token_is_accepted_answered_and_remembered(
    core: Core, tokens: FakeTokenIssuer
) -> None:
    async with running(core, **WITH_CREDENTIALS) as h:
        with_credentials(h)
        activity = h.personal(SAM, "reflect help")
        token = tokens.token(APP_ID, serviceurl=activity["serviceUrl"])
        status, _ = await h.post(activity, token=token)
        await h.adapter.drain()
    assert status == 200
    [answer] = h.connector.sends()
    assert answer.conversation == SAM.personal
    assert answer.auth == "Bearer bot-outbound-token"
    assert (await stored_refs(core))[SAM.aad] == {
        "teams_id": SAM.teams_id,
        "service_url": h.connector.url,
        "conversation_id": SAM.personal,
    }
    assert await refusals(core) == []


@pytest.mark.parametrize(
    "claim",
    [
        {"serviceurl": "https://smba.trafficmanager.net/emea/"},  # a real host, but another URL
        {},  # a token issued for no service URL at all
    ],
)
async def test_a_token_issued_for_another_service_url_is_refused(
    core: Core, tokens: FakeTokenIssuer, claim: dict[str, str]
) -> None:
    async with running(core, **WITH_CREDENTIALS) as h:
        with_credentials(h)
        activity = h.personal(SAM, "reflect help")
        status, _ = await h.post(activity, token=tokens.token(APP_ID, **claim))
        await h.adapter.drain()
    assert status == 401
    assert h.connector.calls == []
    assert await stored_refs(core) == {TENANT_TARGET: None, SAM.aad: None}
    assert [e.detail for e in await refusals(core)] == [{"reason": "service_url_mismatch"}]


async def test_a_valid_token_naming_an_unlisted_url_is_still_refused(
    core: Core, tokens: FakeTokenIssuer, attacker: FakeBotConnector
) -> None:
    async with running(core, **WITH_CREDENTIALS) as h:
        with_credentials(h)
        activity = h.personal(SAM, "reflect help")
        activity["serviceUrl"] = attacker.url
        status, _ = await h.post(activity, token=tokens.token(APP_ID, serviceurl=attacker.url))
    assert status == 403
    assert attacker.calls == [] and h.connector.calls == []
    assert [e.detail for e in await refusals(core)] == [{"reason": "host_not_allowed"}]


@pytest.mark.parametrize(
    "header",
    [
        {"alg": "RS256", "typ": "JWT"},  # no kid: the SDK raised KeyError (a 500)
        {"alg": "RS256", "kid": 7},
        {"alg": "RS256", "kid": ""},
    ],
)
async def test_a_token_without_a_usable_key_id_is_a_401(
    core: Core, tokens: FakeTokenIssuer, header: dict[str, Any]
) -> None:
    async with running(core, **WITH_CREDENTIALS) as h:
        activity = h.personal(SAM, "reflect help")
        token = tokens.token_with_header(header, APP_ID, serviceurl=activity["serviceUrl"])
        status, _ = await h.post(activity, token=token)
    assert status == 401
    assert h.connector.calls == []
    assert await stored_refs(core) == {TENANT_TARGET: None, SAM.aad: None}


@pytest.mark.parametrize("token", ["e30.e30.", "!!.!!.!!", "a.b", "eyJhbGciOiJSUzI1NiJ9"])
async def test_a_token_that_is_not_a_jwt_is_a_401(core: Core, token: str) -> None:
    async with running(core, **WITH_CREDENTIALS) as h:
        status, _ = await h.post(h.personal(SAM, "reflect help"), token=token)
    assert status == 401
    assert h.connector.calls == []


# ---- the allowlist itself -------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://smba.trafficmanager.net/amer/",
        "https://smba.trafficmanager.net/teams/",
        "https://SMBA.trafficmanager.net:443/emea/",
        "https://emea.smba.trafficmanager.net/apac/",
        "https://smba.infra.gcc.teams.microsoft.com/teams",
        "https://smba.infra.gov.teams.microsoft.us/teams",
        "https://smba.infra.dod.teams.microsoft.us/teams",
    ],
)
def test_microsofts_bot_connector_hosts_are_trusted_by_default(url: str) -> None:
    ServiceHosts().check(url)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://smba.trafficmanager.net.evil.example/amer/", "host_not_allowed"),
        ("https://evilsmba.trafficmanager.net/", "host_not_allowed"),
        ("https://other.trafficmanager.net/", "host_not_allowed"),
        ("https://smba.trafficmanager.net:8443/amer/", "host_not_allowed"),
        ("https://127.0.0.1:3978/", "host_not_allowed"),
        ("http://smba.trafficmanager.net/amer/", "not_https"),
        ("https://smba.trafficmanager.net@evil.example/", "malformed_service_url"),
        ("https://user:pw@smba.trafficmanager.net/", "malformed_service_url"),
        ("https://smba.trafficmanager.net/amer/?x=1", "malformed_service_url"),
        ("https://smba.trafficmanager.net/amer/#x", "malformed_service_url"),
        ("https://smba.trafficmanager.net:abc/", "malformed_service_url"),
        ("ftp://smba.trafficmanager.net/", "malformed_service_url"),
        ("smba.trafficmanager.net/amer/", "malformed_service_url"),
        ("", "malformed_service_url"),
    ],
)
def test_anything_else_is_refused_with_a_reason(url: str, reason: str) -> None:
    with pytest.raises(OriginRefused) as refused:
        ServiceHosts().check(url)
    assert refused.value.kind == reason


def test_extra_hosts_are_trusted_exactly_on_their_port_and_may_use_http() -> None:
    hosts = ServiceHosts.from_setting(" 127.0.0.1:3978 , bots.example.org")
    assert hosts.allows("http://127.0.0.1:3978/")
    assert hosts.allows("https://127.0.0.1:3978/v3/")
    assert not hosts.allows("http://127.0.0.1:3979/")
    assert not hosts.allows("http://127.0.0.1/")
    assert hosts.allows("https://bots.example.org/api/")
    assert hosts.allows("http://bots.example.org/")
    assert not hosts.allows("https://bots.example.org:8443/")
    assert hosts.allows("https://smba.trafficmanager.net/amer/")  # Microsoft's stay trusted


@pytest.mark.parametrize("value", ["127.0.0.1/evil", "https://bots.example.org", "a@b"])
def test_an_extra_host_that_is_not_a_host_stops_the_settings_from_loading(value: str) -> None:
    with pytest.raises(ValidationError, match="TEAMS_EXTRA_SERVICE_HOSTS"):
        Settings(_env_file=None, teams_extra_service_hosts=value)  # type: ignore[call-arg]
