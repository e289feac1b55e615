"""The tables behind Slack workspace installations and OAuth state (``storage.slack_install``).

Defined apart from the stores so that ``storage.db`` can register every table without
importing the stores, which use the database.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import SealedText, UTCDateTime, utcnow


class SlackInstallation(SQLModel, table=True):
    """The bot's credentials for one workspace (or Enterprise Grid org)."""

    __tablename__ = "slack_installation"
    __table_args__ = (UniqueConstraint("enterprise_id", "team_id"),)

    id: int | None = Field(default=None, primary_key=True)
    # "" instead of NULL so the unique key works the same on SQLite and PostgreSQL.
    enterprise_id: str = Field(default="", max_length=32, index=True)
    team_id: str = Field(default="", max_length=32, index=True)
    is_enterprise_install: bool = False
    app_id: str | None = Field(default=None, max_length=32)
    bot_id: str | None = Field(default=None, max_length=32)
    bot_user_id: str | None = Field(default=None, max_length=32)
    bot_token: str = Field(sa_type=SealedText)
    bot_scopes: str = Field(default="", max_length=1000)
    installer_user_id: str | None = Field(default=None, max_length=32)
    installed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SlackOAuthState(SQLModel, table=True):
    """One-time OAuth ``state`` values, valid for a few minutes."""

    __tablename__ = "slack_oauth_state"

    state: str = Field(primary_key=True, max_length=64)
    expires_at: datetime = Field(sa_type=UTCDateTime)
