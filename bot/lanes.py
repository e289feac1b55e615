"""Which intents must go out one after another, and which may go out side by side.

Closing a session of 20 members sends the record to the group's channel and to every member.
Each conversation is paced by its platform (Slack: about one message a second per channel), so
sending them one conversation after another makes the last member wait for everyone before
them. Intents are therefore split into *lanes*: intents that touch the same conversation or the
same remembered message stay in one lane, in their original order (a thread is posted before
the file that goes in it; an update edits the message it means); different lanes are
independent and are delivered concurrently.
"""

from __future__ import annotations

from handlers.base.messages import (
    Direct,
    Forget,
    Home,
    Intent,
    OpenForm,
    Post,
    Reply,
    Update,
    Upload,
)


def touches(intent: Intent) -> set[str]:
    """The conversations and remembered messages an intent reads or writes."""
    if isinstance(intent, Post):
        keys = {f"channel:{intent.channel_id}"}
        keys |= {f"ref:{k}" for k in (intent.thread_key, intent.remember_as) if k}
        return keys
    if isinstance(intent, Upload):
        keys = {f"channel:{intent.channel_id}"}
        return keys | ({f"ref:{intent.thread_key}"} if intent.thread_key else set())
    if isinstance(intent, Direct):
        keys = {f"person:{intent.user_id}"}
        return keys | ({f"ref:{intent.remember_as}"} if intent.remember_as else set())
    if isinstance(intent, Update):
        keys = {f"ref:{intent.key}"}
        return keys | (touches(intent.fallback) if intent.fallback is not None else set())
    if isinstance(intent, Forget):
        return {f"ref:{intent.key}"}
    if isinstance(intent, Home):
        return {f"home:{intent.user_id}"}
    if isinstance(intent, Reply | OpenForm):
        return {"actor"}  # the person who acted, wherever they acted
    return {"other"}


def lanes(intents: list[Intent]) -> list[list[int]]:
    """Indexes of ``intents`` grouped into lanes (each in original order), lanes by first use.

    Two intents share a lane when they touch a common key, directly or through other intents.
    """
    parent = list(range(len(intents)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[str, int] = {}
    for i, intent in enumerate(intents):
        for key in sorted(touches(intent)):
            if key in owner:
                a, b = root(owner[key]), root(i)
                parent[max(a, b)] = min(a, b)
            else:
                owner[key] = i
    grouped: dict[int, list[int]] = {}
    for i in range(len(intents)):
        grouped.setdefault(root(i), []).append(i)
    return [grouped[r] for r in sorted(grouped)]
