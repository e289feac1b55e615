"""Carrying out intents in Teams: proactive posts, 1:1 chats, in-place card updates.

Everything goes through the Bot Connector with stored conversation references, so any instance
can deliver after any restart. Platform refs handed back to the Deliverer are
``{"service_url", "conversation_id", "activity_id"}``: ids only, never content.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.platforms.teams.cards import (
    brief_message,
    card_activity,
    form_card,
    message_activities,
)
from bot.platforms.teams.connector import BotConnector, MessageTooBig
from bot.platforms.teams.files import consent_activity
from bot.platforms.teams.refs import TENANT_TARGET, ReferenceStore
from bot.transport import DeliveryFailed, PlatformRef, ReplyContext
from handlers.base.messages import Form, Message, Paragraph, Quiet, Strong, plain
from prompts.strings import t
from storage.db import Database

log = logging.getLogger(__name__)


class TeamsTransport:
    platform = "teams"

    def __init__(self, db: Database, connector: BotConnector, *, bot_id: str = "") -> None:
        self.refs = ReferenceStore(db)
        self.connector = connector
        self.bot_id = bot_id

    async def close(self) -> None:
        """Close the Bot Connector's connections (end of a command or server)."""
        await self.connector.close()

    # ---- Transport -------------------------------------------------------------------------------

    async def post(
        self, org: str, channel_id: str, message: Message, thread: PlatformRef | None
    ) -> PlatformRef:
        try:
            return await self._post(org, channel_id, message, thread)
        except MessageTooBig:
            smaller = _smaller(message)
            return await self._post(org, channel_id, smaller, thread)

    async def _post(
        self, org: str, channel_id: str, message: Message, thread: PlatformRef | None
    ) -> PlatformRef:
        activities = message_activities(message)
        if thread and thread.get("conversation_id") and thread.get("activity_id"):
            service = thread.get("service_url") or await self._channel_service(org, channel_id)
            conversation, root = str(thread["conversation_id"]), str(thread["activity_id"])
            first = ""
            for activity in activities:
                sent = await self.connector.reply(service, conversation, root, activity)
                first = first or sent
            return _ref(service, conversation, first)
        service = await self._channel_service(org, channel_id)
        first = await self.connector.send(service, channel_id, activities[0])
        for activity in activities[1:]:  # the rest of a long record goes in the thread
            await self.connector.reply(service, channel_id, first, activity)
        return _ref(service, channel_id, first)

    async def direct(self, org: str, user_id: str, message: Message) -> PlatformRef:
        service, conversation = await self._personal(org, user_id)
        try:
            return await self._send_all(service, conversation, message_activities(message))
        except MessageTooBig:
            smaller = message_activities(_smaller(message))
            return await self._send_all(service, conversation, smaller)

    async def update(self, org: str, ref: PlatformRef, message: Message) -> PlatformRef | None:
        service, conversation = str(ref.get("service_url", "")), str(ref.get("conversation_id", ""))
        activity_id = str(ref.get("activity_id", ""))
        if not (service and conversation and activity_id):
            raise DeliveryFailed("teams update without a message reference")
        activities = message_activities(message)
        try:
            await self.connector.update(service, conversation, activity_id, activities[0])
        except DeliveryFailed as failed:
            if failed.retry_after is not None:
                raise  # Teams asked us to wait: a new card now would be throttled as well
            # Deleted, or Teams kept refusing: show the current state as a new card instead.
            log.warning("teams update failed, posting afresh", extra={"reason": failed.reason})
            return await self._send_all(service, conversation, activities)
        for activity in activities[1:]:
            await self.connector.send(service, conversation, activity)
        return None

    async def reply(self, ctx: ReplyContext, message: Message) -> None:
        service, conversation = _where(ctx)
        await self._send_all(service, conversation, message_activities(message))

    async def open_form(self, ctx: ReplyContext, form: Form) -> None:
        """Forms are private, as a Slack modal is: in a channel the card goes to a 1:1 chat."""
        activity = card_activity(form_card(form), form.title)
        if ctx.data.get("conversation_type", "personal") == "personal":
            service, conversation = _where(ctx)
            await self.connector.send(service, conversation, activity)
            return
        service, conversation = await self._personal(ctx.org, ctx.user_id)
        await self.connector.send(service, conversation, activity)
        await self.reply(ctx, plain(f'I\'ve sent you "{form.title}" in our private chat.'))

    async def publish_home(self, org: str, user_id: str, message: Message) -> None:
        # Teams has no App Home: the home view arrives as a personal message.
        await self.direct(org, user_id, message)

    async def upload(
        self,
        org: str,
        channel_id: str,
        filename: str,
        content: bytes,
        title: str,
        thread: PlatformRef | None,
    ) -> None:
        # A bot cannot attach a file in a channel without Graph permissions; every member is
        # offered the Word file in their own chat (file consent). Say so in the thread.
        notice = t("record.teams_files_in_chat", "en")
        if not filename.endswith(".docx"):  # a chart: its answers are in the text beside it
            notice = "This chart can't be attached in Teams. The same answers are in the text."
        message = Message(
            text=f"{title}: {notice}",
            blocks=(Paragraph((Strong(title),)), Paragraph((Quiet(notice),))),
        )
        await self.post(org, channel_id, message, thread)

    async def direct_upload(
        self, org: str, user_id: str, filename: str, content: bytes, title: str, ref: str
    ) -> None:
        """Offer the file in the person's chat; it is uploaded when they accept (consent.py)."""
        if not ref:
            raise DeliveryFailed("teams file without a reference to produce it again")
        service, conversation = await self._personal(org, user_id)
        offer = consent_activity(filename, len(content), title, ref)
        await self.connector.send(service, conversation, offer)

    # ---- addressing -----------------------------------------------------------------------------

    async def _send_all(
        self, service: str, conversation: str, activities: list[dict[str, Any]]
    ) -> PlatformRef:
        first = ""
        for activity in activities:
            sent = await self.connector.send(service, conversation, activity)
            first = first or sent
        return _ref(service, conversation, first)

    async def _channel_service(self, org: str, channel_id: str) -> str:
        ref = await self.refs.find(org, channel_id) or await self.refs.find(org, TENANT_TARGET)
        service = (ref or {}).get("service_url")
        if not service:
            raise DeliveryFailed("teams channel unknown: the app is not installed there")
        return str(service)

    async def _personal(self, org: str, user_id: str) -> tuple[str, str]:
        """The person's 1:1 conversation with the bot, created (and stored) when needed."""
        person = await self.refs.find(org, user_id) or {}
        if person.get("conversation_id") and person.get("service_url"):
            return str(person["service_url"]), str(person["conversation_id"])
        tenant = await self.refs.find(org, TENANT_TARGET) or {}
        service = person.get("service_url") or tenant.get("service_url")
        if not service:
            raise DeliveryFailed("teams tenant unknown: the app is not installed there")
        bot_id = tenant.get("bot_id") or self.bot_id
        if not bot_id:
            raise DeliveryFailed("teams bot id unknown")
        params = {
            "bot": {"id": bot_id},
            "members": [{"id": person.get("teams_id") or user_id}],
            "isGroup": False,
            "tenantId": org,
            "channelData": {"tenant": {"id": org}},
        }
        conversation = await self.connector.create_conversation(str(service), params)
        await self.refs.merge(
            org, user_id, {"conversation_id": conversation, "service_url": service}
        )
        return str(service), conversation


def _smaller(message: Message) -> Message:
    """What to send when Teams refuses a message for its size: a record's brief form (it
    points to the Word file), else the plain text alone, so the message is never lost."""
    log.warning("teams refused a message for its size, sending a smaller one")
    return brief_message(message) or plain(message.text)


def _where(ctx: ReplyContext) -> tuple[str, str]:
    service = ctx.data.get("service_url")
    conversation = ctx.data.get("conversation_id")
    if not service or not conversation:
        raise DeliveryFailed("teams reply without a conversation")
    return str(service), str(conversation)


def _ref(service: str, conversation: str, activity_id: str) -> PlatformRef:
    return {"service_url": service, "conversation_id": conversation, "activity_id": activity_id}
