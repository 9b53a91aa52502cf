"""The table Django made for `Rule.clauses` becomes the model `Citation`, unchanged in the
database, so that its writes pass the lock on published versions like every other record's."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("policies", "0003_one_name_per_field")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="Citation",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "clause",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                to="policies.clause",
                            ),
                        ),
                        (
                            "rule",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                to="policies.rule",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "policies_rule_clauses",
                        "unique_together": {("rule", "clause")},
                    },
                ),
                migrations.AlterField(
                    model_name="rule",
                    name="clauses",
                    field=models.ManyToManyField(
                        blank=True,
                        related_name="rules",
                        through="policies.Citation",
                        to="policies.clause",
                    ),
                ),
            ],
        ),
    ]
