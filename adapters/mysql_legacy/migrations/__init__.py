"""Alembic environment of the MySQL-legacy schema (a package so it ships)."""
