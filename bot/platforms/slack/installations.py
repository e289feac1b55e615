"""Slack workspace installations and OAuth state, in the bot's own database.

Multi-workspace mode (``SLACK_CLIENT_ID``/``SLACK_CLIENT_SECRET``) stores one row per workspace
the app was installed in; bot tokens are sealed (encrypted at rest when a key is configured).
These are slack_sdk's async store interfaces over :class:`storage.db.Database`, so every
instance sharing the database sees every installation. The tables themselves
(``SlackInstallation``, ``SlackOAuthState``) are in :mod:`storage.models` with all the others, so
the migrations see them.
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta
from typing import Any

from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from sqlmodel import select

from storage.db import Database
from storage.models import SlackInstallation, SlackOAuthState
from storage.types import utcnow

log = logging.getLogger(__name__)


class DbInstallationStore(AsyncInstallationStore):
    """Bot-scope installations only: the app never asks for user tokens."""

    def __init__(self, db: Database) -> None:
        self.db = db

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_save(self, installation: Installation) -> None:
        await self.async_save_bot(installation.to_bot())

    async def async_save_bot(self, bot: Bot) -> None:
        enterprise_id, team_id = bot.enterprise_id or "", bot.team_id or ""
        async with self.db.write() as s:
            row = (
                await s.exec(
                    select(SlackInstallation).where(
                        SlackInstallation.enterprise_id == enterprise_id,
                        SlackInstallation.team_id == team_id,
                    )
                )
            ).first() or SlackInstallation(
                enterprise_id=enterprise_id, team_id=team_id, bot_token=""
            )
            row.is_enterprise_install = bool(bot.is_enterprise_install)
            row.app_id = bot.app_id
            row.bot_id = bot.bot_id
            row.bot_user_id = bot.bot_user_id
            row.bot_token = bot.bot_token
            row.bot_scopes = ",".join(bot.bot_scopes or [])
            row.installer_user_id = getattr(bot, "installer_user_id", None)
            row.installed_at = utcnow()
            s.add(row)

    async def _row(
        self, enterprise_id: str | None, team_id: str | None
    ) -> SlackInstallation | None:
        async with self.db.read() as s:
            query = select(SlackInstallation).where(
                SlackInstallation.enterprise_id == (enterprise_id or "")
            )
            if team_id:
                query = query.where(SlackInstallation.team_id == team_id)
            return (await s.exec(query.order_by(SlackInstallation.installed_at.desc()))).first()  # type: ignore[attr-defined]

    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        row = await self._row(enterprise_id, None if is_enterprise_install else team_id)
        if row is None:
            return None
        return Bot(
            app_id=row.app_id,
            enterprise_id=row.enterprise_id or None,
            team_id=row.team_id or None,
            bot_token=row.bot_token,
            bot_id=row.bot_id or "",
            bot_user_id=row.bot_user_id or "",
            bot_scopes=row.bot_scopes,
            is_enterprise_install=row.is_enterprise_install,
            installed_at=row.installed_at.timestamp(),
        )

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        row = await self._row(enterprise_id, None if is_enterprise_install else team_id)
        if row is None:
            return None
        return Installation(
            app_id=row.app_id,
            enterprise_id=row.enterprise_id or None,
            team_id=row.team_id or None,
            bot_token=row.bot_token,
            bot_id=row.bot_id,
            bot_user_id=row.bot_user_id,
            bot_scopes=row.bot_scopes,
            user_id=row.installer_user_id or "",
            is_enterprise_install=row.is_enterprise_install,
            installed_at=row.installed_at.timestamp(),
        )

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await self.async_delete_all(enterprise_id=enterprise_id, team_id=team_id)

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        if user_id is None:
            await self.async_delete_all(enterprise_id=enterprise_id, team_id=team_id)

    async def async_delete_all(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        async with self.db.write() as s:
            rows = (
                await s.exec(
                    select(SlackInstallation).where(
                        SlackInstallation.enterprise_id == (enterprise_id or ""),
                        SlackInstallation.team_id == (team_id or ""),
                    )
                )
            ).all()
            for row in rows:
                await s.delete(row)

    async def bot_token(self, team_id: str) -> str | None:
        """The bot token for a workspace, or ``None`` when the app is not installed there."""
        async with self.db.read() as s:
            row = (
                await s.exec(
                    select(SlackInstallation)
                    .where(SlackInstallation.team_id == team_id)
                    .order_by(SlackInstallation.installed_at.desc())  # type: ignore[attr-defined]
                )
            ).first()
            return row.bot_token if row else None


class DbOAuthStateStore(AsyncOAuthStateStore):
    """OAuth state in the database, so the redirect may land on any instance."""

    def __init__(self, db: Database, expiration_seconds: int = 600) -> None:
        self.db = db
        self.expiration_seconds = expiration_seconds

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        state = secrets.token_urlsafe(24)
        expires = utcnow() + timedelta(seconds=self.expiration_seconds)
        async with self.db.write() as s:
            s.add(SlackOAuthState(state=state, expires_at=expires))
        return state

    async def async_consume(self, state: str) -> bool:
        async with self.db.write() as s:
            row = await s.get(SlackOAuthState, state)
            if row is None:
                return False
            await s.delete(row)
            return row.expires_at > utcnow()
