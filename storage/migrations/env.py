"""Alembic environment: migrations run synchronously against DATABASE_URL (or -x url=...)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool
from sqlmodel import SQLModel

import storage.db  # noqa: F401  (imports every table module)
from storage.db import to_sync_url

config = context.config
url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
    "sqlalchemy.url"
)
if not url:
    raise RuntimeError("No database URL given to Alembic")
DATABASE_URL: str = url

target_metadata = SQLModel.metadata


def run_migrations_offline() -> None:
    context.configure(
        url=to_sync_url(DATABASE_URL),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = create_engine(to_sync_url(DATABASE_URL), poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
