"""``coregroup teams-package``: build the Teams app package (manifest.json + icons) to upload."""

from __future__ import annotations

from pathlib import Path

import typer

from bot.settings import get_settings

DEFAULT_OUT = Path("coregroup-teams.zip")


def teams_package(
    out: Path = typer.Option(DEFAULT_OUT, "--out", help="Where to write the zip."),
    app_id: str | None = typer.Option(
        None, "--app-id", help="The Azure Bot's Microsoft App ID (default: MICROSOFT_APP_ID)."
    ),
    version: str | None = typer.Option(None, help="App version, like 1.0.1 (bump to re-upload)."),
    website: str | None = typer.Option(
        None, help="https:// address of your organisation's page about the bot."
    ),
) -> None:
    """Build the Microsoft Teams app package, ready to upload in Teams or the admin centre."""
    from bot.platforms.teams.package import PackageError, build

    chosen = app_id or get_settings().microsoft_app_id or ""
    try:
        data = build(chosen, version=version, website=website)
    except PackageError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(code=2) from exc
    out.write_bytes(data)
    typer.echo(f"Wrote {out} ({len(data)} bytes). Upload it in Teams: Apps > Manage your apps.")


def register(app: typer.Typer) -> None:
    app.command("teams-package")(teams_package)
