"""Alembic revisions of the MySQL-legacy schema."""
