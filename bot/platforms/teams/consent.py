"""Answering ``fileConsent/invoke``: the person accepted (upload, show the file) or declined.

Teams waits for the invoke's answer, so the small Word file is uploaded before answering 200.
Whatever goes wrong, the person is told kindly in their chat and nothing half-done is shown.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from bot.platforms.teams import inbound
from bot.platforms.teams.cards import message_activities
from bot.platforms.teams.connector import BotConnector
from bot.platforms.teams.files import (
    UploadHosts,
    UploadRefused,
    file_info_activity,
    put_file,
    read_consent,
    refusal_reason,
)
from bot.platforms.teams.inbound import Origin
from bot.transport import DeliveryFailed
from handlers.base.core import Core
from handlers.base.errors import CoreGroupError
from handlers.base.i18n import actor_language
from handlers.base.messages import plain
from handlers.records.delivery import record_file
from prompts.strings import t

log = logging.getLogger(__name__)


class ConsentAnswers:
    def __init__(self, core: Core, connector: BotConnector, hosts: UploadHosts) -> None:
        self.core = core
        self.connector = connector
        self.hosts = hosts

    async def answer(self, value: Any, where: Origin) -> web.Response:
        consent = read_consent(value)
        if consent is None or not where.is_personal:
            return web.json_response({"error": "not a file consent answer"}, status=400)
        actor = inbound.actor(where)
        lang = await actor_language(self.core, actor)
        if not consent.accepted:
            await self._say(where, t("record.file_declined", lang))
            return web.json_response({}, status=200)
        try:
            if consent.upload is None:
                raise UploadRefused("no_upload_info")
            self.hosts.check(consent.upload.upload_url)
            found = await record_file(self.core, actor, consent.ref)
            await put_file(consent.upload.upload_url, found.content)
            await self.connector.send(
                where.service_url, where.conversation_id, file_info_activity(consent.upload)
            )
        except (UploadRefused, DeliveryFailed, CoreGroupError) as exc:
            log.warning("teams file not delivered", extra={"reason": refusal_reason(exc)})
            gone = isinstance(exc, CoreGroupError)
            await self._say(where, t("record.file_gone" if gone else "record.file_failed", lang))
        return web.json_response({}, status=200)

    async def _say(self, where: Origin, text: str) -> None:
        [activity] = message_activities(plain(text))
        try:
            await self.connector.send(where.service_url, where.conversation_id, activity)
        except DeliveryFailed as failed:
            log.warning("teams consent reply failed", extra={"reason": failed.reason})
