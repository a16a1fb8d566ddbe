"""Alembic environment: uses the connection handed in by console.storage.migrate."""

from __future__ import annotations

from alembic import context

from console.storage.models import Base, include_name

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # `alembic check`/`revision --autogenerate` from the dev tree
    from sqlalchemy import create_engine

    url = config.get_main_option("sqlalchemy.url") or "sqlite://"
    engine = create_engine(url)
    with engine.connect() as fresh:
        context.configure(
            connection=fresh,
            target_metadata=Base.metadata,
            render_as_batch=True,
            include_name=include_name,
        )
        with context.begin_transaction():
            context.run_migrations()
else:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,
        include_name=include_name,
    )
    context.run_migrations()
