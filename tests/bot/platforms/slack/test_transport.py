"""SlackTransport against the fake Web API: threads, DMs, forms, uploads, failures, pacing."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.platforms.slack.transport import Pacer, SingleToken, SlackTransport
from bot.transport import DeliveryFailed, ReplyContext
from handlers.base.messages import Form, FormField, Mention, Message, Paragraph, plain
from storage.db import Database
from storage.models import ConversationRef
from tests.fakes.slack_api import FakeSlack


def transport(db: Database, fake: FakeSlack, base_url: str | None = None) -> SlackTransport:
    return SlackTransport(
        db, SingleToken("xoxb-test"), base_url=base_url or fake.api_url, pace_seconds=0
    )


async def test_post_in_a_thread_returns_where_it_landed(
    db: Database, fake_slack: FakeSlack
) -> None:
    t = transport(db, fake_slack)
    fake_slack.allowed_mentions = {"U0AAA111"}
    ref = await t.post(
        "T0001",
        "C0G",
        Message("hi", (Paragraph(("Hi ", Mention("U0AAA111"))),)),
        {"channel": "C0G", "ts": "1.5"},
    )
    [call] = fake_slack.of("chat.postMessage")
    assert call.body["thread_ts"] == "1.5"
    assert call.body["blocks"][0]["text"]["text"] == "Hi <@U0AAA111>"
    assert ref == {"channel": "C0G", "ts": "1700000000.000001"}
    assert fake_slack.violations == []


async def test_a_message_too_long_for_one_post_continues_in_its_thread(
    db: Database, fake_slack: FakeSlack
) -> None:
    long = Message("record", tuple(Paragraph((f"line {i}",)) for i in range(120)))
    ref = await transport(db, fake_slack).post("T0001", "C0G", long, None)
    first, *rest = fake_slack.of("chat.postMessage")
    assert "thread_ts" not in first.body
    assert len(rest) == 2 and all(c.body["thread_ts"] == ref["ts"] for c in rest)
    assert all(c.ok for c in fake_slack.calls)


async def test_direct_opens_the_dm_once_and_remembers_it(
    db: Database, fake_slack: FakeSlack
) -> None:
    t = transport(db, fake_slack)
    first = await t.direct("T0001", "U0SAM", plain("one"))
    again = await transport(db, fake_slack).direct("T0001", "U0SAM", plain("two"))  # new instance
    assert len(fake_slack.of("conversations.open")) == 1
    assert first["channel"] == again["channel"] == "DU0SAM"
    async with db.read() as s:
        [row] = (await s.exec(select(ConversationRef))).all()
    assert row.target == "dm:U0SAM" and row.data == {"channel": "DU0SAM"}


async def test_update_edits_the_same_message(db: Database, fake_slack: FakeSlack) -> None:
    await transport(db, fake_slack).update("T0001", {"channel": "C0G", "ts": "9.9"}, plain("new"))
    [call] = fake_slack.of("chat.update")
    assert (call.body["channel"], call.body["ts"], call.body["text"]) == ("C0G", "9.9", "new")


async def test_reply_is_ephemeral_in_channels_and_a_message_in_dms(
    db: Database, fake_slack: FakeSlack
) -> None:
    t = transport(db, fake_slack)
    await t.reply(ReplyContext("T0001", "U0RO", "C0G"), plain("only you"))
    await t.reply(ReplyContext("T0001", "U0RO", "D0RO", {"is_direct": True}), plain("in dm"))
    await t.reply(ReplyContext("T0001", "U0RO", None), plain("from a form"))
    [eph] = fake_slack.of("chat.postEphemeral")
    assert eph.body["user"] == "U0RO"
    assert [c.body["channel"] for c in fake_slack.of("chat.postMessage")] == ["D0RO", "U0RO"]


async def test_forms_open_with_the_trigger_or_replace_the_current_modal(
    db: Database, fake_slack: FakeSlack
) -> None:
    t = transport(db, fake_slack)
    form = Form("dlg.text", "Your answer", (FormField("text", "Answer", "multiline"),), "7:q")
    await t.open_form(ReplyContext("T0001", "U0SAM", data={"trigger_id": "tr1"}), form)
    await t.open_form(ReplyContext("T0001", "U0SAM", data={"view_id": "V1"}), form)
    [opened] = fake_slack.of("views.open")
    [updated] = fake_slack.of("views.update")
    assert opened.body["trigger_id"] == "tr1"
    assert opened.body["view"]["callback_id"] == "dlg.text"
    assert opened.body["view"]["private_metadata"] == "7:q"
    assert updated.body["view_id"] == "V1"
    with pytest.raises(DeliveryFailed):
        await t.open_form(ReplyContext("T0001", "U0SAM"), form)


async def test_home_is_published(db: Database, fake_slack: FakeSlack) -> None:
    await transport(db, fake_slack).publish_home("T0001", "U0SAM", plain("Your reflections"))
    [call] = fake_slack.of("views.publish")
    assert call.body["user_id"] == "U0SAM" and call.body["view"]["type"] == "home"


async def test_upload_goes_into_the_thread(db: Database, fake_slack: FakeSlack) -> None:
    await transport(db, fake_slack).upload(
        "T0001", "C0G", "record.docx", b"PK\x03\x04data", "Record", {"channel": "C0G", "ts": "3.3"}
    )
    [upload] = fake_slack.of("upload")
    assert upload.body["size"] == 8
    [complete] = fake_slack.of("files.completeUploadExternal")
    assert complete.body["channel_id"] == "C0G" and complete.body["thread_ts"] == "3.3"


async def test_ok_false_surfaces_as_delivery_failed_without_content(
    db: Database, fake_slack: FakeSlack
) -> None:
    fake_slack.error("chat.postMessage", "channel_not_found")
    with pytest.raises(DeliveryFailed) as failed:
        await transport(db, fake_slack).post("T0001", "C0G", plain("secret words"), None)
    assert failed.value.reason == "slack chat.postMessage: channel_not_found"


async def test_persistent_rate_limit_gives_up_with_retry_after(
    db: Database, fake_slack: FakeSlack
) -> None:
    fake_slack.fail("chat.update", 3, status=429, retry_after=0)
    with pytest.raises(DeliveryFailed) as failed:
        await transport(db, fake_slack).update("T0001", {"channel": "C", "ts": "1"}, plain("x"))
    assert failed.value.reason == "slack chat.update: ratelimited"
    assert failed.value.retry_after == 0
    assert len(fake_slack.of("chat.update")) == 3  # the first try and two retries


async def test_unreachable_slack_is_delivery_failed(db: Database, fake_slack: FakeSlack) -> None:
    t = transport(db, fake_slack, base_url="http://127.0.0.1:9/api/")
    with pytest.raises(DeliveryFailed) as failed:
        await t.post("T0001", "C0G", plain("x"), None)
    assert failed.value.reason.startswith("slack chat.postMessage: ")


async def test_pacer_spaces_posts_to_one_channel_but_not_across_channels() -> None:
    now = [100.0]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    pacer = Pacer(1.0, clock=lambda: now[0], sleep=sleep)
    await pacer.wait("C1")
    await pacer.wait("C2")
    await pacer.wait("C1")
    now[0] += 5
    await pacer.wait("C1")
    assert slept == [1.0]
