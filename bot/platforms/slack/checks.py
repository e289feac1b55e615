"""Is Slack set up whole? Half a pair of credentials leaves it silently off."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.checkup import Check, ok, problem

if TYPE_CHECKING:
    from bot.settings import Settings


def slack_pairing(settings: Settings) -> Check:
    signing = bool(settings.slack_signing_secret)
    oauth_id, oauth_secret = bool(settings.slack_client_id), bool(settings.slack_client_secret)
    tokens = [
        name
        for name, value in (
            ("SLACK_BOT_TOKEN", settings.slack_bot_token),
            ("SLACK_APP_TOKEN", settings.slack_app_token),
            ("SLACK_CLIENT_ID", oauth_id),
            ("SLACK_CLIENT_SECRET", oauth_secret),
        )
        if value
    ]
    if oauth_id != oauth_secret:
        missing, present = ("SLACK_CLIENT_SECRET", "SLACK_CLIENT_ID")[:: 1 if oauth_id else -1]
        return problem(
            missing,
            f"not set, but {present} is: installing into workspaces cannot work",
            "set both SLACK_CLIENT_ID and SLACK_CLIENT_SECRET (Basic Information), or neither",
        )
    if tokens and not signing:
        return problem(
            "SLACK_SIGNING_SECRET",
            f"not set, but {tokens[0]} is: Slack would stay switched off",
            "set SLACK_SIGNING_SECRET from your Slack app's Basic Information page",
        )
    if signing and not (settings.slack_bot_token or oauth_id):
        return problem(
            "SLACK_BOT_TOKEN",
            "not set (nor SLACK_CLIENT_ID), but SLACK_SIGNING_SECRET is: Slack is half set up",
            "set SLACK_BOT_TOKEN (one workspace) or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET",
        )
    return ok("SLACK_*", "Slack is set up" if signing else "Slack is not used")
