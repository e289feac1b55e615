"""Whether Slack is switched on, and how: one bot token, or OAuth installs in many workspaces.

Both the registry's entry (``platform``) and the adapter (``app``) ask, so it lives apart from
either; ``platform`` stays light, importing ``app`` (and slack-bolt) only when Slack is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.settings import Settings


def slack_configured(settings: Settings) -> bool:
    """Slack is on when there is a signing secret and either a bot token or OAuth credentials."""
    return bool(settings.slack_signing_secret) and (
        bool(settings.slack_bot_token) or multi_workspace(settings)
    )


def multi_workspace(settings: Settings) -> bool:
    """Installable in many workspaces (OAuth), each with its own token, instead of one token."""
    return bool(settings.slack_client_id and settings.slack_client_secret)
