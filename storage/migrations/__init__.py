"""Alembic migrations for the storage schema (applied by ``storage.engine.upgrade``)."""
