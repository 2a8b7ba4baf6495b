-- The DDL of the messaging tables as compiled for PostgreSQL (create, then drop): what every service's
-- initial migration emits. test_messaging_schema_ddl.py compares bookshelf_messaging.schema with it,
-- so a change of how the tables are declared cannot change the schema unnoticed.

CREATE TABLE outbox (
	id BIGSERIAL NOT NULL,
	topic TEXT NOT NULL,
	key TEXT,
	value BYTEA NOT NULL,
	headers JSONB NOT NULL,
	created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
	published_at TIMESTAMP WITH TIME ZONE,
	parked_at TIMESTAMP WITH TIME ZONE,
	parked_error TEXT,
	PRIMARY KEY (id)
);

CREATE INDEX ix_outbox_unpublished ON outbox (id) WHERE published_at IS NULL;

CREATE TABLE inbox (
	consumer_group TEXT NOT NULL,
	message_id UUID NOT NULL,
	processed_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
	PRIMARY KEY (consumer_group, message_id)
);

CREATE INDEX ix_inbox_processed_at ON inbox USING brin (processed_at);

CREATE OR REPLACE FUNCTION bookshelf_outbox_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('outbox', '');
    RETURN NULL;
END;
$$;

CREATE OR REPLACE TRIGGER outbox_notify AFTER INSERT ON outbox
FOR EACH STATEMENT EXECUTE FUNCTION bookshelf_outbox_notify();

DROP TRIGGER IF EXISTS outbox_notify ON outbox;

DROP FUNCTION IF EXISTS bookshelf_outbox_notify();

DROP TABLE IF EXISTS inbox;

DROP TABLE IF EXISTS outbox;
