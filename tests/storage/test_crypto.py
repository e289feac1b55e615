"""Encryption at rest: free text is stored sealed, keys rotate, and a wrong key says so."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlmodel import select

from bot.platforms.console.backend import ConsoleBackend
from bot.runtime import Runtime
from bot.settings import Settings
from handlers.base.core import Core
from handlers.base.errors import as_refusal
from handlers.governance import privacy
from storage import crypto
from storage.errors import Undecryptable
from storage.models import Answer, AuditEvent
from tests.factories.console import full_session
from tests.factories.rows import (
    Person,
    add_action,
    add_answer,
    add_group,
    add_members,
    add_organisation,
    add_session,
)

WORDS = "She told me she is frightened at night"


@pytest.fixture(autouse=True)
def _no_key_after() -> Iterator[None]:
    yield
    crypto.configure(None)


async def _store(core: Core) -> None:
    async with core.db.write() as s:
        org = await add_organisation(s, external_id="o")
        group = await add_group(
            s,
            org,
            child_ref="AB-1",
            registered_on=core.now().date(),
            facilitator_id="ro",
            channel_id="c",
        )
        (member,) = await add_members(s, group, [Person("hv", "Hana")])
        session = await add_session(s, group, family_sharing="share " + WORDS)
        await add_answer(s, session, member, "q", comment=WORDS)
        await add_action(s, session, "act " + WORDS)


async def _raw(core: Core) -> list[str]:
    async with core.db.read() as s:
        conn = await s.connection()
        out = []
        for table, column in privacy.sealed_columns():
            rows = await conn.execute(
                text(f'SELECT "{column}" FROM "{table}" WHERE "{column}" IS NOT NULL')
            )
            out += [r[0] for r in rows]
        return out


async def _comment(core: Core) -> str | None:
    async with core.db.read() as s:
        return (await s.exec(select(Answer))).one().comment


async def test_text_is_sealed_in_the_database_and_read_back_plain(core: Core):
    crypto.configure(crypto.new_key())
    await _store(core)
    raw = await _raw(core)
    assert len(raw) == 3 and all(v.startswith("fernet:") for v in raw)
    assert not any("frightened" in v for v in raw)
    assert await _comment(core) == WORDS


async def test_rotation_re_encrypts_so_the_old_key_can_go(core: Core):
    old, new = crypto.new_key(), crypto.new_key()
    crypto.configure(old)
    await _store(core)
    before = await _raw(core)
    crypto.configure(f"{new},{old}")
    assert await privacy.rotate_key(core) == 3
    after = await _raw(core)
    assert set(before).isdisjoint(after) and all(v.startswith("fernet:") for v in after)
    crypto.configure(new)  # the old key removed
    assert await _comment(core) == WORDS
    async with core.db.read() as s:
        events = [e.action for e in await s.exec(select(AuditEvent))]
    assert "privacy.key_rotated" in events


async def test_rotation_also_seals_text_written_before_encryption(core: Core):
    await _store(core)
    assert not any(v.startswith("fernet:") for v in await _raw(core))
    crypto.configure(crypto.new_key())
    assert await privacy.rotate_key(core) == 3
    assert all(v.startswith("fernet:") for v in await _raw(core))
    assert await _comment(core) == WORDS


async def test_a_wrong_key_is_a_clear_error_and_rotation_changes_nothing(core: Core):
    crypto.configure(crypto.new_key())
    await _store(core)
    before = await _raw(core)
    crypto.configure(crypto.new_key())
    with pytest.raises(Undecryptable) as err:
        await _comment(core)
    assert "check the key" in as_refusal(err.value).user_message
    with pytest.raises(Undecryptable) as rot:
        await privacy.rotate_key(core)
    assert "Nothing was changed" in as_refusal(rot.value).user_message
    assert await _raw(core) == before


async def test_rotation_without_a_key_is_refused(core: Core):
    with pytest.raises(privacy.BadInput):
        await privacy.rotate_key(core)


async def test_a_wrong_key_is_explained_in_chat_and_not_as_a_generic_apology(core: Core):
    crypto.configure(crypto.new_key())
    bot = ConsoleBackend(Runtime(Settings(), core))
    await full_session(bot)
    crypto.configure(crypto.new_key())  # the key the text was sealed with is gone
    await bot.command("ro", "export markdown")
    said = bot.last_reply("ro").text
    assert said == (
        "Some stored text could not be decrypted. Ask your administrator to check the key."
    )
