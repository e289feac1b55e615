"""Which language the bot speaks to a person: their own choice, else their organisation's.

Resolution: the person's preference (``/reflect language cy``) > the organisation's default
(``/reflect language cy org``, admins only) > English. The question set follows the same
language; a set without a translation falls back to English in the catalogue.
"""

from __future__ import annotations

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.base import audit
from handlers.base.access import ensure_org, find_org, is_org_admin
from handlers.base.core import Core
from handlers.base.errors import BadInput, NotAllowed
from handlers.base.events import Actor
from handlers.base.messages import Intent, Reply, plain
from handlers.base.request import Request, resolved_for
from prompts.strings import FALLBACK, LANGUAGES, normalise_language, t
from storage.models import Organisation, PersonPreference


def org_language(org: Organisation | None) -> str:
    """The organisation's default language (channel posts, the shared record)."""
    return normalise_language(org.language if org else None)


async def preference(s: AsyncSession, org_id: int, user_id: str) -> PersonPreference | None:
    return (
        await s.exec(
            select(PersonPreference).where(
                PersonPreference.org_id == org_id, PersonPreference.user_id == user_id
            )
        )
    ).first()


async def language_for(s: AsyncSession, org: Organisation | None, user_id: str | None) -> str:
    """The language for one person in one organisation."""
    if org is None:
        return FALLBACK
    request = resolved_for(s, org.id, user_id) if user_id else None
    if request is not None:
        return request.language
    if user_id:
        pref = await preference(s, org.id or 0, user_id)
        if pref is not None and pref.language:
            return normalise_language(pref.language)
    return org_language(org)


async def languages_for(s: AsyncSession, org: Organisation, user_ids: list[str]) -> dict[str, str]:
    """Several people at once (invitations, reminders, record copies)."""
    default = org_language(org)
    if not user_ids:
        return {}
    rows = await s.exec(
        select(PersonPreference).where(
            PersonPreference.org_id == org.id,
            PersonPreference.user_id.in_(user_ids),  # type: ignore[attr-defined]
        )
    )
    chosen = {r.user_id: normalise_language(r.language) for r in rows if r.language}
    return {u: chosen.get(u, default) for u in user_ids}


async def actor_language(core: Core, actor: Actor) -> str:
    """The language for whoever acted (refusals, help): the router's request already knows it,
    else it is read in its own short transaction."""
    if isinstance(actor, Request):
        return actor.language
    async with core.db.read() as s:
        return await language_for(s, await find_org(s, actor), actor.user_id)


def language_name(code: str, lang: str) -> str:
    return t(f"language.name_{code}", lang)


async def set_language(core: Core, actor: Actor, args: str) -> list[Intent]:
    """``/reflect language cy|en`` for yourself; ``/reflect language cy org`` (admin) for all."""
    words = args.lower().split()
    if not words or words[0] not in LANGUAGES or words[1:] not in ([], ["org"]):
        raise BadInput(key="errors.language_usage", choices=" | ".join(LANGUAGES))
    code, for_org = words[0], words[1:] == ["org"]
    async with core.db.write() as s:
        org = await ensure_org(s, core, actor)
        if for_org:
            if not await is_org_admin(s, org, actor.user_id):
                raise NotAllowed(key="errors.language_org_admin")
            org.language = code
            s.add(org)
        else:
            pref = await preference(s, org.id or 0, actor.user_id)
            if pref is None:
                pref = PersonPreference(org_id=org.id or 0, user_id=actor.user_id)
            pref.language = code
            s.add(pref)
        await audit.record(
            s,
            org_id=org.id,
            actor=actor.user_id,
            action="org.language" if for_org else "person.language",
            subject=f"org:{org.id}" if for_org else f"user:{actor.user_id}",
            at=core.now(),
            language=code,
        )
        # Say it in the language the person will now see.
        lang = await language_for(s, org, actor.user_id)
    key = "language.org_set" if for_org else "language.person_set"
    return [Reply(plain(t(key, lang, language=language_name(code, lang))))]
