"""The messaging tables' DDL is exactly the committed one (messaging_schema.sql): the migrations that
call ``create_messaging_schema`` emit the same schema whatever library declares the tables."""

from __future__ import annotations

from pathlib import Path

from bookshelf_messaging.schema import create_statements, drop_statements
from sqlalchemy.dialects import postgresql

GOLDEN = Path(__file__).with_name("messaging_schema.sql")


def normalized(sql: str) -> str:
    """Without trailing blanks (SQLAlchemy ends column lines with one; editors strip them)."""
    return "\n".join(line.rstrip() for line in sql.strip().splitlines())


def compiled() -> str:
    dialect = postgresql.dialect()
    statements = (*create_statements(), *drop_statements())
    return normalized("\n\n".join(str(s.compile(dialect=dialect)).strip() + ";" for s in statements))


def test_the_ddl_is_the_committed_schema() -> None:
    committed = GOLDEN.read_text().split("\n\n", 1)[1]  # after the header comment
    assert compiled() == normalized(committed)
