"""Persistence: SQLModel tables, the async database wrapper, queries and Alembic migrations."""
