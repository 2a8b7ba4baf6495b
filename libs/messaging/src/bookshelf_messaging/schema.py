"""DDL of the messaging tables: one source for Alembic migrations and for tests without Alembic.

The tables come from their SQLAlchemy Core definitions (``outbox_table``, ``inbox_table``); the NOTIFY trigger
is the SQL below. ``create_messaging_schema(op)`` emits both through an Alembic ``op`` (works in
offline ``--sql`` mode too); ``install(engine)`` applies the same statements to a live database.
"""

from __future__ import annotations

from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.schema import CreateIndex, CreateTable, DropTable

from bookshelf_messaging.inbox import inbox_table
from bookshelf_messaging.outbox import outbox_table

NOTIFY_CHANNEL = "outbox"

# FOR EACH STATEMENT: a 50,000-row insert sends one notification, not 50,000 (and PostgreSQL folds
# identical notifications of one transaction anyway). Delivered at commit, when the rows are visible.
TRIGGER_DDL: tuple[str, ...] = (
    f"""CREATE OR REPLACE FUNCTION bookshelf_outbox_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('{NOTIFY_CHANNEL}', '');
    RETURN NULL;
END;
$$""",
    """CREATE OR REPLACE TRIGGER outbox_notify AFTER INSERT ON outbox
FOR EACH STATEMENT EXECUTE FUNCTION bookshelf_outbox_notify()""",
)
DROP_TRIGGER_DDL: tuple[str, ...] = (
    "DROP TRIGGER IF EXISTS outbox_notify ON outbox",
    "DROP FUNCTION IF EXISTS bookshelf_outbox_notify()",
)


# Parking columns (issue 16), added to tables made before them. ``create_statements`` already makes
# them (from ``outbox_table``), hence IF [NOT] EXISTS: each service's migration after its initial one
# calls ``add_outbox_parking(op)``, a no-op on a database its initial migration just created.
PARKING_DDL: tuple[str, ...] = (
    "ALTER TABLE outbox ADD COLUMN IF NOT EXISTS parked_at timestamptz",
    "ALTER TABLE outbox ADD COLUMN IF NOT EXISTS parked_error text",
)
DROP_PARKING_DDL: tuple[str, ...] = (
    "ALTER TABLE outbox DROP COLUMN IF EXISTS parked_error",
    "ALTER TABLE outbox DROP COLUMN IF EXISTS parked_at",
)


class AlembicOp(Protocol):
    """The part of ``alembic.op`` these helpers use."""

    def execute(self, sqltext: Any) -> Any: ...


def messaging_tables() -> list[sa.Table]:
    """The ``outbox`` and ``inbox`` tables (for ``metadata.create_all(tables=...)`` or autogenerate)."""
    return [outbox_table, inbox_table]


def create_statements() -> list[Any]:
    """Every DDL statement that creates the schema, in order (tables, indexes, trigger)."""
    statements: list[Any] = []
    for table in messaging_tables():
        statements.append(CreateTable(table))
        statements.extend(CreateIndex(index) for index in sorted(table.indexes, key=lambda i: str(i.name)))
    statements.extend(sa.text(sql) for sql in TRIGGER_DDL)
    return statements


def drop_statements() -> list[Any]:
    """Every DDL statement that drops the schema, in order."""
    statements: list[Any] = [sa.text(sql) for sql in DROP_TRIGGER_DDL]
    statements.extend(DropTable(table, if_exists=True) for table in reversed(messaging_tables()))
    return statements


def create_messaging_schema(op: AlembicOp) -> None:
    """Alembic ``upgrade()`` step: create outbox, inbox and the NOTIFY trigger."""
    for statement in create_statements():
        op.execute(statement)


def drop_messaging_schema(op: AlembicOp) -> None:
    """Alembic ``downgrade()`` step: drop what ``create_messaging_schema`` created."""
    for statement in drop_statements():
        op.execute(statement)


def add_outbox_parking(op: AlembicOp) -> None:
    """Alembic ``upgrade()`` step: the outbox's ``parked_at`` and ``parked_error`` columns."""
    for sql in PARKING_DDL:
        op.execute(sa.text(sql))


def drop_outbox_parking(op: AlembicOp) -> None:
    """Alembic ``downgrade()`` step: drop what ``add_outbox_parking`` added."""
    for sql in DROP_PARKING_DDL:
        op.execute(sa.text(sql))


async def install_on(conn: AsyncConnection) -> None:
    """Create the schema on a connection if it is missing (idempotent; for tests and dev setup)."""
    exists = await conn.scalar(sa.text("SELECT to_regclass('outbox') IS NOT NULL"))
    if exists:
        # Keeps the trigger and columns current on databases created by older code.
        for sql in (*TRIGGER_DDL, *PARKING_DDL):
            await conn.execute(sa.text(sql))
        return
    for statement in create_statements():
        await conn.execute(statement)


async def install(engine: AsyncEngine) -> None:
    """Create the messaging schema in its own transaction (no Alembic needed)."""
    async with engine.begin() as conn:
        await install_on(conn)


async def uninstall(engine: AsyncEngine) -> None:
    """Drop the messaging schema (tests and ``db drop``)."""
    async with engine.begin() as conn:
        for statement in drop_statements():
            await conn.execute(statement)
