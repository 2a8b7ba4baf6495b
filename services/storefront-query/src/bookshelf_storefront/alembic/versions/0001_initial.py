"""Read-model tables (generation 1) behind views, the generation registry, inbox/outbox.

Every read-model table is a generation ``<name>_g<N>`` behind a view ``<name>``: the API reads and the
live consumers write through the views; ``bookshelf projections rebuild`` builds generation N+1 with
``CREATE TABLE ... (LIKE <name>_g<N> INCLUDING ALL)`` and swaps the views in one transaction.

Contains searches use ``sf_grams``: a GIN index over the trigrams of title and author (plain text[]
array_ops, because pg_trgm is not shipped with the embedded PostgreSQL 16).

Revision ID: 0001
Revises:
"""

from alembic import op
from bookshelf_messaging.schema import create_messaging_schema, drop_messaging_schema

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

GRAMS = """
CREATE OR REPLACE FUNCTION sf_grams(prefix text, value text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(DISTINCT prefix || substr(l, i, 3)), '{}')
    FROM (SELECT lower(value) AS l) AS v, generate_series(1, length(l) - 2) AS i
$$
"""

VISIBLE = "WHERE details_version > 0"

TABLES = {
    "storefront_view": """
        book_id uuid PRIMARY KEY,
        title text, author text, isbn text, genre text,
        price_amount numeric(14, 2), price_currency text,
        available integer NOT NULL DEFAULT 0,
        in_stock boolean GENERATED ALWAYS AS (available > 0) STORED,
        updated_at timestamptz NOT NULL,
        details_version integer NOT NULL DEFAULT 0,
        price_version integer NOT NULL DEFAULT 0,
        stock_version integer NOT NULL DEFAULT 0
    """,
    "book_catalog": """
        book_id uuid PRIMARY KEY,
        title text, author text, isbn text,
        price_amount numeric(14, 2), price_currency text,
        updated_at timestamptz NOT NULL,
        details_version integer NOT NULL DEFAULT 0,
        price_version integer NOT NULL DEFAULT 0
    """,
    "book_report": """
        book_id uuid PRIMARY KEY,
        title text, author text, isbn text, genre text, description text,
        tags jsonb NOT NULL DEFAULT '[]', page_count integer, publication_date date, in_print boolean,
        price_amount numeric(14, 2), price_currency text,
        price_change_versions integer[] NOT NULL DEFAULT '{}',
        units_sold integer NOT NULL DEFAULT 0,
        revenue jsonb NOT NULL DEFAULT '{}',
        updated_at timestamptz NOT NULL,
        details_version integer NOT NULL DEFAULT 0,
        price_version integer NOT NULL DEFAULT 0
    """,
    "report_orders": """
        order_id uuid PRIMARY KEY,
        lines jsonb,
        confirmed boolean NOT NULL DEFAULT false,
        cancelled_after_confirm boolean NOT NULL DEFAULT false,
        counted boolean NOT NULL DEFAULT false,
        updated_at timestamptz NOT NULL
    """,
    "order_tracking": """
        order_id uuid PRIMARY KEY,
        status text, customer_email text,
        total_amount numeric(14, 2), total_currency text,
        tracking_number text, shipment_status text,
        history jsonb NOT NULL DEFAULT '[]',
        updated_at timestamptz NOT NULL,
        order_version integer NOT NULL DEFAULT 0,
        shipment_version integer NOT NULL DEFAULT 0
    """,
}

# (table, index name suffix, definition); every storefront index covers visible rows only.
INDEXES = [
    ("storefront_view", "title", f"(title, book_id) {VISIBLE}"),
    ("storefront_view", "author", f"(author, book_id) {VISIBLE}"),
    ("storefront_view", "author_lower", f"(lower(author)) {VISIBLE}"),
    ("storefront_view", "price", f"(price_amount, book_id) {VISIBLE}"),
    ("storefront_view", "available", f"(available, book_id) {VISIBLE}"),
    ("storefront_view", "updated", f"(updated_at, book_id) {VISIBLE}"),
    ("storefront_view", "genre", f"(genre, in_stock, price_amount) {VISIBLE}"),
    ("storefront_view", "in_stock", f"(in_stock, price_amount) {VISIBLE}"),
    (
        "storefront_view",
        "grams",
        f"USING gin ((sf_grams('t', title) || sf_grams('a', author))) {VISIBLE}",
    ),
    ("book_catalog", "title", f"(title, book_id) {VISIBLE}"),
    ("book_report", "units_sold", f"(units_sold, book_id) {VISIBLE}"),
]

READ_MODELS = ("storefront", "catalog", "reports", "tracking")


def upgrade() -> None:
    op.execute(GRAMS)
    op.execute(
        "CREATE TABLE read_model_generations (name text PRIMARY KEY, generation integer NOT NULL, "
        "switched_at timestamptz NOT NULL DEFAULT now())"
    )
    for name in READ_MODELS:
        op.execute(f"INSERT INTO read_model_generations (name, generation) VALUES ('{name}', 1)")
    for table, columns in TABLES.items():
        op.execute(f"CREATE TABLE {table}_g1 ({columns})")
    for table, suffix, definition in INDEXES:
        op.execute(f"CREATE INDEX ix_{table}_g1_{suffix} ON {table}_g1 {definition}")
    for table in TABLES:
        op.execute(f"CREATE VIEW {table} AS SELECT * FROM {table}_g1")
    create_messaging_schema(op)


def downgrade() -> None:
    drop_messaging_schema(op)
    for table in TABLES:
        op.execute(f"DROP VIEW IF EXISTS {table}")
        op.execute(
            "DO $$ DECLARE t text; BEGIN FOR t IN SELECT tablename FROM pg_tables "
            f"WHERE schemaname = current_schema() AND tablename ~ '^{table}_g[0-9]+$' "
            "LOOP EXECUTE format('DROP TABLE %I', t); END LOOP; END $$"
        )
    op.execute("DROP TABLE read_model_generations")
    op.execute("DROP FUNCTION sf_grams(text, text)")
