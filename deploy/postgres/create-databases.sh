#!/bin/sh
# One database per Bookshelf service, each owned by a login role of the same name (database per
# service: a service's role cannot connect to another service's database), plus `bookshelf_reader`,
# a read-only role the observatory uses to watch every service's outbox backlog.
#
# Idempotent (roles and databases are created when missing; passwords are set on every run, so
# rotating one is: change the variable, run this again), so it runs on every `docker compose up`
# (service postgres-init) and as a Job in the Kubernetes dev overlay.
#
# Environment:
#   BOOKSHELF_DATABASES              e.g. "catalog ordering inventory shipping storefront observatory"
#   <NAME>_DB_PASSWORD               the password of each role (NAME upper-cased: CATALOG_DB_PASSWORD)
#   BOOKSHELF_READER_DB_PASSWORD     the password of bookshelf_reader
#   PGHOST, PGPORT, PGUSER, PGPASSWORD (or POSTGRES_PASSWORD)   a superuser connection (libpq)
set -eu

: "${BOOKSHELF_DATABASES:?BOOKSHELF_DATABASES is not set (space-separated database names)}"
: "${BOOKSHELF_READER_DB_PASSWORD:?BOOKSHELF_READER_DB_PASSWORD is not set}"
export PGPASSWORD="${PGPASSWORD:-${POSTGRES_PASSWORD:-}}"
export PGDATABASE=postgres

# The server may still be starting (Kubernetes starts this Job and PostgreSQL together).
tries=0
until pg_isready --quiet; do
    tries=$((tries + 1))
    if [ "$tries" -ge 60 ]; then
        echo "create-databases: PostgreSQL at ${PGHOST:-local socket} did not answer for 120 s" >&2
        exit 1
    fi
    sleep 2
done

# Passwords reach psql through the environment (\getenv), never through its command line.
psql -v ON_ERROR_STOP=1 --quiet <<'SQL'
\getenv reader_password BOOKSHELF_READER_DB_PASSWORD
SELECT 'CREATE ROLE bookshelf_reader LOGIN'
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'bookshelf_reader') \gexec
ALTER ROLE bookshelf_reader WITH LOGIN PASSWORD :'reader_password';
SQL

for db in $BOOKSHELF_DATABASES; do
    variable="$(echo "$db" | tr 'a-z-' 'A-Z_')_DB_PASSWORD"
    password="$(printenv "$variable" || true)"
    if [ -z "$password" ]; then
        echo "create-databases: $variable is not set (the password of role $db)" >&2
        exit 1
    fi
    DB_NAME="$db" DB_PASSWORD="$password" psql -v ON_ERROR_STOP=1 --quiet <<'SQL'
\getenv db DB_NAME
\getenv password DB_PASSWORD
SELECT format('CREATE ROLE %I LOGIN', :'db')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'db') \gexec
ALTER ROLE :"db" WITH LOGIN PASSWORD :'password';
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'db')
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db') \gexec
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"db" TO bookshelf_reader;
\connect :"db"
-- Tables the service's migrations create later are readable by bookshelf_reader, never writable.
ALTER DEFAULT PRIVILEGES FOR ROLE :"db" IN SCHEMA public GRANT SELECT ON TABLES TO bookshelf_reader;
GRANT USAGE ON SCHEMA public TO bookshelf_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO bookshelf_reader;
SQL
    echo "create-databases: $db ready"
done
