"""The database: the tables, the Alembic glue and the event store; the one place that
knows SQLite from PostgreSQL."""
