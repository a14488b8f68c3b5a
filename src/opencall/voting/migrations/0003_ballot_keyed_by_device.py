"""A live ballot is keyed by (live vote, device): the unique constraint becomes the primary key and
the surrogate id goes, so that PostgreSQL keeps one index per inserted ballot instead of two and
draws no sequence value for it.

Django's schema editor does not create a composite primary key for an existing table, so the last
step does: PostgreSQL adds it in place, SQLite (which cannot alter a table's key) copies the rows
into a table created from the model.
"""

from django.db import migrations, models


def add_primary_key(apps, schema_editor):
    model = apps.get_model("voting", "LiveBallot")
    table = schema_editor.quote_name(model._meta.db_table)
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE {table} ADD PRIMARY KEY (live_vote_id, device)")
        return
    old = model._meta.db_table + "__keyless"
    schema_editor.alter_db_table(model, model._meta.db_table, old)
    schema_editor.create_model(model)
    columns = ", ".join(schema_editor.quote_name(f.column) for f in model._meta.local_concrete_fields)
    schema_editor.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {schema_editor.quote_name(old)}")  # noqa: S608
    schema_editor.execute(f"DROP TABLE {schema_editor.quote_name(old)}")


def drop_primary_key(apps, schema_editor):
    """Backwards: the earlier operations, reversed, rebuild the table with its id (SQLite) or
    need the key gone first (PostgreSQL)."""
    if schema_editor.connection.vendor == "postgresql":
        model = apps.get_model("voting", "LiveBallot")
        table = schema_editor.quote_name(model._meta.db_table)
        schema_editor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {model._meta.db_table}_pkey")


class Migration(migrations.Migration):
    dependencies = [
        ("voting", "0002_ballot_without_db_constraints"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="liveballot", name="one_ballot_per_device"),
        migrations.RemoveField(model_name="liveballot", name="id"),
        migrations.AddField(
            model_name="liveballot",
            name="pk",
            field=models.CompositePrimaryKey(
                "live_vote", "device", blank=True, editable=False, primary_key=True, serialize=False
            ),
        ),
        migrations.RunPython(add_primary_key, drop_primary_key),
    ]
