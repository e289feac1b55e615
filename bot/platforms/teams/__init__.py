"""Microsoft Teams adapter (Microsoft 365 Agents SDK): Activity in, Adaptive Card out."""

from bot.platforms.teams.app import mount_teams
from bot.platforms.teams.transport import TeamsTransport

__all__ = ["TeamsTransport", "mount_teams"]
