"""Bad input at the HTTP edge, over real HTTP, on both databases: never a 5xx, nothing changes.

A corpus goes to ``/slack/events`` and ``/api/messages`` of the real server: the cases an
adversarial run found (invalid UTF-8, JSON nested 200 000 deep, bad timestamps, button values
with integers beyond 64 bits), wrong content types, enormous headers and bodies, and a seeded
random part (random bytes, truncated real payloads, a byte flipped in a real payload). Slack
requests are properly signed where that is needed for the body to reach the parser. Every
answer must be a 2xx/4xx, the named cases exactly the status a client can act on, and the
database (apart from the delivery-dedupe bookkeeping) exactly as it was.
"""

from __future__ import annotations

import base64
import json
import random
from urllib.parse import parse_qs, urlencode

from bot.edge import MAX_BODY_BYTES
from handlers.base.core import Core
from tests.bot.edge_harness import (
    CHANNEL,
    FORM,
    JSON,
    SAM,
    TEAMS_SAM,
    WRONG_TYPES,
    deep,
    interaction,
    post,
    slack_headers,
    slack_server,
    snapshot,
    teams_server,
)
from tests.bot.platforms.teams.teams_harness import Harness, Person, running
from tests.fakes.slack_api import SlackHarness, block_actions, event_callback, slash_command

__all__ = ["slack_server", "teams_server"]  # fixtures, used by name

SEED = 17
RANDOM_CASES = 40  # per endpoint and kind: the whole file stays under a few seconds a backend
UNSAFE = "hello \ud800 \x00 \u202e olleh"


# ---- the named cases ---------------------------------------------------------------------------


def slack_named_cases() -> list[tuple[str, bytes, dict[str, str], set[int]]]:
    command = urlencode(slash_command("help", user=SAM, channel=CHANNEL)).encode()
    bad_utf8_json = b'{"type": "event_callback", "event": {"text": "\xff\xfe"}}'
    bad_utf8_form = b"payload=%7B%22type%22%3A%22block_actions%22\xff\xfe%7D"
    escaped_bad_utf8_form = b"payload=%FF%FE%7B%7D"
    deep_json = deep(200_000).encode()
    deep_form = urlencode({"payload": deep(150_000)}).encode()  # encoded, still under the cap
    big = b"{" + b" " * MAX_BODY_BYTES + b"}"
    cases = [
        ("invalid UTF-8 JSON", bad_utf8_json, slack_headers(bad_utf8_json), {400}),
        ("invalid UTF-8 form", bad_utf8_form, slack_headers(bad_utf8_form, FORM), {400}),
        (
            "escaped invalid UTF-8",
            escaped_bad_utf8_form,
            slack_headers(escaped_bad_utf8_form, FORM),
            {400},
        ),
        ("JSON 200k deep", deep_json, slack_headers(deep_json), {400}),
        ("form payload 150k deep", deep_form, slack_headers(deep_form, FORM), {400}),
        ("unsigned invalid UTF-8", bad_utf8_json, {"Content-Type": JSON}, {401}),
        ("body over the cap", big, slack_headers(big), {413}),
    ]
    for name, stamp in (
        ("non-numeric timestamp", "abc"),
        ("empty timestamp", " "),
        ("fullwidth digits", "１７００００００００"),
        ("timestamp beyond any clock", "9" * 40),
        ("negative timestamp", "-1"),
    ):
        cases.append(
            (
                name,
                command,
                slack_headers(command, FORM, **{"X-Slack-Request-Timestamp": stamp}),
                {401},
            )
        )
    missing = slack_headers(command, FORM)
    del missing["X-Slack-Request-Timestamp"]
    cases.append(("missing timestamp", command, missing, {401}))
    for signature in ("v0=é" + "0" * 63, "v0=" + "0" * 64, "v1=abc", ""):
        cases.append(
            (
                f"signature {signature[:6]!r}",
                command,
                slack_headers(command, FORM, **{"X-Slack-Signature": signature or " "}),
                {401},
            )
        )
    for content_type in WRONG_TYPES:
        cases.append(
            (
                f"content type {content_type!r}",
                command,
                slack_headers(command, content_type or " "),
                {415},
            )
        )
    # Readable, but with what no text may keep: handled (and scrubbed), never a 500.
    dm = event_callback(
        {"type": "message", "channel_type": "im", "channel": "D" + SAM, "user": SAM, "text": UNSAFE}
    )
    unsafe = json.dumps(dm).encode()
    cases.append(("lone surrogate, NUL and bidi in a DM", unsafe, slack_headers(unsafe), {200}))
    return cases


