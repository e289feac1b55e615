"""One configuration check's outcome, shared by the core checks and each platform's own."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Check:
    """One check's outcome: what it is about, whether it passed, and how to fix it."""

    setting: str
    ok: bool
    message: str
    fix: str = ""
    blocks_production: bool = True


def ok(setting: str, message: str) -> Check:
    return Check(setting, True, message)


def problem(setting: str, message: str, fix: str, *, blocks: bool = True) -> Check:
    return Check(setting, False, message, fix, blocks)
