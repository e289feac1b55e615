"""Conversation references in the database: how to reach a tenant, a channel or a person later.

Rows live in ``storage.models.ConversationRef`` keyed by (``teams``, tenant id, target):

* ``tenant`` — the tenant's service URL and the bot's id there (learned on install);
* a channel / group chat conversation id — where to post in that channel;
* a user id (AAD object id) — their Teams id and, once known, their 1:1 conversation id.
"""

from __future__ import annotations

from storage.conversations import ConversationStore
from storage.db import Database

PLATFORM = "teams"
TENANT_TARGET = "tenant"


class ReferenceStore(ConversationStore):
    """Teams' references: keyed by tenant id and target."""

    def __init__(self, db: Database) -> None:
        super().__init__(db, PLATFORM)