def teams_named_cases(h: Harness) -> list[tuple[str, bytes, dict[str, str], set[int]]]:
    activity = json.dumps(h.personal(TEAMS_SAM, "reflect help")).encode()
    bad_utf8 = activity[:-2] + b'"\xff\xfe"}'
    cases = [
        ("invalid UTF-8", bad_utf8, {"Content-Type": JSON}, {400}),
        ("JSON 200k deep", deep(200_000).encode(), {"Content-Type": JSON}, {400}),
        (
            "object 150k deep",
            b'{"":' * 150_000 + b"1" + b"}" * 150_000,
            {"Content-Type": JSON},
            {400},
        ),
        ("not JSON", b"{oops", {"Content-Type": JSON}, {400}),
        ("not an object", b"[1, 2]", {"Content-Type": JSON}, {400}),
        ("body over the cap", b"[" + b" " * MAX_BODY_BYTES + b"]", {"Content-Type": JSON}, {413}),
    ]
    for content_type in WRONG_TYPES:
        cases.append(
            (
                f"content type {content_type!r}",
                activity,
                {"Content-Type": content_type or " "},
                {415},
            )
        )
    unsafe = h.personal(Person("Sam\x00 \u202eSocial", TEAMS_SAM.aad), "reflect help " + UNSAFE)
    long_id = h.personal(Person("Sam", "a" * 300), "reflect help")
    cases += [
        (
            "lone surrogate, NUL and bidi",
            json.dumps(unsafe).encode(),
            {"Content-Type": JSON},
            {200},
        ),
        (
            "a sender id of 300 characters",
            json.dumps(long_id).encode(),
            {"Content-Type": JSON},
            {400},
        ),
    ]
    return cases


def enormous_headers() -> list[tuple[str, dict[str, str]]]:
    return [
        ("one 100 kB header", {"X-Padding": "a" * 100_000}),
        ("a 100 kB header name", {"X-" + "n" * 100_000: "1"}),
        ("a thousand headers", {f"X-H{i}": "v" * 100 for i in range(1000)}),
    ]


async def test_named_bad_requests_to_slack_get_the_right_4xx_and_change_nothing(
    slack_server: SlackHarness,
) -> None:
    url = slack_server.url("/slack/events")
    before = await snapshot(slack_server.core.db)
    for name, body, headers, expected in slack_named_cases():
        answer = await post(url, body, headers)
        assert answer.status in expected, f"{name}: {answer.status} {answer.text[:200]}"
    command = urlencode(slash_command("help", user=SAM, channel=CHANNEL)).encode()
    for name, extra in enormous_headers():
        answer = await post(url, command, {**slack_headers(command, FORM), **extra})
        assert 400 <= answer.status < 500, f"{name}: {answer.status}"
    await slack_server.adapter.drain()
    assert await snapshot(slack_server.core.db) == before


async def test_named_bad_requests_to_teams_get_the_right_4xx_and_change_nothing(
    teams_server: Harness, core: Core
) -> None:
    url = teams_server.base + "/api/messages"
    before = await snapshot(core.db)
    for name, body, headers, expected in teams_named_cases(teams_server):
        answer = await post(url, body, headers)
        assert answer.status in expected, f"{name}: {answer.status} {answer.text[:200]}"
    activity = json.dumps(teams_server.personal(TEAMS_SAM, "reflect help")).encode()
    for name, extra in enormous_headers():
        answer = await post(url, activity, {"Content-Type": JSON, **extra})
        assert 400 <= answer.status < 500, f"{name}: {answer.status}"
    await teams_server.adapter.drain()
    assert await snapshot(core.db) == before


# ---- the seeded random corpus --------------------------------------------------------------------


def real_slack_payloads() -> list[tuple[bytes, str]]:
    """JSON-bearing payloads Slack really sends (a prefix of any of them is never valid)."""
    home = event_callback(
        {"type": "app_home_opened", "user": SAM, "channel": "D" + SAM, "tab": "home"}
    )
    dm = event_callback(
        {"type": "message", "channel_type": "im", "channel": "D" + SAM, "user": SAM, "text": "hi"}
    )
    click = block_actions(
        "dlg.answer", "1:q1:yes", user=SAM, channel="D" + SAM, message_ts="1.000002"
    )
    return [
        (json.dumps(home).encode(), JSON),
        (json.dumps(dm).encode(), JSON),
        (interaction(click), FORM),
        (json.dumps({"type": "url_verification", "token": "t", "challenge": "c"}).encode(), JSON),
    ]


