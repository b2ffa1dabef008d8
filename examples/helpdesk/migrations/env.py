"""Alembic's environment: runs migrations on the connection the application hands over."""

from __future__ import annotations

from alembic import context

from examples.helpdesk.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "run migrations through examples.helpdesk.db.migrate (python -m examples.helpdesk migrate)"
    )
context.configure(connection=connection, target_metadata=Base.metadata)
with context.begin_transaction():
    context.run_migrations()
