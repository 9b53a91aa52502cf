"""One name per field: an outcome's `table` (as in the engine, the YAML and the JSON) and a
clause's `source` (the title of the page it quotes, as in the YAML and the JSON)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("policies", "0002_authoring")]

    operations = [
        migrations.RenameField("outcome", "kind", "table"),
        migrations.RenameField("clause", "source_title", "source"),
        migrations.AlterModelOptions(
            name="outcome",
            options={"ordering": ["version", "table", "order", "pk"]},
        ),
        migrations.AlterField(
            model_name="clause",
            name="source",
            field=models.CharField(help_text="The title of the source page.", max_length=200),
        ),
        migrations.AlterField(
            model_name="outcome",
            name="order",
            field=models.PositiveIntegerField(
                default=0,
                help_text="Order within its table; for verdicts, the strictest comes first.",
            ),
        ),
        migrations.AlterField(
            model_name="outcome",
            name="table",
            field=models.CharField(
                choices=[
                    ("verdict", "Verdict"),
                    ("auth_methods", "Authentication method"),
                    ("terms", "Terms"),
                    ("steps", "Compliance step"),
                ],
                help_text="The decision table it is an outcome of.",
                max_length=20,
            ),
        ),
    ]
