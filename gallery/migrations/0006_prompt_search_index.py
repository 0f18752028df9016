from django.db import migrations

CREATE = (
    "CREATE INDEX IF NOT EXISTS gallery_image_prompt_fts "
    "ON gallery_image USING gin (to_tsvector('english', prompt))"
)
DROP = "DROP INDEX IF EXISTS gallery_image_prompt_fts"


def create_index(apps, schema_editor):
    # Full-text search is PostgreSQL's; SQLite searches with LIKE and needs no index.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("gallery", "0005_alter_image_space")]

    operations = [migrations.RunPython(create_index, drop_index)]
