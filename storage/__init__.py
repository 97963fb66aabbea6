"""Storage: SQLAlchemy 2 models, migrations, repository functions and media files."""

from storage.errors import SchemaOutOfDateError, StorageError

__all__ = ["SchemaOutOfDateError", "StorageError"]
