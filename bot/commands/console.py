"""``coregroup console`` (interactive) and ``coregroup demo`` (scripted, prints the record)."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from bot.bootstrap import open_runtime
from bot.settings import get_settings


def register(app: typer.Typer) -> None:
    @app.command()
    def console(
        persona: str = typer.Option("ro", help="Who you are at the start (a user id)."),
        database: str | None = typer.Option(None, help="Database URL (default: DATABASE_URL)."),
    ) -> None:
        """Chat with the bot in this terminal. Type /reflect help, or /as <name> to switch."""
        asyncio.run(_console(persona, database))

    @app.command()
    def demo(
        docx: Annotated[
            Path | None, typer.Option(help="Also write the Word record to this file.")
        ] = None,
        database: str | None = typer.Option(
            None, help="Database URL (default: a throwaway SQLite file)."
        ),
    ) -> None:
        """Run a whole Appendix 1 supervision with five people and print the record."""
        asyncio.run(_demo(docx, database))


async def _console(persona: str, database: str | None) -> None:
    from bot.platforms.console.backend import ConsoleBackend
    from bot.platforms.console.repl import ConsoleSession

    async with open_runtime(get_settings(), database_url=database) as runtime:
        await runtime.core.db.create_all()
        backend = ConsoleBackend(runtime)
        session = ConsoleSession(backend, ask=input, say=typer.echo, persona=persona)
        typer.echo(
            "Core group reflection — console. Type /reflect help; /as <name> to switch person;"
            " /quit to leave."
        )
        typer.echo(f"You are @{persona} in #{backend.channel}.")
        try:
            while await session.handle_line(
                await asyncio.to_thread(input, f"@{session.persona}> ")
            ):
                pass
        except (EOFError, KeyboardInterrupt):
            typer.echo("")


async def _demo(docx: Path | None, database: str | None) -> None:
    from bot.platforms.console.backend import ConsoleBackend
    from bot.platforms.console.render import render_text
    from bot.platforms.console.repl import run_demo_script
    from handlers.base.messages import RecordBlock

    with tempfile.TemporaryDirectory() as tmp:
        url = database or f"sqlite:///{Path(tmp) / 'demo.db'}"
        async with open_runtime(get_settings(), database_url=url) as runtime:
            await runtime.core.db.create_all()
            backend = ConsoleBackend(runtime)
            await run_demo_script(backend)
        progress = [m for m in backend.channel_log() if m.thread is None][-1]
        typer.echo(render_text(progress.message))
        typer.echo("")
        record = next(
            m
            for m in backend.channel_log()
            if m.message.blocks and isinstance(m.message.blocks[0], RecordBlock)
        )
        typer.echo(render_text(record.message))
        if docx is not None:
            await asyncio.to_thread(docx.write_bytes, backend.transport.files[-1][1])
            typer.echo(f"Word record written to {docx}")
