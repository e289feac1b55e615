"""Is Teams set up whole and authenticated?"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.checkup import Check, ok, problem

if TYPE_CHECKING:
    from bot.settings import Settings


def teams_credentials(settings: Settings) -> Check:
    managed = settings.microsoft_app_type.strip().lower() == "userassignedmsi"
    if settings.microsoft_app_id and not settings.microsoft_app_password and not managed:
        return problem(
            "MICROSOFT_APP_PASSWORD",
            "not set, but MICROSOFT_APP_ID is: Teams cannot get a token to reply",
            "set MICROSOFT_APP_PASSWORD to the Azure Bot's client secret "
            "(or MICROSOFT_APP_TYPE=UserAssignedMSI on a managed identity)",
        )
    if settings.microsoft_app_password and not settings.microsoft_app_id:
        return problem(
            "MICROSOFT_APP_ID",
            "not set, but MICROSOFT_APP_PASSWORD is: Teams is half set up",
            "set MICROSOFT_APP_ID to the Azure Bot's app (client) id",
        )
    return ok("MICROSOFT_APP_*", "Teams is set up" if settings.microsoft_app_id else "no Teams")


def teams_authentication(settings: Settings) -> Check:
    name = "TEAMS_ALLOW_UNAUTHENTICATED"
    if settings.teams_allow_unauthenticated:
        return problem(
            name,
            "is on: anyone could post Teams activities without a token",
            f"remove {name} (it is for local development only)",
        )
    return ok(name, "off: every Teams activity must carry a valid token")
