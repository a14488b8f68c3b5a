"""Database triggers that refuse UPDATE and DELETE of ledger rows, whatever code (or SQL) asks.

SQLite: a BEFORE UPDATE and a BEFORE DELETE trigger per table that abort the statement. PostgreSQL:
one function raising an exception, fired BEFORE UPDATE OR DELETE for each row of either table. An
INSERT is allowed (the ledger grows). TRUNCATE is not refused: Django's test runner empties tables
with it between transactional tests, and it needs the table owner's rights that the application
role should not have in production.
"""

from django.db import migrations

TABLES = ("ledger_ledgertransaction", "ledger_ledgerentry")
MESSAGE = "ledger rows are append-only"


def create_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        for table in TABLES:
            for event in ("UPDATE", "DELETE"):
                schema_editor.execute(
                    f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}: {event} refused'); END"
                )
    elif vendor == "postgresql":
        schema_editor.execute(
            "CREATE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN RAISE EXCEPTION '{MESSAGE}: % on % refused', TG_OP, TG_TABLE_NAME "
            "USING ERRCODE = 'restrict_violation'; END $$",
            params=None,  # the body's % are PL/pgSQL placeholders, not the driver's
        )
        for table in TABLES:
            schema_editor.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()"
            )
    else:
        raise NotImplementedError(f"no append-only triggers for {vendor}")


def drop_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        for table in TABLES:
            for event in ("update", "delete"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_{event}")
    elif vendor == "postgresql":
        for table in TABLES:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        schema_editor.execute("DROP FUNCTION IF EXISTS ledger_refuse_change()")


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(create_triggers, drop_triggers),
    ]
