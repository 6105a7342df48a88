"""The MySQL-legacy adapters: run records and the event table, on SQLAlchemy 2.

The same tables serve MariaDB/MySQL (through PyMySQL) and SQLite (the embedded
default); the schema is created and migrated by the Alembic scripts shipped in
`migrations/`.
"""
