"""The ``coregroup`` command. Each sub-command lives in a module of ``bot.commands``.

A module there exposes ``register(app: typer.Typer) -> None``; it is found automatically, so
adding a command never means editing this file. A platform's own commands (``teams-package``)
come from its entry in :mod:`bot.platforms.registry`.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

import typer
from pydantic import ValidationError

import bot.commands
from bot.platforms import registry
from bot.settings import settings_problems

app = typer.Typer(
    name="coregroup",
    help="Core group supervision / reflection bot for Slack and Microsoft Teams.",
    no_args_is_help=True,
    add_completion=False,
)


def _register_commands() -> None:
    for info in sorted(pkgutil.iter_modules(bot.commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"bot.commands.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(app)
    registry.add_commands(app)


_register_commands()


def main() -> None:
    try:
        app()
    except ValidationError as exc:  # a setting that cannot be read: say which, no traceback
        if exc.title != "Settings":
            raise
        for line in settings_problems(exc):
            print(f"Cannot read the settings: {line}.", file=sys.stderr)
        raise SystemExit(2) from None
