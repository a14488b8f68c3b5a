"""Django's SQLite and PostgreSQL backends, raising ServiceUnavailable when the database cannot serve now."""