def random_bodies(
    rng: random.Random, real: list[tuple[bytes, str]]
) -> list[tuple[str, bytes, str]]:
    """Random bytes, truncated real payloads and real payloads with one byte flipped."""
    types = [JSON, FORM, "text/plain", "application/octet-stream"]
    out: list[tuple[str, bytes, str]] = []
    for i in range(RANDOM_CASES):
        size = rng.choice([0, 1, 7, 64, 1000, 5000])
        out.append((f"random {i}", rng.randbytes(size), rng.choice(types)))
        body, kind = rng.choice(real)
        out.append((f"truncated {i}", body[: rng.randrange(len(body))], kind))
        flipped = bytearray(body)
        at = rng.randrange(len(flipped))
        flipped[at] = rng.choice(b'{}[]"\\\x00\xff\xc3:,%')
        if not still_json(bytes(flipped), kind):  # else it may be a real request, rightly obeyed
            out.append((f"flipped {i}", bytes(flipped), kind))
    return out


def still_json(body: bytes, kind: str) -> bool:
    try:
        text = body.decode()
        json.loads(parse_qs(text)["payload"][0] if kind == FORM else text)
    except (ValueError, KeyError):
        return False
    return True


async def test_a_random_corpus_to_slack_never_gets_a_5xx_nor_changes_anything(
    slack_server: SlackHarness,
) -> None:
    rng = random.Random(SEED)
    url = slack_server.url("/slack/events")
    before = await snapshot(slack_server.core.db)
    for name, body, kind in random_bodies(rng, real_slack_payloads()):
        signed = rng.random() < 0.8
        headers = slack_headers(body, kind) if signed else {"Content-Type": kind}
        answer = await post(url, body, headers)
        assert answer.status < 500, f"{name} ({kind}, signed={signed}): {answer.status}"
        if not signed:
            assert answer.status == 401, name
    await slack_server.adapter.drain()
    assert await snapshot(slack_server.core.db) == before


async def test_a_random_corpus_to_teams_never_gets_a_5xx_nor_changes_anything(
    teams_server: Harness, core: Core
) -> None:
    rng = random.Random(SEED)
    h = teams_server
    real = [
        (json.dumps(h.personal(TEAMS_SAM, "reflect help")).encode(), JSON),
        (
            json.dumps(
                h.submit(TEAMS_SAM, {"verb": "dlg.start", "value": "1"}, TEAMS_SAM.personal)
            ).encode(),
            JSON,
        ),
    ]
    before = await snapshot(core.db)
    for name, body, kind in random_bodies(rng, real):
        answer = await post(h.base + "/api/messages", body, {"Content-Type": kind})
        assert answer.status < 500, f"{name} ({kind}): {answer.status} {answer.text[:200]}"
    await h.adapter.drain()
    assert await snapshot(core.db) == before


# ---- bearer tokens whose header cannot be Bot Framework's ------------------------------------


def token(header: dict[str, object] | str) -> str:
    def part(value: object) -> str:
        raw = value if isinstance(value, str) else json.dumps(value)
        return base64.urlsafe_b64encode(raw.encode()).rstrip(b"=").decode()

    claims = {"aud": "app-id", "iss": "https://api.botframework.com", "exp": 2_000_000_000}
    return f"{part(header)}.{part(claims)}.{part('not-a-signature')}"


BAD_TOKENS = {
    "RS256 without a key id": token({"alg": "RS256", "typ": "JWT"}),
    "HS256 without a key id": token({"alg": "HS256", "typ": "JWT"}),
    "no algorithm at all": token({"alg": "none", "kid": "k1"}),
    "a key id that is a number": token({"alg": "RS256", "kid": 7}),
    "a header that is not JSON": token("{oops"),
    "not a JWT": "not-a-jwt",
}


async def test_teams_tokens_without_a_usable_header_are_401_not_500(core: Core) -> None:
    async with running(
        core,
        microsoft_app_id="app-id",
        microsoft_app_password="app-password",
        teams_allow_unauthenticated=False,
    ) as h:
        before = await snapshot(core.db)
        activity = json.dumps(h.personal(TEAMS_SAM, "reflect help")).encode()
        for name, bearer in BAD_TOKENS.items():
            headers = {"Content-Type": JSON, "Authorization": f"Bearer {bearer}"}
            answer = await post(h.base + "/api/messages", activity, headers)
            assert answer.status == 401, f"{name}: {answer.status} {answer.text[:200]}"
        assert h.connector.calls == []
        assert await snapshot(core.db) == before
