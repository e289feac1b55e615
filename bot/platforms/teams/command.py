"""``coregroup teams-package``: build the Teams app package (manifest.json + icons) to upload."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bot.settings import get_settings


def teams_package(
    out: Annotated[Path, typer.Option("--out", help="Where to write the zip.")] = Path(
        "coregroup-teams.zip"
    ),
    app_id: Annotated[
        str | None,
        typer.Option(
            "--app-id", help="The Azure Bot's Microsoft App ID (default: MICROSOFT_APP_ID)."
        ),
    ] = None,
    version: Annotated[
        str | None, typer.Option(help="App version, like 1.0.1 (bump it to upload a change).")
    ] = None,
    website: Annotated[
        str | None, typer.Option(help="https:// address of your organisation's page about the bot.")
    ] = None,
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
