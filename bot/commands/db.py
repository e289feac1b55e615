"""``coregroup db upgrade`` / ``db current``: the schema, migrated with Alembic."""

from __future__ import annotations

import typer

from bot.settings import get_settings


def register(app: typer.Typer) -> None:
    db_app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)

    @db_app.command("upgrade")
    def upgrade(
        revision: str = typer.Argument("head", help="Target revision."),
        url: str | None = typer.Option(None, help="Database URL (default: DATABASE_URL)."),
    ) -> None:
        """Create or migrate the tables to the latest schema."""
        from storage.migrate import upgrade as run_upgrade

        run_upgrade(url or get_settings().database_url, revision)
        typer.echo("Database is up to date.")

    @db_app.command("current")
    def current(
        url: str | None = typer.Option(None, help="Database URL (default: DATABASE_URL)."),
    ) -> None:
        """Show the schema revision the database is at."""
        from storage.migrate import current as read_current

        typer.echo(read_current(url or get_settings().database_url) or "(empty database)")

    app.add_typer(db_app, name="db")
